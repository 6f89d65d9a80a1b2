"""Campaigns indexed by (event kind, place) so a decision looks only at campaigns that can apply.

Each campaign is filed under its event kind and its most selective place key: a zone id, else a
zone kind, else each of its categories, else "anywhere". An occasion gathers the lists for its
zone id, zone kind, categories and "anywhere" — a handful of campaigns instead of all of them.
The full :meth:`Context.why_not_here` check still runs on each candidate.
"""

from __future__ import annotations

from collections.abc import Iterable

from triggers.campaigns import Campaign
from triggers.occasion import Occasion

_ANYWHERE = ("*", "")


def _keys(campaign: Campaign) -> list[tuple[str, str]]:
    ctx = campaign.context
    if ctx.zone_ids:
        return [("zone", z) for z in ctx.zone_ids]
    if ctx.zone_kinds:
        return [("kind", k) for k in ctx.zone_kinds]
    if ctx.categories:
        return [("category", c) for c in ctx.categories]
    return [_ANYWHERE]


class CampaignIndex:
    def __init__(self, campaigns: Iterable[Campaign]) -> None:
        self.campaigns: tuple[Campaign, ...] = tuple(campaigns)
        ids = [c.id for c in self.campaigns]
        if len(set(ids)) != len(ids):
            raise ValueError("campaign ids repeat")
        self._by_event: dict[str, dict[tuple[str, str], list[Campaign]]] = {}
        for c in self.campaigns:
            places = self._by_event.setdefault(c.context.event, {})
            for key in _keys(c):
                places.setdefault(key, []).append(c)

    def __len__(self) -> int:
        return len(self.campaigns)

    def candidates(self, occasion: Occasion) -> list[Campaign]:
        """Campaigns that may apply to the occasion, each once, in index order."""
        places = self._by_event.get(occasion.kind)
        if not places:
            return []
        found: list[Campaign] = list(places.get(_ANYWHERE, ()))
        if occasion.zone_id is not None:
            found += places.get(("zone", occasion.zone_id), ())
        if occasion.zone_kind is not None:
            found += places.get(("kind", occasion.zone_kind), ())
        if len(occasion.categories) == 1:
            found += places.get(("category", occasion.categories[0]), ())
        elif occasion.categories:
            seen = {c.id for c in found}
            for category in occasion.categories:
                for c in places.get(("category", category), ()):
                    if c.id not in seen:
                        seen.add(c.id)
                        found.append(c)
        return found
