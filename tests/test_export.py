"""compare.export: reproducible figure files and Excel-friendly tables."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from PIL import Image

from compare import config
from compare import plots as P
from compare.export import save_figure, save_table
from compare.theme import theme

FIXTURES = Path(__file__).parent / "data" / "analysis"


@pytest.fixture(scope="module")
def fig():
    counts = pd.DataFrame(
        {
            "region": ["惠东县", "惠东县", "海珠区", "海珠区"],
            "code": ["elderly_care", "party_building"] * 2,
            "n": [3, 1, 0, 2],
            "share_of_region": [0.75, 0.25, 0.0, 1.0],
        }
    )
    from compare.codebook import load_codebook

    cb = load_codebook(FIXTURES / "codebook.yaml")
    return P.heatmap_region_type(counts, codebook=cb, title="问题类型（测试）", source="来源：测试")


def test_save_figure_writes_three_formats(fig, tmp_path):
    paths = save_figure(fig, "fig_test", tmp_path, dpi=100)
    assert [p.name for p in paths] == ["fig_test.png", "fig_test.svg", "fig_test.pdf"]
    assert all(p.is_file() and p.stat().st_size > 1000 for p in paths)
    svg = paths[1].read_text(encoding="utf-8")
    assert "<text" not in svg  # text as paths: renders without the font
    assert "<dc:date>" not in svg
    pdf = paths[2].read_bytes()
    assert b"CreationDate" not in pdf and b"NotoSansCJKsc" in pdf


def test_svg_and_pdf_are_byte_identical(fig, tmp_path):
    a = save_figure(fig, "same", tmp_path / "a", formats=("svg", "pdf"), dpi=100)
    b = save_figure(fig, "same", tmp_path / "b", formats=("svg", "pdf"), dpi=100)
    for pa, pb in zip(a, b, strict=True):
        assert pa.read_bytes() == pb.read_bytes(), pa.suffix


def test_save_figure_draws_the_figure_once_per_vector_format(tmp_path, monkeypatch):
    """Laid out once, then drawn once for the SVG and once for the PDF (the PNG is the PDF's raster): no dry
    draw before each save, which matplotlib makes while a figure has a layout engine, its placeholder too."""
    from matplotlib.figure import Figure

    with theme():
        page = Figure(figsize=(3, 2))
        page.add_subplot().set_title("惠东县")
    page.savefig(tmp_path / "before.png")  # a save of its own before: the engine it leaves does not count
    draws = []
    real = Figure.draw
    monkeypatch.setattr(Figure, "draw", lambda self, renderer: draws.append(type(getattr(renderer, "_renderer", renderer)).__name__)
                        or real(self, renderer))
    save_figure(page, "once", tmp_path, dpi=100)
    assert draws == ["RendererPdf", "RendererSVG"]  # the PDF first: the PNG is made from it
    before = (tmp_path / "once.svg").read_bytes()
    save_figure(page, "once", tmp_path, dpi=100)
    assert (tmp_path / "once.svg").read_bytes() == before and draws[2:] == ["RendererPdf", "RendererSVG"]
    save_figure(page, "alone", tmp_path, dpi=100, formats=("png",))  # a PNG alone: no PDF to raster
    assert draws[4:] == ["RendererAgg"]
    with Image.open(tmp_path / "alone.png") as image:
        assert image.size == (300, 200) and round(image.info["dpi"][0]) == 100


def test_png_has_300_dpi(tmp_path):
    with theme():
        from matplotlib.figure import Figure

        small = Figure(figsize=(2, 1))
        small.add_subplot().set_title("惠东县")
    (png,) = save_figure(small, "dpi", tmp_path, formats=("png",))
    with Image.open(png) as image:
        assert image.info["dpi"] == pytest.approx((300, 300), abs=0.01)
        assert image.size == (600, 300)


def test_png_is_the_pdf_drawn_by_pdfium_and_looks_like_matplotlibs_own(fig, tmp_path):
    """The PNG is PDFium's rendering of the PDF (no third drawing of the figure): the size matplotlib's Agg PNG
    has, the same picture up to anti-aliasing, and the page's ink where Agg puts it."""
    import io

    import numpy as np
    import pypdfium2

    png, pdf = save_figure(fig, "raster", tmp_path, formats=("png", "pdf"), dpi=150)
    doc = pypdfium2.PdfDocument(pdf)
    page = np.asarray(doc[0].render(scale=150 / 72).to_pil())
    doc.close()
    buf = io.BytesIO()
    with theme():
        fig.savefig(buf, format="png", dpi=150, facecolor="white")  # matplotlib's own raster, for comparison
    with Image.open(png) as ours, Image.open(buf) as agg:
        assert ours.size == agg.size == tuple(int(x * 150) for x in fig.get_size_inches())
        assert ours.info["dpi"] == pytest.approx((150, 150), abs=0.05)  # pixels per metre in the file
        assert ours.info["Software"] == "compare (matplotlib)"
        rgb = np.asarray(ours.convert("RGB"))
        assert (rgb == page[: rgb.shape[0], : rgb.shape[1]]).all()  # the PDF's page, pixel for pixel
        a = np.asarray(ours.convert("L"), dtype=float)
        b = np.asarray(agg.convert("L"), dtype=float)
    assert np.abs(a - b).mean() < 4  # grey levels of 255: anti-aliasing apart, the same picture
    ink_a, ink_b = a < 128, b < 128
    assert ink_a.sum() == pytest.approx(ink_b.sum(), rel=0.15)
    assert (ink_a & ink_b).sum() / ink_b.sum() > 0.7  # text and marks in the same places


def _zlib_level(png: Path) -> int:
    """The FLEVEL field (0 fastest … 3 maximum) of the zlib stream in a PNG's image data."""
    import struct

    data, at, idat = png.read_bytes(), 8, b""
    while at < len(data):
        (n,), kind = struct.unpack(">I", data[at:at + 4]), data[at + 4:at + 8]
        idat += data[at + 8:at + 8 + n] if kind == b"IDAT" else b""
        at += 12 + n
    return idat[1] >> 6


def test_pngs_are_written_at_zlibs_fastest_level(fig, tmp_path):
    """Every PNG of a figure, drawn from the PDF or by matplotlib alone, and the notebook's page previews use
    zlib level 1 (FLEVEL 0), not Pillow's default 6 (FLEVEL 2): half the encoding time, a little more disk."""
    from compare.views import FigurePages

    from_pdf, _ = save_figure(fig, "fast", tmp_path, formats=("png", "pdf"))
    (alone,) = save_figure(fig, "alone", tmp_path / "alone", formats=("png",))
    assert _zlib_level(from_pdf) == _zlib_level(alone) == 0
    (shown,) = FigurePages([from_pdf]).images()
    (tmp_path / "shown.png").write_bytes(shown.data)
    assert _zlib_level(tmp_path / "shown.png") == 0


def test_default_figure_dir_comes_from_config(fig, tmp_path, monkeypatch):
    monkeypatch.setattr(config, "FIGURES_DIR", tmp_path / "figures")
    (path,) = save_figure(fig, "default_dir", config.FIGURES_DIR, formats=("svg",))
    assert path == tmp_path / "figures" / "default_dir.svg"


def test_bad_names_and_formats(fig, tmp_path):
    with pytest.raises(ValueError, match="file name"):
        save_figure(fig, "../escape", tmp_path)
    with pytest.raises(ValueError, match="format"):
        save_figure(fig, "x", tmp_path, formats=("gif",))
    with pytest.raises(ValueError, match="format"):
        save_table(pd.DataFrame({"a": [1]}), "x", tmp_path, formats=("json",))


# ----------------------------------------------------------------------------------------- tables
@pytest.fixture()
def table():
    return pd.DataFrame(
        {
            "region": ["惠东县", "海珠区"],
            "code": ["elderly_care", "social_assistance"],
            "n": [3, 0],
            "share": [0.75, 0.0],
            "regions": [["惠东县", "海珠区"], ("许昌市",)],
            "units": [{"县公安局", "县医保局"}, set()],
            "flag": [True, False],
        }
    )


def test_save_table_csv_has_bom_and_joins_lists(table, tmp_path):
    csv, xlsx = save_table(table, "type_counts", tmp_path)
    assert csv.name == "type_counts.csv" and xlsx.name == "type_counts.xlsx"
    raw = csv.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    back = pd.read_csv(csv, encoding="utf-8-sig", keep_default_na=False)
    assert list(back.columns) == list(table.columns)
    assert list(back["regions"]) == ["惠东县；海珠区", "许昌市"]
    assert list(back["units"]) == ["县公安局；县医保局", ""]
    assert list(back["n"]) == [3, 0]


def test_save_table_xlsx_reads_back_equal(table, tmp_path):
    (xlsx,) = save_table(table, "type_counts", tmp_path, formats=("xlsx",))
    back = pd.read_excel(xlsx, sheet_name="type_counts").fillna({"units": ""})
    expected = table.assign(regions=["惠东县；海珠区", "许昌市"], units=["县公安局；县医保局", ""])
    pd.testing.assert_frame_equal(back, expected, check_dtype=False)
    assert back["n"].dtype == "int64" and back["flag"].dtype == bool


def test_save_table_default_dir(table, tmp_path, monkeypatch):
    monkeypatch.setattr(config, "FIGURES_DIR", tmp_path / "figs")
    monkeypatch.delattr(config, "TABLES_DIR", raising=False)
    (csv,) = save_table(table, "t", config.FIGURES_DIR, formats=("csv",))
    assert csv.parent == tmp_path / "figs"


# ----------------------------------------------------------------------------------------- safe cells
def _hostile() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "title": ["=1+1", "+A", "-x", "@SUM(A1)", "\tX", "page\x0cbreak", "惠东县", "\rY"],
            "n": [-1, 2, -3, 4, 5, 6, 7, 8],
            "=total": [-1.5, 0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        }
    )


