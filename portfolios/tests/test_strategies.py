import dataclasses
import random
from collections import defaultdict
from decimal import Decimal

import pytest

from portfolios.book import group_owners
from portfolios.strategies import (
    FLAG_UPSIDE_RISK,
    LegView,
    StrategyGroup,
    detect_strategies,
    leg_assignments,
)
from portfolios.strategy_types import StrategyType
from portfolios.tests.labelled_books import LABELLED
from portfolios.tests.strategy_books import APR, BOOKS, TODAY, Book, opt

BY_NAME = {b.name: b for b in BOOKS}


def _shape(group: StrategyGroup) -> tuple:
    return (
        group.strategy_type,
        {part.leg_id: part.quantity for part in group.legs},
        group.contracts,
        group.net_credit,
        group.max_profit,
        group.max_loss,
        group.undefined_risk,
        group.width,
        group.flags,
    )


def _expected_shapes(b: Book) -> list[tuple]:
    return [
        (
            e.strategy_type,
            {leg_id: Decimal(qty) for leg_id, qty in e.legs.items()},
            Decimal(e.contracts),
            e.net_credit,
            e.max_profit,
            e.max_loss,
            e.undefined_risk,
            e.width,
            e.flags,
        )
        for e in b.groups
    ]


def _same_multiset(got: list[tuple], expected: list[tuple]) -> bool:
    remaining = list(expected)
    for item in got:
        if item not in remaining:
            return False
        remaining.remove(item)
    return not remaining


def test_the_labelled_set_is_large_and_covers_every_strategy():
    assert len(BOOKS) >= 30
    assert len(BY_NAME) == len(BOOKS)
    labelled = {strategy for b in BOOKS for strategy in b.leg_strategy.values()}
    assert labelled == set(StrategyType)


@pytest.mark.parametrize("book", BOOKS, ids=lambda b: b.name)
def test_detection_finds_the_labelled_groups_and_figures(book):
    groups = detect_strategies(book.legs, today=TODAY)

    assert _same_multiset([_shape(g) for g in groups], _expected_shapes(book))


@pytest.mark.parametrize("book", BOOKS, ids=lambda b: b.name)
def test_each_leg_gets_its_labelled_strategy(book):
    groups = detect_strategies(book.legs, today=TODAY)

    assigned = leg_assignments(groups=groups)

    assert {leg_id: g.strategy_type for leg_id, g in assigned.items()} == (book.leg_strategy)
    for leg_id, group in assigned.items():
        assert leg_id in group.leg_ids


@pytest.mark.parametrize("book", BOOKS, ids=lambda b: b.name)
def test_groups_share_out_each_leg_exactly(book):
    groups = detect_strategies(book.legs, today=TODAY)

    quantity: dict = defaultdict(Decimal)
    premium: dict = defaultdict(Decimal)
    realized: dict = defaultdict(Decimal)
    for group in groups:
        for part in group.legs:
            quantity[part.leg_id] += part.quantity
            premium[part.leg_id] += part.premium
            realized[part.leg_id] += part.realized_credit
    for leg in book.legs:
        assert quantity[leg.id] == Decimal(leg.quantity)
        assert premium[leg.id] == leg.premium
        assert realized[leg.id] == leg.realized_credit


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_ids_and_order_are_stable_across_shuffled_runs(seed):
    # given every book at once, in two different orders
    legs = [
        dataclasses.replace(leg, id=f"{b.name}:{leg.id}", account=f"{b.name}")
        for b in BOOKS
        for leg in b.legs
    ]
    shuffled = list(legs)
    random.Random(seed).shuffle(shuffled)

    # when
    first = detect_strategies(legs, today=TODAY)
    second = detect_strategies(shuffled, today=TODAY)

    # then
    assert first == second
    assert len({g.group_id for g in first}) == len(first)


def test_group_id_survives_a_change_of_quantity_and_price():
    before = detect_strategies(BY_NAME["short_strangle"].legs)
    bigger = [
        dataclasses.replace(leg, quantity=-3, average_open_price=Decimal("9.99"))
        for leg in BY_NAME["short_strangle"].legs
    ]

    after = detect_strategies(bigger)

    assert [g.group_id for g in after] == [g.group_id for g in before]
    assert after[0].contracts == 3


def test_group_id_depends_on_the_strategy_and_the_legs():
    strangle = detect_strategies(BY_NAME["short_strangle"].legs)[0]
    straddle = detect_strategies(BY_NAME["short_straddle"].legs)[0]

    assert strangle.group_id.startswith("sg_")
    assert strangle.group_id != straddle.group_id


def test_output_is_ordered_by_account_underlying_expiry_and_type():
    legs = [
        opt(1, "P", 540, -1, "3.00", exp=APR.replace(month=6), underlying="SPY"),
        opt(2, "P", 440, -1, "3.00", underlying="QQQ"),
        opt(3, "C", 600, -1, "1.00", underlying="SPY"),
        opt(4, "P", 530, -1, "3.00", account="0AAA", underlying="SPY"),
    ]

    groups = detect_strategies(legs)

    assert [g.leg_ids for g in groups] == [(4,), (2,), (3,), (1,)]


