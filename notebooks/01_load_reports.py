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
# # 01 · 读入整改通报 / Loading the reports
#
# 构建（`python -m compare build`）把一批巡察整改进展情况通报读成整洁的表格：通报（reports）、问题（problems）、
# 整改措施（measures）、提及的数字/金额/日期/文件（mentions），以及读不了的文件（errors）。本笔记本读取构建写出的表格。
#
# The build turns every rectification report of its folder into rows of tidy tables; this notebook reads the
# tables it wrote (`Corpus.load`), nothing is parsed again. Each row keeps its character offsets, so every number
# can be traced back to the sentence it came from, in the original text.

# %%
import tempfile
from pathlib import Path

import pandas as pd
from IPython.display import display

from compare.study import Folders, default_study
from compare.views import styled

folders = Folders.from_env()  # the reports and output folders the build passed (default: the project's)
study = default_study()

pd.set_option("display.max_colwidth", 60)
corpus, results = study.open_build(folders)  # what the build wrote; computed only when there is no build
corpus

# %% [markdown]
# ## 通报 / Reports
# Metadata parsed from each report: the issuer and the place (told apart by its admin code; `region_label` is
# unique), then the inspection body, the dates (ISO; `YYYY-MM` when the report gives only a month) and what the
# report holds. At most 30 reports are shown here; every one is in `corpus.reports` (and the build's `reports.csv`).

# %%
SHOW = 30
if len(corpus.reports) > SHOW:
    print(f"{len(corpus.reports)} reports, the first {SHOW} shown")
first = corpus.reports.head(SHOW)
display(styled(first[["report_id", "issuer", "region_label", "city", "province", "adcode", "admin_level"]]))
styled(first[["report_id", "inspection_body", "inspection_start", "inspection_end", "feedback_date",
              "published_date", "n_problems", "n_measures", "is_report", "n_warnings"]])

# %% [markdown]
# ## 问题与措施 / Problems and measures
# Aspect → theme → problem → measures, in document order. `title` is the problem statement without the
# 针对“…”问题 wrapper. Here the problems of the report with the most of them.

# %%
largest = corpus.problems.report_id.value_counts().index[0]
print(largest, corpus.reports.set_index("report_id").at[largest, "region_label"])
styled(corpus.problems.loc[corpus.problems.report_id == largest, ["problem_id", "label", "aspect", "theme",
                                                                   "title", "n_measures"]].head(12))

# %%
styled(corpus.measures.loc[corpus.measures.report_id == largest, ["measure_id", "label", "sub_area", "text"]].head(8))

# %% [markdown]
# ## 提及 / Mentions
# Numbers with units, money, percentages, dates and cited documents 《…》, each in the measure it sits in:
# how many of each kind, and in how many reports.

# %%
styled(corpus.mentions.groupby("kind").agg(mentions=("text", "size"), reports=("report_id", "nunique")).reset_index())

# %% [markdown]
# ## 不丢一个字 / Nothing is lost
# The parse is a list of typed spans that tile the canonical text; the canonical text maps back to the raw
# text character by character. Here: how many characters each kind of span holds, and the first measure whose
# original text differs from the canonical one (markup, widths, broken lines), shown both ways.

# %%
spans = corpus.spans.assign(chars=corpus.spans.end - corpus.spans.start)
styled(spans.groupby("kind").agg(spans=("chars", "size"), chars=("chars", "sum"),
                                 reports=("report_id", "nunique")).reset_index())

# %%
shown = corpus.measures.iloc[0]
for m in corpus.measures.head(300).itertuples():
    if corpus.text(m.report_id, m.start, m.end, raw=True) != corpus.text(m.report_id, m.start, m.end):
        shown = m
        break
print(shown.measure_id)
print("canonical:", corpus.text(shown.report_id, shown.start, shown.end)[:80])
print("original: ", corpus.text(shown.report_id, shown.start, shown.end, raw=True)[:80])

# %% [markdown]
# ## 读不了的文件 / Files that could not be read
# A bad file becomes a row of `errors` naming the file and the reason; the rest of the batch loads. The
# build's own errors first, then a demonstration: one report of the corpus beside an empty file and a broken PDF.

# %%
display(styled(corpus.errors[["path", "stage", "error", "message"]]))
with tempfile.TemporaryDirectory() as tmp:
    (Path(tmp) / "empty.txt").write_bytes(b"")
    (Path(tmp) / "scan.pdf").write_bytes(b"%PDF-1.4 not a real pdf")
    demo = study.load([corpus.reports.source_path.iloc[0], *sorted(Path(tmp).iterdir())])
    display(styled(demo.errors[["stage", "error", "message"]]))
print(demo)
