"""Stage: coding — hand-coded labels: the round trip researchers code in Excel, validated on the way back.

:func:`export_for_coding` writes the problems table as a coding sheet (CSV with BOM, or XLSX) with the
ids, title and full text and empty ``primary_code`` / ``secondary_codes`` / ``rationale`` columns, plus
the list of codes (a second sheet of the workbook, or ``<name>_codes.csv`` next to a CSV).
:func:`read_labels` reads a coded file back and validates it against the codebook and the problems
table: unknown codes, unknown ids, duplicate ids and malformed rows raise one :class:`LabelError` that
lists *every* offending row — nothing is dropped silently.

The label file format (``resources/labels/problems.csv``) is
``problem_id, report_id, seq, title, primary_code, secondary_codes, rationale``, plus an optional ``clear``
(yes/no: the coder found the item clear-cut); ``secondary_codes`` are joined by ``;`` (``；``, ``,``, ``，``,
``、`` and spaces are accepted when reading, as typed in Excel). A coding sheet's ``note`` column is read as
the rationale.

Several coders: each coder's labels are a file of their own, :func:`coder_labels_path` (``problems_<coder>.csv``
beside the first coder's ``problems.csv``); :func:`agreement` compares two codings (Cohen's κ overall and per
code, Krippendorff's α, the confusion table and the disagreements to adjudicate). :func:`least_sure` picks the
problems a coded corpus is least sure of, for the next hour of hand coding (``labels-export --uncertain N``).
"""

from __future__ import annotations

import os
import re
import unicodedata
import warnings
from pathlib import Path

import pandas as pd

from .cache import atomic_path

__all__ = [
    "LABEL_COLUMNS",
    "Agreement",
    "LabelError",
    "agreement",
    "coder_labels_path",
    "export_for_coding",
    "least_sure",
    "load_problem_labels",
    "read_labels",
    "split_codes",
]

#: Columns of a label file, in order.
LABEL_COLUMNS = ["problem_id", "report_id", "seq", "title", "primary_code", "secondary_codes", "rationale"]
#: Columns of a coding sheet (a label file plus the text to read).
EXPORT_COLUMNS = [
    "problem_id",
    "report_id",
    "seq",
    "title",
    "text",
    "primary_code",
    "secondary_codes",
    "rationale",
]
CODES_SHEET = "codes"
PROBLEMS_SHEET = "problems"
_SEP_RE = re.compile(r"[;；,，、\s]+")
_CLEAR = {"yes": "yes", "y": "yes", "true": "yes", "1": "yes", "是": "yes",
          "no": "no", "n": "no", "false": "no", "0": "no", "否": "no", "": ""}


class LabelError(ValueError):
    """A label file that does not validate.

    Attributes
    ----------
    path : str
        The file.
    rows : list of dict
        One entry per offending row: ``row`` (the row number as Excel shows it, header = 1),
        ``problem_id``, ``column`` and ``message``.
    """

    def __init__(self, path, rows: list[dict]):
        self.path = str(path)
        self.rows = rows
        lines = [f"{self.path}: {len(rows)} invalid label row(s):"]
        for r in rows:
            lines.append(f"  row {r['row']} ({r['problem_id'] or 'no id'}) {r['column']}: {r['message']}")
        super().__init__("\n".join(lines))


def split_codes(value) -> list[str]:
    """Split a ``secondary_codes`` cell into codes (``""``/NaN → ``[]``).

    Parameters
    ----------
    value : str, list or None

    Returns
    -------
    list of str
    """
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return []
    if isinstance(value, (list, tuple)):
        return [str(v).strip() for v in value if str(v).strip()]
    return [v for v in _SEP_RE.split(str(value).strip()) if v]


def _title_key(title) -> str:
    """A title compared across punctuation widths and spacing (labels keep the raw widths)."""
    return re.sub(r"[\s。.]+", "", unicodedata.normalize("NFKC", str(title)))


def _codes_frame(codebook) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "code": c.code,
                "name_zh": c.name_zh,
                "name_en": c.name_en,
                "definition": c.definition,
                "include": "\n".join(c.include),
                "exclude": "\n".join(c.exclude),
            }
            for c in codebook
        ]
    )


