"""Comparative analyses over the Corpus tables: each function returns a tidy DataFrame.

Stage: analyses (DESIGN.md section 2); the codebooks are arguments (nothing is loaded here). Inputs are the tables of :class:`compare.tables.Corpus`
(``reports``, ``problems`` with ``primary_code`` and ``codes``, ``measures`` with ``measure_type``,
``mentions``); outputs are long ("tidy") tables that :mod:`compare.plots` draws and
:mod:`compare.export` writes. Nothing here draws.

Conventions
-----------
* Regions come from ``reports.region`` joined on ``report_id``; a report without a region is listed
  under its ``report_id``. Two reports of the same region are pooled. Regions keep the order in which
  they appear in ``reports`` and codes keep codebook order, so tables (and the figures drawn from
  them) are ordered the same way every time.
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
    "UNIT_SUFFIXES",
    "VAGUE_TERMS",
    "concreteness",
    "concreteness_by_region",
    "find_units",
    "measure_type_counts",
    "problems_behind",
    "recurring_types",
    "timeline",
    "type_counts",
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


def _regions(reports: pd.DataFrame) -> pd.DataFrame:
    """``report_id → region`` (blank regions replaced by the report id), in ``reports`` order."""
    _require(reports, ["report_id", "region"], "reports")
    out = reports[["report_id", "region"]].copy()
    blank = out["region"].map(_blank)
    out.loc[blank, "region"] = out.loc[blank, "report_id"]
    out["region"] = out["region"].astype(str)
    return out.drop_duplicates("report_id").reset_index(drop=True)


def _with_region(df: pd.DataFrame, reports: pd.DataFrame, table: str) -> pd.DataFrame:
    """``df`` with a ``region`` column; unknown report ids raise ValueError."""
    _require(df, ["report_id"], table)
    regions = _regions(reports)
    unknown = sorted(set(df["report_id"]) - set(regions["report_id"]))
    if unknown:
        raise ValueError(f"{table} rows refer to reports missing from the reports table: {unknown[:5]}")
    base = df.drop(columns=["region"], errors="ignore")
    return base.merge(regions, on="report_id", how="left", sort=False)


def _region_order(reports: pd.DataFrame, present: Iterable[str]) -> list[str]:
    present = set(present)
    return [r for r in pd.unique(_regions(reports)["region"]) if r in present]


def _assignments(problems: pd.DataFrame, codes: str, codebook: Codebook) -> pd.DataFrame:
    """One row per (problem, code): the primary code, plus the secondary ones with ``codes="all"``."""
    _check_codes_mode(codes)
    _require(problems, ["problem_id", "primary_code"], "problems")
    if codes == "all":
        _require(problems, ["codes"], "problems")
    rows = []
    for rec in problems.itertuples(index=False):
        pid = rec.problem_id
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


# --------------------------------------------------------------------------------------------- types
def type_counts(
    problems: pd.DataFrame, reports: pd.DataFrame, codes: str = "primary", *, codebook: Codebook
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
        ``"primary"``: every problem counts once, under its primary code. ``"all"``: a problem counts
        once under each distinct code it carries (primary and secondary), so the counts of a region can
        add up to more than its number of problems.
    codebook : Codebook
        The problem codebook (required: e.g. ``load_codebook(config.CODEBOOK_PATH)`` at the entry point).

    Returns
    -------
    pandas.DataFrame
        One row per region × code, regions in report order and codes in codebook order, with columns
        ``region, code, name_zh, name_en, n, n_region, share_of_region, n_type, share_of_type``:

        * ``n`` — problems of the region carrying the code;
        * ``n_region`` — all problems of the region (uncoded ones included), so ``share_of_region = n /
          n_region`` is the share of the region's problems of this type. With ``codes="all"`` it is the
          share of the region's problems that carry the code as primary *or* secondary code, and the
          shares of a region may add up to more than 1;
        * ``n_type`` — problems carrying the code across all regions (with ``"all"``: as primary or
          secondary code), so ``share_of_type = n / n_type`` is the region's part of that type and sums
          to 1 over the regions; it is NaN for a type that no problem carries.
    """
    p = _with_region(problems, reports, "problems")
    assigned = _assignments(p, codes, codebook)
    regions = _region_order(reports, p["region"])
    out = _count_table(p, assigned, "problem_id", "code", codebook.ids, regions)
    return _add_names(out, "code", codebook)


def _recurring_row(code: str, grp: pd.DataFrame, regions: Sequence[str]) -> dict:
    """One row of :func:`recurring_types`: the regions of a type and every region's titles in document order."""
    present = [r for r in regions if r in set(grp["region"])]
    row = {
        "code": code,
        "n_regions": len(present),
        "regions": "；".join(present),
        "n_problems": int(grp["problem_id"].nunique()),
    }
    for region in regions:
        sub = grp[grp["region"] == region].sort_values("seq")
        row[region] = "；".join(str(t) for t in sub["title"] if not _blank(t))
    return row


