"""Exact values of compare.analysis on a hand-made corpus (tests/data/analysis/*.csv).

The fixture corpus: three reports (惠东县 4 problems / 6 measures, 海珠区 3 / 4, 许昌市 3 / 5).

=========  ====================================  ==========================
problem    primary_code                          secondary codes
=========  ====================================  ==========================
惠东 P01   party_building
惠东 P02   elderly_care                          finance_assets
惠东 P03   social_assistance
惠东 P04   funeral_services
海珠 P01   elderly_care                          mandate_general
海珠 P02   social_assistance                     elderly_care
海珠 P03   social_assistance
许昌 P01   cadre_management
许昌 P02   elderly_care
许昌 P03   party_building                        cadre_management
=========  ====================================  ==========================
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import pandas as pd
import pytest

from compare import analysis as A
from compare import config
from compare.codebook import load_codebook

FIXTURES = Path(__file__).parent / "data" / "analysis"
REGIONS = ["惠东县（惠州市）", "海珠区（广州市）", "许昌市"]
HD, HZ, XC = "huidong_2024-08-20", "haizhu_2025-05-13", "xuchang_2024-12-31"


def load(name: str) -> pd.DataFrame:
    return pd.read_csv(FIXTURES / f"{name}.csv", dtype={"label": str})


@pytest.fixture(scope="module")
def corpus():
    return {n: load(n) for n in ("reports", "problems", "measures", "mentions")}


@pytest.fixture(scope="module")
def cb():
    return load_codebook(FIXTURES / "codebook.yaml")


@pytest.fixture(scope="module")
def mcb():
    return load_codebook(FIXTURES / "measure_codebook.yaml")


def cell(df, region, code, col, code_col="code"):
    row = df[(df["region"] == region) & (df[code_col] == code)]
    assert len(row) == 1
    return row[col].iloc[0]


# ----------------------------------------------------------------------------------------- type_counts
def test_type_counts_primary(corpus, cb):
    tc = A.type_counts(corpus["problems"], corpus["reports"], codebook=cb)
    assert list(tc.columns) == ["region", "province", "city", "admin_level", "year", "n_reports", "code", "name_zh",
                                "name_en", "n", "n_region", "n_needs_review", "share_of_region", "share_low", "share_high", "n_type",
                                "share_of_type", "weighting"]
    # complete grid, regions in report order, codes in codebook order
    assert len(tc) == 3 * 9
    assert list(tc["region"].drop_duplicates()) == REGIONS
    assert list(tc["code"][:9]) == cb.ids
    # 惠东县: 4 problems, one elderly_care; elderly_care has 3 problems in all (one per region)
    assert cell(tc, "惠东县（惠州市）", "elderly_care", "n") == 1
    assert cell(tc, "惠东县（惠州市）", "elderly_care", "n_region") == 4
    assert cell(tc, "惠东县（惠州市）", "elderly_care", "share_of_region") == pytest.approx(0.25)
    assert cell(tc, "惠东县（惠州市）", "elderly_care", "n_type") == 3
    assert cell(tc, "惠东县（惠州市）", "elderly_care", "share_of_type") == pytest.approx(1 / 3)
    # 海珠区: 2 of its 3 problems are social_assistance, 2 of the 3 social_assistance problems overall
    assert cell(tc, "海珠区（广州市）", "social_assistance", "n") == 2
    assert cell(tc, "海珠区（广州市）", "social_assistance", "share_of_region") == pytest.approx(2 / 3)
    assert cell(tc, "海珠区（广州市）", "social_assistance", "share_of_type") == pytest.approx(2 / 3)
    assert cell(tc, "许昌市", "cadre_management", "share_of_type") == pytest.approx(1.0)
    # zero cells: a type present elsewhere has share_of_type 0; a type nobody has has NaN
    assert cell(tc, "许昌市", "social_assistance", "n") == 0
    assert cell(tc, "许昌市", "social_assistance", "share_of_type") == 0
    zero = tc[tc["code"] == "child_welfare"]
    assert (zero["n"] == 0).all() and (zero["share_of_region"] == 0).all()
    assert zero["share_of_type"].isna().all() and (zero["n_type"] == 0).all()
    # with primary codes only, every problem counts once
    sums = tc.groupby("region", sort=False)["n"].sum()
    assert list(sums) == [4, 3, 3] == list(tc.groupby("region", sort=False)["n_region"].first())
    shares = tc.dropna(subset=["share_of_type"]).groupby("code")["share_of_type"].sum()
    assert shares.round(12).eq(1).all()
    assert tc["n"].dtype == "int64" and tc["n_region"].dtype == "int64"


def test_type_counts_all_codes(corpus, cb):
    tc = A.type_counts(corpus["problems"], corpus["reports"], codes="all", codebook=cb)
    # 海珠区 P01 (primary) and P02 (secondary) both carry elderly_care
    assert cell(tc, "海珠区（广州市）", "elderly_care", "n") == 2
    assert cell(tc, "海珠区（广州市）", "elderly_care", "n_region") == 3  # denominators stay problem counts
    assert cell(tc, "海珠区（广州市）", "elderly_care", "share_of_region") == pytest.approx(2 / 3)
    assert cell(tc, "海珠区（广州市）", "elderly_care", "n_type") == 4
    assert cell(tc, "海珠区（广州市）", "elderly_care", "share_of_type") == pytest.approx(0.5)
    assert cell(tc, "许昌市", "cadre_management", "n") == 2
    assert cell(tc, "惠东县（惠州市）", "finance_assets", "n") == 1
    assert cell(tc, "海珠区（广州市）", "mandate_general", "n") == 1
    # a region's counts can now exceed its number of problems
    assert tc[tc["region"] == "海珠区（广州市）"]["n"].sum() == 5


def test_type_counts_uncoded_and_missing_region(corpus, cb):
    problems = corpus["problems"].copy()
    problems.loc[problems["problem_id"] == f"{HD}:P04", "primary_code"] = None
    reports = corpus["reports"].copy()
    reports.loc[reports["report_id"] == XC, "region"] = None
    tc = A.type_counts(problems, reports, codebook=cb)
    assert cell(tc, "惠东县（惠州市）", "funeral_services", "n") == 0
    assert cell(tc, "惠东县（惠州市）", "elderly_care", "n_region") == 4  # uncoded problems stay in the denominator
    assert tc[tc["region"] == "惠东县（惠州市）"]["n"].sum() == 3
    assert XC in set(tc["region"])  # a report without region is listed under its id


def test_type_counts_keep_problems_that_need_review_apart(corpus, cb):
    # the coder flagged 惠东县 P04 (funeral_services) needs_review: it stays one of the region's 4 problems,
    # counted in n_needs_review and under no type, with and without secondary codes
    problems = corpus["problems"].assign(needs_review=lambda d: d["problem_id"] == f"{HD}:P04")
    for codes in ("primary", "all"):
        tc = A.type_counts(problems, corpus["reports"], codes=codes, codebook=cb)
        assert cell(tc, "惠东县（惠州市）", "funeral_services", "n") == 0
        assert cell(tc, "惠东县（惠州市）", "funeral_services", "n_region") == 4
        assert set(tc.loc[tc["region"] == "惠东县（惠州市）", "n_needs_review"]) == {1}
        assert set(tc.loc[tc["region"] == "许昌市", "n_needs_review"]) == {0}
    primary = A.type_counts(problems, corpus["reports"], codebook=cb)
    assert primary[primary["region"] == "惠东县（惠州市）"]["n"].sum() == 3
    # without the column (an uncoded or older table) nothing is flagged
    assert A.type_counts(corpus["problems"], corpus["reports"], codebook=cb)["n_needs_review"].eq(0).all()


def test_type_counts_errors(corpus, cb):
    problems = corpus["problems"].copy()
    problems.loc[0, "primary_code"] = "made_up"
    with pytest.raises(ValueError, match="made_up"):
        A.type_counts(problems, corpus["reports"], codebook=cb)
    with pytest.raises(ValueError, match="missing from the reports"):
        A.type_counts(corpus["problems"], corpus["reports"].iloc[:2], codebook=cb)
    with pytest.raises(ValueError, match="codes must be"):
        A.type_counts(corpus["problems"], corpus["reports"], codes="secondary", codebook=cb)


# ----------------------------------------------------------------------------------------- recurring
def test_recurring_types_ranking_and_titles(corpus, cb):
    rt = A.recurring_types(corpus["problems"], corpus["reports"], codebook=cb)
    assert list(rt.columns) == ["code", "name_zh", "name_en", "n_regions", "regions", "n_problems", *REGIONS]
    # elderly_care in 3 regions; social_assistance and party_building in 2, social has more problems
    assert list(rt["code"]) == ["elderly_care", "social_assistance", "party_building"]
    assert list(rt["n_regions"]) == [3, 2, 2]
    assert list(rt["n_problems"]) == [3, 3, 2]
    assert rt.loc[1, "regions"] == "惠东县（惠州市）；海珠区（广州市）"
    assert rt.loc[1, "海珠区（广州市）"] == "流浪乞讨人员救助管理不够有力；社会救助领域群众身边不正之风问题整治不深入"
    assert rt.loc[1, "许昌市"] == ""
    assert rt.loc[0, "许昌市"] == "社会福利院适老化改造进展缓慢"


def test_recurring_types_thresholds_and_ties(corpus, cb):
    rt3 = A.recurring_types(corpus["problems"], corpus["reports"], min_regions=3, codebook=cb)
    assert list(rt3["code"]) == ["elderly_care"]
    rt1 = A.recurring_types(corpus["problems"], corpus["reports"], min_regions=1, codebook=cb)
    # funeral_services and cadre_management tie (1 region, 1 problem): codebook order decides
    assert list(rt1["code"]) == ["elderly_care", "social_assistance", "party_building", "funeral_services",
                                 "cadre_management"]
    rt_all = A.recurring_types(corpus["problems"], corpus["reports"], codes="all", codebook=cb)
    assert rt_all.loc[0, "code"] == "elderly_care" and rt_all.loc[0, "n_problems"] == 4
    none = A.recurring_types(corpus["problems"], corpus["reports"], min_regions=4, codebook=cb)
    assert none.empty and "n_regions" in none.columns


def test_recurring_types_lists_a_pooled_units_titles_report_by_report(corpus, cb):
    """A place that reported twice: its titles of a type are the first report's in document order, then the
    second's (sorting the pooled problems by their number within a report would interleave the two)."""
    later = "huidong_2025-09-01"
    reports = pd.concat([corpus["reports"], corpus["reports"].iloc[[0]].assign(
        report_id=later, published_date="2025-09-01", n_problems=2)], ignore_index=True)
    extra = pd.DataFrame({"report_id": later, "problem_id": [f"{later}:P01", f"{later}:P02"], "seq": [1, 2],
                          "title": ["养老院消防设施老化", "居家养老上门服务覆盖不足"],
                          "primary_code": "elderly_care"})
    problems = pd.concat([corpus["problems"], extra], ignore_index=True)
    rt = A.recurring_types(problems, reports, codebook=cb, unit="place").set_index("code")
    first = corpus["problems"].set_index("problem_id").at[f"{HD}:P02", "title"]
    assert rt.at["elderly_care", "惠东县（惠州市）"] == f"{first}；养老院消防设施老化；居家养老上门服务覆盖不足"
    assert rt.at["elderly_care", "n_problems"] == 5 and rt.at["elderly_care", "n_regions"] == 3


