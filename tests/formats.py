"""Write a report text in the formats :mod:`compare.io` reads, for tests and benchmarks.

Each writer takes the report text (lines separated by ``"\\n"``) and a destination path, writes a
deterministic file and returns the path as a :class:`pathlib.Path`:

- :func:`write_txt` — plain text in a chosen encoding (UTF-8 with/without BOM, GB18030/GBK, Big5, UTF-16).
- :func:`write_docx` — one Word paragraph per line, optionally with part of the text in a table.
- :func:`write_pdf` — a text PDF in the built-in CID font ``STSong-Light`` (no font file needed).
- :func:`write_html` — a realistic Chinese government web page (menu, breadcrumbs, sidebar, footer) with
  the report in ``<div class="TRS_Editor">`` (or ``<article>``, ``<main>``, a plain ``<div>``).
- :func:`write_encrypted_pdf`, :func:`write_image_pdf` — PDFs that cannot be read as text.

What survives a round trip through the reader, per format:

- **txt**: the exact text.
- **docx**: ``table=False`` gives the exact text (one paragraph per line, blank lines included);
  ``table=True`` keeps every non-whitespace character in order (table rows come back as tab-joined lines).
- **html**: every non-whitespace character in order, one line per paragraph; leading/trailing spaces of
  lines and runs of blank lines collapse; none of :data:`CHROME_WORDS` comes back.
- **pdf**: every non-whitespace character in order for text made of :func:`pdf_representable` characters
  (ASCII, CJK U+4E00–U+9FA5, nearly all of GBK, ``·``); blank lines disappear and runs of spaces may
  change. With ``wrap=False`` (default) the page is as wide as the longest line, so each source line is
  one PDF line and comes back as one line; with ``wrap=True`` (A4) long lines are wrapped and come back
  as several lines, broken mid-sentence.
"""

from __future__ import annotations

import datetime as _dt
import html as _html
import os
from pathlib import Path

__all__ = [
    "CHROME_WORDS",
    "PDF_FONT",
    "pdf_representable",
    "write_txt",
    "write_docx",
    "write_pdf",
    "write_encrypted_pdf",
    "write_image_pdf",
    "write_html",
]

#: Words of the page chrome written by :func:`write_html`; none may survive extraction.
CHROME_WORDS = (
    "网站地图",
    "版权所有",
    "首页",
    "当前位置",
    "打印本页",
    "关闭窗口",
    "主办单位",
    "分享到",
    "无障碍",
    "相关链接",
    "发布时间",
    "政府门户网站",
    "联系我们",
    "网站标识码",
)

#: The CID font used for PDFs (ships with reportlab's Adobe Asian font metrics, no font file).
PDF_FONT = "STSong-Light"

_PDF_MAX_WIDTH = 14400.0  # points: the largest page dimension PDF readers accept (200 inches)
_PDF_MARGIN = 36.0
_A4 = (595.2756, 841.8898)
# Characters reportlab cannot map in STSong-Light but which have a stand-in that extracts to them.
_PDF_SUBSTITUTES = {"\u00b7": "\u30fb"}  # MIDDLE DOT is drawn as KATAKANA MIDDLE DOT, extracted as U+00B7
_FIXED_TIME = _dt.datetime(2024, 1, 1, 0, 0, 0)


def _path(path: str | os.PathLike) -> Path:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    return p


# ------------------------------------------------------------------------------------------------ txt


