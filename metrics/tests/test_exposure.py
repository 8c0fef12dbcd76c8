import dataclasses
import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from metrics.exposure import portfolio_exposure
from metrics.pricing import LegInputs, LegPricing, price_legs

NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("America/New_York"))
NAN = float("nan")


def hand_book(legs):
    """Build LegInputs and a LegPricing with hand-set per-unit greeks.

    Each leg: (instrument_type, quantity, multiplier, underlying price, beta,
    delta, gamma, theta, vega); NaN delta means unpriced.
    """
    columns = list(zip(*legs, strict=True))
    kind, quantity, multiplier, spot, beta, delta, gamma, theta, vega = (
        np.array(c) for c in columns
    )
    size = len(legs)
    linear = (kind == "Equity") | (kind == "Future")
    inputs = LegInputs(
        instrument_type=kind,
        option_type=np.array(["P" if "Option" in k else "" for k in kind]),
        strike=np.full(size, NAN),
        expiration=np.full(size, "NaT", dtype="datetime64[D]"),
        settlement=np.full(size, "PM"),
        mark=np.where(linear, spot, NAN),
        underlying_price=spot,
        quantity=quantity,
        multiplier=multiplier,
        dividend_yield=np.zeros(size),
        broker_iv=np.full(size, NAN),
        beta=beta,
    )
    units = quantity * multiplier
    priced = ~np.isnan(delta)
    pricing = LegPricing(
        years=np.full(size, NAN),
        iv=np.full(size, NAN),
        iv_status=np.full(size, "solved"),
        greeks_source=np.where(priced, "implied", "none"),
        price=np.where(linear, spot, 1.0),
        delta=delta,
        gamma=gamma,
        theta=theta,
        vega=vega,
        position_delta=delta * units,
        position_gamma=gamma * units,
        position_theta=theta * units,
        position_vega=vega * units,
        position_value=np.where(linear, spot, 1.0) * units,
        priced=priced,
    )
    return inputs, pricing


def exposure(inputs, pricing, **overrides):
    size = len(inputs)
    kwargs = dict(
        underlying=np.full(size, "XYZ"),
        group_ids=np.array([f"g{i}" for i in range(size)]),
        spy_price=500.0,
        net_liquidation_value=Decimal("100000.00"),
        premium_received=[None] * size,
        current_value=[None] * size,
    )
    return portfolio_exposure(inputs, pricing, **(kwargs | overrides))


SHORT_PUT = ("Equity Option", -1.0, 100.0, 50.0, 1.2, -0.30, 0.05, -0.02, 0.07)


def test_beta_weighted_delta_of_one_short_put_by_hand():
    # Delta -0.30 x -1 x 100 = +30; x 1.2 beta x $50 / $500 SPY = +3.6 SPY shares.
    inputs, pricing = hand_book([SHORT_PUT])

    result = exposure(inputs, pricing)

    assert result.total_delta == pytest.approx(30.0)
    assert result.beta_weighted_delta == pytest.approx(3.6)
    assert result.beta_weighted_delta_dollars == pytest.approx(1800.0)
    assert result.total_theta == pytest.approx(2.0)  # short premium earns decay
    assert result.total_vega == pytest.approx(-7.0)
    assert result.total_gamma == pytest.approx(-5.0)
    assert result.theta_over_net_liq == pytest.approx(2.0 / 100_000)
    assert (result.legs, result.legs_unpriced, result.legs_beta_missing) == (1, 0, 0)


