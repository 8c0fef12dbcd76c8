import datetime as dt
from decimal import Decimal

import pytest

from metrics.buying_power import (
    BuyingPowerLeg,
    UnsupportedGroupError,
    group_buying_power,
    reconcile_net_liq,
)

EXPIRY = dt.date(2026, 4, 17)


def put(strike, price, quantity=-1, underlying="100", expiration=EXPIRY):
    return BuyingPowerLeg(
        instrument_type="Equity Option",
        quantity=Decimal(quantity),
        multiplier=Decimal(100),
        price=Decimal(price),
        underlying_price=Decimal(underlying),
        option_type="P",
        strike=Decimal(strike),
        expiration=expiration,
    )


def call(strike, price, quantity=-1, underlying="100", expiration=EXPIRY):
    leg = put(strike, price, quantity, underlying, expiration)
    return BuyingPowerLeg(**{**_fields(leg), "option_type": "C"})


def shares(quantity, price="50"):
    return BuyingPowerLeg(
        instrument_type="Equity",
        quantity=Decimal(quantity),
        multiplier=Decimal(1),
        price=Decimal(price),
        underlying_price=Decimal(price),
    )


def _fields(leg):
    return {name: getattr(leg, name) for name in leg.__slots__}


def margin(*legs, **kwargs):
    return group_buying_power(legs, account_type="margin", **kwargs)


def cash(*legs, **kwargs):
    return group_buying_power(legs, account_type="cash", **kwargs)


# Naked options


def test_naked_put_twenty_percent_rule():
    # 20% x 100 - 5 OTM + 2.00 = 17.00 beats 10% x 95 + 2.00 = 11.50.
    assert margin(put("95", "2.00")) == Decimal("1700.00")


def test_naked_put_ten_percent_of_strike_rule():
    # 20 - 30 + 0.10 < 10% x 70 + 0.10 = 7.10.
    assert margin(put("70", "0.10")) == Decimal("710.00")


def test_naked_put_floor_of_two_fifty_a_share():
    # 2.00 - 5.00 + 0.05 and 0.50 + 0.05 are both under 2.50.
    assert margin(put("5", "0.05", underlying="10")) == Decimal("250.00")


def test_naked_call_uses_ten_percent_of_the_underlying_and_scales_by_contracts():
    # 20 - 5 OTM + 2 = 17 beats 10% x 100 + 2 = 12, per share; 2 contracts.
    assert margin(call("105", "2.00", quantity=-2)) == Decimal("3400.00")
    # Far out of the money: 20 - 40 + 0.20 < 10 + 0.20 = 10.20.
    assert margin(call("140", "0.20")) == Decimal("1020.00")


def test_short_strangle_is_the_larger_side_plus_the_other_premium():
    # Put: 20 - 10 + 1.50 = 11.50 -> 1150. Call: 20 - 10 + 1.20 = 11.20 -> 1120.
    strangle = margin(put("90", "1.50"), call("110", "1.20"))

    assert strangle == Decimal("1150.00") + Decimal("120.00")


def test_short_straddle_same_rule():
    # Call: 20 + 4.10 = 24.10 -> 2410; put: 20 + 3.90 -> 2390; + the put's 390.
    assert margin(put("100", "3.90"), call("100", "4.10")) == Decimal("2800.00")


# Defined risk


def test_put_credit_spread_is_width_less_credit():
    assert margin(put("95", "2.00"), put("90", "1.00", quantity=1)) == Decimal("400.00")


def test_call_credit_spread_with_three_contracts():
    spread = margin(call("105", "1.50", quantity=-3), call("110", "0.50", quantity=3))

    assert spread == Decimal("5") * 100 * 3 - Decimal("1.00") * 100 * 3


def test_debit_spread_is_the_debit_paid():
    assert margin(call("100", "3.00", quantity=1), call("105", "1.00")) == Decimal("200.00")


def test_iron_condor_uses_the_wider_side_less_the_credit():
    condor = margin(
        put("90", "1.00", quantity=1),
        put("95", "2.00"),
        call("105", "1.80"),
        call("115", "0.50", quantity=1),
    )

    # Call wing 10 wide; credit 2.00 - 1.00 + 1.80 - 0.50 = 2.30.
    assert condor == Decimal("1000.00") - Decimal("230.00")


