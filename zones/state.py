"""What the detector remembers per shopper between estimates (shared by loop and batch forms)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Presence:
    """A shopper inside one zone: since when, and whether they are on their way out."""

    enter_t_ms: int
    pending_exit_t_ms: int | None = None  # first estimate out, while the exit grace runs
    next_milestone: int = 0  # index of the next dwell milestone to fire


@dataclass
class Look:
    """A shopper looking at one zone: since when, last seen looking, and whether it fired."""

    start_t_ms: int
    last_t_ms: int
    fired: bool = False


@dataclass
class ShopperState:
    """Everything the detector knows about one shopper on their current visit."""

    last_t_ms: int
    inside: dict[int, Presence] = field(default_factory=dict)  # zone index -> stay
    pending_enter: dict[int, int] = field(default_factory=dict)  # zone index -> first in t_ms
    looks: dict[int, Look] = field(default_factory=dict)  # zone index -> current look
    pending_leave_t_ms: int | None = None  # first estimate out of the store, in leave grace
    # False once the visit has ended: the shopper is remembered (``last_t_ms`` keeps late estimates
    # out) until ``expire`` forgets them, and their next estimate starts a new visit.
    in_visit: bool = True
