"""compare.extract: mentions counted by hand in the Huidong report."""

from __future__ import annotations

from collections import Counter

from conftest import raw_text

from compare.extract import find_mentions
from compare.normalize import normalize


def test_huidong_mentions_by_hand():
    text = normalize(raw_text("huidong")).text
    ms = find_mentions(text)
    kinds = Counter(m.kind for m in ms)
    # 43 cited documents (grep -o '《[^》]*》' | wc -l), 6 percentages, 3 sums of money (277/232/45 万元)
    assert kinds["document"] == 43
    assert [m.value for m in ms if m.kind == "percent"] == [50.0, 100.0, 100.0, 64.0, 150.0, 70.8]
    assert [(m.text, m.value) for m in ms if m.kind == "money"] == [
        ("277万元", 2_770_000.0), ("232万元", 2_320_000.0), ("45万元", 450_000.0)
    ]
    assert [m.text for m in ms if m.kind == "number"] == [
        "30人", "2次", "31家", "50个", "11个", "9家", "4935名", "12家", "4家", "10家", "67名", "2800份", "17个",
        "5个", "226名", "160人", "3个", "17个", "33人次", "19个",
    ]  # 十一届24次 is a meeting number, not a count
    dates = [(m.text, m.value) for m in ms if m.kind == "date" and m.unit != "year"]
    assert dates == [
        ("2023年3月27日", "2023-03-27"), ("2023年6月30日", "2023-06-30"), ("2023年8月17日", "2023-08-17"),
        ("2024年2月6日", "2024-02-06"), ("2023年9月", "2023-09"), ("2022年9月16日", "2022-09-16"),
        ("2024年8月20日", "2024-08-20"),
    ]
    for m in ms:
        assert text[m.start : m.end] == m.text


def test_mentions_do_not_overlap_and_dates_carry_the_year():
    ms = find_mentions("2024年以来，9月25日公示《关于做好2024年工作的通知》，发放补贴3.5万元，覆盖率达98.5％，共12户次。")
    assert [(m.kind, m.text, m.value) for m in ms] == [
        ("date", "2024年", "2024"),
        ("date", "9月25日", "2024-09-25"),
        ("document", "《关于做好2024年工作的通知》", "关于做好2024年工作的通知"),
        ("money", "3.5万元", 35_000.0),
        ("percent", "98.5％", 98.5),
        ("number", "12户次", 12.0),
    ]
