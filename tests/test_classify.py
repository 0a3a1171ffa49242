"""compare.classify (the estimators), compare.coding (the tables) and compare.training (fit, load, evaluation).

The leave-one-region-out floors below are what the classifier reaches on the three bundled reports with its
default parameters (measured, not tuned on the held-out region); see the module docstring of
compare.training for what the figures mean and why the rules carry most of them.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from compare import config
from compare.classify import ProblemClassifier
from compare.codebook import load_codebook
from compare.coding import classify_measures, classify_problems, code_problem_rows
from compare.documents import measure_documents, measure_segments, measure_spans, problem_documents
from compare.training import LoroResult, Training, evaluate_loro, load_model, model_inputs, training_data

# --- floors (measured: blend accuracy 0.947 overall, per region 0.923 / 1.000 / 0.949; macro-F1 0.952;
# text model alone 0.600; secondary-code micro-F1 0.613) -----------------------------------------------------
FLOOR_ACCURACY = 0.90
FLOOR_REGION_ACCURACY = 0.85
FLOOR_MACRO_F1 = 0.85
FLOOR_MODEL_ONLY_ACCURACY = 0.50
FLOOR_SECONDARY_F1 = 0.50


#: parameters that make a fit fast, for tests of behaviour rather than of accuracy
FAST = {"word_ngram_range": (1, 1), "char_ngram_range": (2, 2)}


@pytest.fixture(scope="module")
def data(corpus, labels):
    return training_data(corpus, labels)


@pytest.fixture(scope="module")
def loro(corpus, labels, codebook, tokenizer):
    return evaluate_loro(corpus, labels, codebook, tokenizer)


@pytest.fixture(scope="module")
def model():
    return load_model(config.PROBLEM_MODEL_PATH)


def test_loro_floors(loro, data):
    blend = loro.summary("blend")
    regions = sorted(set(data[2]["region"]))
    assert sorted(set(blend.index) - {"overall"}) == regions
    assert blend.loc["overall", "n"] == len(data[1]) == blend.drop("overall")["n"].sum()
    assert blend.loc["overall", "accuracy"] >= FLOOR_ACCURACY, blend
    assert blend.loc["overall", "macro_f1"] >= FLOOR_MACRO_F1, blend
    assert (blend.drop("overall")["accuracy"] >= FLOOR_REGION_ACCURACY).all(), blend
    assert blend.loc["overall", "secondary_f1"] >= FLOOR_SECONDARY_F1, blend
    assert loro.summary("model").loc["overall", "accuracy"] >= FLOOR_MODEL_ONLY_ACCURACY
    for col in ("accuracy", "macro_f1"):
        assert loro.scores[col].between(0, 1).all()


def test_loro_confusion_and_predictions(loro, data):
    codes = load_codebook(config.CODEBOOK_PATH).ids
    cm = loro.confusion
    assert list(cm.index) == codes and list(cm.columns) == codes
    assert cm.to_numpy().sum() == len(data[1])
    acc = np.trace(cm.to_numpy()) / cm.to_numpy().sum()
    assert acc == pytest.approx(loro.summary("blend").loc["overall", "accuracy"])
    pred = loro.predictions
    assert list(pred["true"]) == list(data[1])
    assert set(pred["blend"]) <= set(codes)


def test_loro_reads_back_from_the_builds_tables_and_gives_the_same_figures_with_two_workers(corpus, labels, codebook,
                                                                                             tokenizer):
    """The build writes the evaluation as tables (LoroResult.tables) and notebook 02 reads them back; the folds
    fitted two at a time give the very same figures as one after the other."""
    one = evaluate_loro(corpus, labels, codebook, tokenizer, jobs=1, **FAST)
    two = evaluate_loro(corpus, labels, codebook, tokenizer, jobs=2, **FAST)
    back = LoroResult.from_tables({k: v.copy() for k, v in two.tables().items()})
    for res in (two, back):
        pd.testing.assert_frame_equal(res.scores, one.scores)
        pd.testing.assert_frame_equal(res.confusion, one.confusion)
        pd.testing.assert_frame_equal(res.predictions, one.predictions)
    assert LoroResult.from_tables({}) is None


def test_loro_holds_the_region_out(corpus, data, monkeypatch, labels, codebook, tokenizer):
    """Every fold is fitted without a single document of the region it predicts."""
    docs, y, frame = data
    seen = []
    original = ProblemClassifier.fit

    def spy(self, X, y=None):
        seen.append(set(X))
        self.set_params(rule_weight=1.0)  # the split is under test, not the model: skip its fit
        return original(self, X, y)

    monkeypatch.setattr(ProblemClassifier, "fit", spy)
    evaluate_loro(corpus, labels, codebook, tokenizer)
    by_region = frame.groupby("region").groups
    assert len(seen) == len(by_region)
    for region, idx in by_region.items():
        held = {docs[i] for i in idx}
        assert any(not (s & held) and len(s) == len(docs) - len(held) for s in seen), region


def test_estimator_idioms(data, codebook, tokenizer):
    docs, y, _ = data
    clf = ProblemClassifier(codebook, tokenizer, rule_weight=0.3, C=2.0, **FAST)
    assert clone(clf).get_params() == clf.get_params()
    with pytest.raises(NotFittedError):
        clf.predict(docs[:1])
    with pytest.raises(ValueError, match="not in the codebook"):
        ProblemClassifier(codebook, tokenizer).fit(docs[:3], ["a", "b", "c"])
    clf.fit(docs, y)
    fitted = [k for k in vars(clf) if k not in vars(clone(clf))]
    assert fitted and all(k.endswith("_") for k in fitted)
    proba = clf.predict_proba(docs[:5])
    assert proba.shape == (5, len(clf.classes_))
    assert np.allclose(proba.sum(axis=1), 1)
    assert list(clf.classes_) == load_codebook(config.CODEBOOK_PATH).ids


def test_codes_unseen_in_training_come_from_the_rules(data, codebook, tokenizer):
    docs, y, _ = data
    keep = y != "funeral_services"
    clf = ProblemClassifier(codebook, tokenizer, **FAST).fit([d for d, k in zip(docs, keep, strict=True) if k], y[keep])
    assert "funeral_services" not in clf.model_classes_
    text = "殡葬服务收费不规范\n一是开展殡仪馆收费专项检查。二是整治殡葬中介，规范公益性公墓管理。"
    assert clf.predict([text])[0] == "funeral_services"


def test_explain_evidence(model):
    text = (
        "特困人员供养金发放不及时\n一是全面核查特困供养对象，补发照料护理费。二是开展养老机构消防安全检查。"
    )
    e = model.explain(text)
    assert e["primary_code"] == "social_assistance"
    assert e["title"] == "特困人员供养金发放不及时"
    assert set(e["scores"]) == set(model.classes_)
    assert e["scores"][e["primary_code"]] == max(e["scores"].values())
    assert e["primary_code"] not in e["codes"]
    terms = e["matched_terms"]["social_assistance"]
    assert terms and all(t in text for t in terms)
    assert e["top_features"] and all(w > 0 for _, w in e["top_features"])
    assert all(f.split(":", 1)[0] in ("word", "char") for f, _ in e["top_features"])
    assert len(e["measure_codes"]) == 2 and e["measure_codes"][1] == "elderly_care"
    assert e["codes"] == ["elderly_care"]  # a whole measure about elderly care → secondary
    assert model.explain([text, text]) == [e, e]


def test_measure_segments():
    doc = "标题\n1.针对标题问题。\n一是甲。二是乙；三是丙。"
    assert measure_segments(doc) == ["甲。", "乙；", "丙。"]
    assert measure_segments("标题\n只有一段") == ["只有一段"]
    assert measure_segments("只有标题") == []
    # 标0 题1 \n2, "1.针对标题问题。" 3–11, \n12, 一13 是14 甲15 。16 二17 是18 乙19 ；20 三21 是22 丙23 。24
    assert measure_spans(doc) == [(15, 17), (19, 21), (23, 25)]
    # 标0 题1 \n2, 一5 是6, "甲 。" 8–10, \n11 二12 是13 \n14, 乙17
    assert measure_spans("标题\n  一是 甲 。\n二是\n  乙 ") == [(8, 11), (17, 18)]


def test_measure_codes_from_one_pass_equal_scoring_each_measure_alone(model, corpus):
    docs = problem_documents(corpus.problems, corpus.measures)
    rules = model.rules_
    alone = []
    for doc in docs:  # the definition: each measure scored as a document of its own, with no title
        raw, _ = rules.score(["\n" + seg for seg in measure_segments(doc)])
        alone.append([model.classes_[r.argmax()] if r.max() > 0 else None for r in raw])
    assert model.measure_codes(docs) == alone
    assert model.measure_codes(docs, rules.occurrences(docs)) == alone
    assert sum(len(m) for m in alone) == 259 and sum(c is not None for m in alone for c in m) > 200


def test_classify_problems_table(corpus, model):
    out = classify_problems(corpus.problems, corpus.measures, model=model)
    codes = load_codebook(config.CODEBOOK_PATH).ids
    assert len(out) == len(corpus.problems) and (out.index == corpus.problems.index).all()
    assert out["primary_code"].isin(codes).all()
    for col in ("codes", "primary_score", "matched_terms", "top_features", "evidence"):
        assert col in out
    assert [f"score_{c}" for c in codes] == [c for c in out if c.startswith("score_")]
    assert np.allclose(out[[f"score_{c}" for c in codes]].sum(axis=1), 1)
    sec = out["codes"].str.split(";")
    assert all(p not in s for p, s in zip(out["primary_code"], sec, strict=True))
    assert out["evidence"].str.len().gt(0).all()


def test_problem_documents_fall_back_to_measures(corpus):
    p = corpus.problems.head(2).assign(text="")
    docs = problem_documents(p, corpus.measures)
    first = corpus.measures[corpus.measures["problem_id"] == p["problem_id"].iloc[0]]["text"].iloc[0]
    assert docs[0].startswith(p["title"].iloc[0] + "\n") and first in docs[0]


def test_code_problem_rows_matches_parse_json(corpus, model):
    from compare.corpus import process_file

    res = process_file(corpus.reports["source_path"].iloc[0])
    codes = code_problem_rows(res.problems, res.measures, model)
    assert set(codes) == {p["problem_id"] for p in res.problems}
    for v in codes.values():
        assert set(v) == {"primary_code", "codes"}
        assert v["primary_code"] in load_codebook(config.CODEBOOK_PATH).ids and v["primary_code"] not in v["codes"]
    assert code_problem_rows([], [], model) == {}


def test_shipped_model():
    path = config.PROBLEM_MODEL_PATH
    assert path.is_file(), "run `python -m compare train`"
    assert path.stat().st_size < 5_000_000
    import joblib

    shipped = joblib.load(path)
    assert isinstance(shipped, ProblemClassifier)
    from compare.training import stale as _stale

    inputs = model_inputs(config.CODEBOOK_PATH, config.USERDICT_PATH, config.STOPWORDS_PATH, config.PROBLEM_LABELS_PATH)
    assert _stale(shipped, inputs) == [], "data/ changed since the model was trained: run `python -m compare train`"


def test_missing_model_is_trained_on_the_fly(tmp_path, capsys, monkeypatch, corpus, labels, codebook, tokenizer):
    import compare.training as cl

    calls = []
    real = cl.train_model

    def fast_train(*args, **kwargs):
        calls.append(kwargs)
        return real(*args, **{**kwargs, **FAST})

    monkeypatch.setattr(cl, "train_model", fast_train)
    m = load_model(tmp_path / "absent.joblib", training=Training(corpus, labels, codebook, tokenizer))
    assert calls == [{"save": False}]
    assert "training on the fly" in capsys.readouterr().err
    assert m.predict(["低保对象动态管理不到位\n一是开展低保对象死亡比对。"])[0] == "social_assistance"


def test_cli_classify_json(capsys):
    from compare.cli import main

    assert main(["classify", "--json", "三重一大制度执行不严格", "殡仪馆收费不规范"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [r["primary_code"] for r in out] == ["party_building", "funeral_services"]
    for r in out:
        assert {"scores", "matched_terms", "top_features", "codes"} <= set(r)


def test_measure_types(corpus, measure_model):
    cb = load_codebook(config.MEASURE_CODEBOOK_PATH)
    out = classify_measures(corpus.measures, measure_model)
    assert len(out) == len(corpus.measures)
    typed = out["measure_type"].notna()
    assert out.loc[typed, "measure_type"].isin(cb.ids).all()
    assert typed.mean() >= 0.9  # measured: 0.93 of the bundled measures match at least one rule
    assert out.loc[typed, "matched_terms"].str.len().gt(0).all()
    assert out.loc[typed, "evidence"].str.contains("terms: ").all()
    assert len(measure_documents(corpus.measures)) == len(corpus.measures)
    assert out["measure_type"].nunique() >= 6


# --- the boundaries of DESIGN.md §4 (statements written for these tests) ------------------------------------
def test_boundary_line_of_business_of_other_units(model):
    """A problem of a non-civil-affairs unit's own business is mandate_general; the same civil-affairs field
    named by a civil-affairs bureau keeps its field code."""
    assert model.explain("农村公路日常养护不到位，部分路段坑洼积水", agency="交通运输局")["primary_code"] == (
        "mandate_general")
    lob = model.explain("医疗救助一站式结算推进缓慢", agency="医疗保障局")
    assert lob["primary_code"] == "mandate_general" and lob["outside_sector"] is True
    assert model.explain("医疗救助一站式结算推进缓慢", agency="民政局")["primary_code"] == "social_assistance"
    # a unit with no rule at all still gets its line of business, never a civil-affairs field
    assert model.explain("某项工作进度滞后", agency="林业局")["primary_code"] == "mandate_general"
    # cross-cutting codes stay what they are for any unit
    assert model.explain("财务报销审核不严", agency="林业局")["primary_code"] == "finance_assets"


def test_boundary_implementing_decisions_split_by_substance(model):
    assert model.explain("学习领会上级决策部署不深入")["primary_code"] == "party_building"
    assert model.explain("推进落实上级决策部署不够有力")["primary_code"] == "mandate_general"
    assert model.explain("推进殡葬改革决策部署不力", agency="民政局")["primary_code"] == "funeral_services"


def test_boundary_supervision_goes_to_what_is_supervised(model):
    assert model.explain("对养老机构监管不到位")["primary_code"] == "elderly_care"
    assert model.explain("对社会组织年检监管不严")["primary_code"] == "grassroots_governance"
    assert model.explain("专项资金监管不严")["primary_code"] == "finance_assets"
    assert model.explain("履行行业监管责任不到位")["primary_code"] == "mandate_general"


def test_boundary_conduct_integrity_secrecy_ideology_are_party_building(model):
    for text in ("形式主义问题仍然存在", "廉政风险排查不深入", "涉密文件保管不规范，保密意识淡薄", "意识形态阵地管理薄弱"):
        assert model.explain(text, agency="城市管理局")["primary_code"] == "party_building", text


def test_abstention(model):
    vague = model.explain("某项工作进度滞后")
    assert vague["needs_review"] is True
    assert vague["review_reason"].startswith("no codebook rule matched and the model is unsure")
    clear = model.explain("低保审核审批不规范")
    assert clear["needs_review"] is False and clear["review_reason"] == ""
    assert 0.6 <= clear["confidence"] <= 1
    assert model.calibrator_ is not None  # fitted on out-of-fold predictions of the training labels
    strict = clone(model).set_params(review_threshold=1.0)
    strict.__dict__.update({k: v for k, v in vars(model).items() if k.endswith("_")})  # same fit, stricter
    assert strict.explain("低保审核审批不规范")["review_reason"].startswith("low confidence")


def test_agency_must_match_the_documents(model):
    with pytest.raises(ValueError, match="2 documents but 1 agencies"):
        model.explain(["低保审核不严", "财务报销不规范"], agency=["民政局"])


def test_text_features_are_the_vectorizers_matrix(shipped_model, corpus):
    """The model's features computed from tokens and packed code points (classify.text_features) equal
    scikit-learn's FeatureUnion.transform, value for value, also on texts with no Han character or none in
    the vocabulary."""
    from compare.classify import text_features
    from compare.documents import problem_documents

    features = shipped_model.pipeline_.named_steps["features"]
    docs = problem_documents(corpus.problems, corpus.measures)[:40]
    docs += ["", "\n", "殡", "养老 服务 abc 123 殡仪馆", "标题\n一是𠀀𠀁字。二是ＡＢＣ", "龘龘龘龘"]
    fast, slow = text_features(features, docs), features.transform(docs)
    assert fast.shape == slow.shape == (46, slow.shape[1]) and fast.has_sorted_indices
    assert (fast != slow).nnz == 0
    assert fast.nnz == slow.nnz > 1000


# Generic vocabulary of the inspection checklist (三个聚焦/四个落实): other units' party, cadre and finance
# statements in words of the standard Party documents must not default to their line of business (DESIGN.md §4).
# Statements written for these tests; one test per concept group of the codebook.
def test_checklist_leadership_systems_are_party_building(model):
    cases = [("集团党委把方向、管大局作用弱化", "国有资本运营公司"),
             ("重大投资事项未经党委会前置研究", "城市建设投资集团"),
             ("党委领导下的校长负责制落实有偏差", "师范学院"),
             ("院党委领导作用发挥不充分", "县人民医院")]
    for text, unit in cases:
        assert model.explain(text, agency=unit)["primary_code"] == "party_building", text


def test_checklist_branches_and_members_are_party_building(model):
    cases = [("党支部战斗堡垒作用发挥不明显", "税务局"), ("软弱涣散村党组织整顿转化不到位", "镇党委"),
             ("流动党员管理缺位", "街道党工委"), ("党费收缴标准把握不准", "统计局"),
             ("党建工作与业务工作“两张皮”", "住房和城乡建设局")]
    for text, unit in cases:
        assert model.explain(text, agency=unit)["primary_code"] == "party_building", text


def test_checklist_discipline_and_conduct_are_party_building(model):
    cases = [("政治纪律和政治规矩意识淡薄", "水利局"), ("执纪问责失之于宽", "交通运输局"),
             ("违规公务接待时有发生", "应急管理局"), ("文山会海现象仍然突出", "发展和改革局"),
             ("思想政治工作针对性不强", "职业技术学院")]
    for text, unit in cases:
        assert model.explain(text, agency=unit)["primary_code"] == "party_building", text


def test_checklist_staff_of_a_sector_are_cadre_management(model):
    # §4: a sector's own professional work is its line of business; selecting and managing its staff is cadre work
    assert model.explain("青年教师队伍梯次不合理，骨干教师流失", agency="第二中学")["primary_code"] == "cadre_management"
    assert model.explain("课堂教学质量评价机制不健全", agency="第二中学")["primary_code"] == "mandate_general"
    cases = [("医护人员配置不足，学科带头人断档", "中心医院"), ("职称评审把关不严", "农业农村局"),
             ("编外用工管理不规范，存在混岗", "市场监督管理局"), ("干部人事档案专审不彻底", "审计局")]
    for text, unit in cases:
        assert model.explain(text, agency=unit)["primary_code"] == "cadre_management", text


def test_checklist_money_and_property_are_finance_assets(model):
    cases = [("执行财经纪律不严，决算编报不实", "人力资源和社会保障局"), ("三公经费管控不力", "退役军人事务局"),
             ("工程招投标程序不规范", "水利局"), ("往来款长期挂账，债务底数不清", "开发区管委会"),
             ("国有房产出租出借未经评估", "机关事务管理局")]
    for text, unit in cases:
        assert model.explain(text, agency=unit)["primary_code"] == "finance_assets", text
