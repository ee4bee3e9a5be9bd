"""Bulk labelling on a Ray cluster (``bertsent label --engine ray``; ``pip install 'bertsent[ray]'``).

Ray Data reads the input (every worker node must see the path: shared storage or an ``s3://``
URI), ``map_batches`` sends blocks to a pool of actors, each loading the model once (its files
travel through Ray, so workers need bertsent and the encoder installed, not the model folder), and
the driver streams the labelled blocks back in input order and writes them with the local
engine's writer: the same columns and format. Unlike the local engine it does not resume; a
malformed CSV row stops the read (pyarrow's parser), while empty texts get the error column.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bertsent.core.errors import BertsentError, DataError
from bertsent.core.files import atomic_open
from bertsent.core.label import AddedColumns, LabelProgress, LabelResult, Plan, label_rows, make_plan
from bertsent.core.persist import load_model
from bertsent.core.table import STDIN

BATCH_ROWS = 2048


class Labeller:
    """A Ray actor: the model loaded once from its files, then one block of rows per call."""

    def __init__(self, files: dict[str, bytes], text_column: str, added: AddedColumns, threads: int) -> None:
        import torch

        torch.set_num_threads(threads)
        folder = Path(tempfile.mkdtemp(prefix="bertsent-model-"))
        for name, data in files.items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(data)
        self.model = load_model(folder, device=_actor_device()).model
        self.text_column = text_column
        self.added = added

    def __call__(self, block):
        import pyarrow as pa

        values, _ = label_rows(self.model, [(None, row) for row in block.to_pylist()], self.text_column, self.added)
        for name in self.added.names:
            numeric = name == self.added.probability or name in self.added.per_class
            column = pa.array([v[name] for v in values], type=pa.float64() if numeric else pa.string())
            block = block.append_column(name, column)
        return block


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
    worker_threads: int = 2,
    progress: Callable[[LabelProgress], None] | None = None,
) -> LabelResult:
    """Label ``source`` with ``workers`` actors of ``worker_threads`` CPUs each (default: as many
    as the cluster's CPUs allow); ``address`` (or ``RAY_ADDRESS``) names a cluster, else Ray starts
    locally."""
    try:
        import ray
        import ray.data
    except ImportError:
        raise BertsentError("--engine ray needs Ray: pip install 'bertsent[ray]'") from None
    start = time.perf_counter()
    if source == STDIN:
        raise DataError("the Ray engine's workers read the input themselves: give a file, not stdin")
    out = Path(out)
    folder = Path(model_folder)
    plan = make_plan(load_model(folder).model, source, out, text_column, format, input_format, all_probabilities)
    files = {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
    if not ray.is_initialized():
        ray.init(address=address or os.environ.get("RAY_ADDRESS"), log_to_driver=False, include_dashboard=False)
    context = ray.data.DataContext.get_current()
    context.execution_options.preserve_order = True
    context.enable_progress_bars = False  # bertsent draws its own
    logging.getLogger("ray.data").setLevel(logging.WARNING)
    gpus = 1 if ray.cluster_resources().get("GPU", 0) >= 1 else 0
    if workers is None:
        workers = max(1, int(ray.cluster_resources().get("CPU", 1) // worker_threads))
    labelled = _read(ray.data, plan, source).map_batches(
        Labeller,
        fn_constructor_kwargs={
            "files": files,
            "text_column": plan.text_column,
            "added": plan.added,
            "threads": worker_threads,
        },
        batch_size=BATCH_ROWS,
        batch_format="pyarrow",
        concurrency=workers,
        num_cpus=worker_threads,
        num_gpus=gpus,
    )
    rows = bad = 0
    errors: list[str] = []
    error = plan.added.error
    with atomic_open(out) as handle:
        handle.write(plan.writer.header())
        for block in labelled.iter_batches(batch_size=None, batch_format="pyarrow"):
            records = block.to_pylist()
            added_names = set(plan.added.names)
            pairs = [
                ({k: v for k, v in r.items() if k not in added_names}, {n: r[n] for n in plan.added.names})
                for r in records
            ]
            handle.write(plan.writer.rows(pairs))
            failed = [r[error] for r in records if r[error]]
            bad += len(failed)
            errors.extend(failed[: max(0, 5 - len(errors))])
            rows += len(records)
            if progress:
                elapsed = time.perf_counter() - start
                progress(LabelProgress(rows, None, 0, bad, elapsed, rows / elapsed))
    return LabelResult(out, plan.format, rows, bad, 0, time.perf_counter() - start, False, tuple(errors))


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


def _actor_device() -> str:
    import ray

    return "cuda" if ray.get_gpu_ids() else "cpu"
