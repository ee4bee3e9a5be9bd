"""Layer sets: ``--layers`` parsed and checked, the encoder run only as deep as the recipe reads,
saved in model.json (and older folders read as before), for every label kind and architecture."""

import json

import numpy as np
import pytest
from bertsent.cli.main import main
from bertsent.core.base.errors import RecipeError
from bertsent.core.encoding.embed import Embedder
from bertsent.core.encoding.encoder import Encoder
from bertsent.core.encoding.layers import describe_layers, format_layers, parse_layers, resolve_layers
from bertsent.core.models.persist import load_model, meta_checksum

TEXTS = ["a charming , funny and often moving film", "dull", "it is what it is , and nothing more than that ."]


@pytest.mark.parametrize(
    ("spec", "layers"),
    [
        ("all", (0, 1, 2, 3, 4, 5, 6)),
        ("ALL", (0, 1, 2, 3, 4, 5, 6)),
        ("last", (6,)),
        ("4", (4,)),
        ("0-4", (0, 1, 2, 3, 4)),
        ("0,2,4", (0, 2, 4)),
        (" 5, 0-2 ", (0, 1, 2, 5)),
        ([3, 1, 1], (1, 3)),
    ],
)
def test_layer_sets_resolve_against_the_encoder_depth(spec, layers):
    assert resolve_layers(spec, 6) == layers
    assert resolve_layers(format_layers(layers), 6) == layers  # the short spelling reads back


@pytest.mark.parametrize("spec", ["", "x", "4-2", "-1", "1.5", "0-", "0,,2", "first"])
def test_a_bad_layer_set_is_one_clear_error(spec):
    with pytest.raises(RecipeError, match="layer set"):
        parse_layers(spec)


def test_a_layer_set_beyond_the_encoder_is_refused():
    with pytest.raises(RecipeError, match="it has layers 0 \\(embeddings\\) to 6"):
        resolve_layers("0-7", 6)
    assert describe_layers((0, 1, 2, 3, 4), 6) == "layers 0-4 (4 of 6 transformer layers run)"


def test_the_truncated_encoder_gives_the_full_encoders_vectors(encoder):
    full = Embedder(encoder, "layers", layers="all", cache=False).embed(TEXTS)
    hidden = Embedder(encoder, "hidden", cache=False).embed(TEXTS).reshape(len(TEXTS), 7, 2, -1)
    width = encoder.hidden_size
    for spec, pooling in (("0-4", "layers"), ("0,2", "layers"), ("4", "mean"), ("0", "mean")):
        embedder = Embedder(encoder, pooling, layers=spec, cache=False)
        columns = np.concatenate([full[:, n * width : (n + 1) * width] for n in embedder.layers], axis=1)
        np.testing.assert_array_equal(embedder.embed(TEXTS), columns)
    cls = Embedder(encoder, "cls", layers="3", cache=False).embed(TEXTS)
    np.testing.assert_array_equal(cls, hidden[:, 3, 0])
    assert len(encoder.model.encoder.layer) == 6 and encoder.model.pooler is not None  # never changed


def test_only_the_layers_read_are_run(tiny_encoder):
    """A recipe that reads layer 1 of a 2-layer encoder runs the first transformer layer alone,
    for embedding, prediction and token scores alike."""
    encoder = Encoder.load(str(tiny_encoder), device="cpu")
    calls = [0, 0]
    hooks = [
        layer.register_forward_hook(lambda *_, n=n: calls.__setitem__(n, calls[n] + 1))
        for n, layer in enumerate(encoder.model.encoder.layer)
    ]
    try:
        embedder = Embedder(encoder, "layers", layers="0-1", cache=False)
        embedder.embed(TEXTS)
        assert calls[0] > 0 and calls[1] == 0
        Embedder(encoder, "layers", layers="all", cache=False).embed(TEXTS)
        assert calls[1] > 0
    finally:
        for hook in hooks:
            hook.remove()
    assert Embedder(encoder, "layers", layers="all", cache=False).dim == 3 * 32


def test_cache_key_includes_the_layer_set(encoder):
    keys = {Embedder(encoder, "layers", layers=spec).cache_key for spec in ("all", "0-4", "0-3")}
    assert len(keys) == 3


