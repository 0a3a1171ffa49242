"""compare.parse and compare.metadata: structure and metadata, checked by hand against the three bundled reports and on
variants."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from conftest import raw_text
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compare.metadata import declared_counts, read_metadata
from compare.normalize import normalize
from compare.parse import SPAN_KINDS, parse, strip_title


def parse_with_metadata(text: str) -> SimpleNamespace:
    """parse() and read_metadata() as the per-file stage joins them: the structure, ``meta`` and all warnings."""
    r = parse(text)
    meta, warnings = read_metadata(text, r)
    return SimpleNamespace(**{**vars(r), "meta": meta, "warnings": [*warnings, *r.warnings]})


def parsed(key_or_text: str, is_text: bool = False):
    return parse(normalize(key_or_text if is_text else raw_text(key_or_text)).text)


def assert_tiles(result, text: str) -> None:
    pos = 0
    for s in result.spans:
        assert s.start == pos, (s, pos)
        assert s.end > s.start
        assert s.kind in SPAN_KINDS
        pos = s.end
    assert pos == len(text)


# --- the three bundled reports, counted by hand ---------------------------------------------------------
# measures: Huidong 4+4+4+4+5+5+5+3+3+3; Haizhu = the 106 “一是…” ordinals (grep -o '[一二…十]是' | wc -l);
# Xuchang = its 107 ordinals + 6 problems answered by one unnumbered paragraph (7, 13, 14, 28, 29, 30).
EXPECTED = {
    "huidong": dict(
        n_problems=10, n_measures=40,
        first="用新思想引领推动民政工作存在不足，履行新时代民政工作的政治责任不够全面",
        last="选人用人不规范，干部队伍建设统筹谋划力度不足",
        title="中共惠东县民政局党组关于县委巡察集中整改进展情况的通报",
        issuer="中共惠东县民政局党组", region="惠东县", city="惠州市", province="广东省", admin_level="county",
        agency="民政局", party_org_type="党组", inspection_kind="巡察", inspection_body="县委第三巡察组",
        inspection_start="2023-03-27", inspection_end="2023-06-30", feedback_date="2023-08-17",
        published_date="2024-08-20",
    ),
    "haizhu": dict(
        n_problems=26, n_measures=106,
        first="落实“第一议题”制度不到位", last="组织生活不严肃", title=None,
        issuer="中共广州市海珠区民政局党组", region="海珠区", city="广州市", province="广东省",
        admin_level="district", agency="民政局", party_org_type="党组", inspection_kind="巡察",
        inspection_body="区委第二巡察组", inspection_start="2024-03", inspection_end="2024-06",
        feedback_date="2024-08-19", published_date="2025-05-13",
    ),
    "xuchang": dict(
        n_problems=39, n_measures=113,
        first="干部队伍结构不够优化", last="局机关干部梯队结构不优", title=None,
        issuer="中共许昌市民政局党组", region="许昌市", city="许昌市", province="河南省", admin_level="city",
        agency="民政局", party_org_type="党组", inspection_kind="巡察", inspection_body="市委第六巡察组",
        inspection_start="2024-07-02", inspection_end="2024-08-21", feedback_date="2024-09-19",
        published_date="2024-12-31",
    ),
}


@pytest.mark.parametrize("key", list(EXPECTED))
def test_bundled_report_structure_and_metadata(key):
    exp = dict(EXPECTED[key])
    text = normalize(raw_text(key)).text
    r = parse_with_metadata(text)
    assert len(r.problems) == exp.pop("n_problems")
    assert sum(len(p.measures) for p in r.problems) == exp.pop("n_measures")
    assert r.problems[0].title == exp.pop("first")
    assert r.problems[-1].title == exp.pop("last")
    for k, v in exp.items():
        assert r.meta[k] == v, k
    assert r.meta["declared_problem_count"] is None and r.meta["declared_measure_count"] is None
    assert r.is_report and not r.truncated and r.warnings == []
    assert [p.seq for p in r.problems] == list(range(1, len(r.problems) + 1))
    assert_tiles(r, text)


def test_huidong_aspects_and_measures():
    r = parsed("huidong")
    aspects = list(dict.fromkeys(p.aspect for p in r.problems))
    assert aspects == [
        "关于贯彻落实党中央关于民政领域的决策部署存在差距方面",
        "关于压紧压实全面从严治党主体责任还不够到位，重点领域廉政风险防控不足，不正之风仍然存在方面",
        "关于贯彻落实新时代党的组织建设还存在差距，基层党组织领导作用发挥还不够充分方面",
    ]
    assert [sum(p.aspect == a for p in r.problems) for a in aspects] == [4, 3, 3]
    assert all(p.theme is None for p in r.problems)
    assert [len(p.measures) for p in r.problems] == [4, 4, 4, 4, 5, 5, 5, 3, 3, 3]
    # 四是 of problem 4 stands in its own paragraph; it still belongs to problem 4
    m = r.problems[3].measures[3]
    assert m.label == "四是" and m.text.startswith("优化“双百工程”服务质量。")
    assert r.problems[2].measures[0].text.startswith("推动建设长者照护之家。")  # **一是** markers gone
    # the closing (一)(二)(三) of 三、下一步工作安排 are not problems
    assert not any("坚持理论学习" in p.title for p in r.problems)


def test_haizhu_aspects_themes_and_sub_area():
    r = parsed("haizhu")
    assert [p.label for p in r.problems[:3]] == ["1.", "2.", "1."]  # numbering restarts under each theme
    themes = list(dict.fromkeys((p.aspect, p.theme) for p in r.problems))
    assert len(themes) == 10
    assert themes[0] == ("聚焦主责主业工作力度不足，履行职能使命有偏差", "运用“深学习、实调研”不扎实问题")
    assert themes[-1] == ("发挥组织功能不充分，强化干部队伍管理有不足", "基层党组织建设不规范不严肃问题")
    assert len({p.aspect for p in r.problems}) == 3
    p11 = r.problems[10]
    assert p11.title == "社会事务工作存在不足和缺位"
    assert [(m.label, m.sub_area) for m in p11.measures] == [(f"{c}是", "流浪乞讨管理") for c in "一二三四五"]
    assert r.problems[21].title == "落实“三重一大”制度不严格"  # the one problem with a 整改情况： label
    assert r.problems[21].measures[0].text.startswith("印发《海珠区民政局党组“三重一大”事项决策制度")


def test_xuchang_flat_list_and_closing_numbered_items():
    r = parsed("xuchang")
    assert r.problems[4].title == "跟进学习习近平总书记重要讲话、指示精神不及时"  # printed as 5..
    assert r.problems[4].label == "5."
    single = [p.seq for p in r.problems if len(p.measures) == 1 and p.measures[0].label is None]
    assert single == [7, 13, 14, 28, 29, 30]
    assert r.problems[13].measures[0].text == "督促禹州市、襄城县、建安区尽快发放分散供养特困人员照料护理费，或以政府购买服务的形式开展照料护理服务。"
    assert all(p.aspect is None and p.theme is None for p in r.problems)
    titles = {p.title for p in r.problems}
    assert not titles & {"提高政治站位", "扛牢整改责任", "务求整改实效"}
    kinds = [s.kind for s in r.spans]
    assert kinds.count("closing") == 3 and kinds.count("footer") == 3


# --- titles ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("statement", "title"),
    [
        ("针对“财务管理不规范，资金监管有盲区”问题。", "财务管理不规范，资金监管有盲区"),
        ("针对落实“第一议题”制度不到位问题。", "落实“第一议题”制度不到位"),
        ("针对区福利院监管不到位的问题。", "区福利院监管不到位"),
        ("关于“干部队伍结构不够优化”问题的整改", "干部队伍结构不够优化"),
        ("关于干部队伍结构不够优化的问题", "干部队伍结构不够优化"),
        ("民政救助资金存在重拨付轻监管问题。", "民政救助资金存在重拨付轻监管问题"),
    ],
)
def test_strip_title(statement, title):
    assert strip_title(statement) == title


# --- variants constructed from the bundled reports --------------------------------------------------
def _xuchang_problem_lines(text: str) -> list[int]:
    """Line numbers of Xuchang's problems, found independently of the parser: numbered lines before 二、."""
    lines = text.split("\n")
    stop = next(i for i, ln in enumerate(lines) if ln.startswith("二、"))
    return [i for i, ln in enumerate(lines[:stop]) if re.match(r"^\d+\.", ln)]


