import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from metrics import american, pricing
from metrics.greeks import black_76, black_scholes_merton, year_fraction
from metrics.pricing import LegInputs, price_legs, price_scenarios

NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("America/New_York"))
RATE = 0.04
EXPIRY = dt.date(2026, 4, 17)


def option(**overrides):
    row = {
        "instrument_type": "Equity Option",
        "option_type": "P",
        "strike": Decimal("50"),
        "expiration": EXPIRY,
        "settlement": "PM",
        "mark": Decimal("1.10"),
        "underlying_price": Decimal("52.00"),
        "quantity": -1,
        "multiplier": 100,
        "dividend_yield": Decimal("0.01"),
        "broker_iv": None,
        "beta": Decimal("1.2"),
    }
    return row | overrides


def stock(**overrides):
    row = {
        "instrument_type": "Equity",
        "mark": Decimal("52.00"),
        "underlying_price": Decimal("52.00"),
        "quantity": 300,
    }
    return row | overrides


def priced(*rows):
    return price_legs(LegInputs.from_rows(rows), now=NOW, rate=RATE)


def years_to(expiry=EXPIRY):
    return year_fraction(np.array([expiry], dtype="datetime64[D]"), "PM", NOW)[0]


def test_from_rows_converts_decimals_none_and_dates():
    legs = LegInputs.from_rows([option(), stock(quantity=-50, mark=None)])

    assert legs.strike.dtype == np.float64
    assert legs.strike[0] == 50.0 and np.isnan(legs.strike[1])
    assert legs.expiration.tolist() == [EXPIRY, None]
    assert legs.option_type.tolist() == ["P", ""]
    assert legs.settlement.tolist() == ["PM", "PM"]
    assert legs.multiplier.tolist() == [100.0, 1.0]  # stock defaults to 1
    assert legs.dividend_yield.tolist() == [0.01, 0.0]
    assert np.isnan(legs.mark[1]) and np.isnan(legs.broker_iv).all()
    assert legs.quantity.tolist() == [-1.0, -50.0]
    assert len(legs) == 2


def test_leg_inputs_refuse_unequal_lengths():
    legs = LegInputs.from_rows([option()])
    columns = {name: getattr(legs, name) for name in pricing._FIELD_NAMES}
    columns["mark"] = np.array([1.0, 2.0])

    with pytest.raises(ValueError, match="same length"):
        LegInputs(**columns)


def test_short_put_has_positive_delta_and_theta_in_position_units():
    result = priced(option())

    assert result.iv_status.tolist() == ["solved"]
    assert result.greeks_source.tolist() == ["implied"]
    assert result.delta[0] < 0.0  # per share, long put
    assert result.position_delta[0] > 0.0
    assert result.position_theta[0] > 0.0
    assert result.position_vega[0] < 0.0
    assert result.position_gamma[0] < 0.0
    assert result.position_delta[0] == pytest.approx(result.delta[0] * -1 * 100)
    assert result.position_value[0] == pytest.approx(-110.0)


def test_long_call_has_negative_theta_and_positive_vega():
    result = priced(option(option_type="C", strike=55, mark=Decimal("0.80"), quantity=2))

    assert result.greeks_source.tolist() == ["implied"]
    assert result.position_theta[0] < 0.0
    assert result.position_vega[0] > 0.0
    assert 0.0 < result.position_delta[0] < 200.0


def test_implied_leg_reprices_its_mark_and_uses_bsm_with_dividends():
    result = priced(option())

    model = black_scholes_merton(
        spot=52.0, strike=50.0, years=years_to(), rate=RATE, dividend_yield=0.01,
        sigma=result.iv[0], is_call=False,
    )  # fmt: skip
    assert result.price[0] == pytest.approx(1.10, abs=1e-10)
    assert result.theta[0] == pytest.approx(float(model.theta))
    assert result.years[0] == pytest.approx(years_to())


