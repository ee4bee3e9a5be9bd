"""Token colours come from strength steps: float noise in the scores never reaches the picture."""

from __future__ import annotations

import asyncio

from bertsent.tui.app import create_app
from bertsent.tui.widgets.tokens import TokenLegend, TokenScores

SCORES = [("a", 0.004), ("gorgeous", 0.31), ("witty", 0.1234567), ("dull", -0.2), ("movie", -0.02)]


def styles(text) -> list[tuple[str, object]]:
    return [(text.plain[span.start : span.end], span.style) for span in text.spans]


def test_scores_that_differ_slightly_draw_the_same_picture():
    """CPUs and thread counts change the last bits of scores; here they differ by a whole 1 %."""

    async def scenario() -> None:
        app = create_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("4")
            view = app.query_one(TokenScores)
            view.show(SCORES)
            exact = view.render()
            view.show([(token, score * 1.01 if token != "gorgeous" else score) for token, score in SCORES])
            noisy = view.render()
            assert styles(exact) == styles(noisy)
            assert "gorgeous▲▲▲" in exact.plain and "witty▲▲" in exact.plain and "dull▼▼" in exact.plain
            assert " a " in exact.plain and " movie " in exact.plain  # too weak for a mark

            # The legend shows each step with the very shade a token of that step gets.
            legend = dict(styles(app.query_one(TokenLegend).render()))
            shown = dict(styles(exact))
            assert legend[" ▲▲▲ "] == shown[" gorgeous▲▲▲ "] and legend[" ▼▼ "] == shown[" dull▼▼ "]
            assert legend[" ▲▲ "] != legend[" ▲▲▲ "] != legend[" ▼▼▼ "]

    asyncio.run(scenario())
