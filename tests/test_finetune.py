"""Fine-tuning: the loop learns, checkpoints resume exactly, and the result saves as a Hugging Face model."""

import threading

import numpy as np
import pytest
import torch
from bertsent.core.base.errors import Cancelled, DataError, ModelFileError
from bertsent.core.data.dataset import Dataset, Splits, load_dataset
from bertsent.core.models.finetune import FineTuner, FinetuneSettings, _epoch_batches
from bertsent.core.models.persist import load_model, read_meta, save_model
from bertsent.core.models.train import finetune


@pytest.fixture(scope="module")
def few(sst2_dir):
    return load_dataset(sst2_dir / "train.tsv").head(48)


def _state(model) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in model.encoder.model.state_dict().items()}


def test_epoch_batches_cover_every_sentence_once_in_similar_lengths():
    lengths = np.random.default_rng(1).integers(3, 60, size=1000)
    batches = _epoch_batches(lengths, 32, seed=0, epoch=0)
    assert sorted(np.concatenate(batches).tolist()) == list(range(1000))
    spread = np.mean([np.ptp(lengths[b]) for b in batches])
    assert spread < 0.3 * np.ptp(lengths)  # buckets of similar length waste little padding
    again = _epoch_batches(lengths, 32, seed=0, epoch=0)
    assert all(np.array_equal(a, b) for a, b in zip(batches, again, strict=True))
    other = _epoch_batches(lengths, 32, seed=0, epoch=1)
    assert not all(np.array_equal(a, b) for a, b in zip(batches, other, strict=False))


def test_loss_goes_down_on_a_tiny_model(tiny_distilbert, few):
    losses = []
    settings = FinetuneSettings(epochs=8, lr=2e-3, batch_size=8, warmup=0.05)
    model = FineTuner(str(tiny_distilbert), settings, checkpoints=None).fit(few, lambda p: losses.append(p.loss))
    assert len(losses) == 8 * 6
    assert losses[-1] < 0.5 * losses[0], (losses[0], losses[-1])
    assert np.mean(model.predict(few.texts) == few.labels) > 0.9  # it fits what it was trained on
    assert model.encoder.finetuned and not model.encoder.model.training


def test_a_checkpoint_resumes_to_the_same_state(tiny_distilbert, few, tmp_path):
    settings = FinetuneSettings(epochs=2, lr=1e-3, batch_size=8)
    straight = FineTuner(str(tiny_distilbert), settings, checkpoints=None).fit(few)

    tuner = FineTuner(str(tiny_distilbert), settings, checkpoints=tmp_path)
    with pytest.raises(Cancelled, match="step 5 of 12"):
        tuner.fit(few, stop_after=5)
    assert len(list(tmp_path.glob("*.pt"))) == 1
    resumed_tuner = FineTuner(str(tiny_distilbert), settings, checkpoints=tmp_path)
    resumed = resumed_tuner.fit(few)
    assert resumed_tuner.resumed_from == 5
    assert not list(tmp_path.glob("*.pt"))  # removed once finished
    a, b = _state(straight), _state(resumed)
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert np.array_equal(straight.classifier.to_arrays()["coef"], resumed.classifier.to_arrays()["coef"])


def test_cancel_event_checkpoints_and_stops(tiny_distilbert, few, tmp_path):
    cancel = threading.Event()

    def progress(p):
        if p.step == 2:
            cancel.set()

    with pytest.raises(Cancelled, match="run again to resume"):
        FineTuner(str(tiny_distilbert), FinetuneSettings(batch_size=8), checkpoints=tmp_path).fit(few, progress, cancel)
    assert len(list(tmp_path.glob("*.pt"))) == 1


def test_a_damaged_checkpoint_starts_over(tiny_distilbert, few, tmp_path):
    settings = FinetuneSettings(epochs=1, batch_size=8)
    with pytest.raises(Cancelled):
        FineTuner(str(tiny_distilbert), settings, checkpoints=tmp_path).fit(few, stop_after=2)
    (checkpoint,) = tmp_path.glob("*.pt")
    checkpoint.write_bytes(checkpoint.read_bytes()[:1000])
    tuner = FineTuner(str(tiny_distilbert), settings, checkpoints=tmp_path)
    tuner.fit(few)
    assert tuner.resumed_from == 0


