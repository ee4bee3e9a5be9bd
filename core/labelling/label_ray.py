"""Bulk labelling on a Ray cluster (``bertsent label --engine ray``; ``pip install 'bertsent[ray]'``).

Ray Data reads the input (every worker node must see the path: shared storage or an ``s3://``
URI), ``map_batches`` sends blocks to a fixed pool of actors, each loading the model once (its
files travel through Ray, so workers need bertsent and the encoder installed, not the model
folder), and the driver streams the labelled blocks back in input order and writes them with the
local engine's writer: the same columns and format. Unlike the local engine it does not resume;
a malformed CSV row stops the read (pyarrow's parser) with that row's line and reason, while
empty texts get the error column.

The actors are sized to the nodes found before anything starts: CPUs per actor (2, or the
largest node's CPUs if fewer), actors per node as many as its CPUs (and GPUs) hold. A cluster
that cannot host what is asked, or actors that do not start within ``start_timeout``, end the
run with one line instead of Ray's wait for a cluster that may never grow. Nothing global stays
changed: Ray Data's options live in a private ``DataContext`` for the run, Ray's loggers and the
SIGTERM handler are given back, and a Ray started here is shut down.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import os
import signal
import socket
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from bertsent.core.base.errors import BertsentError, ClusterError, DataError
from bertsent.core.base.files import atomic_open
from bertsent.core.data.table import Row, open_table
from bertsent.core.labelling.label import (
    AddedColumns,
    LabelProgress,
    LabelResult,
    Plan,
    _is_file,
    check_destination,
    label_file,
    label_rows,
    make_plan,
)
from bertsent.core.models.persist import load_model

BATCH_ROWS = 2048
CPUS_PER_WORKER = 2  # torch threads per actor, unless the nodes are smaller
START_TIMEOUT = 45.0  # seconds for the actors to start (the model loaded in each) before giving up
CONNECT_TIMEOUT = 5.0  # seconds for the cluster's address to answer at all
RAY_LOGGERS = ("ray", "ray.data")


class Labeller:
    """A Ray actor: the model loaded from its files at the first block, then one block of rows per
    call. Loading waits for the first block so that an actor counts as started once Ray has
    placed it: the start timeout measures the cluster, not the model's load time."""

    def __init__(self, files, text_column: str, added: AddedColumns, threads: int) -> None:
        self.files = files  # an object reference: the bytes are fetched by the actor that loads them
        self.text_column = text_column
        self.added = added
        self.threads = threads
        self.model = None

    def __call__(self, block):
        import pyarrow as pa

        if self.model is None:
            self.model = self._load()
        values, _ = label_rows(self.model, [(None, row) for row in block.to_pylist()], self.text_column, self.added)
        for name in self.added.names:
            numeric = name == self.added.probability or name in self.added.per_class
            column = pa.array([v[name] for v in values], type=pa.float64() if numeric else pa.string())
            block = block.append_column(name, column)
        return block

    def _load(self):
        import ray
        import torch

        torch.set_num_threads(self.threads)
        with tempfile.TemporaryDirectory(prefix="bertsent-model-") as folder:  # loaded into memory, then removed
            for name, data in ray.get(self.files).items():
                (Path(folder) / name).parent.mkdir(parents=True, exist_ok=True)
                (Path(folder) / name).write_bytes(data)
            return load_model(folder, device=_actor_device()).model


@dataclass(frozen=True)
class Pool:
    """The actors to start: how many, and the CPUs and GPUs each asks for."""

    workers: int
    cpus: int
    gpus: int


