"""compare.export: reproducible figure files and Excel-friendly tables."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from PIL import Image

from compare import config
from compare import plots as P
from compare.export import save_figure, save_table

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


def test_png_has_300_dpi(tmp_path):
    with P.theme():
        from matplotlib.figure import Figure

        small = Figure(figsize=(2, 1))
        small.add_subplot().set_title("惠东县")
    (png,) = save_figure(small, "dpi", tmp_path, formats=("png",))
    with Image.open(png) as image:
        assert image.info["dpi"] == pytest.approx((300, 300), abs=0.01)
        assert image.size == (600, 300)


def test_default_figure_dir_comes_from_config(fig, tmp_path, monkeypatch):
    monkeypatch.setattr(config, "FIGURES_DIR", tmp_path / "figures")
    (path,) = save_figure(fig, "default_dir", formats=("svg",))
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
    (csv,) = save_table(table, "t", formats=("csv",))
    assert csv.parent == tmp_path / "figs"
