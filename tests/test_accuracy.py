"""The default recipe on the real SST2 test split (embeddings computed once per session)."""

import numpy as np
import pytest

pytestmark = pytest.mark.accuracy


def test_default_recipe_reaches_84_percent_on_sst2_test(sst2_result, sst2_splits):
    report = sst2_result.report
    assert report.n_train == 6920 and report.n_test == 1821
    assert report.accuracy >= 0.84, report.accuracy
    assert abs(report.baseline_accuracy - 909 / 1821) < 1e-9  # train majority is positive; 909 test positives
    assert report.accuracy > report.baseline_accuracy + 0.3
    assert report.cv is not None and report.C in report.cv.Cs
    assert sum(map(sum, report.confusion)) == 1821
    assert np.isclose(report.accuracy, (sst2_result.test_pred == sst2_splits.test.labels).mean())
    assert report.classes == [0, 1] and list(report.per_class) == ["negative", "positive"]


def test_tutorial_cls_recipe_is_one_flag_away(encoder, sst2_splits):
    from bertsent.core.data.dataset import Splits
    from bertsent.core.encoding.embed import Embedder
    from bertsent.core.models.train import train

    small = Splits(sst2_splits.train.head(1500), sst2_splits.test.head(500), True)
    report = train(Embedder(encoder, "cls"), small, C=1.0).report
    assert report.pooling == "cls" and 0.6 < report.accuracy < 0.95