def test_dte_counts_days_to_the_nearest_expiry():
    calendar = detect_strategies(BY_NAME["calendar"].legs, today=TODAY)[0]
    stock = detect_strategies(BY_NAME["short_stock"].legs, today=TODAY)[0]

    assert calendar.dte == (APR - TODAY).days == 46
    assert calendar.expirations == (APR, APR.replace(month=5, day=15))
    assert stock.dte is None
    assert detect_strategies(BY_NAME["calendar"].legs)[0].dte is None


def test_label_reads_like_a_trader_would_say_it():
    condor = detect_strategies(BY_NAME["iron_condor"].legs)[0]

    assert condor.label == "SPX iron condor 5300/5350/5800/5850 2026-04-17 ×1"


def test_jade_lizard_explains_its_upside():
    safe = detect_strategies(BY_NAME["jade_lizard"].legs)[0]
    risky = detect_strategies(BY_NAME["jade_lizard_with_upside_risk"].legs)[0]

    assert safe.flags == ()
    assert "no upside risk: credit $550.00 ≥ call spread width $500" in safe.notes
    assert risky.flags == (FLAG_UPSIDE_RISK,)
    assert any("loses up to $200.00 above the long call" in n for n in risky.notes)


def test_zero_quantity_legs_belong_to_no_group():
    expired = opt(9, "P", 500, 0, "1.00")

    groups = detect_strategies([*BY_NAME["short_put"].legs, expired])

    assert [g.leg_ids for g in groups] == [(1,)]
    assert 9 not in leg_assignments(groups=groups)


def test_unknown_premium_counts_as_zero_and_says_so():
    leg = dataclasses.replace(BY_NAME["short_put"].legs[0], average_open_price=None)

    group = detect_strategies([leg])[0]

    assert group.net_credit == 0
    assert group.max_loss == Decimal(54000)
    assert group.flags == ("premium_unknown",)


def test_duplicate_leg_ids_are_refused():
    leg = BY_NAME["short_put"].legs[0]

    with pytest.raises(ValueError, match="duplicate leg id 1"):
        detect_strategies([leg, leg])


def test_an_order_of_equal_quantities_is_a_vertical_not_a_ratio():
    legs = [
        opt(1, "P", 540, -2, "3.00", order="X"),
        opt(2, "P", 530, 2, "1.00", order="X"),
    ]

    (group,) = detect_strategies(legs)

    assert group.strategy_type == StrategyType.PUT_CREDIT_SPREAD
    assert group.contracts == 2


def test_legs_without_option_details_are_other():
    leg = LegView(
        id=1,
        account="A",
        underlying="SPY",
        instrument_type="Equity Option",
        quantity=-1,
        multiplier=100,
        option_type="P",
    )

    (group,) = detect_strategies([leg])

    assert group.strategy_type == StrategyType.OTHER
    assert group.undefined_risk is True


# Accuracy over the whole labelled set ------------------------------------------


def _labelled_set():
    """Yield (name, legs, expected groups as (type, {leg id: quantity})) for every book."""
    for b in BOOKS:
        yield b.name, b.legs, [(e.strategy_type, dict(e.legs)) for e in b.groups]
    for b in LABELLED:
        yield b.name, b.legs, [(stype, dict(legs)) for stype, legs in b.groups]


def _label(stype, legs) -> tuple:
    return (StrategyType(stype), tuple(sorted((str(k), Decimal(v)) for k, v in legs.items())))


def labelled_set_misses() -> tuple[int, list[str]]:
    """Return (expected groups, misses): a group counts when type and leg quantities match."""
    total, misses = 0, []
    for name, legs, expected in _labelled_set():
        got = [
            _label(g.strategy_type, {p.leg_id: p.quantity for p in g.legs})
            for g in detect_strategies(legs, today=TODAY)
        ]
        for stype, held in expected:
            total += 1
            label = _label(stype, held)
            if label in got:
                got.remove(label)
            else:
                misses.append(f"{name}: expected {label}, detected {got}")
    return total, misses


def test_labelled_set_accuracy_is_at_least_97_percent():
    books = len(BOOKS) + len(LABELLED)
    total, misses = labelled_set_misses()
    exact = (total - len(misses)) / total
    assert books >= 80
    # Every miss is listed, so a regression names its book.
    assert exact >= 0.97, "\n".join(misses)


def test_an_expired_front_month_leaves_the_calendar_it_was_part_of():
    # given: a calendar whose short April call has expired, still listed
    legs = BY_NAME["calendar"].legs
    after_april = APR.replace(day=20)

    # when
    before = group_owners(legs, today=TODAY)
    after = group_owners(legs, today=after_april)

    # then: before April both legs are the calendar; after it, the May call
    # is a long call of its own and the expired call a group of expired legs
    assert {owner[0] for owner in before.values()} == {"calendar"}
    assert sorted(owner[0] for owner in after.values()) == ["long_call", "short_call"]
    assert len({owner[1] for owner in after.values()}) == 2
