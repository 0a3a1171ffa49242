# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 04 · 导出图表 / Exporting figures and tables
#
# 供报告使用的图（PNG 300 dpi、SVG、PDF，中文或英文标签）和表（带 BOM 的 CSV 与 XLSX）。
#
# Publication-ready figures (PNG at 300 dpi, SVG and PDF; Chinese or English labels, one parameter) and tables
# (CSV with BOM for Excel, and XLSX). File names are stable: `<number>_<chart>_<lang>.<format>`.
#
# `python -m compare build` (`make report`) already writes every figure in both languages and all three formats;
# this notebook shows how to write them yourself from the build's tables, e.g. after changing a title, into its
# own export folder (`folders.export`: `OUT/reports/export/` in a build, `data/processed/export/` when you run
# it by hand) — never over the build's own files. `FORMATS` keeps it quick (PNG only: about a second per
# figure, where SVG and PDF with the embedded Chinese font take another two).

# %%
import matplotlib.pyplot as plt

from compare.export import save_figure, save_table
from compare.study import Folders, default_study

folders = Folders.from_env()  # the reports and output folders the build passed (default: the project's)
study = default_study()

LANG = "en"  # "zh" for Chinese labels
FORMATS = ("png",)  # ("png", "svg", "pdf") for all three
FIGURES = ["02_bars_type_by_region", "05_measure_types"]  # None: every figure of compare.study.FIGURES

corpus, results = study.open_build(folders)  # what the build wrote; computed only when there is no build
figs = study.figures(results, lang=LANG, only=FIGURES)
list(figs)

# %%
figs["02_bars_type_by_region"]

# %%
figs["05_measure_types"]

# %% [markdown]
# ## 写出文件 / Writing the files

# %%
written = []
for name, fig in figs.items():
    written += save_figure(fig, f"{name}_{LANG}", folders.export / "figures", formats=FORMATS)
    plt.close(fig)
for name in ("type_counts", "recurring_types", "concreteness_by_region", "timeline"):
    written += save_table(results[name], name, folders.export / "tables")
[p.relative_to(folders.export).as_posix() for p in written]
