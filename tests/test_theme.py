"""compare.theme: the bundled CJK font registered on first use, its light copy in the cache given, one theme."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import types
import warnings
from pathlib import Path

import matplotlib
import pytest
from matplotlib import font_manager
from matplotlib.figure import Figure

from compare import config
from compare import theme as T
from compare.cache import Cache, CacheWarning

SRC = Path(__file__).resolve().parents[1] / "src"


@pytest.fixture()
def project_cache():
    """The font's light copy made in the project's cache folder (as the entry points do); restored after."""
    before = T._STATE["cache"]
    T.use_cache(Cache(config.CACHE_DIR))
    yield
    T.use_cache(before)


def test_cjk_font_comes_from_the_pypi_package(project_cache):
    site = Path(sysconfig.get_paths()["purelib"]).resolve()
    font_source, font_path = T.font_source(), T.font_path()
    assert font_source.is_file()
    assert font_source.is_relative_to(site), font_source
    assert "mplfonts" in font_source.parts
    # matplotlib uses a copy of that file without layout tables, made under the project's cache
    assert font_path.is_relative_to(config.CACHE_DIR.resolve()) or font_path == font_source
    assert T.FONT_NAME == "Noto Sans CJK SC"
    found = font_manager.findfont(font_manager.FontProperties(family=T.FONT_NAME), fallback_to_default=False)
    assert Path(found).resolve() == font_path.resolve()
    from fontTools.ttLib import TTFont

    src, light = TTFont(str(font_source), lazy=True), TTFont(str(font_path), lazy=True)
    assert light.getGlyphOrder() == src.getGlyphOrder() and light["cmap"].getBestCmap() == src["cmap"].getBestCmap()
    assert "GSUB" in src and "GSUB" not in light


def test_theme():
    assert T.THEME["font.family"][0] == T.FONT_NAME
    assert T.THEME["axes.unicode_minus"] is False
    assert T.THEME["svg.fonttype"] == "path" and T.THEME["pdf.fonttype"] == 42
    before = matplotlib.rcParams["font.family"]
    with T.theme():
        assert matplotlib.rcParams["font.family"][0] == T.FONT_NAME
    assert matplotlib.rcParams["font.family"] == before


def test_plots_reexports_the_theme_for_one_release():
    from compare import plots as P

    assert P.THEME is T.THEME and P.theme is T.theme and P.set_theme is T.set_theme and P.show_inline is T.show_inline
    assert P.FONT_SOURCE == T.font_source() and P.FONT_PATH == T.font_path()


_FRESH = """
import os, sys, tempfile
from pathlib import Path
import compare.export, compare.plots, compare.theme as T
from matplotlib import font_manager
cache = Path(os.environ["COMPARE_CACHE"])
# importing registers nothing and writes nothing
assert T._STATE["font"] is None and T._STATE["tmp"] is None
assert not any(Path(f.fname).name.startswith("NotoSansCJKsc") and "compare-fonts" in f.fname
               for f in font_manager.fontManager.ttflist)
