"""Key latency of the Label screen on a 10,000-sentence pool (``python -m bench --label-latency``).

The pool is SST2's and SST-5's distinct sentences (embedded once; the cache keeps them). A
number key is posted to the app the way a terminal delivers it, every 0.15 s while the model
refits and scores tokens in its workers; the latency is the time until the next sentence is
on the card (the label journalled and fsynced, the next sentence chosen), rendering aside.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

import numpy as np

POOL = 10_000
KEYS = 200


def pool_file(folder: Path, sst2: Path, n: int = POOL) -> Path:
    from bertsent.core.data.dataset import load_dataset

    texts: dict[str, None] = {}
    for path in (sst2 / "train.tsv", sst2 / "test.tsv", sst2.parent / "sst5" / "train.csv"):
        if path.is_file():
            texts.update(dict.fromkeys(load_dataset(path).texts))
    chosen = [t.replace("\n", " ") for t in list(texts)[:n]]
    pool = folder / "pool.txt"
    pool.write_text("\n".join(chosen) + "\n", encoding="utf-8")
    return pool


async def _measure(pool: Path, keys: int) -> dict:
    from bertsent.tui.app import create_app
    from textual import events
    from textual.widgets import Input

    app = create_app()
    samples: list[float] = []
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("6")
        app.query_one("#label-pool", Input).value = str(pool)
        app.query_one("#label-classes", Input).value = "negative,positive"
        pane = app.query_one("#label-pane")
        start = time.perf_counter()
        pane.action_open()
        while pane.session is None:
            if time.perf_counter() - start > 3600:
                raise RuntimeError("the pool was not embedded within an hour")
            await asyncio.sleep(0.1)
        opened = time.perf_counter() - start
        for press in range(keys):
            before = pane.current
            key = "1" if press % 2 else "2"
            begin = time.perf_counter()
            event = events.Key(key, key)
            event.set_sender(app)
            app._driver.send_message(event)  # as the terminal driver delivers a key
            while pane.current == before:
                if time.perf_counter() - begin > 5:
                    raise RuntimeError("a label key did not bring the next sentence within 5 s")
                await asyncio.sleep(0.001)
            samples.append(time.perf_counter() - begin)
            await asyncio.sleep(0.15)
        labelled = len(pane.session.labels)
    ms = 1000 * np.asarray(samples)
    return {
        "label_pool": len(pane.session.texts) if pane.session else POOL,
        "label_open_s": opened,
        "label_keys": len(ms),
        "label_labels": labelled,
        "label_key_p50_ms": float(np.percentile(ms, 50)),
        "label_key_p95_ms": float(np.percentile(ms, 95)),
        "label_key_max_ms": float(ms.max()),
    }


def label_latency(sst2: Path, keys: int = KEYS) -> dict:
    """Open a 10,000-sentence pool on the Label screen and time ``keys`` label keys."""
    from bertsent.tui.background import threads_finished

    with tempfile.TemporaryDirectory(prefix="bertsent-label-bench-") as folder:
        result = asyncio.run(_measure(pool_file(Path(folder), sst2), keys))
        # as bertsent-tui does on quitting: the last key's refit and token scores finish in their
        # threads (the interpreter's shutdown beneath a thread inside torch aborts the process)
        threads_finished(within=30)
    return result
