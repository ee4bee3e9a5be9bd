"""Layer probe, sentence map and attention in core, and their CLI commands, on real SST2 rows."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest
from bertsent.core.analyses.inside import attention, sentence_map
from bertsent.core.analyses.probe import PROBE_POOLINGS, hidden_features, probe_layers
from bertsent.core.base.errors import Cancelled
from bertsent.core.data.dataset import Splits, load_dataset
from bertsent.core.encoding.embed import HIDDEN, Embedder


@pytest.fixture(scope="module")
def few(sst2_dir):
    return Splits(load_dataset(sst2_dir / "train.tsv").head(240), load_dataset(sst2_dir / "test.tsv").head(160), True)


def test_hidden_rows_hold_each_layers_cls_and_the_default_recipes_means(encoder):
    ids, _ = encoder.encode_ids(["a gorgeous , witty movie", "dull", "the plot is thin and the jokes fall flat"])
    hidden = Embedder(encoder, HIDDEN, cache=False).forward(ids).reshape(3, encoder.num_layers + 1, 2, -1)
    layers = Embedder(encoder, "layers", layers="all", cache=False).forward(ids).reshape(3, encoder.num_layers + 1, -1)
    cls = Embedder(encoder, "cls", cache=False).forward(ids)
    mean = PROBE_POOLINGS.index("mean")
    np.testing.assert_allclose(hidden[:, :, mean], layers, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(hidden[:, -1, PROBE_POOLINGS.index("cls")], cls, rtol=1e-5, atol=1e-5)


def test_probe_scores_every_layer_and_pooling_on_the_test_split(encoder, few, monkeypatch):
    updates = []
    probe = probe_layers(encoder, few, progress=updates.append)
    assert probe.layers == encoder.num_layers + 1 == 7
    assert [(s.layer, s.pooling) for s in probe.scores] == [(n, p) for n in range(7) for p in ("cls", "mean")]
    assert probe.n_train == 240 and probe.n_test == 160
    # Layer 0's [CLS] is one vector for every sentence: the probe can only guess the majority label.
    majority = np.bincount(few.train.labels).argmax()
    assert probe.accuracy(0, "cls") == pytest.approx(np.mean(few.test.labels == majority))
    assert probe.best.accuracy > 0.65 and probe.reference > 0.65
    assert {u.stage for u in updates} == {"embed", "fit"} and updates[-1].done == updates[-1].total

    def no_forward(*_args, **_kwargs):
        raise AssertionError("a second probe must read every layer from the cache")

    monkeypatch.setattr(Embedder, "forward", no_forward)
    again = probe_layers(encoder, few, reference=False)
    assert [s.accuracy for s in again.scores] == [s.accuracy for s in probe.scores]
    assert again.reference is None


def test_probe_cancels_between_fits(encoder, few):
    hidden_features(encoder, few)  # cached: the cancel lands in the fits
    cancel = threading.Event()

    def progress(update):
        if update.stage == "fit" and update.done >= 30:
            cancel.set()

    with pytest.raises(Cancelled):
        probe_layers(encoder, few, progress=progress, cancel=cancel)


@pytest.mark.parametrize("method", ["pca", "tsne"])
def test_sentence_map_projects_and_marks_mistakes(small_result, few, method):
    test = few.test.head(80)
    m = sentence_map(small_result.model, test, method=method)
    assert m.xy.shape == (80, 2) and np.isfinite(m.xy).all()
    assert m.classes.labels == (0, 1) and m.classes.names == ["negative", "positive"]
    np.testing.assert_array_equal(m.predicted, small_result.model.predict(test.texts))
    assert m.mistakes.sum() == np.sum(m.predicted != test.labels)
    assert sentence_map(small_result.model, test, method=method).xy.tolist() == m.xy.tolist()  # deterministic


def test_attention_rows_are_distributions_over_the_tokens(encoder):
    a = attention(encoder, "a gorgeous , witty , seductive movie")
    assert a.tokens[0] == "[CLS]" and a.tokens[-1] == "[SEP]"
    n = len(a.tokens)
    assert a.weights.shape == (6, 12, n, n)
    np.testing.assert_allclose(a.weights.sum(axis=-1), 1.0, atol=1e-4)
    np.testing.assert_allclose(a.grid(2, None), a.weights[2].mean(axis=0))


def test_cli_probe_json_and_map_json(sst2_dir, small_model_dir, capsys):
    from bertsent.cli.main import main

    assert main(["probe", "--data", str(sst2_dir), "--limit", "120", "--no-reference", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 14 and set(rows[0]) == {"layer", "pooling", "accuracy", "C"}
    assert main(["map", "--model", str(small_model_dir), "--data", str(sst2_dir), "--limit", "50", "--json"]) == 0
    points = json.loads(capsys.readouterr().out)
    assert len(points) == 50 and {"x", "y", "label", "predicted", "text"} <= set(points[0])
    assert main(["map", "--model", str(small_model_dir), "--data", str(sst2_dir / "missing.tsv")]) == 2
