"""The jobs every front end calls, on a tiny config-built encoder and each label kind: predict
(streamed, a bad text in its place, progress, cancel), attention, and the one sentence rule."""

import threading

import pytest
from bertsent.core import api, jobs
from bertsent.core.base.errors import Cancelled, DataError
from bertsent.core.base.text import sentence_problem


@pytest.fixture(scope="module")
def model(labelled_data, tiny_encoder):
    folder, order = labelled_data
    return api.train(api.load_data(folder), encoder=str(tiny_encoder), C=1.0).model, order


def test_predict_streams_in_order_with_a_bad_text_in_its_place(model):
    model, order = model
    texts = ["a superb film", "   ", "dull \udcff", "a dull film"]
    results = list(jobs.predict(model, texts, scores=False))
    assert [type(r).__name__ for r in results] == ["Prediction", "DataError", "DataError", "Prediction"]
    assert str(results[1]) == "empty sentence" and str(results[2]).startswith("bad encoding: not valid UTF-8")
    assert all(r.label in order and r.classes == model.classes.labels for r in (results[0], results[3]))


def test_predict_reports_passes_scores_a_chosen_class_and_stops_when_cancelled(model):
    model, order = model
    seen: list[jobs.Progress] = []
    scored = order[-1]
    prediction = jobs.predict_one(model, "a superb and moving film", scored=scored, progress=seen.append)
    assert seen and {p.stage for p in seen} == {"predicting"} and seen[-1].done == seen[-1].total
    assert seen[-1].total >= len(prediction.tokens) + 1  # the sentence, a variant per token (and word)
    assert prediction.scored == scored
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        jobs.predict_one(model, "a superb film", cancel=cancel)
    with pytest.raises(DataError, match="empty sentence"):
        jobs.predict_one(model, "")


def test_attention_has_a_layer_and_head_axis_and_refuses_what_is_not_a_sentence(model):
    model, _ = model
    shown = jobs.attention(model.encoder, "a superb film")
    assert shown.weights.ndim == 4 and shown.weights.shape[2] == shown.weights.shape[3] == len(shown.tokens)
    with pytest.raises(DataError, match="cannot show attention: empty sentence"):
        jobs.attention(model.encoder, " \t")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("a film", None),
        (None, "not text"),
        (3, "not text"),
        (" \t\r\n", "empty sentence"),
        ("bad \udcff", "bad encoding: not valid UTF-8 text (byte 0xff at character 5)"),
        ("bad \ud800", "bad encoding: not valid UTF-8 text (lone surrogate U+D800 at character 5)"),
    ],
)
def test_one_sentence_rule(text, problem):
    assert sentence_problem(text) == problem
