"""Reading: the front of a page and what the page is — web chrome, the title, the page's dates, the verdict.

Two questions apart from finding problems:

* :func:`front` — where the text starts: the web chrome before it (breadcrumbs, toolbars, the metadata line or
  table, a document number), the title (printed twice, broken over two lines, with a date on its line), the
  dates of the page's metadata (发布时间 / 发布日期 / 信息时间, 成文日期) and the opening paragraph;
* :func:`verdict` — whether the page is a rectification report of a 巡察 or 巡视 (its title or opening says so,
  whether or not numbered problems follow), whether the text stops in the middle, and when it is not a report,
  why (news of a mobilisation or feedback meeting, a 公告, a withdrawal notice, a round-level summary, a
  督察 list).

Used by :mod:`compare.parse` (the verdict) and :mod:`compare.metadata` (title and dates); knows nothing of
either.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .grammar import CHROME_RE, CONTACT_RE, DATE_LINE_RE, META_DATE_RE, SECTION_RE, SIGNATURE_RE, lines

__all__ = ["Front", "front", "verdict", "NOT_REPORT", "add_page_dates"]

#: the prefix of the warning a non-report carries; the reason follows it
NOT_REPORT = "not a rectification report: "
_TITLE_END_RE = re.compile(r"(?:通报|报告|情况|公告|公示|说明)$")
_TRAILING_DATE_RE = re.compile(r"\s*(?P<y>\d{4})\s*[-./年]\s*(?P<m>\d{1,2})\s*[-./月]\s*(?P<d>\d{1,2})日?$")
_KIND_RE = re.compile(r"巡察|巡视")
_RECTIFY_RE = re.compile(r"整改")
#: an opening that publishes its own rectification: ``现将整改进展情况予以公布``, ``整改情况报告如下``
_OPENING_SAYS_RE = re.compile(r"(?:现|特)[^。，；]{0,8}将[^。]{0,30}(?:整改|情况)|整改[^。]{0,12}(?:通报|报告|公布)如下")
#: a title that names a rectification report (``…整改进展情况的通报``, ``…通报巡视整改进展``), not news of
#: a meeting or a check about rectification (``开展巡察整改专项督查``)
#: a news title about rectification (a visit, a check, a meeting, reports being published), unless it says
#: 关于 or ends as a report does; and a policy paper on it (…意见, …办法)
_NEWS_TITLE_RE = re.compile(r"督导|督查|督办|调研|检查|推进会|部署会|座谈|约谈|召开|听取|[赴到]\S{1,8}(?:督|调|检)|公[布开]$")
_POLICY_TITLE_RE = re.compile(r"(?:意见|办法|方案|规定|细则|通知)$")
_TITLE_SAYS_RE = re.compile(r"整改[^，。]{0,12}(?:情况|进展|报告|通报)|通报[^，。]{0,8}整改")
_TERMINAL = "。！？”）》!?)"


@dataclass
class Front:
    """The front of a page: its chrome lines, title, dates and where the text proper begins.

    Attributes
    ----------
    title : str or None
        The title, one line, spaces removed, without a trailing date.
    title_date : str or None
        A date printed on the title line (ISO): the publication date.
    meta_dates : dict
        ``{"published": iso, "written": iso}`` from the page's metadata lines (发布时间 … / 成文日期).
    title_lines, chrome_lines : set of int
        Line indices (of :func:`compare.grammar.lines`) of the title and of the chrome before the text.
    opening : str
        The first lines of the text proper (up to the first section heading), joined.
    """

    title: str | None = None
    title_date: str | None = None
    meta_dates: dict = field(default_factory=dict)
    title_lines: set = field(default_factory=set)
    chrome_lines: set = field(default_factory=set)
    opening: str = ""


def _iso(m: re.Match) -> str | None:
    from .dates import iso_date

    return iso_date(int(m["y"]), int(m["m"]), int(m["d"]))


_TAG_RE = re.compile(r"^(?:[-•·*]\s*)?(?:【[^】]{1,12}】|\[[^\]]{1,12}\]|(?:文件名称|标题|名称)[：:])\s*")
_PROSE_START_RE = re.compile(r"^(?:根据|按照|依据|为|经|近日|日前|\d{4}年\d{1,2}月)")


def _untagged(t: str) -> str:
    """A line without a leading section tag (``【巡察整改】``) or a label (``文件名称：``)."""
    return _TAG_RE.sub("", t)


def _title_like(t: str) -> bool:
    bare = _TRAILING_DATE_RE.sub("", _untagged(t))
    if "。" in bare or not 6 <= len(bare) <= 120 or CHROME_RE.match(bare):
        return False
    return bool(_TITLE_END_RE.search(bare) or (_KIND_RE.search(bare) and _RECTIFY_RE.search(bare[-8:])))


def _title_rank(t: str) -> int:
    """How surely a title-like line is the report's title: names 关于 and the inspection, names it, or neither."""
    return 2 * bool("关于" in t and _KIND_RE.search(t)) + bool(_KIND_RE.search(t) and _RECTIFY_RE.search(t))