def test_small_book_totals_and_breakdowns_by_hand():
    inputs, pricing = hand_book(
        [
            SHORT_PUT,
            ("Equity", 200.0, 1.0, 50.0, 1.2, 1.0, 0.0, 0.0, 0.0),
            ("Equity Option", 2.0, 100.0, 400.0, 0.8, 0.50, 0.01, -0.10, 0.20),
            ("Equity Option", 1.0, 100.0, 400.0, 0.8, NAN, NAN, NAN, NAN),  # unpriced
        ]
    )

    result = exposure(
        inputs,
        pricing,
        underlying=np.array(["XYZ", "XYZ", "QQQ", "QQQ"]),
        group_ids=np.array(["a", "b", "c", "c"]),
        strategy_types=np.array(["short_put", "stock", "long_call", "long_call"]),
        premium_received=[Decimal("130.00"), Decimal("-10000.00"), Decimal("-900.00"), None],
        current_value=[Decimal("-95.00"), Decimal("10400.00"), Decimal("1100.00"), Decimal("1.00")],
    )

    # Deltas 30 + 200 + 100; BWD 3.6 + 24 + 100 x 0.8 x 400 / 500 = 64.
    assert result.total_delta == pytest.approx(330.0)
    assert result.beta_weighted_delta == pytest.approx(3.6 + 24.0 + 64.0)
    assert result.total_theta == pytest.approx(2.0 - 20.0)
    assert result.unrealized_pnl == Decimal("35.00") + Decimal("400.00") + Decimal("200.00")
    assert result.legs_unpriced == 1
    assert result.legs_without_value == 1
    assert result.by_underlying == [
        {
            "underlying": "QQQ",
            "delta": pytest.approx(100.0),
            "gamma": pytest.approx(2.0),
            "theta": pytest.approx(-20.0),
            "vega": pytest.approx(40.0),
            "rho": 0.0,
            "beta_weighted_delta": pytest.approx(64.0),
            "unrealized_pnl": Decimal("200.00"),
            "legs": 2,
            "legs_unpriced": 1,
            "legs_beta_missing": 0,
            "iv_rank": None,
            "iv_percentile": None,
        },
        {
            "underlying": "XYZ",
            "delta": pytest.approx(230.0),
            "gamma": pytest.approx(-5.0),
            "theta": pytest.approx(2.0),
            "vega": pytest.approx(-7.0),
            "rho": 0.0,
            "beta_weighted_delta": pytest.approx(27.6),
            "unrealized_pnl": Decimal("435.00"),
            "legs": 2,
            "legs_unpriced": 0,
            "legs_beta_missing": 0,
            "iv_rank": None,
            "iv_percentile": None,
        },
    ]
    groups = {row["group_id"]: row for row in result.by_strategy}
    assert groups["c"]["strategy_type"] == "long_call"
    assert groups["c"]["underlying"] == "QQQ"
    assert groups["b"]["delta"] == pytest.approx(200.0)
    assert sum(row["theta"] for row in result.by_strategy) == pytest.approx(result.total_theta)


def test_unknown_beta_is_excluded_and_counted_except_spy_and_es():
    inputs, pricing = hand_book(
        [
            ("Equity Option", -1.0, 100.0, 50.0, NAN, -0.30, 0.05, -0.02, 0.07),  # XYZ
            ("Equity", 10.0, 1.0, 500.0, NAN, 1.0, 0.0, 0.0, 0.0),  # SPY
            ("Future", 1.0, 50.0, 5000.0, NAN, 1.0, 0.0, 0.0, 0.0),  # /ESM6
            ("Future Option", -1.0, 5.0, 5000.0, NAN, 0.2, 0.0, 0.0, 0.0),  # /MESM6
            ("Future", 1.0, 20.0, 18000.0, NAN, 1.0, 0.0, 0.0, 0.0),  # /NQM6
        ]
    )

    result = exposure(
        inputs, pricing, underlying=np.array(["XYZ", "SPY", "/ESM6", "/MESM6", "/NQM6"])
    )

    # SPY 10 shares; /ES 50 x 5000 / 500 = 500; /MES -1 x 5 x 0.2 x 5000 / 500 = -10.
    assert result.beta_weighted_delta == pytest.approx(10.0 + 500.0 - 10.0)
    assert result.legs_beta_missing == 2
    assert result.legs_beta_assumed == 3
    assert result.total_delta == pytest.approx(30.0 + 10.0 + 50.0 - 1.0 + 20.0)