def recurring_types(
    problems: pd.DataFrame,
    reports: pd.DataFrame,
    min_regions: int = 2,
    codes: str = "primary",
    *,
    codebook: Codebook,
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

    Returns
    -------
    pandas.DataFrame
        One row per type, ranked by ``n_regions`` then ``n_problems`` (descending; ties in codebook
        order): ``code, name_zh, name_en, n_regions, regions`` (joined by ``'；'`` in report order),
        ``n_problems``, then one column per region (named by the region) holding that region's problem
        titles of the type in document order, joined by ``'；'`` (``''`` where it has none).
    """
    _require(problems, ["title"], "problems")
    p = _with_region(problems, reports, "problems")
    if "seq" not in p.columns:
        p["seq"] = range(len(p))
    assigned = _assignments(p, codes, codebook).merge(
        p[["problem_id", "region", "seq", "title"]].drop_duplicates("problem_id"), on="problem_id"
    )
    regions = _region_order(reports, p["region"])
    rank = {c: i for i, c in enumerate(codebook.ids)}
    rows = [
        _recurring_row(code, grp, regions)
        for code, grp in assigned.groupby("code", sort=False)
        if sum(r in set(grp["region"]) for r in regions) >= min_regions
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

    Returns
    -------
    pandas.DataFrame
        ``region, measure_type, [name_zh, name_en,] n, n_region, share_of_region, n_type, share_of_type,
        n_problems``: ``n_region`` is the region's number of measures (untyped ones included),
        ``n_type`` the measures of the type across regions, ``n_problems`` the region's number of
        problems.
    """
    _require(measures, ["measure_id", "measure_type"], "measures")
    m = _with_region(measures, reports, "measures")
    p = _with_region(problems, reports, "problems")
    typed = m.loc[~m["measure_type"].map(_blank), ["measure_id", "measure_type"]].astype(str)
    if codebook is not None:
        unknown = sorted(set(typed["measure_type"]) - set(codebook.ids))
        if unknown:
            raise ValueError(f"measure types not in the codebook {codebook.path}: {unknown}")
        code_ids = codebook.ids
    else:
        code_ids = list(pd.unique(typed["measure_type"]))
    regions = _region_order(reports, set(p["region"]) | set(m["region"]))
    out = _count_table(m, typed, "measure_id", "measure_type", code_ids, regions)
    out["n_problems"] = out["region"].map(p.groupby("region")["problem_id"].nunique()).fillna(0).astype("int64")
    return _add_names(out, "measure_type", codebook)


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
        ``report_id``, ``region``.

    Returns
    -------
    pandas.DataFrame
        One row per measure: ``report_id, problem_id, measure_id, region, [primary_code,]
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
    m = _with_region(measures, reports, "measures")
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
    return out.reset_index(drop=True)


def concreteness_by_region(flags: pd.DataFrame) -> pd.DataFrame:
    """Share of each region's measures carrying each concreteness flag.

    Parameters
    ----------
    flags : pandas.DataFrame
        The output of :func:`concreteness` (``region`` and the flag columns).

    Returns
    -------
    pandas.DataFrame
        Long table ``region, flag, n, n_measures, share`` — regions in the order of ``flags``, flags in
        the order of :data:`CONCRETENESS_FLAGS`; ``share = n / n_measures``.
    """
    _require(flags, ["region", *CONCRETENESS_FLAGS], "concreteness")
    regions = list(pd.unique(flags["region"]))
    rows = []
    for region in regions:
        sub = flags[flags["region"] == region]
        n_measures = len(sub)
        for flag in CONCRETENESS_FLAGS:
            n = int(sub[flag].astype(bool).sum())
            rows.append(
                {"region": region, "flag": flag, "n": n, "n_measures": n_measures,
                 "share": n / n_measures if n_measures else np.nan}
            )
    out = pd.DataFrame(rows, columns=["region", "flag", "n", "n_measures", "share"])
    return out.astype({"n": "int64", "n_measures": "int64", "share": "float64"})


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
        One row per report, in report order: ``report_id, region``, the four dates as Timestamps (a
        ``YYYY-MM`` date becomes the first of the month, ``YYYY`` the first of January) each with
        ``<date>_precision`` (``'day'``, ``'month'``, ``'year'`` or None), and the lags in days (nullable
        integers): ``inspection_days`` (start → end), ``to_feedback_days`` (end → feedback) and
        ``to_publication_days`` (feedback → published). ``<lag>_approx`` is True when one of its two
        dates is coarser than a day, so the lag is only approximate. Unparseable dates are left empty
        with a warning naming the report.
    """
    _require(reports, ["report_id", *_DATE_FIELDS], "reports")
    regions = _regions(reports)
    out = pd.DataFrame({"report_id": reports["report_id"].to_numpy()})
    out["region"] = out["report_id"].map(dict(zip(regions["report_id"], regions["region"], strict=True)))
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

    Returns
    -------
    pandas.DataFrame
        ``report_id, problem_id, region, seq, label, primary_code, codes, title, text, start, end``
        (those present in ``problems``), ordered by region (report order) then ``seq``.
    """
    _check_codes_mode(codes)
    p = _with_region(problems, reports, "problems")
    keep = pd.Series(True, index=p.index)
    regions = _as_list(region)
    if regions is not None:
        keep &= p["region"].isin(regions)
    wanted = _as_list(code)
    if wanted is not None:
        _require(p, ["primary_code"], "problems")
        if codes == "all":
            _require(p, ["codes"], "problems")
            carried = [
                ([] if _blank(pc) else [str(pc)]) + _split_codes(sc)
                for pc, sc in zip(p["primary_code"], p["codes"], strict=True)
            ]
        else:
            carried = [[] if _blank(pc) else [str(pc)] for pc in p["primary_code"]]
        keep &= pd.Series([bool(set(c) & set(wanted)) for c in carried], index=p.index)
    out = p[keep].copy()
    order = {r: i for i, r in enumerate(pd.unique(_regions(reports)["region"]))}
    out["_order"] = out["region"].map(order)
    sort_cols = ["_order", "seq"] if "seq" in out.columns else ["_order"]
    out = out.sort_values(sort_cols, kind="stable").drop(columns="_order")
    cols = [
        c for c in ("report_id", "problem_id", "region", "seq", "label", "primary_code", "codes", "title",
                    "text", "start", "end")
        if c in out.columns
    ]
    return out[cols].reset_index(drop=True)