def write_txt(
    text: str,
    path: str | os.PathLike,
    encoding: str = "utf-8",
    *,
    newline: str = "\n",
    bom: bool = True,
) -> Path:
    """Write ``text`` as a plain-text file.

    Parameters
    ----------
    text : str
        The report text, lines separated by ``"\\n"``.
    path : str or os.PathLike
        Destination (parent folders are created).
    encoding : str, default "utf-8"
        ``"utf-8"``, ``"utf-8-sig"`` (UTF-8 with BOM), ``"gb18030"``, ``"gbk"``, ``"big5"``, ``"cp950"``,
        ``"utf-16"`` (little-endian with BOM), ``"utf-16-le"``/``"utf-16-be"`` (with a BOM unless
        ``bom=False``), or any other Python codec.
    newline : str, default "\\n"
        Line terminator written for every ``"\\n"`` (``"\\r\\n"`` for Windows files, ``"\\r"`` for old Mac).
    bom : bool, default True
        Only for ``"utf-16-le"``/``"utf-16-be"``: whether to start with a byte-order mark.

    Returns
    -------
    pathlib.Path
    """
    body = text.replace("\n", newline)
    enc = encoding.lower().replace("_", "-")
    if enc == "utf-16":
        data = b"\xff\xfe" + body.encode("utf-16-le")
    elif enc in ("utf-16-le", "utf-16le"):
        data = (b"\xff\xfe" if bom else b"") + body.encode("utf-16-le")
    elif enc in ("utf-16-be", "utf-16be"):
        data = (b"\xfe\xff" if bom else b"") + body.encode("utf-16-be")
    else:
        data = body.encode(encoding)
    p = _path(path)
    p.write_bytes(data)
    return p


# ----------------------------------------------------------------------------------------------- docx


