"""The fast default: bf16 only where the held-out labels stay the same and this machine runs it faster."""

from __future__ import annotations

import json

import pytest
from bertsent.core.models import fastpath
from bertsent.core.models.fastpath import FastPathCheck, MachineChoice, check_fast_path, load_precision, machine_choice


def _machine(precision: str) -> MachineChoice:
    return MachineChoice(precision, "test", "cpu", (), 1.0, 2.0)


def test_bf16_is_compared_with_fp32_on_the_held_out_split_and_the_rule_is_applied(small_result, sst2_dir):
    from bertsent.core.data.dataset import load_dataset

    test = load_dataset(sst2_dir / "test.tsv").head(200)
    check = check_fast_path(small_result.model, test.texts, test.labels)
    assert check.n == 200 and check.precision == "bf16"
    assert check.accuracy_fp32 == pytest.approx(small_result.report.accuracy)
    assert check.agreement > 0.9  # bf16 keeps nearly every decision of this model
    change = check.accuracy_fast - check.accuracy_fp32
    assert check.allowed == (abs(change) <= 0.003 + 1e-12 and check.agreement >= 0.99)
    assert ("not allowed" in check.reason) != check.allowed


def test_a_model_loads_in_bf16_only_where_it_allows_it_and_the_machine_prefers_it(monkeypatch):
    allowed = {"allowed": True}
    monkeypatch.setattr(fastpath, "machine_choice", lambda: _machine("bf16"))
    assert load_precision("fp32", allowed, "cpu") == "bf16"
    assert load_precision("fp32", {"allowed": False}, "cpu") is None
    assert load_precision("fp32", None, "cpu") is None  # saved before the check existed
    assert load_precision("bf16", allowed, "cpu") is None  # chosen explicitly
    assert load_precision("fp32", allowed, "cuda") is None
    monkeypatch.setattr(fastpath, "machine_choice", lambda: _machine("fp32"))
    assert load_precision("fp32", allowed, "cpu") is None


def test_the_machine_probe_is_cached_per_cpu_and_torch(tmp_path, monkeypatch):
    monkeypatch.setenv("BERTSENT_CACHE", str(tmp_path))
    first = machine_choice()
    assert first.precision in ("bf16", "fp32") and first.fp32_gflops > 0 and first.bf16_gflops > 0
    assert (first.precision == "bf16") == (first.bf16_gflops / first.fp32_gflops >= fastpath.MIN_SPEEDUP)
    saved = json.loads((tmp_path / "machine.json").read_text())
    assert len(saved) == 1
    monkeypatch.setattr(fastpath, "matmul_gflops", lambda *a, **k: pytest.fail("probed again"))
    assert machine_choice() == first


def test_a_saved_model_that_allows_bf16_loads_in_bf16_here_and_still_labels(small_result, tmp_path, monkeypatch):
    from bertsent.core.models.persist import load_model, save_model

    monkeypatch.setattr(fastpath, "machine_choice", lambda: _machine("bf16"))
    check = FastPathCheck("bf16", 0.85, 0.85, 1.0, 100, allowed=True, reason="as fp32 on 100 sentences")
    save_model(small_result.model, tmp_path / "m", report=small_result.report, fast_path=check.to_dict())
    loaded = load_model(tmp_path / "m").model
    assert loaded.encoder.precision == "bf16"
    proba = loaded.predict_proba(["a wonderful , moving film", "a dull , lifeless mess"])
    assert proba[0, 1] > 0.5 > proba[1, 1]


def test_bf16_vectors_stay_close_to_fp32(encoder):
    import numpy as np
    from bertsent.core.encoding.embed import Embedder
    from bertsent.core.models.fastpath import fast_copy

    texts = ["a gorgeous , witty , seductive movie .", "dull and lifeless .", "it 's not bad , but not good either"]
    exact = Embedder(encoder, "layers", cache=False).embed(texts)
    fast = Embedder(fast_copy(encoder), "layers", cache=False).embed(texts)
    cosine = (exact * fast).sum(1) / np.linalg.norm(exact, axis=1) / np.linalg.norm(fast, axis=1)
    assert (cosine > 0.999).all() and not np.array_equal(exact, fast)
    assert encoder.precision == "fp32"  # the copy leaves the original alone
