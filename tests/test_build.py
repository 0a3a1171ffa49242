"""compare.build: the main job on the bundled reports (tables and analysis; figures are tested in test_plots)."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys

import pandas as pd
import pytest
from PIL import Image

from compare import config
from compare.build import BuildError, build


def test_build_writes_tables_and_summary(tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(config.RAW_DIR, raw)
    (raw / "garbage.txt").write_bytes(b"\x00\x01\x02" * 100)
    out = tmp_path / "processed"
    summary = build(raw_dir=raw, out_dir=out, jobs=1, figures=False, notebooks=False, quiet=True, progress=False)
    assert {k: summary[k] for k in ("reports", "problems", "measures", "errors")} == {
        "reports": 3, "problems": 75, "measures": 259, "errors": 1}
    assert list(summary["seconds"]) == ["model", "load", "classify", "evaluation", "cluster+analysis", "tables"]
    assert json.loads((out / "build_summary.json").read_text(encoding="utf-8"))["problems"] == 75
    problems = pd.read_parquet(out / "problems.parquet")
    assert problems.primary_code.notna().all() and len(problems) == 75
    errors = pd.read_csv(out / "errors.csv", encoding="utf-8-sig")
    assert errors.error.tolist() == ["binary"] and "garbage.txt" in errors.message.iloc[0]
    tc = pd.read_csv(out / "tables" / "type_counts.csv", encoding="utf-8-sig")
    assert tc.groupby("region").n.sum().to_dict() == {"惠东县（惠州市）": 10, "海珠区（广州市）": 26, "许昌市": 39}
    assert (out / "tables" / "recycled_text.xlsx").exists()
    # the classifier's leave-one-region-out evaluation against the 75 hand labels, for notebook 02 and the reader
    scores = pd.read_csv(out / "tables" / "evaluation_scores.csv", encoding="utf-8-sig")
    blend = scores[scores.method == "blend"].set_index("region")
    assert blend.n.to_dict() == {"海珠区": 26, "惠东县": 10, "许昌市": 39, "overall": 75}
    confusion = pd.read_csv(out / "tables" / "evaluation_confusion.csv", encoding="utf-8-sig")
    right = confusion[confusion.true == confusion.predicted].problems.sum()
    assert confusion.problems.sum() == 75 and blend.loc["overall", "accuracy"] == pytest.approx(right / 75)
    assert len(pd.read_csv(out / "tables" / "evaluation_predictions.csv", encoding="utf-8-sig")) == 75


def test_cli_build_help_lists_the_options():
    out = subprocess.run([sys.executable, "-m", "compare", "build", "--help"], capture_output=True, text=True,
                         check=True).stdout
    for opt in ("--raw", "--out", "--jobs", "--engine", "--scheduler", "--by", "--weight"):
        assert opt in out


@pytest.fixture(scope="module")
def province_build(tmp_path_factory):
    """The bundled reports built by province, the shares the mean of the reports' shares."""
    out = tmp_path_factory.mktemp("province") / "out"
    build(raw_dir=config.RAW_DIR, out_dir=out, jobs=1, figures=False, notebooks=False, quiet=True, progress=False,
          by="province", weighting="mean")
    return out


def test_build_by_province_states_the_unit_and_the_weighting(province_build):
    out = province_build
    meta = json.loads((out / "tables" / "analyses.json").read_text(encoding="utf-8"))
    assert (meta["unit"], meta["weighting"]) == ("province", "mean") and "type_counts" in meta["tables"]
    summary = json.loads((out / "build_summary.json").read_text(encoding="utf-8"))
    assert (summary["by"], summary["weighting"]) == ("province", "mean")
    tc = pd.read_parquet(out / "tables" / "type_counts.parquet")
    units = tc.drop_duplicates("region").set_index("region")
    # 广东省 = 惠东县 (10 problems) + 海珠区 (26); 河南省 = 许昌市 (39)
    assert units.n_region.to_dict() == {"广东省": 36, "河南省": 39}
    assert units.n_reports.to_dict() == {"广东省": 2, "河南省": 1}
    assert set(tc.weighting) == {"mean"}
    # party_building: 惠东县 3 of 10, 海珠区 6 of 26 (the report-level table of the default build, below):
    # the mean of the two shares (0.3 + 0.2308) / 2, where pooled would be 9 / 36
    row = tc[(tc.region == "广东省") & (tc.code == "party_building")].iloc[0]
    assert row.n == 9 and row.share_of_region == pytest.approx((3 / 10 + 6 / 26) / 2)
    assert row.share_low == pytest.approx(0.1375, abs=1e-4)  # the Wilson interval is of the pooled 9 of 36


