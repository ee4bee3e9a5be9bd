"""The regularization strength C and the solver's tolerance: the grid the C search walks, the
range a user may ask for. Kept apart from ``core.models.classifier`` so the scripts CLI can show them in
``--help`` without importing scikit-learn (about a second here)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DEFAULT_CS = tuple(float(c) for c in np.logspace(-4, 0, 9))
C_RANGE = (1e-6, 1e6)  # a C asked for must lie here: beyond, the fit is all prior or unregularized
# The solver's stopping tolerance. scikit-learn's 1e-4 stops lbfgs early enough that noise in the
# last bits of the vectors (another CPU, another thread count) moves a held-out sentence across
# the boundary at the weakly regularized Cs, and with it the CV curve and the chosen C; at 1e-6
# the fits reach the same optimum from any such start (measured: 6 perturbed copies of SST2's
# first 200 sentences gave two CV curves at 1e-4 and one at 1e-5, 1e-6 and 1e-8).
TOL = 1e-6


@dataclass(frozen=True)
class CVResult:
    """Mean cross-validated accuracy for each C tried."""

    Cs: list[float]
    scores: list[float]
    folds: int
