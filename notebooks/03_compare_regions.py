# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 03 · 地区比较 / Comparing regions
#
# 哪些问题在各地反复出现，哪些是一地特有的；整改措施有多具体；从巡察到公布整改情况用了多久。
#
# Which weaknesses recur across the bureaus and which are local, how concrete the claimed measures are, and
# how long each step took. The tables are the build's (read, not recomputed); every one can be traced back to
# the problems behind it. The charts are the build's too, every page (`folders.figures`); run by hand, the
# notebook draws their first pages from the tables instead.

# %%
import pandas as pd
from IPython.display import display

from compare import analysis
from compare.explore import Explorer, InteractiveMap, kwic, kwic_table
from compare.study import Folders, default_study
from compare.views import evidence_table, split_terms, styled

folders = Folders.from_env()  # the reports and output folders the build passed (default: the project's)
study = default_study()

pd.set_option("display.max_colwidth", 60)
corpus, results = study.open_build(folders)  # what the build wrote; computed only when there is no build
figs = study.figures(results, lang="zh", only=["01_heatmap_region_type", "03_recurring_matrix",
                                               "08_distinctive_terms", "06_concreteness", "07_timeline"],
                     built=folders.figures)
tc = results["type_counts"]
unit, weighting = tc.attrs["unit"], tc.attrs["weighting"]
largest = tc.drop_duplicates("region").sort_values("n_region", ascending=False, kind="stable").region.tolist()
print(f"{tc.region.nunique()} units of comparison ({unit}), shares weighted: {weighting}; largest: {largest[:3]}")

# %% [markdown]
# ## 类型 × 地区 / Types by region
# A unit is what the build compared by (`build --by`: a place told apart by its admin code unless told
# otherwise); `n_reports` says how many reports it pools. Shares are of the unit's problems (`n_region` is the
# denominator), the problems pooled (`weighting = pooled`) or the mean of its reports' shares (`mean`), with
# a 95 % Wilson interval (`share_low`–`share_high`). Here the counts of the eight largest units.

# %%
tc[tc.region.isin(largest[:8])].pivot(index="name_zh", columns="region", values="n").loc[
    tc.name_zh.unique(), largest[:8]]

# %%
figs["01_heatmap_region_type"]

# %% [markdown]
# ## 两地对比 / Two units compared
# `study.compare(corpus, a, b)` (or `b=None`: a against all the others) compares the shares of every type
# with their intervals, a χ² test (Fisher's exact test where an expected count is under 5, flagged `small`) and
# the adjusted standardized residual (beyond ±1.96: over- or under-represented); the terms by keyness
# (log-likelihood G², positive and negative, place names of the corpus left out); and the concreteness of the
# measures. Here the two largest units, then the largest against the rest. The numbers behind the table are
# `pair.types` and `pair.measures` (counts, shares, interval bounds), and `pair.table()` is the table shown.

# %%
pair = study.compare(corpus, largest[0], largest[1] if len(largest) > 1 else None, unit=unit, results=results)
pair

# %%
rest = study.compare(corpus, largest[0], unit=unit, results=results)
styled(rest.terms.groupby("direction").head(8)).format({"score": "{:+.1f}", "p": "{:.1e}"})

# %% [markdown]
# ## 反复出现的问题 / Recurring weaknesses
# Types present in two or more units, with the titles from the three largest side by side; then finer themes
# (clusters of problems) that recur.

# %%
styled(results["recurring_types"][["code", "name_zh", "n_regions", "n_problems",
                                   *[u for u in largest[:3] if u in results["recurring_types"]]]])

# %%
figs["03_recurring_matrix"]

# %%
themes = results.get("recurring_themes", pd.DataFrame(columns=["terms", "n_regions", "n_problems"]))
styled(themes[["terms", "n_regions", "n_problems", *[u for u in largest[:3] if u in themes]]].head(8))

# %% [markdown]
# ## 一地特有的问题 / Distinctive terms
# Keyness of terms by unit against the others (signed log-likelihood G²; place names left out).

# %%
figs["08_distinctive_terms"]

# %% [markdown]
# ## 最相似的跨地区问题 / Most alike problems across units

# %%
styled(results["similar_pairs"][["similarity", "region_a", "title_a", "region_b", "title_b"]].head(8))

# %% [markdown]
# ## 重复使用的措施文字 / Recycled text
# Measures copied between problems (cosine of character n-grams, or containment of one in the other ≥ 0.8).

# %%
styled(results["recycled_text"][["similarity", "scope", "measure_id_a", "measure_id_b", "text_a"]].head(10))

# %% [markdown]
# ## 措施有多具体 / How concrete are the measures?

# %%
figs["06_concreteness"]

# %% [markdown]
# ## 时间线 / Timeline

# %%
styled(results["timeline"][["region", "inspection_start", "inspection_end", "feedback_date", "published_date",
                             "inspection_days", "to_feedback_days", "to_publication_days"]].head(20))

# %%
figs["07_timeline"]

# %% [markdown]
# ## 追溯 / Tracing a cell back
# The problems behind one cell of the heatmap: the largest one.

# %%
cell = tc.sort_values("n", kind="stable").iloc[-1]
print(cell.region, cell.name_zh, cell.n)
styled(analysis.problems_behind(corpus.problems, corpus.reports, region=cell.region, code=cell.code, unit=unit)[
    ["problem_id", "title", "start", "end"]])

# %% [markdown]
# ## 探索 / Explore
# 点击类型表中的一格，列出其背后的问题：命中词高亮、整改措施、原文段落。可换比较单位（地区、城市、省份、级别、年份），
# 或选两个单位对比。从最大的一格开始。
#
# Click a cell of the type table to list the problems behind it, with their matched terms marked, their measures
# and the passage of the source text; compare by another unit (region, city, province, level, year) or pick two
# units. It starts on the largest cell.

# %%
explorer = Explorer(corpus, results, study.codebook, unit=cell.region, code=cell.code)
display(explorer)

# %% [markdown]
# The evidence of those problems, the matched terms marked in the titles; then the cell's most frequent term in
# context in the same reports (`kwic`: offsets into the text and the problem and measure each occurrence falls in).

# %%
styled(evidence_table(explorer.problems, corpus.reports, study.codebook))

# %%
terms = pd.Series([t for v in explorer.problems["matched_terms"] for t in split_terms(v)]).value_counts()
term = terms.index[0] if len(terms) else cell.name_zh
kwic_table(kwic(corpus, term, window=15, report_ids=explorer.problems["report_id"].unique()).head(10))

# %% [markdown]
# ## 交互式问题地图 / Interactive problem map
# 鼠标悬停显示编号、地区、类型和标题。Hover over a point for its id, region, type and title;
# `InteractiveMap(...).save(path)` writes the map as one HTML file that opens offline.

# %%
InteractiveMap(results["problem_map"], study.codebook, lang="zh")
