"""Stage 1 (reading): read a report's bytes and turn them into text.

This module does one thing: given a file (or its bytes) in one of the supported formats
(:data:`SUPPORTED_SUFFIXES`), return a :class:`Document` holding the decoded text and
provenance (format, encoding, SHA-256, size). It detects text encodings, reads .docx, .pdf and
web pages, and strips web-page chrome. It does **not** normalise the text (character widths,
traditional → simplified, broken lines, markup): that is :mod:`compare.normalize`'s job.

Every problem with an input file raises :class:`ReadError`, whose ``reason`` is one of the short codes
in :data:`REASONS` and whose message names the file, so a batch can record the failure as a row of the
``errors`` table and carry on.

Examples
--------
>>> from compare.io import read_bytes
>>> doc = read_bytes("巡察整改\\r\\n".encode("gb18030"), "report.txt")
>>> doc.text, doc.encoding, doc.source_format
('巡察整改\\n', 'gb18030', 'txt')
"""

from __future__ import annotations

import codecs
import hashlib
import io as _io
import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Document", "ReadError", "REASONS", "SUPPORTED_SUFFIXES", "DEFAULT_MAX_CHARS", "check_size",
           "read_document", "read_bytes"]

#: File extensions the readers understand.
SUPPORTED_SUFFIXES = (".txt", ".docx", ".pdf", ".html", ".htm")

#: Reason codes carried by :class:`ReadError`, with the human explanation used in its message.
REASONS: dict[str, str] = {
    "not_found": "file not found",
    "unreadable": "file could not be opened",
    "unsupported_format": "unsupported file type",
    "empty": "file is empty or contains only whitespace",
    "binary": "file holds binary data, not text",
    "undecodable": "could not decode the text (tried UTF-8, UTF-16, GB18030, Big5)",
    "corrupt_docx": "not a readable .docx file (damaged or not a Word 2007+ document)",
    "corrupt_pdf": "not a readable PDF file (damaged or not a PDF)",
    "corrupt_html": "web page could not be parsed",
    "encrypted_pdf": "PDF is password-protected",
    "no_text_layer": "PDF has no text layer (scanned or image-only; it needs OCR)",
    "unmapped_glyphs": "PDF text uses fonts without a Unicode mapping (extracts as (cid:N) codes)",
    "too_large": "file expands beyond the size limit (max_chars)",
}

#: The default limit on a report's text, in characters (a long report has a few hundred thousand).
DEFAULT_MAX_CHARS = 20_000_000
# Bytes a file may hold per character of the limit before it is refused unread: 4 for text (UTF-32 at
# worst), 16 for the XML of a .docx and for a PDF (markup, fonts and images around the text).
_BYTES_PER_CHAR = {"txt": 4, "html": 4, "docx": 16, "pdf": 16}

_FORMAT_BY_SUFFIX = {".txt": "txt", ".docx": "docx", ".pdf": "pdf", ".html": "html", ".htm": "html"}

#: Candidate legacy encodings handed to charset-normalizer: GB18030 is the superset of GBK and GB2312
#: (simplified Chinese), Big5 / CP950 cover traditional Chinese.
_LEGACY_CANDIDATES = ("gb18030", "big5", "cp950")

# Signatures of files that are not text whatever their suffix.
_MAGIC = {
    b"%PDF-": ("binary", "a PDF document"),
    b"PK\x03\x04": ("binary", "a zip archive (.docx, .xlsx, …)"),
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1": ("binary", "an OLE2 file (.doc, .xls, …)"),
    b"\x89PNG": ("binary", "a PNG image"),
    b"\xff\xd8\xff": ("binary", "a JPEG image"),
    b"GIF8": ("binary", "a GIF image"),
    b"\x1f\x8b": ("binary", "a gzip archive"),
    b"Rar!": ("binary", "a RAR archive"),
    b"7z\xbc\xaf": ("binary", "a 7z archive"),
    b"{\\rtf": ("unsupported_format", "an RTF document"),
}
# C0 controls and DEL that never occur in text files (tab, LF, VT, FF, CR, SUB and ESC are allowed).
_CONTROL_BYTES = bytes([*range(0x00, 0x09), *range(0x0E, 0x1A), 0x1C, 0x1D, 0x1E, 0x1F, 0x7F])
_ALLOWED_CONTROLS = frozenset("\t\n\x0b\x0c\r\x1a\x1b\x85")
# str.translate table deleting the allowed controls that str.split() does not treat as whitespace.
_ALLOWED_NONSPACE = {ord(ch): None for ch in _ALLOWED_CONTROLS if not ch.isspace()}
_BINARY_CONTROL_RATIO = 0.02  # share of control bytes/characters above which a file is "binary"
_BAD_CHAR_RATIO = 0.05  # share of U+FFFD / private-use / unassigned characters that makes text "undecodable"
_LENIENT_REPLACEMENT_RATIO = 0.005  # at most this share of U+FFFD is tolerated in a lenient decode


