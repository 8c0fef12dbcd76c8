"""Buying power by Tastytrade's published rules: requirement and BPR per group, in $.

Each case is a book's groups as detection splits them (a leg's quantity may
sit in several groups); prices are $ per share, premiums at open $ for the
part (credit > 0). Figures are worked in the comments.
"""

import datetime as dt
from decimal import Decimal

import pytest

from metrics.buying_power import (
    MarginLeg,
    book_buying_power,
    group_buying_power,
    reconcile_net_liq,
)
from portfolios.instruments import MarginRule

MAR = dt.date(2026, 3, 20)
JUN = dt.date(2026, 6, 18)
MARGIN = MarginRule.REG_T_MARGIN
CASH = MarginRule.REG_T_CASH


def D(value) -> Decimal:  # noqa: N802 - reads like a literal
    return Decimal(str(value))


def opt(kind, strike, quantity, mark, opened, *, under, exp=MAR, mult=100, future=False):
    """An option part; ``opened`` is the price per share it was opened at."""
    return MarginLeg(
        leg_id=f"{kind}{strike}{exp}",
        instrument_type="Future Option" if future else "Equity Option",
        quantity=D(quantity),
        multiplier=D(mult),
        price=D(mark),
        underlying_price=D(under),
        option_type=kind,
        strike=D(strike),
        expiration=exp,
        open_premium=-D(opened) * D(quantity) * D(mult),
    )


def stock(quantity, price):
    return MarginLeg(
        leg_id="stock",
        instrument_type="Equity",
        quantity=D(quantity),
        multiplier=D(1),
        price=D(price),
        underlying_price=D(price),
        open_premium=-D(price) * D(quantity),
    )