assert not cache.exists() or not any(cache.rglob("*")), list(cache.rglob("*"))
# without a cache: the light copy goes to a temporary folder of this process
path = T.font_path()
assert path.is_relative_to(Path(tempfile.gettempdir()).resolve()) and "compare-fonts-" in str(path), path
assert not cache.exists() or not any(cache.rglob("*"))
print(T._STATE["tmp"])
"""


def test_import_has_no_side_effects_and_no_cache_means_a_temporary_copy(tmp_path):
    env = {**os.environ, "COMPARE_CACHE": str(tmp_path / "cache"), "PYTHONPATH": str(SRC)}
    run = subprocess.run([sys.executable, "-c", _FRESH], env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert not Path(run.stdout.strip()).exists()  # removed when the process ends


def test_light_copy_goes_to_the_cache_given(tmp_path):
    before = T._STATE["cache"]
    try:
        T.use_cache(Cache(tmp_path / "cache"))
        path = T.font_path()
        assert path.is_relative_to((tmp_path / "cache" / "fonts").resolve())
        assert path.stat().st_size > 1_000_000
        # every copy is the same bytes (the font's own timestamp is kept), so PDFs never depend on which was used
        assert path.read_bytes() == T._strip_layout(T.font_source())
        with T.theme():
            pass
        assert T.font_path() == path  # made once
    finally:
        T.use_cache(before)
        T.font_path()


def test_unwritable_cache_warns_once_and_draws_from_a_temporary_copy(tmp_path):
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("x")
    before = T._STATE["cache"]
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            T.use_cache(Cache(blocker / "cache"))  # a file stands where the folder should be
            path = T.font_path()
        assert [w.category for w in caught] == [CacheWarning]
        assert not path.is_relative_to(tmp_path) and path.is_file()
    finally:
        T.use_cache(before)
        T.font_path()


def test_show_inline_registers_a_png_formatter_once(monkeypatch):
    class Printer:
        def __init__(self):
            self.type_printers = {}

        def for_type(self, typ, func):
            self.type_printers[typ] = func

    png = Printer()
    shell = types.SimpleNamespace(display_formatter=types.SimpleNamespace(formatters={"image/png": png}))
    ipython = pytest.importorskip("IPython")
    monkeypatch.setitem(sys.modules, "IPython", ipython)
    monkeypatch.setattr(ipython, "get_ipython", lambda: shell)
    T.show_inline()
    assert Figure in png.type_printers
    first = png.type_printers[Figure]
    T.show_inline()
    assert png.type_printers[Figure] is first
    monkeypatch.setattr(ipython, "get_ipython", lambda: None)
    T.show_inline()  # outside IPython nothing happens


def _png(text: str):
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = Figure(figsize=(2, 0.5), dpi=100)
    FigureCanvasAgg(fig)
    fig.text(0.05, 0.3, text, fontsize=14)
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba()).copy()


def test_subset_draws_what_it_holds_and_the_whole_font_fills_in(tmp_path, project_cache):
    from fontTools.ttLib import TTFont

    cache = Cache(tmp_path / "cache")
    path = T.make_subset(["民政局", "养老"], cache)
    assert path.is_relative_to((tmp_path / "cache" / "fonts").resolve())
    assert T.make_subset(["养老", "民政局"], cache) == path  # the same characters: made once
    with TTFont(str(path), lazy=True) as font:
        held = set(map(chr, font["cmap"].getBestCmap()))
        assert set("民政局养老") <= held and "硚" not in held and "A" in held and "，" in held
        assert font["name"].getDebugName(1) == T.SUBSET_NAME
    assert path.stat().st_size < 200_000  # against 16 MB for the whole font
    text = "民政局 硚口区 ABC"  # 硚 (and 口, 区) are not in the subset
    with T.theme():
        plain = _png(text)
    try:
        T.use_subset(path)
        with T.theme():
            assert matplotlib.rcParams["font.family"][:2] == [T.SUBSET_NAME, T.FONT_NAME]
            assert (_png(text) == plain).all()  # the same pixels: nothing is lost, glyphs come from either font
            fig = Figure(figsize=(2, 0.5))
            fig.text(0.1, 0.3, "民政局养老")
            fig.savefig(tmp_path / "a.pdf")
            fig.text(0.1, 0.6, "硚")
            fig.savefig(tmp_path / "b.pdf")
    finally:
        T.use_subset(None)
    a, b = (tmp_path / "a.pdf").read_bytes(), (tmp_path / "b.pdf").read_bytes()
    assert b"NotoSansCJKSCSubset-Regular" in a and b"NotoSansCJKsc-Regular" not in a  # the subset alone
    assert b"NotoSansCJKsc-Regular" in b  # the whole font only for the character the subset lacks
    with T.theme():
        assert matplotlib.rcParams["font.family"][0] == T.FONT_NAME
