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
# # 02 · 问题类型 / Problem types
#
# 每个问题按 `src/compare/resources/codebook.yaml` 的九个类型编码：关键词规则给出证据，监督学习模型（jieba 分词 + TF-IDF +
# 线性模型，用 `src/compare/resources/labels/problems.csv` 的人工编码训练）给出判断。
#
# Every problem is coded into one of the nine types of the codebook, with the evidence shown (the build coded
# them; this notebook reads its tables). Where hand labels exist for the corpus's problems, the classifier is
# measured against them by leaving one report out; clustering shows the structure the texts have on their own.

# %%
import pandas as pd
from IPython.display import display

from compare.study import Folders, built_clusters, default_study
from compare.training import LoroResult
from compare.views import named_codes, styled

folders = Folders.from_env()  # the reports and output folders the build passed (default: the project's)
study = default_study()
pd.set_option("display.max_colwidth", 80)
corpus, results = study.open_build(folders)  # what the build wrote; computed only when there is no build
styled(corpus.problems[["problem_id", "title", "primary_code", "codes", "evidence"]].head(10))

# %% [markdown]
# ## 各类型数量 / Codes
# Problems per type over the whole corpus, and in how many reports each type occurs.

# %%
styled(corpus.problems.groupby("primary_code").agg(problems=("problem_id", "size"), reports=("report_id", "nunique"))
       .sort_values("problems", ascending=False).reset_index())

# %% [markdown]
# ## 分类器的检验 / How good is the classifier?
# Leave-one-report-out over the hand-labelled problems: train on the other reports, predict the held-out one,
# for each in turn. `blend` is the shipped classifier (model + codebook rules), `model` and `rules` its two
# halves alone. It needs hand codes for the problems of at least two reports of this corpus; the build made it
# (`evaluation_scores`, `evaluation_confusion`, `evaluation_predictions` in its tables).

# %%
loro = LoroResult.from_tables(results)  # the build's evaluation; None when the hand labels do not allow one
if loro is None:
    print(study.evaluation(corpus)[1])  # what is missing
else:
    display(loro.scores.pivot(index="region", columns="method", values="accuracy").round(3))
    display(loro.summary("blend")[["n", "accuracy", "macro_f1", "secondary_f1"]].round(3))
    display(named_codes(loro.confusion, study.codebook))  # rows: hand code; columns: predicted

# %% [markdown]
# ## 第二编码员 / A second coder
# Agreement of the hand labels with an independent coder's, made blind from the codebook alone
# (`labels-export --blind`, `labels-import --coder second`): Cohen's κ overall and per code, Krippendorff's α,
# the confusion table (rows: first coder) and the problems to adjudicate. This is apart from the figures above:
# leave-one-report-out measures the classifier, this measures how reproducible the codes themselves are.

# %%
second, why_not = study.agreement(corpus)  # the second coder's labels of these problems, or what is missing
if second is None:
    print(why_not)
else:
    display(styled(second.summary), styled(second.per_code), named_codes(second.confusion, study.codebook))
    display(styled(second.disagreements[[c for c in second.disagreements.columns
                                         if c.startswith(("problem_id", "title", "primary_code"))]]))

# %% [markdown]
# ## 待复核 / Needs review
# Problems the coder could not code with confidence (below the threshold, or no rule of any code fired and the
# model is unsure) are `needs_review`: counted in their unit's problems, never forced into a type.

# %%
flagged = corpus.problems[corpus.problems["needs_review"].fillna(False).astype(bool)]
print(f"{len(flagged)} of {len(corpus.problems)} problems need review")
if len(flagged):
    display(styled(flagged[["problem_id", "title", "primary_code", "confidence", "review_reason"]].head(20)))

# %% [markdown]
# ## 聚类 / Clustering
# jieba TF-IDF → LSA → k-means and agglomerative clustering, k chosen by silhouette (the build's clusters);
# where there are hand labels, the build scored them against those too (homogeneity, completeness, V-measure,
# adjusted Rand; mean ± std over seeds).

# %%
clusters = built_clusters(results)  # the build's clustering, from its tables (None: too few problems)
if clusters is None:
    print(f"No clusters: the build clusters four problems or more, this corpus has {len(corpus.problems)}.")
else:
    display(clusters.metrics_table(), styled(clusters.terms("kmeans", 8).to_frame("top terms").reset_index()))

# %% [markdown]
# Clusters (rows) against the hand codes where there are any, else against the codes the coder gave.

# %%
if clusters is not None:
    labelled = clusters.assignments["label"].notna().any()
    coded = corpus.problems.set_index("problem_id").loc[clusters.assignments["id"], "primary_code"].to_numpy()
    display(named_codes(clusters.crosstab("kmeans") if labelled
                        else pd.crosstab(clusters.assignments["kmeans"].rename("cluster"), pd.Series(coded, name="code")),
                        study.codebook))

# %% [markdown]
# ## 整改措施的类型 / What the measures did
# Measures are coded by the rules of `data/measure_codebook.yaml`: measures per type, and in how many reports.

# %%
styled(corpus.measures.assign(measure_type=corpus.measures.measure_type.fillna("(none)")).groupby("measure_type")
       .agg(measures=("measure_id", "size"), reports=("report_id", "nunique"))
       .sort_values("measures", ascending=False).reset_index())
