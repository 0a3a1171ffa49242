"""compare.metadata: the metadata stage apart from the structure, absurd declared counts, odd text in a batch.

The fixtures are written here (a made-up bureau of a made-up county), never copied from a published report.
"""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import raw_text

from compare import schema
from compare.corpus import gather, process_bytes
from compare.metadata import MAX_DECLARED_COUNT, META_KEYS, declared_counts, read_metadata
from compare.normalize import normalize
from compare.parse import parse

HUGE = "12345678901234567890"

#: a small report of its own: one section of two problems, a footer; {count} and {extra} are filled in
REPORT = (
    "中共某某县民政局党组关于巡察整改情况的通报\n"
    "根据县委统一部署，2024年3月至5月，县委第一巡察组对县民政局党组进行了巡察。"
    "2024年6月10日，巡察组反馈了意见。对应{problems}个具体问题清单制定了{measures}条具体整改措施。\n"
    "一、整改落实情况\n"
    "1.针对“理论学习不深入”问题。\n"
    "整改情况：一是建立学习制度。二是开展专题研讨。{extra}\n"
    "2.针对“制度执行不严”问题。\n"
    "整改情况：一是修订财务制度。二是开展专项检查。\n"
    "二、下一步工作安排\n"
    "持续巩固整改成果。\n"
    "中共某某县民政局党组\n"
    "2024年9月1日\n"
)


def _meta(text: str) -> tuple[dict, list[str]]:
    norm = normalize(text)
    return read_metadata(norm.text, parse(norm.text))


def test_metadata_keys_and_values_of_a_small_report():
    meta, warnings = _meta(REPORT.format(problems=2, measures=4, extra=""))
    assert tuple(meta) == META_KEYS
    assert set(META_KEYS) <= set(schema.REPORT_COLUMNS)
    assert meta["title"] == "中共某某县民政局党组关于巡察整改情况的通报"
    assert meta["issuer"] == "中共某某县民政局党组" and meta["party_org_type"] == "党组"
    assert meta["inspection_kind"] == "巡察" and meta["inspection_body"] == "县委第一巡察组"
    assert (meta["inspection_start"], meta["inspection_end"]) == ("2024-03", "2024-05")
    assert meta["feedback_date"] == "2024-06-10" and meta["published_date"] == "2024-09-01"
    assert (meta["declared_problem_count"], meta["declared_measure_count"]) == (2, 4)
    assert warnings == []


def test_parse_holds_no_metadata():
    r = parse(normalize(REPORT.format(problems=2, measures=4, extra="")).text)
    assert not hasattr(r, "meta")
    assert r.is_report and not r.truncated and len(r.problems) == 2


@pytest.mark.parametrize(("problems", "measures"), [(HUGE, 4), (2, HUGE), (HUGE, HUGE), (MAX_DECLARED_COUNT + 1, 4)])
def test_an_absurd_declared_count_becomes_null_with_a_warning(problems, measures):
    meta, warnings = _meta(REPORT.format(problems=problems, measures=measures, extra=""))
    for key, given in (("declared_problem_count", problems), ("declared_measure_count", measures)):
        if int(given) > MAX_DECLARED_COUNT:
            assert meta[key] is None
            assert any("implausible" in w and str(given) in w for w in warnings)
        else:
            assert meta[key] == int(given)
    assert not any(w.startswith("declared ") for w in warnings)  # a nulled count is compared with nothing


def test_declared_counts_reads_what_is_written():
    assert declared_counts(f"对应{HUGE}个具体问题清单制定了5条具体整改措施") == (int(HUGE), 5)
    assert declared_counts("反馈的三个方面十二个问题") == (12, None)


def test_metadata_of_the_bundled_reports_has_no_warnings():
    for key in ("huidong", "haizhu", "xuchang"):
        meta, warnings = _meta(raw_text(key))
        assert tuple(meta) == META_KEYS and warnings == []


def test_form_feed_and_huge_count_in_one_batch_with_a_good_report():
    odd = REPORT.format(problems=HUGE, measures=4, extra="\x0c\x01")
    good = REPORT.format(problems=2, measures=4, extra="")
    results = [process_bytes(odd.encode("utf-8"), "odd.txt"),
               process_bytes(good.encode("utf-8"), "good.txt")]
    assert [r.error for r in results] == [None, None]
    corpus = gather(results)  # used to raise OverflowError on the 20-digit count
    reports = corpus.reports.set_index("report_id")
    assert pd.isna(reports.loc["odd", "declared_problem_count"])
    assert reports.loc["good", "declared_problem_count"] == 2
    assert any("implausible" in w for w in reports.loc["odd", "warnings"])
    for table in (corpus.reports, corpus.problems, corpus.measures):
        for col in table.select_dtypes(["object", "str"]):
            for v in table[col].dropna():
                if isinstance(v, str):
                    assert not any(ord(c) < 32 and c not in "\t\n\r" for c in v), (col, v)
    assert len(corpus.problems) == 4 and len(corpus.measures) == 8
