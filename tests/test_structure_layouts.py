"""The problem layouts of LAYOUTS §7 beyond the bundled three: ``问题1.`` headings, problems at the second level
(``（一）…的问题``) or at the first (``一、关于“…”问题的整改情况`` over numbered measures), two or three numbering levels
(``1.`` → ``（1）`` → ``1）``) told apart as sub-problems or measures, ``整改情况：已完成。`` / ``整改成效：`` /
``整改措施：1.…2.…`` blocks, and numbering that restarts or runs on. Every page is written for the tests."""

from __future__ import annotations

import pytest

from compare.normalize import normalize
from compare.parse import SPAN_KINDS, parse

INTRO = """中共某某县农业农村局党组关于县委巡察整改进展情况的通报

根据县委统一部署，县委第二巡察组于2024年4月8日至6月10日对县农业农村局党组进行了巡察，7月5日反馈了巡察意见。现将整改进展情况公布如下。

一、整改工作基本情况
（一）提高站位，压实责任。局党组召开专题会议研究整改工作。
（二）细化方案，逐项推进。制定整改方案，明确责任人和时限。
1.建立整改台账。
2.实行销号管理。
"""
OUTRO = """
三、下一步工作打算
1.持续巩固整改成果。
2.建立长效机制。

中共某某县农业农村局党组
2024年10月12日
"""
WENTI = INTRO + """二、巡察反馈问题整改落实情况
（一）贯彻落实党的路线方针政策方面
问题1.针对学习贯彻上级精神不够深入的问题。
整改情况：一是制定年度学习计划；二是开展专题研讨三次。
问题2.针对耕地保护措施落实不力的问题。
整改情况：一是开展耕地专项排查；二是建立巡查制度。
（二）落实全面从严治党方面
问题3.针对监督执纪偏松偏软的问题。
整改情况：一是开展警示教育；二是约谈相关负责人。
""" + OUTRO

SECOND = INTRO + """二、巡察反馈问题整改落实情况
（一）政治站位不够高的问题
整改情况：一是召开专题民主生活会；二是修订议事规则。
（二）项目资金监管不严的问题
整改情况：一是清理项目资金；二是追回违规资金12万元。
（三）基层党组织建设薄弱的问题
整改情况：已完成。一是调整支部设置；二是补选支部委员。
""" + OUTRO

FIRST = """中共某某县农业农村局党组关于县委巡察整改进展情况的通报

根据县委统一部署，县委第二巡察组于2024年4月8日至6月10日对县农业农村局党组进行了巡察，7月5日反馈了巡察意见。现将整改进展情况公布如下。

一、关于“理论学习不够深入”问题的整改情况
1.强化政治理论武装。制定学习计划，开展集中学习十二次。
2.完善学习制度。修订党组理论学习中心组学习制度。
二、关于“项目管理不规范”问题的整改情况
1.开展项目清理。对近三年项目逐一核查。
2.健全监管机制。出台项目管理办法。
3.严肃追责问责。对三名责任人进行诫勉谈话。
三、关于“干部队伍建设滞后”问题的整改情况
1.优化干部结构。选拔年轻干部四名。

中共某某县农业农村局党组
2024年10月12日
"""

THREE = INTRO + """二、巡察反馈问题整改落实情况
1.落实主体责任不到位的问题。
（1）党组研究整改不及时。
整改情况：一是每月召开党组会听取汇报；二是建立督办制度。
（2）制度执行不严格。
整改情况：一是修订制度十项；二是开展执行检查。
2.资金管理不规范的问题。
（1）开展财务专项检查，整改问题五个。
（2）完善财务审批流程。
3.作风建设不扎实的问题。
1)整治形式主义。
2)精简会议文件。
""" + OUTRO

BLOCKS = INTRO + """二、巡察反馈问题整改落实情况
1.针对“第一议题”制度落实不到位的问题。
整改情况：已完成。
整改成效：党组会议第一议题学习实现常态化。
2.针对采购管理不规范的问题。
整改措施：1.修订采购管理办法。2.开展采购项目自查。3.建立采购台账。
整改成效：自查项目二十个，整改问题六个。
3.针对档案管理混乱的问题。
整改措施：
1.集中整理档案。
2.配备专职档案员。
""" + OUTRO

ASPECT_SECOND = INTRO.replace("一、整改工作基本情况", "一、整改工作基本情况") + """二、政治建设方面
（一）政治站位不够高的问题
整改情况：一是召开专题会议；二是修订议事规则。
（二）执行决策部署有偏差的问题
整改情况：一是开展政策梳理；二是建立跟踪问效机制。
三、全面从严治党方面
（一）监督责任落实不到位的问题
整改情况：一是开展谈心谈话；二是建立廉政档案。
""" + OUTRO.replace("三、下一步", "四、下一步")

RESTART = WENTI.replace("问题3.针对监督", "问题1.针对监督")


def parsed(text: str):
    t = normalize(text).text
    r = parse(t)
    pos = 0
    for s in r.spans:  # the spans tile the canonical text
        assert s.start == pos and s.end > s.start and s.kind in SPAN_KINDS, s
        pos = s.end
    assert pos == len(t)
    return r


def titles(r) -> list[str]:
    return [p.title for p in r.problems]


def measures(r) -> list[list[str]]:
    return [[m.text for m in p.measures] for p in r.problems]


