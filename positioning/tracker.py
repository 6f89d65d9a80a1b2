"""One shopper's tracker: readings in arrival order in, estimates out, never looking ahead.

Pipeline per reading:
- rotation vector, gyroscope → ``HeadingFilter`` (heading ψ);
- accelerometer → ``StepDetector``; each step moves the particle layer by a Weinberg step
  along ψ (per-particle heading offset and step scale, map constraint) and feeds the EKF;
- Wi-Fi and beacons → ``ScanAssembler`` → ``RadioMap.match`` → radio fix; the particle layer
  is re-weighted by the fix's candidates (lag-corrected to when the scan was heard), and the
  first fix starts the track (no known start point);
- beacons at known positions (``BeaconMap``) → range likelihood on the particle layer.
- no fix for 1.8 s: a prior cloud over the survey, weighed by each beacon advert the radio map
  models until the first fix replaces it (``positioning.prior``).

An estimate is emitted after every step and every radio fix once the track has started; its
``t_ms`` is the latest reading time seen, so it uses no reading later than itself. Randomness
comes from a generator seeded per tracker and is consumed only as readings arrive, so a walk
cut at time T gives the same estimates up to T (truncation invariance).
"""

from __future__ import annotations

import bisect
import math
from collections import Counter
from dataclasses import dataclass

import numpy as np

from positioning import particles as pf
from positioning.axes import HeadingBias
from positioning.beacons import BeaconMap
from positioning.ekf import StepEKF
from positioning.estimate import Estimate
from positioning.heading import HeadingFilter
from positioning.hypotheses import REPORT_MIN_MASS, PathEvidence, median_of_hypotheses
from positioning.injection import INJECTIONS, RecoveryRate, agreement, kidnap_mass
from positioning.magnetic import FieldWindow, MagneticMap
from positioning.prior import (
    HANDOVER_FRESH_SHARE,
    advert_log_likelihood,
    hand_over,
    walkable_prior,
)
from positioning.radiofield import RadioField
from positioning.radiomap import RadioFix, RadioMap
from positioning.readings import (
    AccelReading,
    BeaconReading,
    GyroReading,
    MagReading,
    Reading,
    RotationVectorReading,
    WifiReading,
)
from positioning.rssi_offset import RssiOffset
from positioning.scans import Fingerprint, ScanAssembler
from positioning.steps import DEFAULT_WEINBERG_K, StepDetector, StepEvent, weinberg_length
from positioning.tempering import FIXED, Tempering, fit_tempering
from positioning.walkable import WalkableGrid

# Displacement history kept for lag-correcting late Wi-Fi observations (≈ 30 s of steps).
LAG_HISTORY_STEPS = 64
# Power on the radio likelihood: scans 2 s apart err alike (the same survey gap, the same
# crowd), so each is worth about half an independent observation.
RADIO_POWER = 0.5
# Added in quadrature to the particle spread for the reported accuracy, m: what the particles
# cannot see — a radio map biased where the survey was thin, a plan that is not the real floor.
# Set so that the claimed 1σ radius holds the truth about 2/3 of the time on the recordings.
ACCURACY_FLOOR_M = 3.0
# Spread of a known start (PDR-only runs), m.
KNOWN_START_SIGMA_M = 0.5
# The EKF takes the particle layer's position as a measurement only while the layer has one
# dominant hypothesis, i.e. all particles within this RMS radius.
EKF_UNIMODAL_SPREAD_M = 6.0
# No radio fix this long after the first reading: start from the prior instead — every surveyed
# place equally likely — and let the floor plan and the steps narrow it down (honestly large
# accuracy until then). Phones deliver the first Wi-Fi scan 1.5–2.5 s in; a shopper must have
# an estimate from 2 s on, so the prior starts a little before.
PRIOR_START_MS = 1800


