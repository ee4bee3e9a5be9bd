"""Write SVG screenshots of the five screens, driven through the real app at 120x40.

python -m bertsent.tui.screenshots [--data PATH] [--limit N] [--out docs/screenshots]
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from bertsent.tui.app import create_app
from textual.widgets import Input

SENTENCES = ("a gorgeous , witty , seductive movie", "the plot is dull and the jokes fall flat")


async def shoot(data: str | None, limit: int, out: Path, size: tuple[int, int] = (120, 40)) -> list[Path]:
    app = create_app(data=data)
    app.animation_level = "none"  # the tab underline slides for 0.3 s: a shot could catch it half way
    written: list[Path] = []

    async def settle(pilot) -> None:
        for _ in range(3):
            await pilot.pause()
            await app.workers.wait_for_complete()
        await pilot.pause()

    async def save(pilot, name: str) -> None:
        app.clear_notifications()
        await pilot.pause()
        written.append(Path(app.save_screenshot(f"{name}.svg", path=str(out))))

    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await pilot.press("down", "down")
        await save(pilot, "data")
        await pilot.press("2")
        app.query_one("#embed-limit", Input).value = str(limit)
        await pilot.press("enter")
        await settle(pilot)
        await save(pilot, "embed")
        await pilot.press("3", "enter")
        await settle(pilot)
        await save(pilot, "train")
        await pilot.press("4")
        for sentence in SENTENCES:
            app.query_one("#predict-input", Input).value = sentence
            await pilot.press("enter")
            await settle(pilot)
        await save(pilot, "predict")
        await pilot.press("escape", "5", "ctrl+r")  # leave the text field; the layer probe on the same sentences
        await settle(pilot)
        await save(pilot, "inside-probe")
        await pilot.press("ctrl+e")  # the sentence map with the model just trained
        await settle(pilot)
        await pilot.press("n")  # the first mistake
        await settle(pilot)
        await save(pilot, "inside-map")
        await pilot.press("shift+tab", "right")  # the attention of that sentence
        await settle(pilot)
        await save(pilot, "inside-attention")
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="SST2 folder or file (default: as the app finds it)")
    parser.add_argument("--limit", type=int, default=1000, help="sentences per split to embed (default 1000)")
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for path in asyncio.run(shoot(args.data, args.limit, args.out)):
        print(path)


if __name__ == "__main__":
    main()