class ReadError(Exception):
    """A report file that cannot be read.

    Parameters
    ----------
    path : str or os.PathLike
        The file, as given to the reader (or the ``name`` given to :func:`read_bytes`).
    reason : str
        A short machine-friendly code, one of the keys of :data:`REASONS`.
    detail : str, optional
        Extra human-readable context (the suffix, the underlying error, …).

    Attributes
    ----------
    path : str
    reason : str
    detail : str

    Notes
    -----
    ``str(error)`` is a complete sentence naming the file and the reason, e.g.
    ``cannot read 'a.pdf': PDF is password-protected [encrypted_pdf]``. The exception pickles (its
    ``args`` are ``(path, reason, detail)``), so it survives process-pool and dask workers.
    """

    def __init__(self, path: str | os.PathLike, reason: str, detail: str = "") -> None:
        path = _shown(path)
        super().__init__(path, reason, detail)
        self.path = path
        self.reason = reason
        self.detail = detail

    def __str__(self) -> str:
        what = REASONS.get(self.reason, self.reason)
        extra = f" ({self.detail})" if self.detail else ""
        return f"cannot read {self.path!r}: {what}{extra} [{self.reason}]"


@dataclass(frozen=True)
class Document:
    """The text of one report file, with where it came from.

    Attributes
    ----------
    path : str
        The path as given to :func:`read_document` (or the ``name`` given to :func:`read_bytes`).
    text : str
        The decoded text. Line breaks are always ``"\\n"``: CRLF and lone CR are normalised to LF in every
        format; apart from that, .txt text is returned exactly as decoded (a UTF-8/UTF-16 byte-order mark
        is not part of the text). No other normalisation (widths, traditional → simplified) happens here.

        - .docx: the body in document order, one line per paragraph (a ``<w:br/>`` also breaks the line);
          a table row is one line with its cells joined by a tab (paragraphs inside a cell joined by a
          space), except a row with a single non-empty cell, whose paragraphs stay separate lines. Tracked
          insertions and text boxes are kept; deleted text, headers, footers, footnotes and comments are not.
        - .pdf: pdfplumber's default ``extract_text`` of every page (after removing "fake bold" duplicate
          glyphs), pages joined by ``"\n"``; one line per visual line, so wrapped paragraphs come back
          broken mid-sentence.
        - .html: the article body (see :func:`read_bytes`), one line per block element or ``<br>``, table
          cells joined by a tab, whitespace collapsed as a browser would, at most one blank line in a row.
    source_format : str
        ``"txt"``, ``"docx"``, ``"pdf"`` or ``"html"``.
    encoding : str or None
        Canonical Python codec name of a decoded text format (``"utf-8"``, ``"utf-8-sig"``,
        ``"utf-16"``, ``"utf-16-le"``, ``"utf-16-be"``, ``"utf-32"``, ``"gb18030"``, ``"big5"``,
        ``"cp950"``); ``None`` for .docx and .pdf.
    sha256 : str
        Hex SHA-256 of the raw bytes.
    n_bytes : int
        Size of the raw bytes.
    warnings : tuple of str
        Recoverable oddities met while reading (a few undecodable bytes replaced by U+FFFD, PDF pages
        without text, …); empty for a clean file.
    page_meta : str
        .html: the page's metadata line between the title and the article (``来源：… 发布时间：2024-08-09``),
        which is not part of ``text``; ``""`` when there is none and for the other formats.
    """

    path: str
    text: str
    source_format: str
    encoding: str | None
    sha256: str
    n_bytes: int
    warnings: tuple[str, ...] = ()
    page_meta: str = ""


# --------------------------------------------------------------------------------------------- entry points


def read_document(path: str | os.PathLike, max_chars: int = DEFAULT_MAX_CHARS) -> Document:
    """Read one report file into a :class:`Document`.

    The format is chosen by the file's suffix (case-insensitive): .txt, .docx, .pdf, .html/.htm.
    Text encodings are detected from the bytes (see :func:`read_bytes`).

    Parameters
    ----------
    path : str or os.PathLike
        The file to read.
    max_chars : int, default :data:`DEFAULT_MAX_CHARS`
        A file whose text (or whose bytes, see :func:`check_size`) exceeds this is ``too_large``.

    Returns
    -------
    Document

    Raises
    ------
    ReadError
        For every input that cannot be read; ``reason`` is one of :data:`REASONS`
        (``unsupported_format`` and ``not_found`` are checked first, in that order).
    """
    shown = _shown(path)
    _format_for(shown)  # unsupported suffix: fail before touching the disk
    try:
        check_size(shown, os.stat(shown).st_size, max_chars)
        data = Path(shown).read_bytes()
    except FileNotFoundError:
        raise ReadError(shown, "not_found") from None
    except IsADirectoryError:
        raise ReadError(shown, "unreadable", "is a directory") from None
    except OSError as exc:
        raise ReadError(shown, "unreadable", exc.strerror or type(exc).__name__) from None
    return read_bytes(data, shown, max_chars)


def check_size(name: str | os.PathLike, n_bytes: int, max_chars: int = DEFAULT_MAX_CHARS) -> None:
    """Refuse a file of ``n_bytes`` before reading it when it cannot fit ``max_chars`` of text.

    Parameters
    ----------
    name : str or os.PathLike
        The file name (its suffix selects the format).
    n_bytes : int
        Its size on disk.
    max_chars : int
        The limit on the text (a .txt or web page may hold 4 bytes a character, a .docx or PDF 16).

    Raises
    ------
    ReadError
        ``too_large``; ``unsupported_format`` for an unknown suffix.
    """
    fmt = _format_for(_shown(name))
    if n_bytes > _BYTES_PER_CHAR[fmt] * max_chars:
        raise ReadError(name, "too_large", f"{n_bytes} bytes; limit {max_chars} characters")