def _rewrite(text: str, fn) -> str:
    lines = text.split("\n")
    for k, i in enumerate(_xuchang_problem_lines(text), start=1):
        statement = re.sub(r"^\d+\.", "", lines[i]).rstrip("。")
        lines[i] = fn(k, statement)
    return "\n".join(lines)


HEADING_STYLES = {
    "fullwidth_dot": lambda k, s: f"{k}．{s}。",
    "dunhao": lambda k, s: f"{k}、{s}。",
    "paren": lambda k, s: f"（{k}）{s}。",
    "zhendui_quoted": lambda k, s: f"{k}.针对“{s}”问题。",
    "zhendui_bare": lambda k, s: f"{k}.针对{s}问题",
    "guanyu_quoted": lambda k, s: f"{k}.关于“{s}”问题的整改",
    "guanyu_de": lambda k, s: f"{k}.关于{s}的问题",
}


@pytest.mark.parametrize("style", list(HEADING_STYLES))
def test_numbering_and_heading_styles_give_the_same_problems(style):
    base = parsed("xuchang")
    text = normalize(raw_text("xuchang")).text
    variant = _rewrite(text, HEADING_STYLES[style])
    r = parse(normalize(variant).text)
    assert len(r.problems) == 39
    assert [p.title for p in r.problems] == [p.title for p in base.problems]
    assert [len(p.measures) for p in r.problems] == [len(p.measures) for p in base.problems]