def export_for_coding(
    problems: pd.DataFrame, path: str | os.PathLike, codebook, labels: pd.DataFrame | None = None,
    blind: bool = False,
) -> list[Path]:
    """Write the problems table as a sheet for hand coding.

    Parameters
    ----------
    problems : pandas.DataFrame
        The problems table (``problem_id``, ``report_id``, ``seq``, ``title``, ``text``).
    path : path-like
        ``.xlsx`` (a ``problems`` sheet and a ``codes`` sheet) or ``.csv`` (UTF-8 with BOM, so Excel opens
        it; the codes go to ``<stem>_codes.csv`` next to it).
    codebook : compare.codebook.Codebook
        The codes listed beside the sheet (e.g. ``load_codebook(config.CODEBOOK_PATH)``).
    labels : pandas.DataFrame, optional
        Existing labels (:func:`read_labels`) to pre-fill the code columns with; empty otherwise.
    blind : bool
        A sheet for an independent coder: no codes of anyone (``labels`` must be None), only the ids, title and
        text, and an empty ``clear`` column (yes/no) beside the code columns.

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    path = Path(path)
    if blind and labels is not None:
        raise ValueError("a blind coding sheet cannot be pre-filled with another coder's labels")
    df = _coding_sheet(problems, labels)
    if blind:
        df.insert(df.columns.get_loc("rationale"), "clear", "")
    codes = _codes_frame(codebook)
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        with atomic_path(path) as tmp, pd.ExcelWriter(tmp, engine="openpyxl") as xw:
            df.to_excel(xw, sheet_name=PROBLEMS_SHEET, index=False)
            codes.to_excel(xw, sheet_name=CODES_SHEET, index=False)
            ws = xw.sheets[PROBLEMS_SHEET]
            for col, width in zip("ABCDEFGH", (28, 20, 6, 40, 80, 18, 30, 40), strict=True):
                ws.column_dimensions[col].width = width
            ws.freeze_panes = "B2"
        return [path]
    if suffix == ".csv":
        codes_path = path.with_name(f"{path.stem}_codes.csv")
        for frame, target in ((df, path), (codes, codes_path)):
            with atomic_path(target) as tmp:
                frame.to_csv(tmp, index=False, encoding="utf-8-sig")
        return [path, codes_path]
    raise ValueError(f"{path}: export to .csv or .xlsx, not {path.suffix!r}")


def _coding_sheet(problems: pd.DataFrame, labels: pd.DataFrame | None) -> pd.DataFrame:
    """The problems as rows to code: ids, title, text and the code columns (pre-filled from ``labels``)."""
    df = problems[["problem_id", "report_id", "seq", "title", "text"]].copy()
    df["primary_code"] = ""
    df["secondary_codes"] = ""
    df["rationale"] = ""
    if labels is not None and len(labels):
        lab = labels.set_index("problem_id")
        for col in ("primary_code", "secondary_codes", "rationale"):
            if col in lab:
                df[col] = df["problem_id"].map(lab[col]).fillna("").astype(str)
    return df[EXPORT_COLUMNS]


def _read_table(path: Path) -> pd.DataFrame:
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        with pd.ExcelFile(path, engine="openpyxl") as xl:
            sheet = PROBLEMS_SHEET if PROBLEMS_SHEET in xl.sheet_names else xl.sheet_names[0]
            return pd.read_excel(xl, sheet_name=sheet, dtype=str, keep_default_na=False)
    if suffix == ".csv":
        # Excel on a Chinese Windows saves "CSV" as GB18030; UTF-8 (with or without BOM) first
        for enc in ("utf-8-sig", "gb18030"):
            try:
                return pd.read_csv(path, dtype=str, keep_default_na=False, encoding=enc)
            except UnicodeDecodeError:
                continue
        raise LabelError(
            path, [{"row": 1, "problem_id": None, "column": "-", "message": "neither UTF-8 nor GB18030 text"}]
        )
    raise ValueError(f"{path}: read labels from .csv or .xlsx, not {path.suffix!r}")


def _label_rows(path: Path) -> pd.DataFrame:
    """The label columns of a label file, stripped strings, without the empty rows Excel leaves behind."""
    raw = _read_table(path)
    raw.columns = [str(c).strip() for c in raw.columns]
    if "note" in raw.columns and "rationale" not in raw.columns:
        raw = raw.rename(columns={"note": "rationale"})
    missing = [c for c in ("problem_id", "primary_code") if c not in raw.columns]
    if missing:
        message = (f"missing column(s); expected at least problem_id, primary_code "
                   f"(found {', '.join(raw.columns)})")
        raise LabelError(path, [{"row": 1, "problem_id": None, "column": ", ".join(missing), "message": message}])
    for col in LABEL_COLUMNS:
        if col not in raw.columns:
            raw[col] = ""
    cols = LABEL_COLUMNS + (["clear"] if "clear" in raw.columns else [])
    df = raw[cols].copy()
    for col in cols:
        df[col] = df[col].astype(str).str.strip()
    return df[(df[LABEL_COLUMNS] != "").any(axis=1)]


def _row_errors(r, rownum: int, seen: dict, known_ids, codebook, allow_uncoded: bool) -> list[tuple[str, str]]:
    """``(column, message)`` of everything wrong with one label row (``seen``: ids met so far, updated)."""
    errs = []
    pid = r["problem_id"] or None
    if pid is None:
        errs.append(("problem_id", "empty id"))
    elif pid in seen:
        errs.append(("problem_id", f"duplicate id (first on row {seen[pid]})"))
    else:
        seen[pid] = rownum
    if pid is not None and known_ids is not None and pid not in known_ids.index:
        errs.append(("problem_id", "unknown id (not in the problems table)"))
    primary = r["primary_code"]
    if not primary:
        if not allow_uncoded:
            errs.append(("primary_code", "no primary code"))
    elif primary not in codebook:
        errs.append(("primary_code", f"unknown code {primary!r} (codes: {', '.join(codebook.ids)})"))
    sec = split_codes(r["secondary_codes"])
    bad = [c for c in sec if c not in codebook]
    if bad:
        errs.append(("secondary_codes", f"unknown code(s) {', '.join(map(repr, bad))}"))
    if primary and primary in sec:
        errs.append(("secondary_codes", f"repeats the primary code {primary!r}"))
    if "clear" in r and str(r["clear"]).lower() not in _CLEAR:
        errs.append(("clear", f"expected yes or no, got {r['clear']!r}"))
    return errs


def _validate(path: Path, df: pd.DataFrame, known_ids, codebook, allow_uncoded: bool) -> list[str]:
    """The normalised ``secondary_codes`` of every row; one :class:`LabelError` listing every bad row."""
    order = {c: i for i, c in enumerate(codebook.ids)}
    errors: list[dict] = []
    seen: dict[str, int] = {}
    secondaries = []
    for idx, r in df.iterrows():
        rownum = int(idx) + 2  # header is row 1
        for column, message in _row_errors(r, rownum, seen, known_ids, codebook, allow_uncoded):
            errors.append({"row": rownum, "problem_id": r["problem_id"] or None, "column": column,
                           "message": message})
        sec = sorted(dict.fromkeys(c for c in split_codes(r["secondary_codes"]) if c in codebook), key=order.get)
        secondaries.append(";".join(sec))
    if errors:
        raise LabelError(path, errors)
    return secondaries


def _fill_from_problems(path: Path, df: pd.DataFrame, known_ids: pd.DataFrame) -> None:
    """Fill ``report_id``/``seq``/``title`` from the problems table; warn when a title no longer matches."""
    stale = []
    for i, r in df.iterrows():
        ref = known_ids.loc[r["problem_id"]]
        if r["title"] and "title" in ref and _title_key(ref["title"]) != _title_key(r["title"]):
            stale.append(r["problem_id"])
        df.at[i, "report_id"] = ref["report_id"]
        df.at[i, "seq"] = str(ref["seq"])
        if not r["title"] and "title" in ref:
            df.at[i, "title"] = ref["title"]
    if stale:
        warnings.warn(
            f"{path}: title differs from the problems table for {', '.join(stale)} "
            "(labels coded on an older parse?)",
            stacklevel=3,
        )


def read_labels(
    path: str | os.PathLike, problems: pd.DataFrame | bool, codebook, allow_uncoded: bool = True
) -> pd.DataFrame:
    """Read a hand-coded label file (CSV or XLSX) and validate it.

    Parameters
    ----------
    path : path-like
        A label file or a coding sheet from :func:`export_for_coding`, filled in.
    problems : pandas.DataFrame or False
        The problems table the ids must belong to (e.g. ``corpus.problems``); ``False`` skips the id check.
    codebook : compare.codebook.Codebook
        The codes the labels must use (e.g. ``load_codebook(config.CODEBOOK_PATH)``).
    allow_uncoded : bool
        Accept rows with an empty ``primary_code`` (not coded yet; they are returned with an empty code).
        With ``False`` they are errors.

    Returns
    -------
    pandas.DataFrame
        ``LABEL_COLUMNS`` in file order; ``secondary_codes`` normalised to ``;``-joined codes in codebook
        order, ``seq`` as int when known.

    Raises
    ------
    LabelError
        Listing every row with an unknown code, a secondary code repeating the primary one, an empty id,
        an id not in ``problems``, a duplicate id or (``allow_uncoded=False``) no primary code.
    """
    path = Path(path)
    if problems is None or problems is True:
        raise ValueError("read_labels needs the problems table to check the ids against (or problems=False)")
    df = _label_rows(path)
    known_ids = problems.set_index("problem_id") if problems is not False else None
    df["secondary_codes"] = _validate(path, df, known_ids, codebook, allow_uncoded)
    if known_ids is not None and len(df):
        _fill_from_problems(path, df, known_ids)
    seq = pd.to_numeric(df["seq"].replace("", None), errors="coerce")
    df["seq"] = seq.astype("Int64")
    if "clear" in df:
        df["clear"] = df["clear"].str.lower().map(_CLEAR)
    return df.reset_index(drop=True)


def load_problem_labels(path: str | os.PathLike, problems: pd.DataFrame | bool, codebook) -> pd.DataFrame:
    """Read a label file (e.g. ``config.PROBLEM_LABELS_PATH``) with :func:`read_labels`; coded rows only.

    Parameters
    ----------
    path : path-like
    problems : pandas.DataFrame or False
        See :func:`read_labels`.
    codebook : compare.codebook.Codebook

    Returns
    -------
    pandas.DataFrame
        Rows with a primary code.
    """
    df = read_labels(path, problems=problems, codebook=codebook)
    return df[df["primary_code"] != ""].reset_index(drop=True)


# -- several coders ---------------------------------------------------------------------------------------------
def coder_labels_path(labels_path: str | os.PathLike, coder: str) -> Path:
    """Where coder ``coder`` keeps their labels: ``problems_<coder>.csv`` beside ``labels_path``.

    Raises
    ------
    ValueError
        For a coder name that is not a plain word (letters, digits, ``_``, ``-``).
    """
    if not re.fullmatch(r"[A-Za-z0-9_\-]+", coder or ""):
        raise ValueError(f"coder name {coder!r}: use letters, digits, '_' or '-' (it becomes a file name)")
    p = Path(labels_path)
    return p.with_name(f"{p.stem}_{coder}{p.suffix}")


def least_sure(coded: pd.DataFrame, n: int) -> pd.DataFrame:
    """The ``n`` problems of a coded problems table whose primary code is least sure (lowest ``confidence``;
    ties by ``problem_id``), for a coder to label next."""
    if n < 1:
        raise ValueError(f"--uncertain needs a positive number of problems, got {n}")
    if "confidence" not in coded:
        raise ValueError("the problems are not coded (no confidence column)")
    return coded.sort_values(["confidence", "problem_id"], kind="stable").head(n)


class Agreement(dict):
    """The tables of :func:`agreement` (a dict: ``summary``, ``per_code``, ``confusion``, ``disagreements``)."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def _paired(first: pd.DataFrame, second: pd.DataFrame) -> pd.DataFrame:
    """The problems both coders gave a primary code, side by side."""
    keep = ["problem_id", "title", "primary_code", "secondary_codes", "rationale", "clear"]
    a = first[[c for c in keep if c in first]].rename(columns=lambda c: c if c in ("problem_id", "title") else f"{c}_1")
    b = second[[c for c in keep if c in second and c != "title"]].rename(
        columns=lambda c: c if c == "problem_id" else f"{c}_2")
    both = a.merge(b, on="problem_id", validate="one_to_one")
    return both[(both["primary_code_1"] != "") & (both["primary_code_2"] != "")].reset_index(drop=True)