def read_bytes(data: bytes | bytearray | memoryview, name: str | os.PathLike,
               max_chars: int = DEFAULT_MAX_CHARS) -> Document:
    """Read a report held in memory into a :class:`Document`.

    Parameters
    ----------
    data : bytes
        The raw file content.
    name : str or os.PathLike
        The file name; its suffix selects the format and it is stored as :attr:`Document.path`.
    max_chars : int, default :data:`DEFAULT_MAX_CHARS`
        Bigger bytes (:func:`check_size`), a .docx inflating beyond it or a longer text are ``too_large``.

    Returns
    -------
    Document

    Raises
    ------
    ReadError
        For every input that cannot be read (see :data:`REASONS`).
    TypeError
        If ``data`` is not bytes-like (a programming error, not a bad file).

    Notes
    -----
    Plain text is decoded by, in order: a byte-order mark (UTF-8, UTF-16, UTF-32); BOM-less UTF-16
    recognised from its NUL pattern; strict UTF-8; charset-normalizer restricted to GB18030 (superset of
    GBK/GB2312) and Big5/CP950. A file that is nearly valid (a truncated last character, or a few bad byte
    sequences, at most 0.5 % of characters) is decoded with U+FFFD replacements and a warning. NUL bytes
    outside UTF-16 or more than 2 % control bytes make a file ``binary``; a decoding dominated by
    replacement, private-use or control characters is ``undecodable``.

    Web pages are decoded the same way, with the ``<meta charset>`` declaration tried after strict UTF-8
    (``gb2312``/``gbk`` read as GB18030). Scripts, styles, forms, ``<nav>``, ``<header>``, ``<footer>``,
    ``<aside>``, hidden elements and elements whose class/id names a menu, breadcrumb, sidebar or share
    bar are dropped; the article body is the largest element marked as one by common CMS class names
    (``TRS_Editor``, ``UCAP-CONTENT``, ``zoom``, ``article-content``, …), else ``<article>``, else
    ``<main>``, else the block with the most non-link paragraph text; an ``<h1>`` title standing before
    the body is put in front of it.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(f"read_bytes() needs bytes, not {type(data).__name__}")
    data = bytes(data)
    shown = _shown(name)
    fmt = _format_for(shown)
    if not data:
        raise ReadError(shown, "empty", "0 bytes")
    text, encoding, warnings, page_meta = _read_limited(fmt, data, shown, max_chars)
    if not text.strip():
        raise ReadError(shown, "empty", "no text")
    return Document(
        path=shown,
        text=text,
        source_format=fmt,
        encoding=encoding,
        sha256=hashlib.sha256(data).hexdigest(),
        n_bytes=len(data), warnings=tuple(warnings), page_meta=page_meta,
    )


def _shown(path: str | os.PathLike) -> str:
    """The name a file is shown and stored by: the path as given."""
    return os.fspath(path) if isinstance(path, os.PathLike) else str(path)


def _read_limited(fmt: str, data: bytes, shown: str, max_chars: int) -> tuple[str, str | None, list[str], str]:
    """:func:`_read_format` within the size limit: the bytes, a .docx's inflated size, then the text; with the
    page's metadata line (.html only)."""
    check_size(shown, len(data), max_chars)
    if fmt == "docx":
        _check_docx_expansion(data, shown, max_chars)
    text, encoding, warnings, *meta = _read_format(fmt, data, shown)
    if len(text) > max_chars:
        raise ReadError(shown, "too_large", f"{len(text)} characters; limit {max_chars}")
    return text, encoding, warnings, (meta[0] if meta else "")


def _read_format(fmt: str, data: bytes, shown: str) -> tuple:
    """Run the reader of ``fmt``; a reader library failing in an unforeseen way still gives a ReadError."""
    reader = {"txt": _read_txt, "docx": _read_docx, "pdf": _read_pdf, "html": _read_html}[fmt]
    try:
        return reader(data, shown)
    except (ReadError, MemoryError):
        raise
    except Exception as exc:
        reason = {"docx": "corrupt_docx", "pdf": "corrupt_pdf", "html": "corrupt_html"}.get(fmt, "undecodable")
        raise ReadError(shown, reason, f"{type(exc).__name__}: {exc}") from exc


def _format_for(shown: str) -> str:
    suffix = Path(shown).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES or suffix not in _FORMAT_BY_SUFFIX:
        supported = ", ".join(SUPPORTED_SUFFIXES)
        detail = f"suffix {suffix!r}" if suffix else "no suffix"
        raise ReadError(shown, "unsupported_format", f"{detail}; supported: {supported}")
    return _FORMAT_BY_SUFFIX[suffix]


def _newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


# ----------------------------------------------------------------------------------------------- plain text


def _canonical(encoding: str) -> str:
    return codecs.lookup(encoding).name


def _read_txt(data: bytes, name: str) -> tuple[str, str, list[str]]:
    text, encoding, warnings = _decode(data, name)
    return _newlines(text), encoding, warnings