def test_inline_measures_and_bare_numbering_without_label():
    text = (
        "根据市委统一部署，2024年3月至5月，市委第一巡察组对市民政局党组进行了巡察。\n"
        "一、整改落实情况\n"
        "（一）关于党的领导弱化方面\n"
        "1.针对“理论学习不深入”问题。整改情况：一是组织学习。二是开展研讨。\n"
        "2.针对“制度执行不严”问题。\n"
        "印发《财务管理制度》，规范报销流程。\n"
        "（二）关于民生保障不到位方面\n"
        "3.针对“低保核查不及时”问题。\n"
        "整改情况：在低保方面：一是开展核查。二是清退不符合条件对象12户。在特困方面：一是提高标准。\n"
        "二、下一步工作安排\n"
        "1.提高站位。持续巩固整改成果。\n"
        "中共某某市民政局党组\n"
        "2024年9月1日\n"
    )
    r = parse_with_metadata(normalize(text).text)
    assert [p.title for p in r.problems] == ["理论学习不深入", "制度执行不严", "低保核查不及时"]
    assert [p.aspect for p in r.problems] == ["关于党的领导弱化方面"] * 2 + ["关于民生保障不到位方面"]
    assert [len(p.measures) for p in r.problems] == [2, 1, 3]
    assert [(m.label, m.sub_area) for m in r.problems[2].measures] == [("一是", "低保"), ("二是", "低保"), ("一是", "特困")]
    assert r.problems[1].measures[0].text == "印发《财务管理制度》，规范报销流程。"
    assert r.meta["published_date"] == "2024-09-01" and r.meta["inspection_start"] == "2024-03"
    assert_tiles(r, normalize(text).text)


def test_declared_counts_and_mismatch_warning():
    assert declared_counts("对应34个具体问题清单制定了95条具体整改措施") == (34, 95)
    assert declared_counts("把3方面9个问题细化分解为23个具体整改任务") == (9, 23)
    assert declared_counts("没有声明数量") == (None, None)
    text = normalize(raw_text("xuchang")).text.replace(
        "现将巡察整改情况予以公布。", "对应40个具体问题清单制定了113条具体整改措施，现将巡察整改情况予以公布。"
    )
    r = parse_with_metadata(text)
    assert r.meta["declared_problem_count"] == 40 and r.meta["declared_measure_count"] == 113
    assert r.warnings == ["declared 40 problems but parsed 39"]


def test_year_carried_over_and_garbled_dates():
    text = normalize(raw_text("xuchang")).text
    r = parse_with_metadata(text)
    assert r.meta["feedback_date"] == "2024-09-19"  # printed as “9月19日”, year from the sentence before
    garbled = text.replace("2024年7月2日至8月21日", "2024年7月2日至13月21日")
    r2 = parse_with_metadata(garbled)
    assert r2.meta["inspection_start"] == "2024-07-02" and r2.meta["inspection_end"] is None
    assert any("garbled inspection period" in w for w in r2.warnings)


def test_news_item_is_not_a_report():
    news = (
        "市委第六巡察组向市民政局党组反馈巡察情况\n"
        "9月19日，市委第六巡察组向市民政局党组反馈巡察情况。会议强调，要提高政治站位，抓好整改落实。\n"
        "市委巡察办有关同志参加会议。\n"
    )
    r = parse_with_metadata(normalize(news).text)
    assert not r.is_report and not r.truncated and r.problems == []
    assert r.warnings == [
        "date without a year: '9月19日'",
        "not a rectification report: news of an inspection's feedback meeting",
    ]


def test_truncated_report_is_flagged():
    text = normalize(raw_text("xuchang")).text
    cut = text[: text.index("20.殡葬领域集中整治") + 60]
    r = parse(cut)
    assert r.is_report and r.truncated
    assert len(r.problems) == 20
    assert_tiles(r, cut)


# --- property-based: random damage never breaks the parser --------------------------------------------
@st.composite
def damaged(draw):
    key = draw(st.sampled_from(["huidong", "haizhu", "xuchang"]))
    lines = raw_text(key).split("\n")
    for _ in range(draw(st.integers(0, 6))):
        if lines:
            del lines[draw(st.integers(0, len(lines) - 1))]
    for _ in range(draw(st.integers(0, 4))):
        noise = draw(st.text(alphabet=st.sampled_from(list("一二三是.、（）()1234567890整改情况：:，。问题针对“”\n *#")), max_size=30))
        lines.insert(draw(st.integers(0, len(lines))), noise)
    text = "\n".join(lines)
    cut = draw(st.integers(0, len(text)))
    return text[:cut]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged())
def test_random_damage_never_raises_and_spans_tile(text):
    norm = normalize(text)
    r = parse(norm.text)
    assert_tiles(r, norm.text)
    for p in r.problems:
        assert p.start < p.end <= len(norm.text)
        for m in p.measures:
            assert p.start <= m.start < m.end <= p.end
