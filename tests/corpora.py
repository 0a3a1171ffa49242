"""Fixture builders: small corpora that are not the bundled one, written into a test's folder.

:func:`renamed_corpus` writes the three bundled reports as reports of three other bureaus: every place name
(and the file names, hence the report ids) changed, the structure left as it is. A study of that corpus must
describe 博罗县, 鼓楼区（南京市） and 洛阳市, and never name 惠东县, 海珠区 or 许昌市; with ``more=True`` also a
鼓楼区 of 福州市 (never merged with 南京市's) and 博罗县 reporting twice.
"""

from __future__ import annotations

from pathlib import Path

from compare import config

#: bundled file → (new file name, replacements applied in this order)
RENAMED = {
    "huidong_2024-08-20.txt": ("boluo_2024-08-20.txt", [("惠东", "博罗")]),
    "haizhu_2025-05-13.txt": ("gulou_2025-05-13.txt", [("广州市海珠区", "南京市鼓楼区"), ("海珠", "鼓楼"),
                                                       ("广州", "南京"), ("广东", "江苏")]),
    "xuchang_2024-12-31.txt": ("luoyang_2024-12-31.txt", [("许昌", "洛阳")]),
}
#: more reports of the same kind: another 鼓楼区 (of 福州市, a place sharing a name) and 博罗县 a year later
MORE = {
    "xuchang_2024-12-31.txt": ("gulou-fz_2024-12-31.txt", [("许昌市", "福州市鼓楼区"), ("许昌", "福州"),
                                                          ("河南", "福建"), ("市委", "区委")]),
    "huidong_2024-08-20.txt": ("boluo_2025-08-20.txt", [("惠东", "博罗"), ("2024", "2025"), ("2023", "2024")]),
}
#: the region labels of the renamed corpus, and the bundled names it must not show
NEW_LABELS = ("博罗县（惠州市）", "鼓楼区（南京市）", "洛阳市")
#: and the label :data:`MORE` adds: a 鼓楼区 of another city, a place of its own
MORE_LABELS = ("鼓楼区（福州市）",)
BUNDLED_NAMES = ("惠东", "海珠", "许昌")


def renamed_corpus(folder: Path, more: bool = False) -> Path:
    """Write the renamed corpus into ``folder`` (created); returns it. ``more``: with the reports of :data:`MORE`
    (five reports, four places: two 鼓楼区, and 博罗县 twice)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, (new, pairs) in [*RENAMED.items(), *(MORE.items() if more else ())]:
        text = (config.RAW_DIR / name).read_text(encoding="utf-8")
        for old, repl in pairs:
            text = text.replace(old, repl)
        assert not any(b in text for b in BUNDLED_NAMES), name
        (folder / new).write_text(text, encoding="utf-8")
    return folder
