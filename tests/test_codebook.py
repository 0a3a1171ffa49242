"""Tests for compare.codebook: loading, validation, names/colours and rule scoring."""

from __future__ import annotations

import dataclasses
import textwrap
from pathlib import Path

import pytest

from compare import config
from compare.codebook import Code, Codebook, RuleScore, load_codebook, terms_within

FIXTURES = Path(__file__).parent / "data" / "analysis"
NINE = [
    "elderly_care", "social_assistance", "funeral_services", "child_welfare", "grassroots_governance",
    "party_building", "cadre_management", "finance_assets", "mandate_general",
]


@pytest.fixture(scope="module")
def cb() -> Codebook:
    return load_codebook(FIXTURES / "codebook.yaml")


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "cb.yaml"
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


GOOD_CODE = """\
      - code: a
        name_zh: 甲
        name_en: A
        color: "#111111"
        rules:
          - any: [甲]
"""


# ----------------------------------------------------------------------------------------- the object
def test_ids_names_colours_in_order(cb):
    assert cb.ids == NINE
    assert len(cb) == 9 and "elderly_care" in cb and "nope" not in cb
    assert cb.name("elderly_care") == "养老服务"
    assert cb.name("elderly_care", lang="en") == "Elderly care"
    assert cb.color("social_assistance") == "#d95f02"
    palette = cb.palette()
    assert list(palette) == NINE
    assert len(set(palette.values())) == 9
    assert cb.names("en")["party_building"] == "Party building"


def test_codes_are_frozen_dataclasses(cb):
    code = cb.codes[0]
    assert isinstance(code, Code)
    assert code.include == ("敬老院公建民营",) and code.exclude == ("儿童福利院",)
    with pytest.raises(dataclasses.FrozenInstanceError):
        code.color = "#000000"


def test_unknown_code_and_lang(cb):
    with pytest.raises(KeyError, match="nope"):
        cb.name("nope")
    with pytest.raises(ValueError, match="lang"):
        cb.name("elderly_care", lang="fr")


def test_to_frame(cb):
    df = cb.to_frame()
    assert list(df["code"]) == NINE
    assert {"name_zh", "name_en", "color", "definition"} <= set(df.columns)


# ----------------------------------------------------------------------------------------- scoring
def test_score_any_rule_with_weight(cb):
    s = cb.score("多坪镇敬老院公建民营改革推进缓慢")
    assert s["elderly_care"] == RuleScore(2.0, ("敬老院",))
    assert list(s) == NINE  # every code, in order
    assert s["child_welfare"] == RuleScore(0.0, ())


def test_score_all_and_none(cb):
    assert cb.score("福利院老人入住评估")["elderly_care"] == RuleScore(1.0, ("福利院", "老人"))
    # the `none` term blocks the rule
    assert cb.score("福利院老人和儿童")["elderly_care"].score == 0.0
    # all terms are required
    assert cb.score("福利院建设")["elderly_care"].score == 0.0


def test_score_sums_rules_and_keeps_evidence(cb):
    s = cb.score("敬老院与长者饭堂，福利院老人")["elderly_care"]
    assert s.score == 3.0
    assert s.terms == ("敬老院", "长者饭堂", "福利院", "老人")


def test_score_empty_text(cb):
    assert all(v.score == 0 for v in cb.score("").values())
    assert all(v.score == 0 for v in cb.score(None).values())