def test_stock_delta_is_shares_and_future_delta_is_quantity_times_multiplier():
    result = priced(
        stock(quantity=300),
        stock(quantity=-40, mark=None),  # priced from the underlying's quote
        {"instrument_type": "Future", "mark": 5800, "quantity": -2, "multiplier": 50},
    )

    assert result.position_delta.tolist() == [300.0, -40.0, -100.0]
    assert result.position_theta.tolist() == [0.0, 0.0, 0.0]
    assert result.position_vega.tolist() == [0.0, 0.0, 0.0]
    assert result.position_value.tolist() == [15600.0, -2080.0, -580000.0]
    assert result.iv_status.tolist() == ["not_applicable"] * 3
    assert result.greeks_source.tolist() == ["linear"] * 3
    assert result.priced.all()


def test_future_option_is_priced_with_black_76():
    forward, strike = 5750.0, 5800.0
    t = years_to(dt.date(2026, 3, 20))
    mark = float(black_76(forward=forward, strike=strike, years=t, rate=RATE, sigma=0.16, is_call=True).price)  # fmt: skip

    result = priced(
        option(instrument_type="Future Option", option_type="C", strike=strike,
               expiration=dt.date(2026, 3, 20), mark=mark, underlying_price=forward,
               quantity=1, multiplier=50, dividend_yield=Decimal("0.03")),
    )  # fmt: skip

    # The dividend yield is ignored: the carry of a future is the rate.
    assert result.iv[0] == pytest.approx(0.16, rel=1e-9)
    expected = black_76(forward=forward, strike=strike, years=t, rate=RATE, sigma=0.16, is_call=True)  # fmt: skip
    assert result.position_delta[0] == pytest.approx(float(expected.delta) * 50, rel=1e-8)


def test_unsolvable_mark_falls_back_to_the_broker_iv():
    result = priced(
        option(mark=None, broker_iv=Decimal("0.35")),  # no quote
        option(option_type="C", mark=Decimal("1.50"), broker_iv=Decimal("0.30")),  # < intrinsic 2
    )

    assert result.iv_status.tolist() == ["no_quote", "below_intrinsic"]
    assert result.greeks_source.tolist() == ["market_iv", "market_iv"]
    assert result.iv.tolist() == [0.35, 0.30]
    assert result.priced.all()
    model = black_scholes_merton(spot=52.0, strike=50.0, years=years_to(), rate=RATE, dividend_yield=0.01, sigma=0.35, is_call=False)  # fmt: skip
    assert result.position_vega[0] == pytest.approx(float(model.vega) * -100)


def test_leg_without_any_iv_is_unpriced_with_nan_greeks():
    result = priced(
        option(mark=None),
        option(underlying_price=None, broker_iv=Decimal("0.3")),
        option(mark=None, broker_iv=Decimal("0")),
    )

    assert result.iv_status.tolist() == ["no_quote", "no_underlying", "no_quote"]
    assert result.greeks_source.tolist() == ["none"] * 3
    assert not result.priced.any()
    for greek in (result.position_delta, result.position_theta, result.position_vega, result.iv):
        assert np.isnan(greek).all()


def test_mark_out_of_bounds_without_broker_iv_takes_intrinsic_delta_and_stays_priced():
    result = priced(
        option(mark=Decimal("0")),  # OTM put (S 52, K 50) quoted at zero
        option(option_type="C", mark=Decimal("60"), broker_iv=Decimal("9")),  # above S, silly IV
        option(strike=Decimal("70"), mark=Decimal("17.50")),  # deep ITM put under intrinsic
        option(strike=Decimal("70"), mark=Decimal("17.50"), exercise_style="American"),
    )

    assert result.iv_status.tolist() == ["below_intrinsic", "above_bound", "below_intrinsic", "below_intrinsic"]  # fmt: skip
    assert result.greeks_source.tolist() == ["intrinsic"] * 4
    assert result.priced.all()
    # Short one contract: the OTM put has no delta, the ITM call -100, the ITM puts +100.
    assert result.position_delta.tolist() == [0.0, -100.0, 100.0, 100.0]
    for greek in (result.position_gamma, result.position_theta, result.position_vega):
        assert np.all(greek == 0.0)
    assert np.all(result.position_rho == 0.0)
    assert result.price.tolist() == [0.0, 2.0, 18.0, 18.0]
    assert np.isnan(result.iv).all()


