"""compare.labels: the hand-coding round trip (export → code in Excel → read back, validated)."""

from __future__ import annotations

import pandas as pd
import pytest

from compare import config
from compare.codebook import load_codebook
from compare.labels import (
    EXPORT_COLUMNS,
    LABEL_COLUMNS,
    LabelError,
    export_for_coding,
    load_problem_labels,
    read_labels,
    split_codes,
)


@pytest.fixture(scope="module")
def problems(corpus):
    return corpus.problems


def _code(sheet: pd.DataFrame, codes: list[str]) -> pd.DataFrame:
    """Fill a coding sheet as a coder would: a primary code per row, a secondary code on every third."""
    sheet = sheet.copy()
    sheet["primary_code"] = [codes[i % len(codes)] for i in range(len(sheet))]
    sheet["secondary_codes"] = [
        "" if i % 3 else f"{codes[(i + 1) % len(codes)]}；{codes[(i + 2) % len(codes)]}"
        for i in range(len(sheet))
    ]
    sheet["rationale"] = "测试"
    return sheet


def test_csv_round_trip(problems, tmp_path):
    cb = load_codebook(config.CODEBOOK_PATH)
    path = tmp_path / "coding.csv"
    written = export_for_coding(problems, path, cb)
    assert written == [path, tmp_path / "coding_codes.csv"]
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # BOM: Excel opens it as UTF-8
    sheet = pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert list(sheet.columns) == EXPORT_COLUMNS
    assert sheet["problem_id"].tolist() == problems["problem_id"].tolist()
    assert (sheet[["primary_code", "secondary_codes", "rationale"]] == "").all().all()
    assert pd.read_csv(written[1], encoding="utf-8-sig")["code"].tolist() == cb.ids

    coded = _code(sheet, cb.ids)
    coded.to_csv(path, index=False, encoding="utf-8-sig")
    labels = read_labels(path, problems=problems, codebook=cb)
    assert list(labels.columns) == LABEL_COLUMNS
    assert labels["primary_code"].tolist() == coded["primary_code"].tolist()
    # secondary codes come back ';'-joined in codebook order, whatever separator the coder typed
    first = split_codes(coded["secondary_codes"].iloc[0])
    assert labels["secondary_codes"].iloc[0] == ";".join(sorted(first, key=cb.ids.index))
    assert labels["seq"].tolist() == problems["seq"].tolist()


def test_xlsx_round_trip_with_codes_sheet(problems, tmp_path):
    cb = load_codebook(config.CODEBOOK_PATH)
    path = tmp_path / "coding.xlsx"
    assert export_for_coding(problems, path, cb) == [path]
    with pd.ExcelFile(path) as xl:
        assert xl.sheet_names == ["problems", "codes"]
        codes = pd.read_excel(xl, sheet_name="codes")
        sheet = pd.read_excel(xl, sheet_name="problems", dtype=str, keep_default_na=False)
    assert codes["code"].tolist() == cb.ids and codes["name_zh"].notna().all()
    assert sheet["text"].tolist() == problems["text"].tolist()
    coded = _code(sheet, cb.ids)
    with pd.ExcelWriter(path) as xw:
        coded.to_excel(xw, sheet_name="problems", index=False)
        codes.to_excel(xw, sheet_name="codes", index=False)
    labels = read_labels(path, problems=problems, codebook=cb)
    assert labels["primary_code"].tolist() == coded["primary_code"].tolist()
    assert (labels["rationale"] == "测试").all()


def test_every_offending_row_is_reported(problems, codebook, tmp_path):
    ids = problems["problem_id"].tolist()
    rows = [
        {"problem_id": ids[0], "primary_code": "elderly_care", "secondary_codes": ""},
        {"problem_id": ids[1], "primary_code": "elderly_cares", "secondary_codes": ""},  # row 3: unknown code
        {"problem_id": ids[2], "primary_code": "party_building", "secondary_codes": "finance;x"},  # row 4
        {
            "problem_id": "nowhere_2024-01-01:P01",
            "primary_code": "party_building",
            "secondary_codes": "",
        },  # row 5
        {"problem_id": ids[0], "primary_code": "party_building", "secondary_codes": ""},  # row 6: duplicate
        {
            "problem_id": ids[3],
            "primary_code": "finance_assets",
            "secondary_codes": "finance_assets",
        },  # row 7
    ]
    path = tmp_path / "bad.csv"
    pd.DataFrame(rows).to_csv(path, index=False, encoding="utf-8-sig")
    with pytest.raises(LabelError) as info:
        read_labels(path, problems=problems, codebook=codebook)
    err = info.value
    assert sorted({r["row"] for r in err.rows}) == [3, 4, 5, 6, 7]
    msg = str(err)
    for needle in (
        "elderly_cares",
        "'finance'",
        "'x'",
        "nowhere_2024-01-01:P01",
        "duplicate id (first on row 2)",
        "repeats the primary code",
    ):
        assert needle in msg
    assert str(path) in msg


