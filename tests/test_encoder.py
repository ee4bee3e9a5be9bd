"""Tokenizer known answer, encoder loading, and the DistilBERT code path with a config-built model."""

import numpy as np
import pytest
from bertsent.core.base.errors import EncoderError
from bertsent.core.data.dataset import Splits, load_dataset
from bertsent.core.encoding.embed import Embedder
from bertsent.core.encoding.encoder import Encoder, resolve_encoder
from bertsent.core.models.persist import load_model, save_model
from bertsent.core.models.train import train


def test_tutorial_token_ids(encoder):
    tokens = encoder.tokenize("a visually stunning rumination on love")
    assert tokens.ids == [101, 1037, 17453, 14726, 19379, 12758, 2006, 2293, 102]
    assert tokens.tokens[0] == "[CLS]" and tokens.tokens[-1] == "[SEP]"
    assert tokens.tokens[4:6] == ["rum", "##ination"]


def test_long_sentence_is_truncated_and_flagged(encoder):
    tokens = encoder.tokenize("word " * 10_000)
    assert len(tokens.ids) == encoder.max_length and tokens.truncated
    assert tokens.tokens[-1] == "[SEP]"


def test_odd_unicode_tokenizes(encoder):
    tokens = encoder.tokenize("great 😀 電影 \u200b\u202e film")
    assert tokens.tokens[0] == "[CLS]" and "great" in tokens.tokens and "film" in tokens.tokens


def test_missing_encoder_is_one_clear_error(tmp_path):
    with pytest.raises(EncoderError, match="does not exist"):
        Encoder.load(str(tmp_path / "no-such-model"))
    with pytest.raises(EncoderError, match="cannot load encoder"):
        Encoder.load(str(tmp_path))
    with pytest.raises(EncoderError, match="not in the local Hugging Face cache") as error:
        Encoder.load("distilbert")
    assert "--encoder PATH" in str(error.value)


def test_default_encoder_is_the_bundled_minilm(encoder):
    assert resolve_encoder("minilm").endswith("model")
    assert encoder.hidden_size == 384 and encoder.num_layers == 6
    assert encoder.device in ("cpu", "cuda")


def test_distilbert_code_path_end_to_end(tiny_distilbert, sst2_dir, tmp_path):
    distil = Encoder.load(str(tiny_distilbert))
    assert distil.model.config.model_type == "distilbert"
    assert distil.tokenize("a visually stunning rumination on love").ids[:3] == [101, 1037, 17453]
    splits = Splits(load_dataset(sst2_dir / "train.tsv").head(120), load_dataset(sst2_dir / "test.tsv").head(40), True)
    for pooling, dim in (("cls", 64), ("mean", 64), ("layers", 3 * 64)):
        embedder = Embedder(distil, pooling, cache=False)
        result = train(embedder, splits, C=1.0)
        assert embedder.dim == dim
        predicted = result.model.predict(splits.test.texts)  # the report is about this very model
        assert result.report.n_test == 40 and result.report.accuracy == np.mean(predicted == splits.test.labels)
    save_model(result.model, tmp_path / "distil", report=result.report)
    loaded = load_model(tmp_path / "distil", encoder=distil).model
    text = splits.test.texts[0]
    assert np.isclose(loaded.explain(text).probability, result.model.explain(text).probability)


def test_precisions_the_device_cannot_run_or_no_longer_offered_are_one_clear_error():
    with pytest.raises(EncoderError, match="needs CUDA"):
        Encoder.load(precision="fp16", device="cpu")
    with pytest.raises(EncoderError, match="unknown precision 'int8'; choose from auto, fp32, fp16, bf16"):
        Encoder.load(precision="int8", device="cpu")