def test_without_spy_price_or_net_liq_the_ratios_are_none():
    inputs, pricing = hand_book([SHORT_PUT])

    result = exposure(inputs, pricing, spy_price=None, net_liquidation_value=None)

    assert result.beta_weighted_delta is None
    assert result.beta_weighted_delta_dollars is None
    assert result.theta_over_net_liq is None
    assert result.by_underlying[0]["beta_weighted_delta"] is None
    assert result.total_delta == pytest.approx(30.0)


def test_exposure_of_a_priced_book_excludes_unpriced_legs():
    legs = LegInputs.from_rows(
        [
            {
                "instrument_type": "Equity Option",
                "option_type": "P",
                "strike": 50,
                "expiration": dt.date(2026, 4, 17),
                "mark": Decimal("1.10"),
                "underlying_price": 52,
                "quantity": -1,
                "multiplier": 100,
                "beta": 1.2,
            },  # fmt: skip
            {
                "instrument_type": "Equity Option",
                "option_type": "P",
                "strike": 45,
                "expiration": dt.date(2026, 4, 17),
                "mark": None,
                "underlying_price": 52,
                "quantity": -1,
                "multiplier": 100,
                "beta": 1.2,
            },  # fmt: skip
        ]
    )
    pricing = price_legs(legs, now=NOW, rate=0.04)

    result = exposure(legs, pricing)

    assert result.legs_unpriced == 1
    assert np.isfinite(result.total_delta)
    assert result.total_delta == pytest.approx(pricing.position_delta[0])
    assert result.beta_weighted_delta == pytest.approx(pricing.position_delta[0] * 1.2 * 52 / 500)


def test_empty_portfolio_has_zero_totals():
    inputs = LegInputs.from_rows([])
    pricing = price_legs(inputs, now=NOW, rate=0.04)

    result = exposure(inputs, pricing)

    assert (result.total_delta, result.beta_weighted_delta, result.unrealized_pnl) == (
        0.0,
        0.0,
        Decimal(0),
    )
    assert result.by_underlying == [] and result.by_strategy == []


def test_mismatched_lengths_are_refused():
    inputs, pricing = hand_book([SHORT_PUT])

    with pytest.raises(ValueError, match="underlying"):
        exposure(inputs, pricing, underlying=np.array(["XYZ", "ABC"]))


def test_rho_totals_and_iv_rank_percentile_per_underlying():
    inputs, pricing = hand_book(
        [
            SHORT_PUT,
            ("Equity Option", 2.0, 100.0, 400.0, 0.8, 0.50, 0.01, -0.10, 0.20),
            ("Equity Option", 1.0, 100.0, 400.0, 0.8, NAN, NAN, NAN, NAN),  # unpriced
        ]
    )
    # Per share: +0.04, +0.30 and (unpriced) +0.10 $ per rate point.
    rho = np.array([0.04, 0.30, 0.10])
    units = inputs.quantity * inputs.multiplier
    pricing = dataclasses.replace(pricing, rho=rho, position_rho=rho * units)

    result = exposure(
        inputs,
        pricing,
        underlying=np.array(["XYZ", "QQQ", "QQQ"]),
        iv_rank=[0.35, None, 0.12],
        iv_percentile=[0.62, None, 0.40],
    )

    # -4 + 60; the unpriced leg's rho stays out like its other greeks.
    assert result.total_rho == pytest.approx(56.0)
    rows = {row["underlying"]: row for row in result.by_underlying}
    assert rows["XYZ"]["rho"] == pytest.approx(-4.0)
    assert rows["QQQ"]["rho"] == pytest.approx(60.0)
    assert (rows["XYZ"]["iv_rank"], rows["XYZ"]["iv_percentile"]) == (0.35, 0.62)
    assert (rows["QQQ"]["iv_rank"], rows["QQQ"]["iv_percentile"]) == (0.12, 0.40)
