"""The coder on units of other sectors (DESIGN.md §4) and a confidence that ranks its errors.

Every statement here is written for these tests (in our own words), not taken from published reports.
"""

import numpy as np
import pandas as pd
import pytest

from compare import config
from compare.classify import CONFIDENCE_FEATURES, confidence_features, known_units
from compare.training import calibration_set


# --- the rules' general vocabulary for any unit --------------------------------------------------------------
@pytest.mark.parametrize(
    ("agency", "title", "code"),
    [
        ("公安局", "民警政治意识淡薄，“四个意识”树得不牢", "party_building"),  # political awareness
        ("人民医院", "从严管党治院压力传导层层递减", "party_building"),  # 管党治X of any unit
        ("集团公司", "重大经营事项议事决策程序不规范", "party_building"),  # collective decision procedure
        ("水务局", "上轮巡察指出问题整改不到位", "party_building"),  # rectifying inspection findings
        ("税务局", "青年骨干人才流失较多，后备力量不足", "cadre_management"),  # talent and succession
        ("镇党委", "村集体三资台账登记不全", "finance_assets"),  # collective funds and assets
        ("教育局", "学校食堂经费收支不透明", "finance_assets"),  # funds of any unit
        ("应急管理局", "危化品仓储企业隐患排查不彻底", "mandate_general"),  # line of business
        ("公安局", "派出所户籍窗口服务效率不高", "mandate_general"),  # no rule: line of business
    ],
)
def test_other_units_general_vocabulary(shipped_model, agency, title, code):
    assert shipped_model.explain(title, agency=agency)["primary_code"] == code


def test_outside_units_model_mass_of_field_codes(shipped_model):
    """A rule matched: the model's field-code mass is dropped and the rest renormalised; none matched: it
    goes to the line of business (mandate_general)."""
    fields = ["elderly_care", "social_assistance", "funeral_services", "child_welfare", "grassroots_governance"]
    fired = shipped_model.explain("学校食堂经费收支不透明", agency="教育局")
    assert all(fired["model_proba"][c] == 0 for c in fields)
    assert sum(fired["model_proba"].values()) == pytest.approx(1, abs=1e-3)
    inside = shipped_model.explain("学校食堂经费收支不透明", agency="民政局")
    outside = shipped_model.explain("派出所户籍窗口服务效率不高", agency="公安局")
    assert outside["rule_scores"] == {}
    assert all(outside["model_proba"][c] == 0 for c in fields)
    assert outside["model_proba"]["mandate_general"] > 0.6  # 0.632: the field mass moved to it
    assert sum(v for c, v in inside["model_proba"].items() if c in fields) > 0.3  # a 民政 unit keeps them


