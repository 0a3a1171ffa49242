"""compare.cache: the one atomic write, the fingerprint, and a data-only cache that survives a bad folder."""

from __future__ import annotations

import shutil
import warnings

import numpy as np
import pandas as pd
import pytest

from compare.cache import (
    Cache,
    CacheWarning,
    atomic_path,
    atomic_write,
    digest,
    move_tree,
    source_fingerprint,
)


def test_atomic_write_replaces_whole_or_not_at_all(tmp_path):
    target = tmp_path / "a" / "t.txt"
    atomic_write(target, "old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half of the new", encoding="utf-8")
        raise RuntimeError("killed while writing")
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in target.parent.iterdir()] == ["t.txt"]  # no temporary file left
    atomic_write(target, "new")
    assert target.read_text(encoding="utf-8") == "new" and oct(target.stat().st_mode & 0o777) != "0o600"


def test_move_tree_and_digest(tmp_path):
    (tmp_path / "s" / "sub").mkdir(parents=True)
    (tmp_path / "s" / "sub" / "x.png").write_bytes(b"x")
    (tmp_path / "s" / "y.csv").write_bytes(b"y")
    moved = move_tree(tmp_path / "s", tmp_path / "t")
    assert [p.relative_to(tmp_path / "t").as_posix() for p in moved] == ["sub/x.png", "y.csv"]
    assert digest("ab", "c") != digest("a", "bc") and digest(1, None) == digest("1", "None")
    assert len(source_fingerprint()) == 20 and source_fingerprint() == source_fingerprint()


def test_values_round_trip_as_data(tmp_path):
    c = Cache(tmp_path)
    c.write_json("k", "abc", {"a": [1, "二"]})
    c.write_frame("k", "abd", pd.DataFrame({"x": [1, 2]}))
    c.write_array("k", "abe", np.arange(3))
    assert c.read_json("k", "abc") == {"a": [1, "二"]}
    pd.testing.assert_frame_equal(c.read_frame("k", "abd"), pd.DataFrame({"x": [1, 2]}))
    assert c.read_array("k", "abe").tolist() == [0, 1, 2]
    (tmp_path / "k" / "ab" / "abc.json").write_text("{torn", encoding="utf-8")
    assert c.read_json("k", "abc") is None and c.read_json("k", "missing") is None


def test_parts_of_one_frame_read_back_as_each_part_written_alone(tmp_path):
    c = Cache(tmp_path)
    df = pd.DataFrame({"id": ["a1", "a2", "b1", "c1"], "code": ["x", None, None, "y"],
                       "score": [0.5, np.nan, 1.0, 0.25], "flag": [True, False, True, False]})
    c.write_frame_parts("k", df, [("aaa", np.array([0, 1])), ("bbb", np.array([2])), ("ccc", np.zeros(0, int))])
    for key, rows in (("aaa", [0, 1]), ("bbb", [2]), ("ccc", [])):
        c.write_frame("alone", key, df.iloc[rows].reset_index(drop=True))
        pd.testing.assert_frame_equal(c.read_frame("k", key), c.read_frame("alone", key))
    b = c.read_frame("k", "bbb")
    assert b[["id", "score", "flag"]].values.tolist() == [["b1", 1.0, True]] and b["code"].isna().all()
    assert len(c.read_frame("k", "ccc")) == 0 and list(c.read_frame("k", "ccc")) == ["id", "code", "score", "flag"]


def test_a_cache_folder_deleted_mid_run_is_made_again(tmp_path):
    c = Cache(tmp_path / "cache")
    c.write_json("k", "aa1", 1)
    shutil.rmtree(tmp_path / "cache")
    assert c.read_json("k", "aa1") is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning: the folder can simply be made again
        c.write_json("k", "aa2", 2)
    assert c.read_json("k", "aa2") == 2


def test_an_unusable_folder_warns_once_and_the_cache_holds_nothing(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder", encoding="utf-8")
    c = Cache(blocker / "cache")
    with pytest.warns(CacheWarning, match="cannot be used") as caught:
        c.check()
        c.write_json("k", "aa1", 1)
        c.write_json("k", "aa2", 2)
    assert len(caught) == 1 and not c.enabled and c.read_json("k", "aa1") is None
    assert repr(c) == "Cache(disabled)"
    import pickle

    assert not pickle.loads(pickle.dumps(c)).enabled  # workers get the disabled cache, and stay quiet