_Decoded = tuple[str, str, list[str]]  # (text, encoding, warnings)
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def _decode(data: bytes, name: str, declared: str | None = None) -> _Decoded:
    """Decode ``data``: BOM, BOM-less UTF-16, strict UTF-8, declared charset, detection, lenient fallback.

    Each step returns ``(text, encoding, warnings)``, or None when it does not apply; the first that applies
    decides, and its text must pass :func:`_checked`.
    """
    _reject_signatures(data, name)
    found = _decode_bom(data, name)
    if found is None and b"\x00" in data:
        found = _decode_nul(data, name)
    if found is None:
        _reject_control_bytes(data, name)
        found = _decode_strict(data, declared) or _decode_nearly_valid(data) or _decode_replacing(data)
    if found is None:
        raise ReadError(name, "undecodable", f"not UTF-8 ({_utf8_error(data)}), no candidate fits")
    text, encoding, warnings = found
    return _checked(text, name), encoding, warnings


def _utf8_error(data: bytes) -> str:
    """Why ``data`` is not UTF-8, e.g. ``invalid start byte at byte 12``."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"{exc.reason} at byte {exc.start}"
    return "valid UTF-8"


def _reject_signatures(data: bytes, name: str) -> None:
    """Files that are not text whatever their suffix (PDF, zip, images, archives, RTF)."""
    for magic, (reason, what) in _MAGIC.items():
        if data.startswith(magic):
            raise ReadError(name, reason, f"the content is {what}")


def _decode_bom(data: bytes, name: str) -> _Decoded | None:
    """Text with a byte-order mark; a few bad sequences after it are replaced (with a warning)."""
    for bom, enc in _BOMS:
        if not data.startswith(bom):
            continue
        try:
            return data.decode(enc), enc, []
        except UnicodeDecodeError as exc:
            if enc.startswith("utf-32"):
                continue  # FF FE 00 00 may be a UTF-16 BOM followed by U+0000; try UTF-16
            text = data.decode(enc, errors="replace")
            n_bad = text.count("\ufffd")
            if n_bad > _LENIENT_REPLACEMENT_RATIO * len(text):
                raise ReadError(name, "undecodable", f"{enc} BOM but {exc.reason}") from None
            return text, enc, [f"{n_bad} invalid {enc} sequence(s) replaced by U+FFFD"]
    return None


def _decode_nul(data: bytes, name: str) -> _Decoded:
    """Bytes with NULs are BOM-less UTF-16 or binary."""
    utf16 = _bomless_utf16(data)
    if utf16 is None:
        raise ReadError(name, "binary", "contains NUL bytes")
    text, enc = utf16
    return text, enc, []


def _reject_control_bytes(data: bytes, name: str) -> None:
    n_control = len(data) - len(data.translate(None, _CONTROL_BYTES))
    if n_control > _BINARY_CONTROL_RATIO * len(data):
        raise ReadError(name, "binary", f"{n_control} control bytes in {len(data)}")


def _decode_strict(data: bytes, declared: str | None) -> _Decoded | None:
    """Strict UTF-8, then the declared charset, then the best legacy Chinese encoding."""
    try:
        return data.decode("utf-8"), "utf-8", []
    except UnicodeDecodeError:
        pass
    if declared:
        try:
            return data.decode(declared), _canonical(declared), []
        except (UnicodeDecodeError, LookupError):
            pass
    guess = _detect_legacy(data)
    if guess is not None:
        text, enc = guess
        return text, enc, []
    return None


def _decode_nearly_valid(data: bytes) -> _Decoded | None:
    """A character cut off at the end: decode without its last 1-3 bytes."""
    for cut in (1, 2, 3):
        head = data[:-cut]
        try:
            text = head.decode("utf-8")
            enc = "utf-8"
        except UnicodeDecodeError:
            guess = _detect_legacy(head)
            if guess is None:
                continue
            text, enc = guess
        return text, enc, [f"last {cut} byte(s) are an incomplete character and were dropped"]
    return None


def _decode_replacing(data: bytes) -> _Decoded | None:
    """A few bad sequences (at most 0.5 % of the characters) replaced by U+FFFD, in UTF-8 or a legacy encoding."""
    text = data.decode("utf-8", errors="replace")
    n_bad = text.count("\ufffd")
    n_good = sum(1 for ch in text if ord(ch) > 0x7F) - n_bad
    if n_bad <= _LENIENT_REPLACEMENT_RATIO * len(text) and n_good >= 20 * n_bad:
        return text, "utf-8", [f"{n_bad} invalid UTF-8 sequence(s) replaced by U+FFFD"]
    for enc in ("gb18030", "big5"):
        text = data.decode(enc, errors="replace")
        n_bad = text.count("\ufffd")
        if n_bad > _LENIENT_REPLACEMENT_RATIO * len(text):
            continue
        # Let the detector judge the readable part: if it still picks this encoding, accept it.
        # (more mess is tolerated: the bytes around a damaged spot decode to odd characters).
        guess = _detect_legacy(text.replace("\ufffd", "").encode(enc, errors="ignore"), threshold=0.4)
        if guess is not None and guess[1] == enc:
            return text, enc, [f"{n_bad} invalid {enc} sequence(s) replaced by U+FFFD"]
    return None


def _detect_legacy(data: bytes, threshold: float = 0.2) -> tuple[str, str] | None:
    """charset-normalizer's best guess among the Chinese legacy encodings, or None.

    ``threshold`` is the largest "chaos" (mess) tolerated; 0.2 is charset-normalizer's default.
    """
    from charset_normalizer import from_bytes

    results = list(from_bytes(data, cp_isolation=list(_LEGACY_CANDIDATES), threshold=threshold))
    if not results:
        return None
    # charset-normalizer breaks ties towards Big5; mainland reports are far more often GB18030, so on equal
    # chaos and coherence (short texts) prefer the candidates in the order of _LEGACY_CANDIDATES.
    order = {enc: i for i, enc in enumerate(_LEGACY_CANDIDATES)}
    best = min(
        results,
        key=lambda m: (round(m.chaos, 3), -round(m.coherence, 3), order.get(_canonical(m.encoding), 99)),
    )
    return str(best), _canonical(best.encoding)


def _bomless_utf16(data: bytes) -> tuple[str, str] | None:
    """Decode BOM-less UTF-16 when the bytes look like it (NULs and plausible characters), else None."""
    if len(data) % 2:
        return None
    best = None
    for enc in ("utf-16-le", "utf-16-be"):
        try:
            text = data.decode(enc)
        except UnicodeDecodeError:
            continue
        share = sum(1 for ch in text if _plausible(ch)) / max(1, len(text))
        if share >= 0.95 and (best is None or share > best[0]):
            best = (share, text, enc)
    return None if best is None else (best[1], best[2])


def _plausible(ch: str) -> bool:
    o = ord(ch)
    return (
        0x20 <= o < 0x7F
        or ch in "\t\n\r\x0c"
        or 0x4E00 <= o <= 0x9FFF
        or 0x3000 <= o <= 0x303F
        or 0xFF00 <= o <= 0xFFEF
        or 0x2000 <= o <= 0x206F
        or 0xA0 <= o <= 0x24F
        or 0x3400 <= o <= 0x4DBF
    )


def _checked(text: str, name: str) -> str:
    """Reject decoded text dominated by control or replacement characters."""
    if not text:
        return text
    # Fast path (nearly every file): once whitespace and the allowed controls are removed, everything left is
    # printable, so the only suspicious characters are U+FFFD (printable, counted below by str.count).
    core = "".join(text.split())
    if "\x1a" in core or "\x1b" in core:
        core = core.translate(_ALLOWED_NONSPACE)
    if core.isprintable():
        n_bad = text.count("\ufffd")
        if n_bad > _BAD_CHAR_RATIO * len(text):
            raise ReadError(name, "undecodable", f"{n_bad} of {len(text)} characters are replacement/unassigned")
        return text
    n_control = n_bad = 0
    for ch in text:
        if ch in _ALLOWED_CONTROLS or ch.isprintable() or ch.isspace():
            if ch == "\ufffd":
                n_bad += 1
            continue
        cat = unicodedata.category(ch)
        if cat == "Cc":
            n_control += 1
        elif cat in ("Co", "Cs", "Cn"):
            n_bad += 1
    if n_control > _BINARY_CONTROL_RATIO * len(text):
        raise ReadError(name, "binary", f"{n_control} control characters in {len(text)}")
    if n_bad > _BAD_CHAR_RATIO * len(text):
        raise ReadError(name, "undecodable", f"{n_bad} of {len(text)} characters are replacement/unassigned")
    return text


# --------------------------------------------------------------------------------------------------- docx

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Inline wrappers whose children are runs (or more wrappers).
_RUN_CONTAINERS = {
    _W + t for t in ("hyperlink", "ins", "moveTo", "smartTag", "fldSimple", "customXml", "dir", "bdo")
}
# Block wrappers whose children are paragraphs/tables (or more wrappers).
_BLOCK_CONTAINERS = {_W + t for t in ("customXml", "ins", "moveTo")}


def _read_docx(data: bytes, name: str) -> tuple[str, None, list[str]]:
    import docx

    if data.startswith(_OLE_MAGIC):
        raise ReadError(name, "corrupt_docx", "OLE2 container: a legacy .doc or a password-protected .docx")
    if not data.startswith(b"PK"):
        raise ReadError(name, "corrupt_docx", "not a zip archive")
    try:
        body = docx.Document(_io.BytesIO(data)).element.body
    except Exception as exc:
        raise ReadError(name, "corrupt_docx", f"{type(exc).__name__}: {exc}") from None
    lines: list[str] = []
    _docx_blocks(body, lines)
    return _newlines("\n".join(lines)), None, []


def _check_docx_expansion(data: bytes, name: str, max_chars: int) -> None:
    """A .docx whose zip members expand beyond ``16 × max_chars`` bytes is ``too_large`` (a zip bomb is
    refused from its directory, before anything is inflated)."""
    import zipfile

    try:
        with zipfile.ZipFile(_io.BytesIO(data)) as z:
            total = sum(i.file_size for i in z.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return  # the reader names the damage
    if total > _BYTES_PER_CHAR["docx"] * max_chars:
        raise ReadError(name, "too_large", f"expands to {total} bytes; limit {max_chars} characters")


def _docx_blocks(parent, lines: list[str]) -> None:
    """Append the lines of the block-level children of ``parent`` (body, cell, text box) in order."""
    for child in parent:
        tag = child.tag
        if tag == _W + "p":
            text, boxes = _docx_paragraph(child)
            lines.append(text)
            lines.extend(boxes)
        elif tag == _W + "tbl":
            _docx_table(child, lines)
        elif tag == _W + "sdt":
            content = child.find(_W + "sdtContent")
            if content is not None:
                _docx_blocks(content, lines)
        elif tag in _BLOCK_CONTAINERS:
            _docx_blocks(child, lines)


def _docx_table(tbl, lines: list[str]) -> None:
    """One line per row, cells joined by a tab; a row with a single non-empty cell keeps its lines."""
    for tr in _docx_children(tbl, "tr"):
        cells = []
        for tc in _docx_children(tr, "tc"):
            cell_lines: list[str] = []
            _docx_blocks(tc, cell_lines)
            cells.append([line for line in cell_lines if line.strip()])
        filled = [c for c in cells if c]
        if len(filled) == 1:
            lines.extend(filled[0])
        elif filled:
            lines.append("\t".join(" ".join(line.strip() for line in c) for c in cells).rstrip("\t"))


def _docx_children(el, local: str):
    """Children named ``w:<local>``, looking through content controls and customXml wrappers."""
    for child in el:
        if child.tag == _W + local:
            yield child
        elif child.tag == _W + "sdt":
            content = child.find(_W + "sdtContent")
            if content is not None:
                yield from _docx_children(content, local)
        elif child.tag == _W + "customXml":
            yield from _docx_children(child, local)


def _docx_paragraph(p) -> tuple[str, list[str]]:
    """Text of a paragraph (runs, hyperlinks, tracked insertions) and the lines of its text boxes."""
    parts: list[str] = []
    boxes: list[str] = []

    def runs(el) -> None:
        for child in el:
            tag = child.tag
            if tag == _W + "r":
                run(child)
            elif tag in _RUN_CONTAINERS:
                runs(child)
            elif tag == _W + "sdt":
                content = child.find(_W + "sdtContent")
                if content is not None:
                    runs(content)

    def run(r) -> None:
        for child in r:
            tag = child.tag
            if tag == _W + "t":
                parts.append(child.text or "")
            elif tag == _W + "tab":
                parts.append("\t")
            elif tag in (_W + "br", _W + "cr"):
                parts.append("\n")
            elif tag == _W + "noBreakHyphen":
                parts.append("-")
            elif tag == _W + "ptab":
                parts.append("\t")
            else:  # drawings, pictures, alternate content: collect text boxes (not the fallback copy)
                for txbx in child.iter(_W + "txbxContent"):
                    if _outermost_box(txbx, child):
                        _docx_blocks(txbx, boxes)

    runs(p)
    return "".join(parts), boxes


def _outermost_box(txbx, stop) -> bool:
    """Whether a text box below ``stop`` is neither a fallback copy nor nested in another text box."""
    for anc in txbx.iterancestors():
        if anc is stop:
            return True
        if anc.tag in (_MC + "Fallback", _W + "txbxContent"):
            return False
    return True


# ---------------------------------------------------------------------------------------------------- pdf

_CID_RE = re.compile(r"\(cid:\d+\)")


def _read_pdf(data: bytes, name: str) -> tuple[str, None, list[str]]:
    head = data[:1024]
    if b"%PDF" not in head:
        start = data[:16].decode("latin-1").strip()
        raise ReadError(name, "corrupt_pdf", f"no %PDF header (starts with {start!r})")
    warnings: list[str] = []
    pages, encrypted = _pdf_pages_pdfminer(data, name)
    if encrypted:  # pdfminer half-decrypts owner-password files (fonts come out as (cid:N)): pdfium reads them
        pages = _pdf_pages_pdfium(data, name)
        warnings.append("PDF has an owner password (restrictions only); read without it")
    if not pages:
        raise ReadError(name, "no_text_layer", "no pages")
    blank = [i + 1 for i, t in enumerate(pages) if not t.strip()]
    if len(blank) == len(pages):
        raise ReadError(name, "no_text_layer", f"no extractable characters on {len(pages)} page(s)")
    text = _newlines("\n".join(pages))
    n_cid = len(_CID_RE.findall(text))
    if n_cid:
        n_chars = len(re.sub(r"\s", "", _CID_RE.sub("", text)))
        if n_cid > n_chars:
            raise ReadError(name, "unmapped_glyphs", f"{n_cid} (cid:N) codes, {n_chars} characters")
        text = _CID_RE.sub("\ufffd", text)
        warnings.append(f"{n_cid} glyph(s) without a Unicode mapping replaced by U+FFFD")
    if blank:
        warnings.append(f"page(s) without text: {', '.join(map(str, blank))}")
    return text, None, warnings


def _pdf_pages_pdfminer(data: bytes, name: str) -> tuple[list[str], bool]:
    """The text of each page by pdfplumber, and whether the file is encrypted (then no pages: they are left
    to :func:`_pdf_pages_pdfium`)."""
    import pdfplumber
    from pdfminer.pdfdocument import PDFPasswordIncorrect

    pages: list[str] = []
    try:
        with pdfplumber.open(_io.BytesIO(data)) as pdf:
            if getattr(pdf.doc, "encryption", None) is not None:
                return [], True
            for page in pdf.pages:
                pages.append(_dedupe_chars(page).extract_text() or "")
    except Exception as exc:
        inner = exc.args[0] if exc.args and isinstance(exc.args[0], BaseException) else exc
        if isinstance(inner, PDFPasswordIncorrect):
            return [], True
        raise ReadError(name, "corrupt_pdf", f"{type(inner).__name__}: {inner}") from None
    return pages, False


def _pdf_pages_pdfium(data: bytes, name: str) -> list[str]:
    """The text of each page of an encrypted PDF by pdfium with the empty user password: an owner password
    only restricts printing or copying; a user password makes the file ``encrypted_pdf``."""
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data, password="")
    except pdfium.PdfiumError as exc:
        raise ReadError(name, "encrypted_pdf", str(exc)) from None
    try:
        return [page.get_textpage().get_text_range() for page in pdf]
    finally:
        pdf.close()


def _dedupe_chars(page):
    """The page without duplicate glyphs (text drawn twice, offset by under 1 pt, to fake bold).

    Same rule as :meth:`pdfplumber.page.Page.dedupe_chars` (same text, font and size, within 1 pt), but in
    linear time: pdfplumber's own version takes seconds on a wide page of Chinese text.
    """
    seen: dict[tuple, list[tuple[float, float]]] = {}
    dupes: set[int] = set()
    for ch in page.chars:
        key = (ch["text"], ch.get("fontname"), round(ch.get("size", 0), 1))
        x, top = ch["x0"], ch["top"]
        cell = (int(x), int(top))
        near = False
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                for ox, otop in seen.get((*key, cell[0] + dx, cell[1] + dy), ()):
                    if abs(ox - x) <= 1 and abs(otop - top) <= 1:
                        near = True
        if near:
            dupes.add(id(ch))
        else:
            seen.setdefault((*key, *cell), []).append((x, top))
    if not dupes:
        return page
    return page.filter(lambda obj: id(obj) not in dupes)


# --------------------------------------------------------------------------------------------------- html

_META_CHARSET_RE = re.compile(rb"""<meta[^>]+?charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.I)
_XML_ENCODING_RE = re.compile(rb"""<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9._:-]+)""", re.I)
_TAG_RE = re.compile(r"<\s*[A-Za-z!/?]")