def _kappa_row(name: str, y1, y2, codes: list[str]) -> dict:
    import krippendorff
    import numpy as np
    from sklearn.metrics import cohen_kappa_score

    y1, y2 = list(y1), list(y2)
    n = len(y1)
    row = {"subset": name, "n": n, "agreement": float(np.mean([a == b for a, b in zip(y1, y2, strict=True)]))
           if n else float("nan")}
    if n < 2 or len(set(y1) | set(y2)) < 2:
        return {**row, "cohen_kappa": float("nan"), "krippendorff_alpha": float("nan")}
    idx = {c: i for i, c in enumerate(codes)}
    data = np.array([[idx[v] for v in y1], [idx[v] for v in y2]], dtype=float)
    return {**row, "cohen_kappa": float(cohen_kappa_score(y1, y2, labels=codes)),
            "krippendorff_alpha": float(krippendorff.alpha(reliability_data=data, level_of_measurement="nominal"))}


def agreement(first: pd.DataFrame, second: pd.DataFrame, codebook, names=("first", "second")) -> Agreement:
    """Agreement of two codings of the same problems (primary codes).

    Parameters
    ----------
    first, second : pandas.DataFrame
        Label tables (:func:`read_labels`): ``problem_id``, ``primary_code`` (and ``title``, ``clear``,
        ``rationale`` when known). Only problems both coded are compared.
    codebook : compare.codebook.Codebook
        The codes, in order (rows and columns of the confusion table).
    names : tuple of str
        The two coders' names, used in the column names of ``confusion`` and ``disagreements``.

    Returns
    -------
    Agreement
        ``summary``: one row per subset (``all``; ``clear (…)`` — the items marked clear by every coder
        whose file has a ``clear`` column) with ``n``, ``agreement`` (share identical), ``cohen_kappa`` (sklearn
        ``cohen_kappa_score``) and ``krippendorff_alpha`` (nominal, the ``krippendorff`` package);
        ``per_code``: per code, how often each coder used it and Cohen's κ of "this code or not";
        ``confusion``: first coder (rows) × second coder (columns), every code;
        ``disagreements``: the problems coded differently, to adjudicate.
    """
    from sklearn.metrics import cohen_kappa_score

    codes = list(codebook.ids)
    both = _paired(first, second)
    y1, y2 = both["primary_code_1"], both["primary_code_2"]
    rows = [_kappa_row("all", y1, y2, codes)]
    said = [c for c in ("clear_1", "clear_2") if c in both]
    if said:  # the items every coder who says marked clear
        clear = (both[said] == "yes").all(axis=1)
        who = "both coders" if len(said) == 2 else names[0] if said == ["clear_1"] else names[1]
        rows.append(_kappa_row(f"clear ({who})", y1[clear], y2[clear], codes))
    per = []
    for c in codes:
        a, b = (y1 == c).to_numpy(), (y2 == c).to_numpy()
        k = cohen_kappa_score(a, b) if (a.any() or b.any()) and not (a.all() and b.all()) else float("nan")
        per.append({"code": c, f"n_{names[0]}": int(a.sum()), f"n_{names[1]}": int(b.sum()),
                    "n_both": int((a & b).sum()), "cohen_kappa": float(k)})
    confusion = pd.crosstab(pd.Categorical(y1, categories=codes), pd.Categorical(y2, categories=codes),
                            rownames=[names[0]], colnames=[names[1]], dropna=False)
    dis = both[y1 != y2].rename(columns=lambda c: c.replace("_1", f"_{names[0]}").replace("_2", f"_{names[1]}"))
    return Agreement(summary=pd.DataFrame(rows), per_code=pd.DataFrame(per), confusion=confusion,
                     disagreements=dis.reset_index(drop=True))
