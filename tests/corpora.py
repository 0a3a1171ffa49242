"""Fixture builders: small corpora that are not the bundled one, written into a test's folder.

:func:`renamed_corpus` writes the three bundled reports as reports of three other bureaus: every place name
(and the file names, hence the report ids) changed, the structure left as it is. A study of that corpus must
describe 博罗县, 鼓楼区（南京市） and 洛阳市, and never name 惠东县, 海珠区 or 许昌市.
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
#: the region labels of the renamed corpus, and the bundled names it must not show
NEW_LABELS = ("博罗县（惠州市）", "鼓楼区（南京市）", "洛阳市")
BUNDLED_NAMES = ("惠东", "海珠", "许昌")


def renamed_corpus(folder: Path) -> Path:
    """Write the renamed corpus into ``folder`` (created); returns it."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, (new, pairs) in RENAMED.items():
        text = (config.RAW_DIR / name).read_text(encoding="utf-8")
        for old, repl in pairs:
            text = text.replace(old, repl)
        assert not any(b in text for b in BUNDLED_NAMES), name
        (folder / new).write_text(text, encoding="utf-8")
    return folder
