"""A phone's RSSI offset, common to every source it hears, learnt online per walk.

Phones (and grips, and cases) read all sources a few dB apart from the surveying phone. Model:
the phone hears zⱼ = μⱼ(p) + b + εⱼ with εⱼ ~ N(0, vⱼ) from the radio field and one offset b for
the walk. The tracker keeps a Gaussian belief b ~ N(b̂, τ²):

- each scan is corrected by b̂ before it is matched or weighed (``correct``), and the field's
  likelihood marginalises what is left, b − b̂ ~ N(0, τ²) (``marginal_log_likelihood``):
  with eⱼ = zⱼ − b̂ − μⱼ, a = Σ eⱼ/vⱼ and c = Σ 1/vⱼ,
  log p = Σⱼ[−eⱼ²/2vⱼ − ½ log vⱼ] + a²/2(1/τ² + c) − ½ log(1 + τ²c);
- after the scan has weighed the particles, b's posterior at particle i is
  N(b̂ + aᵢ/(1/τ² + cᵢ), 1/(1/τ² + cᵢ)) (with c and a divided by the scan's source discount: the
  sources of one scan are not independent witnesses); the walk's belief becomes the particles'
  weighted mixture of those, moment-matched, plus a little drift (``RssiOffset.update``).

Far from the truth a particle explains a scan by a wrong offset as readily as by a wrong place,
but the particles near the truth carry the weight once the scans agree, so the belief settles.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from positioning.scans import Fingerprint

Array = NDArray[np.float64]

# Prior spread of a phone's offset against the surveying phone, dB: handsets of different makes
# differ by up to ±10 dB, most within ±5 dB.
PRIOR_SIGMA_DB = 5.0
# The offset may drift (the grip changes, the phone goes into a pocket): variance added per
# scan, dB², and the least uncertainty kept, so the marginalisation never quite switches off.
DRIFT_DB2_PER_SCAN = 0.3**2
MIN_SIGMA_DB = 1.0


def marginal_log_likelihood(quad: Array, log_var: Array, a: Array, c: Array, tau2: float) -> Array:
    """log p(scan | place) with the residual offset b − b̂ ~ N(0, τ²) integrated out.

    ``quad`` = Σ eⱼ²/vⱼ, ``log_var`` = Σ log vⱼ, ``a`` = Σ eⱼ/vⱼ, ``c`` = Σ 1/vⱼ per place.
    τ² = 0 gives the plain Gaussian sum −½(quad + log_var).

    >>> float(marginal_log_likelihood(np.array([4.0]), np.zeros(1), np.array([2.0]),
    ...                               np.array([1.0]), 0.0)[0])
    -2.0
    """
    return (
        -0.5 * (quad + log_var) + 0.5 * tau2 * a * a / (1.0 + tau2 * c) - 0.5 * np.log1p(tau2 * c)
    )


@dataclass
class RssiOffset:
    """The walk's belief about its phone's RSSI offset: N(mean_db, var_db2)."""

    mean_db: float = 0.0
    var_db2: float = PRIOR_SIGMA_DB**2
    scans: int = 0

    def correct(self, fingerprint: Fingerprint) -> Fingerprint:
        """The scan as the surveying phone would have heard it: every level less b̂."""
        if self.mean_db == 0.0:
            return fingerprint
        levels = {s: z - self.mean_db for s, z in fingerprint.rssi_dbm.items()}
        return Fingerprint(fingerprint.t_ms, fingerprint.heard_ms, levels)

    def update(self, a: Array, c: Array, weights: Array, discount: float) -> None:
        """Fold in one scan: ``a``, ``c`` per particle (residuals of the *corrected* scan, see the
        module notes), ``weights`` the particles' weights after the scan, ``discount`` the
        scan's source discount (its sum counts as that many times fewer witnesses)."""
        w = np.asarray(weights, dtype=float)
        total = float(w.sum())
        if total <= 0 or len(a) == 0:
            return
        w = w / total
        precision = 1.0 / self.var_db2 + np.asarray(c) / discount
        shift = (np.asarray(a) / discount) / precision
        mean_shift = float(w @ shift)
        # Moment match of the mixture Σ wᵢ N(b̂ + shiftᵢ, 1/precisionᵢ).
        var = float(w @ (1.0 / precision)) + float(w @ (shift - mean_shift) ** 2)
        self.mean_db += mean_shift
        self.var_db2 = max(var + DRIFT_DB2_PER_SCAN, MIN_SIGMA_DB**2)
        self.scans += 1