def test_one_class_cannot_be_fine_tuned(tiny_distilbert, few):
    positive = Dataset(few.texts, np.ones(len(few), dtype=np.int64))
    with pytest.raises(DataError, match="one class"):
        FineTuner(str(tiny_distilbert), checkpoints=None).fit(positive)


def test_report_and_hugging_face_folder(tiny_distilbert, sst2_dir, tmp_path):
    from transformers import AutoModel

    splits = Splits(load_dataset(sst2_dir / "train.tsv").head(40), load_dataset(sst2_dir / "test.tsv").head(20), True)
    settings = FinetuneSettings(epochs=1, batch_size=8)
    result = finetune(splits, str(tiny_distilbert), settings, checkpoints=None)
    report = result.report
    assert report.method == "finetune" and report.C is None and report.settings["epochs"] == 1
    assert report.n_test == 20 and set(report.seconds) == {"finetune", "embed"}
    assert report.accuracy == np.mean(result.model.predict(splits.test.texts) == splits.test.labels)

    folder = save_model(result.model, tmp_path / "ft", report=report, data_hash=result.data_hash)
    meta = read_meta(folder)
    encoder_folder = folder / meta["encoder"]["folder"]
    assert (encoder_folder / "model.safetensors").is_file() and (encoder_folder / "tokenizer.json").is_file()
    plain = AutoModel.from_pretrained(encoder_folder)  # plain transformers loads the fine-tuned encoder
    assert torch.equal(
        plain.state_dict()["embeddings.word_embeddings.weight"],
        _state(result.model)["embeddings.word_embeddings.weight"],
    )
    loaded = load_model(folder).model
    text = splits.test.texts[0]
    assert loaded.encoder.finetuned
    assert np.isclose(loaded.explain(text).probability, result.model.explain(text).probability, atol=1e-6)

    save_model(result.model, folder, report=report)  # saving again over itself keeps one encoder folder
    assert len(list(folder.glob("encoder-*"))) == 1


def test_tampered_or_added_encoder_files_are_refused(tiny_distilbert, sst2_dir, tmp_path):
    splits = Splits(load_dataset(sst2_dir / "train.tsv").head(24), load_dataset(sst2_dir / "test.tsv").head(8), True)
    result = finetune(splits, str(tiny_distilbert), FinetuneSettings(epochs=1, batch_size=8), checkpoints=None)
    folder = save_model(result.model, tmp_path / "ft")
    encoder_folder = folder / read_meta(folder)["encoder"]["folder"]

    (encoder_folder / "pytorch_model.bin").write_bytes(b"not a pickle you want to run")
    with pytest.raises(ModelFileError, match="files added"):
        load_model(folder)
    (encoder_folder / "pytorch_model.bin").unlink()

    weights = encoder_folder / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="checksum mismatch"):
        load_model(folder)


def test_three_named_classes_fine_tune_with_one_output_each(tiny_distilbert, sst2_dir):
    """N classes: an N-output head with softmax cross-entropy, saved and loaded with its labels."""
    base = load_dataset(sst2_dir / "train.tsv").head(36)
    names = np.array(["bad", "good", "so-so"])[np.arange(36) % 3]
    train = Dataset(base.texts, names, "three")
    result = finetune(
        Splits(train, train.head(12), True),
        str(tiny_distilbert),
        FinetuneSettings(epochs=1, batch_size=8),
        checkpoints=None,
    )
    model = result.model
    assert model.classes.labels == ("bad", "good", "so-so") and model.classifier.coef_.shape[0] == 3
    proba = model.predict_proba(base.texts[:5])
    assert proba.shape == (5, 3) and np.allclose(proba.sum(axis=1), 1)
    assert result.report.classes == ["bad", "good", "so-so"] and np.array(result.report.confusion).shape == (3, 3)