def write_docx(text: str, path: str | os.PathLike, table: bool = False) -> Path:
    """Write ``text`` as a Word document, one paragraph per line.

    Parameters
    ----------
    text : str
        The report text.
    path : str or os.PathLike
        Destination.
    table : bool, default False
        If True, the non-blank lines of the middle third of the text go into a two-column table instead
        of paragraphs, in reading order (row by row, left cell then right cell); an odd last line gets a
        row of its own with the two cells merged. Blank lines inside that stretch are dropped.

    Returns
    -------
    pathlib.Path
    """
    import docx

    doc = docx.Document()
    props = doc.core_properties
    props.created = props.modified = _FIXED_TIME
    props.author = props.last_modified_by = "compare tests"
    lines = text.split("\n")
    lo, hi = (len(lines) // 3, 2 * len(lines) // 3) if table else (len(lines), len(lines))
    for line in lines[:lo]:
        doc.add_paragraph(line)
    if table:
        cells = [line for line in lines[lo:hi] if line.strip()]
        if cells:
            tbl = doc.add_table(rows=0, cols=2)
            tbl.style = "Table Grid"
            for i in range(0, len(cells), 2):
                row = tbl.add_row().cells
                if i + 1 < len(cells):
                    row[0].text, row[1].text = cells[i], cells[i + 1]
                else:
                    merged = row[0].merge(row[1])
                    merged.text = cells[i]
    for line in lines[hi:]:
        doc.add_paragraph(line)
    p = _path(path)
    doc.save(str(p))
    return p


# ------------------------------------------------------------------------------------------------ pdf


def pdf_representable(ch: str) -> bool:
    """Whether ``ch`` comes back from a :func:`write_pdf` file unchanged (whitespace aside).

    True for printable ASCII, the middle dot ``·``, CJK ideographs U+3400–U+4DB5 and U+4E00–U+9FA5, and
    every other GBK character except CJK compatibility ideographs (U+F900–U+FAFF), vertical presentation
    forms (U+FE10–U+FE4F), ``ń``, ``ň``, ``ヸ``, ``ヹ`` and ``・``. Established by drawing the BMP ranges
    U+0020–U+2600, U+3000–U+A000, U+F900–U+FB00, U+FE30–U+FE70 and U+FF00–U+FFF0 in ``STSong-Light`` and
    extracting them with pdfplumber: this rule has no false positive there. Lost are characters outside the
    BMP, U+9FA6 onwards, compatibility ideographs, most accented Latin letters and many symbols; ``ヸ`` and
    ``ヹ`` come back swapped and ``・`` (U+30FB) comes back as ``·`` (U+00B7) — which is why the writer
    draws ``·`` as ``・``.
    """
    if len(ch) != 1:
        return False
    if " " <= ch < "\x7f" or ch == "\u00b7" or "\u3400" <= ch <= "\u4db5" or "\u4e00" <= ch <= "\u9fa5":
        return True
    if "\uf900" <= ch <= "\ufaff" or "\ufe10" <= ch <= "\ufe4f" or ch in "ńňヸヹ・":
        return False
    try:
        ch.encode("gbk")
    except UnicodeEncodeError:
        return False
    return True


def write_pdf(
    text: str,
    path: str | os.PathLike,
    *,
    wrap: bool = False,
    font_size: float = 10.5,
    _password: str | None = None,
) -> Path:
    """Write ``text`` as a text PDF in ``STSong-Light``, one PDF text line per source line.

    Parameters
    ----------
    text : str
        The report text. Characters that are not :func:`pdf_representable` are lost in the round trip;
        those outside the BMP are not even drawn (reportlab would garble the next character).
    path : str or os.PathLike
        Destination.
    wrap : bool, default False
        False: the page is made wide enough for the longest line (up to the PDF limit of 14,400 pt, beyond
        which lines are still wrapped), so every source line is one PDF line and comes back whole. True:
        A4 pages, lines wrapped at the right margin character by character (Chinese has no spaces); each
        wrapped piece comes back as its own line.
    font_size : float, default 10.5
        Font size in points (五号字); lines are ``1.5 × font_size`` apart.

    Returns
    -------
    pathlib.Path

    Notes
    -----
    Blank lines leave vertical space but no text, so pdfplumber does not return them. The output is
    deterministic (reportlab's ``invariant`` mode).
    """
    from reportlab.lib import pdfencrypt
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    if PDF_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(PDF_FONT))
    # reportlab writes UTF-16 code units, so a character outside the BMP garbles its neighbour: drop them.
    text = "".join(ch for ch in text if ord(ch) <= 0xFFFF)
    source = [line.translate(str.maketrans(_PDF_SUBSTITUTES)) for line in text.split("\n")]
    widths: dict[str, float] = {}

    def width(s: str) -> float:
        return sum(widths.setdefault(ch, pdfmetrics.stringWidth(ch, PDF_FONT, font_size)) for ch in s)

    if wrap:
        page_w = _A4[0]
    else:
        longest = max((width(line) for line in source), default=0.0)
        page_w = min(max(_A4[0], longest + 2 * _PDF_MARGIN + font_size), _PDF_MAX_WIDTH)
    page_h = _A4[1]
    room = page_w - 2 * _PDF_MARGIN
    drawn: list[str] = []
    for line in source:
        if width(line) <= room:
            drawn.append(line)
            continue
        piece, used = "", 0.0
        for ch in line:
            w = widths.setdefault(ch, pdfmetrics.stringWidth(ch, PDF_FONT, font_size))
            if used + w > room and piece:
                drawn.append(piece)
                piece, used = "", 0.0
            piece += ch
            used += w
        drawn.append(piece)

    encrypt = None
    if _password is not None:
        encrypt = pdfencrypt.StandardEncryption(_password, ownerPassword=_password + "-owner", strength=128)
    p = _path(path)
    c = canvas.Canvas(str(p), pagesize=(page_w, page_h), invariant=1, encrypt=encrypt)
    c.setTitle("report")
    leading = 1.5 * font_size
    top = page_h - _PDF_MARGIN - font_size
    y = top
    c.setFont(PDF_FONT, font_size)
    for line in drawn:
        if y < _PDF_MARGIN:
            c.showPage()
            c.setFont(PDF_FONT, font_size)
            y = top
        if line.strip():
            c.drawString(_PDF_MARGIN, y, line)
        y -= leading
    c.save()
    return p


def write_encrypted_pdf(text: str, path: str | os.PathLike, password: str = "secret") -> Path:
    """Write ``text`` as a PDF that needs ``password`` to open (RC4 128-bit standard security).

    Parameters
    ----------
    text : str
        The report text.
    path : str or os.PathLike
        Destination.
    password : str, default "secret"
        The user (open) password.

    Returns
    -------
    pathlib.Path
    """
    return write_pdf(text, path, _password=password)