# ----------------------------------------------------------------------------------------- validation
@pytest.mark.parametrize(
    ("body", "match"),
    [
        ("version: 1\ncodes:\n" + GOOD_CODE + GOOD_CODE, "duplicate code 'a'"),
        ("version: 1\nextra: 1\ncodes:\n" + GOOD_CODE, "unknown top-level keys"),
        ("version: 1\ncodes:\n" + GOOD_CODE.replace("        rules:", "        colour: red\n        rules:"),
         "code 'a': unknown keys"),
        ("version: 1\ncodes:\n" + GOOD_CODE.replace('"#111111"', "green"), "code 'a': bad colour"),
        ("version: 1\ncodes:\n" + GOOD_CODE.replace('"#111111"', '"#12345"'), "code 'a': bad colour"),
        ("version: 1\ncodes:\n" + GOOD_CODE.replace("          - any: [甲]", "          []"), "code 'a': empty rules"),
        ("version: 1\ncodes:\n" + GOOD_CODE.replace("- any: [甲]", "- weight: 2"), "code 'a' rule 1: empty rule"),
        ("version: 1\ncodes:\n" + GOOD_CODE.replace("- any: [甲]", "- {any: [甲], some: [乙]}"),
         "unknown rule keys"),
        ("version: 1\ncodes:\n" + GOOD_CODE.replace("- any: [甲]", "- {any: [甲], weight: -1}"), "weight"),
        ("version: 1\ncodes:\n" + GOOD_CODE.replace("        name_en: A\n", ""), "missing keys"),
        ("version: 1\ncodes:\n" + GOOD_CODE.replace("code: a", "code: A-1"), "lower-case"),
        ("version: 1\ncodes:\n" + GOOD_CODE + GOOD_CODE.replace("code: a", "code: b"), "reuses the colour"),
        ("version: 1\ncodes: []\n", "non-empty list"),
        ("version: 1\ncodes: [\n", "not valid YAML"),
    ],
)
def test_invalid_codebooks_name_file_and_code(tmp_path, body, match):
    path = write(tmp_path, body)
    with pytest.raises(ValueError, match=match) as err:
        load_codebook(path)
    assert str(path.resolve()) in str(err.value)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothere.yaml"):
        load_codebook(tmp_path / "nothere.yaml")


def test_minimal_codebook_defaults(tmp_path):
    cb = load_codebook(write(tmp_path, "version: 1\ncodes:\n" + GOOD_CODE))
    code = cb["a"]
    assert code.definition == "" and code.include == () and code.exclude == ()
    assert code.rules[0].weight == 1.0


def test_cache_follows_file_changes(tmp_path):
    path = write(tmp_path, "version: 1\ncodes:\n" + GOOD_CODE)
    first = load_codebook(path)
    assert load_codebook(path) is first
    path.write_text("version: 1\ncodes:\n" + GOOD_CODE.replace("name_zh: 甲", "name_zh: 甲乙"), encoding="utf-8")
    assert load_codebook(path).name("a") == "甲乙"


# ----------------------------------------------------------------------------------------- project codebooks
@pytest.mark.skipif(not config.CODEBOOK_PATH.is_file(), reason="data/codebook.yaml not written yet")
def test_project_codebook_has_the_nine_types_of_design_section_4():
    cb = load_codebook(config.CODEBOOK_PATH)
    assert cb.ids == NINE
    assert cb.name("grassroots_governance") == "基层治理与社会事务"
    assert all(cb.name(c, "en") for c in cb.ids)


@pytest.mark.skipif(not config.MEASURE_CODEBOOK_PATH.is_file(), reason="no measure codebook yet")
def test_project_measure_codebook_loads():
    cb = load_codebook(config.MEASURE_CODEBOOK_PATH)
    assert len(cb) >= 2
    assert len(set(cb.palette().values())) == len(cb)


# ----------------------------------------------------------------------------------------- the term index
def _one_rule_at_a_time(book: Codebook, text: str) -> dict[str, RuleScore]:
    """The definition: every rule of every code tested with ``in``."""
    return {c.code: c.score(text) for c in book}


@pytest.mark.parametrize("path", [config.CODEBOOK_PATH, config.MEASURE_CODEBOOK_PATH])
def test_indexed_scoring_equals_testing_every_rule(corpus, path):
    book = load_codebook(path)
    texts = [f"{t}\n{x}" for t, x in zip(corpus.problems["title"], corpus.problems["text"], strict=True)]
    texts += list(corpus.measures["text"]) + ["", "无关文字"]
    hits = 0
    for text in texts:
        fast = book.score(text)
        assert fast == _one_rule_at_a_time(book, text)
        hits += any(s.score > 0 for s in fast.values())
    assert hits > len(texts) * 0.8  # the comparison covers matching texts, not only empty scores


