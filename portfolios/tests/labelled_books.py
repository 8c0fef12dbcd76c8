"""More labelled books, as traders hold them: leftovers after partial closes,
multiples, mixed expiries, several underlyings, futures options, legs opened
over several orders. Each lists the groups a trader would name, with the
quantity of each leg the group holds (legs may be split across groups).

With strategy_books.BOOKS they form the labelled set the detection accuracy
is measured on (test_strategies.test_labelled_set_accuracy).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from portfolios.strategies import LegView
from portfolios.strategy_types import StrategyType as ST
from portfolios.tests.strategy_books import APR, IRA, JUN, MAY, opt, shares


@dataclass(frozen=True)
class Labelled:
    name: str
    legs: tuple[LegView, ...]
    groups: tuple[tuple[ST, Mapping[int | str, int]], ...]


def labelled(name, legs, *groups) -> Labelled:
    return Labelled(name=name, legs=tuple(legs), groups=tuple(groups))


def es(leg_id, kind, strike, quantity, price, **kw):
    """A /ES futures option (multiplier 50)."""
    return opt(
        leg_id,
        kind,
        strike,
        quantity,
        price,
        underlying="/ESM6",
        multiplier=50,
        instrument="Future Option",
        **kw,
    )


def future(leg_id, quantity, price, *, underlying="/MESM6", multiplier=5):
    return LegView(
        id=leg_id,
        account="5WT00001",
        underlying=underlying,
        instrument_type="Future",
        quantity=quantity,
        multiplier=multiplier,
        average_open_price=price,
    )


def ira(leg_id, kind, strike, quantity, price, **kw):
    return opt(leg_id, kind, strike, quantity, price, account=IRA, account_is_cash=True, **kw)


LABELLED: tuple[Labelled, ...] = (
    labelled(
        "condor_x3_one_put_spread_partly_closed",
        [
            opt(1, "P", 500, 2, "1.00"),
            opt(2, "P", 510, -2, "2.00"),
            opt(3, "C", 600, -3, "2.00"),
            opt(4, "C", 610, 3, "1.00"),
        ],
        (ST.IRON_CONDOR, {1: 2, 2: -2, 3: -2, 4: 2}),
        (ST.CALL_CREDIT_SPREAD, {3: -1, 4: 1}),
    ),
    labelled(
        "strangle_with_three_puts_two_calls",
        [
            opt(1, "P", 50, -3, "1.10", underlying="XYZ"),
            opt(2, "C", 70, -2, "1.20", underlying="XYZ"),
        ],
        (ST.SHORT_STRANGLE, {1: -2, 2: -2}),
        (ST.SHORT_PUT, {1: -1}),
    ),
    labelled(
        "hundred_shares_two_short_calls",
        [shares(1, 100, "85"), opt(2, "C", 92, -2, "0.75", underlying="KO")],
        (ST.COVERED_CALL, {1: 100, 2: -1}),
        (ST.SHORT_CALL, {2: -1}),
    ),
    labelled(
        "three_short_puts_one_long_put",
        [
            opt(1, "P", 240, -3, "3.40", underlying="XYZ"),
            opt(2, "P", 190, 1, "2.00", underlying="XYZ"),
        ],
        (ST.PUT_CREDIT_SPREAD, {1: -1, 2: 1}),
        (ST.SHORT_PUT, {1: -2}),
    ),
    labelled(
        "collar_x2",
        [
            shares(1, 200, "60"),
            opt(2, "C", 65, -2, "1.00", underlying="KO"),
            opt(3, "P", 55, 2, "0.80", underlying="KO"),
        ],
        (ST.COLLAR, {1: 200, 2: -2, 3: 2}),
    ),
    labelled(
        "collar_x2_with_spare_shares",
        [
            shares(1, 300, "60"),
            opt(2, "C", 65, -2, "1.00", underlying="KO"),
            opt(3, "P", 55, 2, "0.80", underlying="KO"),
        ],
        (ST.COLLAR, {1: 200, 2: -2, 3: 2}),
        (ST.STOCK, {1: 100}),
    ),
    labelled(
        "jade_lizard_legged_in",
        [
            opt(1, "P", 90, -1, "1.50", underlying="XYZ", order="A"),
            opt(2, "C", 105, -1, "1.60", underlying="XYZ", order="B"),
            opt(3, "C", 107, 1, "0.40", underlying="XYZ", order="B"),
        ],
        (ST.JADE_LIZARD, {1: -1, 2: -1, 3: 1}),
    ),
    labelled(
        "reverse_jade_lizard_legged_in",
        [
            opt(1, "P", 90, 1, "1.00", underlying="XYZ", order="A"),
            opt(2, "P", 95, -1, "2.00", underlying="XYZ", order="A"),
            opt(3, "C", 110, -1, "2.50", underlying="XYZ", order="B"),
        ],
        (ST.REVERSE_JADE_LIZARD, {1: 1, 2: -1, 3: -1}),
    ),
    labelled(
        "es_strangle",
        [es(1, "P", 4800, -1, "25"), es(2, "C", 5400, -1, "20")],
        (ST.SHORT_STRANGLE, {1: -1, 2: -1}),
    ),
    labelled(
        "es_short_put_and_mes_future",
        [es(1, "P", 4800, -2, "25"), future(2, 1, "5000")],
        (ST.SHORT_PUT, {1: -2}),
        (ST.FUTURE, {2: 1}),
    ),
    labelled(
        "mes_covered_call",
        [
            future(1, 1, "5000"),
            opt(
                2,
                "C",
                5200,
                -1,
                "30",
                underlying="/MESM6",
                multiplier=5,
                instrument="Future Option",
            ),
        ],
        (ST.COVERED_CALL, {1: 1, 2: -1}),
    ),
    labelled(
        "es_iron_condor",
        [
            es(1, "P", 4700, 1, "10"),
            es(2, "P", 4750, -1, "15"),
            es(3, "C", 5400, -1, "14"),
            es(4, "C", 5450, 1, "9"),
        ],
        (ST.IRON_CONDOR, {1: 1, 2: -1, 3: -1, 4: 1}),
    ),
    labelled(
        "call_calendar_x2",
        [opt(1, "C", 560, 2, "9.00", exp=JUN), opt(2, "C", 560, -2, "5.00")],
        (ST.CALENDAR, {1: 2, 2: -2}),
    ),
    labelled(
        "put_diagonal",
        [opt(1, "P", 520, 1, "8.00", exp=JUN), opt(2, "P", 530, -1, "5.00")],
        (ST.DIAGONAL, {1: 1, 2: -1}),
    ),
    labelled(
        "two_condors_two_expiries",
        [
            opt(1, "P", 500, 1, "1.00"),
            opt(2, "P", 510, -1, "2.00"),
            opt(3, "C", 600, -1, "2.00"),
            opt(4, "C", 610, 1, "1.00"),
            opt(5, "P", 495, 1, "2.00", exp=MAY),
            opt(6, "P", 505, -1, "3.00", exp=MAY),
            opt(7, "C", 605, -1, "3.00", exp=MAY),
            opt(8, "C", 615, 1, "2.00", exp=MAY),
        ],
        (ST.IRON_CONDOR, {1: 1, 2: -1, 3: -1, 4: 1}),
        (ST.IRON_CONDOR, {5: 1, 6: -1, 7: -1, 8: 1}),
    ),
    labelled(
        "condor_after_closing_one_short_put",
        [
            opt(1, "P", 500, 2, "1.00"),
            opt(2, "P", 510, -1, "2.00"),
            opt(3, "C", 600, -2, "2.00"),
            opt(4, "C", 610, 2, "1.00"),
        ],
        (ST.IRON_CONDOR, {1: 1, 2: -1, 3: -1, 4: 1}),
        (ST.CALL_CREDIT_SPREAD, {3: -1, 4: 1}),
        (ST.LONG_PUT, {1: 1}),
    ),
    labelled(
        "call_butterfly_x2",
        [opt(1, "C", 550, 2, "9.00"), opt(2, "C", 560, -4, "5.00"), opt(3, "C", 570, 2, "2.00")],
        (ST.BUTTERFLY, {1: 2, 2: -4, 3: 2}),
    ),
    labelled(
        "call_broken_wing_butterfly",
        [
            opt(1, "C", 100, 1, "6.00", underlying="XYZ"),
            opt(2, "C", 105, -2, "3.00", underlying="XYZ"),
            opt(3, "C", 115, 1, "0.50", underlying="XYZ"),
        ],
        (ST.BROKEN_WING_BUTTERFLY, {1: 1, 2: -2, 3: 1}),
    ),
    labelled(
        "iron_butterfly",
        [
            opt(1, "P", 540, 1, "2.00"),
            opt(2, "P", 560, -1, "8.00"),
            opt(3, "C", 560, -1, "8.00"),
            opt(4, "C", 580, 1, "2.00"),
        ],
        (ST.IRON_BUTTERFLY, {1: 1, 2: -1, 3: -1, 4: 1}),
    ),
    labelled(
        "big_lizard_x2",
        [
            opt(1, "P", 100, -2, "3.50", underlying="XYZ"),
            opt(2, "C", 100, -2, "4.50", underlying="XYZ"),
            opt(3, "C", 105, 2, "1.00", underlying="XYZ"),
        ],
        (ST.BIG_LIZARD, {1: -2, 2: -2, 3: 2}),
    ),
    labelled(
        "synthetic_long_on_aapl",
        [
            opt(1, "C", 230, 1, "8.00", underlying="AAPL"),
            opt(2, "P", 230, -1, "7.00", underlying="AAPL"),
        ],
        (ST.SYNTHETIC_LONG, {1: 1, 2: -1}),
    ),
    labelled(
        "synthetic_short_on_tsla",
        [
            opt(1, "C", 300, -2, "20.00", underlying="TSLA"),
            opt(2, "P", 300, 2, "18.00", underlying="TSLA"),
        ],
        (ST.SYNTHETIC_SHORT, {1: -2, 2: 2}),
    ),
    labelled(
        "call_ratio_in_one_order",
        [opt(1, "C", 560, 1, "5.00", order="R"), opt(2, "C", 570, -2, "2.00", order="R")],
        (ST.RATIO_SPREAD, {1: 1, 2: -2}),
    ),
    labelled(
        "put_ratio_manual_with_other_expiry_put",
        [
            opt(1, "P", 550, 1, "6.00"),
            opt(2, "P", 540, -2, "3.00"),
            opt(3, "P", 500, -1, "4.00", exp=JUN),
        ],
        (ST.RATIO_SPREAD, {1: 1, 2: -2}),
        (ST.SHORT_PUT, {3: -1}),
    ),
    labelled(
        "long_and_short_stock",
        [shares(1, 50, "60"), shares(2, -30, "200", underlying="TSLA")],
        (ST.STOCK, {1: 50}),
        (ST.STOCK, {2: -30}),
    ),
    labelled(
        "long_straddle_is_two_longs",
        [opt(1, "C", 560, 1, "8.00"), opt(2, "P", 560, 1, "7.00")],
        (ST.LONG_CALL, {1: 1}),
        (ST.LONG_PUT, {2: 1}),
    ),
    labelled(
        "put_debit_spread_x5",
        [opt(1, "P", 560, 5, "8.00"), opt(2, "P", 550, -5, "5.00")],
        (ST.PUT_DEBIT_SPREAD, {1: 5, 2: -5}),
    ),
    labelled(
        "call_debit_spread",
        [
            opt(1, "C", 550, 1, "9.00", underlying="QQQ"),
            opt(2, "C", 560, -1, "5.00", underlying="QQQ"),
        ],
        (ST.CALL_DEBIT_SPREAD, {1: 1, 2: -1}),
    ),
    labelled(
        "straddle_and_strangle_two_expiries",
        [
            opt(1, "P", 560, -1, "8.00"),
            opt(2, "C", 560, -1, "8.00"),
            opt(3, "P", 520, -1, "5.00", exp=MAY),
            opt(4, "C", 600, -1, "4.00", exp=MAY),
        ],
        (ST.SHORT_STRADDLE, {1: -1, 2: -1}),
        (ST.SHORT_STRANGLE, {3: -1, 4: -1}),
    ),
    labelled(
        "cash_secured_puts_in_ira_x3",
        [ira(1, "P", 50, -3, "1.00", underlying="KO")],
        (ST.CASH_SECURED_PUT, {1: -3}),
    ),
    labelled(
        "covered_call_with_odd_shares",
        [shares(1, 150, "60"), opt(2, "C", 65, -1, "1.00", underlying="KO")],
        (ST.COVERED_CALL, {1: 100, 2: -1}),
        (ST.STOCK, {1: 50}),
    ),
    labelled(
        "covered_call_in_ira",
        [
            LegView(
                id=1,
                account=IRA,
                underlying="KO",
                instrument_type="Equity",
                quantity=100,
                average_open_price="60",
                account_is_cash=True,
            ),
            ira(2, "C", 65, -1, "1.00", underlying="KO"),
        ],
        (ST.COVERED_CALL, {1: 100, 2: -1}),
    ),
    labelled(
        "mixed_book_four_underlyings",
        [
            opt(1, "P", 500, 1, "1.00"),
            opt(2, "P", 510, -1, "2.00"),
            opt(3, "C", 600, -1, "2.00"),
            opt(4, "C", 610, 1, "1.00"),
            opt(5, "P", 450, -1, "4.00", underlying="QQQ"),
            opt(6, "C", 520, -1, "3.00", underlying="QQQ"),
            shares(7, 100, "60"),
            opt(8, "C", 65, -1, "1.00", underlying="KO"),
            opt(9, "P", 210, -1, "3.00", underlying="AAPL"),
        ],
        (ST.IRON_CONDOR, {1: 1, 2: -1, 3: -1, 4: 1}),
        (ST.SHORT_STRANGLE, {5: -1, 6: -1}),
        (ST.COVERED_CALL, {7: 100, 8: -1}),
        (ST.SHORT_PUT, {9: -1}),
    ),
    labelled(
        "vertical_legged_in_two_orders",
        [opt(1, "P", 530, -1, "3.50", order="A"), opt(2, "P", 520, 1, "1.50", order="B")],
        (ST.PUT_CREDIT_SPREAD, {1: -1, 2: 1}),
    ),
    labelled(
        "condor_legged_in_four_orders",
        [
            opt(1, "P", 500, 1, "1.00", order="A"),
            opt(2, "P", 510, -1, "2.00", order="B"),
            opt(3, "C", 600, -1, "2.00", order="C"),
            opt(4, "C", 610, 1, "1.00", order="D"),
        ],
        (ST.IRON_CONDOR, {1: 1, 2: -1, 3: -1, 4: 1}),
    ),
    labelled(
        "condor_put_spread_ordered_call_spread_manual",
        [
            opt(1, "P", 500, 1, "1.00", order="A"),
            opt(2, "P", 510, -1, "2.00", order="A"),
            opt(3, "C", 600, -1, "2.00"),
            opt(4, "C", 610, 1, "1.00"),
        ],
        (ST.IRON_CONDOR, {1: 1, 2: -1, 3: -1, 4: 1}),
    ),
    labelled(
        "strangle_put_rolled_down_in_another_order",
        [opt(1, "P", 510, -1, "4.00", order="R"), opt(2, "C", 600, -1, "2.00", order="O")],
        (ST.SHORT_STRANGLE, {1: -1, 2: -1}),
    ),
    labelled(
        "put_spread_x3_after_closing_one_long",
        [opt(1, "P", 510, -3, "3.00"), opt(2, "P", 500, 2, "2.00")],
        (ST.PUT_CREDIT_SPREAD, {1: -2, 2: 2}),
        (ST.SHORT_PUT, {1: -1}),
    ),
    labelled(
        "jade_lizard_with_extra_put",
        [
            opt(1, "P", 90, -2, "1.50", underlying="XYZ"),
            opt(2, "C", 105, -1, "1.60", underlying="XYZ"),
            opt(3, "C", 107, 1, "0.40", underlying="XYZ"),
        ],
        (ST.JADE_LIZARD, {1: -1, 2: -1, 3: 1}),
        (ST.SHORT_PUT, {1: -1}),
    ),
    labelled(
        "put_diagonal_and_front_short_put",
        [opt(1, "P", 520, 1, "8.00", exp=JUN), opt(2, "P", 530, -2, "5.00")],
        (ST.DIAGONAL, {1: 1, 2: -1}),
        (ST.SHORT_PUT, {2: -1}),
    ),
    labelled(
        "calendar_and_strangle_other_expiry",
        [
            opt(1, "C", 560, 1, "9.00", exp=JUN),
            opt(2, "C", 560, -1, "5.00"),
            opt(3, "P", 520, -1, "5.00", exp=MAY),
            opt(4, "C", 600, -1, "4.00", exp=MAY),
        ],
        (ST.CALENDAR, {1: 1, 2: -1}),
        (ST.SHORT_STRANGLE, {3: -1, 4: -1}),
    ),
    labelled(
        "short_calls_x2_on_futures_options",
        [es(1, "C", 5400, -2, "20", exp=APR)],
        (ST.SHORT_CALL, {1: -2}),
    ),
)
