"""The live book a plan is judged on, built from the database; numbers computed by hand."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from portfolios.strategy_types import StrategyType as ST
from thetavue_site import rls
from tradeplans import selectors
from tradeplans.compliance import GroupFacts
from tradeplans.tests.factories import make_option, make_portfolio

NOW = dt.datetime(2026, 4, 16, 4, 0, tzinfo=dt.UTC)  # 16 April 00:00 New York
D = Decimal


def book_for(user, portfolio_id=None):
    with rls.as_user(user.pk):
        books = selectors.portfolio_books(
            user_id=user.pk,
            portfolio_ids=None if portfolio_id is None else [portfolio_id],
            now=NOW,
        )
        return selectors.live_book(books=books, portfolio_id=portfolio_id)


def spy_put_credit_spread(portfolio, *, group_id="pcs-spy"):
    """SPY 540/535 put credit spread ×2 for $1.50 net; marks 2.00 / 1.00; Δ −0.25 / −0.15."""
    common = {"portfolio": portfolio, "underlying": "SPY", "underlying_price": "550"}
    common.update(group_id=group_id, strategy_type="put_credit_spread")
    short = make_option(
        **common, option_type="P", strike="540", quantity=-2, open_price="3.00", mark="2.00",
        delta="-0.25",
    )  # fmt: skip
    long = make_option(
        **common, option_type="P", strike="535", quantity=2, open_price="1.50", mark="1.00",
        delta="-0.15",
    )  # fmt: skip
    return short, long


def xyz_naked_put(portfolio, *, group_id="sp-xyz"):
    """XYZ 100 put sold for $3.00; mark 2.00; underlying 110; Δ −0.20; beta 1.5."""
    return make_option(
        portfolio=portfolio, underlying="XYZ", option_type="P", strike="100", quantity=-1,
        open_price="3.00", mark="2.00", underlying_price="110", delta="-0.20", beta=1.5,
        group_id=group_id, strategy_type="short_put",
    )  # fmt: skip


@pytest.mark.django_db
def test_spread_and_naked_put_give_hand_computed_facts(alice):
    # given
    with rls.as_service():
        portfolio = make_portfolio(owner=alice, spy_price=D("500"))
        short, long = spy_put_credit_spread(portfolio)
        naked = xyz_naked_put(portfolio)

    # when
    book = book_for(alice, portfolio.pk)

    # then: spread: credit 600 − 300 = 300; max loss 5 × 100 × 2 − 300 = 700;
    # buying power 5 × 100 × 2 − 300 received at open = 700. Naked put: max
    # loss to zero 100 × 100 − 300 = 9,700, undefined; requirement max(20 % × 110 −
    # 10 OTM + 2.00, 10 % × 100 + 2.00, 2.50) = 14.00 × 100 = 1,400, less 300 received.
    assert book.facts().groups == (
        GroupFacts(
            group_id="pcs-spy",
            strategy_type=ST.PUT_CREDIT_SPREAD,
            label="SPY put credit spread 535/540 2026-05-15 ×2",
            max_loss=D("700"),
            undefined_risk=False,
            buying_power_effect=D("700.00"),
            short_leg_deltas=(D("0.25"),),  # the short put: position view
            credit_per_contract=D("150.00"),
        ),
        GroupFacts(
            group_id="sp-xyz",
            strategy_type=ST.SHORT_PUT,
            label="XYZ short put 100 2026-05-15 ×1",
            max_loss=D("9700"),
            undefined_risk=True,
            buying_power_effect=D("1100.00"),
            short_leg_deltas=(D("0.2"),),
            credit_per_contract=D("300.00"),
        ),
    )
    assert [g.position_ids for g in book.groups] == [(short.pk, long.pk), (naked.pk,)]
    # BWD $ = Σ delta × beta × price: (50 − 30) × 1.0 × 550 + 20 × 1.5 × 110.
    assert book.beta_weighted_delta_dollars == D("14300.00")
    assert book.buying_power == D("100000.00")
    assert (book.legs, book.legs_unpriced, book.legs_beta_missing) == (3, 0, 0)
    assert book.income_mtd == D("0.00")
    assert book.portfolio_ids == (portfolio.pk,)


@pytest.mark.django_db
def test_a_leg_split_between_two_groups_is_judged_in_both(alice):
    # given: 3 short 540 puts and 1 long 535 put = a spread ×1 + 2 naked puts;
    # the sync stored the short leg under the short put group (it holds 2 of 3).
    with rls.as_service():
        portfolio = make_portfolio(owner=alice)
        common = {"portfolio": portfolio, "underlying": "SPY", "underlying_price": "550"}
        short = make_option(
            **common, option_type="P", strike="540", quantity=-3, open_price="3.00",
            mark="2.00", delta="-0.25", group_id="stored-sp", strategy_type="short_put",
        )  # fmt: skip
        long = make_option(
            **common, option_type="P", strike="535", quantity=1, open_price="1.50",
            mark="1.00", delta="-0.15", group_id="stored-pcs", strategy_type="put_credit_spread",
        )  # fmt: skip

    # when
    book = book_for(alice, portfolio.pk)

    # then: the spread holds 1 of the 3 shorts: credit 300 − 150 = 150, max loss
    # 500 − 150 = 350; the 2 naked puts: credit 600, to zero 540 × 200 − 600.
    spread, naked = book.groups
    assert (spread.facts.group_id, spread.facts.strategy_type) == (
        "stored-pcs",
        ST.PUT_CREDIT_SPREAD,
    )
    assert (spread.facts.max_loss, spread.net_credit) == (D("350"), D("150.00"))
    assert spread.position_ids == (short.pk, long.pk)
    assert (naked.facts.group_id, naked.facts.strategy_type) == ("stored-sp", ST.SHORT_PUT)
    assert (naked.facts.max_loss, naked.facts.undefined_risk) == (D("107400.00"), True)
    assert naked.contracts == 2
    # The short leg's own Δ per contract is the same in both groups.
    assert spread.facts.short_leg_deltas == naked.facts.short_leg_deltas == (D("0.25"),)


@pytest.mark.django_db
def test_groups_without_a_stored_id_keep_detections_id(alice):
    with rls.as_service():
        portfolio = make_portfolio(owner=alice)
        xyz_naked_put(portfolio, group_id="")

    (group,) = book_for(alice, portfolio.pk).groups

    assert group.facts.group_id.startswith("sg_")


@pytest.mark.django_db
def test_cash_account_put_is_cash_secured_and_its_buying_power_is_the_strike(alice):
    with rls.as_service():
        portfolio = make_portfolio(owner=alice, account_type="cash")
        xyz_naked_put(portfolio)

    (group,) = book_for(alice, portfolio.pk).groups

    # 100 × 100 − 3.00 × 100 received at open; cash secures it, so the risk is defined.
    assert group.facts.strategy_type == ST.CASH_SECURED_PUT
    assert group.buying_power_effect == D("9700.00")
    assert group.facts.undefined_risk is False


@pytest.mark.django_db
def test_unknown_marks_and_deltas_are_reported_not_taken_as_zero(alice):
    # given: a naked put with no mark and no delta
    with rls.as_service():
        portfolio = make_portfolio(owner=alice, spy_price=D("500"))
        leg = xyz_naked_put(portfolio)
        leg.mark = leg.delta = leg.current_value = None
        leg.save()

    book = book_for(alice, portfolio.pk)

    (group,) = book.groups
    assert group.buying_power_effect is None
    assert group.facts.buying_power_effect == D(0)
    assert group.facts.short_leg_deltas == (None,)
    # No leg has a delta: the exposure is unknown, not $0.
    assert book.beta_weighted_delta_dollars is None
    assert (book.legs, book.legs_unpriced) == (1, 1)


@pytest.mark.django_db
def test_a_leg_without_beta_is_left_out_of_bwd_and_counted(alice):
    with rls.as_service():
        portfolio = make_portfolio(owner=alice, spy_price=D("500"))
        spy_put_credit_spread(portfolio)
        naked = xyz_naked_put(portfolio)
        naked.beta = None
        naked.save()

    book = book_for(alice, portfolio.pk)

    # SPY's beta is 1 by definition; XYZ without one is left out.
    assert book.beta_weighted_delta_dollars == D("11000.00")
    assert book.legs_beta_missing == 1


@pytest.mark.django_db
def test_all_portfolios_scope_sums_books_and_takes_the_oldest_sync(alice, bob):
    # given: a synced margin account and a manual one without a SPY price
    with rls.as_service():
        synced = make_portfolio(
            owner=alice,
            spy_price=D("500"),
            synced_at=dt.datetime(2026, 4, 15, 20, 0, tzinfo=dt.UTC),
        )
        spy_put_credit_spread(synced)
        manual = make_portfolio(
            owner=alice, name="Elsewhere", account_type="manual", net_liquidation_value=D("50000")
        )
        xyz_naked_put(manual)
        other = make_portfolio(
            owner=bob,
            spy_price=D("500"),
            synced_at=dt.datetime(2026, 4, 1, tzinfo=dt.UTC),
        )
        xyz_naked_put(other)

    # when
    book = book_for(alice)

    # then: bob's book is not in it; the manual book's $ BWD needs no SPY price.
    assert book.portfolio_ids == (synced.pk, manual.pk)
    assert book.as_of == dt.datetime(2026, 4, 15, 20, 0, tzinfo=dt.UTC)
    assert book.buying_power == D("150000.00")
    assert book.beta_weighted_delta_dollars == D("14300.00")
    assert [g.facts.group_id for g in book.groups] == ["pcs-spy", "sp-xyz"]
    assert [g.portfolio_id for g in book.groups] == [synced.pk, manual.pk]


@pytest.mark.django_db
def test_an_empty_book_has_zero_exposure_and_no_groups(alice):
    with rls.as_service():
        portfolio = make_portfolio(owner=alice, account_type="manual", net_liquidation_value=None)

    book = book_for(alice, portfolio.pk)

    assert book.groups == ()
    assert book.beta_weighted_delta_dollars == D("0.00")
    assert book.buying_power is None
    assert book.as_of is None
