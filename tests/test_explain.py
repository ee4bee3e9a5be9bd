"""Token scores are faithful to the encoder + classifier chain."""

import numpy as np
import pytest
from bertsent.core.models.explain import word_spans


def test_word_spans_join_wordpieces():
    assert word_spans(["a", "rum", "##ination", "on", "##e"]) == [(0, 1), (1, 3), (3, 5)]


def test_prediction_fields(small_result):
    prediction = small_result.model.explain("a visually stunning rumination on love")
    assert prediction.label == 1 and prediction.label_name == "positive"
    assert [t.token for t in prediction.tokens] == ["a", "visually", "stunning", "rum", "##ination", "on", "love"]
    assert [w.token for w in prediction.words] == ["a", "visually", "stunning", "rumination", "on", "love"]
    best = max(prediction.tokens, key=lambda t: t.score)
    assert best.token in ("stunning", "love", "visually")
    probabilities = small_result.model.predict_proba([prediction.text])[0]
    assert np.isclose(prediction.probability, probabilities[1], atol=1e-4)
    assert np.allclose(prediction.probabilities, probabilities, atol=1e-4) and prediction.scored == 1
    data = prediction.to_dict()
    assert data["label"] == 1 and set(data["probabilities"]) == {"0", "1"}
    assert np.isclose(sum(data["probabilities"].values()), 1.0)


def test_scores_for_another_class_are_the_other_side(small_result):
    model = small_result.model
    text = "a visually stunning rumination on love"
    towards_positive = model.explain(text)
    towards_negative = model.explain(text, scored=0)
    assert towards_negative.label == 1 and towards_negative.scored == 0
    # Two classes: the drop in P(negative) is minus the drop in P(positive).
    assert np.allclose([t.score for t in towards_negative.tokens], [-t.score for t in towards_positive.tokens])


@pytest.mark.accuracy
@pytest.mark.parametrize("trained", ["frozen", "finetuned"])
def test_removing_top_tokens_lowers_p_predicted_more_than_random(trained, sst2_splits, request):
    model = (
        request.getfixturevalue("sst2_result").model
        if trained == "frozen"
        else request.getfixturevalue("finetuned_model")
    )
    rng = np.random.default_rng(0)
    k = 2
    top_drops, random_drops = [], []
    sentences = [t for t in sst2_splits.test.texts if 8 <= len(t.split()) <= 25][:60]
    assert len(sentences) >= 50
    for text in sentences:
        prediction = model.explain(text)
        ids = model.encoder.tokenize(text).ids
        inner = list(range(len(prediction.tokens)))
        top = sorted(inner, key=lambda i: prediction.tokens[i].score, reverse=True)[:k]
        rand = rng.choice(inner, size=k, replace=False).tolist()

        variants = [[ids[0]] + [ids[1 + i] for i in inner if i not in drop] + [ids[-1]] for drop in (top, rand)]
        p_top, p_rand = model.proba_ids(variants)[:, model.classes.index(prediction.label)]
        top_drops.append(prediction.probability - p_top)
        random_drops.append(prediction.probability - p_rand)
    assert np.mean(top_drops) > np.mean(random_drops) + 0.05, (np.mean(top_drops), np.mean(random_drops))
