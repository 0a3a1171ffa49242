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
# 把 `data/raw/` 里的巡察整改进展情况通报读成整洁的表格：通报（reports）、问题（problems）、整改措施（measures）、
# 提及的数字/金额/日期/文件（mentions），以及读不了的文件（errors）。
#
# Every rectification report in `data/raw/` becomes rows of tidy tables. Each row keeps its character offsets,
# so every number can be traced back to the sentence it came from, in the original text.

# %%
import pandas as pd

from compare import load_reports
from compare.study import Folders, default_study

folders = Folders.from_env()  # the reports and output folders the build passed (default: the project's)
study = default_study()

pd.set_option("display.max_colwidth", 60)
corpus = study.load(folders.raw)
corpus

# %% [markdown]
# ## 通报 / Reports
# Metadata parsed from each report: issuer, region, inspection body and the dates (ISO; `YYYY-MM` when the
# report gives only a month).

# %%
corpus.reports[["report_id", "issuer", "region", "city", "province", "admin_level", "inspection_body",
                "inspection_start", "inspection_end", "feedback_date", "published_date", "n_problems",
                "n_measures", "is_report", "n_warnings"]]

# %% [markdown]
# ## 问题与措施 / Problems and measures
# Aspect → theme → problem → measures, in document order. `title` is the problem statement without the
# 针对“…”问题 wrapper.

# %%
corpus.problems[["problem_id", "label", "aspect", "theme", "title", "n_measures"]].head(12)

# %%
corpus.measures[["measure_id", "label", "sub_area", "text"]].head(8)

# %% [markdown]
# ## 提及 / Mentions
# Numbers with units, money, percentages, dates and cited documents 《…》, each in the measure it sits in.

# %%
corpus.mentions.groupby(["report_id", "kind"]).size().unstack(fill_value=0)

# %% [markdown]
# ## 不丢一个字 / Nothing is lost
# The parse is a list of typed spans that tile the canonical text; the canonical text maps back to the raw
# text character by character. Here: how many characters each kind of span holds, and one measure shown as it
# stands in the original file (with its `**bold**` markers).

# %%
spans = corpus.spans.assign(chars=corpus.spans.end - corpus.spans.start)
spans.pivot_table(index="kind", columns="report_id", values="chars", aggfunc="sum", fill_value=0)

# %%
m = corpus.measures.iloc[0]
print(m.measure_id)
print(corpus.text(m.report_id, m.start, m.end, raw=True)[:80])

# %% [markdown]
# ## 读不了的文件 / Files that could not be read
# A bad file becomes a row of `errors` naming the file and the reason; the rest of the batch loads.

# %%
import tempfile
from pathlib import Path

with tempfile.TemporaryDirectory() as tmp:
    (Path(tmp) / "empty.txt").write_bytes(b"")
    (Path(tmp) / "scan.pdf").write_bytes(b"%PDF-1.4 not a real pdf")
    demo = load_reports([*sorted(folders.raw.iterdir()), *sorted(Path(tmp).iterdir())], cache=False)
    display(demo.errors[["stage", "error", "message"]])
print(demo)