def test_expired_leg_is_worth_intrinsic_with_delta_one_and_no_decay():
    result = priced(
        option(option_type="C", expiration=dt.date(2026, 2, 27), mark=Decimal("2.00"), quantity=2),
        option(option_type="P", expiration=dt.date(2026, 2, 27), mark=Decimal("0.01")),
    )

    assert result.iv_status.tolist() == ["expired", "expired"]
    assert result.greeks_source.tolist() == ["intrinsic", "intrinsic"]
    assert result.price.tolist() == [2.0, 0.0]
    assert result.position_delta.tolist() == [200.0, 0.0]
    assert result.position_theta.tolist() == [0.0, 0.0]
    assert result.position_vega.tolist() == [0.0, 0.0]
    assert np.isnan(result.iv).all()
    assert result.priced.all()


def test_unsupported_and_malformed_legs_are_unpriced_not_errors():
    result = priced(
        {"instrument_type": "Bond", "mark": 101, "quantity": 1, "multiplier": 1},
        option(option_type=None),
        option(expiration=None),
        option(multiplier=None),
    )

    assert result.iv_status.tolist() == ["unsupported", "invalid", "invalid", "solved"]
    assert not result.priced.any()
    assert result.greeks_source.tolist() == ["none"] * 4


def test_a_coin_is_linear_with_delta_one_per_unit():
    result = priced(
        {"instrument_type": "Cryptocurrency", "mark": 97_000, "quantity": 0.5, "multiplier": 1}
    )
    assert result.greeks_source.tolist() == ["linear"]
    assert result.position_delta.tolist() == [0.5]
    assert (result.position_theta.tolist(), result.position_vega.tolist()) == ([0.0], [0.0])


def test_position_vega_is_the_position_value_change_per_vol_point():
    result = priced(option(quantity=-3))
    common = dict(spot=52.0, strike=50.0, years=years_to(), rate=RATE, dividend_yield=0.01, is_call=False)  # fmt: skip
    # +/- 0.05 vol points around the solved IV: a 0.1-point difference.
    up = black_scholes_merton(sigma=result.iv[0] + 0.0005, **common).price
    down = black_scholes_merton(sigma=result.iv[0] - 0.0005, **common).price

    assert result.position_vega[0] == pytest.approx(float(up - down) / 0.1 * -300, rel=1e-6)


def test_mixed_books_match_all_option_books():
    rows = [option(strike=s, mark=m) for s, m in [(45, "0.30"), (50, "1.10"), (55, "3.70")]]
    alone = priced(*rows)

    mixed = priced(stock(), *rows, {"instrument_type": "Bond", "quantity": 1})

    np.testing.assert_array_equal(mixed.position_delta[1:4], alone.position_delta)
    np.testing.assert_array_equal(mixed.iv[1:4], alone.iv)


def test_empty_book():
    result = price_legs(LegInputs.from_rows([]), now=NOW, rate=RATE)

    assert result.priced.shape == (0,)


# What-if


def scenario_book():
    return LegInputs.from_rows(
        [
            option(),  # short put
            option(option_type="C", strike=56, mark=Decimal("0.70"), quantity=2),
            stock(quantity=100),
            option(mark=None),  # unpriced: left out
            option(
                option_type="C", expiration=dt.date(2026, 3, 6), strike=48, mark=Decimal("4.10")
            ),
        ]
    )


def test_zero_scenario_is_todays_book():
    legs = scenario_book()
    today = price_legs(legs, now=NOW, rate=RATE)

    grid = price_scenarios(legs, now=NOW, rate=RATE, underlying_moves_pct=[-5, 0, 5], iv_shift_points=[0, 3], days_forward=0)  # fmt: skip

    assert grid.value.shape == (3, 2)
    assert grid.legs_unpriced == 1
    assert grid.pnl[1, 0] == pytest.approx(0.0, abs=1e-9)
    ok = today.priced
    assert grid.delta[1, 0] == pytest.approx(today.position_delta[ok].sum())
    assert grid.theta[1, 0] == pytest.approx(today.position_theta[ok].sum())
    assert grid.vega[1, 0] == pytest.approx(today.position_vega[ok].sum())