# --- the signals ---------------------------------------------------------------------------------------------
def test_confidence_features_by_hand():
    blend = np.array([[0.6, 0.3, 0.1], [0.4, 0.4, 0.2]])
    model = np.array([[0.5, 0.5, 0.0], [1 / 3, 1 / 3, 1 / 3]])
    shares = np.array([[0.75, 0.25, 0.0], [0.0, 0.0, 0.0]])
    raw = np.array([[3.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
    F = confidence_features(blend, model, shares, raw, np.array([True, False]))
    assert F.shape == (2, len(CONFIDENCE_FEATURES)) == (2, 9)
    row = dict(zip(CONFIDENCE_FEATURES, F[0], strict=True))
    assert row["blend_top"] == pytest.approx(0.6)
    assert row["blend_margin"] == pytest.approx(0.3)
    assert row["rule_margin"] == pytest.approx(0.5)
    assert row["rule_fired"] == 1 and row["agree"] == 1 and row["unit_known"] == 1
    assert row["rule_strength"] == pytest.approx(np.log(4))
    assert row["model_top"] == pytest.approx(0.5)
    assert row["model_entropy"] == pytest.approx(np.log(2) / np.log(3))
    none = dict(zip(CONFIDENCE_FEATURES, F[1], strict=True))
    assert none["rule_margin"] == none["rule_fired"] == none["agree"] == none["unit_known"] == 0
    assert none["model_entropy"] == pytest.approx(1)
    assert confidence_features(np.zeros((0, 3)), np.zeros((0, 3)), np.zeros((0, 3)), np.zeros((0, 3))).shape == (0, 9)


def test_known_units():
    assert known_units(None, 2).tolist() == [False, False]
    assert known_units("公安局", 2).tolist() == [True, True]
    assert known_units(["公安局", "", None, " "], 4).tolist() == [True, False, False, False]


# --- calibration ---------------------------------------------------------------------------------------------
def test_calibration_set_reads_only_the_calibration_rows(tmp_path):
    docs, codes, units = calibration_set(config.CALIBRATION_PATH)
    assert len(docs) == len(codes) == len(units) == 87  # of 174 written statements; the rest develop rules
    assert units.count(None) == 7  # unit not given
    p = tmp_path / "s.csv"
    p.write_text("title,primary_code\n预算执行率低,finance_assets\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"s\.csv: missing column\(s\) agency"):
        calibration_set(p)


def test_shipped_confidence_is_calibrated_out_of_sample(shipped_model):
    info = shipped_model.calibration_info_
    # 75 leave-one-region-out predictions of the bundled labels (3 wrong) + 87 written statements (13 wrong)
    assert info == {"n": 162, "n_training_folds": 75, "n_statements": 87, "errors": 16}
    assert shipped_model.calibrator_.n_features_in_ == len(CONFIDENCE_FEATURES)
    assert shipped_model.review_threshold == 0.7


def test_flagged_statements_are_clearly_worse(shipped_model):
    """On the written statements the rules were developed on (not the calibration ones): 5 of 87 flagged,
    2 of them coded as written, against 74 of the 82 unflagged."""
    w = pd.read_csv(config.CALIBRATION_PATH, dtype=str, keep_default_na=False)
    w = w[w["role"] == "development"]
    ex = shipped_model.explain(list(w["title"]), agency=[a or None for a in w["agency"]])
    ok = np.array([e["primary_code"] for e in ex], dtype=object) == w["primary_code"].to_numpy(dtype=object)
    flagged = np.array([e["needs_review"] for e in ex])
    assert (flagged.sum(), ok[flagged].sum(), ok[~flagged].sum()) == (5, 2, 74)


def test_unknown_unit_lowers_the_confidence_of_an_uncovered_statement(shipped_model):
    known = shipped_model.explain("对下属单位监督管理不到位", agency="公安局")
    unknown = shipped_model.explain("对下属单位监督管理不到位")
    assert unknown["confidence"] < known["confidence"]
    assert unknown["needs_review"] and not known["needs_review"]
    assert unknown["review_reason"] == "no codebook rule matched and the model is unsure (p=0.19)"


# --- codebook-draft on a corpus of another sector -------------------------------------------------------------
WATER = [  # a water-affairs bureau: its line of business, which the civil-affairs codebook does not detail
    ("河道非法采砂屡禁不止", "一是夜间盗采巡查缺位\n二是采砂船只管理松散"),
    ("河道采砂许可审批不规范", "一是采砂许可超范围\n二是采砂现场核查缺失"),
    ("采砂船只登记管理混乱", "一是采砂船只未登记\n二是采砂船只停靠无序"),
    ("水库除险加固进度滞后", "一是病险水库加固未完工\n二是水库大坝监测设施缺失"),
    ("小型水库运行管理薄弱", "一是水库巡查记录不全\n二是水库泄洪设施老化"),
    ("水库防汛预案演练不足", "一是水库防汛预案未修订\n二是水库抢险物资不足"),
    ("理论学习中心组学习流于形式", "一是第一议题制度执行不严\n二是学习研讨不深入"),
]


def test_codebook_draft_finds_the_other_sectors_topics(shipped_model, tokenizer):
    from compare.coding import classify_problems
    from compare.vocab import draft_codebook

    problems = pd.DataFrame({"problem_id": [f"shuiwu:P{i:02d}" for i in range(1, 8)], "report_id": "shuiwu",
                             "title": [t for t, _ in WATER], "text": [x for _, x in WATER]})
    coded = classify_problems(problems, None, shipped_model, agency={"shuiwu": "水务局"})
    assert list(coded["primary_code"]) == ["mandate_general"] * 6 + ["party_building"]
    draft = draft_codebook(coded, tokenizer, k=2)
    assert (draft.n_poor, draft.n_problems) == (6, 7)  # the six no rule covers (line of business only)
    groups = sorted(sorted(ids) for ids in draft.clusters["problem_ids"])
    assert groups == [[f"shuiwu:P{i:02d}" for i in (1, 2, 3)], [f"shuiwu:P{i:02d}" for i in (4, 5, 6)]]
    tops = {r["top_terms"][0] for _, r in draft.clusters.iterrows()}
    assert tops == {"采砂船", "水库"}  # the draft's codes: sand mining, reservoirs