def test_wenti_headings_under_aspects_numbering_running_on():
    r = parsed(WENTI)
    assert titles(r) == ["学习贯彻上级精神不够深入", "耕地保护措施落实不力", "监督执纪偏松偏软"]
    assert [p.label for p in r.problems] == ["问题1.", "问题2.", "问题3."]
    assert [p.aspect for p in r.problems] == ["贯彻落实党的路线方针政策方面"] * 2 + ["落实全面从严治党方面"]
    assert measures(r)[2] == ["开展警示教育；", "约谈相关负责人。"]
    assert not r.warnings


def test_numbering_restarting_under_each_aspect():
    r = parsed(RESTART)
    assert [p.label for p in r.problems] == ["问题1.", "问题2.", "问题1."]
    assert r.problems[2].aspect == "落实全面从严治党方面"


def test_problems_at_the_second_level():
    r = parsed(SECOND)
    assert titles(r) == ["政治站位不够高", "项目资金监管不严", "基层党组织建设薄弱"]  # 的问题 dropped as in 关于…的问题
    assert [len(p.measures) for p in r.problems] == [2, 2, 2]
    assert measures(r)[2] == ["调整支部设置；", "补选支部委员。"]  # 已完成。 is the status, not a measure


def test_problems_at_the_second_level_under_aspect_sections():
    r = parsed(ASPECT_SECOND)
    assert [p.aspect for p in r.problems] == ["政治建设方面", "政治建设方面", "全面从严治党方面"]
    assert [p.label for p in r.problems] == ["（一）", "（二）", "（一）"]


def test_problems_at_the_first_level_with_numbered_measures():
    r = parsed(FIRST)
    assert titles(r) == ["理论学习不够深入", "项目管理不规范", "干部队伍建设滞后"]
    assert [len(p.measures) for p in r.problems] == [2, 3, 1]
    assert r.problems[1].measures[0].label == "1." and r.problems[1].measures[0].text.startswith("开展项目清理")
    assert not r.warnings


def test_three_levels_sub_problems_or_measures():
    r = parsed(THREE)
    assert titles(r) == ["党组研究整改不及时", "制度执行不严格", "资金管理不规范", "作风建设不扎实"]
    assert [p.theme for p in r.problems] == ["落实主体责任不到位的问题"] * 2 + [None, None]
    # (1) with 整改情况 under 1. are sub-problems; (1) and 1) without are measures
    assert measures(r)[2] == ["开展财务专项检查，整改问题五个。", "完善财务审批流程。"]
    assert [m.label for m in r.problems[3].measures] == ["1）", "2）"]
    heading = next(s for s in r.spans if s.kind == "theme_heading")
    assert normalize(THREE).text[heading.start : heading.end].startswith("1.落实主体责任")


def test_status_effect_and_numbered_measure_blocks():
    r = parsed(BLOCKS)
    text = normalize(BLOCKS).text
    assert measures(r) == [[], ["修订采购管理办法。", "开展采购项目自查。", "建立采购台账。"],
                           ["集中整理档案。", "配备专职档案员。"]]
    labels = [text[s.start : s.end] for s in r.spans if s.kind == "measure_label"]
    assert labels[:2] == ["整改情况：已完成。", "整改成效："]
    effect = next(s for s in r.spans if s.kind == "body" and s.problem == 2)
    assert text[effect.start : effect.end].startswith("自查项目二十个")  # an outcome, not a measure
    assert r.warnings == ["problem 1 (1.) has no measures"]


@pytest.mark.parametrize("name", ["WENTI", "RESTART", "SECOND", "ASPECT_SECOND", "FIRST", "THREE", "BLOCKS"])
def test_numbered_items_of_intro_and_closing_are_never_problems(name):
    r = parsed(globals()[name])
    assert r.is_report
    for t in ("建立整改台账", "实行销号管理", "持续巩固整改成果", "建立长效机制", "提高站位"):
        assert not any(t in p.title for p in r.problems)
    assert not any("巩固" in m.text for p in r.problems for m in p.measures)


def test_parse_cli_prints_a_readable_outline(tmp_path, capsys):
    from compare.cli import build_parser

    path = tmp_path / "three.txt"
    path.write_text(THREE, encoding="utf-8")
    args = build_parser().parse_args(["parse", str(path)])
    assert args.func(args) == 0
    out = capsys.readouterr().out.splitlines()
    assert "metadata:" in out and "structure:" in out and out[-1] == "warnings: 0"
    assert any(ln.split() == ["inspection_body", "县委第二巡察组", "←", "body"] for ln in out)
    assert any(ln.split() == ["issuer", "中共某某县农业农村局党组", "←", "title"] for ln in out)
    theme = out.index("    [theme] 落实主体责任不到位的问题")
    assert out[theme + 1].lstrip().startswith("（1） 党组研究整改不及时") and out[theme + 1].endswith("2 measures")
    assert any(ln.startswith("  2. 资金管理不规范 ") for ln in out)


def test_parse_cli_size_limit(tmp_path, capsys):
    from compare.cli import build_parser

    path = tmp_path / "three.txt"
    path.write_text(THREE, encoding="utf-8")
    args = build_parser().parse_args(["parse", str(path), "--max-mb", "0.0001"])
    assert args.func(args) == 2
    assert "[too_large]" in capsys.readouterr().err
