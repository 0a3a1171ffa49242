"""The metadata stage and the verdict on the fixture pages of tests/data/layouts (written from LAYOUTS.md, never
copied from a published page), scored field by field against tests/data/layouts/expected.yaml."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from compare.corpus import process_bytes

LAYOUTS = Path(__file__).parent / "data" / "layouts"
FIELDS = (
    "title", "issuer", "party_org_type", "agency", "province", "city", "region", "adcode", "admin_level",
    "inspection_kind", "inspection_body", "inspection_start", "inspection_end", "feedback_date", "published_date",
    "declared_problem_count", "declared_measure_count", "is_report", "truncated",
)
VERDICT = ("is_report", "truncated")


def expected() -> dict[str, dict]:
    return yaml.safe_load((LAYOUTS / "expected.yaml").read_text(encoding="utf-8"))


def _value(v):
    if v is None or (isinstance(v, float) and v != v):
        return None
    if isinstance(v, bool):
        return v
    return str(v)


def score() -> tuple[dict[str, list[int]], list[str]]:
    """Per field [right, scored]; the misses as lines ``page field: got … expected …``."""
    table = {f: [0, 0] for f in FIELDS}
    misses = []
    for name, exp in expected().items():
        row = process_bytes((LAYOUTS / name).read_bytes(), name).report
        fields = VERDICT if exp.get("is_report") is False else FIELDS
        for f in fields:
            got, want = _value(row.get(f)), _value(exp.get(f))
            table[f][1] += 1
            if got == want:
                table[f][0] += 1
            else:
                misses.append(f"{name} {f}: got {got!r}, expected {want!r}")
    return table, misses


def test_the_fixture_corpus_has_forty_pages_and_one_expected_file():
    exp = expected()
    assert len(exp) >= 40
    assert sorted(exp) == sorted(p.name for p in LAYOUTS.iterdir() if p.name != "expected.yaml")


def test_every_field_is_right_on_at_least_95_percent_of_the_pages(capsys):
    table, misses = score()
    with capsys.disabled():
        print("\nfield                      right / scored")
        for f, (r, n) in table.items():
            print(f"{f:26} {r:3d} / {n:3d}")
        print("\n".join(misses))
    for f, (r, n) in table.items():
        assert r >= 0.95 * n, (f, r, n, misses)


# --- one test per phenomenon (short pages of their own) -------------------------------------------------
BODY = (
    "根据县委统一部署，2024年3月4日至4月30日，县委第二巡察组对县民政局党组进行了巡察，5月28日反馈了巡察意见。\n"
    "一、整改落实情况\n1.针对“学习制度执行不严”问题。\n整改情况：一是修订制度。二是开展检查。\n"
    "二、下一步工作\n持续巩固整改成果。\n"
)


def meta_of(text: str, name: str = "page.txt") -> dict:
    return process_bytes(text.encode("utf-8"), name).report


def test_web_chrome_before_the_title_is_skipped():
    row = meta_of("当前位置：首页 > 巡视巡察 > 巡察整改\n返回上一级  字号 大 中 小  打印 关闭\n"
                  "中共安吉县民政局党组关于县委第二巡察组反馈意见整改情况的通报\n来源：县纪委    发布时间：2024-09-02 10:11:12\n" + BODY)
    assert row["title"] == "中共安吉县民政局党组关于县委第二巡察组反馈意见整改情况的通报"
    assert row["published_date"] == "2024-09-02" and row["region"] == "安吉县"


def test_a_title_printed_twice_is_one_title_and_not_the_opening():
    t = "中共安吉县民政局党组关于巡察整改情况的通报"
    row = meta_of(f"{t}\n发布日期:2024年09月03日  点击数:\n{t}\n" + BODY)
    assert row["title"] == t and row["inspection_start"] == "2024-03-04"


def test_a_date_on_the_title_line_is_the_publication_date():
    row = meta_of("中共安吉县民政局党组关于巡察整改情况的通 报 2024-10-08\n" + BODY)
    assert row["title"] == "中共安吉县民政局党组关于巡察整改情况的通报" and row["published_date"] == "2024-10-08"


def test_a_title_broken_over_two_lines_is_joined():
    row = meta_of("中共安吉县民政局党组关于第十四届\n县委机动巡察整改进展情况的通报\n" + BODY)
    assert row["title"] == "中共安吉县民政局党组关于第十四届县委机动巡察整改进展情况的通报"


@pytest.mark.parametrize(("issuer", "org"), [
    ("中共安吉县交通运输局委员会", "党委"), ("中共安吉县委员会", "县委"), ("中共苏州工业园区党工委", "党工委"),
    ("中共安吉县供销合作社党总支", "党总支"), ("中共湖州市委", "市委"),
])
def test_party_organisation_types(issuer, org):
    assert meta_of(f"{issuer}关于巡察整改情况的通报\n" + BODY)["party_org_type"] == org


def test_an_ambiguous_district_is_left_empty_with_a_warning():
    row = meta_of("中共鼓楼区民政局党组关于区委巡察整改情况的通报\n" + BODY.replace("县委", "区委"))
    assert (row["region"], row["city"], row["province"], row["adcode"]) == (None, None, None, None)
    assert row["admin_level"] == "district"
    assert any("ambiguous place 鼓楼区" in w and "南京市" in w for w in row["warnings"])


def test_an_ambiguous_district_is_settled_by_a_city_named_in_the_text():
    row = meta_of("中共鼓楼区民政局党组关于区委巡察整改情况的通报\n按照福州市委部署，" + BODY.replace("县委", "区委"))
    assert (row["region"], row["city"], row["adcode"], row["region_label"]) == ("鼓楼区", "福州市", "350102", "鼓楼区（福州市）")


def test_no_placeholder_city():
    for issuer, city in (("中共上海市青浦区民政局党组", "上海市"), ("中共仙桃市民政局党组", "仙桃市"),
                         ("中共彭水苗族土家族自治县民政局党组", "重庆市")):
        assert meta_of(f"{issuer}关于巡察整改情况的通报\n" + BODY)["city"] == city


def test_xunxun_gives_the_month():
    row = meta_of("中共安吉县民政局党组关于巡察整改情况的通报\n根据县委统一部署，2023年8月下旬至10月中旬，县委第三巡察组对县民政局党组进行了巡察，11月2日反馈了巡察意见。\n")
    assert (row["inspection_start"], row["inspection_end"], row["feedback_date"]) == ("2023-08", "2023-10", "2023-11-02")


def test_years_are_inherited_across_the_new_year():
    row = meta_of("中共安吉县民政局党组关于巡察整改情况的通报\n根据县委统一部署，2023年11月6日至1月5日，县委第三巡察组对县民政局党组进行了巡察，2月2日反馈了巡察意见。\n")
    assert (row["inspection_start"], row["inspection_end"], row["feedback_date"]) == ("2023-11-06", "2024-01-05", "2024-02-02")


def test_a_later_meeting_or_deadline_is_not_the_feedback_date():
    row = meta_of("中共安吉县民政局党组关于巡察整改情况的通报\n根据县委统一部署，2024年3月4日至4月30日，县委第二巡察组对县民政局党组进行了巡察，"
                  "5月28日反馈了巡察意见，要求于8月31日前完成整改。6月20日，局党组召开专题民主生活会。\n")
    assert row["feedback_date"] == "2024-05-28"


def test_a_garbled_feedback_date_is_null_with_a_warning():
    row = meta_of(BODY.replace("5月28日反馈", "于528日反馈"))
    assert row["feedback_date"] is None and any("garbled feedback date" in w for w in row["warnings"])


@pytest.mark.parametrize(("phrase", "problems", "measures"), [
    ("对反馈的三十四个问题，制定了九十五条整改措施", 34, 95),
    ("巡察反馈的4个方面18个问题34个具体问题", 34, None),
    ("巡察反馈的10个方面44个具体问题中，41个已完成整改", 44, None),
    ("梳理形成3大类22小项整改任务，建立60项整改落实责任清单，主动领办13项反馈问题", None, None),
    ("聚焦6个方面，制定186条具体整改措施", None, 186),
    ("局党组制定整改措施41条", None, 41),
])
def test_declared_counts_in_every_phrasing(phrase, problems, measures):
    row = meta_of(BODY.replace("5月28日反馈了巡察意见。", f"5月28日反馈了巡察意见。{phrase}。"))
    assert (row["declared_problem_count"], row["declared_measure_count"]) == (problems, measures)
    assert row["declared_counts"] and all(c in phrase for c in row["declared_counts"])  # every count as written


def test_several_problem_counts_say_which_was_taken():
    row = meta_of(BODY.replace("5月28日反馈了巡察意见。", "5月28日反馈了巡察意见。反馈的4个方面18个问题34个具体问题。"))
    assert any("several problem counts" in w and "34 taken" in w for w in row["warnings"])


def test_a_twenty_digit_count_is_null_with_a_warning():
    row = meta_of(BODY.replace("5月28日反馈了巡察意见。", "5月28日反馈了巡察意见。对应12345678901234567890个具体问题清单制定了5条措施。"))
    assert row["declared_problem_count"] is None and any("implausible" in w for w in row["warnings"])


@pytest.mark.parametrize(("text", "reason"), [
    ("县委第三巡察组进驻县民政局开展巡察\n3月11日，县委第三巡察组巡察县民政局党组工作动员会召开。\n", "mobilisation"),
    ("县委第三巡察组向县民政局党组反馈巡察情况\n5月28日，县委第三巡察组向县民政局党组反馈巡察情况。\n1.学习不深入。\n2.制度不健全。\n",
     "feedback meeting"),
    ("县委第三巡察组巡察县民政局党组的公告\n巡察期间设立值班电话0572-1234567，邮政信箱某某号。\n特此公告。\n", "公告"),
    ("关于十四届县委第五轮巡察集中整改进展情况的通报\n县委第五轮巡察对县民政局、县教育局等30个单位党组织开展了巡察。\n", "round-level"),
    ("中央第三生态环境保护督察组反馈意见整改进展情况\n一、整改情况\n1.污水处理能力不足的问题。\n整改情况：一是新建污水厂。\n", "督察"),
])
def test_near_miss_pages_are_not_reports_and_say_why(text, reason):
    row = meta_of(text)
    assert row["is_report"] is False and row["n_problems"] == 0
    assert any(w.startswith("not a rectification report") and reason in w for w in row["warnings"])


def test_a_prose_report_is_a_report_with_zero_problems_and_a_warning():
    row = meta_of("中共安吉县统计局党组关于县委第一巡察组反馈意见整改情况的通报\n"
                  "局党组召开专题会议研究整改，反馈问题已全部完成整改。\n中共安吉县统计局党组\n2024年4月1日\n")
    assert row["is_report"] and not row["truncated"] and row["n_problems"] == 0
    assert any("told in prose" in w for w in row["warnings"])


def test_a_page_cut_in_the_opening_is_a_truncated_report():
    row = meta_of("中共安吉县统计局党组关于县委第一巡察组反馈意见整改情况的通报\n根据县委统一部署，县委第一巡察组对县统计局党组进行了")
    assert row["is_report"] and row["truncated"]


# --- phenomena of real pages read during development (issue 10, generalisation) ---------------------------
def test_site_banners_before_the_title_are_chrome_and_a_section_tag_is_dropped():
    page = ("扫码关注\n“清风某县”\n字体大小：大 中 小\n【巡察整改】中共宁乡市民政局党组关于巡察整改情况的通报\n"
            "发布时间：2025-03-02\n" + BODY)
    row = meta_of(page)
    assert row["title"] == "中共宁乡市民政局党组关于巡察整改情况的通报"
    assert row["published_date"] == "2025-03-02" and row["is_report"] is True


def test_joint_issuers_printed_without_a_space():
    row = meta_of("中共兴文县民政局党组中共兴文县殡仪馆支部委员会关于县委巡察整改情况的通报\n" + BODY)
    assert row["issuer"] == "中共兴文县民政局党组 中共兴文县殡仪馆支部委员会"
    assert (row["party_org_type"], row["agency"], row["region"]) == ("党组", "民政局", "兴文县")


@pytest.mark.parametrize(("body_says", "org"), [("某市卫生健康委员会党组", "党组"), ("委机关", "党委")])
def test_an_agency_named_weiyuanhui_keeps_it_and_takes_the_type_the_body_gives(body_says, org):
    body = BODY.replace("县民政局党组", "怀化市卫生健康委员会党组" if org == "党组" else body_says)
    row = meta_of("中共怀化市卫生健康委员会关于巡察整改情况的通报\n" + body)
    assert (row["agency"], row["party_org_type"], row["city"]) == ("卫生健康委员会", org, "怀化市")


def test_an_issuer_naming_no_place_takes_the_one_place_of_its_level_in_the_text():
    body = BODY.replace("县委", "市委").replace("县民政局", "市民政局")
    row = meta_of("市民政局党组关于巡察整改情况的通报\n" + body + "推动出台《丽江市养老服务条例》。\n")
    assert (row["province"], row["city"], row["adcode"]) == ("云南省", "丽江市", "530700")
    assert any("丽江市 read from the text" in w for w in row["warnings"])
    assert "province=place context" in row["meta_sources"]
    two = meta_of("市民政局党组关于巡察整改情况的通报\n" + body + "学习丽江市、大理市的经验。\n")
    assert two["city"] is None and two["admin_level"] == "city"  # two cities written: no guess


@pytest.mark.parametrize("page", [
    "据新华社消息，中央第四轮巡视对20个中央单位党组织开展了常规巡视，已完成反馈。\n被巡视单位党组织将在反馈后2个月内报送整改落实情况，并适时向社会公开整改进展。\n",
    "县委常委会赴城关镇督导巡察反馈问题整改情况\n9月10日，县纪委书记一行赴城关镇督导巡察反馈问题整改落实情况。\n督导组要求逐项对账销号。\n",
    "省委第二轮巡视整改情况集中公布\n记者从省纪委获悉，12家单位的巡视整改进展情况今日在省纪委网站公布。\n",
    "关于做好巡察整改情况公开工作的意见\n为规范巡察整改公开，现就做好巡察整改情况公开工作提出如下意见。\n一、公开的内容\n",
])
def test_articles_about_rectification_are_no_reports(page):
    row = meta_of(page)
    assert row["is_report"] is False and any(w.startswith("not a rectification report") for w in row["warnings"])


def test_a_period_whose_year_and_month_were_lost_is_null_with_a_warning():
    row = meta_of(BODY.replace("2024年3月4日至4月30日", "2024304日至430日"))
    assert row["inspection_start"] is None and row["inspection_end"] is None
    assert any("garbled inspection period" in w for w in row["warnings"])


def test_meta_sources_say_where_each_field_came_from():
    page = "中共某县民政局党组关于县委巡察整改情况的通报\n发布日期：2024-09-01\n" + BODY
    src = dict(p.split("=") for p in meta_of(page)["meta_sources"].split("；"))
    assert src["title"] == src["issuer"] == src["agency"] == "title"
    assert (src["inspection_body"], src["feedback_date"], src["published_date"]) == ("body", "body", "metadata line")
    signed = dict(p.split("=") for p in meta_of(BODY + "中共某县民政局党组\n2024年9月3日\n")["meta_sources"].split("；"))
    assert signed["issuer"] == signed["published_date"] == "signature"


def test_dates_out_of_order_warn():
    row = meta_of("中共某县民政局党组关于县委巡察整改情况的通报\n发布日期：2024-05-01\n" + BODY)
    assert any("published_date 2024-05-01 is before feedback_date 2024-05-28" in w for w in row["warnings"])


@pytest.mark.parametrize(("core", "place"), [
    ("宁乡市民政局", ("宁乡市", "长沙市", "430182", "county")),        # 宁乡县 became a city (2017)
    ("杭州市临安区民政局", ("临安区", "杭州市", "330112", "district")),  # 临安市 became a district
    ("宜宾市叙州区财政局", ("叙州区", "宜宾市", "511504", "district")),  # a new name (宜宾县)
    ("宁乡县民政局", ("宁乡县", "长沙市", "430124", "county")),          # the old name, as an old report writes it
    ("衡阳市宁乡市民政局", ("衡阳市", "衡阳市", "430400", "city")),     # another city in front: the rename is not taken
])
def test_places_renamed_after_cpcas_table(core, place):
    from compare.places import resolve_place

    got, _ = resolve_place(core)
    assert (got["region"], got["city"], got["adcode"], got["admin_level"]) == place


def test_counts_stated_in_the_organisation_part_and_distributives_are_no_counts():
    said = BODY.replace("县民政局党组成立", "").replace("一、整改落实情况\n", "一、整改落实情况\n巡察组反馈意见提出了7项问题，局党组严肃对待每一个问题。\n")
    assert meta_of(said)["declared_problem_count"] == 7
    each = BODY.replace("5月28日反馈了巡察意见。", "5月28日反馈了巡察意见。局党组认真对待每一个问题。")
    assert meta_of(each)["declared_problem_count"] is None


def test_special_team_names_with_quotes_and_the_faxiao_shijian_label():
    page = ("【巡察整改】中共某县商务局党组关于专项巡察整改进展情况\n编辑：某某 发表时间：2022-09-14 15:08\n"
            + BODY.replace("县委第二巡察组", "县委“放管服”改革、优化营商环境专项巡察组"))
    row = meta_of(page)
    assert row["inspection_body"] == "县委“放管服”改革、优化营商环境专项巡察组"
    assert row["published_date"] == "2022-09-14"
    row = meta_of(BODY.replace("县委第二巡察组", "县委巡察办、县委第二巡察组"))
    assert row["inspection_body"] == "县委第二巡察组"  # a 巡察办 before the team is not part of its name


@pytest.mark.parametrize(("chrome", "date"), [
    ("  • 来源: 中共某县民政局党组\n  • 2021-12-14 11:00\n  • 【字号:大\n", "2021-12-14"),  # a bullet with only a date
    ("时间: 2020-10-24 01:49 来源: 某某日报 访问量:\n", "2020-10-24"),
])
def test_an_unlabelled_or_plainly_labelled_page_date_is_the_publication_date(chrome, date):
    row = meta_of("所在位置：首页 > 巡视巡察\n中共某县民政局党组关于县委巡察整改情况的通报\n" + chrome + BODY)
    assert row["published_date"] == date and "published_date=metadata line" in row["meta_sources"]


def test_an_issuer_named_only_in_a_plan_cited_in_the_organisation_part():
    row = meta_of((LAYOUTS / "61_court_cited_plan_in_section.txt").read_text(encoding="utf-8"))
    assert (row["issuer"], row["city"]) == ("中共三明市中级人民法院党组", "三明市")
    assert "issuer=cited plan title" in row["meta_sources"]
    assert row["is_report"] is True  # 现根据有关规定将…予以公布 publishes the rectification


def test_a_date_glued_to_a_source_label_is_the_page_date():
    row = meta_of("2021-02-23 12:42:06来源:某市住房和城乡建设局\n" + BODY.replace("现将", ""))
    assert row["published_date"] == "2021-02-23"


@pytest.mark.parametrize(("issuer", "region"), [("中共武汉经开区党工委", "武汉经开区"), ("中共宜昌高新区党工委", "宜昌高新区")])
def test_zone_committees_are_districts_of_their_city_without_a_code(issuer, region):
    row = meta_of(f"{issuer}关于省委巡视整改进展情况的通报\n" + BODY.replace("县委第二巡察组", "省委第六巡视组"))
    assert (row["region"], row["admin_level"], row["adcode"], row["party_org_type"]) == (region, "district", None, "党工委")


def test_a_feedback_before_the_inspection_ended_warns():
    row = meta_of(BODY.replace("5月28日反馈了巡察意见", "4月8日反馈了巡察意见"))
    assert row["feedback_date"] == "2024-04-08"
    assert any("feedback_date 2024-04-08 is before inspection_end 2024-04-30" in w for w in row["warnings"])