def _clean_title(t: str) -> tuple[str, str | None]:
    t = _untagged(t)
    m = _TRAILING_DATE_RE.search(t)
    date = _iso(m) if m else None
    t = _TRAILING_DATE_RE.sub("", t) if m else t
    t = re.sub(r"\s+", "", t)
    k = t.find("中共")
    if 0 < k <= 12 and "关于" not in t[:k]:  # a brand name glued in front by a mirror site
        t = t[k:]
    return t, date


#: a chrome line holding only a date and maybe a time (``• 2021-12-14 11:00``, ``2021-02-23 12:42来源：…``): the
#: page's date, unlabelled
_BARE_DATE_RE = re.compile(r"^(?:[-•·*]\s*)?(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?:\s*\d{1,2}:\d{2}(?::\d{2})?)?"
                           r"\s*(?:$|来源|作者|编辑|浏览|阅读|点击)", re.M)


def _meta_dates(text: str, out: dict) -> None:
    """Add the dates of metadata labels in ``text`` to ``out`` (``published``, ``written``), first ones kept;
    without a labelled publication date, a line holding only a date is the page's date."""
    for m in META_DATE_RE.finditer(text):
        key = "written" if m["label"] == "成文日期" else "published"
        out.setdefault(key, _iso(m))
    bare = _BARE_DATE_RE.search(text)
    if bare and "published" not in out:
        out["published"] = _iso(bare)


def add_page_dates(fr: Front, page_meta: str) -> None:
    """Add the dates of a page's metadata line kept apart from the text (an HTML page's info bar) to ``fr``;
    dates the text itself shows come first."""
    _meta_dates(page_meta, fr.meta_dates)


def _is_prose(t: str) -> bool:
    """A line of running text: a sentence, or a long clause, or an opening formula (``根据…``)."""
    sentence = (len(t) >= 15 and t[-1] in "。；：") or ("，" in t and ("。" in t or len(t) > 60))
    chrome = bool(CHROME_RE.search(t)) and len(t) <= 160
    return (sentence or bool(_PROSE_START_RE.match(t) and len(t) > 30)) and not chrome and not _title_like(t)


def front(text: str) -> Front:
    """The chrome, title, page dates and opening of a canonical text.

    Every line before the first line of running text (or the first section heading) is the page's front:
    the best title-like line there is the title (one naming 关于 and the inspection before one naming only
    the inspection, before any other; the first of equals), a copy of it is a title line too, and the rest
    is chrome (breadcrumbs, site banners, toolbars, metadata lines and tables), whose dates are the page's.

    Parameters
    ----------
    text : str
        Canonical text (:func:`compare.normalize.normalize`).

    Returns
    -------
    Front
    """
    fr = Front()
    nonblank = [ln for ln in lines(text) if not ln.blank][:40]
    k = next((j for j, ln in enumerate(nonblank) if _is_prose(ln.text) or
              (SECTION_RE.match(ln.text) and not _title_like(ln.text))), len(nonblank))
    pre, body = nonblank[:k], nonblank[k:k + 4]
    titles = [ln for ln in pre if _title_like(ln.text) and not (CHROME_RE.search(ln.text) and not _TAG_RE.match(ln.text))]
    if titles:
        best = max(titles, key=lambda ln: (_title_rank(ln.text), -ln.i))
        fr.title, fr.title_date = _clean_title(best.text)
        fr.title_lines = {ln.i for ln in titles if _clean_title(ln.text)[0] == fr.title}
    fr.chrome_lines = {ln.i for ln in pre if ln.i not in fr.title_lines}
    _meta_dates("\n".join(ln.text for ln in pre if ln.i in fr.chrome_lines), fr.meta_dates)
    fr.opening = "\n".join(ln.text for ln in body)
    return fr


