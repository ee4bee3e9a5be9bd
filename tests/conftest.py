"""Shared fixtures: real SST2 from ../shared, the bundled encoder loaded once, embeddings cached once."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SST2 = Path(os.environ.get("BERTSENT_TEST_DATA", REPO.parent / "shared" / "data" / "sst2"))
SST5 = Path(os.environ.get("BERTSENT_TEST_SST5", SST2.parent / "sst5"))


@pytest.fixture(scope="session", autouse=True)
def isolated_dirs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Keep tests away from the user's cache and config; one embedding cache for the session."""
    root = tmp_path_factory.mktemp("bertsent-home")
    keys = ("BERTSENT_CACHE", "BERTSENT_CONFIG", "BERTSENT_STATE", "BERTSENT_DATA")
    saved = {key: os.environ.get(key) for key in keys}
    os.environ["BERTSENT_CACHE"] = str(root / "cache")
    os.environ["BERTSENT_CONFIG"] = str(root / "config")
    os.environ["BERTSENT_STATE"] = str(root / "state")
    os.environ.pop("BERTSENT_DATA", None)
    os.environ["HF_HUB_OFFLINE"] = "1"
    yield root
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="session")
def sst2_dir() -> Path:
    if not (SST2 / "train.tsv").is_file():
        pytest.fail(f"SST2 not found at {SST2}: put ../shared/data/sst2 beside the project or set BERTSENT_TEST_DATA")
    return SST2


@pytest.fixture(scope="session")
def sst5_dir() -> Path:
    if not (SST5 / "train.csv").is_file():
        pytest.fail(f"SST-5 not found at {SST5}: put ../shared/data/sst5 beside the project or set BERTSENT_TEST_SST5")
    return SST5


@pytest.fixture(scope="session")
def sst5_splits(sst5_dir):
    from bertsent.core.data import load_splits

    return load_splits(sst5_dir)


@pytest.fixture(scope="session")
def encoder():
    from bertsent.core.encoder import Encoder

    return Encoder.load()


@pytest.fixture(scope="session")
def sst2_splits(sst2_dir):
    from bertsent.core.data import load_splits

    return load_splits(sst2_dir)


@pytest.fixture(scope="session")
def sst2_embedded(encoder, sst2_splits):
    """The full SST2 train and test splits embedded with the default recipe, once per session."""
    from bertsent.core.embed import Embedder
    from bertsent.core.train import embed_splits

    return embed_splits(Embedder(encoder), sst2_splits)


@pytest.fixture(scope="session")
def sst2_result(encoder, sst2_splits, sst2_embedded):
    """The default recipe (C by cross-validation) trained on all of SST2 train."""
    from bertsent.core.embed import Embedder
    from bertsent.core.train import fit

    return fit(Embedder(encoder), sst2_splits, sst2_embedded)


@pytest.fixture(scope="session")
def small_result(encoder, sst2_dir):
    """A quick model: the first 400 SST2 training sentences, tested on the first 200 test ones."""
    from bertsent.core.data import Splits, load_dataset
    from bertsent.core.embed import Embedder
    from bertsent.core.train import train

    splits = Splits(load_dataset(sst2_dir / "train.tsv").head(400), load_dataset(sst2_dir / "test.tsv").head(200), True)
    return train(Embedder(encoder), splits, C=0.01)


@pytest.fixture(scope="session")
def small_model_dir(small_result, tmp_path_factory) -> Path:
    from bertsent.core.persist import save_model

    folder = tmp_path_factory.mktemp("models") / "small"
    save_model(small_result.model, folder, report=small_result.report, data_hash=small_result.data_hash)
    return folder


@pytest.fixture(scope="session")
def tiny_distilbert(tmp_path_factory, encoder):
    """A small DistilBERT (random weights) with the bundled uncased vocabulary, saved to a folder."""
    import torch
    from transformers import DistilBertConfig, DistilBertModel

    torch.manual_seed(0)
    config = DistilBertConfig(vocab_size=encoder.tokenizer.vocab_size, dim=64, hidden_dim=128, n_layers=2, n_heads=2)
    folder = tmp_path_factory.mktemp("tiny-distilbert")
    DistilBertModel(config).save_pretrained(folder)
    encoder.tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def finetuned_result(sst2_dir):
    """MiniLM fine-tuned for one epoch on the first 1,000 SST2 training sentences (about 20 s)."""
    from bertsent.core.data import Splits, load_dataset
    from bertsent.core.finetune import FinetuneSettings
    from bertsent.core.train import finetune

    train, test = load_dataset(sst2_dir / "train.tsv").head(1000), load_dataset(sst2_dir / "test.tsv").head(300)
    return finetune(Splits(train, test, True), "minilm", FinetuneSettings(epochs=1), checkpoints=None)