RADIO_LIKELIHOODS = (
    "projected+model",
    "knn+model",
    "knn",
    "model",
    "fix",
    "kernel",
    "projected+gp",
    "gp",
    "projected+fitted",
)
# Where the first fix seeds the particles: around the k-NN fix's candidates (surveyed places
# only), or over every floor cell of the GP radio field in proportion to the scan's likelihood
# there ("field"; places no survey walked included).
FIRST_FIXES = ("candidates", "field")
# Spread of a field seed around its cell centre, m: half the field's cell.
FIELD_SEED_SIGMA_M = 1.0
# What the estimate's heading is: the gyro-steadied phone heading or the rotation vector's own,
# each as is or with the walk's heading bias against the plan's axes removed (``axes``).
HEADING_REPORTS = ("filtered", "rotation-vector", "filtered+axes", "rotation-vector+axes")
# Which point the estimate reports: the heaviest cluster; the one whose particles' recent paths
# fit the radio and the walls best (``hypotheses.PathEvidence``); the whole cloud's weighted
# geometric median ("median": the Bayes estimate under absolute-error loss, argmin_m E|p − m|,
# hedging between modes by their weight); or the geometric median of the clusters holding
# ≥ REPORT_MIN_MASS each ("median-clusters": the same, stray particles left out).
REPORTS = ("heaviest", "evidence", "median", "median-clusters")
# What the cloud is before any radio fix: every surveyed place, all walkable floor, or every
# surveyed place weighed by each beacon advert heard meanwhile (``prior.advert_log_likelihood``).
PRIORS = ("survey", "walkable", "survey+adverts")
# What the first fix does to a prior cloud: replace it, or weigh it and mix in fresh draws.
HANDOVERS = ("replace", "reweight")
# How the "projected" likelihoods are tempered: the hand-set powers, or fitted per map from its
# survey by held-out log score of single scans or of consecutive scan pairs
# (``positioning.tempering``).
TEMPERINGS = ("fixed", "fitted", "fitted-pairs")
# The radio field's mean: log-distance per source, or with a loss per floor-plan wall the ray
# crosses (``positioning.walls``, the multi-wall model).
RADIO_MEANS = ("log-distance", "multi-wall")
# The phone's RSSI offset against the survey: ignored, or learnt online per walk and
# marginalised in the field's likelihood (``positioning.rssi_offset``).
RSSI_OFFSETS = ("none", "online")
# What the estimate does between steps: hold the last step's place (a step is reported when it
# ends, so the held place lags the walker by ~0.4 m at a random instant), or move on along the
# last step at its pace ("extrapolate"), reported every BETWEEN_STEPS_EVERY_MS.
BETWEEN_STEPS = ("hold", "extrapolate")
# Between steps an estimate is emitted at most this often, ms (10 Hz: a tenth of a step's move).
BETWEEN_STEPS_EVERY_MS = 100
# The prior of a new particle's heading offset δ: N(0, 10°), or that mixed with a few particles
# far askew (±30, ±60, ±90°; ``particles.new_cloud``) that the walls and the radio can promote
# when the phone is held sideways.
OFFSET_PRIORS = ("normal", "mixture")
# The step scale's random walk: the same every step, or wider over the first leg
# (``particles.EARLY_SCALE_STEPS``) while the walk's own stride is being learnt.
SCALE_DRIFTS = ("constant", "early")
# Whether each second's mean magnetic field strength weighs the particles against the survey's
# magnetic map (``positioning.magnetic``; needs ``Tracker(magnetic_map=)``).
MAGNETICS = ("off", "total")


@dataclass(frozen=True)
class TrackerSettings:
    """How a tracker runs; defaults are the product's."""

    particles: int = pf.PARTICLES
    seed: int = 0
    weinberg_k: float = DEFAULT_WEINBERG_K
    use_radio: bool = True
    start_xy: tuple[float, float] | None = None  # a known start (benchmark PDR-only runs)
    output: str = "particles"  # "particles" (heaviest cluster) or "ekf" (filterpy EKF state)
    radio_likelihood: str = "projected+gp"  # or any of RADIO_LIKELIHOODS (_radio_likelihood)
    heading_report: str = "rotation-vector+axes"  # any of HEADING_REPORTS (_heading_rad)
    motion_heading: str = "filtered"  # the heading steps move the particles along, likewise
    report: str = "heaviest"  # any of REPORTS
    prior: str = "survey+adverts"  # any of PRIORS
    handover: str = "replace"  # any of HANDOVERS
    first_fix: str = "field"  # any of FIRST_FIXES (_first_seeds)
    tempering: str = "fixed"  # any of TEMPERINGS
    radio_mean: str = "log-distance"  # any of RADIO_MEANS
    rssi_offset: str = "online"  # any of RSSI_OFFSETS (session 4: online is the default)
    magnetic: str = "off"  # any of MAGNETICS
    between_steps: str = "hold"  # any of BETWEEN_STEPS (_between_steps)
    # Power on the magnetic likelihood: consecutive windows share the walk's calibration offset
    # and the same survey gap, so each is worth less than an independent observation.
    magnetic_power: float = 0.5
    injection: str = "candidates"  # any of INJECTIONS (_kidnap_draws)
    offset_prior: str = "normal"  # any of OFFSET_PRIORS (particles.new_cloud)
    scale_drift: str = "constant"  # any of SCALE_DRIFTS (particles.propagate_step)
    # A particle's weight times this for a step off walkable floor (particles.propagate_step);
    # 0.0 drops it (the hard plan).
    wall_floor: float = pf.WALL_FLOOR_DEFAULT


