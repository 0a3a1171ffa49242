"""Tests for compare.io: bytes → text for .txt, .docx, .pdf and .html reports, and the errors."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import pickle
import random
import re
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compare import config
from compare.io import REASONS, SUPPORTED_SUFFIXES, Document, ReadError, read_bytes, read_document

try:  # tests/formats.py: a module of the tests package, or top-level when pytest puts tests/ on sys.path
    from tests import formats
except ImportError:
    import formats

REPORTS = ["huidong_2024-08-20.txt", "haizhu_2025-05-13.txt", "xuchang_2024-12-31.txt"]
SMALLEST = "huidong_2024-08-20.txt"


def _nonspace(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _lines(text: str) -> list[str]:
    """Non-blank lines, stripped: the line structure a paragraph-based format must keep."""
    return [line.strip() for line in text.split("\n") if line.strip()]


@pytest.fixture(scope="module", params=REPORTS)
def report(request) -> tuple[str, bytes, str]:
    raw = (config.RAW_DIR / request.param).read_bytes()
    return request.param, raw, raw.decode("utf-8")


@pytest.fixture(scope="module")
def smallest() -> str:
    return (config.RAW_DIR / SMALLEST).read_bytes().decode("utf-8")


# ------------------------------------------------------------------------------------------------ txt


def test_bundled_txt_reads_exactly(report):
    name, raw, text = report
    path = config.RAW_DIR / name
    doc = read_document(path)
    assert isinstance(doc, Document)
    assert doc.text == text
    assert doc.path == str(path)
    assert doc.source_format == "txt"
    assert doc.encoding == "utf-8"
    assert doc.sha256 == hashlib.sha256(raw).hexdigest()
    assert doc.n_bytes == len(raw)
    assert doc.warnings == ()


@pytest.mark.parametrize(
    ("encoding", "bom", "expected"),
    [
        ("gb18030", True, "gb18030"),
        ("utf-8-sig", True, "utf-8-sig"),
        ("utf-16", True, "utf-16"),
        ("utf-16-be", True, "utf-16"),
        ("utf-16-le", False, "utf-16-le"),
        ("utf-16-be", False, "utf-16-be"),
    ],
)
def test_txt_encodings_round_trip(report, tmp_path, encoding, bom, expected):
    name, _, text = report
    path = formats.write_txt(text, tmp_path / name, encoding, bom=bom)
    doc = read_document(path)
    assert doc.text == text
    assert doc.encoding == expected
    assert doc.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert doc.n_bytes == path.stat().st_size


@pytest.mark.parametrize("newline", ["\r\n", "\r"])
def test_txt_line_breaks_are_normalised(smallest, tmp_path, newline):
    path = formats.write_txt(smallest, tmp_path / "crlf.txt", "gb18030", newline=newline)
    assert newline.encode() in path.read_bytes()
    doc = read_document(path)
    assert doc.text == smallest
    assert doc.encoding == "gb18030"


def test_txt_big5_traditional(tmp_path):
    text = "中共某縣民政局黨組關於巡察整改進展情況的通報\n一、關於落實全面從嚴治黨主體責任方面\n"
    doc = read_document(formats.write_txt(text, tmp_path / "big5.txt", "big5"))
    assert doc.text == text  # no traditional → simplified conversion here
    assert doc.encoding == "big5"


def test_short_gbk_text_prefers_gb18030():
    # Four bytes that decode as both GBK (整改) and Big5 (淕蜊): mainland reports win the tie.
    doc = read_bytes("整改".encode("gbk"), "short.txt")
    assert (doc.text, doc.encoding) == ("整改", "gb18030")


def test_suffix_is_case_insensitive(smallest, tmp_path):
    path = formats.write_txt(smallest, tmp_path / "REPORT.TXT", "gb18030")
    doc = read_document(str(path))
    assert (doc.path, doc.text, doc.source_format) == (str(path), smallest, "txt")


def test_read_bytes_matches_read_document(report):
    name, raw, _ = report
    from_memory = read_bytes(raw, name)
    assert from_memory.path == name
    assert from_memory == dataclasses.replace(read_document(config.RAW_DIR / name), path=name)


def test_truncated_multibyte_character_is_dropped_with_warning(smallest):
    data = (smallest + "改").encode("gb18030")[:-1]  # the last character cut in half
    doc = read_bytes(data, "t.txt")
    assert doc.text == smallest
    assert doc.encoding == "gb18030"
    assert doc.warnings == ("last 1 byte(s) are an incomplete character and were dropped",)


def test_one_bad_utf8_sequence_is_replaced_with_warning(smallest):
    data = smallest.encode("utf-8")
    cut = len(smallest[:100].encode("utf-8"))  # a character boundary
    doc = read_bytes(data[:cut] + b"\xff" + data[cut:], "bad.txt")
    assert doc.encoding == "utf-8"
    assert doc.text.count("\ufffd") == 1
    assert doc.text.replace("\ufffd", "") == smallest
    assert doc.warnings == ("1 invalid UTF-8 sequence(s) replaced by U+FFFD",)


# ----------------------------------------------------------------------------------------------- docx


def test_docx_paragraphs_round_trip_exactly(report, tmp_path):
    name, _, text = report
    doc = read_document(formats.write_docx(text, tmp_path / f"{name}.docx"))
    assert doc.text == text
    assert doc.source_format == "docx"
    assert doc.encoding is None


def test_docx_with_table_keeps_every_character_in_order(report, tmp_path):
    name, _, text = report
    doc = read_document(formats.write_docx(text, tmp_path / f"{name}.docx", table=True))
    assert _nonspace(doc.text) == _nonspace(text)
    # the middle third went into a two-column table: its first two non-blank lines are one tab-joined row
    lines = text.split("\n")
    cells = [line for line in lines[len(lines) // 3 : 2 * len(lines) // 3] if line.strip()]
    assert f"{cells[0].strip()}\t{cells[1].strip()}" in doc.text.split("\n")


W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def _docx_package(body: str) -> bytes:
    """A minimal .docx with ``body`` as the content of <w:body>."""
    document = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'<w:document xmlns:w="{W_NS}" '
        'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
        'xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape" '
        'xmlns:v="urn:schemas-microsoft-com:vml">'
        f"<w:body>{body}</w:body></w:document>"
    )
    content_types = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/word/document.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
        "</Types>"
    )
    rels = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Target="word/document.xml" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"/>'
        "</Relationships>"
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("[Content_Types].xml", content_types)
        zf.writestr("_rels/.rels", rels)
        zf.writestr("word/document.xml", document)
    return buf.getvalue()


def _p(text: str) -> str:
    return f"<w:p><w:r><w:t>{text}</w:t></w:r></w:p>"


def _tc(*paras: str, span: int = 1) -> str:
    pr = f'<w:tcPr><w:gridSpan w:val="{span}"/></w:tcPr>' if span > 1 else ""
    return f"<w:tc>{pr}{''.join(paras) or '<w:p/>'}</w:tc>"


def test_docx_body_walk_in_document_order():
    textbox = (
        "<w:p><w:r><w:t>图前</w:t></w:r><w:r><mc:AlternateContent>"
        '<mc:Choice Requires="wps"><w:drawing><wps:txbx><w:txbxContent>'
        f"{_p('文本框')}</w:txbxContent></wps:txbx></w:drawing></mc:Choice>"
        "<mc:Fallback><w:pict><v:shape><v:textbox><w:txbxContent>"
        f"{_p('文本框')}</w:txbxContent></v:textbox></v:shape></w:pict></mc:Fallback>"
        "</mc:AlternateContent></w:r></w:p>"
    )
    nested = f"<w:tbl><w:tr>{_tc(_p('内'))}{_tc(_p('表'))}</w:tr></w:tbl>"
    body = (
        _p("标题") + '<w:p><w:r><w:t xml:space="preserve">一是</w:t></w:r><w:r><w:tab/><w:t>二是</w:t></w:r>'
        "<w:r><w:br/><w:t>换行</w:t></w:r></w:p>"
        '<w:p><w:hyperlink><w:r><w:t>链接</w:t></w:r></w:hyperlink><w:ins w:id="1" w:author="a">'
        '<w:r><w:t>插入</w:t></w:r></w:ins><w:del w:id="2" w:author="a"><w:r><w:delText>删除</w:delText>'
        "</w:r></w:del></w:p>"
        f"<w:sdt><w:sdtContent>{_p('控件')}</w:sdtContent></w:sdt>"
        "<w:tbl>"
        f"<w:tr>{_tc(_p('序号'))}{_tc(_p('问题'))}{_tc(_p('措施'))}</w:tr>"
        f"<w:tr>{_tc(_p('1'))}{_tc(_p('问题甲'))}{_tc(_p('一是整改'), _p('二是落实'))}</w:tr>"
        f"<w:tr>{_tc(_p('合并行第一段'), _p('合并行第二段'), span=3)}</w:tr>"
        f"<w:tr>{_tc()}{_tc(nested, '<w:p/>')}{_tc(_p('右'))}</w:tr>"
        "</w:tbl>" + textbox + _p("结尾") + "<w:sectPr/>"
    )
    doc = read_bytes(_docx_package(body), "structure.docx")
    assert doc.text == (
        "标题\n一是\t二是\n换行\n链接插入\n控件\n"
        "序号\t问题\t措施\n1\t问题甲\t一是整改 二是落实\n合并行第一段\n合并行第二段\n\t内\t表\t右\n"
        "图前\n文本框\n结尾"
    )


# ------------------------------------------------------------------------------------------------ html


@pytest.mark.parametrize("container", ["trs", "article", "main", "div"])
def test_html_page_gives_the_article_without_chrome(report, tmp_path, container):
    name, _, text = report
    path = formats.write_html(text, tmp_path / f"{name}.html", container=container)
    page = path.read_text("utf-8")
    assert all(word in page for word in formats.CHROME_WORDS)
    doc = read_document(path)
    assert doc.source_format == "html"
    assert doc.encoding == "utf-8"
    assert _nonspace(doc.text) == _nonspace(text)
    assert _lines(doc.text) == _lines(text)
    assert [word for word in formats.CHROME_WORDS if word in doc.text] == []


def test_html_gb2312_declared_page_is_read_as_gb18030(smallest, tmp_path):
    path = formats.write_html(smallest, tmp_path / "gb.htm", encoding="gb18030")
    assert b'charset=gb2312"' in path.read_bytes()
    doc = read_document(path)
    assert doc.encoding == "gb18030"
    assert _lines(doc.text) == _lines(smallest)


def test_html_without_chrome(smallest, tmp_path):
    doc = read_document(formats.write_html(smallest, tmp_path / "bare.html", chrome=False, heading=False))
    assert _lines(doc.text) == _lines(smallest)


def test_html_blocks_breaks_cells_and_hidden_parts():
    page = """<html><head><meta charset="utf-8"><title>标题_网站</title>