def test_formula_cells_are_neutralised_in_xlsx(tmp_path):
    import openpyxl

    (xlsx,) = save_table(_hostile(), "hostile", tmp_path, formats=("xlsx",))
    ws = openpyxl.load_workbook(xlsx)["hostile"]
    rows = [[c.value for c in row] for row in ws.iter_rows()]
    assert rows == [
        ["title", "n", "'=total"],
        ["'=1+1", -1, -1.5],
        ["'+A", 2, 0],
        ["'-x", -3, 1],
        ["'@SUM(A1)", 4, 2],
        ["'\tX", 5, 3],
        ["page\ufffdbreak", 6, 4],  # a form feed cannot be held by XLSX
        ["惠东县", 7, 5],
        ["'\rY", 8, 6],
    ]
    cells = [c for row in ws.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f" or str(c.value).startswith("=")]
    assert [c.data_type for c in ws["B"][1:]] == ["n"] * 8  # negative numbers stay numbers


def test_formula_cells_are_neutralised_in_csv(tmp_path):
    import csv

    (path,) = save_table(_hostile(), "hostile", tmp_path, formats=("csv",))
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    assert rows == [
        ["title", "n", "'=total"],
        ["'=1+1", "-1", "-1.5"],
        ["'+A", "2", "0.0"],
        ["'-x", "-3", "1.0"],
        ["'@SUM(A1)", "4", "2.0"],
        ["'\tX", "5", "3.0"],
        ["page\x0cbreak", "6", "4.0"],  # CSV holds a form feed
        ["惠东县", "7", "5.0"],
        ["'\rY", "8", "6.0"],
    ]


def test_parquet_keeps_the_text_as_it_is(tmp_path):
    (path,) = save_table(_hostile(), "hostile", tmp_path, formats=("parquet",))
    pd.testing.assert_frame_equal(pd.read_parquet(path), _hostile())


def test_a_table_longer_than_a_sheet_is_split_over_sheets(tmp_path, monkeypatch):
    import openpyxl

    from compare import export

    monkeypatch.setattr(export, "XLSX_MAX_ROWS", 4)  # a header and three rows a sheet
    df = pd.DataFrame({"k": range(7), "text": [f"row {i}" for i in range(7)]})
    with pytest.warns(export.ExportWarning, match="3 sheets"):
        csv, xlsx = save_table(df, "long", tmp_path)
    book = openpyxl.load_workbook(xlsx)
    assert book.sheetnames == ["long", "long_2", "long_3"]
    assert [book[s].max_row for s in book.sheetnames] == [4, 4, 2]
    assert all([c.value for c in book[s][1]] == ["k", "text"] for s in book.sheetnames)
    back = pd.concat([pd.read_excel(xlsx, sheet_name=s) for s in book.sheetnames], ignore_index=True)
    pd.testing.assert_frame_equal(back, df)
    assert len(pd.read_csv(csv, encoding="utf-8-sig")) == 7  # the CSV holds every row


def test_sheet_names_of_a_long_table_stay_within_31_characters(tmp_path, monkeypatch):
    import openpyxl

    from compare import export

    monkeypatch.setattr(export, "XLSX_MAX_ROWS", 2)
    with pytest.warns(export.ExportWarning):
        (xlsx,) = save_table(pd.DataFrame({"a": [1, 2]}), "x" * 40, tmp_path, formats=("xlsx",))
    assert openpyxl.load_workbook(xlsx).sheetnames == ["x" * 31, "x" * 29 + "_2"]


def test_a_table_wider_than_a_sheet_is_written_as_csv_only(tmp_path, monkeypatch):
    from compare import export

    monkeypatch.setattr(export, "XLSX_MAX_COLUMNS", 2)
    with pytest.warns(export.ExportWarning, match="columns"):
        written = save_table(pd.DataFrame({"a": [1], "b": [2], "c": [3]}), "wide", tmp_path)
    assert [p.name for p in written] == ["wide.csv"]
    assert not (tmp_path / "wide.xlsx").exists()


# ----------------------------------------------------------------------------------------- atomic
def test_a_failed_write_leaves_the_previous_files(fig, table, tmp_path, monkeypatch):
    from matplotlib.figure import Figure

    (png,) = save_figure(fig, "kept", tmp_path, formats=("png",), dpi=50)
    csv, xlsx = save_table(table, "kept", tmp_path)
    before = {p: p.read_bytes() for p in (png, csv, xlsx)}

    def torn(self, path, *args, **kwargs):
        if isinstance(path, str | Path):
            Path(path).write_bytes(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(Figure, "savefig", torn)
    monkeypatch.setattr(pd.DataFrame, "to_csv", torn)
    import openpyxl

    monkeypatch.setattr(openpyxl.Workbook, "save", torn)
    with pytest.raises(OSError, match="disk full"):
        save_figure(fig, "kept", tmp_path, formats=("png",))
    for fmt in ("csv", "xlsx"):
        with pytest.raises(OSError, match="disk full"):
            save_table(table, "kept", tmp_path, formats=(fmt,))
    assert {p: p.read_bytes() for p in before} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept.csv", "kept.png", "kept.xlsx"]


def test_xlsx_cells_keep_numbers_dates_and_blanks_and_write_other_values_as_text(tmp_path):
    import datetime

    import numpy as np
    import openpyxl

    df = pd.DataFrame({"n": np.array([3, 4], dtype="int64"), "ok": [True, False], "share": [0.25, np.nan],
                       "day": pd.to_datetime(["2024-03-01", None]), "span": [pd.Period("2024-03", "M"), None]})
    (xlsx,) = save_table(df, "kinds", tmp_path, formats=("xlsx",))
    rows = list(openpyxl.load_workbook(xlsx)["kinds"].iter_rows(values_only=True))
    assert rows == [("n", "ok", "share", "day", "span"), (3, True, 0.25, datetime.datetime(2024, 3, 1), "2024-03"),
                    (4, False, None, None, None)]


def test_text_longer_than_a_cell_is_cut_in_the_xlsx_only(tmp_path, monkeypatch):
    import openpyxl

    from compare import export

    monkeypatch.setattr(export, "XLSX_MAX_CELL_CHARS", 5)
    df = pd.DataFrame({"text": ["short", "巡察反馈问题整改", None], "n": [1, 2, 3]})
    with pytest.warns(export.ExportWarning, match="1 cells"):
        csv, xlsx, parquet = save_table(df, "cut", tmp_path, formats=("csv", "xlsx", "parquet"))
    ws = openpyxl.load_workbook(xlsx)["cut"]
    assert [c.value for c in ws["A"]] == ["text", "short", "巡察反馈…", None]
    assert pd.read_csv(csv, encoding="utf-8-sig")["text"].iloc[1] == "巡察反馈问题整改"
    assert pd.read_parquet(parquet)["text"].iloc[1] == "巡察反馈问题整改"


def test_equal_tables_give_byte_equal_xlsx(tmp_path):
    """No timestamp in the workbook: a rebuilt table file equals the one it replaces (build manifests rely on it)."""
    import hashlib
    import time

    df = pd.DataFrame({"region": ["惠东县", "=A1"], "n": [3, -1]})
    first = (save_table(df, "t", tmp_path / "a", formats=("xlsx",))[0]).read_bytes()
    time.sleep(1.1)  # zip entries carry seconds (two-second steps): a later write would differ
    second = (save_table(df, "t", tmp_path / "b", formats=("xlsx",))[0]).read_bytes()
    assert hashlib.sha256(first).hexdigest() == hashlib.sha256(second).hexdigest()