# ----------------------------------------------------------------------------------------- measure types
def test_measure_type_counts(corpus, mcb):
    mc = A.measure_type_counts(corpus["measures"], corpus["problems"], corpus["reports"], codebook=mcb)
    assert len(mc) == 3 * 4
    assert list(mc["measure_type"][:4]) == ["study", "rules", "supervision", "remedy"]
    assert cell(mc, "惠东县（惠州市）", "study", "n", "measure_type") == 2
    assert cell(mc, "惠东县（惠州市）", "study", "n_region", "measure_type") == 6
    assert cell(mc, "惠东县（惠州市）", "study", "share_of_region", "measure_type") == pytest.approx(1 / 3)
    assert cell(mc, "惠东县（惠州市）", "study", "n_type", "measure_type") == 5
    assert cell(mc, "海珠区（广州市）", "supervision", "share_of_type", "measure_type") == pytest.approx(2 / 3)
    assert cell(mc, "海珠区（广州市）", "rules", "n", "measure_type") == 0
    assert list(mc.drop_duplicates("region")["n_problems"]) == [4, 3, 3]
    assert cell(mc, "许昌市", "remedy", "name_en", "measure_type") == "Corrective action"


def test_measure_type_counts_without_codebook_file(corpus, monkeypatch, tmp_path):
    monkeypatch.setattr(config, "MEASURE_CODEBOOK_PATH", tmp_path / "missing.yaml")
    mc = A.measure_type_counts(corpus["measures"], corpus["problems"], corpus["reports"], codebook=None)
    assert list(mc["measure_type"][:4]) == ["study", "rules", "remedy", "supervision"]  # first appearance
    assert "name_zh" not in mc.columns