_DROP_TAGS = (
    "script", "style", "noscript", "template", "nav", "header", "footer", "aside", "form", "iframe",
    "svg", "canvas", "select", "button", "input", "textarea", "object", "embed", "head", "title",
    "meta", "link", "map", "audio", "video",
)  # fmt: skip
_DROP_ROLES = {"navigation", "banner", "contentinfo", "complementary", "search", "menu", "menubar"}
_CHROME_TOKENS = frozenset("nav navbar menu breadcrumb breadcrumbs crumb crumbs sidebar footer share".split())
_STRONG_MARKERS = re.compile(
    r"^(TRS_Editor|TRS_UEDITOR|TRS_PreAppend|Custom_UnionStyle|UCAP-CONTENT|zoom|Zoom|fontzoom|article[-_]?content|"
    r"articleContent|art[-_]content|content[-_]?text|contentText|news[-_]?content|detail[-_]?content|"
    r"pages_content|xxgk[-_]?content|view[-_]TRS_UEDITOR)$"
)
_BLOCK_TAGS = frozenset(
    "address article aside blockquote body caption center dd details dialog dir div dl dt fieldset figcaption "
    "figure footer form h1 h2 h3 h4 h5 h6 header hgroup hr html li main menu nav ol p pre section summary "
    "table tbody tfoot thead tr ul".split()
)
_CELL_TAGS = frozenset(("td", "th"))
_INLINE_TAGS = frozenset("a span strong b em i u font sub sup small big label code".split())
_WS_RE = re.compile(r"[ \t\n\r\f\xa0]+")
_CELL_SEP_RE = re.compile(r" ?\x00[ \x00]*")


