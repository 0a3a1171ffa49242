"""Reading-side robustness: reader warnings reach the report, size limits, owner-password PDFs, and paths that
name no readable file (dangling links, symlink loops, folders named like files) as ``errors`` rows."""

from __future__ import annotations

import io
import os
import zipfile

import pytest
from conftest import raw_text

from compare.corpus import expand_paths, process_bytes, process_file, read_corpus
from compare.io import ReadError, read_bytes, read_document


def test_reader_warnings_reach_the_report_warnings():
    data = raw_text("huidong").encode("utf-8")
    cut = data.index("整改".encode()) + 6
    damaged = data[:cut] + b"\xff" + data[cut:]  # one stray byte: decoded with U+FFFD and a reader warning
    res = process_bytes(damaged, "damaged.txt")
    assert res.ok
    reader = read_bytes(damaged, "damaged.txt").warnings
    assert reader and all(w in res.report["warnings"] for w in reader)
    assert res.report["n_warnings"] == len(res.report["warnings"])


def test_text_beyond_the_limit_is_too_large():
    text = "巡察整改情况。" * 400
    with pytest.raises(ReadError) as e:
        read_bytes(text.encode("utf-8"), "big.txt", max_chars=1_000)
    assert e.value.reason == "too_large"
    assert read_bytes(text.encode("utf-8"), "big.txt", max_chars=10_000).text == text


def test_a_file_too_big_is_refused_before_it_is_read(tmp_path):
    p = tmp_path / "huge.txt"
    p.write_bytes("整改".encode() * 5_000)  # 30 000 bytes > 4 bytes × 5 000 characters
    with pytest.raises(ReadError) as e:
        read_document(p, max_chars=5_000)
    assert e.value.reason == "too_large" and "bytes" in e.value.detail
    res = process_file(p, max_chars=5_000)
    assert res.error["error"] == "too_large" and res.error["stage"] == "read"
    assert process_file(p).ok  # the default limit is far above


def _docx_bomb(n_chars: int) -> bytes:
    """A minimal .docx whose document.xml inflates to well over ``n_chars`` bytes from a few kilobytes."""
    body = "<w:p><w:r><w:t>" + "整" * n_chars + "</w:t></w:r></w:p>"
    xml = ('<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/'
           f'wordprocessingml/2006/main"><w:body>{body}</w:body></w:document>')
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("word/document.xml", xml)
    return buf.getvalue()


def test_docx_that_expands_beyond_the_limit_is_too_large_before_inflating():
    data = _docx_bomb(200_000)
    assert len(data) < 20_000  # small on disk …
    with pytest.raises(ReadError) as e:
        read_bytes(data, "bomb.docx", max_chars=10_000)  # … 600 kB inflated
    assert e.value.reason == "too_large" and "expands" in e.value.detail


def _owner_only_pdf(path, lines: list[str]) -> None:
    from reportlab.lib import pdfencrypt
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    if "STSong-Light" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    enc = pdfencrypt.StandardEncryption("", ownerPassword="owner-only", canCopy=0, canModify=0, strength=128)
    c = canvas.Canvas(str(path), encrypt=enc, invariant=1)
    c.setFont("STSong-Light", 11)
    for i, line in enumerate(lines):
        c.drawString(50, 780 - 18 * i, line)
    c.save()


def test_pdf_with_only_an_owner_password_is_read(tmp_path):
    p = tmp_path / "owner.pdf"
    lines = ["关于县委巡察反馈意见整改进展情况的通报", "一、整改工作基本情况", "党组高度重视。"]
    _owner_only_pdf(p, lines)
    doc = read_document(p)
    assert [ln.strip() for ln in doc.text.splitlines() if ln.strip()] == lines
    assert any("owner password" in w for w in doc.warnings)


@pytest.mark.skipif(os.name != "posix", reason="symlinks")
def test_links_loops_and_folders_named_like_files_get_error_rows(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "good.txt").write_text(raw_text("huidong"), encoding="utf-8")
    (raw / "gone.txt").symlink_to(raw / "nowhere.txt")  # dangling
    (raw / "loop_a.txt").symlink_to(raw / "loop_b.txt")
    (raw / "loop_b.txt").symlink_to(raw / "loop_a.txt")  # a loop
    (raw / "folder.txt").mkdir()  # a folder named like a file
    (raw / "notes").mkdir()  # a plain subfolder is not a report
    paths = expand_paths(raw)
    assert sorted(os.path.basename(p) for p in paths) == ["folder.txt", "gone.txt", "good.txt", "loop_a.txt",
                                                          "loop_b.txt"]
    c = read_corpus(paths)
    assert c.reports.report_id.tolist() == ["good"]
    errors = {os.path.basename(r.path): (r.error, r.message) for r in c.errors.itertuples()}
    assert errors["gone.txt"][0] == "not_found" and "dangling" in errors["gone.txt"][1]
    assert errors["loop_a.txt"][0] == errors["loop_b.txt"][0] == "unreadable"
    assert "loop" in errors["loop_a.txt"][1]
    assert errors["folder.txt"][0] == "unreadable" and "folder" in errors["folder.txt"][1]
    assert set(c.errors.stage) == {"read"}


# --- the size limit reaches Study, read_corpus and build ----------------------------------------------------
def test_read_corpus_and_study_pass_the_size_limit_down(tmp_path):
    from compare.cache import Cache
    from compare.corpus import read_corpus
    from compare.study import Study

    small, big = tmp_path / "small.txt", tmp_path / "big.txt"
    small.write_text("根据县委统一部署。\n", encoding="utf-8")
    big.write_text("整改" * 600, encoding="utf-8")
    corpus = read_corpus([str(small), str(big)], cache=Cache(None), max_chars=1000)
    assert list(corpus.reports["report_id"]) == ["small"]
    assert list(corpus.errors["error"]) == ["too_large"] and "big.txt" in corpus.errors["message"].iloc[0]
    study = Study.resolve(cache=False, max_chars=1000)
    assert study.max_chars == 1000
    assert list(study.load([str(small), str(big)], tokens=False).errors["error"]) == ["too_large"]


def test_build_cli_passes_max_mb_down(monkeypatch):
    import compare.build
    from compare.cli import build_parser

    seen = {}
    monkeypatch.setattr(compare.build, "build", lambda **kw: seen.update(kw) or {"ok": True})
    args = build_parser().parse_args(["build", "--max-mb", "0.5", "--no-figures", "--no-notebooks"])
    assert args.func(args) == 0 and seen["max_chars"] == 500_000
    args = build_parser().parse_args(["build"])
    seen.clear()
    assert args.func(args) == 0 and seen["max_chars"] is None