# ----------------------------------------------------------------------------------------- concreteness
EXPECTED_FLAGS = {
    # measure: (number, date, money, document, unit, concrete, vague_only)
    f"{HD}:P01:M01": (0, 0, 0, 0, 0, 0, 1),  # 加强…提高政治站位…深化: promises only (站位 is not a unit)
    f"{HD}:P01:M02": (1, 1, 0, 1, 0, 1, 0),  # 2023年9月印发《…学习中心组…》…12次 (title not a unit)
    f"{HD}:P02:M01": (0, 1, 1, 0, 1, 1, 0),  # 多坪镇敬老院…2024年3月…80万元
    f"{HD}:P02:M02": (0, 0, 0, 0, 0, 0, 1),  # 强化…重视…提升
    f"{HD}:P03:M01": (1, 0, 1, 0, 1, 1, 0),  # 县公安局、县医保局…15户…3.2万元
    f"{HD}:P04:M01": (0, 0, 0, 0, 0, 0, 1),  # 加强殡葬改革宣传
    f"{HZ}:P01:M01": (0, 0, 0, 0, 1, 1, 0),  # 江南中街道、江海街道 (我局 is not a named unit)
    f"{HZ}:P01:M02": (1, 1, 0, 0, 0, 1, 0),  # 2024年11月20日…99%
    f"{HZ}:P02:M01": (1, 0, 0, 0, 0, 1, 0),  # 316车次、948人次 (小分队/部门: no unit suffix)
    f"{HZ}:P03:M01": (0, 0, 0, 0, 0, 0, 1),  # 深化…强化…提高
    f"{XC}:P01:M01": (0, 0, 0, 1, 0, 1, 0),  # 《关于…调研报告》
    f"{XC}:P01:M02": (0, 0, 0, 0, 0, 0, 0),  # 建立…信息库: an act, but nothing checkable; not vague_only
    f"{XC}:P02:M01": (0, 0, 1, 0, 1, 1, 0),  # 许昌市社会福利院…120万元
    f"{XC}:P03:M01": (1, 0, 0, 0, 0, 1, 0),  # 3名
    f"{XC}:P03:M02": (0, 0, 0, 0, 0, 0, 1),  # 加强…增强
}


