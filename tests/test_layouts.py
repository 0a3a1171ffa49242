"""The metadata stage and the verdict on the fixture pages of tests/data/layouts (written from LAYOUTS.md, never
copied from a published page), scored field by field against tests/data/layouts/expected.yaml."""

from __future__ import annotations

from pathlib import Path

import yaml

from compare.corpus import process_bytes

LAYOUTS = Path(__file__).parent / "data" / "layouts"
FIELDS = (
    "title", "issuer", "party_org_type", "agency", "province", "city", "region", "adcode", "admin_level",
    "inspection_kind", "inspection_body", "inspection_start", "inspection_end", "feedback_date", "published_date",
    "declared_problem_count", "declared_measure_count", "is_report", "truncated",
)
VERDICT = ("is_report", "truncated")


def expected() -> dict[str, dict]:
    return yaml.safe_load((LAYOUTS / "expected.yaml").read_text(encoding="utf-8"))


def _value(v):
    if v is None or (isinstance(v, float) and v != v):
        return None
    if isinstance(v, bool):
        return v
    return str(v)


def score() -> tuple[dict[str, list[int]], list[str]]:
    """Per field [right, scored]; the misses as lines ``page field: got … expected …``."""
    table = {f: [0, 0] for f in FIELDS}
    misses = []
    for name, exp in expected().items():
        row = process_bytes((LAYOUTS / name).read_bytes(), name).report
        fields = VERDICT if exp.get("is_report") is False else FIELDS
        for f in fields:
            got, want = _value(row.get(f)), _value(exp.get(f))
            table[f][1] += 1
            if got == want:
                table[f][0] += 1
            else:
                misses.append(f"{name} {f}: got {got!r}, expected {want!r}")
    return table, misses


def test_the_fixture_corpus_has_forty_pages_and_one_expected_file():
    exp = expected()
    assert len(exp) >= 40
    assert sorted(exp) == sorted(p.name for p in LAYOUTS.iterdir() if p.name != "expected.yaml")


def test_every_field_is_right_on_at_least_95_percent_of_the_pages(capsys):
    table, misses = score()
    with capsys.disabled():
        print("\nfield                      right / scored")
        for f, (r, n) in table.items():
            print(f"{f:26} {r:3d} / {n:3d}")
        print("\n".join(misses))
    for f, (r, n) in table.items():
        assert r >= 0.95 * n, (f, r, n, misses)
