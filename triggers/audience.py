"""Audience rules: a small tree of conditions on a shopper, serialisable as JSON.

Leaves (each a one-key JSON object)::

    {"bought": {"sku": "A", "within_days": 30}}        or {"category": "coffee", ...}
    {"not_bought": {"category": "tea", "within_days": 90}}
    {"spent": {"min": 100, "within_days": 30}}
    {"age": {"min": 20, "max": 40}}                     inclusive; either end may be left out
    {"gender": ["female"]}
    {"tier": ["silver", "gold"]}     {"member": true}
    {"segment": "lapsed"}                               new | frequent | lapsed
    {"visits": {"min": 3, "within_days": 90}}           baskets in the window

and the branches ``{"all": [...]}``, ``{"any": [...]}``, ``{"not": {...}}``.
:func:`parse_audience` names the path of a bad node (``audience.all[2].age.min``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from triggers.profiles import DAY_MS, GENDERS, ShopperProfile
from triggers.segments import SEGMENTS, in_segment


class AudienceError(ValueError):
    """A rule tree that cannot be read; ``path`` names the bad node."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"audience rule at {path}: {reason}")
        self.path = path
        self.reason = reason


class AudienceRule(Protocol):
    def matches(self, shopper: ShopperProfile, now_ms: int) -> bool: ...

    def describe(self) -> str: ...

    def to_dict(self) -> dict[str, Any]: ...


def _days(n: float) -> str:
    return f"{n:g} day" + ("" if n == 1 else "s")


@dataclass(frozen=True, slots=True)
class Bought:
    """Bought the sku (or anything in the category) in the last ``within_days`` days."""

    within_days: float
    sku: str | None = None
    category: str | None = None

    def matches(self, shopper: ShopperProfile, now_ms: int) -> bool:
        h = shopper.history
        last = (
            h.last_sku_ms.get(self.sku) if self.sku else h.last_category_ms.get(self.category or "")
        )
        return last is not None and last >= now_ms - self.within_days * DAY_MS

    def describe(self) -> str:
        what = f"product {self.sku}" if self.sku else f"something in {self.category}"
        return f"bought {what} in the last {_days(self.within_days)}"

    def to_dict(self) -> dict[str, Any]:
        key = {"sku": self.sku} if self.sku else {"category": self.category}
        return {"bought": {**key, "within_days": self.within_days}}


@dataclass(frozen=True, slots=True)
class Spent:
    min_amount: float
    within_days: float

    def matches(self, shopper: ShopperProfile, now_ms: int) -> bool:
        since = int(now_ms - self.within_days * DAY_MS)
        return shopper.history.spend_between(since, now_ms) >= self.min_amount

    def describe(self) -> str:
        return f"spent at least {self.min_amount:g} in the last {_days(self.within_days)}"

    def to_dict(self) -> dict[str, Any]:
        return {"spent": {"min": self.min_amount, "within_days": self.within_days}}


@dataclass(frozen=True, slots=True)
class AgeRange:
    """Age within [min_age, max_age], inclusive; an unknown age never matches."""

    min_age: int | None = None
    max_age: int | None = None

    def matches(self, shopper: ShopperProfile, now_ms: int) -> bool:
        age = shopper.age
        if age is None:
            return False
        return (self.min_age is None or age >= self.min_age) and (
            self.max_age is None or age <= self.max_age
        )

    def describe(self) -> str:
        if self.min_age is not None and self.max_age is not None:
            return f"aged {self.min_age}–{self.max_age}"
        if self.min_age is not None:
            return f"aged {self.min_age} or over"
        return f"aged {self.max_age} or under"

    def to_dict(self) -> dict[str, Any]:
        bounds = {"min": self.min_age, "max": self.max_age}
        return {"age": {k: v for k, v in bounds.items() if v is not None}}


@dataclass(frozen=True, slots=True)
class GenderIs:
    genders: frozenset[str]

    def matches(self, shopper: ShopperProfile, now_ms: int) -> bool:
        return shopper.gender in self.genders

    def describe(self) -> str:
        return " or ".join(sorted(self.genders))

    def to_dict(self) -> dict[str, Any]:
        return {"gender": sorted(self.genders)}


@dataclass(frozen=True, slots=True)
class TierIs:
    tiers: frozenset[str]

    def matches(self, shopper: ShopperProfile, now_ms: int) -> bool:
        return shopper.tier in self.tiers

    def describe(self) -> str:
        return "tier " + " or ".join(sorted(self.tiers))

    def to_dict(self) -> dict[str, Any]:
        return {"tier": sorted(self.tiers)}


