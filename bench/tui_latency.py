"""Key-press latency of bertsent-tui while it embeds, trains and probes layers (``python -m bench --tui``).

A key event is posted to the app the way a terminal delivers it; the time until the tab it
selects is active is the latency a user feels (rendering the next frame aside).
"""

from __future__ import annotations

import asyncio
import time

import numpy as np
from textual.widgets import Input, Tabs


async def _measure(data: str, limit: int) -> dict:
    from bertsent.tui.app import create_app
    from bertsent.tui.screens.embed import EmbedPane
    from bertsent.tui.screens.inside import InsidePane
    from bertsent.tui.screens.train import TrainPane

    app = create_app(data=data)
    samples: dict[str, list[float]] = {"embed": [], "train": [], "probe": []}
    async with app.run_test(size=(120, 40)) as pilot:
        while app.splits is None:
            await pilot.pause(0.1)
        app.query_one("#embed-limit", Input).value = str(limit)
        starts = {
            "embed": app.query_one(EmbedPane).action_start,
            "train": app.query_one(TrainPane).action_train,
            "probe": app.query_one(InsidePane).action_probe,
        }
        for phase, start in starts.items():
            if phase == "train":
                while app.embedding is None:
                    await pilot.pause(0.1)
            start()
            await pilot.pause(0.2)
            app.query_one(Tabs).focus()
            while any(w.group == phase and w.is_running for w in app.workers):
                for key in ("1", "3" if phase == "embed" else "2"):  # tabs that focus no text field
                    samples[phase].append(await _key_to_tab(app, key))
                    await asyncio.sleep(0.2)
    out = {}
    for phase, values in samples.items():
        ms = 1000 * np.asarray(values)
        out[f"tui_{phase}_keys"] = len(ms)
        out[f"tui_{phase}_key_p95_ms"] = float(np.percentile(ms, 95)) if len(ms) else float("nan")
        out[f"tui_{phase}_key_max_ms"] = float(ms.max()) if len(ms) else float("nan")
    return out


async def _key_to_tab(app, key: str) -> float:
    """Seconds from a key event entering the app's queue to the tab it selects being active."""
    from textual import events
    from textual.widgets import TabbedContent

    tab = {"1": "data", "2": "embed", "3": "train", "4": "predict"}[key]
    if isinstance(app.focused, Input):  # a text field takes digits as text
        app.query_one(Tabs).focus()
        await asyncio.sleep(0.05)
    start = time.perf_counter()
    event = events.Key(key, key)
    event.set_sender(app)
    app._driver.send_message(event)  # as the terminal driver delivers a key
    while app.query_one(TabbedContent).active != tab:
        if time.perf_counter() - start > 5:
            raise RuntimeError(f"key {key!r} did not select the {tab} tab within 5 s")
        await asyncio.sleep(0.002)
    return time.perf_counter() - start


def key_latency(data: str, limit: int = 3000) -> dict:
    """Press tab keys every 0.2 s while embedding ``limit`` sentences per split, training, then probing."""
    return asyncio.run(_measure(data, limit))
