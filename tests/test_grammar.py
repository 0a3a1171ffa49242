"""compare.grammar: the one copy of the heading grammar (numerals, headings, ordinals, the line model)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from compare.grammar import (
    CN_NUM,
    FIX_RE,
    HEADING_START_RE,
    MEASURE_ORDINAL_RE,
    NUMBER_RE,
    PAREN_RE,
    PART_RE,
    SECTION_RE,
    SUBAREA_RE,
    UNIT_START_RE,
    cn_number,
    lines,
)

#: the measure ordinal as compare.classify wrote it before the grammar existed (it must mean the same)
CLASSIFY_ORDINAL = re.compile(r"(?:(?<=^)|(?<=[。；：！？\n]))[ \t]*[一二三四五六七八九十]{1,3}是")


@pytest.mark.parametrize(("s", "n"), [("三", 3), ("十", 10), ("十二", 12), ("二十三", 23), ("两百", 200),
                                      ("一百零五", 105), ("34", 34), (" 7 ", 7), ("", None), ("三个", None)])
def test_cn_number(s, n):
    assert cn_number(s) == n


def test_headings():
    assert SECTION_RE.match("一、总体情况").groups() == ("一", "总体情况")
    assert PART_RE.match("第二方面问题，聚焦民生保障").groups() == ("二", "聚焦民生保障")
    assert PAREN_RE.match("（三）关于作风建设方面").groups() == ("三", "关于作风建设方面")
    assert NUMBER_RE.match("12.针对“学习不深入”问题").groups() == ("12", None, "针对“学习不深入”问题")
    assert NUMBER_RE.match("（4）制度执行不严").groups() == (None, "4", "制度执行不严")
    assert NUMBER_RE.match("3.5%的对象") is None  # a decimal is no number heading
    assert FIX_RE.search("整改进展情况：已完成") and SUBAREA_RE.match("在低保方面：一是核查").group(1) == "低保"


def test_measure_ordinals_at_clause_starts_only():
    text = "一是加强学习。二是完善制度；三是 督促落实：四是跟进\n五是总结。统一是关键"
    assert [m.group(1) for m in MEASURE_ORDINAL_RE.finditer(text)] == ["一", "二", "三", "四", "五"]


@given(st.text(alphabet=st.sampled_from(list(CN_NUM + "是。；：！？\n \t，甲")), max_size=40))
def test_measure_ordinal_means_what_classify_meant(text):
    ours = [(m.start(), m.end()) for m in MEASURE_ORDINAL_RE.finditer(text)]
    theirs = [(m.start(), m.end()) for m in CLASSIFY_ORDINAL.finditer(text)]
    assert ours == theirs


def test_loose_line_starts_of_normalisation():
    for start in ("一、", "二是", "（1）", "3．", "第一部分", "整改措施", "在养老方面:", "2024 年 8 月 20 日", "联系方式"):
        assert UNIT_START_RE.match(start), start
    assert not UNIT_START_RE.match("加强学习")
    assert HEADING_START_RE.match("（二）关于") and not HEADING_START_RE.match("二是")


def test_lines_offsets_point_at_the_stripped_text():
    text = "  一、总体情况 \n\n\t1.问题。\n"
    out = lines(text)
    assert len(out) == len(text.split("\n")) == 4
    for ln in out:
        assert text[ln.start : ln.end] == ln.text
    assert [ln.blank for ln in out] == [False, True, False, True]
    assert [ln.i for ln in out] == [0, 1, 2, 3]