@pytest.mark.parametrize("with_mentions", [True, False])
def test_concreteness_flags(corpus, with_mentions):
    mentions = corpus["mentions"] if with_mentions else None
    flags = A.concreteness(corpus["measures"], mentions, corpus["problems"], corpus["reports"])
    assert len(flags) == 15
    cols = list(A.CONCRETENESS_FLAGS)
    got = {mid: tuple(int(v) for v in row) for mid, row in zip(flags["measure_id"], flags[cols].to_numpy(), strict=True)}
    assert got == EXPECTED_FLAGS
    assert flags.set_index("measure_id").loc[f"{HD}:P03:M01", "units"] == "县公安局；县医保局"
    assert flags.set_index("measure_id").loc[f"{HZ}:P01:M01", "units"] == "江南中街道；江海街道"
    assert flags.set_index("measure_id").loc[f"{HD}:P02:M01", "primary_code"] == "elderly_care"
    assert flags["cites_unit"].dtype == bool


def test_concreteness_by_region(corpus):
    flags = A.concreteness(corpus["measures"], corpus["mentions"], corpus["problems"], corpus["reports"])
    by = A.concreteness_by_region(flags)
    assert list(by.columns) == ["region", "province", "city", "admin_level", "year", "n_reports", "flag", "n",
                                "n_measures", "share", "share_low", "share_high"]
    assert len(by) == 3 * 7
    assert list(by["flag"][:7]) == list(A.CONCRETENESS_FLAGS)
    hd = by[by["region"] == "惠东县（惠州市）"].set_index("flag")
    assert (hd["n_measures"] == 6).all()
    assert hd.loc["cites_number", "n"] == 2 and hd.loc["cites_document", "n"] == 1
    assert hd.loc["concrete", "share"] == pytest.approx(0.5)
    assert hd.loc["vague_only", "share"] == pytest.approx(0.5)
    hz = by[by["region"] == "海珠区（广州市）"].set_index("flag")
    assert hz.loc["concrete", "share"] == pytest.approx(0.75) and hz.loc["cites_money", "n"] == 0
    xc = by[by["region"] == "许昌市"].set_index("flag")
    assert xc.loc["concrete", "n"] == 3 and xc.loc["n_measures" if False else "concrete", "n_measures"] == 5


