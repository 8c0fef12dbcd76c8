import datetime as dt
import itertools
import warnings
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metrics.greeks import (
    BLOCK_SIZE,
    SIGMA_MAX,
    SIGMA_MIN,
    IVStatus,
    black_76,
    black_scholes_merton,
    implied_volatility,
    implied_volatility_76,
    year_fraction,
)

NEW_YORK = ZoneInfo("America/New_York")
HOURS_PER_YEAR = 365 * 24


def bsm(**kwargs):
    defaults = {"rate": 0.05, "dividend_yield": 0.0, "is_call": True}
    return black_scholes_merton(**(defaults | kwargs))


def grid(**axes):
    """Return flat arrays covering every combination of the given values."""
    mesh = np.meshgrid(*(np.asarray(v) for v in axes.values()), indexing="ij")
    return {name: values.ravel() for name, values in zip(axes, mesh, strict=True)}


# Prices and greeks


def test_hull_example_call_price_and_delta():
    # Hull, Options, Futures and Other Derivatives: S=49, K=50, r=5%, sigma=20%, 20 weeks.
    call = bsm(spot=49.0, strike=50.0, years=20 / 52, sigma=0.20)

    assert call.price == pytest.approx(2.4005, abs=5e-5)
    assert call.delta == pytest.approx(0.522, abs=5e-4)


def test_put_call_parity_holds_to_1e_10():
    g = grid(
        spot=[20.0, 100.0, 480.0],
        strike_ratio=[0.7, 0.95, 1.0, 1.1, 1.6],
        years=[1 / 365, 0.1, 1.0, 3.0],
        sigma=[0.05, 0.3, 1.2],
        dividend_yield=[0.0, 0.03],
    )
    strike = g["spot"] * g["strike_ratio"]
    common = dict(
        spot=g["spot"], strike=strike, years=g["years"], rate=0.045,
        dividend_yield=g["dividend_yield"], sigma=g["sigma"],
    )  # fmt: skip

    call = black_scholes_merton(**common, is_call=True)
    put = black_scholes_merton(**common, is_call=False)

    forward_value = g["spot"] * np.exp(-g["dividend_yield"] * g["years"])
    strike_value = strike * np.exp(-0.045 * g["years"])
    np.testing.assert_allclose(
        call.price - put.price, forward_value - strike_value, rtol=0, atol=1e-10
    )
    np.testing.assert_allclose(
        call.delta - put.delta,
        np.exp(-g["dividend_yield"] * g["years"]),
        rtol=0,
        atol=1e-12,
    )
    np.testing.assert_allclose(call.gamma, put.gamma, rtol=1e-12)
    np.testing.assert_allclose(call.vega, put.vega, rtol=1e-12)


def test_black_76_put_call_symmetry():
    g = grid(
        forward=[80.0, 5000.0],
        strike_ratio=[0.8, 1.0, 1.25],
        years=[0.05, 0.5, 2.0],
        sigma=[0.1, 0.35],
    )
    forward, strike = g["forward"], g["forward"] * g["strike_ratio"]
    common = dict(years=g["years"], rate=0.04, sigma=g["sigma"])

    call = black_76(forward=forward, strike=strike, is_call=True, **common)
    put = black_76(forward=forward, strike=strike, is_call=False, **common)
    # With a driftless forward, a call at K is worth K/F puts struck at F^2/K.
    reflected_put = black_76(forward=forward, strike=forward**2 / strike, is_call=False, **common)

    discount = np.exp(-0.04 * g["years"])
    np.testing.assert_allclose(
        call.price - put.price, discount * (forward - strike), rtol=0, atol=1e-9
    )
    np.testing.assert_allclose(call.delta - put.delta, discount, rtol=0, atol=1e-12)
    np.testing.assert_allclose(call.price, strike / forward * reflected_put.price, rtol=1e-10)


def test_black_76_is_bsm_on_the_forward_with_carry_equal_to_rate():
    b76 = black_76(forward=5800.0, strike=5700.0, years=0.2, rate=0.04, sigma=0.18, is_call=False)
    same = bsm(spot=5800.0, strike=5700.0, years=0.2, rate=0.04, dividend_yield=0.04, sigma=0.18, is_call=False)  # fmt: skip
    # Black-76 value, written out: e^{-rT} (K N(-d2) - F N(-d1)).
    d1 = (np.log(5800 / 5700) + 0.5 * 0.18**2 * 0.2) / (0.18 * np.sqrt(0.2))
    d2 = d1 - 0.18 * np.sqrt(0.2)
    from scipy.special import ndtr

    expected = np.exp(-0.04 * 0.2) * (5700 * ndtr(-d2) - 5800 * ndtr(-d1))

    assert b76.price == pytest.approx(expected, rel=1e-13)
    assert b76.price == same.price


