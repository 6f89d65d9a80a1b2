"""Recovery of a lost cloud: how many particles to re-draw from a scan, and how much mass they get.

A particle cloud that locked onto the wrong corridor cannot find the truth again by reweighting
alone: no particle is there to be reweighted. Injection re-draws a few particles from the scan's
own density over the floor (a "kidnap" component of the prior). Two pure pieces here:

- ``RecoveryRate``: Augmented MCL (Thrun, Burgard & Fox, *Probabilistic Robotics*, Table 8.3).
  Short- and long-term averages of how well the cloud explains each scan, w_fast and w_slow;
  the share injected is max(0, 1 − w_fast/w_slow), so a cloud whose scans keep disagreeing
  more than they used to re-seeds, and a cloud that fits keeps its particles.
- ``kidnap_mass``: Bayes for the mixture prior (1 − s)·cloud + s·uniform floor: after the scan,
  the re-drawn part carries s·mean(L over the floor) against the cloud's (1 − s)·Σ wᵢ·Lᵢ, so a
  single scan that disagrees with a fitting cloud buys its place only a little mass, and a
  cloud that lost the truth (every particle on the likelihood's 5 % floor) gives way fast.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

# Where injected particles come from: the radio fix's k-NN candidates (surveyed places only), or
# the scan's density over every floor cell of the GP radio field (unsurveyed places too), at a
# fixed share or with the Augmented-MCL share added.
INJECTIONS = ("candidates", "field", "field+adaptive")
# Running averages of the cloud's agreement with each scan (scans ≈ 2 s apart): w_fast follows
# the last ≈ 2 scans, w_slow the last ≈ 20 (40 s, longer than a wrong-corridor episode lasts),
# α_fast ≫ α_slow as the textbook asks.
ALPHA_FAST = 0.5
ALPHA_SLOW = 0.05
# Cap on the adaptive share: a run of bad scans must not replace the whole cloud (the textbook
# injects up to all of it; here the cloud's walked shape is worth keeping).
MAX_ADAPTIVE_SHARE = 0.3


@dataclass
class RecoveryRate:
    """Augmented MCL's w_slow / w_fast and the share of particles to re-draw."""

    alpha_fast: float = ALPHA_FAST
    alpha_slow: float = ALPHA_SLOW
    cap: float = MAX_ADAPTIVE_SHARE
    w_fast: float = 0.0
    w_slow: float = 0.0
    share: float = 0.0  # the last share returned

    def update(self, agreement: float) -> float:
        """Fold one scan's agreement in; return the share to inject, in [0, cap].

        w_slow += α_slow·(a − w_slow), w_fast += α_fast·(a − w_fast),
        share = max(0, 1 − w_fast / w_slow). Both start at 0 (the textbook's), so early on
        w_fast > w_slow and nothing is injected until the slow average has a history.

        >>> rate = RecoveryRate()
        >>> [round(rate.update(0.4), 2) for _ in range(3)]
        [0.0, 0.0, 0.0]
        """
        self.w_slow += self.alpha_slow * (agreement - self.w_slow)
        self.w_fast += self.alpha_fast * (agreement - self.w_fast)
        ratio = self.w_fast / self.w_slow if self.w_slow > 0.0 else 1.0
        self.share = min(self.cap, max(0.0, 1.0 - ratio))
        return self.share


def agreement(weight: NDArray[np.float64], relative_likelihood: NDArray[np.float64]) -> float:
    """a = Σ wᵢ·Lᵢ / max over the floor of L: how well the cloud explains the scan against the
    best place on the floor (1: the cloud sits there; → 0: nowhere the scan fits).

    The relative likelihood is read against the floor's best, not the particles' best, so a
    cloud that lost the truth scores low even though one of its particles is its own best.
    Scale-free, so the averages are not driven by how many sources a scan heard.
    """
    return float(np.clip(weight @ relative_likelihood, 0.0, 1.0))


def kidnap_mass(
    share: float,
    cloud_agreement: float,
    floor_mean: float,
    outlier_floor: float,
) -> float:
    """Posterior mass q of the re-drawn particles under the prior (1 − s)·cloud + s·uniform.

    Each particle's likelihood is floored like the tracker's, (1 − ε)·Lᵢ + ε, so the cloud's
    evidence is C = (1 − s)·((1 − ε)·a + ε); the kidnap component's is K = s·(1 − ε)·mean L
    over the floor (its outlier part is uniform and not drawn); q = K / (K + C).

    >>> round(kidnap_mass(0.0, 0.1, 0.01, 0.05), 3)
    0.0
    >>> kidnap_mass(0.3, 0.0, 0.01, 0.05) > kidnap_mass(0.3, 0.5, 0.01, 0.05)
    True
    """
    if share <= 0.0:
        return 0.0
    cloud = (1.0 - share) * ((1.0 - outlier_floor) * cloud_agreement + outlier_floor)
    kidnap = share * (1.0 - outlier_floor) * floor_mean
    total = cloud + kidnap
    return kidnap / total if total > 0.0 else 0.0
