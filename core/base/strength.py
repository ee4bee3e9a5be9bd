"""How strongly each token pushed a prediction, in a few steps: the one rule every view draws with.

Occlusion scores differ in their last bits between CPUs, BLAS builds and thread counts. A colour
or a mark blended continuously from them would differ too, so views never see the float: they
get a signed step, -STEPS..STEPS, which is what the eye (and the legend) can tell apart.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

STEPS = 3  # strength marks ▲ ▲▲ ▲▲▲ (and ▼ ▼▼ ▼▼▼), one colour shade each
NONE_BELOW = 0.15  # share of the sentence's strongest score below which a token shows no effect
MIN_SCALE = 0.02  # a sentence whose tokens all move P(positive) less than this shows little colour


def strength_steps(scores: Sequence[float]) -> list[int]:
    """Signed steps for a sentence's token scores: +STEPS pushed hardest towards positive,
    -STEPS towards negative, 0 little effect.

    Strength is relative to the sentence's strongest score (at least :data:`MIN_SCALE`), cut
    into :data:`STEPS` equal parts; the strongest token is always a full step.
    """
    if not scores:
        return []
    scale = max(max(abs(score) for score in scores), MIN_SCALE)
    return [_step(score, scale) for score in scores]


def _step(score: float, scale: float) -> int:
    strength = abs(score) / scale
    if strength < NONE_BELOW:
        return 0
    step = min(STEPS, math.ceil(STEPS * strength))
    return step if score > 0 else -step