<style>p { color: red }</style></head><body>
<div class="menu">首页 | 机构概况</div>
<h1>关于巡察整改的通报</h1>
<div class="info">发布时间：2024-01-01</div>
<div class="TRS_Editor">
<p>第一段<strong>加粗</strong>文字，
   跨行</p>
<p>&nbsp;</p>
<p>第二段<br>换行后</p>
<!-- 注释 -->
<script>var x = "脚本";</script>
<p style="display: none">隐藏</p>
<table><tr><td>序号</td><td> 问题 </td></tr><tr><td>1</td><td>问题甲</td></tr></table>
<p>a &lt; b &amp; c</p>
</div>
<footer>版权所有</footer>
</body></html>"""
    # declared utf-8 but saved as GB18030: the declaration is checked, not trusted
    doc = read_bytes(page.encode("gb18030"), "page.html")
    assert doc.encoding == "gb18030"
    assert doc.text == (
        "关于巡察整改的通报\n第一段加粗文字， 跨行\n\n第二段\n换行后\n序号\t问题\n1\t问题甲\na < b & c"
    )


def test_html_article_header_keeps_the_title_but_not_the_site_header():
    page = """<html><body><header class="site"><h1>某市人民政府</h1><div>网站首页</div></header>
<main><article><header><h1>关于巡察整改的通报</h1><p class="meta">2024-01-01 来源：民政局</p></header>
<p>正文第一段，内容较长的一段文字。</p><p>正文第二段。</p><footer>责任编辑：张三</footer></article></main>
<footer>版权所有</footer></body></html>"""
    doc = read_bytes(page.encode("utf-8"), "article.html")
    assert doc.text == "关于巡察整改的通报\n正文第一段，内容较长的一段文字。\n正文第二段。"


def test_html_suffix_with_plain_text_is_read_as_text(smallest):
    doc = read_bytes(smallest.encode("utf-8"), "saved.htm")
    assert doc.text == smallest
    assert doc.warnings == ("no HTML tags; read as plain text",)


# ------------------------------------------------------------------------------------------------- pdf


def test_pdf_round_trip_keeps_every_character_and_line(report, tmp_path):
    name, _, text = report
    assert all(formats.pdf_representable(ch) for ch in _nonspace(text))
    doc = read_document(formats.write_pdf(text, tmp_path / f"{name}.pdf"))
    assert doc.source_format == "pdf"
    assert doc.encoding is None
    assert _nonspace(doc.text) == _nonspace(text)
    # one PDF line per non-blank source line (blank lines are not in a PDF's text)
    assert [_nonspace(line) for line in doc.text.split("\n")] == [
        _nonspace(line) for line in text.split("\n") if line.strip()
    ]


def test_wrapped_pdf_breaks_lines_but_keeps_characters(smallest, tmp_path):
    doc = read_document(formats.write_pdf(smallest, tmp_path / "a4.pdf", wrap=True))
    assert _nonspace(doc.text) == _nonspace(smallest)
    assert len(_lines(doc.text)) > 2 * len(_lines(smallest))


def test_pdf_loses_exactly_the_unrepresentable_characters(tmp_path):
    text = "甲·乙𠀀丙ç丁ａ戊\uf900己①庚é"
    kept = "".join(ch for ch in text if formats.pdf_representable(ch))
    assert kept == "甲·乙丙丁ａ戊己①庚é"
    doc = read_document(formats.write_pdf(text, tmp_path / "chars.pdf"))
    assert doc.text == kept


def test_pdf_fake_bold_duplicates_are_removed(tmp_path):
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont(formats.PDF_FONT))
    path = tmp_path / "bold.pdf"
    c = canvas.Canvas(str(path), invariant=1)
    c.setFont(formats.PDF_FONT, 12)
    c.drawString(36, 700, "巡察整改进展情况")
    c.drawString(36.4, 700.3, "巡察整改进展情况")  # the same text again, offset: "fake bold"
    c.drawString(36, 680, "第二行")
    c.save()
    assert read_document(path).text == "巡察整改进展情况\n第二行"


# --------------------------------------------------------------------------------------------- errors


def _truncated_docx(text: str, path: Path) -> Path:
    full = formats.write_docx(text, path.with_suffix(".full.docx")).read_bytes()
    path.write_bytes(full[: len(full) // 2])
    return path


def _random_bytes(seed: int, n: int, lo: int = 0, hi: int = 256) -> bytes:
    rng = random.Random(seed)
    return bytes(rng.randrange(lo, hi) for _ in range(n))


BAD_INPUTS = {
    # name: (file name, writer(text, path) -> Path, reason)
    "empty file": ("empty.txt", lambda t, p: _write(p, b""), "empty"),
    "whitespace only": ("blank.txt", lambda t, p: _write(p, " \r\n\t\u3000\n".encode()), "empty"),
    "whitespace only utf-16": ("blank16.txt", lambda t, p: formats.write_txt(" \n \n", p, "utf-16"), "empty"),
    "binary garbage": ("garbage.txt", lambda t, p: _write(p, _random_bytes(0, 4096)), "binary"),
    "control characters": ("ctrl.txt", lambda t, p: _write(p, b"\x01\x02\x03abc\x04\x05" * 40), "binary"),
    "pdf named .txt": ("report.txt", lambda t, p: formats.write_pdf(t[:200], p), "binary"),
    "unsupported suffix": ("report.xyz", lambda t, p: formats.write_txt(t, p), "unsupported_format"),
    "no suffix": ("README", lambda t, p: formats.write_txt(t, p), "unsupported_format"),
    "undecodable bytes": (
        "mojibake.txt",
        lambda t, p: _write(p, _random_bytes(1, 3000, 0x80)),
        "undecodable",
    ),
    "encrypted pdf": (
        "locked.pdf",
        lambda t, p: formats.write_encrypted_pdf(t[:500], p, "pw"),
        "encrypted_pdf",
    ),
    "image-only pdf": ("scan.pdf", lambda t, p: formats.write_image_pdf(p), "no_text_layer"),
    "truncated pdf": (
        "cut.pdf",
        lambda t, p: _write(p, formats.write_pdf(t, p).read_bytes()[:3000]),
        "corrupt_pdf",
    ),
    "html saved as pdf": (
        "error.pdf",
        lambda t, p: _write(p, b"<html><body>404</body></html>"),
        "corrupt_pdf",
    ),
    "truncated docx": ("cut.docx", lambda t, p: _truncated_docx(t, p), "corrupt_docx"),
    "text named .docx": ("notes.docx", lambda t, p: formats.write_txt(t, p), "corrupt_docx"),
    "zip without document": ("other.docx", lambda t, p: _write(p, _zip({"a.txt": "x"})), "corrupt_docx"),
    "legacy .doc": (
        "old.docx",
        lambda t, p: _write(p, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)),
        "corrupt_docx",
    ),
    "docx without text": ("blank.docx", lambda t, p: formats.write_docx("\n \n", p), "empty"),
    "html without text": ("nav.html", lambda t, p: _write(p, "<nav>首页</nav><p> </p>".encode()), "empty"),
}


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _zip(members: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, content in members.items():
            zf.writestr(name, content)
    return buf.getvalue()


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_raises_read_error(case, smallest, tmp_path):
    file_name, make, reason = BAD_INPUTS[case]
    path = make(smallest, tmp_path / file_name)
    assert path.name == file_name
    with pytest.raises(ReadError) as info:
        read_document(path)
    err = info.value
    assert err.reason == reason
    assert err.reason in REASONS
    assert err.path == str(path)
    assert file_name in str(err)
    assert f"[{reason}]" in str(err)
    # same outcome from memory
    with pytest.raises(ReadError) as info2:
        read_bytes(path.read_bytes(), file_name)
    assert info2.value.reason == reason


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(ReadError) as info:
        read_document(tmp_path / "nowhere.txt")
    assert info.value.reason == "not_found"
    assert "nowhere.txt" in str(info.value)
    (tmp_path / "folder.txt").mkdir()
    with pytest.raises(ReadError) as info:
        read_document(tmp_path / "folder.txt")
    assert info.value.reason == "unreadable"


def test_read_error_message_and_pickling():
    err = ReadError("data/raw/a.pdf", "encrypted_pdf")
    assert str(err) == "cannot read 'data/raw/a.pdf': PDF is password-protected [encrypted_pdf]"
    back = pickle.loads(pickle.dumps(err))
    assert (back.path, back.reason, back.detail, str(back)) == (err.path, err.reason, err.detail, str(err))


def test_read_bytes_rejects_non_bytes():
    with pytest.raises(TypeError):
        read_bytes("text, not bytes", "a.txt")


def test_document_is_frozen(smallest):
    doc = read_bytes(smallest.encode(), "a.txt")
    with pytest.raises(AttributeError):
        doc.text = "changed"


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=1500), suffix=st.sampled_from(SUPPORTED_SUFFIXES))
def test_arbitrary_bytes_give_a_document_or_read_error(data, suffix):
    try:
        doc = read_bytes(data, f"fuzz{suffix}")
    except ReadError as err:
        assert err.reason in REASONS
    else:
        assert doc.text.strip()
        assert "\r" not in doc.text


@pytest.mark.parametrize("suffix", [".docx", ".pdf", ".html"])
def test_damaged_files_give_a_document_or_read_error(suffix, smallest, tmp_path):
    text = smallest[:600]
    writer = {".docx": formats.write_docx, ".pdf": formats.write_pdf, ".html": formats.write_html}[suffix]
    good = writer(text, tmp_path / f"good{suffix}").read_bytes()
    rng = random.Random(suffix)
    for _ in range(25):
        data = bytearray(good)
        if rng.random() < 0.3:
            data = data[: rng.randrange(len(data))]
        for _ in range(rng.randrange(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        try:
            read_bytes(bytes(data), f"damaged{suffix}")
        except ReadError as err:
            assert err.reason in REASONS


def test_html_metadata_line_between_title_and_article_is_kept_apart(tmp_path):
    page = """<html><head><meta charset="utf-8"><title>t</title></head><body>
<div class="menu">首页 | 巡视巡察</div>
<h1>中共某县民政局党组关于巡察整改情况的通报</h1>
<div class="info">来源：某县民政局 发布时间：2024-08-09 16:20 浏览次数：</div>
<div class="TRS_Editor"><p>根据县委统一部署，县委第一巡察组对县民政局党组进行了巡察。</p><p>一、整改情况</p></div>
</body></html>"""
    path = tmp_path / "page.html"
    path.write_text(page, encoding="utf-8")
    doc = read_document(path)
    assert doc.page_meta == "来源：某县民政局 发布时间：2024-08-09 16:20 浏览次数："
    assert "发布时间" not in doc.text and doc.text.startswith("中共某县民政局党组关于巡察整改情况的通报\n")
    assert read_document(formats.write_html("根据县委统一部署。\n", tmp_path / "x.html", heading=False)).page_meta == ""
