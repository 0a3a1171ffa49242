"""compare.training: a saved model is loaded as it is, or fails clearly; it is retrained only on data the caller
passes, never on the bundled reports behind the caller's back."""

from __future__ import annotations

import pytest

from compare import config
from compare.classify import ProblemClassifier
from compare.training import (
    StaleModelWarning,
    Training,
    load_model,
    model_inputs,
    stale,
    train_model,
    training_data,
)

FAST = {"word_ngram_range": (1, 1), "char_ngram_range": (2, 2)}


def test_training_data_needs_the_labels(corpus, labels):
    with pytest.raises(TypeError):
        training_data(corpus)  # type: ignore[call-arg]
    docs, y, frame = training_data(corpus, labels)
    assert len(docs) == len(y) == len(frame) == 75
    coded = corpus.problems.assign(primary_code="x", secondary_codes="")  # a coded corpus: its codes are not read
    assert list(training_data(type(corpus)(**{**vars(corpus), "problems": coded}), labels)[1]) == list(y)


def test_missing_or_unreadable_model_without_training_data_raises(tmp_path):
    with pytest.raises(FileNotFoundError, match="absent.joblib"):
        load_model(tmp_path / "absent.joblib")
    broken = tmp_path / "broken.joblib"
    broken.write_bytes(b"not a model")
    with pytest.raises(ValueError, match="broken.joblib"):
        load_model(broken)


def test_a_stale_model_is_used_as_it_is_with_a_warning(monkeypatch):
    import compare.training as tr

    monkeypatch.setattr(tr, "train_model", lambda *a, **k: pytest.fail("retrained without being asked"))
    inputs = {**model_inputs(config.CODEBOOK_PATH), "codebook": "another codebook"}
    with pytest.warns(StaleModelWarning, match="codebook changed"):
        model = load_model(config.PROBLEM_MODEL_PATH, inputs=inputs)
    assert model is load_model(config.PROBLEM_MODEL_PATH)  # the saved one, as it is


def test_a_stale_model_is_retrained_on_the_data_given(monkeypatch, capsys, corpus, labels, codebook, tokenizer):
    import compare.training as tr

    calls = []
    real = tr.train_model
    monkeypatch.setattr(tr, "train_model", lambda *a, **k: calls.append(a[0]) or real(*a, **{**k, **FAST}))
    inputs = {"labels": "other labels"}
    model = load_model(config.PROBLEM_MODEL_PATH, inputs=inputs, training=Training(corpus, labels, codebook, tokenizer))
    assert calls == [corpus]
    assert "labels changed" in capsys.readouterr().err
    assert model.training_info_["n_train"] == 75


def test_train_save_load_round_trip(tmp_path, corpus, labels, codebook, tokenizer):
    path = tmp_path / "model.joblib"
    inputs = model_inputs(config.CODEBOOK_PATH, config.USERDICT_PATH, config.STOPWORDS_PATH, config.PROBLEM_LABELS_PATH)
    model = train_model(corpus, labels, codebook, tokenizer, path=path, inputs=inputs, **FAST)
    assert [p.name for p in tmp_path.iterdir()] == ["model.joblib"]  # written atomically, no temporary left
    loaded = load_model(path, inputs=inputs)
    assert isinstance(loaded, ProblemClassifier) and stale(loaded, inputs) == []
    docs = training_data(corpus, labels)[0][:5]
    assert list(loaded.predict(docs)) == list(model.predict(docs))
    with pytest.raises(ValueError, match="path"):
        train_model(corpus, labels, codebook, tokenizer, **FAST)


def test_no_codebook_or_tokenizer_no_fit(corpus, labels, codebook):
    docs, y, _ = training_data(corpus, labels)
    with pytest.raises(ValueError, match="no codebook"):
        ProblemClassifier(tokenizer=str.split).fit(docs, y)
    with pytest.raises(ValueError, match="tokenizer"):
        ProblemClassifier(codebook).fit(docs, y)
