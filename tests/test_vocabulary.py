"""The codebook vocabulary against the tokenizer and the bundled corpus (compare.vocab.vocab_check).

Fails when jieba splits a codebook term apart (data/userdict.txt must protect every rule term); lists the
terms that match no problem or measure of the bundled reports as a warning, without failing.
"""

from __future__ import annotations

import warnings

import pytest

from compare.vocab import vocab_check


@pytest.fixture(scope="module")
def vocab(corpus, tokenizer, codebook, measure_codebook):
    return vocab_check(corpus, tokenizer, {"problem": codebook, "measure": measure_codebook})


def test_covers_both_codebooks(vocab):
    assert set(vocab["codebook"]) == {"problem", "measure"}
    assert len(vocab) > 100
    assert vocab["term"].str.len().min() >= 1


def test_no_codebook_term_is_split(vocab):
    split = vocab[vocab["split"]]
    listing = "\n".join(f"  [{r.codebook}/{r.code}] {r.term} -> {r.tokens}" for r in split.itertuples())
    assert split.empty, (
        f"{len(split)} codebook terms are split by jieba; add them to data/userdict.txt:\n{listing}"
    )


def test_unmatched_terms_are_reported(vocab, codebook):
    unmatched = vocab[vocab["unmatched"]]
    assert (unmatched["n_problems"] == 0).all() and (unmatched["n_measures"] == 0).all()
    if len(unmatched):
        terms = ", ".join(f"{r.codebook}/{r.code}:{r.term}" for r in unmatched.itertuples())
        warnings.warn(
            f"{len(unmatched)} codebook terms match no bundled problem or measure: {terms}", stacklevel=1
        )
    # the vocabulary gathered from the bundled corpus must be grounded in it: the civil-affairs field codes and
    # the measure types. The cross-sector codes (party building, cadres, finance, general duties) also carry the
    # checklist vocabulary of other units (党费, 三公经费 …), which no civil-affairs report needs to use; the
    # boundary tests of test_classify and the held-out figures of the README check those instead.
    fields = set(codebook.sector.field_codes)
    grounded = vocab[(vocab["codebook"] == "measure") | vocab["code"].isin(fields)]
    assert len(grounded) > 250
    assert grounded["unmatched"].sum() <= 0.1 * len(grounded)


def test_the_corpus_is_required(tokenizer, codebook):
    """No silent default: vocab_check audits the corpus it is given, never the bundled one."""
    with pytest.raises(TypeError):
        vocab_check(tokenizer=tokenizer, codebooks={"problem": codebook})  # type: ignore[call-arg]