# --- the verdict ----------------------------------------------------------------------------------------
#: (in the title, in the opening of a page without a title, the reason); a title that names the 整改 escapes
#: all but the first
_NOT_REPORT_RULES = (
    (re.compile(r"撤离|撤出"), re.compile(r"撤离被巡"), "a notice that the inspection teams have withdrawn"),
    (re.compile(r"公告$"), re.compile(r"特此公告"), "an inspection announcement (公告)"),
    (re.compile(r"动员会|进驻"), re.compile(r"动员会"), "news of an inspection's mobilisation meeting"),
    (re.compile(r"反馈(?:巡察|巡视)(?:情况|意见)$"), re.compile(r"^[^。]{0,40}反馈(?:巡察|巡视)情况"),
     "news of an inspection's feedback meeting"),
)
_ROUND_RE = re.compile(r"等\d+个(?:单位|部门|党组织)|各被巡[察视](?:单位|党组织)|被巡[察视]党组织共")


def _non_report_reason(title: str, opening: str) -> str | None:
    """Why a page that looks close is no rectification report of one inspected unit, or None."""
    head = title or opening[:200]
    if "督察" in head and not _KIND_RE.search(head):
        return "a 督察 (environmental or land supervision) list, not a 巡察 or 巡视"
    for in_title, in_text, reason in _NOT_REPORT_RULES:
        if (title and in_title.search(title) and "整改" not in title) or (not title and in_text.search(opening)):
            return reason
    if _ROUND_RE.search(opening):
        return "a round-level summary covering several inspected units"
    return None


def _says_report(title: str, opening: str) -> bool:
    """The title, or the opening without a title, names the rectification of a 巡察 or 巡视."""
    if title:
        news = (_NEWS_TITLE_RE.search(title) and "关于" not in title and not re.search(r"(?:通报|报告)$", title)) \
            or _POLICY_TITLE_RE.search(title)
        return bool(_KIND_RE.search(title) and _TITLE_SAYS_RE.search(title)) and not news
    return bool(_KIND_RE.search(opening) and _RECTIFY_RE.search(opening) and _OPENING_SAYS_RE.search(opening))


def _ends_mid_sentence(text: str) -> bool:
    """The last line of the text proper (trailing site chrome skipped) stops without final punctuation."""
    for ln in reversed([ln for ln in lines(text) if not ln.blank]):
        t = ln.text
        if CHROME_RE.search(t) and len(t) <= 160:
            continue
        if DATE_LINE_RE.match(t) or (SIGNATURE_RE.match(t) and len(t) <= 40) or CONTACT_RE.search(t):
            return False
        return t.rstrip()[-1] not in _TERMINAL
    return False


def verdict(text: str, n_problems: int, with_measures: bool, footer: bool, closing: bool
            ) -> tuple[bool, bool, list[str]]:
    """Whether ``text`` is a rectification report, whether it is truncated, and the warnings that say so.

    Parameters
    ----------
    text : str
        Canonical text.
    n_problems : int
        How many problems the parser found; ``with_measures``: whether any of them has measures.
    footer, closing : bool
        Whether the text ends in a footer (signature, date, contact) or a closing section.

    Returns
    -------
    (is_report, truncated, warnings)
    """
    fr = front(text)
    title, opening = fr.title or "", fr.opening
    reason = _non_report_reason(title, opening)
    if reason is None and not (_says_report(title, opening) or (n_problems and with_measures)):
        reason = "no title or opening naming a 巡察/巡视 rectification, and no numbered problems with measures"
    if reason is not None:
        return False, False, [NOT_REPORT + reason]
    warnings: list[str] = []
    truncated = False
    if _ends_mid_sentence(text):
        warnings.append("text ends mid-sentence")
        truncated = True
    elif n_problems and not footer and not closing:
        warnings.append("report looks truncated: no closing section and no footer after the last problem")
        truncated = True
    if n_problems == 0 and not truncated:
        warnings.append("no problem-by-problem part found: the rectification is told in prose (0 problems)")
    return True, truncated, warnings
