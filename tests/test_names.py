"""compare.names: bilingual names of codes, places, flags and axes; one display width; label wrapping."""

from __future__ import annotations

from pathlib import Path

import pytest

from compare import analysis as A
from compare import names as N
from compare.codebook import load_codebook

FIXTURES = Path(__file__).parent / "data" / "analysis"


# ----------------------------------------------------------------------------------------- labels
@pytest.mark.parametrize(
    ("name", "en"),
    [
        ("惠东县", "Huidong County"),
        ("海珠区", "Haizhu District"),
        ("许昌市", "Xuchang City"),
        ("广东省", "Guangdong Province"),
        ("西安市", "Xi'an City"),
        ("陕西省", "Shaanxi Province"),
        ("广州市海珠区", "Haizhu District (Guangzhou)"),
        ("北京市朝阳区", "Chaoyang District (Beijing)"),
        ("朝阳区（长春市）", "Chaoyang District (Changchun)"),
        ("鼓楼区（南京市） · 2023", "Gulou District (Nanjing) · 2023"),
        ("彭水苗族土家族自治县（重庆市）", "Pengshui Miao and Tujia Autonomous County (Chongqing)"),
        ("宁乡市（长沙市）", "Ningxiang City (Changsha)"),
        ("宜昌高新区（宜昌市）", "Yichang High-tech Zone (Yichang)"),
        ("高新区（南京市）", "High-tech Zone (Nanjing)"),  # a zone named by its kind alone
        ("经开区（合肥市）", "Economic Development Zone (Hefei)"),
        ("上海市青浦区", "Qingpu District (Shanghai)"),
        ("中央", "Central"),
        ("武汉经开区（武汉市）", "Wuhan Economic Development Zone (Wuhan)"),
        ("huidong_2024-08-20", "huidong_2024-08-20"),
    ],
)
def test_region_label(name, en):
    assert N.region_label(name, "en") == en
    assert N.region_label(name, "zh") == name


def test_wrap_label():
    text = "基层治理与社会事务（社区、社会组织、慈善）"
    wrapped = N.wrap_label(text, 12)
    lines = wrapped.split("\n")
    assert "".join(lines) == text
    assert all(sum(2 if ord(c) > 0x2E80 else 1 for c in line) <= 14 for line in lines)
    assert not any(line[0] in "，、）》" for line in lines)
    assert N.wrap_label("Grassroots governance and social affairs", 24) == "Grassroots governance\nand social affairs"
    assert N.wrap_label("养老服务", 24) == "养老服务"



@pytest.mark.parametrize(
    ("name", "en"),
    [
        ("宽城满族自治县", "Kuancheng Manchu Autonomous County"),
        ("恩施土家族苗族自治州", "Enshi Tujia and Miao Autonomous Prefecture"),
        ("长阳土家族自治县", "Changyang Tujia Autonomous County"),
        ("新疆维吾尔自治区", "Xinjiang Uygur Autonomous Region"),
    ],
)
def test_region_label_of_autonomous_units(name, en):
    assert N.region_label(name, "en") == en


def test_display_width_counts_wide_characters_twice():
    assert N.display_width("养老") == 4
    assert N.display_width("Hello") == 5
    assert N.display_width("，a") == 3  # full-width punctuation is wide
    assert N.display_width(None) == 0
    assert N.display_width(12) == 2
    assert N.display_width("") == 0


def test_wrap_label_lines_fit_the_display_width():
    text = "各地区整改措施的具体程度与 concrete measures of the regions"
    for width in (10, 16, 24):
        assert all(N.display_width(line) <= width + 2 for line in N.wrap_label(text, width).split("\n"))


