"""compare.documents: the one text a problem (and a measure) is read by."""

from __future__ import annotations

import numpy as np
import pandas as pd

from compare.documents import (
    han_only,
    measure_document,
    measure_documents,
    problem_document,
    problem_documents,
    title_of,
)


def test_problem_document_is_title_newline_text():
    assert problem_document("标题\n续", "正文") == "标题 续\n正文"
    assert problem_document(None, None) == "\n"
    assert problem_document(np.nan, "正文") == "\n正文"
    assert title_of(problem_document("标题", "一是甲。\n二是乙。")) == "标题"


def test_problem_documents_of_a_table_equal_problem_document(corpus):
    p = corpus.problems
    assert problem_documents(p) == [problem_document(t, x) for t, x in zip(p["title"], p["text"], strict=True)]


def test_measure_documents_lead_phrase():
    assert measure_document("开展专项检查。对全市机构逐一排查") == "开展专项检查\n开展专项检查。对全市机构逐一排查"
    assert measure_document("没有句号的措施") == "\n没有句号的措施"
    assert measure_documents(pd.DataFrame({"text": ["甲。乙", None]})) == ["甲\n甲。乙", "\n"]


def test_han_only():
    assert han_only("2024年，完成95%的ABC任务") == " 年 完成 的 任务"
