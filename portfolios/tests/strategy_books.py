"""Labelled books for strategy detection: every leg with its expected strategy.

Each book lists its legs, the strategy each leg's own group should have, and
the groups expected (legs with the quantity each holds, contracts, and the $
figures worked out by hand in the comments). Prices are $ per share; an option
leg's premium is −price × quantity × 100 (credit > 0).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from portfolios.strategies import FLAG_REVERSE_CALENDAR, FLAG_UPSIDE_RISK, LegView
from portfolios.strategy_types import StrategyType as ST

TODAY = date(2026, 3, 2)
APR = date(2026, 4, 17)
MAY = date(2026, 5, 15)
JUN = date(2026, 6, 18)
MARGIN = "5WT00001"
IRA = "5WT00002"


def D(value: str | int) -> Decimal:  # noqa: N802 - reads like a literal
    return Decimal(str(value))


def opt(
    leg_id: int | str,
    kind: str,
    strike: str | int,
    quantity: int,
    price: str,
    *,
    exp: date = APR,
    underlying: str = "SPY",
    account: str = MARGIN,
    order: str | None = None,
    multiplier: int = 100,
    instrument: str = "Equity Option",
    **extra: object,
) -> LegView:
    return LegView(
        id=leg_id,
        account=account,
        underlying=underlying,
        instrument_type=instrument,
        option_type=kind,
        strike=D(strike),
        expiration=exp,
        quantity=quantity,
        multiplier=multiplier,
        average_open_price=D(price),
        opening_order_id=order,
        **extra,  # type: ignore[arg-type]
    )


def shares(
    leg_id: int | str,
    quantity: int | str,
    price: str,
    *,
    underlying: str = "KO",
    account: str = MARGIN,
    order: str | None = None,
) -> LegView:
    return LegView(
        id=leg_id,
        account=account,
        underlying=underlying,
        instrument_type="Equity",
        quantity=D(quantity),
        multiplier=1,
        average_open_price=D(price),
        opening_order_id=order,
    )


@dataclass(frozen=True)
class Expected:
    strategy_type: ST
    legs: Mapping[int | str, int]  # leg id → signed quantity this group holds
    contracts: int
    net_credit: Decimal
    max_profit: Decimal | None  # None = unbounded / not fixed at expiry
    max_loss: Decimal | None
    undefined_risk: bool
    width: Decimal | None = None
    flags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Book:
    name: str
    labelled: tuple[tuple[LegView, ST], ...]
    groups: tuple[Expected, ...]
    realized: Mapping[str, Decimal] = field(default_factory=dict)

    @property
    def legs(self) -> tuple[LegView, ...]:
        return tuple(leg for leg, _ in self.labelled)

    @property
    def leg_strategy(self) -> dict[int | str, ST]:
        return {leg.id: strategy for leg, strategy in self.labelled}


def book(name: str, labelled: list[tuple[LegView, ST]], *groups: Expected) -> Book:
    return Book(name=name, labelled=tuple(labelled), groups=tuple(groups))


BOOKS: tuple[Book, ...] = (
    # credit 4.35 × 100 = 435; to zero: 540 × 100 − 435 = 53565; naked.
    book(
        "short_put",
        [(opt(1, "P", 540, -1, "4.35"), ST.SHORT_PUT)],
        Expected(ST.SHORT_PUT, {1: -1}, 1, D(435), D(435), D(53565), True),
    ),
    # The same put in a cash account is secured by the cash: defined risk.
    book(
        "cash_secured_put_in_cash_account",
        [(opt(1, "P", 540, -1, "4.35", account=IRA, account_is_cash=True), ST.CASH_SECURED_PUT)],
        Expected(ST.CASH_SECURED_PUT, {1: -1}, 1, D(435), D(435), D(53565), False),
    ),
    # Flagged cash-secured in a margin account; 2 × 435 = 870; 108000 − 870.
    book(
        "cash_secured_put_flagged",
        [(opt(1, "P", 540, -2, "4.35", cash_secured=True), ST.CASH_SECURED_PUT)],
        Expected(ST.CASH_SECURED_PUT, {1: -2}, 2, D(870), D(870), D(107130), False),
    ),
    book(
        "naked_short_call",
        [(opt(1, "C", 250, -1, "3.10", underlying="AAPL"), ST.SHORT_CALL)],
        Expected(ST.SHORT_CALL, {1: -1}, 1, D(310), D(310), None, True),
    ),
    # 2 × 5.00 × 100 = 1000 debit = max loss; upside unbounded.
    book(
        "long_call",
        [(opt(1, "C", 230, 2, "5.00", underlying="AAPL"), ST.LONG_CALL)],
        Expected(ST.LONG_CALL, {1: 2}, 2, D(-1000), None, D(1000), False),
    ),
    # debit 620; best case at 0: 450 × 100 − 620 = 44380.
    book(
        "long_put",
        [(opt(1, "P", 450, 1, "6.20", underlying="QQQ"), ST.LONG_PUT)],
        Expected(ST.LONG_PUT, {1: 1}, 1, D(-620), D(44380), D(620), False),
    ),
    # stock cost 6000 − call 120: max loss 5880; (65 − 60) × 100 + 120 = 620.
    book(
        "covered_call_buy_write",
        [
            (shares(1, 100, "60.00", order="BW"), ST.COVERED_CALL),
            (opt(2, "C", 65, -1, "1.20", underlying="KO", order="BW"), ST.COVERED_CALL),
        ],
        Expected(ST.COVERED_CALL, {1: 100, 2: -1}, 1, D(-5880), D(620), D(5880), False),
    ),
    # 200 of 250 shares cover two calls: −12000 + 240; the 50 left are stock.
    book(
        "covered_call_with_spare_shares",
        [
            (shares(1, 250, "60.00"), ST.COVERED_CALL),
            (opt(2, "C", 65, -2, "1.20", underlying="KO"), ST.COVERED_CALL),
        ],
        Expected(ST.COVERED_CALL, {1: 200, 2: -2}, 2, D(-11760), D(1240), D(11760), False),
        Expected(ST.STOCK, {1: 50}, 50, D(-3000), None, D(3000), False),
    ),
    # 50 shares cannot cover a 100-share call: the call stays naked.
    book(
        "too_few_shares_to_cover",
        [
            (shares(1, 50, "60.00"), ST.STOCK),
            (opt(2, "C", 65, -1, "1.20", underlying="KO"), ST.SHORT_CALL),
        ],
        Expected(ST.STOCK, {1: 50}, 50, D(-3000), None, D(3000), False),
        Expected(ST.SHORT_CALL, {2: -1}, 1, D(120), D(120), None, True),
    ),
    # proceeds 20000 are the best case (price 0); the loss is unbounded.
    book(
        "short_stock",
        [(shares(1, -100, "200.00", underlying="TSLA"), ST.STOCK)],
        Expected(ST.STOCK, {1: -100}, 100, D(20000), D(20000), None, True),
    ),
    book(
        "short_strangle",
        [
            (opt(1, "P", 200, -1, "2.00", underlying="AAPL"), ST.SHORT_STRANGLE),
            (opt(2, "C", 250, -1, "1.80", underlying="AAPL"), ST.SHORT_STRANGLE),
        ],
        Expected(ST.SHORT_STRANGLE, {1: -1, 2: -1}, 1, D(380), D(380), None, True),
    ),
    book(
        "short_straddle",
        [
            (opt(1, "P", 225, -1, "7.00", underlying="AAPL"), ST.SHORT_STRADDLE),
            (opt(2, "C", 225, -1, "6.50", underlying="AAPL"), ST.SHORT_STRADDLE),
        ],
        Expected(ST.SHORT_STRADDLE, {1: -1, 2: -1}, 1, D(1350), D(1350), None, True),
    ),
    # −400 + 650 + 500 − 300 = 450; width 50: 5000 − 450 = 4550.
    book(
        "iron_condor",
        [
            (opt(1, "P", 5300, 1, "4.00", underlying="SPX"), ST.IRON_CONDOR),
            (opt(2, "P", 5350, -1, "6.50", underlying="SPX"), ST.IRON_CONDOR),
            (opt(3, "C", 5800, -1, "5.00", underlying="SPX"), ST.IRON_CONDOR),
            (opt(4, "C", 5850, 1, "3.00", underlying="SPX"), ST.IRON_CONDOR),
        ],
        Expected(
            ST.IRON_CONDOR,
            {1: 1, 2: -1, 3: -1, 4: 1},
            1,
            D(450),
            D(450),
            D(4550),
            False,
            D(50),
        ),
    ),
    # −200 + 800 + 750 − 150 = 1200; put wing 20: 1200 − 2000 = −800 at 0;
    # call wing 15: 1200 − 1500 = −300 above 565. Max loss 800.
    book(
        "iron_butterfly",
        [
            (opt(1, "P", 530, 1, "2.00"), ST.IRON_BUTTERFLY),
            (opt(2, "P", 550, -1, "8.00"), ST.IRON_BUTTERFLY),
            (opt(3, "C", 550, -1, "7.50"), ST.IRON_BUTTERFLY),
            (opt(4, "C", 565, 1, "1.50"), ST.IRON_BUTTERFLY),
        ],
        Expected(
            ST.IRON_BUTTERFLY,
            {1: 1, 2: -1, 3: -1, 4: 1},
            1,
            D(1200),
            D(1200),
            D(800),
            False,
            D(20),
        ),
    ),
    # 460 − 210 = 250; 1000 − 250 = 750.
    book(
        "put_credit_spread",
        [
            (opt(1, "P", 440, 1, "2.10", underlying="QQQ"), ST.PUT_CREDIT_SPREAD),
            (opt(2, "P", 450, -1, "4.60", underlying="QQQ"), ST.PUT_CREDIT_SPREAD),
        ],
        Expected(ST.PUT_CREDIT_SPREAD, {1: 1, 2: -1}, 1, D(250), D(250), D(750), False, D(10)),
    ),
    # 2 × (3.00 − 1.40) × 100 = 320; 2 × 1000 − 320 = 1680.
    book(
        "call_credit_spread_two_lots",
        [
            (opt(1, "C", 520, -2, "3.00", underlying="QQQ"), ST.CALL_CREDIT_SPREAD),
            (opt(2, "C", 530, 2, "1.40", underlying="QQQ"), ST.CALL_CREDIT_SPREAD),
        ],
        Expected(
            ST.CALL_CREDIT_SPREAD,
            {1: -2, 2: 2},
            2,
            D(320),
            D(320),
            D(1680),
            False,
            D(10),
        ),
    ),
    # −500 + 200 = −300; 1000 − 300 = 700.
    book(
        "put_debit_spread",
        [
            (opt(1, "P", 200, -1, "2.00", underlying="IWM"), ST.PUT_DEBIT_SPREAD),
            (opt(2, "P", 210, 1, "5.00", underlying="IWM"), ST.PUT_DEBIT_SPREAD),
        ],
        Expected(ST.PUT_DEBIT_SPREAD, {1: -1, 2: 1}, 1, D(-300), D(700), D(300), False, D(10)),
    ),
    # −900 + 450 = −450; 1000 − 450 = 550.
    book(
        "call_debit_spread",
        [
            (opt(1, "C", 480, 1, "9.00", underlying="QQQ"), ST.CALL_DEBIT_SPREAD),
            (opt(2, "C", 490, -1, "4.50", underlying="QQQ"), ST.CALL_DEBIT_SPREAD),
        ],
        Expected(ST.CALL_DEBIT_SPREAD, {1: 1, 2: -1}, 1, D(-450), D(550), D(450), False, D(10)),
    ),
    # 250 + 400 − 100 = 550 ≥ call width 500: no upside risk (+50 above 110);
    # to zero: 550 − 9500 = −8950.
    book(
        "jade_lizard",
        [
            (opt(1, "P", 95, -1, "2.50", underlying="XYZ"), ST.JADE_LIZARD),
            (opt(2, "C", 105, -1, "4.00", underlying="XYZ"), ST.JADE_LIZARD),
            (opt(3, "C", 110, 1, "1.00", underlying="XYZ"), ST.JADE_LIZARD),
        ],
        Expected(
            ST.JADE_LIZARD,
            {1: -1, 2: -1, 3: 1},
            1,
            D(550),
            D(550),
            D(8950),
            True,
            D(5),
        ),
    ),
    # 150 + 200 − 50 = 300 < 500: still a jade lizard, upside risk flagged
    # (300 − 500 = −200 above 110); to zero: 300 − 9500 = −9200.
    book(
        "jade_lizard_with_upside_risk",
        [
            (opt(1, "P", 95, -1, "1.50", underlying="XYZ"), ST.JADE_LIZARD),
            (opt(2, "C", 105, -1, "2.00", underlying="XYZ"), ST.JADE_LIZARD),
            (opt(3, "C", 110, 1, "0.50", underlying="XYZ"), ST.JADE_LIZARD),
        ],
        Expected(
            ST.JADE_LIZARD,
            {1: -1, 2: -1, 3: 1},
            1,
            D(300),
            D(300),
            D(9200),
            True,
            D(5),
            (FLAG_UPSIDE_RISK,),
        ),
    ),
    # −900 + 600 = −300: the debit is the max loss; profit depends on IV.
    book(
        "calendar",
        [
            (opt(1, "C", 560, -1, "6.00"), ST.CALENDAR),
            (opt(2, "C", 560, 1, "9.00", exp=MAY), ST.CALENDAR),
        ],
        Expected(ST.CALENDAR, {1: -1, 2: 1}, 1, D(-300), None, D(300), False),
    ),
    # Long put strike above the short one: the gap works for the spread.
    # −1000 + 300 = −700 = max loss.
    book(
        "put_diagonal",
        [
            (opt(1, "P", 510, -1, "3.00"), ST.DIAGONAL),
            (opt(2, "P", 520, 1, "10.00", exp=JUN), ST.DIAGONAL),
        ],
        Expected(ST.DIAGONAL, {1: -1, 2: 1}, 1, D(-700), None, D(700), False, D(10)),
    ),
    # Long call strike 10 above the short: 650 − 600 = 50 credit;
    # 10 × 100 − 50 = 950 at risk.
    book(
        "call_diagonal_against_the_gap",
        [
            (opt(1, "C", 560, -1, "6.50"), ST.DIAGONAL),
            (opt(2, "C", 570, 1, "6.00", exp=JUN), ST.DIAGONAL),
        ],
        Expected(ST.DIAGONAL, {1: -1, 2: 1}, 1, D(50), None, D(950), False, D(10)),
    ),
    book(
        "reverse_calendar",
        [
            (opt(1, "C", 560, 1, "6.00"), ST.CALENDAR),
            (opt(2, "C", 560, -1, "12.00", exp=JUN), ST.CALENDAR),
        ],
        Expected(
            ST.CALENDAR,
            {1: 1, 2: -1},
            1,
            D(600),
            None,
            None,
            True,
            None,
            (FLAG_REVERSE_CALENDAR,),
        ),
    ),
    # −1200 + 1200 − 250 = −250; 1000 − 250 = 750 at 560.
    book(
        "butterfly",
        [
            (opt(1, "C", 550, 1, "12.00"), ST.BUTTERFLY),
            (opt(2, "C", 560, -2, "6.00"), ST.BUTTERFLY),
            (opt(3, "C", 570, 1, "2.50"), ST.BUTTERFLY),
        ],
        Expected(ST.BUTTERFLY, {1: 1, 2: -2, 3: 1}, 1, D(-250), D(750), D(250), False, D(10)),
    ),
    # 2/−4/2 is one butterfly ×2: −200 + 1200 − 1200 = −200; 2000 − 200.
    book(
        "butterfly_scaled_two_four_two",
        [
            (opt(1, "P", 530, 2, "1.00"), ST.BUTTERFLY),
            (opt(2, "P", 540, -4, "3.00"), ST.BUTTERFLY),
            (opt(3, "P", 550, 2, "6.00"), ST.BUTTERFLY),
        ],
        Expected(ST.BUTTERFLY, {1: 2, 2: -4, 3: 2}, 2, D(-200), D(1800), D(200), False, D(10)),
    ),
    # One order, 1 × 550 long / 2 × 540 short: −600 + 600 = 0; best at 540:
    # 1000; at 0: 55000 − 108000 = −53000. One naked put unit.
    book(
        "put_ratio_spread_in_one_order",
        [
            (opt(1, "P", 540, -2, "3.00", order="R"), ST.RATIO_SPREAD),
            (opt(2, "P", 550, 1, "6.00", order="R"), ST.RATIO_SPREAD),
        ],
        Expected(ST.RATIO_SPREAD, {1: -2, 2: 1}, 1, D(0), D(1000), D(53000), True, D(10)),
    ),
    # 2/−4 calls is a 1:2 ratio ×2: −1000 + 800 = −200; at 570:
    # 2000 − 200 = 1800; naked calls above: unbounded loss.
    book(
        "call_ratio_spread_scaled",
        [
            (opt(1, "C", 560, 2, "5.00", order="R"), ST.RATIO_SPREAD),
            (opt(2, "C", 570, -4, "2.00", order="R"), ST.RATIO_SPREAD),
        ],
        Expected(ST.RATIO_SPREAD, {1: 2, 2: -4}, 2, D(-200), D(1800), None, True, D(10)),
    ),
    # Same legs without a shared order: a vertical and a leftover short put.
    # 540 premium 900 splits 300 / 600.
    book(
        "three_short_puts_one_long_put",
        [
            (opt(1, "P", 530, 1, "1.00"), ST.PUT_CREDIT_SPREAD),
            (opt(2, "P", 540, -3, "3.00"), ST.SHORT_PUT),
        ],
        Expected(ST.PUT_CREDIT_SPREAD, {1: 1, 2: -1}, 1, D(200), D(200), D(800), False, D(10)),
        Expected(ST.SHORT_PUT, {2: -2}, 2, D(600), D(600), D(107400), True),
    ),
    # Ambiguous: the strangle was opened as (530P, 600C) in order A, the 540P
    # alone in order B. Orders decide, though 540P is nearer the call.
    book(
        "strangle_and_separate_short_put_by_order",
        [
            (opt(1, "P", 530, -1, "2.00", order="A"), ST.SHORT_STRANGLE),
            (opt(2, "P", 540, -1, "3.00", order="B"), ST.SHORT_PUT),
            (opt(3, "C", 600, -1, "1.50", order="A"), ST.SHORT_STRANGLE),
        ],
        Expected(ST.SHORT_STRANGLE, {1: -1, 3: -1}, 1, D(350), D(350), None, True),
        Expected(ST.SHORT_PUT, {2: -1}, 1, D(300), D(300), D(53700), True),
    ),
    # Without orders the narrowest pairing wins: 540P with the 600C.
    book(
        "strangle_and_separate_short_put_without_orders",
        [
            (opt(1, "P", 530, -1, "2.00"), ST.SHORT_PUT),
            (opt(2, "P", 540, -1, "3.00"), ST.SHORT_STRANGLE),
            (opt(3, "C", 600, -1, "1.50"), ST.SHORT_STRANGLE),
        ],
        Expected(ST.SHORT_STRANGLE, {2: -1, 3: -1}, 1, D(450), D(450), None, True),
        Expected(ST.SHORT_PUT, {1: -1}, 1, D(200), D(200), D(52800), True),
    ),
    # −3 puts, −2 calls at one expiry: strangle ×2 (put premium 900 × 2/3)
    # and a short put ×1 (300; 54000 − 300).
    book(
        "strangle_and_extra_put_on_the_same_strike",
        [
            (opt(1, "P", 540, -3, "3.00"), ST.SHORT_STRANGLE),
            (opt(2, "C", 600, -2, "1.50"), ST.SHORT_STRANGLE),
        ],
        Expected(ST.SHORT_STRANGLE, {1: -2, 2: -2}, 2, D(900), D(900), None, True),
        Expected(ST.SHORT_PUT, {1: -1}, 1, D(300), D(300), D(53700), True),
    ),
    # The put side was rolled (order R1, campaign O1) for a 120 debit on the
    # old spread: calls 200 − 100, puts 350 − 150, realised −120 → 180;
    # width 10: 1000 − 180 = 820. Still one iron condor.
    book(
        "rolled_iron_condor_stays_one_campaign",
        [
            (opt(1, "P", 520, 1, "1.50", order="R1", campaign_id="O1"), ST.IRON_CONDOR),
            (
                opt(
                    2,
                    "P",
                    530,
                    -1,
                    "3.50",
                    order="R1",
                    campaign_id="O1",
                    realized_credit=D(-120),
                ),
                ST.IRON_CONDOR,
            ),
            (opt(3, "C", 600, -1, "2.00", order="O1"), ST.IRON_CONDOR),
            (opt(4, "C", 610, 1, "1.00", order="O1"), ST.IRON_CONDOR),
        ],
        Expected(
            ST.IRON_CONDOR,
            {1: 1, 2: -1, 3: -1, 4: 1},
            1,
            D(180),
            D(180),
            D(820),
            False,
            D(10),
        ),
    ),
    # The same four legs opened as two orders (legged in) are still the condor:
    # 200 + 100 = 300; 10 × 100 − 300 = 700.
    book(
        "iron_condor_legged_in_over_two_orders",
        [
            (opt(1, "P", 520, 1, "1.50", order="P1"), ST.IRON_CONDOR),
            (opt(2, "P", 530, -1, "3.50", order="P1"), ST.IRON_CONDOR),
            (opt(3, "C", 600, -1, "2.00", order="C1"), ST.IRON_CONDOR),
            (opt(4, "C", 610, 1, "1.00", order="C1"), ST.IRON_CONDOR),
        ],
        Expected(
            ST.IRON_CONDOR, {1: 1, 2: -1, 3: -1, 4: 1}, 1, D(300), D(300), D(700), False, D(10)
        ),
    ),
    # A roll in one order (closed the old strangle for −50, opened this one):
    # 300 + 150 − 50 = 400.
    book(
        "strangle_rolled_in_one_order",
        [
            (
                opt(1, "P", 520, -1, "3.00", exp=MAY, order="R2", realized_credit=D(-50)),
                ST.SHORT_STRANGLE,
            ),
            (opt(2, "C", 610, -1, "1.50", exp=MAY, order="R2"), ST.SHORT_STRANGLE),
        ],
        Expected(ST.SHORT_STRANGLE, {1: -1, 2: -1}, 1, D(400), D(400), None, True),
    ),
    book(
        "accounts_never_mix",
        [
            (opt(1, "P", 540, -1, "3.00", account=MARGIN), ST.SHORT_PUT),
            (opt(2, "C", 600, -1, "1.50", account="5WT00003"), ST.SHORT_CALL),
        ],
        Expected(ST.SHORT_PUT, {1: -1}, 1, D(300), D(300), D(53700), True),
        Expected(ST.SHORT_CALL, {2: -1}, 1, D(150), D(150), None, True),
    ),
    book(
        "underlyings_never_mix",
        [
            (opt(1, "P", 540, -1, "3.00"), ST.SHORT_PUT),
            (opt(2, "C", 500, -1, "1.50", underlying="QQQ"), ST.SHORT_CALL),
        ],
        Expected(ST.SHORT_PUT, {1: -1}, 1, D(300), D(300), D(53700), True),
        Expected(ST.SHORT_CALL, {2: -1}, 1, D(150), D(150), None, True),
    ),
    # IC ×2 (long put −300 × 2/3 = −200; −200 + 600 + 500 − 200 = 700;
    # 2000 − 700 = 1300) and the third long put (−100; 53000 − 100).
    book(
        "iron_condor_with_a_spare_long_put",
        [
            (opt(1, "P", 530, 3, "1.00"), ST.IRON_CONDOR),
            (opt(2, "P", 540, -2, "3.00"), ST.IRON_CONDOR),
            (opt(3, "C", 600, -2, "2.50"), ST.IRON_CONDOR),
            (opt(4, "C", 610, 2, "1.00"), ST.IRON_CONDOR),
        ],
        Expected(
            ST.IRON_CONDOR,
            {1: 2, 2: -2, 3: -2, 4: 2},
            2,
            D(700),
            D(700),
            D(1300),
            False,
            D(10),
        ),
        Expected(ST.LONG_PUT, {1: 1}, 1, D(-100), D(52900), D(100), False),
    ),
    # Unequal wings: a broken-wing butterfly. Credit −100 + 600 − 500 = 0; at
    # 540: +500; below 530: 15 − 20 = −5 × 100 = −500. Wider wing 10.
    book(
        "broken_wing_butterfly",
        [
            (opt(1, "P", 530, 1, "1.00"), ST.BROKEN_WING_BUTTERFLY),
            (opt(2, "P", 540, -2, "3.00"), ST.BROKEN_WING_BUTTERFLY),
            (opt(3, "P", 545, 1, "5.00"), ST.BROKEN_WING_BUTTERFLY),
        ],
        Expected(
            ST.BROKEN_WING_BUTTERFLY, {1: 1, 2: -2, 3: 1}, 1, D(0), D(500), D(500), False, D(10)
        ),
    ),
    # Short 100 straddle + long 105 call: credit 350 + 450 − 100 = 700 (max
    # profit at 100); above 105: 700 − 500 = 200; to zero: 700 − 10000.
    book(
        "big_lizard",
        [
            (opt(1, "P", 100, -1, "3.50", underlying="XYZ"), ST.BIG_LIZARD),
            (opt(2, "C", 100, -1, "4.50", underlying="XYZ"), ST.BIG_LIZARD),
            (opt(3, "C", 105, 1, "1.00", underlying="XYZ"), ST.BIG_LIZARD),
        ],
        Expected(ST.BIG_LIZARD, {1: -1, 2: -1, 3: 1}, 1, D(700), D(700), D(9300), True, D(5)),
    ),
    # Short 110 call + 95/90 put credit spread: credit −100 + 200 + 250 = 350;
    # below 90: 350 − 500; the naked call's loss is unbounded.
    book(
        "reverse_jade_lizard",
        [
            (opt(1, "P", 90, 1, "1.00", underlying="XYZ"), ST.REVERSE_JADE_LIZARD),
            (opt(2, "P", 95, -1, "2.00", underlying="XYZ"), ST.REVERSE_JADE_LIZARD),
            (opt(3, "C", 110, -1, "2.50", underlying="XYZ"), ST.REVERSE_JADE_LIZARD),
        ],
        Expected(ST.REVERSE_JADE_LIZARD, {1: 1, 2: -1, 3: -1}, 1, D(350), D(350), None, True, D(5)),
    ),
    # 100 KO at 60, short 65 call 1.00, long 55 put 0.80: −6000 + 100 − 80 =
    # −5980; called away at 65: +520; put at 55: −480.
    book(
        "collar",
        [
            (shares(1, 100, "60"), ST.COLLAR),
            (opt(2, "C", 65, -1, "1.00", underlying="KO"), ST.COLLAR),
            (opt(3, "P", 55, 1, "0.80", underlying="KO"), ST.COLLAR),
        ],
        Expected(ST.COLLAR, {1: 100, 2: -1, 3: 1}, 1, D(-5980), D(520), D(480), False),
    ),
    # Long 100 call 5.00, short 100 put 4.00: −100; like 100 shares bought at 101.
    book(
        "synthetic_long",
        [
            (opt(1, "C", 100, 1, "5.00", underlying="XYZ"), ST.SYNTHETIC_LONG),
            (opt(2, "P", 100, -1, "4.00", underlying="XYZ"), ST.SYNTHETIC_LONG),
        ],
        Expected(ST.SYNTHETIC_LONG, {1: 1, 2: -1}, 1, D(-100), None, D(10100), True),
    ),
    # Short 100 call 5.00, long 100 put 4.00: +100; like 100 shares sold at 101.
    book(
        "synthetic_short",
        [
            (opt(1, "C", 100, -1, "5.00", underlying="XYZ"), ST.SYNTHETIC_SHORT),
            (opt(2, "P", 100, 1, "4.00", underlying="XYZ"), ST.SYNTHETIC_SHORT),
        ],
        Expected(ST.SYNTHETIC_SHORT, {1: -1, 2: 1}, 1, D(100), D(10100), None, True),
    ),
    # A 1:2 put ratio without an opening order (a manual book): as in one order.
    book(
        "put_ratio_spread_without_order",
        [
            (opt(1, "P", 540, -2, "3.00"), ST.RATIO_SPREAD),
            (opt(2, "P", 550, 1, "6.00"), ST.RATIO_SPREAD),
        ],
        Expected(ST.RATIO_SPREAD, {1: -2, 2: 1}, 1, D(0), D(1000), D(53000), True, D(10)),
    ),
    # /ES options: multiplier 50; 40 × 50 = 2000; 5200 × 50 − 2000 = 258000.
    book(
        "futures_short_put",
        [
            (
                opt(
                    1,
                    "P",
                    5200,
                    -1,
                    "40.00",
                    underlying="/ESM6",
                    multiplier=50,
                    instrument="Future Option",
                ),
                ST.SHORT_PUT,
            )
        ],
        Expected(ST.SHORT_PUT, {1: -1}, 1, D(2000), D(2000), D(258000), True),
    ),
    # Long future: −5400 × 50 = −270000 notional; leveraged, so undefined.
    book(
        "future_alone",
        [
            (
                LegView(
                    id=1,
                    account=MARGIN,
                    underlying="/ESM6",
                    instrument_type="Future",
                    quantity=1,
                    multiplier=50,
                    average_open_price=D("5400.00"),
                ),
                ST.FUTURE,
            )
        ],
        Expected(ST.FUTURE, {1: 1}, 1, D(-270000), None, D(270000), True),
    ),
    # One future covers one call of the same multiplier: −270000 + 1500;
    # (5600 − 5400) × 50 + 1500 = 11500.
    book(
        "future_covered_call",
        [
            (
                LegView(
                    id=1,
                    account=MARGIN,
                    underlying="/ESM6",
                    instrument_type="Future",
                    quantity=1,
                    multiplier=50,
                    average_open_price=D("5400.00"),
                ),
                ST.COVERED_CALL,
            ),
            (
                opt(
                    2,
                    "C",
                    5600,
                    -1,
                    "30.00",
                    underlying="/ESM6",
                    multiplier=50,
                    instrument="Future Option",
                ),
                ST.COVERED_CALL,
            ),
        ],
        Expected(ST.COVERED_CALL, {1: 1, 2: -1}, 1, D(-268500), D(11500), D(268500), True),
    ),
    book(
        "unknown_instrument_is_other",
        [
            (
                LegView(
                    id="btc",
                    account=MARGIN,
                    underlying="BTC/USD",
                    instrument_type="Cryptocurrency",
                    quantity=D("0.5"),
                    average_open_price=D("60000"),
                ),
                ST.OTHER,
            )
        ],
        Expected(ST.OTHER, {"btc": D("0.5")}, D("0.5"), D(-30000), None, None, True),
    ),
    # No long straddle in the vocabulary: two long singles.
    book(
        "long_straddle_stays_two_singles",
        [
            (opt(1, "P", 225, 1, "7.00", underlying="AAPL"), ST.LONG_PUT),
            (opt(2, "C", 225, 1, "6.50", underlying="AAPL"), ST.LONG_CALL),
        ],
        Expected(ST.LONG_PUT, {1: 1}, 1, D(-700), D(21800), D(700), False),
        Expected(ST.LONG_CALL, {2: 1}, 1, D(-650), None, D(650), False),
    ),
    # Covered call beats the strangle; the put stays a short put (100;
    # 5500 − 100 = 5400).
    book(
        "covered_strangle",
        [
            (shares(1, 100, "60.00"), ST.COVERED_CALL),
            (opt(2, "C", 65, -1, "1.20", underlying="KO"), ST.COVERED_CALL),
            (opt(3, "P", 55, -1, "1.00", underlying="KO"), ST.SHORT_PUT),
        ],
        Expected(ST.COVERED_CALL, {1: 100, 2: -1}, 1, D(-5880), D(620), D(5880), False),
        Expected(ST.SHORT_PUT, {3: -1}, 1, D(100), D(100), D(5400), True),
    ),
    # String ids and premium given directly in $ (no average price).
    book(
        "premium_received_and_string_ids",
        [
            (
                LegView(
                    id="SPY   260417P00540000",
                    account=MARGIN,
                    underlying="SPY",
                    instrument_type="Equity Option",
                    option_type="P",
                    strike=D(540),
                    expiration=APR,
                    quantity=-1,
                    multiplier=100,
                    premium_received=D("435.00"),
                ),
                ST.PUT_CREDIT_SPREAD,
            ),
            (
                LegView(
                    id="SPY   260417P00535000",
                    account=MARGIN,
                    underlying="SPY",
                    instrument_type="Equity Option",
                    option_type="P",
                    strike=D(535),
                    expiration=APR,
                    quantity=1,
                    multiplier=100,
                    premium_received=D("-310.00"),
                ),
                ST.PUT_CREDIT_SPREAD,
            ),
        ],
        Expected(
            ST.PUT_CREDIT_SPREAD,
            {"SPY   260417P00540000": -1, "SPY   260417P00535000": 1},
            1,
            D(125),
            D(125),
            D(375),
            False,
            D(5),
        ),
    ),
)