def test_uncoded_rows(problems, codebook, tmp_path):
    path = tmp_path / "partial.csv"
    ids = problems["problem_id"].tolist()
    pd.DataFrame({"problem_id": ids[:2], "primary_code": ["child_welfare", ""]}).to_csv(path, index=False)
    labels = read_labels(path, problems=problems, codebook=codebook)
    assert labels["primary_code"].tolist() == ["child_welfare", ""]
    assert labels["report_id"].tolist() == problems["report_id"].tolist()[:2]  # filled from the table
    with pytest.raises(LabelError, match="no primary code"):
        read_labels(path, problems=problems, codebook=codebook, allow_uncoded=False)


def test_excel_gb18030_csv_and_missing_columns(problems, codebook, tmp_path):
    path = tmp_path / "excel.csv"
    pid = problems["problem_id"].iloc[0]
    pd.DataFrame({"problem_id": [pid], "primary_code": ["party_building"], "rationale": ["第一议题"]}).to_csv(
        path, index=False, encoding="gb18030"
    )
    assert read_labels(path, problems=problems, codebook=codebook)["rationale"].tolist() == ["第一议题"]
    pd.DataFrame({"id": [pid]}).to_csv(path, index=False)
    with pytest.raises(LabelError, match="missing column"):
        read_labels(path, problems=problems, codebook=codebook)


def test_bundled_labels_validate(problems, codebook):
    labels = load_problem_labels(config.PROBLEM_LABELS_PATH, problems=problems, codebook=codebook)
    assert len(labels) == len(problems)
    assert set(labels["problem_id"]) == set(problems["problem_id"])
    assert labels["primary_code"].isin(load_codebook(config.CODEBOOK_PATH).ids).all()


def test_cli_export_import(tmp_path, capsys):
    from compare.cli import main

    sheet = tmp_path / "sheet.xlsx"
    assert main(["labels-export", str(sheet), "--prefill"]) == 0
    out = tmp_path / "labels.csv"
    assert main(["labels-import", str(sheet), "--out", str(out)]) == 0
    again = pd.read_csv(out, dtype=str, keep_default_na=False)
    bundled = pd.read_csv(config.PROBLEM_LABELS_PATH, dtype=str, keep_default_na=False)
    assert dict(zip(again["problem_id"], again["primary_code"], strict=True)) == dict(
        zip(bundled["problem_id"], bundled["primary_code"], strict=True)
    )
    assert main(["labels-import", str(sheet), "--out", str(out)]) == 1  # no silent overwrite
    assert "--force" in capsys.readouterr().err


def test_the_problems_to_validate_against_are_an_argument(problems, codebook, tmp_path):
    """No silent default: without a problems table the ids are not checked against the bundled corpus."""
    path = tmp_path / "labels.csv"
    pd.DataFrame({"problem_id": ["elsewhere_2030-01-01:P01"], "primary_code": ["party_building"]}).to_csv(
        path, index=False
    )
    with pytest.raises(ValueError, match="problems table"):
        read_labels(path, problems=None, codebook=codebook)
    assert read_labels(path, problems=False, codebook=codebook)["problem_id"].tolist() == [
        "elsewhere_2030-01-01:P01"
    ]
    with pytest.raises(LabelError, match="unknown id"):
        read_labels(path, problems=problems, codebook=codebook)


# --- a second coder ---------------------------------------------------------------------------------------------
def test_blind_sheet_has_no_codes(problems, codebook, tmp_path):
    labels = read_labels(config.PROBLEM_LABELS_PATH, problems=problems, codebook=codebook)
    with pytest.raises(ValueError, match="blind coding sheet cannot be pre-filled"):
        export_for_coding(problems, tmp_path / "b.csv", codebook, labels=labels, blind=True)
    export_for_coding(problems, tmp_path / "b.csv", codebook, blind=True)
    sheet = pd.read_csv(tmp_path / "b.csv", dtype=str, keep_default_na=False)
    assert list(sheet.columns) == ["problem_id", "report_id", "seq", "title", "text", "primary_code",
                                   "secondary_codes", "clear", "rationale"]
    assert (sheet[["primary_code", "secondary_codes", "clear", "rationale"]] == "").all().all()
    assert len(sheet) == len(problems)