class Tracker:
    """One shopper: ``push(reading) -> list[Estimate]`` in arrival order."""

    def __init__(
        self,
        radio_map: RadioMap | None = None,
        grid: WalkableGrid | None = None,
        beacon_map: BeaconMap | None = None,
        settings: TrackerSettings = TrackerSettings(),
        radio_field: RadioField | None = None,
        tempering: Tempering | None = None,
        magnetic_map: MagneticMap | None = None,
    ) -> None:
        """``radio_field``: the map's GP field for the "gp" likelihoods (built here if None;
        pass one to share it between the shoppers of a store); ``tempering``: the map's fitted
        tempering for ``tempering="fitted"`` (fitted here if None; share it likewise);
        ``magnetic_map``: the survey's magnetic map, required by ``magnetic="total"``."""
        if settings.output not in ("particles", "ekf"):
            raise ValueError(f"output must be 'particles' or 'ekf', not {settings.output!r}")
        if settings.radio_likelihood not in RADIO_LIKELIHOODS:
            choice = settings.radio_likelihood
            raise ValueError(f"radio_likelihood must be one of {RADIO_LIKELIHOODS}, not {choice!r}")
        if settings.heading_report not in HEADING_REPORTS:
            choice = settings.heading_report
            raise ValueError(f"heading_report must be one of {HEADING_REPORTS}, not {choice!r}")
        if settings.first_fix not in FIRST_FIXES:
            choice = settings.first_fix
            raise ValueError(f"first_fix must be one of {FIRST_FIXES}, not {choice!r}")
        if settings.motion_heading not in HEADING_REPORTS:
            choice = settings.motion_heading
            raise ValueError(f"motion_heading must be one of {HEADING_REPORTS}, not {choice!r}")
        for name, value, choices in (
            ("report", settings.report, REPORTS),
            ("prior", settings.prior, PRIORS),
            ("handover", settings.handover, HANDOVERS),
            ("tempering", settings.tempering, TEMPERINGS),
            ("radio_mean", settings.radio_mean, RADIO_MEANS),
            ("rssi_offset", settings.rssi_offset, RSSI_OFFSETS),
            ("magnetic", settings.magnetic, MAGNETICS),
            ("injection", settings.injection, INJECTIONS),
            ("between_steps", settings.between_steps, BETWEEN_STEPS),
            ("offset_prior", settings.offset_prior, OFFSET_PRIORS),
            ("scale_drift", settings.scale_drift, SCALE_DRIFTS),
        ):
            if value not in choices:
                raise ValueError(f"{name} must be one of {choices}, not {value!r}")
        if not 0.0 <= settings.wall_floor < 1.0:
            raise ValueError(
                f"wall_floor must be in [0, 1), not {settings.wall_floor!r}: it is the weight a "
                "step through a wall keeps (0 drops the particle; 1 would ignore the plan)"
            )
        if settings.magnetic != "off" and magnetic_map is None:
            raise ValueError(f"magnetic={settings.magnetic!r} needs a magnetic_map")
        self.radio_map = radio_map
        self.grid = grid
        self.magnetic_map = magnetic_map if settings.magnetic != "off" else None
        self._field_window = FieldWindow() if self.magnetic_map is not None else None
        self.beacon_map = beacon_map
        self.settings = settings
        if (
            radio_field is None
            and radio_map is not None
            and (
                settings.radio_likelihood.endswith(("gp", "fitted"))
                or settings.first_fix == "field"
                or settings.injection.startswith("field")
            )
        ):
            radio_field = RadioField(radio_map, grid, walls=settings.radio_mean == "multi-wall")
        self.radio_field = radio_field
        fitted = settings.tempering.startswith("fitted")
        if fitted and tempering is None and radio_map is not None:
            tempering = fit_tempering(radio_map, grid, pairs=settings.tempering == "fitted-pairs")
        self.tempering = tempering if fitted and tempering else FIXED
        self.skipped: Counter[str] = Counter()
        self.fixes: list[RadioFix] = []
        self._rng = np.random.default_rng(settings.seed)
        self._heading = HeadingFilter()
        axes = grid.axes_rad if grid is not None else np.zeros(0)
        self._bias = {"filtered": HeadingBias(axes), "rotation-vector": HeadingBias(axes)}
        self._steps = StepDetector()
        ignored = radio_map.ignored_ids if radio_map is not None else frozenset()
        self._assembler = ScanAssembler(ignored)
        self._cloud: pf.ParticleCloud | None = None
        self._ekf = StepEKF()
        self._now_ms: int | None = None
        self._last_ms: dict[type, int] = {}
        self._lag_t: list[int] = []
        self._lag_xy: list[tuple[float, float]] = []
        self._first_ms: int | None = None
        self._from_prior = False
        self._evidence = PathEvidence()
        # Beacon adverts heard before the prior cloud starts (the first PRIOR_START_MS).
        self._early_adverts: list[BeaconReading] = []
        self.rssi_offset = RssiOffset()
        self.recovery = RecoveryRate()
        # Each field cell's nearest survey reference (for the projected k-NN mixture), once.
        self._cell_references: tuple[np.ndarray, np.ndarray] | None = None
        # For ``between_steps="extrapolate"``: the last event's (step's, fix's) estimate, the
        # last step's (t_ms, interval_ms, mean dx, mean dy), the last in-between emission.
        self._last_estimate: Estimate | None = None
        self._last_step: tuple[int, int, float, float] | None = None
        self._last_between_ms = -(2**62)

    @property
    def _wide_offsets(self) -> bool:
        return self.settings.offset_prior == "mixture"

    @property
    def started(self) -> bool:
        return self._cloud is not None

    def push(self, reading: Reading) -> list[Estimate]:
        """Take one reading (arrival order); return the estimates it produced."""
        if not _is_finite(reading):
            self.skipped["non-finite value"] += 1
            return []
        kind = type(reading)
        if not isinstance(reading, WifiReading | BeaconReading):
            last = self._last_ms.get(kind)
            if last is not None and reading.t_ms < last:
                self.skipped["sensor sample out of order"] += 1
                return []
            self._last_ms[kind] = reading.t_ms
        self._now_ms = reading.t_ms if self._now_ms is None else max(self._now_ms, reading.t_ms)
        if self._first_ms is None:
            self._first_ms = reading.t_ms
        out: list[Estimate] = []
        if self.settings.use_radio and self.radio_map is not None:
            for heard in self._assembler.push(reading):
                fingerprint = self._corrected(heard)
                fix = self.radio_map.match(fingerprint)
                if fix is not None:
                    self.fixes.append(fix)
                    out += self._on_fix(fix, fingerprint)
        if self._field_window is not None:
            self._field_window.push(reading)
        if isinstance(reading, RotationVectorReading):
            self._heading.on_rotation_vector(reading.t_ms, reading.x, reading.y, reading.z)
        elif isinstance(reading, GyroReading):
            self._heading.on_gyro(reading.t_ms, reading.x, reading.y, reading.z)
        elif isinstance(reading, AccelReading):
            step = self._steps.push(reading.t_ms, reading.x, reading.y, reading.z)
            if step is not None:
                out += self._on_step(step)
        elif isinstance(reading, BeaconReading) and self.settings.use_radio:
            self._on_beacon(reading)
        if self._cloud is None and self._start_from_prior(self._now_ms):
            out.append(self._estimate())
        if out:
            self._last_estimate = out[-1]
        elif self.settings.between_steps == "extrapolate":
            out = self._between_steps(self._now_ms)
        return out

    # -- events ---------------------------------------------------------------------------

    def _on_step(self, step: StepEvent) -> list[Estimate]:
        if self._heading.heading_rad is None:
            return []
        for source, bias in self._bias.items():
            bias.on_step(self._phone_heading_rad(source))
        heading = self._heading_rad(self.settings.motion_heading)
        if self._cloud is None and self.settings.start_xy is not None:
            self._start_at(self.settings.start_xy)
        length = weinberg_length(step.weinberg_feature, self.settings.weinberg_k)
        if self._cloud is None:
            # No track yet, but the first fix will date from before now: keep the walked
            # displacement (plain PDR, no offset) to move its candidates up to the present.
            self._record_lag(step.t_ms, length * math.cos(heading), length * math.sin(heading))
            return []
        x0, y0, alive = self._cloud.x, self._cloud.y, self._cloud.weight > 0
        mean_dx, mean_dy = pf.propagate_step(
            self._cloud,
            length,
            heading,
            self.grid,
            self._rng,
            early_scale=self.settings.scale_drift == "early",
            wall_floor=self.settings.wall_floor,
        )
        if self._wide_offsets:
            pf.settle_wide_offsets(self._cloud, self.grid, self._rng)
        if self.settings.report == "evidence":
            self._evidence.on_step(self._cloud, x0, y0, alive, self._now_ms or step.t_ms)
        self._record_lag(step.t_ms, mean_dx, mean_dy)
        self._last_step = (step.t_ms, step.interval_ms, mean_dx, mean_dy)
        self._weigh_by_field()
        pf.resample(self._cloud, self.grid, self._rng)
        self._ekf.predict_step(length, heading)
        return [self._estimate()]

    def _on_fix(self, fix: RadioFix, fingerprint: Fingerprint) -> list[Estimate]:
        if self._cloud is None or self._from_prior:
            # The first fix starts the track; a cloud spread from the prior gives way to it.
            # The candidates are where the phone was when it heard the scan (up to 15 s ago for
            # a first scan); move them by the displacement walked since.
            lag_x, lag_y = self._lag_since(fix.heard_ms)
            n = self.settings.particles
            handing_over = self._from_prior and self.settings.handover == "reweight"
            centres, weights, sigma = self._first_seeds(fix, fingerprint)
            xy = pf.sample_around(
                centres + np.array([lag_x, lag_y]),
                weights,
                round(HANDOVER_FRESH_SHARE * n) if handing_over else n,
                sigma,
                self.grid,
                self._rng,
            )
            if handing_over and self._cloud is not None:
                cloud = self._cloud
                heard_x, heard_y = cloud.x - lag_x, cloud.y - lag_y
                likelihood = self._radio_likelihood(fix, fingerprint, heard_x, heard_y)
                self._cloud = hand_over(cloud, likelihood, xy, self._rng)
            else:
                self._cloud = pf.new_cloud(
                    xy, n, self._rng, pf.INIT_HEADING_OFFSET_SIGMA_DEG, self._wide_offsets
                )
            self._learn_offset(fingerprint, self._cloud.x - lag_x, self._cloud.y - lag_y)
            self._from_prior = False
            x, y, spread = pf.cluster_estimate(self._cloud)
            self._ekf.reset(x, y, spread)
            return [self._estimate()]
        lag_x, lag_y = self._lag_since(fix.heard_ms)
        heard_x, heard_y = self._cloud.x - lag_x, self._cloud.y - lag_y
        # Read before the scan weighs the cloud: the kidnap mass is Bayes against the prior.
        kidnap = self._kidnap_draws(fix, fingerprint, heard_x, heard_y)
        likelihood = self._radio_likelihood(fix, fingerprint, heard_x, heard_y)
        pf.reweight(self._cloud, likelihood)
        self._learn_offset(fingerprint, heard_x, heard_y)
        if self.settings.report == "evidence":
            self._evidence.on_fix(self._cloud, likelihood, self._now_ms or fix.t_ms)
        if kidnap is None:
            pf.inject(
                self._cloud,
                fix.candidates_xy,
                fix.candidate_weights,
                pf.INJECTION_SHARE,
                self.grid,
                self._rng,
            )
        else:
            # Drawn over the field's cells where the phone was when it heard the scan, moved
            # up to now by the displacement walked since (like the first fix's seeds).
            density, share, mass = kidnap
            assert self.radio_field is not None
            pf.inject(
                self._cloud,
                self.radio_field.cells_xy + np.array([lag_x, lag_y]),
                density,
                share,
                self.grid,
                self._rng,
                sigma_m=FIELD_SEED_SIGMA_M,
                mass=mass,
            )
        pf.resample(self._cloud, self.grid, self._rng)
        x, y, spread = pf.cluster_estimate(self._cloud)
        if spread <= EKF_UNIMODAL_SPREAD_M:
            self._ekf.update_position(x, y, max(spread, 1.0))
        return [self._estimate()]

    def _first_seeds(
        self, fix: RadioFix, fingerprint: Fingerprint
    ) -> tuple[np.ndarray, np.ndarray, float]:
        """(centres, weights, σ m) the first cloud is drawn from (FIRST_FIXES).

        "field": every floor cell of the radio field, weighted by the scan's likelihood there —
        the field's, times the candidates' mixture read at the reference nearest the cell for
        the "projected" likelihoods, tempered like a scan (``self.tempering``) — without the
        outlier floors, which over thousands of cells would spread most of the cloud uniformly.
        """
        log_l = (
            self._field_log_density(fix, fingerprint)
            if self.settings.first_fix == "field"
            else None
        )
        if log_l is None or self.radio_field is None:
            return fix.candidates_xy, fix.candidate_weights, pf.INIT_POSITION_SIGMA_M
        weights = np.exp(log_l - log_l.max())
        return self.radio_field.cells_xy, weights / weights.sum(), FIELD_SEED_SIGMA_M

    def _field_log_density(self, fix: RadioFix, fingerprint: Fingerprint) -> np.ndarray | None:
        """log of the scan's likelihood at every floor cell of the radio field, up to a constant
        (None without a field, or when it knows too few of the scan's sources): the field's,
        times the candidates' mixture read at the reference nearest the cell for the
        "projected" likelihoods, tempered like a scan (``self.tempering``), without the
        outlier floors. What the first fix seeds from and the field injection draws from."""
        field = self.radio_field
        if field is None or self.radio_map is None:
            return None
        kind = self.settings.radio_likelihood
        cells = field.cells_xy
        log_l = field.log_likelihood(
            fingerprint,
            cells[:, 0],
            cells[:, 1],
            kind.endswith("gp"),
            self._discount,
            self._offset_var_db2,
        )
        if log_l is None or not kind.startswith("projected"):
            return log_l
        if self._cell_references is None:
            self._cell_references = self.radio_map.nearest_reference(cells[:, 0], cells[:, 1])
        x, y = self._cell_references
        d2 = (x[:, None] - fix.candidates_xy[None, :, 0]) ** 2 + (
            y[:, None] - fix.candidates_xy[None, :, 1]
        ) ** 2
        mixture = np.exp(-0.5 * d2 / pf.RADIO_KERNEL_M**2) @ fix.candidate_weights
        t = self.tempering
        return t.knn_power * np.log(np.maximum(mixture, 1e-300)) + t.field_power * log_l

    def _kidnap_draws(
        self, fix: RadioFix, fingerprint: Fingerprint, heard_x: np.ndarray, heard_y: np.ndarray
    ) -> tuple[np.ndarray, float, float] | None:
        """(density over the field's cells, share of particles, their posterior mass) for the
        "field" injections, read at the cloud as it was before this scan weighed it; None for
        "candidates" or when the field cannot read the scan (then the candidates are used).

        The share is ``pf.INJECTION_SHARE``, plus Augmented MCL's 1 − w_fast/w_slow (≤ 30 %) for
        "field+adaptive"; the mass is Bayes for the mixture prior (``injection.kidnap_mass``).
        Agreement uses the tempered likelihood (power ½, the source discount) that weighs the
        cloud: the untempered one swings by orders of magnitude between scans that err alike,
        so its averages would follow single scans, not the cloud's fit.
        """
        if not self.settings.injection.startswith("field") or self.radio_field is None:
            return None
        assert self._cloud is not None
        log_d = self._field_log_density(fix, fingerprint)
        if log_d is None:
            return None
        relative = np.exp(log_d - log_d.max())
        at_cloud = relative[self.radio_field.cell_of(heard_x, heard_y)]
        fit = agreement(self._cloud.weight, at_cloud)
        share = pf.INJECTION_SHARE
        if self.settings.injection == "field+adaptive":
            share += self.recovery.update(fit)
        floor_mean = float(relative.mean())
        mass = kidnap_mass(share, fit, floor_mean, pf.RADIO_OUTLIER_FLOOR)
        return relative / relative.sum(), share, mass

    def _radio_likelihood(
        self, fix: RadioFix, fingerprint: Fingerprint, x: np.ndarray, y: np.ndarray
    ) -> np.ndarray:
        """p(scan | phone was at (x, y) when it heard it), heavy-tailed, by the chosen model.

        ``knn``: Gaussian mixture over the k-NN candidates; ``fix``: one Gaussian at the fix;
        ``model``: per-source propagation model; ``kernel``: per-source kernel-smoothed map;
        ``knn+model``: the product of the first and the third — sharp where the survey passed,
        still informative where it did not; ``projected+model``: the same, but the
        mixture is read at the reference nearest each particle. A k-NN fix can only land on
        surveyed places, so from an aisle no survey walked it lands on the survey nearest it:
        p(fix | p) = p(fix | nearest reference to p). Read at p itself, the mixture would call
        every unsurveyed aisle unlikely and pull the cloud onto surveyed paths.
        ``projected+gp`` (default): ``projected+model`` with the GP radio field
        (``positioning.radiofield``) in place of the propagation model; ``gp``: the field alone;
        ``projected+fitted``: the field's fitted propagation models without the GP residual.
        """
        kind = self.settings.radio_likelihood
        if kind.startswith("projected") and self.radio_map is not None:
            # A k-NN fix lands on surveyed places only: weigh each particle by the candidates'
            # mixture at the reference nearest it, where a scan from there would be matched.
            x_knn, y_knn = self.radio_map.nearest_reference(x, y)
        else:
            x_knn, y_knn = x, y
        knn = pf.radio_likelihood(
            x_knn, y_knn, fix.candidates_xy, fix.candidate_weights, pf.RADIO_KERNEL_M
        )
        if kind == "knn" or self.radio_map is None:
            return knn
        if kind == "fix":
            sigma = fix.sigma_m * pf.FIX_SIGMA_SCALE
            return pf.radio_likelihood(x, y, np.array([[fix.x, fix.y]]), np.ones(1), sigma)
        if kind == "kernel":
            log_l = self.radio_map.log_likelihood(fingerprint, x, y)
            return knn if log_l is None else pf.tempered(log_l)
        if kind.endswith(("gp", "fitted")) and self.radio_field is not None:
            residual = kind.endswith("gp")
            log_l = self.radio_field.log_likelihood(
                fingerprint, x, y, residual, self._discount, self._offset_var_db2
            )
        else:
            log_l = self.radio_map.model_log_likelihood(fingerprint, x, y)
        if log_l is None:
            return knn
        if kind in ("model", "gp"):
            return pf.tempered(log_l)
        t = self.tempering
        return pf.tempered(t.knn_power * np.log(knn) + t.field_power * np.log(pf.tempered(log_l)))

    @property
    def _offset_var_db2(self) -> float:
        """τ² of the phone's offset left after correcting a scan by b̂ (0: not modelled)."""
        return self.rssi_offset.var_db2 if self.settings.rssi_offset == "online" else 0.0

    def _corrected(self, fingerprint: Fingerprint) -> Fingerprint:
        """The scan less the walk's learnt RSSI offset (as is without ``rssi_offset``)."""
        if self.settings.rssi_offset != "online":
            return fingerprint
        return self.rssi_offset.correct(fingerprint)

    def _learn_offset(self, fingerprint: Fingerprint, x: np.ndarray, y: np.ndarray) -> None:
        """Fold the scan, as weighed at the particles' places (x, y), into the offset belief."""
        if self.settings.rssi_offset != "online" or self.radio_field is None:
            return
        assert self._cloud is not None
        residual = self.settings.radio_likelihood.endswith("gp")
        evidence = self.radio_field.offset_evidence(fingerprint, x, y, residual)
        if evidence is not None:
            a, c, discount = evidence
            self.rssi_offset.update(a, c, self._cloud.weight, discount)

    @property
    def _discount(self) -> float:
        """The source discount γ of the field's likelihood (``positioning.tempering``)."""
        return self.tempering.source_discount

    def _on_beacon(self, reading: BeaconReading) -> None:
        if self.settings.prior == "survey+adverts":
            if self._from_prior:
                self._weigh_prior_by_advert(reading)
            elif self._cloud is None and self.radio_map is not None:
                # Weighs the prior cloud once it exists (PRIOR_START_MS in, so few are kept).
                self._early_adverts.append(reading)
        if self.beacon_map is None or reading.beacon_id not in self.beacon_map:
            return
        if self._cloud is None:
            bx, by, tx = self.beacon_map.beacons[reading.beacon_id]
            r = self.beacon_map.model.range_m(tx, reading.rssi_dbm)
            centre = np.array([[bx, by]])
            n = self.settings.particles
            xy = pf.sample_around(centre, np.ones(1), n, max(2.0, r), self.grid, self._rng)
            self._cloud = pf.new_cloud(
                xy, n, self._rng, pf.INIT_HEADING_OFFSET_SIGMA_DEG, self._wide_offsets
            )
            self._ekf.reset(bx, by, max(2.0, r))
            return
        log_l = self.beacon_map.log_likelihood(
            reading.beacon_id, reading.rssi_dbm, self._cloud.x, self._cloud.y
        )
        pf.reweight(
            self._cloud,
            np.exp(log_l - log_l.max()) * (1 - pf.RADIO_OUTLIER_FLOOR) + pf.RADIO_OUTLIER_FLOOR,
        )
        pf.resample(self._cloud, self.grid, self._rng)

    # -- helpers --------------------------------------------------------------------------

    def _phone_heading_rad(self, source: str) -> float:
        """The phone's heading from ``source``: "filtered" (gyro-steadied) or "rotation-vector"."""
        if source == "rotation-vector" and self._heading.measured_rad is not None:
            return self._heading.measured_rad
        return self._heading.heading_rad or 0.0

    def _heading_rad(self, kind: str) -> float:
        """A heading of HEADING_REPORTS: the source's, less the walk's bias against the plan's
        axes for the "+axes" kinds."""
        source, _, axes = kind.partition("+")
        heading = self._phone_heading_rad(source)
        return self._bias[source].corrected(heading) if axes else heading

    def _between_steps(self, t_ms: int) -> list[Estimate]:
        """The last event's estimate moved on along the last step at its pace, every
        BETWEEN_STEPS_EVERY_MS (none before the track starts or its first step, or while the
        cloud is the prior).

        p(t) = p_k + min(1, (t − t_k)/Δt_k)·d_k, with p_k the last step's or later fix's
        estimate (the cloud's place as of step k), d_k the cloud's mean move on step k and Δt_k
        its interval: the walker is that far into the next step. Capped at one step, so a
        shopper who stops is over-run by at most a step until the next one is reported.
        """
        base, step = self._last_estimate, self._last_step
        if base is None or step is None or self._from_prior or self._cloud is None:
            return []
        if t_ms - max(base.t_ms, self._last_between_ms) < BETWEEN_STEPS_EVERY_MS:
            return []
        step_ms, interval_ms, dx, dy = step
        ahead = min(1.0, max(0.0, (t_ms - step_ms) / max(interval_ms, 1)))
        x, y = base.x + ahead * dx, base.y + ahead * dy
        if self.grid is not None and not self.grid.is_free(np.array([x]), np.array([y]))[0]:
            x, y = base.x, base.y  # the move would leave the floor: hold
        heading_deg = math.degrees(self._heading_rad(self.settings.heading_report)) % 360.0
        self._last_between_ms = t_ms
        return [Estimate(t_ms, x, y, heading_deg, base.accuracy_m)]

    def _start_at(self, xy: tuple[float, float]) -> None:
        n = self.settings.particles
        x = xy[0] + self._rng.normal(0.0, KNOWN_START_SIGMA_M, n)
        y = xy[1] + self._rng.normal(0.0, KNOWN_START_SIGMA_M, n)
        self._cloud = pf.new_cloud(
            (x, y), n, self._rng, pf.INIT_HEADING_OFFSET_SIGMA_DEG, self._wide_offsets
        )
        self._ekf.reset(xy[0], xy[1], KNOWN_START_SIGMA_M)

    def _weigh_by_field(self) -> None:
        """The last completed magnetometer window weighs the particles where they were then
        (moved back by the displacement walked since its mid-time), tempered and floored like a
        scan so it can never kill the truth alone."""
        if self._field_window is None or self._cloud is None or self.magnetic_map is None:
            return
        ready = self._field_window.take()
        if ready is None:
            return
        t_ms, value = ready
        lag_x, lag_y = self._lag_since(t_ms)
        log_l = self.magnetic_map.log_likelihood(
            value, self._cloud.x - lag_x, self._cloud.y - lag_y
        )
        pf.reweight(self._cloud, pf.tempered(self.settings.magnetic_power * log_l))

    def _weigh_prior_by_advert(self, reading: BeaconReading) -> None:
        """A beacon advert heard before any fix re-weighs the prior cloud (tempered as a scan)."""
        assert self._cloud is not None
        assert self.radio_map is not None
        log_l = advert_log_likelihood(
            self.radio_map, reading.beacon_id, reading.rssi_dbm, self._cloud.x, self._cloud.y
        )
        if log_l is None:
            return
        pf.reweight(self._cloud, pf.tempered(RADIO_POWER * log_l))
        pf.resample(self._cloud, self.grid, self._rng)

    def _start_from_prior(self, t_ms: int) -> bool:
        """Without a fix for PRIOR_START_MS: every surveyed place is a hypothesis."""
        if (
            not self.settings.use_radio
            or self.radio_map is None
            or len(self.radio_map) == 0
            or self._first_ms is None
            or t_ms - self._first_ms < PRIOR_START_MS
        ):
            return False
        n = self.settings.particles
        if self.settings.prior == "walkable" and self.grid is not None:
            xy = walkable_prior(self.grid, n, self._rng)
        else:
            places = self.radio_map.positions
            weights = np.full(len(places), 1.0 / len(places))
            xy = pf.sample_around(
                places, weights, n, pf.INIT_POSITION_SIGMA_M, self.grid, self._rng
            )
        self._cloud = pf.new_cloud(
            xy, n, self._rng, pf.INIT_HEADING_OFFSET_SIGMA_DEG, self._wide_offsets
        )
        self._from_prior = True
        for advert in self._early_adverts:
            self._weigh_prior_by_advert(advert)
        self._early_adverts.clear()
        x, y, spread = pf.cluster_estimate(self._cloud)
        self._ekf.reset(x, y, spread)
        return True

    def _record_lag(self, t_ms: int, dx: float, dy: float) -> None:
        last = self._lag_xy[-1] if self._lag_xy else (0.0, 0.0)
        self._lag_t.append(t_ms)
        self._lag_xy.append((last[0] + dx, last[1] + dy))
        if len(self._lag_t) > LAG_HISTORY_STEPS:
            del self._lag_t[0], self._lag_xy[0]

    def _lag_since(self, t_ms: int) -> tuple[float, float]:
        """Mean displacement walked since ``t_ms`` (0 if no step since)."""
        if not self._lag_t:
            return 0.0, 0.0
        i = bisect.bisect_right(self._lag_t, t_ms)
        now = self._lag_xy[-1]
        if i > 0:
            then = self._lag_xy[i - 1]
        elif len(self._lag_t) < LAG_HISTORY_STEPS:
            then = (0.0, 0.0)  # before the first step
        else:
            then = self._lag_xy[0]  # older than the history: the oldest we kept
        return now[0] - then[0], now[1] - then[1]

    def _estimate(self) -> Estimate:
        assert self._cloud is not None
        assert self._now_ms is not None
        x, y, spread = pf.cluster_estimate(self._cloud)
        if self.settings.report == "evidence" and not self._from_prior:
            chosen = self._evidence.choose(self._cloud)
            if chosen is not None:
                x, y = chosen.x, chosen.y
                spread = pf.rms_distance(self._cloud, x, y)
        elif self.settings.report == "median" and not self._from_prior:
            # Weiszfeld warm-started at the heaviest cluster's mean: where it ends when one
            # hypothesis holds nearly all the weight.
            x, y = pf.geometric_median(self._cloud, start=(x, y))
            spread = pf.rms_distance(self._cloud, x, y)
        elif self.settings.report == "median-clusters" and not self._from_prior:
            x, y = median_of_hypotheses(self._cloud, REPORT_MIN_MASS)
            spread = pf.rms_distance(self._cloud, x, y)
        if self._from_prior:
            # No radio fix yet: the cloud is every surveyed place and its heaviest cell an
            # arbitrary one of them; report the point of least expected distance instead.
            x, y = pf.geometric_median(self._cloud)
            spread = pf.rms_distance(self._cloud, x, y)
        if self.grid is not None:
            x, y = pf.onto_floor(self._cloud, x, y, self.grid)
        # Facing: the phone is held in front. The particles' offset δ is the walking direction's,
        # which moves them but is not where the shopper looks (reported, it measured worse).
        heading_deg = math.degrees(self._heading_rad(self.settings.heading_report)) % 360.0
        if self.settings.output == "ekf" and self._ekf.ready:
            x, y, spread = self._ekf.x, self._ekf.y, self._ekf.sigma_m
        return Estimate(self._now_ms, x, y, heading_deg, math.hypot(spread, ACCURACY_FLOOR_M))


def _is_finite(reading: Reading) -> bool:
    if isinstance(reading, WifiReading | BeaconReading):
        return math.isfinite(reading.rssi_dbm)
    if isinstance(reading, AccelReading | GyroReading | MagReading | RotationVectorReading):
        return math.isfinite(reading.x) and math.isfinite(reading.y) and math.isfinite(reading.z)
    return False
