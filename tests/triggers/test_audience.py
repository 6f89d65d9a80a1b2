from __future__ import annotations

from typing import Any

import pytest

from tests.triggers.builders import NOW, bought, shopper
from triggers import AudienceError, parse_audience
from triggers.audience import first_failure
from triggers.profiles import ShopperProfile


def matches(tree: Any, profile: ShopperProfile) -> bool:
    return parse_audience(tree).matches(profile, NOW)


def test_bought_by_category_not_bought_and_spent_read_the_purchase_summary() -> None:
    profile = shopper(
        purchases=(
            bought("u1", "A", 5, price=30.0, category="coffee"),
            bought("u1", "T", 50, price=80.0, category="tea"),
        )
    )
    assert matches({"bought": {"category": "coffee", "within_days": 7}}, profile)
    assert not matches({"bought": {"category": "tea", "within_days": 30}}, profile)
    assert matches({"not_bought": {"category": "tea", "within_days": 30}}, profile)
    assert matches({"spent": {"min": 30, "within_days": 7}}, profile)
    assert not matches({"spent": {"min": 31, "within_days": 7}}, profile)
    assert matches({"spent": {"min": 110, "within_days": 60}}, profile)


def test_visits_count_baskets_in_the_window() -> None:
    profile = shopper(purchases=tuple(bought("u1", "A", d) for d in (1, 8, 15, 40)))
    assert matches({"visits": {"min": 3, "within_days": 30}}, profile)
    assert not matches({"visits": {"min": 4, "within_days": 30}}, profile)
    assert not matches({"visits": {"min": 1, "max": 2, "within_days": 30}}, profile)


@pytest.mark.parametrize(
    ("days_ago", "segments"),
    [
        ((), {"new"}),
        ((3, 10, 17, 24), {"new", "frequent"}),
        ((3, 10, 17, 24, 100), {"frequent"}),
        ((70, 200), {"lapsed"}),
        ((20, 200), set()),
    ],
)
def test_rfm_segments(days_ago: tuple[int, ...], segments: set[str]) -> None:
    profile = shopper(purchases=tuple(bought("u1", "A", d) for d in days_ago))
    found = {s for s in ("new", "frequent", "lapsed") if matches({"segment": s}, profile)}
    assert found == segments


def test_and_or_not_combine_and_the_first_failing_condition_is_named() -> None:
    tree = {
        "all": [
            {"any": [{"tier": ["gold"]}, {"age": {"min": 60}}]},
            {"not": {"gender": ["male"]}},
        ]
    }
    assert matches(tree, shopper(tier="gold", age=30))
    assert matches(tree, shopper(tier="", age=65))
    assert not matches(tree, shopper(tier="gold", gender="male"))
    rule = parse_audience(tree)
    assert first_failure(rule, shopper(tier="silver", age=30), NOW) == (
        "either (tier gold) or (aged 60 or over)"
    )


def test_rule_trees_round_trip_through_their_dict_form() -> None:
    tree = {
        "all": [
            {"bought": {"sku": "A", "within_days": 30.0}},
            {"not": {"bought": {"category": "tea", "within_days": 7.0}}},
            {"spent": {"min": 10.0, "within_days": 30.0}},
            {"age": {"min": 20, "max": 40}},
            {"gender": ["female", "other"]},
            {"tier": ["gold"]},
            {"member": True},
            {"segment": "lapsed"},
            {"visits": {"min": 2, "within_days": 60.0, "max": 5}},
            {"any": [{"member": False}]},
        ]
    }
    rule = parse_audience(tree)
    assert rule.to_dict() == tree
    assert parse_audience(rule.to_dict()) == rule


@pytest.mark.parametrize(
    ("tree", "path", "words"),
    [
        (
            {"all": [{"gender": ["female"]}, {"age": {"min": 40, "max": 20}}]},
            "audience.all[1].age",
            "above max",
        ),
        ({"all": [{"bougth": {"sku": "A"}}]}, "audience.all[0]", "unknown rule 'bougth'"),
        ({"bought": {"sku": "A"}}, "audience.bought", "needs 'within_days'"),
        (
            {"bought": {"sku": "A", "category": "x", "within_days": 3}},
            "audience.bought",
            "exactly one",
        ),
        ({"bought": {"sku": "A", "within_days": -1}}, "audience.bought.within_days", "≥ 0"),
        ({"gender": ["woman"]}, "audience.gender", "unknown ['woman']"),
        ({"segment": "loyal"}, "audience.segment", "unknown segment"),
        ({"any": []}, "audience.any", "matches nobody"),
        ({"not": [1]}, "audience.not", "expected an object"),
        ({"age": {"min": 20}, "gender": ["female"]}, "audience", "exactly one key"),
        ({"member": "yes"}, "audience.member", "true or false"),
        ({"visits": {"min": 2.5, "within_days": 3}}, "audience.visits.min", "whole number"),
        ({"all": {"member": True}}, "audience.all", "list of rules"),
    ],
)
def test_bad_rule_trees_name_the_bad_node(tree: Any, path: str, words: str) -> None:
    with pytest.raises(AudienceError) as caught:
        parse_audience(tree)
    assert caught.value.path == path
    assert words in str(caught.value)