@pytest.mark.parametrize(
    ("text", "units"),
    [
        ("会同县公安局、县医保局开展数据比对", ["县公安局", "县医保局"]),
        ("多坪镇敬老院已完成招标", ["多坪镇敬老院"]),
        ("许昌市社会福利院完成适老化改造", ["许昌市社会福利院"]),
        ("待区住建局审批后完成消防验收", ["区住建局"]),
        ("向市民政局养老服务处反映", ["市民政局养老服务处"]),
        ("我局督促各街道、相关部门落实", []),
        ("社会福利院和颐康中心", []),
        ("推进居家社区养老服务", []),
        ("提高政治站位，坚持以人民为中心", []),
        ("印发《局党组理论学习中心组学习制度》", []),
        ("及时办理群众诉求，处理信访件", []),
        ("", []),
    ],
)
def test_find_units(text, units):
    assert A.find_units(text) == units


# ----------------------------------------------------------------------------------------- timeline
def test_timeline_dates_and_lags(corpus):
    tl = A.timeline(corpus["reports"])
    assert list(tl["region"]) == REGIONS
    hd, hz, xc = (tl.iloc[i] for i in range(3))
    assert hd["inspection_start"] == pd.Timestamp("2023-03-27")
    assert hd["inspection_days"] == 95
    assert hd["to_feedback_days"] == 48  # 2023-06-30 → 2023-08-17
    assert hd["to_publication_days"] == 369  # 2023-08-17 → 2024-08-20 (2024 is a leap year)
    assert not hd["inspection_days_approx"] and hd["inspection_start_precision"] == "day"
    # 海珠区 gives only months for the inspection: first of month, flagged
    assert hz["inspection_start"] == pd.Timestamp("2024-03-01") and hz["inspection_start_precision"] == "month"
    assert hz["inspection_end"] == pd.Timestamp("2024-06-01")
    assert (hz["inspection_days"], hz["to_feedback_days"], hz["to_publication_days"]) == (92, 79, 267)
    assert hz["inspection_days_approx"] and hz["to_feedback_days_approx"] and not hz["to_publication_days_approx"]
    assert (xc["inspection_days"], xc["to_feedback_days"], xc["to_publication_days"]) == (50, 29, 103)
    assert str(tl["to_feedback_days"].dtype) == "Int64"
    assert pd.api.types.is_datetime64_any_dtype(tl["published_date"])


def test_timeline_missing_and_bad_dates(corpus):
    reports = corpus["reports"].copy()
    reports.loc[0, "feedback_date"] = None
    reports.loc[1, "published_date"] = "2025年5月"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tl = A.timeline(reports)
    assert any(HZ in str(w.message) and "published_date" in str(w.message) for w in caught)
    assert pd.isna(tl.loc[0, "feedback_date"]) and tl.loc[0, "feedback_date_precision"] is None
    assert pd.isna(tl.loc[0, "to_feedback_days"]) and pd.isna(tl.loc[0, "to_publication_days"])
    assert not tl.loc[0, "to_feedback_days_approx"]
    assert tl.loc[0, "inspection_days"] == 95
    assert pd.isna(tl.loc[1, "published_date"])


# ----------------------------------------------------------------------------------------- traceability
def test_problems_behind(corpus):
    p, r = corpus["problems"], corpus["reports"]
    primary = A.problems_behind(p, r, region="海珠区（广州市）", code="elderly_care")
    assert list(primary["problem_id"]) == [f"{HZ}:P01"]
    both = A.problems_behind(p, r, region="海珠区（广州市）", code="elderly_care", codes="all")
    assert list(both["problem_id"]) == [f"{HZ}:P01", f"{HZ}:P02"]
    assert {"title", "text", "start", "end", "region", "seq"} <= set(both.columns)
    assert both.loc[0, "start"] == 900 and both.loc[0, "end"] == 1500
    every = A.problems_behind(p, r, code=["elderly_care", "party_building"])
    assert list(every["region"]) == ["惠东县（惠州市）", "惠东县（惠州市）", "海珠区（广州市）", "许昌市", "许昌市"]
    assert len(A.problems_behind(p, r)) == 10
    # the cells of type_counts are exactly the rows behind them
    tc = A.type_counts(p, r, codes="all", codebook=load_codebook(FIXTURES / "codebook.yaml"))
    for row in tc.itertuples():
        assert row.n == len(A.problems_behind(p, r, region=row.region, code=row.code, codes="all"))