def write_image_pdf(path: str | os.PathLike) -> Path:
    """Write a one-page PDF with only an image and vector shapes: a "scan" with no text layer.

    Parameters
    ----------
    path : str or os.PathLike
        Destination.

    Returns
    -------
    pathlib.Path
    """
    from PIL import Image, ImageDraw
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    img = Image.new("L", (420, 594), 250)
    draw = ImageDraw.Draw(img)
    for i, y in enumerate(range(60, 560, 18)):  # grey bars where lines of text would be
        draw.rectangle((40, y, 380 - (i * 37) % 120, y + 9), fill=90)
    p = _path(path)
    c = canvas.Canvas(str(p), pagesize=_A4, invariant=1)
    c.drawImage(ImageReader(img), 0, 0, width=_A4[0], height=_A4[1])
    c.setStrokeColorRGB(0.8, 0, 0)
    c.setLineWidth(3)
    c.circle(450, 120, 50)  # the red seal
    c.rect(30, 30, _A4[0] - 60, _A4[1] - 60)
    c.save()
    return p


# ----------------------------------------------------------------------------------------------- html

_SITE = "政府门户网站"
_NAV = ("首页", "政务公开", "政务服务", "互动交流", "走进本地", "专题专栏")
_SIDE = ("部门文件", "通知公告", "人事信息", "财政资金", "规划计划", "政策解读", "工作动态", "统计数据")
_RELATED = (
    "关于开展2024年度社会组织年报工作的通知",
    "关于公布最低生活保障标准的通告",
    "养老服务补贴申领指南",
)


def _title_like(line: str) -> bool:
    line = line.strip()
    return 0 < len(line) <= 80 and not line.endswith(("。", "；", "：", ";", ":"))


def write_html(
    text: str,
    path: str | os.PathLike,
    chrome: bool = True,
    *,
    container: str = "trs",
    heading: bool = True,
    encoding: str = "utf-8",
) -> Path:
    """Write ``text`` as a Chinese government web page.

    Parameters
    ----------
    text : str
        The report text; every non-blank line becomes a ``<p>`` (short title-like lines in ``<strong>``),
        every blank line a ``<p>&nbsp;</p>``.
    path : str or os.PathLike
        Destination.
    chrome : bool, default True
        Surround the article with a realistic page: top bar, ``<header>`` with search form, ``<nav>`` menu,
        breadcrumbs (当前位置：首页 > …), a link sidebar, a publication info bar (发布时间/来源/字号), share
        and print links, related links, a ``<footer>`` (网站地图, 主办单位, 版权所有, ICP number) and scripts.
        Every word of :data:`CHROME_WORDS` appears in it. False writes a bare page with only the article.
    container : {"trs", "article", "main", "div"}, default "trs"
        What holds the paragraphs: ``<div class="TRS_Editor">`` (the TRS CMS used by most government sites),
        ``<article>``, ``<main>``, or an anonymous ``<div id="c1">`` (found only by text density).
    heading : bool, default True
        Put the first non-blank line in an ``<h1>`` above the info bar, outside the container, if it looks
        like a title (at most 80 characters, no final 。；：).
    encoding : str, default "utf-8"
        Byte encoding; declared in ``<meta charset>`` (GB18030/GBK pages declare ``gb2312``, as real
        sites do).

    Returns
    -------
    pathlib.Path
    """
    esc = _html.escape
    lines = text.split("\n")
    title = ""
    if heading:
        first = next((i for i, line in enumerate(lines) if line.strip()), None)
        if first is not None and _title_like(lines[first]):
            title = lines[first].strip()
            lines = lines[first + 1 :]
    page_title = title or next((line.strip() for line in lines if line.strip()), "")[:30]
    paras = []
    for line in lines:
        if not line.strip():
            paras.append("<p>&nbsp;</p>")
        elif _title_like(line) and len(line.strip()) <= 30:
            paras.append(f'<p style="text-indent:2em;"><strong>{esc(line, quote=False)}</strong></p>')
        else:
            paras.append(f'<p style="text-indent:2em;">{esc(line, quote=False)}</p>')
    body = "\n".join(paras)
    if container == "trs":
        block = f'<div class="view TRS_UEDITOR trs_paper_default trs_web">\n<div class="TRS_Editor">\n{body}\n</div>\n</div>'
    elif container == "article":
        block = f"<article>\n{body}\n</article>"
    elif container == "main":
        block = f"<main>\n{body}\n</main>"
    elif container == "div":
        block = f'<div id="c1">\n{body}\n</div>'
    else:
        raise ValueError(f"container must be trs, article, main or div, not {container!r}")

    declared = {"gb18030": "gb2312", "gbk": "gb2312"}.get(encoding.lower(), encoding)
    h1 = f'<h1 class="article-title">{esc(title, quote=False)}</h1>' if title else ""
    if not chrome:
        doc = (
            f'<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n<meta charset="{declared}">\n'
            f"<title>{esc(page_title)}</title>\n</head>\n<body>\n{h1}\n{block}\n</body>\n</html>\n"
        )
    else:
        nav = "".join(f'<li><a href="/col{i}/">{w}</a></li>' for i, w in enumerate(_NAV))
        side = "".join(f'<li><a href="/zwgk/{i}/">{w}</a></li>' for i, w in enumerate(_SIDE))
        related = "".join(
            f'<li><a href="/r/{i}.html">{w}</a><span>2024-0{i + 1}-15</span></li>'
            for i, w in enumerate(_RELATED)
        )
        doc = f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta http-equiv="Content-Type" content="text/html; charset={declared}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<meta name="ArticleTitle" content="{esc(page_title)}">