FD_CASES = grid(
    strike=[80.0, 100.0, 125.0],
    years=[0.08, 0.5, 2.0],
    sigma=[0.15, 0.45],
    dividend_yield=[0.0, 0.02],
    is_call=[True, False],
)


@pytest.mark.parametrize("model", ["bsm", "black_76"])
def test_every_greek_is_the_central_difference_of_the_price(model):
    spot = 100.0
    k, t, s, q, c = (FD_CASES[n] for n in ("strike", "years", "sigma", "dividend_yield", "is_call"))
    rate = 0.03
    if model == "black_76":
        q = np.full_like(q, rate)

    def price(spot=spot, years=t, sigma=s):
        return bsm(spot=spot, strike=k, years=years, rate=rate, dividend_yield=q, sigma=sigma, is_call=c).price  # fmt: skip

    greeks = bsm(spot=spot, strike=k, years=t, rate=rate, dividend_yield=q, sigma=s, is_call=c)
    h_spot, h_years, h_sigma = 1e-4 * spot, 1e-6, 1e-6

    fd_delta = (price(spot=spot + h_spot) - price(spot=spot - h_spot)) / (2 * h_spot)
    fd_gamma = (price(spot=spot + h_spot) - 2 * price() + price(spot=spot - h_spot)) / h_spot**2
    # Theta is dV/dt with t calendar time: time passing shortens T.
    fd_theta = (price(years=t - h_years) - price(years=t + h_years)) / (2 * h_years) / 365
    fd_vega = (price(sigma=s + h_sigma) - price(sigma=s - h_sigma)) / (2 * h_sigma) / 100

    np.testing.assert_allclose(greeks.delta, fd_delta, rtol=1e-6, atol=1e-10)
    np.testing.assert_allclose(greeks.gamma, fd_gamma, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(greeks.theta, fd_theta, rtol=1e-6, atol=1e-10)
    np.testing.assert_allclose(greeks.vega, fd_vega, rtol=1e-6, atol=1e-10)


def test_units_theta_per_calendar_day_and_vega_per_vol_point():
    call = bsm(spot=100.0, strike=100.0, years=0.25, sigma=0.25)
    a_day_later = bsm(spot=100.0, strike=100.0, years=0.25 - 1 / 365, sigma=0.25)
    one_point_up = bsm(spot=100.0, strike=100.0, years=0.25, sigma=0.26)

    assert call.theta == pytest.approx(a_day_later.price - call.price, rel=5e-3)
    assert call.vega == pytest.approx(one_point_up.price - call.price, rel=5e-3)


def test_expired_options_are_worth_intrinsic_with_flat_greeks():
    years = np.array([0.0, -0.01, 0.0, 0.0, -1.0, 0.0])
    strike = np.array([90.0, 110.0, 110.0, 90.0, 100.0, 100.0])
    is_call = np.array([True, True, False, False, True, False])

    expired = bsm(spot=100.0, strike=strike, years=years, sigma=np.nan, is_call=is_call)

    np.testing.assert_array_equal(expired.price, [10.0, 0.0, 10.0, 0.0, 0.0, 0.0])
    np.testing.assert_array_equal(expired.delta, [1.0, 0.0, -1.0, 0.0, 0.0, 0.0])
    for greek in (expired.gamma, expired.theta, expired.vega):
        np.testing.assert_array_equal(greek, np.zeros(6))


def test_results_do_not_depend_on_block_boundaries():
    rng = np.random.default_rng(7)
    size = 2 * BLOCK_SIZE + 123
    spot = rng.uniform(10, 500, size)
    args = dict(
        strike=spot * rng.uniform(0.7, 1.3, size),
        years=rng.uniform(-0.01, 2, size),
        rate=0.04,
        dividend_yield=rng.uniform(0, 0.03, size),
        sigma=rng.uniform(0.05, 1.0, size),
        is_call=rng.random(size) < 0.5,
    )
    whole = black_scholes_merton(spot=spot, **args)
    tail = slice(BLOCK_SIZE - 5, None)
    part = black_scholes_merton(
        spot=spot[tail], **{k: v[tail] if np.ndim(v) else v for k, v in args.items()}
    )

    np.testing.assert_array_equal(whole.price[tail], part.price)
    np.testing.assert_array_equal(whole.theta[tail], part.theta)


# Implied volatility


def test_iv_round_trip_reprices_to_1e_8_over_a_grid():
    g = grid(
        strike=np.linspace(50.0, 160.0, 23),
        years=[1 / 365, 7 / 365, 30 / 365, 0.25, 1.0, 2.5],
        sigma=[0.03, 0.15, 0.4, 1.0, 3.0],
        is_call=[True, False],
    )
    common = dict(spot=100.0, strike=g["strike"], years=g["years"], rate=0.04, dividend_yield=0.015, is_call=g["is_call"])  # fmt: skip
    price = black_scholes_merton(sigma=g["sigma"], **common).price

    solved = implied_volatility(price=price, **common)
    repriced = black_scholes_merton(sigma=solved.sigma, **common).price

    ok = solved.status == "solved"
    parity = 100 * np.exp(-0.015 * g["years"]) - g["strike"] * np.exp(-0.04 * g["years"])
    floor = np.maximum(np.where(g["is_call"], parity, -parity), 0.0)
    has_time_value = price - floor > 1e-9
    assert ok[has_time_value].all()
    np.testing.assert_allclose(repriced[ok], price[ok], rtol=0, atol=1e-8)
    # Where the price is sensitive to volatility, the volatility itself comes back.
    vega = black_scholes_merton(sigma=g["sigma"], **common).vega
    sensitive = ok & (vega > 1e-4)
    np.testing.assert_allclose(solved.sigma[sensitive], g["sigma"][sensitive], rtol=1e-10)
    assert sensitive.sum() > 0.6 * sensitive.size


def test_black_76_iv_round_trip():
    g = grid(strike=np.linspace(4000, 7000, 31), years=[0.02, 0.3, 1.5], sigma=[0.12, 0.3], is_call=[True, False])  # fmt: skip
    common = dict(forward=5600.0, strike=g["strike"], years=g["years"], rate=0.05, is_call=g["is_call"])  # fmt: skip
    price = black_76(sigma=g["sigma"], **common).price

    solved = implied_volatility_76(price=price, **common)

    ok = solved.status == "solved"
    assert ok.mean() > 0.9
    np.testing.assert_allclose(black_76(sigma=solved.sigma, **common).price[ok], price[ok], rtol=0, atol=1e-8)  # fmt: skip


def test_iv_statuses_for_unsolvable_legs_without_warnings_or_exceptions():
    # S=100, r=q=0, 0.25 years. One leg per case.
    cases = {
        "solved": (5.0, 100.0, 100.0, 0.25, True),
        "below_intrinsic": (9.0, 100.0, 90.0, 0.25, True),  # intrinsic 10
        "at_intrinsic": (10.0, 100.0, 90.0, 0.25, True),
        "zero_price": (0.0, 100.0, 120.0, 0.25, True),
        "no_quote": (np.nan, 100.0, 100.0, 0.25, True),
        "zero_time": (5.0, 100.0, 100.0, 0.0, True),
        "past_expiry": (5.0, 100.0, 100.0, -0.1, False),
        "above_bound": (101.0, 100.0, 100.0, 0.25, True),  # a call worth more than S
        "put_above_bound": (120.0, 100.0, 110.0, 0.25, False),  # more than K
        "vol_too_high": (
            float(bsm(spot=100.0, strike=100.0, years=0.25, rate=0.0, sigma=7.0).price),
            100.0,
            100.0,
            0.25,
            True,
        ),  # fmt: skip
        "no_underlying": (5.0, np.nan, 100.0, 0.25, True),
        "no_strike": (5.0, 100.0, np.nan, 0.25, True),
        "no_expiry": (5.0, 100.0, 100.0, np.nan, True),
    }
    price, spot, strike, years, is_call = (np.array(v) for v in zip(*cases.values(), strict=True))

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = implied_volatility(
            price=price, spot=spot, strike=strike, years=years, rate=0.0,
            dividend_yield=0.0, is_call=is_call,
        )  # fmt: skip

    assert dict(zip(cases, result.status.tolist(), strict=True)) == {
        "solved": "solved",
        "below_intrinsic": "below_intrinsic",
        "at_intrinsic": "below_intrinsic",
        "zero_price": "below_intrinsic",
        "no_quote": "no_quote",
        "zero_time": "expired",
        "past_expiry": "expired",
        "above_bound": "above_bound",
        "put_above_bound": "above_bound",
        "vol_too_high": "out_of_range",
        "no_underlying": "no_underlying",
        "no_strike": "invalid",
        "no_expiry": "invalid",
    }
    assert np.isfinite(result.sigma[0])
    assert np.isnan(result.sigma[1:]).all()


def test_iv_of_degenerate_inputs_never_raises_or_warns():
    rng = np.random.default_rng(3)
    awkward = [np.nan, -np.inf, np.inf, -1.0, 0.0, 1e-300, 1e300, 0.5, 1.0, 100.0]
    size = 5000

    def draw():
        return rng.choice(awkward, size)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = implied_volatility(
            price=draw(), spot=draw(), strike=draw(), years=draw(), rate=0.04,
            dividend_yield=draw(), is_call=rng.random(size) < 0.5,
        )  # fmt: skip
        black_scholes_merton(
            spot=draw(), strike=draw(), years=draw(), rate=0.04, dividend_yield=draw(),
            sigma=draw(), is_call=rng.random(size) < 0.5,
        )  # fmt: skip

    solved = result.status == "solved"
    assert set(result.status) <= {status.value for status in IVStatus}
    assert np.all((result.sigma[solved] >= SIGMA_MIN) & (result.sigma[solved] <= SIGMA_MAX))
    assert np.isnan(result.sigma[~solved]).all()


def test_iv_at_the_bounds_of_the_volatility_range():
    sigma = np.array([2e-4, SIGMA_MAX * 0.999])
    common = dict(spot=100.0, strike=100.0, years=1.0, rate=0.0, dividend_yield=0.0, is_call=False)  # fmt: skip
    price = black_scholes_merton(sigma=sigma, **common).price

    solved = implied_volatility(price=price, **common)

    assert solved.status.tolist() == ["solved", "solved"]
    np.testing.assert_allclose(solved.sigma, sigma, rtol=1e-9)


def test_iv_of_many_legs_spanning_blocks():
    rng = np.random.default_rng(11)
    size = 3 * BLOCK_SIZE + 17
    spot = rng.uniform(20, 500, size)
    common = dict(spot=spot, strike=spot * np.exp(rng.normal(0, 0.2, size)), years=rng.uniform(2 / 365, 2, size), rate=0.04, dividend_yield=rng.uniform(0, 0.03, size), is_call=rng.random(size) < 0.5)  # fmt: skip
    sigma = rng.uniform(0.08, 1.2, size)
    price = black_scholes_merton(sigma=sigma, **common).price

    solved = implied_volatility(price=price, **common)

    ok = solved.status == "solved"
    assert ok.mean() > 0.99
    assert set(solved.status[~ok]) <= {"below_intrinsic"}
    np.testing.assert_allclose(black_scholes_merton(sigma=solved.sigma, **common).price[ok], price[ok], rtol=0, atol=1e-8)  # fmt: skip


# Time to expiry


def ny(*args):
    return dt.datetime(*args, tzinfo=NEW_YORK)


def test_year_fraction_counts_to_the_4pm_new_york_close():
    now = ny(2026, 4, 16, 16, 0)

    years = year_fraction(np.array(["2026-04-17"], dtype="datetime64[D]"), "PM", now)

    assert years[0] * HOURS_PER_YEAR == pytest.approx(24.0, abs=1e-9)


def test_year_fraction_across_the_march_clock_change_is_an_hour_short():
    # Clocks go forward on Sunday 2026-03-08: Friday 4pm EST to Friday 4pm EDT.
    now = ny(2026, 3, 6, 16, 0)
    expiry = np.array(["2026-03-13"], dtype="datetime64[D]")

    years = year_fraction(expiry, np.array(["PM"]), now)

    assert years[0] * HOURS_PER_YEAR == pytest.approx(7 * 24 - 1, abs=1e-9)
    # The close is 20:00 UTC in summer time, 21:00 UTC the week before.
    utc_now = now.astimezone(dt.UTC)
    assert utc_now.hour == 21
    assert years[0] * HOURS_PER_YEAR == pytest.approx(
        (dt.datetime(2026, 3, 13, 20, 0, tzinfo=dt.UTC) - utc_now).total_seconds() / 3600
    )


def test_year_fraction_across_the_november_clock_change_is_an_hour_long():
    # Clocks go back on Sunday 2026-11-01.
    now = ny(2026, 10, 30, 16, 0)
    expiry = np.array(["2026-11-06"], dtype="datetime64[D]")

    years = year_fraction(expiry, "PM", now)

    assert years[0] * HOURS_PER_YEAR == pytest.approx(7 * 24 + 1, abs=1e-9)


def test_year_fraction_am_settlement_ends_at_the_open_and_nat_is_nan():
    now = ny(2026, 3, 16, 9, 30)
    expiry = np.array(["2026-03-20", "2026-03-20", "NaT"], dtype="datetime64[D]")

    years = year_fraction(expiry, np.array(["AM", "PM", "PM"]), now) * HOURS_PER_YEAR

    assert years[0] == pytest.approx(4 * 24, abs=1e-9)
    assert years[1] == pytest.approx(4 * 24 + 6.5, abs=1e-9)
    assert np.isnan(years[2])


def test_year_fraction_is_negative_after_expiry_and_the_same_for_any_now_zone():
    expiry = np.array(["2026-03-13", "2091-01-01", "2026-03-13"], dtype="datetime64[D]")
    now_ny = ny(2026, 3, 13, 17, 0)

    years = year_fraction(expiry, "PM", now_ny)
    same = year_fraction(expiry, "PM", now_ny.astimezone(ZoneInfo("Asia/Tokyo")))

    assert years[0] * HOURS_PER_YEAR == pytest.approx(-1.0, abs=1e-9)
    assert years[1] > 64
    np.testing.assert_array_equal(years, same)


def test_year_fraction_refuses_a_naive_now():
    with pytest.raises(ValueError, match="aware"):
        year_fraction(
            np.array(["2026-03-13"], dtype="datetime64[D]"), "PM", dt.datetime(2026, 3, 1)
        )  # noqa: DTZ001 - the naive datetime is the point


# Properties

positive = dict(allow_nan=False, allow_infinity=False)
spots = st.lists(st.floats(1.0, 1000.0, **positive), min_size=2, max_size=20)


@settings(max_examples=200, deadline=None)
@given(
    spot=spots,
    strike=st.floats(1.0, 1000.0, **positive),
    years=st.floats(1 / 365, 5.0, **positive),
    sigma=st.floats(0.01, 3.0, **positive),
    rate=st.floats(0.0, 0.1, **positive),
    dividend_yield=st.floats(0.0, 0.1, **positive),
)
def test_call_price_increases_with_spot(spot, strike, years, sigma, rate, dividend_yield):
    spot = np.sort(np.array(spot))
    price = black_scholes_merton(spot=spot, strike=strike, years=years, rate=rate, dividend_yield=dividend_yield, sigma=sigma, is_call=True).price  # fmt: skip

    assert np.all(np.diff(price) >= -1e-12 * np.maximum(price[1:], 1.0))
    assert np.all(price >= 0.0)


@settings(max_examples=200, deadline=None)
@given(
    sigma=st.lists(st.floats(0.001, 5.0, **positive), min_size=2, max_size=20),
    spot=st.floats(1.0, 1000.0, **positive),
    strike=st.floats(1.0, 1000.0, **positive),
    years=st.floats(1 / 365, 5.0, **positive),
    rate=st.floats(0.0, 0.1, **positive),
)
def test_call_price_increases_with_volatility(sigma, spot, strike, years, rate):
    sigma = np.sort(np.array(sigma))
    price = black_scholes_merton(spot=spot, strike=strike, years=years, rate=rate, dividend_yield=0.0, sigma=sigma, is_call=True).price  # fmt: skip

    assert np.all(np.diff(price) >= -1e-12 * np.maximum(price[1:], 1.0))


@settings(max_examples=300, deadline=None)
@given(
    spot=st.floats(0.5, 2000.0, **positive),
    strike=st.floats(0.5, 2000.0, **positive),
    years=st.floats(-0.1, 5.0, **positive),
    sigma=st.floats(0.0001, 5.0, **positive),
    dividend_yield=st.floats(0.0, 0.2, **positive),
)
def test_put_delta_is_between_minus_one_and_zero(spot, strike, years, sigma, dividend_yield):
    put = black_scholes_merton(spot=spot, strike=strike, years=years, rate=0.05, dividend_yield=dividend_yield, sigma=sigma, is_call=False)  # fmt: skip

    assert -1.0 <= put.delta <= 0.0


def test_call_delta_is_between_zero_and_one_over_a_grid():
    g = grid(
        strike=[1.0, 50.0, 100.0, 200.0, 10_000.0], years=[1e-6, 0.1, 5.0], sigma=[1e-4, 0.3, 5.0]
    )
    call = bsm(spot=100.0, dividend_yield=0.01, **g)

    assert np.all((call.delta >= 0.0) & (call.delta <= 1.0))
    assert np.all(call.gamma >= 0.0) and np.all(call.vega >= 0.0)


@pytest.mark.parametrize(
    ("strike", "is_call"), itertools.product([90.0, 100.0, 110.0], [True, False])
)
def test_long_option_theta_is_negative_without_carry(strike, is_call):
    option = bsm(spot=100.0, strike=strike, years=0.3, rate=0.0, sigma=0.3, is_call=is_call)

    assert option.theta < 0.0