def test_nan_shares_only_for_empty_types(corpus, cb):
    tc = A.type_counts(corpus["problems"], corpus["reports"], codebook=cb)
    nan_rows = tc[tc["share_of_type"].isna()]
    assert set(nan_rows["code"]) == {"child_welfare", "grassroots_governance", "finance_assets", "mandate_general"}
    assert not any(math.isnan(x) for x in tc["share_of_region"])


# ----------------------------------------------------------------------------------------- units
def _places() -> pd.DataFrame:
    """鼓楼区 of 南京市 (2023 and 2024) and of 福州市; two reports without a place; 惠东县."""
    return pd.DataFrame({
        "report_id": ["nj23", "fz23", "nj24", "x1", "x2", "hd"],
        "region": ["鼓楼区", "鼓楼区", "鼓楼区", None, "", "惠东县"],
        "region_label": ["鼓楼区（南京市）", "鼓楼区（福州市）", "鼓楼区（南京市）", None, None, "惠东县（惠州市）"],
        "city": ["南京市", "福州市", "南京市", None, None, "惠州市"],
        "province": ["江苏省", "福建省", "江苏省", None, None, "广东省"],
        "adcode": ["320106000000", "350102000000", "320106000000", None, None, "441323000000"],
        "admin_level": ["district", "district", "district", None, None, "county"],
        "inspection_start": ["2023-03-01", "2023-04", "2024-05-06", None, None, "2023-01-02"],
        "feedback_date": [None, None, None, "2022-09-01", None, None],
    })


def test_units_keep_places_and_years_apart():
    r = _places()
    by_report = A.units(r)
    assert list(by_report["region"]) == ["鼓楼区（南京市） · 2023", "鼓楼区（福州市）", "鼓楼区（南京市） · 2024",
                                         "x1", "x2", "惠东县（惠州市）"]
    assert list(by_report["year"]) == [2023, 2023, 2024, 2022, pd.NA, 2023]  # feedback year when no inspection
    assert (by_report["n_reports"] == 1).all()
    place = A.units(r, "place")
    assert list(place["region"]) == ["鼓楼区（南京市）", "鼓楼区（福州市）", "鼓楼区（南京市）", "x1", "x2",
                                     "惠东县（惠州市）"]
    assert list(place["n_reports"]) == [2, 1, 2, 1, 1, 1]
    assert place["year"].iloc[0] == "2023–2024" and place["city"].iloc[1] == "福州市"
    assert A.units(r, "place_year")["region"].nunique() == 6
    province = A.units(r, "province")
    assert list(province["region"]) == ["江苏省", "福建省", "江苏省", "x1", "x2", "广东省"]
    year = A.units(r, "year")
    assert list(year["region"]) == ["2023", "2023", "2024", "2022", "x2", "2023"]
    assert year["province"].iloc[0] == "江苏省、福建省、广东省" and year["n_reports"].iloc[0] == 3
    with pytest.raises(ValueError, match="unit must be"):
        A.units(r, "bureau")


def test_units_without_labels_or_codes_compose_them():
    r = _places().drop(columns=["region_label", "adcode"])
    assert list(A.units(r, "place")["region"][:3]) == ["鼓楼区（南京市）", "鼓楼区（福州市）", "鼓楼区（南京市）"]
    r["agency"] = ["民政局", "民政局", "民政局", None, None, "民政局"]
    assert A.units(r, "agency")["n_reports"].iloc[0] == 4  # 4 reports of a 民政局; x1, x2 alone


def test_type_counts_by_province_pooled_and_mean(corpus, cb):
    pooled = A.type_counts(corpus["problems"], corpus["reports"], codebook=cb, unit="province")
    assert list(pooled["region"].drop_duplicates()) == ["广东省", "河南省"]
    gd = pooled[(pooled["region"] == "广东省") & (pooled["code"] == "elderly_care")].iloc[0]
    # 惠东县 1 of 4 and 海珠区 1 of 3 elderly_care: pooled 2/7, mean (1/4 + 1/3)/2
    assert (gd["n"], gd["n_region"], gd["n_reports"]) == (2, 7, 2)
    assert gd["share_of_region"] == pytest.approx(2 / 7) and gd["weighting"] == "pooled"
    assert gd["city"] == "惠州市、广州市" and gd["year"] == "2023–2024"
    mean = A.type_counts(corpus["problems"], corpus["reports"], codebook=cb, unit="province", weighting="mean")
    gd = mean[(mean["region"] == "广东省") & (mean["code"] == "elderly_care")].iloc[0]
    assert gd["share_of_region"] == pytest.approx((1 / 4 + 1 / 3) / 2) and gd["weighting"] == "mean"
    with pytest.raises(ValueError, match="weighting"):
        A.type_counts(corpus["problems"], corpus["reports"], codebook=cb, weighting="median")