CASES = {
    # article 43000435177: [(.2 × 47.50 − 2.50) + .50] × 100 = $750; BPR 750 − 50.
    "naked put (published)": (
        MARGIN,
        {"put": ("short_put", [opt("P", 45, -1, "0.50", "0.50", under="47.50")])},
        "750.00",
        "700.00",
    ),
    # article 43000435282: call side 910 > put side 820 → 910 + 120 of put premium.
    "strangle (published)": (
        MARGIN,
        {
            "strangle": (
                "short_strangle",
                [
                    opt("C", 47, -1, "2.10", "2.10", under=45),
                    opt("P", 43, -1, "1.20", "1.20", under=45),
                ],
            )
        },
        "1030.00",
        "700.00",
    ),
    # article 43000435285: 6 × 11 × 100 = 6,600 − 450 received = 6,150.
    "cash-secured put ×6 (published)": (
        CASH,
        {"csp": ("cash_secured_put", [opt("P", 11, -6, "0.75", "0.75", under=12)])},
        "6600.00",
        "6150.00",
    ),
    # Put credit spread 240/190 ×1: width 5,000, credit 340 − 200 = 140.
    # Short 240P ×2 naked, stock 250: (50 − 10 + 4.10) × 200 = 8,820, credit 680.
    # 13,820 / 13,000.
    "3 short puts + 1 long put": (
        MARGIN,
        {
            "spread": (
                "put_credit_spread",
                [
                    opt("P", 240, -1, "4.10", "3.40", under=250),
                    opt("P", 190, 1, "0.90", "2.00", under=250),
                ],
            ),
            "naked": ("short_put", [opt("P", 240, -2, "4.10", "3.40", under=250)]),
        },
        "13820.00",
        "13000.00",
    ),
    # Strangle ×2, stock 60: call side (6 + .65) × 200 = 1,330 > put side
    # (5 + .80) × 200 = 1,160 → 1,330 + 160; the third put: 580. Credit 570.
    "strangle with 3 puts and 2 calls": (
        MARGIN,
        {
            "strangle": (
                "short_strangle",
                [
                    opt("P", 50, -2, "0.80", "1.10", under=60),
                    opt("C", 70, -2, "0.65", "1.20", under=60),
                ],
            ),
            "put": ("short_put", [opt("P", 50, -1, "0.80", "1.10", under=60)]),
        },
        "2070.00",
        "1500.00",
    ),
    # Covered call: 50 % of 100 × 90 = 4,500; the second call naked, stock 90:
    # (18 − 2 + 4) × 100 = 2,000. Credit 2 × 75 = 150 → 6,500 / 6,350.
    "100 shares + 2 short calls": (
        MARGIN,
        {
            "covered": (
                "covered_call",
                [stock(100, 90), opt("C", 92, -1, "4.00", "0.75", under=90)],
            ),
            "naked": ("short_call", [opt("C", 92, -1, "4.00", "0.75", under=90)]),
        },
        "6500.00",
        "6350.00",
    ),
    # article 43000435229: 3 wide × 2 = $600; credit (1.25 − .80 + 2 − .75) × 200 = 340.
    "iron condor ×2 (published)": (
        MARGIN,
        {
            "ic": (
                "iron_condor",
                [
                    opt("P", 50, 2, "0.80", "0.80", under=60),
                    opt("P", 53, -2, "1.25", "1.25", under=60),
                    opt("C", 67, -2, "2.00", "2.00", under=60),
                    opt("C", 70, 2, "0.75", "0.75", under=60),
                ],
            )
        },
        "600.00",
        "260.00",
    ),
    # Jade lizard, stock 100: put (20 − 10 + 1.50) × 100 = 1,150; the 105/107 call
    # spread (200) is paid for by the 270 credit, so + its premium 160 − 40 = 1,270.
    "jade lizard": (
        MARGIN,
        {
            "jl": (
                "jade_lizard",
                [
                    opt("P", 90, -1, "1.50", "1.50", under=100),
                    opt("C", 105, -1, "1.60", "1.60", under=100),
                    opt("C", 107, 1, "0.40", "0.40", under=100),
                ],
            )
        },
        "1270.00",
        "1000.00",
    ),
    # Broken-wing put butterfly 105/100×2/85: worst payoff below 85 is
    # 20 − 30 = −10 × 100 = 1,000; credit −600 + 800 − 80 = 120.
    "broken-wing butterfly": (
        MARGIN,
        {
            "bwb": (
                "broken_wing_butterfly",
                [
                    opt("P", 105, 1, "7.00", "6.00", under=104),
                    opt("P", 100, -2, "4.50", "4.00", under=104),
                    opt("P", 85, 1, "1.00", "0.80", under=104),
                ],
            )
        },
        "1000.00",
        "880.00",
    ),
    # Big lizard, stock 100: put (20 + 3) × 100 = 2,300; the 100/105 call spread
    # (500) is paid for by the 700 credit → + its premium 500 − 100 = 2,700.
    "big lizard": (
        MARGIN,
        {
            "bl": (
                "big_lizard",
                [
                    opt("P", 100, -1, "3.00", "3.50", under=100),
                    opt("C", 100, -1, "5.00", "4.50", under=100),
                    opt("C", 105, 1, "1.00", "1.00", under=100),
                ],
            )
        },
        "2700.00",
        "2000.00",
    ),
    # Put ratio 1×2: the covered 100/95 debit spread needs nothing beyond its
    # debit; the second 95P is naked, stock 100: (20 − 5 + 2) × 100 = 1,700.
    # Credit 2 × 200 − 350 = 50.
    "put ratio spread": (
        MARGIN,
        {
            "ratio": (
                "ratio_spread",
                [
                    opt("P", 100, 1, "3.00", "3.50", under=100),
                    opt("P", 95, -2, "2.00", "2.00", under=100),
                ],
            )
        },
        "1700.00",
        "1650.00",
    ),
    # article 43000435296: long Jun 43C at 3.00, short Mar 43C at 1.00, ×4 → $800 debit.
    "long calendar (published)": (
        MARGIN,
        {
            "cal": (
                "calendar",
                [
                    opt("C", 43, 4, "3.00", "3.00", under=40, exp=JUN),
                    opt("C", 43, -4, "1.00", "1.00", under=40),
                ],
            )
        },
        "0.00",
        "800.00",
    ),
    # Call diagonal, long back 45C under short front 43C: 2 × 100 of strike gap.
    "call diagonal, long strike above": (
        MARGIN,
        {
            "diag": (
                "diagonal",
                [
                    opt("C", 45, 1, "2.00", "2.00", under=40, exp=JUN),
                    opt("C", 43, -1, "1.00", "1.00", under=40),
                ],
            )
        },
        "200.00",
        "300.00",
    ),
    # Collar, stock 50: 50 % of 100 × 50 = 2,500; the long put's 100 debit and
    # the call's 120 credit enter the BPR only.
    "collar": (
        MARGIN,
        {
            "collar": (
                "collar",
                [
                    stock(100, 50),
                    opt("C", 55, -1, "1.20", "1.20", under=50),
                    opt("P", 45, 1, "1.00", "1.00", under=50),
                ],
            )
        },
        "2500.00",
        "2480.00",
    ),
    # /ES short put (multiplier 50), /ES 5,000: (1,000 − 200 + 20) × 50 = 41,000,
    # flagged an estimate (SPAN); credit 25 × 50 = 1,250.
    "/ES short put": (
        MARGIN,
        {
            "es": (
                "short_put",
                [opt("P", 4800, -1, "20", "25", under=5000, mult=50, future=True)],
            )
        },
        "41000.00",
        "39750.00",
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_rule_gives_published_requirement_and_reduction(name):
    rule, groups, requirement, reduction = CASES[name]

    result = book_buying_power(groups, rule=rule)

    assert (result.requirement, result.reduction) == (D(requirement), D(reduction))
    assert result.used == D(reduction)
    assert result.unsupported == 0


def test_iron_condor_reduction_does_not_move_with_the_marks():
    # given the published iron condor ×2, credit 340 at open
    def condor(put_marks, call_marks):
        (lp, sp), (sc, lc) = put_marks, call_marks
        return [
            opt("P", 50, 2, lp, "0.80", under=60),
            opt("P", 53, -2, sp, "1.25", under=60),
            opt("C", 67, -2, sc, "2.00", under=60),
            opt("C", 70, 2, lc, "0.75", under=60),
        ]

    # when the stock rallies through the calls, then to past the long call
    marks = [(("0.80", "1.25"), ("2.00", "0.75")), (("0.05", "0.10"), ("3.10", "1.40"))]
    marks.append((("0.01", "0.01"), ("9.00", "6.00")))
    results = [group_buying_power(condor(*m), rule=MARGIN) for m in marks]

    # then requirement and BPR stay 600 / 260 (Tastytrade: width − credit at open)
    assert {(r.requirement, r.reduction) for r in results} == {(D(600), D(260))}


def test_naked_put_floor_and_ten_percent_rules():
    deep_otm = opt("P", 20, -1, "0.05", "0.05", under=100)  # 20 − 80 + .05 < 0; 2.05 < 2.50
    far_otm = opt("P", 80, -1, "0.50", "0.50", under=95)  # 19 − 15 + .5 = 4.5 < 8 + .5
    assert group_buying_power([deep_otm], rule=MARGIN).requirement == D(250)
    assert group_buying_power([far_otm], rule=MARGIN).requirement == D(850)


def test_cash_secured_put_in_margin_account_when_detected_as_one():
    leg = opt("P", 11, -6, "0.75", "0.75", under=12)
    result = group_buying_power([leg], rule=MARGIN, strategy_type="cash_secured_put")
    assert (result.requirement, result.reduction) == (D(6600), D(6150))


def test_naked_call_in_cash_account_is_unsupported_and_left_out():
    naked = opt("C", 110, -1, "1.00", "1.00", under=100)
    covered = opt("P", 11, -1, "0.75", "0.75", under=12)
    result = book_buying_power(
        {"call": ("short_call", [naked]), "csp": ("cash_secured_put", [covered])}, rule=CASH
    )
    assert result.unsupported == 1
    assert result.groups["call"].reduction is None
    assert "cash account" in result.groups["call"].note
    assert result.reduction == D(1025)


def test_portfolio_margin_shows_only_the_broker_figure():
    groups = {"put": ("short_put", [opt("P", 45, -1, "0.50", "0.50", under="47.50")])}
    without = book_buying_power(groups, rule=MarginRule.BROKER_ONLY)
    with_broker = book_buying_power(
        groups, rule=MarginRule.BROKER_ONLY, broker_requirement=D("512.345")
    )
    assert (without.used, without.source) == (None, None)
    assert (with_broker.used, with_broker.source) == (D("512.35"), "broker")
    assert with_broker.groups["put"].reduction is None


def test_futures_option_is_a_flagged_estimate():
    es = opt("P", 4800, -1, "20", "25", under=5000, mult=50, future=True)
    result = book_buying_power({"es": ("short_put", [es])}, rule=MARGIN)
    assert result.source == "estimate"
    assert result.estimated == 1
    assert "estimate" in result.groups["es"].note


def test_short_calendar_short_leg_is_naked():
    # article 43000435298, with the 20 % rule: short Jun 43C 4.00 over long Mar
    # 43C 3.50, stock 40: (8 − 3 + 4) × 200 = 1,800; the long's 700 debit is BPR.
    legs = [
        opt("C", 43, 2, "3.50", "3.50", under=40),
        opt("C", 43, -2, "4.00", "4.00", under=40, exp=JUN),
    ]
    result = group_buying_power(legs, rule=MARGIN)
    assert (result.requirement, result.reduction) == (D(1800), D(1700))


def test_unknown_premium_counts_as_zero_and_says_so():
    leg = MarginLeg(
        leg_id=1,
        instrument_type="Equity Option",
        quantity=D(-1),
        multiplier=D(100),
        price=D("0.50"),
        underlying_price=D("47.50"),
        option_type="P",
        strike=D(45),
        expiration=MAR,
        open_premium=None,
    )
    result = group_buying_power([leg], rule=MARGIN)
    assert (result.requirement, result.reduction) == (D(750), D(750))
    assert "unknown" in result.note


def test_short_option_without_a_mark_is_unsupported():
    leg = opt("P", 45, -1, "0.50", "0.50", under="47.50")
    blind = MarginLeg(**{**{n: getattr(leg, n) for n in leg.__slots__}, "price": None})
    assert group_buying_power([blind], rule=MARGIN).reduction is None


@pytest.mark.parametrize(
    ("ours", "broker", "fraction", "flagged"),
    [
        (D("100000"), D("100000"), D(0), False),
        (D("100400"), D("100000"), D("0.004"), False),
        (D("101000"), D("100000"), D("0.01"), True),
        (D(0), D(0), D(0), False),
    ],
)
def test_reconcile_net_liq(ours, broker, fraction, flagged):
    assert reconcile_net_liq(ours, broker) == (fraction, flagged)