def size_pool(node_resources: list[dict[str, float]], workers: int | None, cpus: int | None) -> Pool:
    """The actor pool for nodes with these resources (``ray.nodes()``'s), or one line saying why
    the cluster cannot host it: what it has and what was asked."""
    node_cpus = [int(r.get("CPU", 0)) for r in node_resources]
    gpus = 1 if any(r.get("GPU", 0) >= 1 for r in node_resources) else 0
    if cpus is None:
        cpus = max(1, min(CPUS_PER_WORKER, max(node_cpus, default=0)))
    hosts = sum(
        min(c // cpus, int(r.get("GPU", 0))) if gpus else c // cpus
        for c, r in zip(node_cpus, node_resources, strict=True)
    )
    gpu_text = " and 1 GPU" if gpus else ""
    has = f"its {len(node_cpus)} node(s) have {', '.join(map(str, node_cpus)) or 'no'} CPUs" + (
        f" and {', '.join(str(int(r.get('GPU', 0))) for r in node_resources)} GPUs" if gpus else ""
    )
    if hosts == 0:
        raise ClusterError(
            f"the Ray cluster cannot host one actor of {cpus} CPU(s){gpu_text}: {has}; "
            f"use --cpus-per-worker {max(1, max(node_cpus, default=1))} or add nodes"
        )
    if workers is not None and workers > hosts:
        raise ClusterError(
            f"the Ray cluster can host {hosts} actor(s) of {cpus} CPU(s){gpu_text} ({has}); "
            f"--workers {workers} asks for more: use --workers {hosts} or fewer, or a smaller --cpus-per-worker"
        )
    return Pool(workers or hosts, cpus, gpus)


def label_with_ray(
    model_folder: str | Path,
    source: str,
    out: str | Path,
    *,
    text_column: str | None = None,
    format: str | None = None,
    input_format: str | None = None,
    all_probabilities: bool = False,
    address: str | None = None,
    workers: int | None = None,
    worker_threads: int | None = None,
    verbose: bool = False,
    start_timeout: float = START_TIMEOUT,
    progress: Callable[[LabelProgress], None] | None = None,
) -> LabelResult:
    """Label ``source`` with ``workers`` actors of ``worker_threads`` CPUs each (defaults: sized
    to the cluster's nodes, see :func:`size_pool`); ``address`` (or ``RAY_ADDRESS``) names a
    cluster, else Ray starts locally. Ray's own logging is quiet unless ``verbose``."""
    try:
        import ray
        import ray.data
    except ImportError:
        raise BertsentError("--engine ray needs Ray: pip install 'bertsent[ray]'") from None
    start = time.perf_counter()
    if "://" not in source and not _is_file(source):
        raise DataError("the Ray engine's workers read the input themselves: give a file (or a URI), not a pipe")
    out = Path(out)
    check_destination(source, out)
    folder = Path(model_folder)
    model = load_model(folder).model
    plan = make_plan(model, source, out, text_column, format, input_format, all_probabilities)
    if next(plan.table.rows(), None) is None:  # nothing to send to a cluster: the local engine's answer
        return label_file(
            model, source, out, text_column=text_column, format=format, input_format=input_format,
            all_probabilities=all_probabilities, progress=progress,
        )  # fmt: skip
    files = {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
    total = plan.total  # counted when the plan read the file; None for a URI
    with _quiet_ray(verbose), _connected(ray, address, verbose), _private_data_context(ray.data, start_timeout):
        nodes = [node["Resources"] for node in ray.nodes() if node.get("Alive")]
        pool = size_pool(nodes, workers, worker_threads)
        with warnings.catch_warnings():
            # Ray 2.60 deprecates ray_remote_args_fn and names no replacement for max_restarts
            warnings.simplefilter("ignore", DeprecationWarning)
            labelled = _read(ray.data, plan, source).map_batches(
                Labeller,
                fn_constructor_kwargs={
                    "files": ray.put(files),  # once in the object store, fetched by each actor
                    "text_column": plan.text_column,
                    "added": plan.added,
                    "threads": pool.cpus,
                },
                batch_size=BATCH_ROWS,
                batch_format="pyarrow",
                compute=ray.data.ActorPoolStrategy(size=pool.workers),
                num_cpus=pool.cpus,
                num_gpus=pool.gpus,
                ray_remote_args_fn=_no_restarts,
            )
        rows = bad = 0
        errors: list[str] = []

        def report() -> None:
            if progress:
                elapsed = time.perf_counter() - start
                progress(LabelProgress(rows, total, 0, bad, elapsed, rows / elapsed if elapsed > 0 else 0.0))

        report()
        error = plan.added.error
        added_names = set(plan.added.names)
        with atomic_open(out) as handle, _one_line_errors(ray, plan, source, pool, nodes, start_timeout):
            handle.write(plan.writer.header())
            blocks = iter(labelled.iter_batches(batch_size=None, batch_format="pyarrow"))
            try:
                for block in blocks:
                    records = block.to_pylist()
                    pairs: list[tuple[Row, dict[str, object]]] = [
                        ({k: v for k, v in r.items() if k not in added_names}, {n: r[n] for n in plan.added.names})
                        for r in records
                    ]
                    handle.write(plan.writer.rows(pairs))
                    failed = [r[error] for r in records if r[error]]
                    bad += len(failed)
                    errors.extend(failed[: max(0, 5 - len(errors))])
                    rows += len(records)
                    report()
            finally:
                close = getattr(blocks, "close", None)
                if close:
                    close()  # stops the executor: on an error or Ctrl-C the actors go with it
    return LabelResult(out, plan.format, rows, bad, 0, time.perf_counter() - start, False, tuple(errors))


@contextlib.contextmanager
def _quiet_ray(verbose: bool) -> Iterator[None]:
    """Ray's own log lines (connecting, deprecations, progress-bar notes, and the tracebacks it logs
    before raising an error that bertsent reports in one line) hidden unless ``verbose``; the
    loggers' levels are given back afterwards."""
    loggers = [logging.getLogger(name) for name in RAY_LOGGERS]
    levels = [logger.level for logger in loggers]
    if not verbose:
        for logger in loggers:
            logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


@contextlib.contextmanager
def _connected(ray, address: str | None, verbose: bool) -> Iterator[None]:
    """Ray connected for the run: to ``address`` (or ``RAY_ADDRESS``), else a local Ray; one
    started here is shut down at the end, which also ends the job's actors."""
    if ray.is_initialized():
        yield
        return
    _check_reachable(address or os.environ.get("RAY_ADDRESS"))
    main = threading.current_thread() is threading.main_thread()
    previous = signal.getsignal(signal.SIGTERM) if main else None
    try:
        ray.init(
            address=address,
            log_to_driver=verbose,
            include_dashboard=False,
            configure_logging=verbose,
            logging_level=logging.INFO if verbose else logging.CRITICAL,
        )
    except Exception as exc:  # noqa: BLE001 (Ray raises ConnectionError, ValueError, RuntimeError, ...)
        where = f" at {address}" if address else ""
        raise ClusterError(f"cannot connect to Ray{where}: {_first_line(exc)}") from None
    finally:
        # ray.init replaces SIGTERM's handler (and its core worker adds a stack dump before it):
        # the caller's handler comes back, so SIGTERM ends the run as it would anywhere else.
        if main and previous is not None:
            signal.signal(signal.SIGTERM, previous)
    try:
        with _sigterm_kept():
            yield
    finally:
        ray.shutdown()


def _check_reachable(address: str | None) -> None:
    """A cluster address nothing answers on is one line at once (Ray's own connect retries for
    minutes, printing a warning every 5 s)."""
    if not address or address in ("auto", "local") or "://" in address:
        return
    host, _, port = address.rpartition(":")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_TIMEOUT).close()
    except (OSError, ValueError) as exc:
        raise ClusterError(f"cannot connect to Ray at {address}: {getattr(exc, 'strerror', None) or exc}") from None


@contextlib.contextmanager
def _sigterm_kept() -> Iterator[None]:
    """Ray's blocking calls turn whatever a signal handler raises into ``KeyboardInterrupt``: a
    SIGTERM received meanwhile is raised again the way the caller's handler raises it."""
    previous = signal.getsignal(signal.SIGTERM)
    if not callable(previous) or threading.current_thread() is not threading.main_thread():
        yield
        return
    received = []

    def handler(signum, frame) -> None:
        received.append(signum)
        previous(signum, frame)

    signal.signal(signal.SIGTERM, handler)
    try:
        yield
    except KeyboardInterrupt:
        if received:
            previous(signal.SIGTERM, None)
        raise
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def _private_data_context(data, start_timeout: float) -> Iterator[None]:
    """Ray Data's options for this run in a copy of the current ``DataContext``, the caller's
    given back afterwards."""
    saved = data.DataContext.get_current()
    with warnings.catch_warnings():  # copying reads every option, the deprecated ones too
        warnings.simplefilter("ignore", DeprecationWarning)
        context = copy.deepcopy(saved)
    context.execution_options.preserve_order = True
    context.enable_progress_bars = False  # bertsent draws its own
    context.wait_for_min_actors_s = max(1, round(start_timeout))
    data.DataContext._set_current(context)
    try:
        yield
    finally:
        data.DataContext._set_current(saved)


@contextlib.contextmanager
def _one_line_errors(ray, plan: Plan, source: str, pool: Pool, nodes: list, start_timeout: float) -> Iterator[None]:
    """Ray's errors (a screen of traceback with colour escapes) as one line: a malformed input row
    with the line and reason the local reader gives it; actors that never started with what the
    cluster has and what was asked; anything else with the first line of its cause."""
    try:
        yield
    except ray.exceptions.GetTimeoutError:
        cpus = ", ".join(str(int(r.get("CPU", 0))) for r in nodes)
        raise ClusterError(
            f"no Ray actor started within {start_timeout:.0f} s: {pool.workers} actor(s) of {pool.cpus} CPU(s)"
            f"{' and 1 GPU' if pool.gpus else ''} were asked of {len(nodes)} node(s) with {cpus} CPUs "
            f"(busy with other jobs?); try fewer --workers"
        ) from None
    except (ray.exceptions.RayError, ray.data.exceptions.UserCodeException) as exc:
        bad = _first_bad_row(plan, source)
        if bad:
            raise DataError(
                f"{source}: {bad} (the Ray engine stops at a malformed row; --engine local labels the rest "
                f"and marks it in the error column)"
            ) from None
        raise ClusterError(f"the Ray job failed: {_first_line(exc, last=True)}") from None


def _first_bad_row(plan: Plan, source: str) -> str | None:
    """``line N: reason`` of the first row the local reader rejects, if the input is a local file."""
    if "://" in source:
        return None
    table = open_table(source, format=plan.table.format, known_columns=plan.table.columns)
    for lineno, row in table.rows():
        if isinstance(row, str):
            return f"line {lineno}: {row}"
    return None


def _first_line(exc: BaseException, *, last: bool = False) -> str:
    """One line of an error without terminal colour escapes: its first, or with ``last`` its last
    (a worker's traceback ends with the exception and its message)."""
    import re

    lines = [line.strip() for line in re.sub(r"\x1b\[[0-9;]*m", "", str(exc)).splitlines() if line.strip()]
    return (lines[-1] if last else lines[0]) if lines else type(exc).__name__


def _read(data, plan: Plan, source: str):
    """The input as a Ray dataset with every column as text, as the local reader gives them."""
    import pyarrow as pa
    from pyarrow import csv

    table = plan.table
    path = str(Path(source).resolve()) if "://" not in source else source
    # Reading takes no CPU slot: the actors may hold every one, and a read waiting for a slot would wait forever.
    free = {"num_cpus": 0}
    if table.format == "lines":
        return data.read_text(path, **free)
    if table.format == "jsonl":
        return data.read_json(path, lines=True, **free)
    return data.read_csv(
        path,
        **free,
        read_options=csv.ReadOptions(column_names=list(table.columns), skip_rows=1 if table.has_header else 0),
        parse_options=csv.ParseOptions(
            delimiter=table.delimiter,
            quote_char=False if table.format == "tsv" else '"',
            newlines_in_values=table.format == "csv",
        ),
        convert_options=csv.ConvertOptions(
            column_types={c: pa.string() for c in table.columns},
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )


def _no_restarts() -> dict:
    """A dead actor ends the run with its error instead of being restarted behind it (a restart
    would need the model's bytes kept in the object store, which Ray warns about on every run)."""
    return {"max_restarts": 0}


def _actor_device() -> str:
    import ray

    return "cuda" if ray.get_gpu_ids() else "cpu"