def _exit_status(args: list[str]) -> int:
    try:
        return main(args)
    except SystemExit as stop:  # argparse's usage errors
        return int(stop.code)


@pytest.mark.parametrize(("spec", "message"), [("4-2", "runs backwards"), ("3", "it has layers 0 (embeddings) to 2")])
def test_train_with_a_bad_layer_set_is_one_line_and_exit_2(tiny_encoder, tmp_path, capsys, spec, message):
    from tests.conftest import LABEL_KINDS, write_labelled_folder

    folder = write_labelled_folder(tmp_path, LABEL_KINDS["0/1"])
    args = ["train", "--data", str(folder), "--encoder", str(tiny_encoder), "--C", "1", "--out", str(tmp_path / "m")]
    assert _exit_status([*args, "--layers", spec]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "m" / "model.json").exists()


@pytest.mark.parametrize(("pooling", "spec", "saved"), [("layers", "0-1", [0, 1]), ("cls", "1", [1])])
def test_model_json_round_trip_with_every_label_kind(
    labelled_data, tiny_encoder, tmp_path, capsys, pooling, spec, saved
):
    folder, order = labelled_data
    model = tmp_path / "m"
    args = ["train", "--data", str(folder), "--encoder", str(tiny_encoder), "--C", "1", "--pooling", pooling]
    assert main([*args, "--layers", spec, "--out", str(model), "--json"]) == 0
    meta = json.loads((model / "model.json").read_text())
    assert meta["format"] == 4 and meta["layers"] == saved
    loaded = load_model(model).model
    assert loaded.embedder.layers == tuple(saved) and loaded.embedder.depth == max(saved)
    capsys.readouterr()
    assert main(["predict", "--model", str(model), "--json", "a superb and brilliant film"]) == 0
    assert json.loads(capsys.readouterr().out)["label"] in order
    explained = loaded.explain("a superb and brilliant film")
    assert explained.label in order and len(explained.tokens) > 0


def _as_format_3(folder):
    """Rewrite a saved model's model.json as bertsent wrote it before layer sets (format 3)."""
    meta = json.loads((folder / "model.json").read_text())
    del meta["layers"]
    meta["format"] = 3
    meta["checksum"] = meta_checksum(meta)
    (folder / "model.json").write_text(json.dumps(meta))


@pytest.mark.parametrize(("pooling", "layers"), [("layers", (0, 1, 2)), ("mean", (2,)), ("cls", (2,))])
def test_an_older_model_folder_reads_as_it_was_trained(labelled_data, tiny_encoder, tmp_path, pooling, layers):
    """Format 3 had no layer set: "layers" pooling read every layer, mean and cls the last."""
    folder, _ = labelled_data
    model = tmp_path / "m"
    args = ["train", "--data", str(folder), "--encoder", str(tiny_encoder), "--C", "1", "--pooling", pooling]
    assert main([*args, "--layers", "all" if pooling == "layers" else "last", "--out", str(model)]) == 0
    before = load_model(model).model
    _as_format_3(model)
    after = load_model(model).model
    assert after.embedder.layers == layers
    np.testing.assert_array_equal(after.predict_proba(TEXTS), before.predict_proba(TEXTS))


def test_a_format_4_model_without_its_layer_set_is_refused(labelled_data, tiny_encoder, tmp_path):
    from bertsent.core.base.errors import ModelFileError

    folder, _ = labelled_data
    model = tmp_path / "m"
    assert main(["train", "--data", str(folder), "--encoder", str(tiny_encoder), "--C", "1", "--out", str(model)]) == 0
    meta = json.loads((model / "model.json").read_text())
    del meta["layers"]
    meta["checksum"] = meta_checksum(meta)
    (model / "model.json").write_text(json.dumps(meta))
    with pytest.raises(ModelFileError, match="needs 'layers'"):
        load_model(model)


@pytest.fixture(scope="module")
def tiny_mpnet(tmp_path_factory):
    """A 3-layer MPNet built from its config (random weights): another layer layout and a pooler."""
    import torch
    from bertsent.core.encoding.encoder import resolve_encoder
    from transformers import AutoTokenizer, MPNetConfig, MPNetModel

    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(resolve_encoder("minilm"), local_files_only=True)
    config = MPNetConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=3,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=130,
    )
    folder = tmp_path_factory.mktemp("tiny-mpnet")
    MPNetModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.mark.parametrize("architecture", ["tiny_distilbert", "tiny_mpnet"])