def test_scenario_cells_match_pricing_each_leg_by_hand():
    legs = scenario_book()
    today = price_legs(legs, now=NOW, rate=RATE)

    grid = price_scenarios(legs, now=NOW, rate=RATE, underlying_moves_pct=[-10, 4], iv_shift_points=[-2, 5], days_forward=10)  # fmt: skip

    spot = 52.0 * 1.04
    years = today.years - 10 / 365
    options = [0, 1, 4]
    value = spot * 100  # the stock
    delta = 100.0
    for i in options:
        leg = black_scholes_merton(
            spot=spot, strike=legs.strike[i], years=years[i], rate=RATE, dividend_yield=0.01,
            sigma=today.iv[i] + 0.05, is_call=legs.option_type[i] == "C",
        )  # fmt: skip
        value += float(leg.price) * legs.quantity[i] * 100
        delta += float(leg.delta) * legs.quantity[i] * 100
    assert grid.value[1, 1] == pytest.approx(value, rel=1e-12)
    assert grid.delta[1, 1] == pytest.approx(delta, rel=1e-12)
    assert grid.pnl[1, 1] == pytest.approx(value - today.position_value[today.priced].sum())


def test_scenario_past_an_expiry_takes_intrinsic_value():
    legs = LegInputs.from_rows([option(option_type="C", expiration=dt.date(2026, 3, 6), strike=48, mark=Decimal("4.10"), quantity=1)])  # fmt: skip

    grid = price_scenarios(legs, now=NOW, rate=RATE, underlying_moves_pct=[0, 10], iv_shift_points=[0], days_forward=30)  # fmt: skip

    # 52 - 48 and 57.20 - 48, per share, times 100.
    assert grid.value[:, 0].tolist() == pytest.approx([400.0, 920.0])
    assert grid.delta[:, 0].tolist() == [100.0, 100.0]
    assert grid.theta[:, 0].tolist() == [0.0, 0.0]


def test_short_premium_gains_as_time_passes_and_loses_as_iv_rises():
    legs = LegInputs.from_rows([option()])

    later = price_scenarios(legs, now=NOW, rate=RATE, underlying_moves_pct=[0], iv_shift_points=[0, 10], days_forward=14)  # fmt: skip

    assert later.pnl[0, 0] > 0.0
    assert later.pnl[0, 1] < later.pnl[0, 0]


def test_batched_scenarios_equal_one_broadcast(monkeypatch):
    legs = scenario_book()
    moves, shifts = np.linspace(-20, 20, 9), [-5, 0, 5]
    whole = price_scenarios(legs, now=NOW, rate=RATE, underlying_moves_pct=moves, iv_shift_points=shifts, days_forward=3)  # fmt: skip

    monkeypatch.setattr(pricing, "SCENARIO_CELLS_PER_BATCH", 7)
    batched = price_scenarios(legs, now=NOW, rate=RATE, underlying_moves_pct=moves, iv_shift_points=shifts, days_forward=3)  # fmt: skip

    np.testing.assert_array_equal(batched.value, whole.value)
    np.testing.assert_array_equal(batched.vega, whole.vega)


@pytest.mark.parametrize(
    ("moves", "shifts", "days"),
    [([-100], [0], 0), ([0], [np.nan], 0), ([0], [0], -1)],
)
def test_scenarios_refuse_impossible_inputs(moves, shifts, days):
    with pytest.raises(ValueError):
        price_scenarios(scenario_book(), now=NOW, rate=RATE, underlying_moves_pct=moves, iv_shift_points=shifts, days_forward=days)  # fmt: skip