def test_wilson_interval_by_hand(corpus, cb):
    # 1 of 4, z = 1.96: centre (0.25 + z²/8) / (1 + z²/4) = 0.3725, half-width 0.3269
    low, high = A.wilson_interval([1, 0, 0], [4, 4, 0])
    assert low[0] == pytest.approx(0.0456, abs=1e-4) and high[0] == pytest.approx(0.6994, abs=1e-4)
    assert low[1] == 0 and high[1] == pytest.approx(0.4899, abs=1e-4)
    assert math.isnan(low[2]) and math.isnan(high[2])
    tc = A.type_counts(corpus["problems"], corpus["reports"], codebook=cb)
    assert cell(tc, "惠东县（惠州市）", "elderly_care", "share_low") == pytest.approx(0.0456, abs=1e-4)


def test_compare_units_against_the_rest_by_hand(corpus, cb):
    c = A.compare_units(corpus["problems"], corpus["reports"], "海珠区（广州市）", codebook=cb)
    assert list(c.columns) == A.COMPARE_COLUMNS and list(c["code"]) == cb.ids
    row = c.set_index("code").loc["social_assistance"]
    # 海珠区 2 of 3 against 1 of 7 (惠东县 1 of 4, 许昌市 0 of 3): expected 0.9 < 5, so Fisher's exact test;
    # P(X = k) = C(3,k)·C(7,3-k)/120 = 35, 63, 21, 1 /120, two-sided p = (21 + 1)/120, odds ratio 2·6/(1·1)
    assert (row.n_a, row.total_a, row.n_b, row.total_b) == (2, 3, 1, 7)
    assert row.test == "fisher" and row.small
    assert row.p == pytest.approx(22 / 120) and row.statistic == pytest.approx(12)
    # adjusted residual (2 - 0.9) / sqrt(0.9 · 0.7 · 0.7)
    assert row.residual == pytest.approx(1.1 / math.sqrt(0.9 * 0.7 * 0.7))
    assert row.difference == pytest.approx(2 / 3 - 1 / 7)
    empty = c.set_index("code").loc["child_welfare"]
    assert pd.isna(empty.test) and math.isnan(empty.p)
    assert (c["p_holm"].dropna() >= c["p"].dropna()).all()
    two = A.compare_units(corpus["problems"], corpus["reports"], "海珠区（广州市）", "许昌市", codebook=cb)
    assert two.set_index("code").loc["social_assistance", "total_b"] == 3
    with pytest.raises(ValueError, match="no units"):
        A.compare_units(corpus["problems"], corpus["reports"], "海珠区", codebook=cb)


def test_chi2_when_counts_are_large(cb):
    reports = pd.DataFrame({"report_id": ["a", "b"], "region": ["甲县", "乙县"]})
    codes = ["elderly_care"] * 30 + ["party_building"] * 20 + ["elderly_care"] * 10 + ["party_building"] * 40
    problems = pd.DataFrame({"report_id": ["a"] * 50 + ["b"] * 50, "problem_id": [f"p{i}" for i in range(100)],
                             "primary_code": codes})
    row = A.compare_units(problems, reports, "甲县", codebook=cb).set_index("code").loc["elderly_care"]
    # [[30, 20], [10, 40]], expected [[20, 30], [20, 30]]: χ² = 2 · 10²/20 + 2 · 10²/30 = 50/3; the adjusted
    # residual 10 / sqrt(20 · (1 - 50/100) · (1 - 40/100)) = 10 / sqrt(6), whose square is χ²
    assert row.test == "chi2" and not row.small and row.statistic == pytest.approx(50 / 3)
    assert row.residual == pytest.approx(10 / math.sqrt(6))


def test_compare_units_overall_chi2_by_hand(cb):
    reports = pd.DataFrame({"report_id": ["a", "b"], "region": ["甲县", "乙县"]})
    codes = ["elderly_care"] * 30 + ["party_building"] * 20 + ["elderly_care"] * 10 + ["party_building"] * 40
    problems = pd.DataFrame({"report_id": ["a"] * 50 + ["b"] * 50, "problem_id": [f"p{i}" for i in range(100)],
                             "primary_code": codes})
    overall = A.compare_units(problems, reports, "甲县", codebook=cb).attrs["overall"]
    # the types present make the table [[30, 20], [10, 40]]: χ² 50/3 with one degree of freedom, no small cell
    assert overall["chi2"] == pytest.approx(50 / 3) and overall["dof"] == 1 and overall["small_cells"] == 0
    assert overall["p"] == pytest.approx(math.erfc(math.sqrt(50 / 3 / 2)))  # the χ²(1) tail


