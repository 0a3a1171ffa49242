"""Comparative analyses over the Corpus tables: each function returns a tidy DataFrame.

Stage: analyses (DESIGN.md section 2); the codebooks are arguments (nothing is loaded here). Inputs are the tables of :class:`compare.tables.Corpus`
(``reports``, ``problems`` with ``primary_code`` and ``codes``, ``measures`` with ``measure_type``,
``mentions``); outputs are long ("tidy") tables that :mod:`compare.plots` draws and
:mod:`compare.export` writes. Nothing here draws.

Conventions
-----------
* The unit of comparison (DESIGN.md section 3) is the report by default, or what ``unit=`` names
  (:func:`units`: a place and year, a place, city, province, admin level, agency, year or any column of
  ``reports``). The ``region`` column of every table holds the unit's *label* — unique per unit and readable
  (``鼓楼区（南京市）``, ``鼓楼区（南京市） · 2023`` when one place reported twice) — and every unit-level
  table carries ``province, city, admin_level, year, n_reports``. Places are told apart by admin code (else
  province, city and region), never by name; a report whose unit is unknown is a unit of its own. Units
  keep the order in which they appear in ``reports`` and codes keep codebook order, so tables (and the
  figures drawn from them) are ordered the same way every time.
* A region is part of a table when it has at least one problem (a report that yielded no problems is
  an entry in the corpus's ``errors``/warnings, not a column of zeros).
* ``problems.codes`` holds the secondary codes joined by ``';'`` (a list/tuple is accepted as well);
  missing or empty primary codes count in the denominators but in no type. A code that is not in the
  codebook raises :class:`ValueError` naming the problems.
* Every count can be traced back to its rows with :func:`problems_behind`.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from .codebook import Codebook

__all__ = [
    "ACTION_TERMS",
    "CONCRETENESS_FLAGS",
    "GENERIC_UNIT_WORDS",
    "PLACE_MARKERS",
    "PLACE_SUFFIXES",
    "UNIT_BREAKS",
    "UNITS",
    "UNIT_COLUMNS",
    "UNIT_SUFFIXES",
    "VAGUE_TERMS",
    "WEIGHTINGS",
    "compare_concreteness",
    "compare_units",
    "concreteness",
    "concreteness_by_region",
    "find_units",
    "overall_test",
    "measure_type_counts",
    "problems_behind",
    "recurring_types",
    "report_years",
    "timeline",
    "type_counts",
    "units",
    "wilson_interval",
]

#: The per-measure flags of :func:`concreteness`, in display order, with Chinese and English labels.
CONCRETENESS_FLAGS: dict[str, tuple[str, str]] = {
    "cites_number": ("引用数字", "Cites a number"),
    "cites_date": ("引用日期", "Cites a date"),
    "cites_money": ("引用金额", "Cites an amount of money"),
    "cites_document": ("引用文件", "Cites a document"),
    "cites_unit": ("点名具体单位", "Names a specific unit"),
    "concrete": ("至少一项具体信息", "At least one of the above"),
    "vague_only": ("仅表态（加强、提高、学习等）", "Only promises (strengthen, study …)"),
}

#: Words that only promise effort (a measure that has nothing concrete and only these is ``vague_only``).
VAGUE_TERMS: tuple[str, ...] = (
    "加强", "强化", "提高", "提升", "学习", "重视", "深化", "增强", "进一步", "持续", "不断", "切实",
    "认真", "积极", "注重", "坚持", "推动", "推进", "深入", "巩固", "压实", "完善", "健全", "规范",
)
#: Words that report a checkable act; a measure containing one is never ``vague_only``.
ACTION_TERMS: tuple[str, ...] = (
    "已", "完成", "印发", "出台", "制定", "修订", "召开", "成立", "签订", "约谈", "谈话", "处分", "问责",
    "追回", "补发", "清退", "拆除", "销号", "配备", "调整", "建成", "办结", "建立", "形成", "更新",
)
#: Organisation suffixes that end a unit name, each guarded against common non-unit words
#: (站位, 办理, 督办, 局面, 处理, 场所, 所以, 中心组 …).
UNIT_SUFFIXES: tuple[str, ...] = (
    "委员会", "办公室", "街道", r"社区(?!养老|居家)", r"中心(?!组|工作|任务|环节)", r"局(?!面|势|部|限|长)",
    r"院(?!长|内|外|子|落)", "馆", r"站(?!位|稳|岗|在|牌|点)",
    r"(?<![督申举承主协创兴开代帮领交查包试合停经])办(?!理|法|好|事|结|实|件|学|案|成|到|得|不|公)",
    r"镇(?!压|定|静|守)", r"(?<![场住处])所(?!以|有|在|属|需|得|谓|长|辖|涉|提|反映|指)",
    r"处(?!理|置|分|罚|于|在|室|长|级)",
)
#: Suffixes that are themselves place levels: 江海街道, 多坪镇 are named by a bare proper name.
PLACE_SUFFIXES: tuple[str, ...] = ("街道", "镇")
#: Characters that mark a place in front of a unit (区社会福利院, 县殡仪馆, 江海街颐康中心).
PLACE_MARKERS = "省市区县州镇乡村街旗盟"
#: Words that do not name anything: removed before looking for a place marker or a proper name,
#: so 我局, 各街道, 乡镇, 社会福利院, 居家社区, 颐康中心, 城管局 alone are not named units.
GENERIC_UNIT_WORDS: tuple[str, ...] = (
    "相关", "有关", "下属", "所属", "基层", "上级", "属地", "责任", "业务", "主管", "职能", "相应", "个别",
    "部分", "一些", "多个", "各级", "社会", "福利", "养老", "敬老", "服务", "救助", "管理", "民政", "公安",
    "财政", "殡仪", "卫生", "综合", "颐康", "党群", "居家", "城乡", "城市", "农村", "公共", "医疗", "儿童",
    "婚姻", "登记", "事务", "事业", "机构", "单位", "学习", "理论", "工作", "指导", "活动", "便民", "派出",
    "住建", "人社", "卫健", "医保", "审计", "发改", "教育", "城管", "自然资源", "市场监管", "市场", "监管",
    "税务", "统计", "文旅", "交通", "水务", "应急管理", "生态环境", "规划", "农业农村", "司法", "信访", "残联",
    "纪检", "监察", "执法", "环监", "乡镇", "街镇", "县镇", "社区", "辖区", "片区", "分管", "驻", "全县",
    "全市", "全区", "全省", "全镇", "本县", "本市", "本区", "本镇",
    "各", "本", "该", "此", "其", "全", "我", "贵", "每", "个", "一", "二", "三", "四", "五", "六", "七", "八",
    "九", "十", "两", "几",
)
#: Determiners that make a 街道/镇 generic (各街道, 全镇, 相关街道).
_DETERMINERS = ("各", "全", "每", "所有", "相关", "有关", "本", "该", "我", "其", "此", "部分")
#: Tokens after which a unit name starts (verbs, prepositions and conjunctions that precede a unit).
UNIT_BREAKS: tuple[str, ...] = (
    "会同", "联合", "联同", "督促", "指导", "协调", "依托", "通过", "要求", "推动", "组织", "调研", "走访",
    "检查", "前往", "深入", "对接", "配合", "牵头", "委托", "联系", "完善", "加强", "建立", "推进", "开展",
    "落实", "规范", "强化", "提升", "优化", "健全", "压实", "成立", "设立", "建设", "分别", "我", "到",
    "在", "对", "向", "由", "与", "及", "经", "从", "将", "把", "为", "是", "了", "的", "等", "赴", "至",
    "参观", "现场", "待", "报送", "提请", "交由", "移交", "和", "或", "召开", "荣获", "登录", "围绕", "根据",
    "结合", "研究", "部署", "季度", "年度", "用好", "通知", "拨付", "收集", "邀请", "包含", "用于", "退回",
    "提醒", "拓宽", "盘活", "处理", "负责", "跟踪", "征求", "函请", "借力", "申报", "目前", "开放", "年",
)

_CJK = r"[\u3400-\u9fff]"
_SUFFIX = "(?:" + "|".join(UNIT_SUFFIXES) + ")"
_CJK_CHAR = re.compile(_CJK)
_SUFFIX_RE = re.compile(_SUFFIX)
_DOC_RE = re.compile(r"《[^《》]{1,100}》")
_DATE_RE = re.compile(
    r"\d{4}\s*年(?:\s*\d{1,2}\s*月(?:\s*\d{1,2}\s*日)?)?|\d{1,2}\s*月\s*\d{1,2}\s*日|\d{4}[-/.]\d{1,2}(?:[-/.]\d{1,2})?"
)
_MONEY_RE = re.compile(r"\d+(?:\.\d+)?\s*(?:亿|万|千)?元")
_NUMBER_RE = re.compile(r"\d+(?:\.\d+)?")
_GENERIC_SORTED = sorted(GENERIC_UNIT_WORDS, key=len, reverse=True)
_BREAKS_SORTED = sorted(UNIT_BREAKS, key=len, reverse=True)
_DATE_FIELDS = ("inspection_start", "inspection_end", "feedback_date", "published_date")


# --------------------------------------------------------------------------------------------- helpers
def _blank(value) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and np.isnan(value):
        return True
    try:
        if pd.isna(value) is True:
            return True
    except (TypeError, ValueError):
        pass
    return isinstance(value, str) and not value.strip()


def _split_codes(value) -> list[str]:
    """Secondary codes from ``'a;b'``, a list/tuple/set, or a blank value."""
    if _blank(value):
        return []
    if isinstance(value, str):
        parts = re.split(r"[;；,，]", value)
    elif isinstance(value, Iterable):
        parts = [str(v) for v in value if not _blank(v)]
    else:
        parts = [str(value)]
    return [p.strip() for p in parts if p.strip()]


def _check_codes_mode(codes: str) -> None:
    if codes not in ("primary", "all"):
        raise ValueError(f"codes must be 'primary' or 'all', not {codes!r}")


def _require(df: pd.DataFrame, columns: Sequence[str], table: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{table} table lacks columns {missing}")


def _regions(reports: pd.DataFrame, unit: str = "report") -> pd.DataFrame:
    """``report_id → region`` (the label of the report's unit, :func:`units`), in ``reports`` order."""
    return units(reports, unit)[["report_id", "region"]]


def _with_region(df: pd.DataFrame, reports: pd.DataFrame, table: str, unit: str = "report") -> pd.DataFrame:
    """``df`` with a ``region`` column (the unit's label); unknown report ids raise ValueError."""
    _require(df, ["report_id"], table)
    regions = _regions(reports, unit)
    unknown = sorted(set(df["report_id"].astype(str)) - set(regions["report_id"]))
    if unknown:
        raise ValueError(f"{table} rows refer to reports missing from the reports table: {unknown[:5]}")
    base = df.drop(columns=["region"], errors="ignore")
    base = base.assign(report_id=base["report_id"].astype(str))
    return base.merge(regions, on="report_id", how="left", sort=False)


def _region_order(reports: pd.DataFrame, present: Iterable[str], unit: str = "report") -> list[str]:
    present = set(present)
    return [r for r in pd.unique(_regions(reports, unit)["region"]) if r in present]


def _assignments(problems: pd.DataFrame, codes: str, codebook: Codebook) -> pd.DataFrame:
    """One row per (problem, code): the primary code, plus the secondary ones with ``codes="all"``."""
    _check_codes_mode(codes)
    _require(problems, ["problem_id", "primary_code"], "problems")
    if codes == "all":
        _require(problems, ["codes"], "problems")
    rows = []
    flagged = set(_needs_review(problems))
    for rec in problems.itertuples(index=False):
        pid = rec.problem_id
        if pid in flagged:  # counted in its unit's problems, never forced into a type
            continue
        found = [] if _blank(rec.primary_code) else [str(rec.primary_code).strip()]
        if codes == "all":
            found += _split_codes(rec.codes)
        seen: list[str] = []
        for c in found:
            if c not in seen:
                seen.append(c)
        rows.extend((pid, c) for c in seen)
    out = pd.DataFrame(rows, columns=["problem_id", "code"])
    unknown = out.loc[~out["code"].isin(codebook.ids)]
    if len(unknown):
        bad = sorted(set(unknown["code"]))
        raise ValueError(
            f"codes not in the codebook {codebook.path}: {bad} (problems {list(unknown['problem_id'][:5])})"
        )
    return out


def _needs_review(problems: pd.DataFrame) -> pd.Series:
    """The ids of the problems the coder could not code with confidence (``needs_review``; none without it)."""
    if "needs_review" not in problems.columns:
        return problems["problem_id"].iloc[:0]
    return problems.loc[problems["needs_review"].fillna(False).astype(bool), "problem_id"]


def _review_counts(problems: pd.DataFrame, regions: pd.Series) -> np.ndarray:
    """Per row of ``regions``: how many of that region's problems need review."""
    flagged = problems.loc[problems["problem_id"].isin(_needs_review(problems)), "region"].value_counts()
    return flagged.reindex(regions).fillna(0).astype("int64").to_numpy()


def _count_table(
    items: pd.DataFrame, assigned: pd.DataFrame, id_col: str, code_col: str, code_ids: Sequence[str],
    regions: Sequence[str],
) -> pd.DataFrame:
    """Complete region × code grid with n, n_region, share_of_region, n_type, share_of_type."""
    n_region = items.groupby("region", sort=False)[id_col].nunique()
    joined = assigned.merge(items[[id_col, "region"]].drop_duplicates(id_col), on=id_col, how="left")
    n = joined.groupby(["region", code_col], sort=False)[id_col].nunique()
    grid = pd.MultiIndex.from_product([list(regions), list(code_ids)], names=["region", code_col])
    out = pd.DataFrame(index=grid).reset_index()
    out["n"] = n.reindex(grid, fill_value=0).to_numpy().astype("int64")
    out["n_region"] = out["region"].map(n_region).fillna(0).astype("int64")
    n_type = out.groupby(code_col, sort=False)["n"].transform("sum").astype("int64")
    out["share_of_region"] = np.where(out["n_region"] > 0, out["n"] / out["n_region"].where(out["n_region"] > 0, 1), np.nan)
    out["n_type"] = n_type
    out["share_of_type"] = np.where(n_type > 0, out["n"] / n_type.where(n_type > 0, 1), np.nan)
    return out


def _add_names(df: pd.DataFrame, code_col: str, codebook: Codebook | None) -> pd.DataFrame:
    if codebook is None:
        return df
    pos = df.columns.get_loc(code_col) + 1
    df.insert(pos, "name_zh", df[code_col].map(lambda c: codebook.name(c, "zh") if c in codebook else c))
    df.insert(pos + 1, "name_en", df[code_col].map(lambda c: codebook.name(c, "en") if c in codebook else c))
    return df


# --------------------------------------------------------------------------------------------- units
#: What a unit of comparison can be (``unit=``); any other name is a column of ``reports``.
UNITS: tuple[str, ...] = ("report", "place_year", "place", "city", "province", "admin_level", "agency", "year")
#: The weightings of a unit's shares: its problems pooled, or the mean of its reports' shares.
WEIGHTINGS: tuple[str, ...] = ("pooled", "mean")
#: The columns that describe a unit in every unit-level table (after ``region``, the unit's label).
UNIT_COLUMNS: tuple[str, ...] = ("province", "city", "admin_level", "year", "n_reports")
_YEAR_SOURCES = ("year", "inspection_start", "feedback_date", "inspection_end", "published_date")


def _text(value) -> str | None:
    if isinstance(value, (float, np.floating)) and not np.isnan(value) and float(value).is_integer():
        return str(int(value))  # a year that pandas made a float
    return None if _blank(value) else str(value).strip()


def _year_value(value):
    """A unit's year: an int, a range such as ``'2023–2024'``, or None."""
    if _blank(value):
        return None
    if isinstance(value, (int, np.integer, float, np.floating)) and float(value).is_integer():
        return int(value)
    return value


def report_years(reports: pd.DataFrame) -> pd.Series:
    """The year of every report: ``reports.year`` if given, else the year of its inspection (or the next date).

    Parameters
    ----------
    reports : pandas.DataFrame
        ``report_id`` and any of ``year``, ``inspection_start``, ``feedback_date``, ``inspection_end``,
        ``published_date`` (ISO strings).

    Returns
    -------
    pandas.Series
        Nullable integers (``Int64``) aligned with ``reports``.
    """
    years = pd.Series(pd.NA, index=reports.index, dtype="Int64")
    for col in _YEAR_SOURCES:
        if col not in reports.columns:
            continue
        found = pd.to_numeric(reports[col].astype("string").str.extract(r"^\s*(\d{4})", expand=False),
                              errors="coerce").astype("Int64")
        years = years.fillna(found)
    return years


def _place_label(rec: dict) -> str | None:
    """``region_label``, else the region with its city when they differ (鼓楼区（南京市）)."""
    label = _text(rec.get("region_label"))
    if label:
        return label
    region, city = _text(rec.get("region")), _text(rec.get("city"))
    if region and city and city != region and region.endswith(("区", "县", "旗")):
        return f"{region}（{city}）"
    return region


def _place_key(rec: dict) -> tuple | None:
    """A place: its admin code, else (province, city, region); None when the report names no region."""
    label = _place_label(rec)
    if not label:
        return None
    code = _text(rec.get("adcode"))
    return ("adcode", code) if code else ("place", _text(rec.get("province")), _text(rec.get("city")), label)


def _unit_key(rec: dict, unit: str) -> tuple[tuple | None, str | None]:
    """The key and base label of one report's unit (key None: the report is a unit of its own)."""
    year = rec["year"]
    if unit == "report":
        return None, _place_label(rec)
    if unit in ("place", "place_year"):
        key = _place_key(rec)
        if key is None or (unit == "place_year" and pd.isna(year)):
            return None, _place_label(rec)
        return (key + (int(year),) if unit == "place_year" else key), _place_label(rec)
    if unit == "city":
        city = _text(rec.get("city"))
        return (None, None) if not city else (("city", _text(rec.get("province")), city), city)
    if unit == "year":
        return (None, None) if pd.isna(year) else (("year", int(year)), str(int(year)))
    value = _text(rec.get(unit))
    return (None, None) if value is None else ((unit, value), value)


def _disambiguate(frame: pd.DataFrame) -> list[str]:
    """Unique labels: a base label shared by several units gets the year, then the agency, then a report id."""
    labels = frame["_base"].astype(str).tolist()
    for extra in ("year", "agency", "report_id"):
        dup = pd.Series(labels).duplicated(keep=False).to_numpy()
        if not dup.any():
            break
        for i in np.flatnonzero(dup):
            value = _text(frame[extra].iat[i]) if extra in frame.columns else None
            if value and value not in labels[i]:
                labels[i] = f"{labels[i]} · {value}"
    return labels


def _summary(values: pd.Series):
    """One value when a unit's reports agree, else the distinct values joined (years as a range)."""
    found = [v for v in pd.unique(values) if not _blank(v)]
    if len(found) <= 1:
        return found[0] if found else None
    if all(isinstance(v, (int, np.integer)) for v in found):
        return f"{min(found)}–{max(found)}"
    return "、".join(str(v) for v in found)


def _unit_values(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Per ``_key`` (in order of first appearance): :func:`_summary` of each column, and ``n_reports``.

    A unit of one report keeps that report's values (a blank one as None); only the units of several reports
    go through the per-group aggregation, which costs a Python call per unit and column."""
    size = frame.groupby("_key", sort=False).size()
    many = frame["_key"].map(size).to_numpy() > 1
    single = frame.loc[~many, ["_key", *columns]].set_index("_key")
    single = single.where(~single.map(_blank), None)
    pooled = frame.loc[many].groupby("_key", sort=False).agg({c: _summary for c in columns})
    out = pd.concat([single, pooled]).reindex(size.index)
    out["n_reports"] = size.astype("int64")
    return out


def units(reports: pd.DataFrame, unit: str = "report") -> pd.DataFrame:
    """The unit of comparison of every report, with the unit's label and description.

    Parameters
    ----------
    reports : pandas.DataFrame
        ``report_id`` and the place columns (``region``, ``region_label``, ``city``, ``province``,
        ``adcode``, ``admin_level``, ``agency``) and dates where known.
    unit : str
        ``"report"`` (the default: every report is a unit), ``"place_year"`` (the reports of one place in one
        year), ``"place"`` (a place = its admin code, else province, city and region), ``"city"``,
        ``"province"``, ``"admin_level"``, ``"agency"``, ``"year"``, or any other column of ``reports``. Two
        places that share a name are never one unit; a report whose unit is unknown (no city, no region, no
        year …) is a unit of its own, labelled by its place or its ``report_id``.

    Returns
    -------
    pandas.DataFrame
        One row per report, in report order: ``report_id, region`` (the unit's label, unique per unit:
        ``region_label``, with `` · 2023``, the agency or the report id added where two units would share a
        label), ``province, city, admin_level, year, n_reports, adcode`` of the unit (a value shared by all
        its reports, else the values joined by ``'、'``; years as ``2023–2024``).
    """
    _require(reports, ["report_id"], "reports")
    if unit not in UNITS and unit not in reports.columns:
        raise ValueError(f"unit must be one of {UNITS} or a column of reports, not {unit!r}")
    r = reports.drop_duplicates("report_id").reset_index(drop=True)
    years = report_years(r)
    keys, bases = [], []
    for i, rec in enumerate(r.to_dict("records")):
        rec["year"] = years.iat[i]
        key, base = _unit_key(rec, unit)
        keys.append(key if key is not None else ("report", str(rec["report_id"])))
        bases.append(base or str(rec["report_id"]))
    frame = pd.DataFrame({"report_id": r["report_id"].astype(str), "_key": keys, "_base": bases})
    frame["year"] = pd.Series([None if pd.isna(y) else int(y) for y in years], dtype=object)
    for col in ("province", "city", "admin_level", "agency", "adcode"):
        frame[col] = r[col].map(_text) if col in r.columns else None
    first = frame.drop_duplicates("_key").reset_index(drop=True)
    described = _unit_values(frame, ["province", "city", "admin_level", "year", "agency", "adcode"])
    first = first[["_key", "_base", "report_id"]].merge(described, left_on="_key", right_index=True)
    first["region"] = _disambiguate(first)
    out = frame[["report_id", "_key"]].merge(first.drop(columns=["report_id", "_base"]), on="_key", how="left")
    out["year"] = pd.Series([_year_value(y) for y in out["year"]], dtype=object)
    if all(y is None or isinstance(y, int) for y in out["year"]):
        out["year"] = out["year"].astype("Int64")
    return out[["report_id", "region", "province", "city", "admin_level", "year", "n_reports", "adcode"]]


def _unit_info(reports: pd.DataFrame, unit: str) -> pd.DataFrame:
    """One row per unit: ``region`` and :data:`UNIT_COLUMNS`."""
    return units(reports, unit).drop_duplicates("region")[["region", *UNIT_COLUMNS]].reset_index(drop=True)


def _describe(df: pd.DataFrame, reports: pd.DataFrame, unit: str) -> pd.DataFrame:
    """``df`` with :data:`UNIT_COLUMNS` inserted after its ``region`` column."""
    info = _unit_info(reports, unit).set_index("region")
    out = df.drop(columns=[c for c in UNIT_COLUMNS if c in df.columns])
    pos = out.columns.get_loc("region") + 1
    for k, col in enumerate(UNIT_COLUMNS):
        out.insert(pos + k, col, out["region"].map(info[col]))
    out["n_reports"] = out["n_reports"].astype("Int64")
    return out


def _check_weighting(weighting: str) -> None:
    if weighting not in WEIGHTINGS:
        raise ValueError(f"weighting must be one of {WEIGHTINGS}, not {weighting!r}")


# --------------------------------------------------------------------------------------------- types
def type_counts(
    problems: pd.DataFrame, reports: pd.DataFrame, codes: str = "primary", *, codebook: Codebook,
    unit: str = "report", weighting: str = "pooled",
) -> pd.DataFrame:
    """Count problems per region and type (a complete grid, zero cells included).

    Parameters
    ----------
    problems : pandas.DataFrame
        ``report_id``, ``problem_id``, ``primary_code``, and ``codes`` (secondary codes joined by ``';'``)
        when ``codes="all"``.
    reports : pandas.DataFrame
        ``report_id``, ``region``.
    codes : {"primary", "all"}
        ``"primary"``: every problem counts once, under its primary code. ``"all"``: once under each distinct
        code it carries (primary and secondary), so a region's counts can exceed its number of problems.
    codebook : Codebook
        The problem codebook (required: e.g. ``load_codebook(config.CODEBOOK_PATH)`` at the entry point).
    unit : str
        The unit of comparison (:func:`units`): ``"report"`` (default), ``"place_year"``, ``"place"``,
        ``"city"``, ``"province"``, ``"admin_level"``, ``"agency"``, ``"year"`` or a column of ``reports``.
    weighting : {"pooled", "mean"}
        ``share_of_region`` of a unit of several reports: its problems pooled (``n / n_region``, a large report
        weighs more), or the mean of its reports' shares (every report weighs the same). Stated in the
        ``weighting`` column.

    Returns
    -------
    pandas.DataFrame
        One row per region × code, regions (units) in report order and codes in codebook order, with columns
        ``region, province, city, admin_level, year, n_reports, code, name_zh, name_en, n, n_region,
        n_needs_review, share_of_region, share_low, share_high, n_type, share_of_type, weighting``:

        * ``region`` — the unit's label (:func:`units`), described by ``province … n_reports``;
        * ``share_low``, ``share_high`` — the 95 % Wilson interval of the pooled share ``n / n_region``
          (:func:`wilson_interval`); with few problems it is wide (1 of 4: 5 %–70 %);
        * ``n`` — problems of the region carrying the code;
        * ``n_needs_review`` — problems flagged ``needs_review``: in ``n_region``, under no type;
        * ``n_region`` — all problems of the region (uncoded ones included), so ``share_of_region = n /
          n_region`` is the share of the region's problems of this type. With ``codes="all"`` it is the
          share of the region's problems that carry the code as primary *or* secondary code, and the
          shares of a region may add up to more than 1;
        * ``n_type`` — problems carrying the code across all regions (with ``"all"``: as primary or
          secondary code), so ``share_of_type = n / n_type`` is the region's part of that type and sums
          to 1 over the regions; it is NaN for a type that no problem carries.
    """
    _check_weighting(weighting)
    p = _with_region(problems, reports, "problems", unit)
    assigned = _assignments(p, codes, codebook)
    regions = _region_order(reports, p["region"], unit)
    out = _count_table(p, assigned, "problem_id", "code", codebook.ids, regions)
    low, high = wilson_interval(out["n"], out["n_region"])
    pos = out.columns.get_loc("share_of_region") + 1
    out.insert(pos, "share_low", low)
    out.insert(pos + 1, "share_high", high)
    if weighting == "mean":
        out["share_of_region"] = _mean_shares(p, assigned, out)
    out.insert(out.columns.get_loc("n_region") + 1, "n_needs_review", _review_counts(p, out["region"]))
    out["weighting"] = weighting
    return _describe(_add_names(out, "code", codebook), reports, unit)


def _mean_shares(p: pd.DataFrame, assigned: pd.DataFrame, grid: pd.DataFrame) -> np.ndarray:
    """The mean over each unit's reports (those with problems) of the report's share of every code."""
    per_report = p[["report_id", "problem_id", "region"]].drop_duplicates("problem_id")
    n_report = per_report.groupby("report_id")["problem_id"].nunique()
    hits = assigned.merge(per_report, on="problem_id").groupby(["report_id", "code"])["problem_id"].nunique()
    reports_of = per_report.drop_duplicates("report_id")[["report_id", "region"]]
    shares = []
    for region, code in zip(grid["region"], grid.iloc[:, 1], strict=True):
        rids = reports_of.loc[reports_of["region"] == region, "report_id"]
        vals = [hits.get((rid, code), 0) / n_report[rid] for rid in rids]
        shares.append(float(np.mean(vals)) if vals else np.nan)
    return np.asarray(shares)


def wilson_interval(n, total, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """The Wilson score interval of the share ``n / total``.

    Parameters
    ----------
    n, total : array-like of int
        Successes and trials (``total = 0`` gives NaN).
    confidence : float
        E.g. 0.95.

    Returns
    -------
    (low, high) : tuple of numpy.ndarray
        E.g. ``(0.0456, 0.6994)`` for 1 of 4, ``(0.0, 0.4901)`` for 0 of 4.
    """
    from scipy.stats import norm

    n = np.asarray(n, dtype=float)
    total = np.asarray(total, dtype=float)
    z = norm.ppf(0.5 + confidence / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = n / total
        denom = 1 + z**2 / total
        centre = (share + z**2 / (2 * total)) / denom
        half = z * np.sqrt(share * (1 - share) / total + z**2 / (4 * total**2)) / denom
    low = np.where(total > 0, np.clip(centre - half, 0, 1), np.nan)
    high = np.where(total > 0, np.clip(centre + half, 0, 1), np.nan)
    return low, high


# --------------------------------------------------------------------------------------------- comparison
COMPARE_COLUMNS = ["code", "name_zh", "name_en", "n_a", "total_a", "share_a", "low_a", "high_a", "n_b", "total_b",
                   "share_b", "low_b", "high_b", "difference", "test", "statistic", "p", "p_holm", "residual",
                   "small"]


def _holm(p: np.ndarray) -> np.ndarray:
    """Holm's step-down adjustment of the p-values ``p`` (NaN left out)."""
    out = np.full(len(p), np.nan)
    ok = np.flatnonzero(~np.isnan(p))
    order = ok[np.argsort(p[ok], kind="stable")]
    running = 0.0
    for k, i in enumerate(order):
        running = max(running, min(1.0, (len(order) - k) * p[i]))
        out[i] = running
    return out


def _two_by_two(n_a: int, total_a: int, n_b: int, total_b: int) -> dict:
    """χ² (without continuity correction) or, when an expected count is under 5, Fisher's exact test of one
    type's share in a against b, with the adjusted standardized residual of a's cell (Haberman)."""
    from scipy.stats import chi2_contingency, fisher_exact

    table = np.array([[n_a, total_a - n_a], [n_b, total_b - n_b]], dtype=float)
    total = table.sum()
    rows, cols = table.sum(axis=1), table.sum(axis=0)
    if total == 0 or (rows == 0).any() or (cols == 0).any():
        return {"test": None, "statistic": np.nan, "p": np.nan, "residual": np.nan, "small": True}
    expected = np.outer(rows, cols) / total
    small = bool((expected < 5).any())
    resid = (n_a - expected[0, 0]) / np.sqrt(expected[0, 0] * (1 - rows[0] / total) * (1 - cols[0] / total))
    if small:
        stat, p = fisher_exact(table.astype(int))
        return {"test": "fisher", "statistic": float(stat), "p": float(p), "residual": float(resid), "small": True}
    stat, p, _, _ = chi2_contingency(table, correction=False)
    return {"test": "chi2", "statistic": float(stat), "p": float(p), "residual": float(resid), "small": False}


def _side(tc: pd.DataFrame, names: Sequence[str], code_ids: Sequence[str]) -> tuple[pd.Series, int]:
    """Counts per code of the units ``names`` pooled, and their number of problems."""
    sub = tc[tc["region"].isin(names)]
    counts = sub.groupby("code", sort=False)["n"].sum().reindex(code_ids, fill_value=0)
    return counts, int(sub.drop_duplicates("region")["n_region"].sum())


def compare_units(
    problems: pd.DataFrame,
    reports: pd.DataFrame,
    a: str | Sequence[str],
    b: str | Sequence[str] | None = None,
    codes: str = "primary",
    *,
    codebook: Codebook,
    unit: str = "report",
) -> pd.DataFrame:
    """Compare the share of every problem type in units ``a`` with ``b`` (or with all other units).

    Parameters
    ----------
    problems, reports, codes, codebook, unit
        As for :func:`type_counts` (the labels of ``a`` and ``b`` are its ``region`` column).
    a : str or sequence of str
        One unit, or several pooled.
    b : str or sequence of str, optional
        The units to compare with; ``None``: every unit that is not in ``a`` ("a against the rest").

    Returns
    -------
    pandas.DataFrame
        One row per code (codebook order): ``code, name_zh, name_en``, the counts, totals, pooled shares and
        95 % Wilson intervals of both sides (``n_a, total_a, share_a, low_a, high_a``, the same for ``b``),
        ``difference = share_a - share_b``, ``test`` (``"chi2"``: Pearson χ² of the 2 × 2 table type/other ×
        a/b without continuity correction; ``"fisher"``: Fisher's exact test, used when an expected count is
        under 5; None when the type or a side is empty), ``statistic`` (χ², or the odds ratio), ``p``,
        ``p_holm`` (Holm-adjusted over the codes tested), ``residual`` (adjusted standardized residual of a's
        cell: beyond ±1.96 the type is over- or under-represented in a) and ``small`` (an expected count
        under 5). ``attrs`` holds ``a``, ``b``, ``unit`` and ``overall`` (:func:`overall_test`: χ² of the whole
        type × side table).
    """
    tc = type_counts(problems, reports, codes, codebook=codebook, unit=unit)
    names_a, names_b = _sides(list(pd.unique(tc["region"])), a, b)
    ids = list(codebook.ids)
    (ca, ta), (cb_, tb) = _side(tc, names_a, ids), _side(tc, names_b, ids)
    out = _compare_rows("code", ids, ca, ta, cb_, tb)
    out = _add_names(out, "code", codebook)[COMPARE_COLUMNS]
    out.attrs.update({"a": names_a, "b": names_b, "unit": unit, "overall": overall_test(ca, ta, cb_, tb)})
    return out


def _sides(present: Sequence[str], a, b) -> tuple[list[str], list[str]]:
    """The units of both sides (``b`` None: every unit not in ``a``), checked against the units ``present``."""
    names_a = [a] if isinstance(a, str) else list(a)
    names_b = [r for r in present if r not in names_a] if b is None else ([b] if isinstance(b, str) else list(b))
    unknown = [x for x in [*names_a, *names_b] if x not in present]
    if unknown:
        raise ValueError(f"no units {unknown} among {list(present)[:10]}{' …' if len(present) > 10 else ''}")
    if set(names_a) & set(names_b) or not names_b:
        raise ValueError("a and b must be different, non-empty sets of units")
    return names_a, names_b


def _compare_rows(key: str, keys: Sequence[str], ca: pd.Series, ta: int, cb_: pd.Series, tb: int) -> pd.DataFrame:
    """One row per key: counts, totals, shares with Wilson intervals, the 2 × 2 test, Holm's p and the residual."""
    rows = []
    for k in keys:
        na, nb = int(ca[k]), int(cb_[k])
        rows.append({key: k, "n_a": na, "total_a": ta, "n_b": nb, "total_b": tb, **_two_by_two(na, ta, nb, tb)})
    out = pd.DataFrame(rows, columns=[key, "n_a", "total_a", "n_b", "total_b", "test", "statistic", "p",
                                      "residual", "small"])
    out["share_a"], out["share_b"] = out["n_a"] / max(ta, 1), out["n_b"] / max(tb, 1)
    out["low_a"], out["high_a"] = wilson_interval(out["n_a"], out["total_a"])
    out["low_b"], out["high_b"] = wilson_interval(out["n_b"], out["total_b"])
    out["difference"] = out["share_a"] - out["share_b"]
    out["p_holm"] = _holm(out["p"].to_numpy(dtype=float))
    return out


def overall_test(ca: pd.Series, ta: int, cb_: pd.Series, tb: int) -> dict:
    """Pearson's χ² of the type × side table (types present on either side; uncoded problems as a type).

    Returns ``{"chi2", "dof", "p", "small_cells"}`` — ``small_cells`` the share of cells whose expected count is
    under 5 (beyond 0.2 the χ² approximation is poor: read the per-type exact tests instead); NaN with fewer
    than two types.
    """
    from scipy.stats import chi2_contingency

    table = np.array([list(ca) + [max(0, ta - ca.sum())], list(cb_) + [max(0, tb - cb_.sum())]], dtype=float)
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2 or (table.sum(axis=1) == 0).any():
        return {"chi2": np.nan, "dof": 0, "p": np.nan, "small_cells": np.nan}
    stat, p, dof, expected = chi2_contingency(table, correction=False)
    return {"chi2": float(stat), "dof": int(dof), "p": float(p), "small_cells": float((expected < 5).mean())}


CONCRETENESS_COMPARE_COLUMNS = ["flag", "n_a", "total_a", "share_a", "low_a", "high_a", "n_b", "total_b",
                                "share_b", "low_b", "high_b", "difference", "test", "statistic", "p", "p_holm",
                                "residual", "small"]


def compare_concreteness(flags: pd.DataFrame, a: str | Sequence[str],
                         b: str | Sequence[str] | None = None) -> pd.DataFrame:
    """Compare how concrete the measures of units ``a`` are with those of ``b`` (or of all other units).

    Parameters
    ----------
    flags : pandas.DataFrame
        :func:`concreteness` output (``region`` the unit's label and the flags of every measure).
    a, b :
        As for :func:`compare_units`.

    Returns
    -------
    pandas.DataFrame
        One row per flag of :data:`CONCRETENESS_FLAGS`: the measures of each side carrying it (``n_a`` of
        ``total_a`` …), pooled shares with 95 % Wilson intervals, ``difference``, the χ² or Fisher test of the
        2 × 2 table, ``p_holm``, the adjusted standardized residual and ``small`` (as in :func:`compare_units`).
    """
    _require(flags, ["region", *CONCRETENESS_FLAGS], "concreteness")
    names_a, names_b = _sides(list(pd.unique(flags["region"])), a, b)
    side_a, side_b = flags[flags["region"].isin(names_a)], flags[flags["region"].isin(names_b)]
    keys = list(CONCRETENESS_FLAGS)
    ca = side_a[keys].astype(bool).sum().astype(int)
    cb_ = side_b[keys].astype(bool).sum().astype(int)
    out = _compare_rows("flag", keys, ca, len(side_a), cb_, len(side_b))[CONCRETENESS_COMPARE_COLUMNS]
    out.attrs.update({"a": names_a, "b": names_b})
    return out


def _report_order(reports: pd.DataFrame) -> dict[str, int]:
    """``report_id`` → its position in ``reports``."""
    return {rid: i for i, rid in enumerate(pd.unique(reports["report_id"].astype(str)))}


def _recurring_row(code: str, grp: pd.DataFrame, regions: Sequence[str]) -> dict:
    """One row of :func:`recurring_types`: the regions of a type and every region's titles in document order."""
    seen = set(grp["region"])
    present = [r for r in regions if r in seen]
    row = {
        "code": code,
        "n_regions": len(present),
        "regions": "；".join(present),
        "n_problems": int(grp["problem_id"].nunique()),
    }
    titles = {region: "；".join(str(t) for t in sub["title"] if not _blank(t))
              for region, sub in grp.sort_values(["_report", "seq"], kind="stable")
              .groupby("region", sort=False, observed=True)}
    row.update({region: titles.get(region, "") for region in regions})
    return row


def recurring_types(
    problems: pd.DataFrame,
    reports: pd.DataFrame,
    min_regions: int = 2,
    codes: str = "primary",
    *,
    codebook: Codebook,
    unit: str = "report",
) -> pd.DataFrame:
    """Types found in at least ``min_regions`` regions, with the problems behind them side by side.

    Parameters
    ----------
    problems : pandas.DataFrame
        ``report_id``, ``problem_id``, ``seq``, ``title``, ``primary_code`` (and ``codes`` with
        ``codes="all"``).
    reports : pandas.DataFrame
        ``report_id``, ``region``.
    min_regions : int
        Keep types that occur in at least this many regions.
    codes : {"primary", "all"}
        Which codes of a problem count (see :func:`type_counts`).
    codebook : Codebook
        The problem codebook (required).
    unit : str
        The unit of comparison (:func:`units`); ``regions`` are units.

    Returns
    -------
    pandas.DataFrame
        One row per type, ranked by ``n_regions`` then ``n_problems`` (descending; ties in codebook
        order): ``code, name_zh, name_en, n_regions, regions`` (joined by ``'；'`` in report order),
        ``n_problems``, then one column per region (named by the region) holding that region's problem
        titles of the type in document order (report by report, in the reports' order, where a unit pools
        several), joined by ``'；'`` (``''`` where it has none).
    """
    _require(problems, ["title"], "problems")
    p = _with_region(problems, reports, "problems", unit)
    if "seq" not in p.columns:
        p["seq"] = range(len(p))
    p["_report"] = p["report_id"].map(_report_order(reports))  # a pooled unit: its titles report by report
    assigned = _assignments(p, codes, codebook).merge(
        p[["problem_id", "region", "_report", "seq", "title"]].drop_duplicates("problem_id"), on="problem_id"
    )
    regions = _region_order(reports, p["region"], unit)
    rank = {c: i for i, c in enumerate(codebook.ids)}
    rows = [
        _recurring_row(code, grp, regions)
        for code, grp in assigned.groupby("code", sort=False)
        if len(set(grp["region"]).intersection(regions)) >= min_regions
    ]
    columns = ["code", "n_regions", "regions", "n_problems", *regions]
    out = pd.DataFrame(rows, columns=columns)
    if len(out):
        out["_rank"] = out["code"].map(rank)
        out = out.sort_values(["n_regions", "n_problems", "_rank"], ascending=[False, False, True])
        out = out.drop(columns="_rank").reset_index(drop=True)
    out["n_regions"] = out["n_regions"].astype("int64")
    out["n_problems"] = out["n_problems"].astype("int64")
    return _add_names(out, "code", codebook)


def measure_type_counts(
    measures: pd.DataFrame,
    problems: pd.DataFrame,
    reports: pd.DataFrame,
    *,
    codebook: Codebook | None,
    unit: str = "report",
) -> pd.DataFrame:
    """Count measures per region and measure type (complete grid, zero cells included).

    Parameters
    ----------
    measures : pandas.DataFrame
        ``report_id``, ``measure_id``, ``measure_type`` (the primary code from the measure codebook).
    problems : pandas.DataFrame
        ``report_id``, ``problem_id``: sets which regions are listed (those with problems, as in
        :func:`type_counts`) and ``n_problems``.
    reports : pandas.DataFrame
        ``report_id``, ``region``.
    codebook : Codebook or None
        The measure codebook (required; the entry point loads ``config.MEASURE_CODEBOOK_PATH``). None (no
        measure codebook): the types found in ``measures`` are used in order of first appearance (and no
        names).
    unit : str
        The unit of comparison (:func:`units`).

    Returns
    -------
    pandas.DataFrame
        ``region, province, city, admin_level, year, n_reports, measure_type, [name_zh, name_en,] n, n_region, share_of_region, n_type, share_of_type,
        n_problems``: ``n_region`` is the region's number of measures (untyped ones included),
        ``n_type`` the measures of the type across regions, ``n_problems`` the region's number of
        problems.
    """
    _require(measures, ["measure_id", "measure_type"], "measures")
    m = _with_region(measures, reports, "measures", unit)
    p = _with_region(problems, reports, "problems", unit)
    typed = m.loc[~m["measure_type"].map(_blank), ["measure_id", "measure_type"]].astype(str)
    if codebook is not None:
        unknown = sorted(set(typed["measure_type"]) - set(codebook.ids))
        if unknown:
            raise ValueError(f"measure types not in the codebook {codebook.path}: {unknown}")
        code_ids = codebook.ids
    else:
        code_ids = list(pd.unique(typed["measure_type"]))
    regions = _region_order(reports, set(p["region"]) | set(m["region"]), unit)
    out = _count_table(m, typed, "measure_id", "measure_type", code_ids, regions)
    out["n_problems"] = out["region"].map(p.groupby("region")["problem_id"].nunique()).fillna(0).astype("int64")
    return _describe(_add_names(out, "measure_type", codebook), reports, unit)


# --------------------------------------------------------------------------------------------- concreteness
def find_units(text: str) -> list[str]:
    """Named organisational units cited in ``text`` (the ``cites_unit`` evidence).

    A unit is an organisation suffix (:data:`UNIT_SUFFIXES`: 局, 院, 馆, 中心, 站, 办, 街道, 镇, 社区,
    委员会, 所, 处, 办公室) with the Chinese characters before it (at most 14, stopping at punctuation or
    at the previous suffix), cut after the last verb or preposition among them (:data:`UNIT_BREAKS`); a
    unit that directly continues the previous one is merged with it (多坪镇敬老院, 市民政局养老服务处).
    It counts as *named* when, after removing generic words (:data:`GENERIC_UNIT_WORDS`), the part in
    front of the suffix still holds a place marker (:data:`PLACE_MARKERS`: 省 市 区 县 州 镇 乡 村 街 …),
    or — for the place-level suffixes 街道 and 镇 — a bare name of two to four characters without a
    determiner (各, 全, 相关 …). So ``县公安局``, ``区社会福利院``, ``江海街道``, ``多坪镇敬老院``,
    ``许昌市社会福利院`` count; ``我局``, ``各街道``, ``乡镇``, ``社会福利院``, ``日间照料中心``,
    ``居家社区``, ``督办``, ``政治站位``, ``以人民为中心`` and titles inside 《…》 do not.

    This is a transparent heuristic, not a named-entity recogniser: it misses units without one of these
    suffixes (区救助管理小分队, 城管部门) or with a long name, misses units named without a place
    (局结算中心), counts a place-prefixed generic phrase (海珠区优秀社区) and can keep a preceding
    verb that is not in the break list in the evidence string.

    Parameters
    ----------
    text : str
        A measure's text.

    Returns
    -------
    list of str
        The units in order of appearance.
    """
    if _blank(text):
        return []
    text = _DOC_RE.sub("，", str(text))
    units: list[list] = []  # [text, named, end offset]
    prev_end = 0
    for m in _SUFFIX_RE.finditer(text):
        start = m.start()
        head_start = start
        while head_start > max(prev_end, start - 14) and _CJK_CHAR.match(text[head_start - 1]):
            head_start -= 1
        head = text[head_start:start]
        cut = 0
        for tok in _BREAKS_SORTED:
            i = head.rfind(tok)
            if i >= 0:
                cut = max(cut, i + len(tok))
        head = head[cut:]
        named = _is_named(head, m.group(0))
        if units and units[-1][2] == head_start == prev_end and not cut and len(head) <= 4:
            # a unit inside the previous one: 多坪镇|敬老院, 市民政局|养老服务处
            units[-1][0] += head + m.group(0)
            units[-1][1] = units[-1][1] or named
            units[-1][2] = m.end()
        else:
            units.append([head + m.group(0), named, m.end()])
        prev_end = m.end()
    found: list[str] = []
    for unit, named, _ in units:
        if named and unit not in found:
            found.append(unit)
    return found


def _is_named(head: str, suffix: str) -> bool:
    """A place marker survives the generic words, or a bare proper name precedes 街道/镇."""
    residue = head + suffix
    for word in _GENERIC_SORTED:
        residue = residue.replace(word, "")
    if not residue.endswith(suffix):  # the suffix was part of a generic word (乡镇, 社区)
        return False
    residue = residue[: -len(suffix)]
    if any(ch in PLACE_MARKERS for ch in residue):
        return True
    if suffix in PLACE_SUFFIXES:
        return 2 <= len(residue) <= 4 and not any(d in head for d in _DETERMINERS)
    return False


def _text_flags(text: str) -> dict[str, bool]:
    """Number/date/money flags from the text alone (used when no mentions table is given)."""
    text = "" if _blank(text) else str(text)
    text_nodoc = _DOC_RE.sub("，", text)
    has_date = bool(_DATE_RE.search(text_nodoc))
    rest = _DATE_RE.sub("，", text_nodoc)
    has_money = bool(_MONEY_RE.search(rest))
    rest = _MONEY_RE.sub("，", rest)
    return {"cites_number": bool(_NUMBER_RE.search(rest)), "cites_date": has_date, "cites_money": has_money}


def _mention_kinds(mentions: pd.DataFrame) -> dict[str, set[str]]:
    """``measure_id`` → the kinds of its mentions (number, money, percent, date, document)."""
    _require(mentions, ["measure_id", "kind"], "mentions")
    kinds: dict[str, set[str]] = {}
    for mid, kind in zip(mentions["measure_id"], mentions["kind"], strict=True):
        if not _blank(mid):
            kinds.setdefault(str(mid), set()).add(str(kind))
    return kinds


def _measure_flags(text: str, kinds: set[str] | None) -> dict:
    """The concreteness flags and the named units of one measure.

    ``kinds`` are the kinds of the measure's mentions; None: numbers, dates and money are found in the text.
    """
    if kinds is not None:
        flags = {
            "cites_number": bool(kinds & {"number", "percent"}),
            "cites_date": "date" in kinds,
            "cites_money": "money" in kinds,
        }
        doc = "document" in kinds
    else:
        flags = _text_flags(text)
        doc = False
    flags["cites_document"] = doc or bool(_DOC_RE.search(text))
    units = find_units(text)
    flags["cites_unit"] = bool(units)
    flags["concrete"] = any(flags.values())
    flags["vague_only"] = (
        not flags["concrete"]
        and any(t in text for t in VAGUE_TERMS)
        and not any(t in text for t in ACTION_TERMS)
    )
    flags["units"] = "；".join(units)
    return flags


def _measure_columns(m: pd.DataFrame, problems: pd.DataFrame | None) -> pd.DataFrame:
    """The identifying columns of :func:`concreteness`: ids, region, the problem's code and the measure type."""
    keep = [c for c in ("report_id", "problem_id", "measure_id", "region") if c in m.columns]
    out = m[keep].copy()
    if problems is not None and "primary_code" in problems.columns and "problem_id" in m.columns:
        codes = problems.drop_duplicates("problem_id").set_index("problem_id")["primary_code"]
        out["primary_code"] = m["problem_id"].map(codes)
    if "measure_type" in m.columns:
        out["measure_type"] = m["measure_type"]
    return out


def concreteness(
    measures: pd.DataFrame,
    mentions: pd.DataFrame | None,
    problems: pd.DataFrame | None,
    reports: pd.DataFrame,
    unit: str = "report",
) -> pd.DataFrame:
    """Flag what each measure cites that a reader could check.

    Parameters
    ----------
    measures : pandas.DataFrame
        ``report_id``, ``problem_id``, ``measure_id``, ``text`` (and ``measure_type`` if coded).
    mentions : pandas.DataFrame or None
        ``measure_id``, ``kind`` (number/money/percent/date/document) from the extract stage. When
        ``None``, numbers, dates and money are found in the text with simple regular expressions
        (dates such as ``2024年3月``, ``11月20日``; money ``80万元``; any other digits count as a number).
    problems : pandas.DataFrame or None
        ``problem_id``, ``primary_code``: adds the problem's type to every measure.
    reports : pandas.DataFrame
        ``report_id`` and the place columns (:func:`units`).
    unit : str
        The unit of comparison (:func:`units`): ``region`` is its label, described by ``province, city,
        admin_level, year, n_reports`` (so that :func:`concreteness_by_region` carries them).

    Returns
    -------
    pandas.DataFrame
        One row per measure: ``report_id, problem_id, measure_id, region, province, city, admin_level, year,
        n_reports, [primary_code,]
        [measure_type,] cites_number, cites_date, cites_money, cites_document, cites_unit, concrete,
        vague_only, units, text`` where

        * ``cites_number`` — a ``number`` or ``percent`` mention (``15户``, ``99%``);
        * ``cites_date`` — a ``date`` mention; ``cites_money`` — a ``money`` mention;
        * ``cites_document`` — a ``document`` mention or a title in 《…》 in the text;
        * ``cites_unit`` — a named unit (:func:`find_units`; the units are listed in ``units``, joined
          by ``'；'``);
        * ``concrete`` — any of the five above;
        * ``vague_only`` — not concrete, contains a promise word (:data:`VAGUE_TERMS`: 加强, 强化, 提高,
          学习, 重视, 深化 …) and no word reporting a checkable act (:data:`ACTION_TERMS`: 已, 完成, 印发,
          制定, 召开, 约谈 …).
    """
    _require(measures, ["measure_id", "text"], "measures")
    m = _with_region(measures, reports, "measures", unit)
    kinds = _mention_kinds(mentions) if mentions is not None else None
    rows = [
        _measure_flags("" if _blank(text) else str(text), None if kinds is None else kinds.get(str(mid), set()))
        for mid, text in zip(m["measure_id"], m["text"], strict=True)
    ]
    flags_df = pd.DataFrame(rows, index=m.index, columns=[*CONCRETENESS_FLAGS, "units"])
    out = pd.concat([_measure_columns(m, problems), flags_df], axis=1)
    out["text"] = m["text"]
    for col in CONCRETENESS_FLAGS:
        out[col] = out[col].astype(bool)
    return _describe(out.reset_index(drop=True), reports, unit)


def concreteness_by_region(flags: pd.DataFrame) -> pd.DataFrame:
    """Share of each unit's measures carrying each concreteness flag.

    Parameters
    ----------
    flags : pandas.DataFrame
        The output of :func:`concreteness` (``region``, the flag columns and the unit's description).

    Returns
    -------
    pandas.DataFrame
        Long table ``region, [province, city, admin_level, year, n_reports,] flag, n, n_measures, share,
        share_low, share_high`` — units in the order of ``flags``, flags in the order of
        :data:`CONCRETENESS_FLAGS`; ``share = n / n_measures`` (the unit's measures pooled) with its 95 %
        Wilson interval.
    """
    _require(flags, ["region", *CONCRETENESS_FLAGS], "concreteness")
    described = [c for c in UNIT_COLUMNS if c in flags.columns]
    regions = list(pd.unique(flags["region"]))
    grouped = flags.groupby("region", sort=False)
    sums = grouped[list(CONCRETENESS_FLAGS)].agg(lambda col: int(col.astype(bool).sum())).reindex(regions)
    sizes = grouped.size().reindex(regions)
    rows = [{"region": region, "flag": flag, "n": int(sums.at[region, flag]), "n_measures": int(sizes[region])}
            for region in regions for flag in CONCRETENESS_FLAGS]
    out = pd.DataFrame(rows, columns=["region", "flag", "n", "n_measures"])
    out = out.astype({"n": "int64", "n_measures": "int64"})
    out["share"] = (out["n"] / out["n_measures"].where(out["n_measures"] > 0)).astype("float64")
    out["share_low"], out["share_high"] = wilson_interval(out["n"], out["n_measures"])
    if described:
        info = flags.drop_duplicates("region").set_index("region")[described]
        for k, col in enumerate(described):
            out.insert(1 + k, col, out["region"].map(info[col]))
    return out


# --------------------------------------------------------------------------------------------- timeline
def _parse_date(value, where: str) -> tuple[pd.Timestamp, str | None]:
    if _blank(value):
        return pd.NaT, None
    s = str(value).strip()
    for pattern, precision, fmt in (
        (r"\d{4}-\d{2}-\d{2}", "day", "%Y-%m-%d"),
        (r"\d{4}-\d{2}", "month", "%Y-%m"),
        (r"\d{4}", "year", "%Y"),
    ):
        if re.fullmatch(pattern, s):
            try:
                return pd.Timestamp(pd.to_datetime(s, format=fmt)), precision
            except ValueError:
                break
    warnings.warn(f"{where}: not an ISO date {s!r}; left empty", UserWarning, stacklevel=3)
    return pd.NaT, None


def timeline(reports: pd.DataFrame) -> pd.DataFrame:
    """Inspection, feedback and publication dates of every report, and the lags between them.

    Parameters
    ----------
    reports : pandas.DataFrame
        ``report_id``, ``region``, ``inspection_start``, ``inspection_end``, ``feedback_date``,
        ``published_date`` as ISO strings (``YYYY-MM-DD``, ``YYYY-MM`` or ``None``).

    Returns
    -------
    pandas.DataFrame
        One row per report, in report order: ``report_id, region`` (the report's label, :func:`units`),
        ``province, city, admin_level, year, n_reports`` (1), the four dates as Timestamps (a
        ``YYYY-MM`` date becomes the first of the month, ``YYYY`` the first of January) each with
        ``<date>_precision`` (``'day'``, ``'month'``, ``'year'`` or None), and the lags in days (nullable
        integers): ``inspection_days`` (start → end), ``to_feedback_days`` (end → feedback) and
        ``to_publication_days`` (feedback → published). ``<lag>_approx`` is True when one of its two
        dates is coarser than a day, so the lag is only approximate. Unparseable dates are left empty
        with a warning naming the report.
    """
    _require(reports, ["report_id", *_DATE_FIELDS], "reports")
    described = units(reports, "report").set_index("report_id")
    out = pd.DataFrame({"report_id": reports["report_id"].to_numpy()})
    for col in ("region", *UNIT_COLUMNS):
        out[col] = out["report_id"].astype(str).map(described[col])
    for field in _DATE_FIELDS:
        parsed = [
            _parse_date(v, f"report {rid} {field}")
            for rid, v in zip(reports["report_id"], reports[field], strict=True)
        ]
        out[field] = pd.to_datetime(pd.Series([d for d, _ in parsed], dtype="datetime64[ns]"))
        out[f"{field}_precision"] = pd.Series([p for _, p in parsed], dtype="object")
    for lag, (a, b) in {
        "inspection_days": ("inspection_start", "inspection_end"),
        "to_feedback_days": ("inspection_end", "feedback_date"),
        "to_publication_days": ("feedback_date", "published_date"),
    }.items():
        out[lag] = (out[b] - out[a]).dt.days.astype("Int64")
        coarse = out[f"{a}_precision"].isin(["month", "year"]) | out[f"{b}_precision"].isin(["month", "year"])
        out[f"{lag}_approx"] = (coarse & out[lag].notna()).astype(bool)
    return out


# --------------------------------------------------------------------------------------------- traceability
def _as_list(value) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


def problems_behind(
    problems: pd.DataFrame,
    reports: pd.DataFrame,
    region: str | Sequence[str] | None = None,
    code: str | Sequence[str] | None = None,
    codes: str = "primary",
    unit: str = "report",
) -> pd.DataFrame:
    """The problem rows behind a figure cell (traceability).

    Parameters
    ----------
    problems : pandas.DataFrame
        The problems table with ``primary_code`` (and ``codes`` for ``codes="all"``).
    reports : pandas.DataFrame
        ``report_id``, ``region``.
    region : str or sequence of str, optional
        Keep these regions (all when None).
    code : str or sequence of str, optional
        Keep problems of these types (all when None).
    codes : {"primary", "all"}
        Match ``code`` against the primary code only, or against primary and secondary codes — use the
        same value as for the :func:`type_counts` table the cell comes from.
    unit : str
        The unit of that table (:func:`units`), whose labels ``region`` names.

    Returns
    -------
    pandas.DataFrame
        ``report_id, problem_id, region, seq, label, primary_code, codes, title, text, start, end``
        (those present in ``problems``), ordered by region (report order) then ``seq``.
    """
    _check_codes_mode(codes)
    p = _with_region(problems, reports, "problems", unit)
    keep = pd.Series(True, index=p.index)
    regions = _as_list(region)
    if regions is not None:
        keep &= p["region"].isin(regions)
    wanted = _as_list(code)
    if wanted is not None:
        _require(p, ["primary_code"], "problems")
        if codes == "all":
            _require(p, ["codes"], "problems")
        second = p["codes"] if codes == "all" else [None] * len(p)
        carried = [([] if _blank(pc) else [str(pc)]) + _split_codes(sc)
                   for pc, sc in zip(p["primary_code"], second, strict=True)]
        keep &= pd.Series([bool(set(c) & set(wanted)) for c in carried], index=p.index)
        keep &= ~p["problem_id"].isin(_needs_review(p))  # under no type, as in type_counts
    out = p[keep].copy()
    out["_order"] = out["region"].map({r: i for i, r in enumerate(pd.unique(_regions(reports, unit)["region"]))})
    sort_cols = ["_order", "seq"] if "seq" in out.columns else ["_order"]
    out = out.sort_values(sort_cols, kind="stable").drop(columns="_order")
    cols = [
        c for c in ("report_id", "problem_id", "region", "seq", "label", "primary_code", "codes", "title",
                    "text", "start", "end")
        if c in out.columns
    ]
    return out[cols].reset_index(drop=True)