def test_what_if_zero_scenario_is_todays_value_with_american_legs():
    legs = LegInputs.from_rows(
        [
            option(strike=Decimal("60"), mark=Decimal("8.40"), exercise_style="American"),
            option(strike=Decimal("45"), mark=Decimal("0.35"), exercise_style="American"),
            option(strike=Decimal("70"), mark=Decimal("17.50"), exercise_style="American"),
            stock(),
        ]
    )
    base = price_legs(legs, now=NOW, rate=RATE)
    grid = price_scenarios(
        legs,
        now=NOW,
        rate=RATE,
        underlying_moves_pct=[-5, 0, 5],
        iv_shift_points=[0],
        days_forward=0,
    )
    assert base.greeks_source.tolist() == ["implied", "implied", "intrinsic", "linear"]
    assert grid.value[1, 0] == pytest.approx(np.sum(base.position_value), abs=1e-9)
    assert grid.pnl[1, 0] == pytest.approx(0.0, abs=1e-9)
    assert grid.legs_unpriced == 0


def american_book():
    return LegInputs.from_rows(
        [
            option(strike=Decimal("60"), mark=Decimal("8.40"), exercise_style="American"),
            option(strike=Decimal("50"), mark=Decimal("1.10"), exercise_style="American"),
            option(
                option_type="C",
                strike=Decimal("56"),
                mark=Decimal("0.70"),
                quantity=2,
                exercise_style="American",
            ),
            option(
                instrument_type="Future Option",
                strike=Decimal("5800"),
                mark=Decimal("150"),
                underlying_price=Decimal("5850"),
                multiplier=50,
                dividend_yield=None,
                exercise_style="American",
            ),
            option(strike=Decimal("47"), mark=Decimal("0.45"), exercise_style="European"),
            stock(),
        ]
    )


def test_american_legs_keep_their_model_in_every_scenario_cell():
    legs = american_book()
    today = price_legs(legs, now=NOW, rate=RATE)
    assert today.greeks_source[:5].tolist() == ["implied"] * 5

    grid = price_scenarios(legs, now=NOW, rate=RATE, underlying_moves_pct=[-10, 0, 4], iv_shift_points=[0, 5], days_forward=0)  # fmt: skip

    # The zero scenario's greeks are today's totals: the same model per leg.
    for grid_total, leg_values in (
        (grid.delta, today.position_delta),
        (grid.gamma, today.position_gamma),
        (grid.theta, today.position_theta),
        (grid.vega, today.position_vega),
    ):
        assert grid_total[1, 0] == pytest.approx(leg_values.sum(), rel=1e-9)

    # A cell by hand: each American leg with the American model at the moved
    # spot and shifted volatility; the European leg with BSM.
    later = price_scenarios(legs, now=NOW, rate=RATE, underlying_moves_pct=[-10], iv_shift_points=[5], days_forward=10)  # fmt: skip
    years = today.years - 10 / 365
    futures = np.arange(6) == 3
    value, delta = 52.0 * 0.9 * 300, 300.0
    for i in range(5):
        spot = float(legs.underlying_price[i]) * 0.9
        arguments = dict(
            spot=spot, strike=legs.strike[i], years=years[i], rate=RATE,
            sigma=today.iv[i] + 0.05, is_call=legs.option_type[i] == "C",
        )  # fmt: skip
        if i < 4:
            leg = american.american_greeks(
                **arguments,
                carry_offset=RATE if futures[i] else 0.01,
                futures=futures[i],
            )
        else:
            leg = black_scholes_merton(**arguments, dividend_yield=0.01)
        units = legs.quantity[i] * legs.multiplier[i]
        value += float(leg.price) * units
        delta += float(leg.delta) * units
    assert later.value[0, 0] == pytest.approx(value, rel=1e-9)
    assert later.delta[0, 0] == pytest.approx(delta, rel=1e-9)


def test_a_deep_in_the_money_american_put_is_exercised_in_the_grid():
    # Down 30 %, the 60 put on a 52 stock is deep in the money: exercised,
    # delta -1 per share, worth the strike less the spot.
    legs = LegInputs.from_rows(
        [option(strike=Decimal("60"), mark=Decimal("8.40"), exercise_style="American", quantity=1)]
    )
    grid = price_scenarios(legs, now=NOW, rate=RATE, underlying_moves_pct=[-30], iv_shift_points=[0], days_forward=0)  # fmt: skip
    assert grid.delta[0, 0] == pytest.approx(-100.0)
    assert grid.value[0, 0] == pytest.approx((60 - 52 * 0.7) * 100)
