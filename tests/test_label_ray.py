"""The Ray engine on a cluster of two local nodes (loopback only, one Ray cluster for the module):
labels equal to the local engine's for 0/1 and five string classes, actors sized to 1-CPU nodes,
one line and exit 2 when the nodes are too small, busy or the input is malformed, SIGTERM ending
the job with 143, and nothing left behind (Ray Data's global options, actor temp folders)."""

from __future__ import annotations

import csv
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import warm
from bertsent.core.base.errors import ClusterError
from bertsent.core.labelling.label import label_file
from bertsent.core.labelling.label_ray import Pool, size_pool
from bertsent.core.models.persist import load_model

REPO = Path(__file__).resolve().parents[1]


# --- sizing, without a cluster ---


def test_actors_are_sized_to_the_nodes_found():
    one, two = {"CPU": 1.0}, {"CPU": 2.0}
    assert size_pool([one, one], None, None) == Pool(2, 1, 0)
    assert size_pool([two, two], None, None) == Pool(2, 2, 0)
    assert size_pool([{"CPU": 16.0}, two], None, None) == Pool(9, 2, 0)
    assert size_pool([{"CPU": 8.0}], 3, 1) == Pool(3, 1, 0)
    assert size_pool([{"CPU": 8.0, "GPU": 2.0}, two], None, None) == Pool(2, 2, 1)
    with pytest.raises(ClusterError, match=r"cannot host one actor of 2 CPU\(s\): its 2 node\(s\) have 1, 1 CPUs"):
        size_pool([one, one], None, 2)
    with pytest.raises(ClusterError, match=r"can host 2 actor\(s\) of 1 CPU\(s\).*--workers 3 asks for more"):
        size_pool([one, one], 3, None)


# --- on two local nodes ---

ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'bertsent[ray]'; make install does)")
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def two_nodes():
    """Two Ray nodes of 1 CPU each on this machine, their temp files (actors' included) in a folder
    of their own; every process of theirs is stopped at the end. Yields the address as a user on
    the head node gives it, ``127.0.0.1:PORT`` (every Ray process of the tests stays on loopback:
    see ``tests/conftest.py``)."""
    from ray.cluster_utils import Cluster

    folder = tempfile.mkdtemp(prefix="bsray-")  # short: Ray's socket paths must fit in 107 bytes
    saved = os.environ.get("TMPDIR")
    os.environ["TMPDIR"] = folder
    node = {"num_cpus": 1, "include_dashboard": False, "node_ip_address": "127.0.0.1"}
    cluster = Cluster(initialize_head=True, head_node_args=node)
    try:
        cluster.add_node(**node)
        cluster.wait_for_nodes()
        yield f"127.0.0.1:{cluster.address.rsplit(':', 1)[1]}", Path(folder)
    finally:
        cluster.shutdown()
        if saved is None:
            os.environ.pop("TMPDIR", None)
        else:
            os.environ["TMPDIR"] = saved
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def five_class_model_dir(encoder, sst5_dir, tmp_path_factory):
    from bertsent.core.data.dataset import Splits, load_dataset
    from bertsent.core.encoding.embed import Embedder
    from bertsent.core.models.persist import save_model
    from bertsent.core.models.train import train

    splits = Splits(load_dataset(sst5_dir / "train.csv").head(300), load_dataset(sst5_dir / "test.csv").head(100), True)
    result = train(Embedder(encoder), splits, C=0.01)
    folder = tmp_path_factory.mktemp("models") / "five"
    save_model(result.model, folder, report=result.report, data_hash=result.data_hash)
    return folder


