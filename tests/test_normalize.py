"""compare.normalize: canonical text, repairs, and the offset map back to the raw text."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from conftest import raw_text

from compare.normalize import normalize, to_simplified


def accounted(n) -> bool:
    """Every raw character is either kept (some normalised character maps to it) or recorded as deleted."""
    kept = set(n.offsets[:-1].tolist())
    deleted = {i for a, b, _ in n.deleted for i in range(a, b)}
    return not (kept & deleted) and len(kept) + len(deleted) == len(n.raw)


@pytest.mark.parametrize("key", ["huidong", "haizhu", "xuchang"])
def test_every_raw_character_is_accounted_for(key):
    n = normalize(raw_text(key))
    assert accounted(n)
    # kept characters map to themselves, up to the width/simplification edits
    widths = {"，": ",", "：": ":", "；": ";", "（": "(", "）": ")", "！": "!", "？": "?"}
    for i, ch in enumerate(n.text):
        src = n.raw[n.offsets[i]]
        assert ch == src or widths.get(ch) == src or (ch == "\n" and src == "\r"), (i, ch, src)


def test_huidong_repairs_counted_by_hand():
    n = normalize(raw_text("huidong"))
    edits = Counter(e for _, _, e in n.deleted)
    # 22 `**` markers (grep -o '\*\*' | wc -l), 14 sentences broken across blank lines by PDF extraction
    assert edits["bold_marker"] == 22
    assert edits["broken_line"] == 14
    assert "**" not in n.text
    assert "强化跟踪督办" in n.text and "民政事业高质量发展" in n.text and "城乡低保特困人员核查工作实施方案" in n.text
    assert "重点领域廉政风险防控不足" in n.text
    # spaces around numbers from PDF extraction are gone, title's stray space too
    assert "共30人" in n.text and "2023年底" in n.text
    assert n.text.lstrip().startswith("中共惠东县民政局党组关于县委巡察集中整改进展情况的通报\n")
    # the title, the signature and the date stay on their own lines
    assert n.text.rstrip().endswith("中共惠东县民政局党组\n\n2024年8月20日")


def test_half_width_becomes_full_width_and_doubled_dot_repaired():
    n = normalize(raw_text("xuchang"))
    assert "5.跟进学习" in n.text and "5..跟进学习" not in n.text
    assert "整改情况：一是开展干部队伍建设专题调研" in n.text
    assert "实施办法（试行）》" in n.text
    # numbers keep their ASCII separators
    assert "1-2个基层支部" in n.text


def test_offsets_show_a_span_in_the_original():
    raw = "整改情况:**一是**加强学习。二是完善制\n\n度建设。"
    n = normalize(raw)
    assert n.text == "整改情况：一是加强学习。二是完善制度建设。"
    i = n.text.index("一是")
    assert n.raw_slice(i, i + 2) == "一是"
    j = n.text.index("制度")
    assert n.raw_slice(j, j + 2) == "制\n\n度"
    assert accounted(n)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("一、总体情况\n\n（一）统一思想", "一、总体情况\n\n（一）统一思想"),  # heading then heading: kept
        ("三、加强政治引领\n经过三个月的工作，取得成效。", "三、加强政治引领\n经过三个月的工作，取得成效。"),
        ("关于县委巡察集中整改进展情况的通报\n\n根据县委统一部署，开展了巡察。", "关于县委巡察集中整改进展情况的通报\n\n根据县委统一部署，开展了巡察。"),
        ("中共某县民政局党组\n\n2024 年 8 月 20 日", "中共某县民政局党组\n\n2024年8月20日"),
        ("（二）关于压紧压实主体责任不到位，重点\n\n领域风险防控不足方面", "（二）关于压紧压实主体责任不到位，重点领域风险防控不足方面"),
        ("局党组认真研究制定整改方案，建立问题清单、任务清单、责任清单，明确整\n\n改时限。", "局党组认真研究制定整改方案，建立问题清单、任务清单、责任清单，明确整改时限。"),
        ("组织学习。\n\n二是完善制度。", "组织学习。\n\n二是完善制度。"),
    ],
)
def test_broken_lines_joined_only_inside_sentences(raw, expected):
    assert normalize(raw).text == expected


def test_traditional_converted_length_preserving():
    trad = "關於縣委巡察集中整改進展情況的通報"
    simp, changed = to_simplified(trad)
    assert changed and simp == "关于县委巡察集中整改进展情况的通报" and len(simp) == len(trad)
    n = normalize(trad)
    assert n.traditional and n.text == simp
    assert to_simplified("关于整改")[1] is False


# --- control characters ---------------------------------------------------------------------------------
CONTROL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]")


def test_form_feeds_and_line_separators_become_line_breaks():
    raw = "一、总体情况\x0c（一）统一思想\x0b二、下一步安排\x85持续推进。\u2028中共某县民政局党组\u20292024年9月1日"
    n = normalize(raw)
    assert n.text == "一、总体情况\n（一）统一思想\n二、下一步安排\n持续推进。\n中共某县民政局党组\n2024年9月1日"
    assert accounted(n)
    for i, ch in enumerate(n.text):
        if ch == "\n":
            assert n.raw[n.offsets[i]] in "\x0c\x0b\x85\u2028\u2029"


def test_a_page_break_inside_a_sentence_is_joined():
    n = normalize("局党组加强学习，提高\x0c认识水平。")
    assert n.text == "局党组加强学习，提高认识水平。"
    assert accounted(n)


@pytest.mark.parametrize("ch", ["\x00", "\x01", "\x08", "\x0e", "\x1a", "\x1b", "\x1f", "\x7f", "\x80", "\x9f"])
def test_other_control_characters_are_dropped_and_recorded(ch):
    raw = f"整改情况：一是{ch}加强学习。"
    n = normalize(raw)
    assert n.text == "整改情况：一是加强学习。"
    assert not CONTROL_RE.search(n.text)
    assert (raw.index(ch), raw.index(ch) + 1, "control") in n.deleted
    assert accounted(n)


def test_inline_pinyin_of_converter_sites_is_dropped_with_offsets_kept():
    from compare.normalize import normalize

    raw = "根據(jù)縣委統(tǒng)一部署，反饋(kuì)了意見；（ISO）和(a)不動。"
    n = normalize(raw)
    assert n.text == "根据县委统一部署，反馈了意见；（ISO）和（a）不动。"
    assert raw[n.offsets[n.text.index("统")]] == "統"
    assert sum(e - s for s, e, why in n.deleted if why == "pinyin") == len("(jù)(tǒng)(kuì)")


@pytest.mark.parametrize(("raw", "lines"), [
    ("行业新闻\n\n处罚百人！某省卫健委通报巡视整改进展\n\n根据省委统一部署。", 3),   # a column label stays apart
    ("中共某县民政局党组\n关于县委巡察整改情况的通报\n根据县委统一部署。", 2),           # the issuer half is joined
    ("某县民政局党组关于第十四届\n县委机动巡察整改进展情况的通报\n根据县委统一部署。", 2),  # so is 关于… half
])
def test_a_short_label_before_a_whole_title_is_not_joined_onto_it(raw, lines):
    from compare.normalize import normalize

    assert len([ln for ln in normalize(raw).text.split("\n") if ln.strip()]) == lines