def test_build_by_report_counts_behind_the_province():
    from compare.study import default_study

    study = default_study()
    corpus = study.code(study.load(config.RAW_DIR))
    tc = study.analyses(corpus, unit="report")["type_counts"]
    pb = tc[tc.code == "party_building"].set_index("region")
    assert pb.n.to_dict() == {"海珠区（广州市）": 6, "惠东县（惠州市）": 3, "许昌市": 8}
    assert tc.attrs == {"unit": "report", "weighting": "pooled"}


def test_build_refuses_an_unknown_unit(tmp_path):
    with pytest.raises(BuildError, match="--by bureau: not a unit"):
        build(raw_dir=config.RAW_DIR, out_dir=tmp_path, jobs=1, figures=False, notebooks=False, quiet=True,
              progress=False, by="bureau")


def test_cli_compare_prints_types_terms_and_measures(province_build, capsys):
    from compare.cli import main

    out = province_build
    assert main(["compare", "海珠区", "许昌市", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert text.startswith("海珠区（广州市）  vs  许昌市  (unit: place; problems 26 vs 39, pooled)")
    # 党的建设 6 of 26 against 8 of 39; expected 26·14/65 = 5.6 ≥ 5 everywhere: χ²
    assert "6/26 23% [11%–42%]" in text and "8/39 21% [11%–36%]" in text
    assert "terms positive (G²): " in text and "terms negative (G²): " in text
    assert main(["compare", "许昌市", "--vs-rest", "--out", str(out), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["b"] == ["海珠区（广州市）", "惠东县（惠州市）"]
    row = next(r for r in doc["types"] if r["code"] == "party_building")
    assert (row["n_a"], row["total_a"], row["n_b"], row["total_b"]) == (8, 39, 9, 36)
    assert main(["compare", "许昌市", "--out", str(out)]) == 2  # neither B nor --vs-rest
    assert main(["compare", "鼓楼区", "--vs-rest", "--out", str(out)]) == 2
    assert "no unit '鼓楼区'" in capsys.readouterr().err


def test_a_comparison_shows_in_a_notebook_as_an_html_table(province_build):
    """Notebook 03 shows a comparison as HTML: a proportional font cannot line up the terminal's columns, and
    the terminal summary cuts labels to 24 columns (仅表态（加强、提高、学 …)."""
    from compare.study import Folders, Study

    study = Study.resolve()
    corpus, results = study.open_build(Folders(config.RAW_DIR, province_build, province_build / "x"))
    pair = study.compare(corpus, "许昌市", "海珠区", unit="place", results=results)
    table = pair.table()
    assert list(table.columns) == ["of", "label", "a", "b", "test", "p", "residual", "small"]
    assert (table["of"] == "problems").sum() == 9 and (table["of"] == "measures").sum() == 7
    party = table.set_index("label").loc["党的建设"]
    assert (party.a, party.b, party.test, party.small) == ("8/39 21% [11%–36%]", "6/26 23% [11%–42%]", "chi2", False)
    html = pair._repr_html_()
    assert html.startswith("<p>许昌市  vs  海珠区（广州市）  (unit: place; problems 39 vs 26, pooled)</p>")
    assert "<table" in html and "仅表态（加强、提高、学习等）" in html and "8/39 21% [11%–36%]" in html
    assert "terms positive (G²): " in html and "&lt; 5" in html
    assert "仅表态（加强、提高、学习等）" not in pair.summary()  # the terminal's column of 24 cuts it


def test_the_notebooks_read_the_analyses_the_build_wrote(province_build):
    from compare.study import Folders, built_clusters, default_study, read_analyses
    from compare.training import LoroResult

    tables = read_analyses(province_build / "tables")
    assert tables["type_counts"].attrs == {"unit": "province", "weighting": "mean"}
    units = tables["type_counts"].drop_duplicates("region").set_index("region")
    assert units.year.to_dict() == {"广东省": "2023–2024", "河南省": "2024"}  # a range beside a year: as text
    assert pd.api.types.is_datetime64_any_dtype(tables["timeline"]["feedback_date"])
    said = []
    corpus, results = default_study().open_build(Folders(config.RAW_DIR, province_build, province_build / "x"),
                                                  note=said.append)
    assert said == [] and set(results) == set(tables) and len(corpus.problems) == 75
    assert corpus.problems.primary_code.notna().all()  # the coded corpus, as Corpus.load reads it
    clusters = built_clusters(results)  # notebook 02 shows the build's clusters, scored against the hand labels
    assert len(clusters.assignments) == 75 and set(clusters.k) == {"kmeans", "agglomerative"}
    assert clusters.metrics_table().columns.tolist() == ["homogeneity", "completeness", "v_measure",
                                                         "adjusted_rand", "silhouette"]
    assert clusters.crosstab().to_numpy().sum() == 75 and len(clusters.terms("kmeans", 3))
    loro = LoroResult.from_tables(results)  # and the build's evaluation, as evaluate_loro gives it
    assert loro.confusion.index.name == "true" and loro.confusion.to_numpy().sum() == 75
    assert loro.confusion.index.tolist() == loro.confusion.columns.tolist() == default_study().codebook.ids
    from compare import study as study_module

    drawn = []
    draw = study_module.draw_figure
    with pytest.MonkeyPatch.context() as mp:  # only the figures asked for are drawn, not those sharing a table
        mp.setattr(study_module, "draw_figure", lambda res, name, *a, **k: drawn.append(name) or draw(res, name, *a, **k))
        figs = default_study().figures(results, "en", only=["05_measure_types", "02_bars_type_by_region"])
    assert list(figs) == drawn == ["02_bars_type_by_region", "05_measure_types"]
    with pytest.raises(ValueError, match="no figure named 02_bars; the figures are 01_heatmap_region_type"):
        default_study().figures(results, "en", only=["02_bars"])
    # the build's pages where they are, in page order (p10 after p2), at a third of their pixels wide
    built = province_build / "built-figures"
    built.mkdir(exist_ok=True)
    for page, width in ((1, 2400), (2, 1800), (10, 1200)):
        Image.new("RGB", (width, 900), "white").save(built / f"07_timeline_p{page}_en.png")
    drawn.clear()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(study_module, "draw_figure", lambda res, name, *a, **k: drawn.append(name) or draw(res, name, *a, **k))
        figs = default_study().figures(results, "en", only=["07_timeline", "05_measure_types"], built=built)
    assert drawn == ["05_measure_types"] and list(figs) == ["05_measure_types", "07_timeline"]
    assert [p.name for p in figs["07_timeline"].paths] == ["07_timeline_p1_en.png", "07_timeline_p2_en.png",
                                                            "07_timeline_p10_en.png"]
    assert [(i.width, Image.open(io.BytesIO(i.data)).size) for i in figs["07_timeline"].images()] == [
        (800, (1200, 450)), (600, (900, 450)), (400, (600, 450))]
    missing = []
    # where no build is, open_build computes instead and says so in one line
    corpus, results = default_study().open_build(Folders(config.RAW_DIR, province_build / "none", province_build),
                                                 note=missing.append, analyses=False)
    assert results == {} and len(missing) == 1 and missing[0].startswith("No build in ")


def test_compare_reads_the_builds_concreteness_flags_when_made_by_the_same_unit(province_build, monkeypatch):
    from compare import analysis
    from compare.study import Folders, default_study

    study = default_study()
    corpus, results = study.open_build(Folders(config.RAW_DIR, province_build, province_build / "export"))
    fresh = study.compare(corpus, "广东省", "河南省", unit="province")
    monkeypatch.setattr(analysis, "concreteness", lambda *a, **k: pytest.fail("flags found again"))
    built = study.compare(corpus, "广东省", "河南省", unit="province", results=results)
    pd.testing.assert_frame_equal(built.measures, fresh.measures)
    with pytest.raises(pytest.fail.Exception):  # made by province: no use for a comparison by place
        study.compare(corpus, "海珠区", "许昌市", unit="place", results=results)