def test_other_architectures_truncate_to_the_same_vectors(request, architecture):
    encoder = Encoder.load(str(request.getfixturevalue(architecture)), device="cpu")
    full = Embedder(encoder, "layers", layers="all", cache=False).embed(TEXTS)
    width = encoder.hidden_size
    for depth in range(encoder.num_layers + 1):
        prefix = Embedder(encoder, "layers", layers=f"0-{depth}", cache=False).embed(TEXTS)
        np.testing.assert_allclose(prefix, full[:, : (depth + 1) * width], rtol=0, atol=1e-6)
        last = Embedder(encoder, "mean", layers=str(depth), cache=False).embed(TEXTS)
        np.testing.assert_allclose(last, full[:, depth * width : (depth + 1) * width], rtol=0, atol=1e-6)


def test_the_probe_names_the_cheapest_prefix_set_within_three_tenths_of_a_point():
    from bertsent.core.analyses.probe import LayerProbe, PrefixScore

    def probe(accuracies):
        prefixes = [PrefixScore(depth, accuracy, 1.0) for depth, accuracy in enumerate(accuracies)]
        return LayerProbe("x", [], prefixes, 10, 10, {})

    assert probe([0.70, 0.80, 0.842, 0.845, 0.844]).cheapest_prefix.depth == 2  # 0.3 points below the best
    assert probe([0.70, 0.80, 0.841, 0.845, 0.844]).cheapest_prefix.depth == 3
    assert probe([0.70, 0.80, 0.841, 0.845, 0.844]).reference == 0.844  # the last set: every layer
    assert probe([]).cheapest_prefix is None and probe([]).reference is None


def test_the_cli_probe_prints_a_line_per_prefix_set(labelled_data, tiny_encoder, capsys):
    folder, _ = labelled_data
    capsys.readouterr()
    assert main(["probe", "--data", str(folder), "--encoder", str(tiny_encoder), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [row["layers"] for row in rows if "layers" in row] == ["0-0", "0-1", "0-2"]
    assert main(["probe", "--data", str(folder), "--encoder", str(tiny_encoder)]) == 0
    out = capsys.readouterr().out
    assert "cheapest within 0.3 points of the best: layers 0-" in out and "0-2" in out


def test_token_scores_reuse_recent_passes_and_match_fresh_ones(labelled_data, tiny_encoder, tmp_path, monkeypatch):
    from bertsent.core.models.model import SentimentModel

    folder, _ = labelled_data
    model_folder = tmp_path / "m"
    args = ["train", "--data", str(folder), "--encoder", str(tiny_encoder), "--C", "1", "--layers", "0-1"]
    assert main([*args, "--out", str(model_folder)]) == 0
    model = load_model(model_folder).model
    sentence = "a superb and brilliant film , dull at times"
    fresh = model.explain(sentence, reuse=False)
    first = model.explain(sentence)
    assert first == fresh

    def no_pass(*_args, **_kwargs):
        raise AssertionError("a sentence scored again must compute nothing")

    monkeypatch.setattr(SentimentModel, "proba_ids", no_pass)
    assert model.explain(sentence) == fresh
    with pytest.raises(AssertionError, match="compute nothing"):
        model.explain(sentence + " again")


def test_an_older_minilm_folder_reads_every_layer_not_todays_default(encoder, tmp_path):
    """MiniLM's default set is shallower now: a format 3 folder still reads every layer."""
    from bertsent.core.data.dataset import load_splits
    from bertsent.core.models.persist import save_model
    from bertsent.core.models.train import train

    from tests.conftest import LABEL_KINDS, write_labelled_folder

    (tmp_path / "data").mkdir()
    splits = load_splits(write_labelled_folder(tmp_path / "data", LABEL_KINDS["0/1"]))
    result = train(Embedder(encoder, "layers", layers="all", cache=False), splits, C=1.0)
    folder = save_model(result.model, tmp_path / "m")
    _as_format_3(folder)
    loaded = load_model(folder, encoder=encoder).model
    assert loaded.embedder.layers == tuple(range(7)) != Embedder(encoder, "layers").layers
    np.testing.assert_array_equal(loaded.predict_proba(TEXTS), result.model.predict_proba(TEXTS))