def _corpus(sst2_dir: Path, path: Path, n: int) -> None:
    from bertsent.core.data.dataset import load_dataset

    texts = load_dataset(sst2_dir / "test.tsv").texts[:n]
    with open(path, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([("id", "review"), *((i, t) for i, t in enumerate(texts)), (n, " ")])


def _read(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _bertsent(*args, **options):
    return warm.run(
        [sys.executable, "-m", "bertsent.cli", *map(str, args)], cwd=REPO, capture_output=True, text=True, **options
    )


def _same_labels(local_csv: Path, ray_csv: Path) -> None:
    local, distributed = _read(local_csv), _read(ray_csv)
    assert list(distributed[0]) == list(local[0])
    for column in ("id", "review", "label"):
        assert [r[column] for r in distributed] == [r[column] for r in local]
    # the same reasons; the local engine also names the line (Ray's blocks do not carry it)
    assert [r["error"] for r in distributed] == [r["error"].split(": ", 1)[-1] for r in local]
    probabilities = [c for c in local[0] if c.startswith("probability")]
    pairs = [(a[c], b[c]) for a, b in zip(local, distributed, strict=True) for c in probabilities if a[c]]
    differences = [abs(float(a) - float(b)) for a, b in pairs]
    assert differences and max(differences) < 1e-4


def test_two_nodes_of_one_cpu_label_through_the_cli_as_the_local_engine(two_nodes, small_model_dir, sst2_dir, tmp_path):
    address, _ = two_nodes
    source = tmp_path / "in.csv"
    _corpus(sst2_dir, source, 60)
    label_file(load_model(small_model_dir).model, source, tmp_path / "local.csv")
    done = _bertsent(
        "label", source, "--model", small_model_dir, "--out", tmp_path / "ray.csv", "--engine", "ray",
        "--ray-address", address, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    # Ray's own lines (connecting, deprecations, progress-bar and restart notes) stay quiet: bertsent's only.
    assert [line.split(":")[0] for line in done.stderr.splitlines()] == ["bertsent", "bertsent"], done.stderr
    assert "labelled 61 rows" in done.stderr and "1 row(s) could not be labelled" in done.stderr
    _same_labels(tmp_path / "local.csv", tmp_path / "ray.csv")


def test_five_string_classes_on_ray_leave_no_global_change_nor_temp_folder(
    two_nodes, five_class_model_dir, sst2_dir, tmp_path
):  # one actor: spreading over the nodes is the CLI test's; an actor's start costs seconds
    import ray.data
    from bertsent.core.labelling.label_ray import label_with_ray

    address, ray_tmp = two_nodes
    source = tmp_path / "in.csv"
    _corpus(sst2_dir, source, 60)
    label_file(load_model(five_class_model_dir).model, source, tmp_path / "local.csv", all_probabilities=True)
    context = ray.data.DataContext.get_current()
    order, bars = context.execution_options.preserve_order, context.enable_progress_bars
    handler = signal.getsignal(signal.SIGTERM)
    result = label_with_ray(
        five_class_model_dir, str(source), tmp_path / "ray.csv", all_probabilities=True, address=address, workers=1
    )
    assert (result.rows, result.bad) == (61, 1)
    _same_labels(tmp_path / "local.csv", tmp_path / "ray.csv")
    assert {r["label"] for r in _read(tmp_path / "ray.csv")} - {""} <= set(
        load_model(five_class_model_dir).model.classes.names
    )
    assert len([c for c in _read(tmp_path / "ray.csv")[0] if c.startswith("probability_")]) == 5
    assert ray.data.DataContext.get_current() is context
    assert (context.execution_options.preserve_order, context.enable_progress_bars) == (order, bars)
    assert signal.getsignal(signal.SIGTERM) is handler and not ray.is_initialized()
    assert not list(ray_tmp.glob("bertsent-model-*"))


def test_nodes_too_small_for_an_actor_stop_in_one_line(two_nodes, small_model_dir, sst2_dir, tmp_path, cli):
    address, _ = two_nodes
    source = tmp_path / "in.csv"
    _corpus(sst2_dir, source, 10)
    start = time.monotonic()
    done = cli(
        "label", str(source), "--model", str(small_model_dir), "--out", str(tmp_path / "ray.csv"), "--engine", "ray",
        "--ray-address", address, "--cpus-per-worker", "2",
    )  # fmt: skip
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr[-3000:]
    assert "cannot host one actor of 2 CPU(s): its 2 node(s) have 1, 1 CPUs" in done.stderr
    assert time.monotonic() - start < 60 and not (tmp_path / "ray.csv").exists()


@pytest.mark.parametrize(
    ("content", "said"),
    [
        ("id,review\n1,good film\n2,bad,extra\n3,fine\n", "line 3: extra columns: expected 2 columns, found 3"),
        ("id,review\n1,good film\n2\n3,fine\n", "line 3: missing column: expected 2 columns (id, review), found 1"),
    ],
)
def test_a_malformed_row_on_ray_is_one_line_with_the_local_readers_reason(
    two_nodes, small_model_dir, tmp_path, content, said, cli
):
    address, _ = two_nodes
    (tmp_path / "in.csv").write_text(content, encoding="utf-8")
    done = cli(
        "label", str(tmp_path / "in.csv"), "--model", str(small_model_dir), "--out", str(tmp_path / "o.csv"),
        "--engine", "ray", "--ray-address", address,
    )  # fmt: skip
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr[-3000:]
    assert said in done.stderr and "\x1b" not in done.stderr
    assert not (tmp_path / "o.csv").exists()


def test_an_empty_file_on_ray_gets_the_local_engines_answer(small_model_dir, tmp_path, cli):
    (tmp_path / "in.csv").write_text("", encoding="utf-8")
    command = ("label", str(tmp_path / "in.csv"), "--model", str(small_model_dir), "--out", str(tmp_path / "o.csv"))
    engines = (["--engine", "local"], ["--engine", "ray", "--ray-address", "127.0.0.1:1"])
    answers = [cli(*command, *engine) for engine in engines]
    assert answers[0].returncode == answers[1].returncode
    assert answers[0].stderr.replace("in 0.0 s", "") == answers[1].stderr.replace("in 0.0 s", "")
    assert answers[1].stderr.count("\n") <= 2


def test_an_address_nothing_answers_on_is_one_line(small_model_dir, tmp_path, cli):
    (tmp_path / "in.csv").write_text("id,review\n1,good film\n", encoding="utf-8")
    start = time.monotonic()
    done = cli(
        "label", str(tmp_path / "in.csv"), "--model", str(small_model_dir), "--out", str(tmp_path / "o.csv"),
        "--engine", "ray", "--ray-address", "127.0.0.1:1",
    )  # fmt: skip
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr[-3000:]
    assert "cannot connect to Ray at 127.0.0.1:1: Connection refused" in done.stderr
    assert time.monotonic() - start < 60


def test_sigterm_ends_the_job_and_the_driver_with_one_line_and_143(two_nodes, small_model_dir, sst2_dir, tmp_path):
    address, _ = two_nodes
    source = tmp_path / "in.csv"
    _corpus(sst2_dir, source, 1800)
    ray.init(address=address, log_to_driver=False)  # to watch the cluster's free CPUs
    try:
        process = warm.Popen(
            [sys.executable, "-m", "bertsent.cli", "label", str(source), "--model", str(small_model_dir)]
            + ["--out", str(tmp_path / "o.csv"), "--engine", "ray", "--ray-address", address],
            cwd=REPO,
            stderr=subprocess.PIPE,
            text=True,
        )
        _wait_for(lambda: ray.available_resources().get("CPU", 0) == 0, process, "the run's actors hold every CPU")
        time.sleep(2)  # given their first blocks
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
        assert process.returncode == 143, stderr[-3000:]
        assert stderr.splitlines() == ["bertsent: terminated; the Ray engine does not resume: nothing was written"]
        assert not (tmp_path / "o.csv").exists()
        _wait_for(lambda: ray.available_resources().get("CPU", 0) == 2, None, "the job's actors are gone")
    finally:
        ray.shutdown()


def test_actors_that_cannot_start_on_a_busy_cluster_stop_in_one_line(two_nodes, small_model_dir, sst2_dir, tmp_path):
    from bertsent.core.labelling.label_ray import label_with_ray

    address, _ = two_nodes
    source = tmp_path / "in.csv"
    _corpus(sst2_dir, source, 10)
    ray.init(address=address, log_to_driver=False)
    try:
        busy = ray.util.placement_group([{"CPU": 1}, {"CPU": 1}], strategy="SPREAD")  # another job's hold
        ray.get(busy.ready(), timeout=60)
        start = time.monotonic()
        with pytest.raises(ClusterError, match=r"no Ray actor started within 3 s: 1 actor\(s\) of 1 CPU"):
            label_with_ray(small_model_dir, str(source), tmp_path / "o.csv", workers=1, start_timeout=3)
        assert time.monotonic() - start < 30 and not (tmp_path / "o.csv").exists()
        ray.util.remove_placement_group(busy)
    finally:
        ray.shutdown()


def _wait_for(condition, process: subprocess.Popen | None, what: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if process is not None:
            assert process.poll() is None, process.communicate()[1][-3000:]
        if time.monotonic() > deadline:
            pytest.fail(f"not within {seconds:.0f} s: {what}")
        time.sleep(0.2)