@dataclass(frozen=True, slots=True)
class Member:
    """A member (any tier) when ``is_member``, else a non-member."""

    is_member: bool = True

    def matches(self, shopper: ShopperProfile, now_ms: int) -> bool:
        return shopper.is_member == self.is_member

    def describe(self) -> str:
        return "a member" if self.is_member else "not a member"

    def to_dict(self) -> dict[str, Any]:
        return {"member": self.is_member}


@dataclass(frozen=True, slots=True)
class InSegment:
    segment: str

    def matches(self, shopper: ShopperProfile, now_ms: int) -> bool:
        return in_segment(shopper.history, self.segment, now_ms)

    def describe(self) -> str:
        return f"a {self.segment} shopper"

    def to_dict(self) -> dict[str, Any]:
        return {"segment": self.segment}


@dataclass(frozen=True, slots=True)
class Visits:
    """At least ``min_count`` (and at most ``max_count``) baskets in the last ``within_days``."""

    within_days: float
    min_count: int = 0
    max_count: int | None = None

    def matches(self, shopper: ShopperProfile, now_ms: int) -> bool:
        since = int(now_ms - self.within_days * DAY_MS)
        n = shopper.history.baskets_between(since, now_ms)
        return n >= self.min_count and (self.max_count is None or n <= self.max_count)

    def describe(self) -> str:
        most = "" if self.max_count is None else f" and at most {self.max_count}"
        return f"at least {self.min_count}{most} visits in the last {_days(self.within_days)}"

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"min": self.min_count, "within_days": self.within_days}
        if self.max_count is not None:
            body["max"] = self.max_count
        return {"visits": body}


@dataclass(frozen=True, slots=True)
class AllOf:
    rules: tuple[AudienceRule, ...]

    def matches(self, shopper: ShopperProfile, now_ms: int) -> bool:
        # A plain loop, not all(generator): this runs for every candidate campaign of every
        # decision, and the generator costs as much as the checks.
        for rule in self.rules:  # noqa: SIM110
            if not rule.matches(shopper, now_ms):
                return False
        return True

    def describe(self) -> str:
        return ", ".join(r.describe() for r in self.rules) or "everyone"

    def to_dict(self) -> dict[str, Any]:
        return {"all": [r.to_dict() for r in self.rules]}


@dataclass(frozen=True, slots=True)
class AnyOf:
    rules: tuple[AudienceRule, ...]

    def matches(self, shopper: ShopperProfile, now_ms: int) -> bool:
        return any(r.matches(shopper, now_ms) for r in self.rules)

    def describe(self) -> str:
        return "either " + " or ".join(f"({r.describe()})" for r in self.rules)

    def to_dict(self) -> dict[str, Any]:
        return {"any": [r.to_dict() for r in self.rules]}


@dataclass(frozen=True, slots=True)
class Not:
    rule: AudienceRule

    def matches(self, shopper: ShopperProfile, now_ms: int) -> bool:
        return not self.rule.matches(shopper, now_ms)

    def describe(self) -> str:
        inner = self.rule.describe()
        if isinstance(self.rule, Bought):
            return "has not " + inner
        return f"not ({inner})"

    def to_dict(self) -> dict[str, Any]:
        return {"not": self.rule.to_dict()}


def first_failure(rule: AudienceRule, shopper: ShopperProfile, now_ms: int) -> str | None:
    """The condition that keeps the shopper out, in words (None when they are in)."""
    if isinstance(rule, AllOf):
        for child in rule.rules:
            reason = first_failure(child, shopper, now_ms)
            if reason is not None:
                return reason
        return None
    return None if rule.matches(shopper, now_ms) else rule.describe()


# ---- parsing -------------------------------------------------------------------------------------


