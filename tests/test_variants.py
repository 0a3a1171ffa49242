"""The same report in other formats, encodings and scripts parses to the same problems and measures."""

from __future__ import annotations

import opencc
import pytest
from conftest import BUNDLED, raw_text

from compare import load_reports

try:
    from tests import formats
except ImportError:
    import formats


def _structure(corpus):
    p, m = corpus.problems, corpus.measures
    return (p.title.tolist(), p.aspect.tolist(), p.theme.tolist(), m.groupby("problem_id", sort=False).size().tolist(),
            m.label.tolist(), m.text.tolist())


@pytest.fixture(scope="module")
def baseline():
    return {key: load_reports(
        [__import__("compare").config.RAW_DIR / name], cache=False) for key, name in BUNDLED.items()}


WRITERS = {
    "gb18030.txt": lambda t, p: formats.write_txt(t, p, "gb18030"),
    "utf16.txt": lambda t, p: formats.write_txt(t, p, "utf-16"),
    "docx": lambda t, p: formats.write_docx(t, p),
    "table.docx": lambda t, p: formats.write_docx(t, p, table=True),
    "html": lambda t, p: formats.write_html(t, p, chrome=True),
    "pdf": lambda t, p: formats.write_pdf(t, p),
    "wrapped.pdf": lambda t, p: formats.write_pdf(t, p, wrap=True),
}


@pytest.mark.parametrize("key", list(BUNDLED))
@pytest.mark.parametrize("fmt", list(WRITERS))
def test_format_variant_parses_to_the_same_problems(tmp_path, baseline, key, fmt):
    suffix = "." + fmt.rsplit(".", 1)[-1]
    path = tmp_path / f"{key}{suffix}"
    WRITERS[fmt](raw_text(key), path)
    corpus = load_reports([path], cache=False)
    assert corpus.errors.empty, corpus.errors.message.tolist()
    base = baseline[key]
    got, exp = _structure(corpus), _structure(base)
    assert got[0] == exp[0]  # titles
    assert got[1:4] == exp[1:4]  # aspects, themes, measures per problem
    assert got[4] == exp[4]  # measure labels
    if fmt != "wrapped.pdf":
        assert got[5] == exp[5]  # measure texts identical
    else:  # re-joined lines may differ by whitespace only
        assert [t.replace(" ", "") for t in got[5]] == [t.replace(" ", "") for t in exp[5]]
    r, b = corpus.reports.iloc[0], base.reports.iloc[0]
    for col in ("issuer", "region", "province", "inspection_start", "feedback_date", "published_date"):
        assert r[col] == b[col], col


@pytest.mark.parametrize("key", list(BUNDLED))
def test_traditional_characters_parse_to_the_same_problems(tmp_path, baseline, key):
    trad = opencc.OpenCC("s2t").convert(raw_text(key))
    assert trad != raw_text(key)
    path = tmp_path / f"{key}.txt"
    formats.write_txt(trad, path, "utf-8")
    corpus = load_reports([path], cache=False)
    base = baseline[key]
    assert len(corpus.problems) == len(base.problems)
    assert corpus.measures.groupby("problem_id").size().tolist() == base.measures.groupby("problem_id").size().tolist()
    # s2t→t2s is not an identity for every character (e.g. 干/幹/乾); titles agree where the round trip does
    agree = sum(a == b for a, b in zip(corpus.problems.title, base.problems.title, strict=True))
    assert agree >= len(base.problems) - 2
    assert "traditional characters converted to simplified" in corpus.reports.warnings.iloc[0]
    assert corpus.reports.region.iloc[0] == base.reports.region.iloc[0]
