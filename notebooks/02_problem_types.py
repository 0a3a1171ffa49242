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
# # 02 · 问题类型 / Problem types
#
# 每个问题按 `data/codebook.yaml` 的九个类型编码：关键词规则给出证据，监督学习模型（jieba 分词 + TF-IDF +
# 线性模型，用 `data/labels/problems.csv` 的人工编码训练）给出判断。
#
# Every problem is coded into one of the nine types of the codebook, with the evidence shown. The classifier
# is measured against the hand-coded labels by leaving one region out; clustering shows the structure the
# texts have on their own.

# %%
import pandas as pd

from compare.cluster import cluster_problems
from compare.study import Folders, default_study
from compare.training import evaluate_loro

folders = Folders.from_env()  # the reports and output folders the build passed (default: the project's)
study = default_study()
pd.set_option("display.max_colwidth", 80)
corpus = study.code(study.load(folders.raw))
corpus.problems[["problem_id", "title", "primary_code", "codes", "evidence"]].head(10)

# %% [markdown]
# ## 各类型数量 / Codes per report

# %%
pd.crosstab(corpus.problems.primary_code, corpus.problems.report_id, margins=True)

# %% [markdown]
# ## 分类器的检验 / How good is the classifier?
# Leave-one-region-out: train on two bureaus, predict the third, for each bureau in turn. `blend` is the
# shipped classifier (model + codebook rules), `model` and `rules` its two halves alone.

# %%
training = study.training(corpus)  # the hand labels of these problems, the codebook and the tokenizer
loro = evaluate_loro(*training)
loro.scores.pivot(index="region", columns="method", values="accuracy").round(3)

# %%
loro.summary("blend")[["n", "accuracy", "macro_f1", "secondary_f1"]].round(3)

# %%
loro.confusion

# %% [markdown]
# ## 聚类 / Clustering
# jieba TF-IDF → LSA → k-means and agglomerative clustering, k chosen by silhouette; compared with the hand
# labels (homogeneity, completeness, V-measure, adjusted Rand; mean ± std over seeds).

# %%
clusters = cluster_problems(corpus.problems, training.labels, tokenizer=study.tokenizer)
clusters.metrics_table()

# %%
clusters.terms("kmeans", 8).to_frame("top terms")

# %%
clusters.crosstab("kmeans")

# %% [markdown]
# ## 整改措施的类型 / What the measures did
# Measures are coded by the rules of `data/measure_codebook.yaml`.

# %%
pd.crosstab(corpus.measures.measure_type.fillna("(none)"), corpus.measures.report_id, margins=True)