<title>{esc(page_title)}_{_SITE}</title>
<link rel="stylesheet" href="/images/common.css">
<style>.TRS_Editor p{{line-height:2;font-family:仿宋_GB2312;}} .w1200{{width:1200px;margin:0 auto;}}</style>
<script>var _hmt = _hmt || []; (function(){{ var hm = document.createElement("script"); }})();</script>
</head>
<body>
<div class="topbar"><div class="w1200"><span>欢迎访问{_SITE}！</span>
<a href="javascript:void(0)" id="wza">无障碍</a> <a href="/zzms/">长者模式</a> <a href="/login">登录</a></div></div>
<header class="header"><div class="w1200"><a class="logo" href="/"><img src="/images/logo.png" alt="{_SITE}"></a>
<form class="search" action="/search"><input type="text" name="q" placeholder="请输入关键词"><button type="submit">搜索</button></form>
</div></header>
<nav class="main-nav"><ul class="w1200">{nav}</ul></nav>
<div class="main w1200">
<div class="crumbs">当前位置：<a href="/">首页</a> &gt; <a href="/zwgk/">政务公开</a> &gt; <a href="/zwgk/tzgg/">通知公告</a></div>
<div class="con-left"><h3 class="side-title">信息公开</h3><ul class="side-list">{side}</ul></div>
<div class="con-right">
<div class="article">
{h1}
<div class="info"><span>发布时间：2024-08-20 10:30</span><span>来源：本单位</span><span>浏览次数：<em id="hits">1024</em></span>
<span class="fontsize">【字号：<a href="javascript:doZoom(18)">大</a> <a href="javascript:doZoom(16)">中</a> <a href="javascript:doZoom(14)">小</a>】</span></div>
{block}
<div class="bdshare"><span>分享到：</span><a class="bds_weixin">微信</a><a class="bds_tsina">微博</a></div>
<div class="print"><a href="javascript:window.print()">【打印本页】</a> <a href="javascript:window.close()">【关闭窗口】</a></div>
</div>
<div class="related"><h3>相关链接</h3><ul>{related}</ul></div>
</div>
</div>
<footer class="footer"><div class="w1200">
<p><a href="/wzdt/">网站地图</a> | <a href="/lxwm/">联系我们</a> | <a href="/yssm/">隐私声明</a></p>
<p>主办单位：人民政府办公室　承办：政务服务数据管理局　版权所有：人民政府</p>
<p><a href="https://beian.miit.gov.cn/">粤ICP备05012345号</a>　网站标识码：4413230001　<img src="/images/jiucuo.png" alt="政府网站找错"></p>
</div></footer>
<script src="/js/jquery.min.js"></script>
<script>$(function(){{ $(".TRS_Editor img").css("max-width","100%"); }});</script>
</body>
</html>
"""
    p = _path(path)
    p.write_bytes(doc.encode(encoding))
    return p