def _html_charset(data: bytes) -> str | None:
    head = data[:4096]
    m = _META_CHARSET_RE.search(head) or _XML_ENCODING_RE.search(head)
    if not m:
        return None
    try:
        enc = _canonical(m.group(1).decode("ascii"))
    except (LookupError, UnicodeDecodeError):
        return None
    if enc in ("gb2312", "gbk", "hz"):
        return "gb18030"  # pages declared gb2312 routinely use GBK characters
    if enc.startswith(("utf-16", "utf-32")):
        return None  # a real UTF-16 page has a BOM or NULs; without them the declaration is wrong
    return enc


def _read_html(data: bytes, name: str) -> tuple[str, str, list[str], str]:
    raw, encoding, warnings = _decode(data, name, declared=_html_charset(data))
    raw = _newlines(raw)
    if not _TAG_RE.search(raw):
        return raw, encoding, warnings + ["no HTML tags; read as plain text"], ""
    text, meta = _html_main_text(raw)
    return text, encoding, warnings, meta


def _html_main_text(markup: str) -> tuple[str, str]:
    """Main text of a web page (chrome removed, the article body chosen, blocks as lines) and the page's
    metadata line between its title and the body (``""`` when none)."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(markup, "lxml")
    for el in soup.find_all(("header", "hgroup")):
        # An article's own <header> holds its title: keep the headings, drop the rest (dates, bylines).
        if not el.decomposed and el.find_parent(("article", "main")) is not None:
            for h in el.find_all(("h1", "h2")):
                el.insert_before(h.extract())
    for el in soup.find_all(_DROP_TAGS):
        if not el.decomposed:
            el.decompose()
    for el in soup.find_all(True):
        if el.decomposed or el.attrs is None:
            continue
        if _is_chrome(el):
            el.decompose()
    root = soup.body or soup
    main = _main_element(root)
    text = _render(main)
    heading = _heading_before(soup, main)
    if heading and not text.startswith(heading):
        text = heading + "\n" + text if text else heading
    return text, _meta_line_after(soup, main)


def _is_chrome(el) -> bool:
    attrs = el.attrs
    if "hidden" in attrs:
        return True
    style = str(attrs.get("style", "")).replace(" ", "").lower()
    if "display:none" in style or "visibility:hidden" in style:
        return True
    if str(attrs.get("role", "")).lower() in _DROP_ROLES:
        return True
    if el.name in ("body", "html", "main", "article"):
        return False
    names = " ".join([*attrs.get("class", []), str(attrs.get("id", ""))])
    tokens = set(re.split(r"[\s_-]+", names.lower()))
    return bool(tokens & _CHROME_TOKENS)


def _text_len(el) -> int:
    return len(_WS_RE.sub("", el.get_text()).replace("\u3000", ""))


def _main_element(root):
    """The element holding the article: known body markers, <article>, <main>, else the densest block."""
    dense = _densest(root)
    floor = 0.3 * _text_len(dense) if dense is not None else 0
    strong = [
        el
        for el in root.find_all(True)
        if any(_STRONG_MARKERS.match(v) for v in [*el.get("class", []), str(el.get("id", ""))] if v)
    ]
    for cands in (strong, root.find_all("article"), root.find_all("main")):
        if cands:
            best = max(cands, key=_text_len)
            if _text_len(best) > 0 and _text_len(best) >= floor:
                return best
    return dense if dense is not None else root


def _densest(root):
    """Readability-style choice: the container with the most non-link paragraph text."""
    from bs4 import NavigableString, Tag

    scores: dict[int, float] = {}
    by_id: dict[int, object] = {}
    inline = _INLINE_TAGS
    for el in root.find_all(True):
        if el.name in inline:
            continue
        own = links = 0
        for child in el.children:
            if isinstance(child, NavigableString):
                if type(child) is NavigableString:
                    own += len(_WS_RE.sub("", child))
            elif isinstance(child, Tag) and child.name in inline:
                n = _text_len(child)
                own += n
                if child.name == "a" or child.find("a") is not None:
                    links += n
        score = own - links
        if score < 10 or links > own / 2:
            continue
        container = el if el.name in ("div", "section", "article", "main", "td", "body") else el.parent
        if container is None:
            continue
        for target, weight in ((container, 1.0), (container.parent, 0.5)):
            if target is None:
                continue
            by_id[id(target)] = target
            scores[id(target)] = scores.get(id(target), 0.0) + weight * score
    if not scores:
        return None
    return by_id[max(scores, key=lambda k: (scores[k], -_text_len(by_id[k])))]


def _heading_before(soup, main) -> str:
    """Text of the last <h1> before ``main`` (the page title sits outside the article body on many sites)."""
    if main.find("h1") is not None or main.name == "h1":
        return ""
    heading = ""
    for el in soup.find_all("h1"):
        if el is main or main in el.parents:
            continue
        # document order: stop at the first h1 after main
        if _precedes(el, main):
            heading = _render(el).replace("\n", " ").strip()
    return heading


_PAGE_META_RE = re.compile(r"(?:发布时间|发布日期|信息时间|成文日期)\s*[：:]\s*\d{4}")


def _meta_line_after(soup, main) -> str:
    """The page's metadata line (``来源：… 发布时间：2024-08-09``): the text of the first block before ``main``
    and after the last <h1> before it that names a date label, or ``""``."""
    h1s = [el for el in soup.find_all("h1") if _precedes(el, main) and main not in el.parents]
    if not h1s:
        return ""
    parts: list[str] = []
    for el in h1s[-1].next_elements:
        if el is main or len(parts) > 40:
            break
        if isinstance(el, str) and el.strip() and el.parent is not h1s[-1]:
            parts.append(el.strip())
    line = " ".join(parts)
    return line if _PAGE_META_RE.search(line) and len(line) <= 300 else ""


def _precedes(a, b) -> bool:
    for el in a.next_elements:
        if el is b:
            return True
    return False


def _render(el) -> str:
    """Visible text of ``el``: block elements break lines, <br> forces one, cells are tab-separated."""
    from bs4 import NavigableString, Tag

    lines: list[str] = []
    cur: list[str] = []

    def flush(force: bool) -> None:
        raw = "".join(cur)
        line = _CELL_SEP_RE.sub("\x00", _WS_RE.sub(" ", raw)).strip(" \x00").replace("\x00", "\t")
        cur.clear()
        # A block holding only non-breaking or ideographic spaces (<p>&nbsp;</p>) is a deliberate blank line.
        if line or force or "\xa0" in raw or "\u3000" in raw:
            lines.append(line if line.strip() else "")

    stack: list[tuple[object, bool]] = [(el, False)]
    while stack:
        node, closing = stack.pop()
        if isinstance(node, NavigableString):
            if type(node) is NavigableString:
                cur.append(str(node))
            continue
        if not isinstance(node, Tag):
            continue
        name = node.name
        if closing:
            if name in _CELL_TAGS:
                cur.append("\x00")  # cell separator, becomes a tab
            elif name in _BLOCK_TAGS:
                flush(False)
            continue
        if name == "br":
            flush(True)
            continue
        if name == "pre":
            flush(False)
            lines.extend(node.get_text().replace("\xa0", " ").split("\n"))
            continue
        if name in _BLOCK_TAGS:
            flush(False)
        stack.append((node, True))
        stack.extend((child, False) for child in reversed(list(node.children)))
    flush(False)
    out: list[str] = []
    for line in lines:
        if line.strip() == "":
            if out and out[-1] != "":
                out.append("")
        else:
            out.append(line)
    while out and out[-1] == "":
        out.pop()
    return "\n".join(out)