_OVERLAPPING = """\
codes:
  - code: a
    name_zh: 甲
    name_en: A
    color: "#111111"
    rules:
      - any: [养老, 养老机构]
      - all: [机构, 监管]
        none: [儿童]
        weight: 2
  - code: b
    name_zh: 乙
    name_en: B
    color: "#222222"
    rules:
      - any: [老机]
"""


def test_index_handles_overlaps_none_terms_and_pickling(tmp_path):
    import pickle

    path = write(tmp_path, _OVERLAPPING)
    book = pickle.loads(pickle.dumps(load_codebook(path)))
    s = book.score("加强养老机构监管")
    assert s["a"] == RuleScore(score=3.0, terms=("养老", "养老机构", "机构", "监管"))
    assert s["b"] == RuleScore(score=1.0, terms=("老机",))  # overlapping occurrence found too
    assert book.score("儿童养老机构监管")["a"] == RuleScore(score=1.0, terms=("养老", "养老机构"))


def test_one_pass_of_occurrences_scores_every_part_of_a_text(tmp_path, corpus):
    path = write(tmp_path, _OVERLAPPING)
    book = load_codebook(path)
    text = "加强养老机构监管"  # 加0 强1 养2 老3 机4 构5 监6 管7
    occ = book.occurrences(text)
    assert sorted(occ) == [(3, "养老"), (4, "老机"), (5, "养老机构"), (5, "机构"), (7, "监管")]
    assert [e for e, _ in occ] == sorted(e for e, _ in occ)  # in order of their end
    assert terms_within(occ, 0, 4) == {"养老"}  # 老机 ends at 4, outside [0, 4)
    assert terms_within(occ, 4, 8) == {"机构", "监管"}  # 老机 and 养老机构 start before 4
    assert book.score_terms(terms_within(occ, 0, len(text))) == book.score(text)
    assert book.score_terms(terms_within(occ, 4, 8))["a"] == RuleScore(score=2.0, terms=("机构", "监管"))
    # any part of a real text scores as that part on its own (the bundled codebook, every problem)
    real = load_codebook(config.CODEBOOK_PATH)
    checked = 0
    for t in corpus.problems["text"]:
        occ = real.occurrences(t)
        for a, b in ((0, len(t) // 3), (len(t) // 4, len(t) // 2), (len(t) // 2, len(t)), (7, 7)):
            assert real.score_terms(terms_within(occ, a, b)) == real.score(t[a:b])
            checked += bool(terms_within(occ, a, b))
    assert checked > len(corpus.problems)  # most parts hold terms: the comparison is not of empty sets


def test_a_broken_file_names_itself_and_what_is_wrong(tmp_path):
    path = tmp_path / "codebook.yaml"
    path.write_bytes(b"version: 1\ncodes:\n  - code: \xff\xfe\n")
    with pytest.raises(ValueError, match="not UTF-8") as err:
        load_codebook(path)
    assert str(path.resolve()) in str(err.value)
    path.write_text("version: 1\ncodes:\n" + GOOD_CODE.replace('color: "#111111"', 'color: "red"'), encoding="utf-8")
    with pytest.raises(ValueError, match="bad colour 'red'") as err:
        load_codebook(path)
    assert str(path.resolve()) in str(err.value) and "code 'a'" in str(err.value)


def test_a_copy_equals_its_original(tmp_path):
    import copy

    book = load_codebook(write(tmp_path, "version: 1\ncodes:\n" + GOOD_CODE))
    assert copy.deepcopy(book) == book and hash(copy.deepcopy(book)) == hash(book)
    other = tmp_path / "other"
    other.mkdir()
    assert book != load_codebook(write(other, "version: 1\ncodes:\n" + GOOD_CODE.replace("name_zh: 甲", "name_zh: 乙")))


# --- the sector of a codebook, and codebooks of other sectors ---------------------------------------------------
OTHER = Path(__file__).parent / "data" / "other_sector"


def test_the_bundled_codebook_names_its_sector():
    from compare import config
    from compare.codebook import load_codebook

    sector = load_codebook(config.CODEBOOK_PATH).sector
    assert sector.agencies == ("民政",) and sector.other_units == "mandate_general"
    assert sector.field_codes == ("elderly_care", "social_assistance", "funeral_services", "child_welfare",
                                  "grassroots_governance")
    assert sector.covers("民政局") and sector.covers("中共惠东县民政局党组")
    assert not sector.covers("卫生健康委员会") and not sector.covers("县委")
    assert sector.covers(None) and sector.covers("")  # an unknown unit is taken to be of the sector


def test_a_bad_sector_is_one_error_naming_the_file(tmp_path):
    from compare.codebook import load_codebook

    text = (OTHER / "health_codebook.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace("other_units: general_duties", "other_units: nowhere"), encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.yaml: sector: unknown code\(s\) \['nowhere'\]"):
        load_codebook(bad)
    bad.write_text(text.replace("  agencies: [卫生健康, 卫健]\n", ""), encoding="utf-8")
    with pytest.raises(ValueError, match="sector: agencies must name at least one agency"):
        load_codebook(bad)


def test_build_with_a_codebook_of_another_sector(tmp_path):
    """build --codebook FILE codes with that codebook's codes (its rules: the shipped model knows others)."""
    import warnings

    import pandas as pd

    from compare.build import build

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the shipped model is stale for this codebook: said, then not used
        build(raw_dir=OTHER / "raw", out_dir=tmp_path / "out", jobs=1, figures=False, notebooks=False, quiet=True,
              codebook_path=OTHER / "health_codebook.yaml", cache_dir=tmp_path / "cache")
    problems = pd.read_parquet(tmp_path / "out" / "problems.parquet")
    assert list(problems["title"]) == ["乡镇卫生院药品库存管理不规范", "理论学习中心组学习流于形式",
                                       "家庭医生签约服务质量不高"]
    assert list(problems["primary_code"]) == ["medical_services", "party_work", "primary_care"]
    assert not problems["needs_review"].any()
    # the shipped hand labels are of the civil-affairs codes: no evaluation, and one line says why
    assert not (tmp_path / "out" / "tables" / "evaluation_scores.csv").exists()
    from compare.corpus import Corpus
    from compare.study import Study

    study = Study.resolve(codebook_path=OTHER / "health_codebook.yaml", cache_dir=tmp_path / "cache")
    training, why = study.evaluation(Corpus.load(tmp_path / "out", cache=study.cache))
    assert training is None and why.startswith("No evaluation: 75 row(s) of problems.csv do not fit the codebook "
                                                "health_codebook.yaml (the first: unknown code 'party_building'")


def test_codebook_draft_proposes_candidates_from_poorly_covered_problems(tokenizer):
    import pandas as pd
    import yaml

    from compare.codebook import parse_codebook
    from compare.vocab import draft_codebook

    titles = ["河道采砂监管不到位", "河道采砂执法不严", "河道采砂许可审批不规范",
              "水库安全鉴定滞后", "水库除险加固进度慢", "水库安全运行管理薄弱", "低保审核规范"]
    problems = pd.DataFrame({"problem_id": [f"r:P{i:02d}" for i in range(1, 8)], "title": titles,
                             "text": [""] * 7, "confidence": [0.3] * 6 + [0.99],
                             "needs_review": [True] * 6 + [False]})
    draft = draft_codebook(problems, tokenizer, k=2)
    assert (draft.n_poor, draft.n_problems) == (6, 7)
    assert sorted(draft.clusters["n"]) == [3, 3]
    first = draft.clusters.iloc[0]
    assert first["top_terms"][0] in ("河道", "采砂", "水库")
    skeleton = yaml.safe_load(draft.yaml())
    cb = parse_codebook(skeleton)  # the skeleton is a valid codebook
    assert cb.ids == ["candidate_1", "candidate_2"]
    assert "6 of 7 problems are poorly covered" in draft.summary()