def test_coder_files_are_kept_apart(tmp_path):
    from compare.labels import coder_labels_path

    assert coder_labels_path(tmp_path / "problems.csv", "second") == tmp_path / "problems_second.csv"
    with pytest.raises(ValueError, match="coder name '../x'"):
        coder_labels_path(tmp_path / "problems.csv", "../x")


def _coding(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["problem_id", "title", "primary_code", "secondary_codes", "rationale",
                                       "clear"])


def test_agreement_kappa_alpha_confusion_disagreements(codebook):
    from compare.labels import agreement

    first = _coding([("p1", "t1", "elderly_care", "", "", "yes"), ("p2", "t2", "elderly_care", "", "", "yes"),
                     ("p3", "t3", "party_building", "", "", "yes"), ("p4", "t4", "party_building", "", "", "no"),
                     ("p5", "t5", "finance_assets", "", "", "yes")])
    second = first.assign(primary_code=["elderly_care", "party_building", "party_building", "party_building",
                                        "finance_assets"], clear=["yes", "no", "yes", "yes", "yes"])
    res = agreement(first, second, codebook, names=("a", "b"))
    s = res.summary.set_index("subset")
    # p_o = 4/5, p_e = .4*.2 + .4*.6 + .2*.2 = .36 → κ = .44/.64; α = 1 - (2/10) / (62/90) = 44/62
    assert s.loc["all", "agreement"] == pytest.approx(0.8)
    assert s.loc["all", "cohen_kappa"] == pytest.approx(0.6875)
    assert s.loc["all", "krippendorff_alpha"] == pytest.approx(44 / 62)
    assert s.loc["clear (both coders)", "n"] == 3 and s.loc["clear (both coders)", "agreement"] == 1.0
    per = res.per_code.set_index("code")
    assert per.loc["party_building", "cohen_kappa"] == pytest.approx(0.32 / 0.52)  # p_o .8, p_e .48
    assert per.loc["party_building", ["n_a", "n_b", "n_both"]].tolist() == [2, 3, 2]
    assert res.confusion.loc["elderly_care", "party_building"] == 1
    assert int(res.confusion.to_numpy().sum()) == 5 and list(res.confusion.index) == codebook.ids
    assert res.disagreements[["problem_id", "primary_code_a", "primary_code_b"]].values.tolist() == [
        ["p2", "elderly_care", "party_building"]]


def test_second_coder_import_keeps_clear_and_notes(problems, codebook, tmp_path):
    pid = problems["problem_id"].iloc[0]
    f = tmp_path / "second.csv"
    pd.DataFrame({"problem_id": [pid], "primary_code": ["party_building"], "secondary_codes": [""],
                  "clear": ["Yes"], "note": ["理由"]}).to_csv(f, index=False)
    lab = read_labels(f, problems=problems, codebook=codebook)
    assert lab.loc[0, "clear"] == "yes" and lab.loc[0, "rationale"] == "理由"
    assert lab.loc[0, "title"] == problems["title"].iloc[0]  # filled in from the problems table
    pd.DataFrame({"problem_id": [pid], "primary_code": ["party_building"], "clear": ["maybe"]}).to_csv(
        f, index=False)
    with pytest.raises(LabelError, match="clear: expected yes or no"):
        read_labels(f, problems=problems, codebook=codebook)


def test_least_sure():
    from compare.labels import least_sure

    coded = pd.DataFrame({"problem_id": ["a", "b", "c", "d"], "confidence": [0.9, 0.2, 0.5, 0.2]})
    assert least_sure(coded, 3)["problem_id"].tolist() == ["b", "d", "c"]
    with pytest.raises(ValueError, match="positive number"):
        least_sure(coded, 0)


def test_cli_blind_uncertain_export_and_agreement(tmp_path, capsys):
    from compare.cli import main

    sheet = tmp_path / "next.csv"
    assert main(["labels-export", str(sheet), "--blind", "--uncertain", "5"]) == 0
    rows = pd.read_csv(sheet, dtype=str, keep_default_na=False)
    assert len(rows) == 5 and (rows["primary_code"] == "").all() and "clear" in rows
    assert main(["labels-export", str(sheet), "--blind", "--prefill"]) == 2
    capsys.readouterr()
    assert main(["agreement", "--coder", "second", "--out", str(tmp_path / "agr")]) == 0
    out = capsys.readouterr().out
    assert "0.953" in out and "3 disagreements" in out
    assert sorted(p.name for p in (tmp_path / "agr").iterdir()) == [
        "agreement_confusion.csv", "agreement_disagreements.csv", "agreement_per_code.csv",
        "agreement_summary.csv"]