def _mapping(value: Any, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise AudienceError(path, f"expected an object, got {type(value).__name__}")
    return value


def _number(body: Mapping[str, Any], key: str, path: str, *, required: bool = True) -> float | None:
    if key not in body:
        if required:
            raise AudienceError(path, f"needs {key!r}")
        return None
    value = body[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise AudienceError(f"{path}.{key}", f"must be a number ≥ 0, got {value!r}")
    return float(value)


def _whole(body: Mapping[str, Any], key: str, path: str) -> int | None:
    value = _number(body, key, path, required=False)
    if value is not None and value != int(value):
        raise AudienceError(f"{path}.{key}", f"must be a whole number, got {body[key]!r}")
    return None if value is None else int(value)


def _only_keys(body: Mapping[str, Any], allowed: set[str], path: str) -> None:
    extra = set(body) - allowed
    if extra:
        raise AudienceError(path, f"unknown keys {sorted(extra)}; allowed {sorted(allowed)}")


def _names(value: Any, path: str, known: tuple[str, ...] | None = None) -> frozenset[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise AudienceError(path, f"expected a non-empty list of names, got {value!r}")
    if known is not None:
        bad = [v for v in value if v not in known]
        if bad:
            raise AudienceError(path, f"unknown {bad}; expected some of {list(known)}")
    return frozenset(value)


def _bought(body: Mapping[str, Any], path: str) -> Bought:
    _only_keys(body, {"sku", "category", "within_days"}, path)
    sku, category = body.get("sku"), body.get("category")
    if (sku is None) == (category is None):
        raise AudienceError(path, "needs exactly one of 'sku' or 'category'")
    name = sku if sku is not None else category
    if not isinstance(name, str) or not name:
        raise AudienceError(path, f"sku/category must be a non-empty string, got {name!r}")
    days = _number(body, "within_days", path)
    assert days is not None
    return Bought(within_days=days, sku=sku, category=category)


def _age(body: Mapping[str, Any], path: str) -> AgeRange:
    _only_keys(body, {"min", "max"}, path)
    low, high = _whole(body, "min", path), _whole(body, "max", path)
    if low is None and high is None:
        raise AudienceError(path, "needs 'min' or 'max'")
    if low is not None and high is not None and low > high:
        raise AudienceError(path, f"min {low} is above max {high}")
    return AgeRange(low, high)


def _children(value: Any, path: str) -> tuple[AudienceRule, ...]:
    if not isinstance(value, list):
        raise AudienceError(path, f"expected a list of rules, got {type(value).__name__}")
    return tuple(_parse(child, f"{path}[{i}]") for i, child in enumerate(value))


def _parse(node: Any, path: str) -> AudienceRule:
    node = _mapping(node, path)
    if len(node) != 1:
        raise AudienceError(path, f"a rule has exactly one key, got {sorted(node) or 'none'}")
    ((key, value),) = node.items()
    here = f"{path}.{key}"
    if key == "all":
        return AllOf(_children(value, here))
    if key == "any":
        children = _children(value, here)
        if not children:
            raise AudienceError(here, "an empty 'any' matches nobody")
        return AnyOf(children)
    if key == "not":
        return Not(_parse(value, here))
    if key == "bought":
        return _bought(_mapping(value, here), here)
    if key == "not_bought":
        return Not(_bought(_mapping(value, here), here))
    if key == "spent":
        body = _mapping(value, here)
        _only_keys(body, {"min", "within_days"}, here)
        amount, days = _number(body, "min", here), _number(body, "within_days", here)
        assert amount is not None
        assert days is not None
        return Spent(amount, days)
    if key == "age":
        return _age(_mapping(value, here), here)
    if key == "gender":
        return GenderIs(_names(value, here, GENDERS))
    if key == "tier":
        return TierIs(frozenset(t.lower() for t in _names(value, here)))
    if key == "member":
        if not isinstance(value, bool):
            raise AudienceError(here, f"expected true or false, got {value!r}")
        return Member(value)
    if key == "segment":
        if value not in SEGMENTS:
            raise AudienceError(here, f"unknown segment {value!r}; expected one of {SEGMENTS}")
        return InSegment(value)
    if key == "visits":
        body = _mapping(value, here)
        _only_keys(body, {"min", "max", "within_days"}, here)
        days = _number(body, "within_days", here)
        assert days is not None
        low, high = _whole(body, "min", here) or 0, _whole(body, "max", here)
        if high is not None and low > high:
            raise AudienceError(here, f"min {low} is above max {high}")
        return Visits(days, low, high)
    raise AudienceError(
        path,
        f"unknown rule {key!r}; expected one of all, any, not, bought, not_bought, spent, age, "
        "gender, tier, member, segment, visits",
    )


def parse_audience(tree: Any, path: str = "audience") -> AudienceRule:
    """Read a rule tree from its JSON form; raises :class:`AudienceError` naming the bad node."""
    return _parse(tree, path)
