"""Hold-out assignment for A/B measurement: deterministic by a hash of (campaign, shopper).

The same shopper is always in or out of a campaign's hold-out, on every server and every day,
and different campaigns hold out different shoppers (the campaign id is in the hash).
"""

from __future__ import annotations

from hashlib import blake2b

_SCALE = float(2**64)


def holdout_position(campaign_id: str, shopper_id: str) -> float:
    """A uniform number in [0, 1) fixed for the pair (64 bits of BLAKE2b)."""
    digest = blake2b(f"{campaign_id}\x1f{shopper_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / _SCALE


def in_holdout(campaign_id: str, shopper_id: str, share: float) -> bool:
    return share > 0.0 and holdout_position(campaign_id, shopper_id) < share