def test_iron_butterfly():
    fly = margin(
        put("95", "1.00", quantity=1),
        put("100", "3.00"),
        call("100", "3.20"),
        call("105", "1.10", quantity=1),
    )

    assert fly == Decimal("500.00") - Decimal("410.00")


def test_defined_risk_spreads_are_the_same_in_a_cash_account():
    assert cash(put("95", "2.00"), put("90", "1.00", quantity=1)) == Decimal("400.00")


# Cash-secured, long, stock


def test_short_put_in_a_cash_account_is_cash_secured():
    assert cash(put("50", "1.25", quantity=-2, underlying="52")) == Decimal("9750.00")


def test_cash_secured_put_strategy_in_a_margin_account():
    secured = margin(put("50", "1.25", underlying="52"), strategy_type="cash_secured_put")

    assert secured == Decimal("4875.00")


def test_long_options_cost_their_premium():
    assert margin(call("100", "4.20", quantity=2), put("90", "0.85", quantity=1)) == Decimal(
        "925.00"
    )


def test_stock_is_half_in_margin_and_all_in_cash():
    assert margin(shares(100)) == Decimal("2500.00")
    assert cash(shares(100)) == Decimal("5000.00")


def test_covered_call_is_the_stock_less_the_call_premium():
    covered = margin(shares(100), call("55", "1.00", underlying="50"))

    assert covered == Decimal("2500.00") - Decimal("100.00")


def test_collar_adds_the_long_put():
    collar = cash(
        shares(200), call("55", "1.00", quantity=-2, underlying="50"), put("45", "0.60", quantity=2)
    )

    assert collar == Decimal("10000.00") - Decimal("200.00") + Decimal("120.00")


def test_result_is_rounded_to_the_cent_and_never_negative():
    assert margin(put("95", "2.005")) == Decimal("1700.50")
    # A credit larger than the width (stale marks) cannot free buying power.
    assert margin(put("95", "6.00"), put("90", "0.50", quantity=1)) == Decimal("0.00")


# Outside the rules


@pytest.mark.parametrize(
    ("legs", "account_type"),
    [
        ((call("105", "2.00"),), "cash"),  # naked call
        ((put("90", "1.50"), call("110", "1.20")), "cash"),  # strangle
        ((put("95", "2.00", quantity=-2), put("90", "1.00", quantity=1)), "margin"),  # ratio
        (
            (put("95", "2.00"), put("90", "1.00", quantity=1, expiration=dt.date(2026, 5, 15))),
            "margin",
        ),  # fmt: skip
        ((shares(100), call("55", "1.00", quantity=-2)), "margin"),  # half-covered
        ((shares(-100),), "cash"),  # short stock
    ],
)
def test_unsupported_groups_raise(legs, account_type):
    with pytest.raises(UnsupportedGroupError):
        group_buying_power(legs, account_type=account_type)


def test_futures_are_not_reg_t():
    future = BuyingPowerLeg(
        instrument_type="Future",
        quantity=Decimal(1),
        multiplier=Decimal(50),
        price=Decimal("5800"),
        underlying_price=Decimal("5800"),
    )

    with pytest.raises(UnsupportedGroupError, match="Reg-T"):
        margin(future)


def test_unknown_account_type_is_a_value_error():
    with pytest.raises(ValueError, match="account_type"):
        group_buying_power([put("95", "2.00")], account_type="ira")


# Net liquidation reconciliation


@pytest.mark.parametrize(
    ("ours", "broker", "difference", "flagged"),
    [
        ("100400.00", "100000.00", "0.004", False),
        ("99500.00", "100000.00", "-0.005", False),  # exactly 0.5 %: not over
        ("99499.99", "100000.00", "-0.0050001", True),
        ("101000.00", "100000.00", "0.01", True),
        ("-1010.00", "-1000.00", "-0.01", True),
        ("0", "0", "0", False),
    ],
)
def test_reconcile_net_liq(ours, broker, difference, flagged):
    result = reconcile_net_liq(Decimal(ours), Decimal(broker))

    assert result == (Decimal(difference), flagged)


def test_reconcile_against_a_zero_broker_figure_is_flagged():
    assert reconcile_net_liq(Decimal("10"), Decimal("0")) == (Decimal("Infinity"), True)