def test_code_flag_and_axis_labels():
    cb = load_codebook(FIXTURES / "codebook.yaml")
    code = cb.ids[0]
    assert N.code_label(code, cb, "zh") == cb.name(code, "zh")
    assert N.code_label(code, cb, "en") == cb.name(code, "en")
    assert N.code_label("not_a_code", cb, "en") == "not_a_code"
    assert N.code_label(code, None, "en") == code
    assert N.flag_label("cites_money", "zh") == A.CONCRETENESS_FLAGS["cites_money"][0]
    assert N.flag_label("cites_money", "en") == "Cites an amount of money"
    assert N.flag_label("units", "en") == "units"
    assert N.axis_label("region", "zh") == "地区" and N.axis_label("region", "en") == "Region"
    assert set(N.AXIS_LABELS) >= {"n_problems", "share_of_region", "problem_type", "days"}


def test_check_lang():
    N.check_lang("zh")
    N.check_lang("en")
    with pytest.raises(ValueError, match="lang"):
        N.check_lang("fr")
    with pytest.raises(ValueError, match="lang"):
        N.region_label("惠东县", "fr")


def test_plots_reexports_the_names_for_one_release():
    from compare import plots as P

    assert P.region_label is N.region_label and P.wrap_label is N.wrap_label
    assert P.REGION_NAMES_EN is N.REGION_NAMES_EN


def test_shorten_label_cuts_the_middle_of_the_longest_part():
    label = "新城区（南京市） · 民政局 · r00003_minzhengju_zhenggai_2025-05-13"
    assert N.display_width(label) == 65
    assert N.shorten_label(label, 48) == "新城区（南京市） · 民政局 · r00003_minzh…5-05-13"  # the report id loses its middle
    assert N.shorten_label(label, 65) == label
    assert N.shorten_label("鼓楼区（南京市）", 10) == "鼓楼区…）"  # one part: the middle of the whole
    for width in (5, 12, 30, 48):
        assert N.display_width(N.shorten_label(label, width)) <= width


def test_shorten_labels_keeps_labels_apart():
    a = "Xincheng District (Nanjing) · Minzhengju · r00003_minzhengju_zhenggai_2025-05-13"
    b = "Xincheng District (Nanjing) · Minzhengju · r00010_minzhengju_zhenggai_2025-05-13"
    assert N.shorten_label(a, 48) == N.shorten_label(b, 48)  # alone, both lose the digits that tell them apart
    assert N.shorten_labels([a, b, "Gulou District (Nanjing)"], 48) == [
        "Xinchen…ing) · Minzhengju · r00003_minzh…5-05-13",
        "Xinchen…ing) · Minzhengju · r00010_minzh…5-05-13",
        "Gulou District (Nanjing)",
    ]
    same = ["x" * 30 + "1" + "y" * 30, "x" * 30 + "2" + "y" * 30]  # one part, told apart only in the middle
    assert N.shorten_labels(same, 20) == ["xxxxxxxxxx…yyyyy #1", "xxxxxxxxxx…yyyyy #2"]
    assert N.shorten_labels(["a", "a"], 20) == ["a", "a"]  # equal labels stay equal


def test_unbreakable_width_is_what_wrap_label_keeps_on_a_line():
    assert N.unbreakable_width("Cadre management") == 10
    assert N.unbreakable_width("cross-cutting duties") == 13
    assert N.unbreakable_width("引用数字") == 2
    assert N.unbreakable_width("") == 0
    for text in ("General, mandate & cross-cutting duties", "仅表态（加强、提高、学习等）"):
        lines = N.wrap_label(text, N.unbreakable_width(text)).split("\n")
        assert max(map(N.display_width, lines)) <= max(N.unbreakable_width(text), 4)


def test_wrap_label_never_starts_a_line_with_the_separator_of_a_unit_label():
    assert N.wrap_label("Yunlong District (Wuxi) · 2023", 24) == "Yunlong District (Wuxi)\n2023"
    assert N.wrap_label("鼓楼区（南京市） · 2023", 18) == "鼓楼区（南京市） ·\n2023"
    assert N.wrap_label("Yunlong District (Guangzhou) · 2024", 24) == "Yunlong District\n(Guangzhou) · 2024"