def test_compare_concreteness_against_the_rest_by_hand(corpus):
    flags = A.concreteness(corpus["measures"], corpus["mentions"], corpus["problems"], corpus["reports"])
    c = A.compare_concreteness(flags, "海珠区（广州市）").set_index("flag")
    assert list(c.index) == list(A.CONCRETENESS_FLAGS)
    row = c.loc["concrete"]
    # 海珠区 3 of 4 concrete; the rest 惠东县 3 of 6 + 许昌市 3 of 5 = 6 of 11. Expected 4·9/15 = 2.4 < 5: Fisher.
    # P(X = k) = C(9,k)·C(6,4-k)/1365 = 15, 180, 540, 504, 126; two-sided p = (15 + 180 + 504 + 126)/1365
    assert (row.n_a, row.total_a, row.n_b, row.total_b) == (3, 4, 6, 11)
    assert row.test == "fisher" and row.small and row.p == pytest.approx(825 / 1365)
    assert row.statistic == pytest.approx(3 * 5 / (1 * 6))  # the odds ratio
    assert row.residual == pytest.approx(0.6 / math.sqrt(2.4 * (11 / 15) * (6 / 15)))
    assert row.share_a == pytest.approx(0.75) and row.share_b == pytest.approx(6 / 11)
    assert (c.loc["vague_only", "n_a"], c.loc["vague_only", "n_b"]) == (1, 4)  # 1 of 4 against 3 + 1 of 11
    two = A.compare_concreteness(flags, "海珠区（广州市）", "许昌市").set_index("flag")
    assert (two.loc["concrete", "n_b"], two.loc["concrete", "total_b"]) == (3, 5)
    with pytest.raises(ValueError, match="no units"):
        A.compare_concreteness(flags, "海珠区")


def test_keyness_of_a_target_against_a_reference_with_negative_terms():
    from compare.similarity import keyness

    reports = pd.DataFrame({"report_id": ["a", "b", "c"], "region": ["甲县", "乙区", "丙市"]})
    problems = pd.DataFrame({"report_id": ["a", "b", "c"], "problem_id": ["a:P01", "b:P01", "c:P01"],
                             "title": ["养老", "救助", "殡葬"], "text": ["养老 救助", "救助 殡葬", "殡葬 殡葬 殡葬"]})
    tok = lambda s: s.replace("。", " ").split()  # noqa: E731
    # 甲县 (养老 养老 救助) against 乙区 only (救助 救助 殡葬): 丙市 plays no part
    k = keyness(problems, reports, min_count=1, top_n=5, tokenizer=tok, target="甲县", reference="乙区",
                negative=True)
    assert set(k.region) == {"甲县"} and set(k.direction) == {"positive", "negative"}
    pos = k[k.direction == "positive"].set_index("term")
    # 养老: a=2, b=0, c=1, d=3; expected 1, 1, 2, 2 → G² = 2(2ln2 + ln½ + 3ln1.5)
    assert pos.loc["养老", "score"] == pytest.approx(2 * (2 * math.log(2) + math.log(0.5) + 3 * math.log(1.5)))
    neg = k[k.direction == "negative"].set_index("term")
    assert list(neg.index) == ["殡葬", "救助"] and (neg.n_reference == [1, 2]).all()
    # 殡葬: 0 of 甲县's 3 tokens, 1 of 乙区's 3 — the table [[0, 1], [3, 2]] with expected ½, ½, 2.5, 2.5 (scipy's G²)
    from scipy.stats import power_divergence

    g = power_divergence([[0, 1], [3, 2]], lambda_="log-likelihood", axis=None,
                         f_exp=[[0.5, 0.5], [2.5, 2.5]]).statistic
    assert neg.loc["殡葬", "score"] == pytest.approx(-g)
    rest = keyness(problems, reports, min_count=1, top_n=5, tokenizer=tok, target="甲县", negative=True)
    assert rest.set_index("term").loc["殡葬", "n_reference"] == 5  # 乙区 1 + 丙市 4 (title 殡葬 and text 殡葬 ×3)
    with pytest.raises(ValueError, match="no units"):
        keyness(problems, reports, tokenizer=tok, target="丁县")
