"""scikit-learn interop: the estimators in Pipeline, cross_val_score, GridSearchCV and clone, and
`bertsent export` loaded in a fresh process giving the labels `bertsent predict` gives."""

import json
import subprocess
import sys

import numpy as np
import pytest
from bertsent.cli.main import main
from bertsent.core.models.classifier import SentimentClassifier
from bertsent.core.models.estimators import SentenceEmbedder
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import Pipeline

SENTENCES = ["a gorgeous , witty , seductive movie", "the plot is dull and the jokes fall flat", "it 's a film"]


def test_params_are_stored_unchanged_and_clone_keeps_them():
    embedder = SentenceEmbedder("minilm", "mean", precision="fp32")
    assert embedder.get_params() == {
        "encoder": "minilm",
        "pooling": "mean",
        "layers": None,
        "device": None,
        "precision": "fp32",
        "cache": False,
    }
    classifier = SentimentClassifier(C=0.5, folds=3)
    assert clone(classifier).get_params() == classifier.get_params()
    pipeline = Pipeline([("embed", embedder), ("classify", classifier)])
    assert clone(pipeline).get_params()["classify__C"] == 0.5 and not hasattr(clone(embedder), "embedder_")


def test_grid_search_over_c_on_embeddings(encoder, sst2_splits):
    from bertsent.core.encoding.embed import Embedder

    X, y = Embedder(encoder).embed(sst2_splits.train.texts[:400]), sst2_splits.train.labels[:400]
    search = GridSearchCV(SentimentClassifier(), {"C": [0.001, 0.01]}, cv=3).fit(X, y)
    assert search.best_params_["C"] in (0.001, 0.01) and search.best_score_ > 0.7
    assert search.best_estimator_.classes_.tolist() == [0, 1]


def test_pipeline_cross_validates_from_raw_sentences(sst2_splits):
    texts, labels = sst2_splits.train.texts[:240], sst2_splits.train.labels[:240]
    pipeline = Pipeline([("embed", SentenceEmbedder(cache=True)), ("classify", SentimentClassifier(C=0.01))])
    scores = cross_val_score(pipeline, texts, labels, cv=2)
    assert scores.shape == (2,) and scores.mean() > 0.6
    names = np.array(["negative", "positive"])[labels]  # string labels come back as given
    assert set(pipeline.fit(texts, names).predict(SENTENCES)) <= {"negative", "positive"}


def test_export_loads_in_a_fresh_process_with_the_labels_of_predict(small_model_dir, tmp_path, capsys, cli):
    out = tmp_path / "model.joblib"
    done = cli("export", "--model", str(small_model_dir), "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "a pickle" in done.stdout
    script = (
        "import json, sys, joblib\n"
        f"pipeline = joblib.load({str(out)!r})\n"
        "texts = json.loads(sys.stdin.read())\n"
        "print(json.dumps({'labels': pipeline.predict(texts).tolist(), 'proba': pipeline.predict_proba(texts).tolist(),"
        " 'classes': pipeline.classes_.tolist()}))\n"
    )
    fresh = subprocess.run(
        [sys.executable, "-c", script], input=json.dumps(SENTENCES), capture_output=True, text=True, cwd=tmp_path
    )
    assert fresh.returncode == 0, fresh.stderr
    exported = json.loads(fresh.stdout)
    assert main(["predict", "--model", str(small_model_dir), "--json", "--no-scores", *SENTENCES]) == 0
    predicted = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert exported["labels"] == [p["label"] for p in predicted]
    assert exported["classes"] == [0, 1]
    expected = [[p["probabilities"][str(c)] for c in exported["classes"]] for p in predicted]
    assert np.allclose(exported["proba"], expected, atol=1e-5)


@pytest.mark.parametrize("module", ["bertsent.core.models.classifier", "bertsent.core.classifier"])
def test_a_classifier_pickled_before_it_kept_its_own_arrays_still_predicts(module):
    """A pipeline `bertsent export` wrote earlier holds a fitted StandardScaler and LogisticRegression,
    and, before core's folders, names the classifier's module ``bertsent.core.classifier``."""
    import pickle

    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(60, 8)), np.array(["bad", "so-so", "good"] * 20)
    fitted = SentimentClassifier(C=1.0).fit(X, y)
    legacy = SentimentClassifier(C=1.0)
    scaler, model = StandardScaler(), LogisticRegression()
    scaler.mean_, scaler.scale_ = fitted.mean_, fitted.scale_
    model.coef_, model.intercept_ = fitted.coef_, fitted.intercept_
    state = {k: v for k, v in vars(fitted).items() if k not in ("mean_", "scale_", "coef_", "intercept_")}
    vars(legacy).update(state, scaler_=scaler, model_=model)
    written = pickle.dumps(legacy, protocol=0)  # text opcodes: the module path can be rewritten
    restored = pickle.loads(written.replace(b"bertsent.core.models.classifier\n", module.encode() + b"\n"))
    np.testing.assert_array_equal(restored.predict_proba(X), fitted.predict_proba(X))
    assert not hasattr(restored, "scaler_") and restored.predict(X).tolist() == fitted.predict(X).tolist()


def test_the_embedder_refuses_what_is_not_a_list_of_sentences(encoder):
    """A bare string would be read as one sentence per character, vectors as their printed text."""
    from bertsent.core.encoding.embed import Embedder

    embedder = SentenceEmbedder.fitted(Embedder(encoder, cache=False))
    for wrong in ("great movie", b"great movie", np.zeros((2, 3))):
        with pytest.raises(TypeError, match="takes sentences"):
            embedder.transform(wrong)
    assert embedder.transform(np.asarray(["great movie"])).shape == (1, embedder.n_features_out_)
