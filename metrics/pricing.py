"""Price a book of legs in one vectorised call: IV, greeks and position greeks.

Kept whole past 500 lines: the inputs, the routing of each leg to its model
(European, American, linear, intrinsic) and the what-if grid use one set of
arrays, and splitting them would copy that routing.

The one entry point for the sync, the API and the what-if. Inputs are NumPy
arrays (``LegInputs``; Decimals become floats at ``LegInputs.from_rows``);
outputs are float arrays in DESIGN.md section 5 units:

- per unit: ``price`` (per share or futures unit), ``delta``, ``gamma``,
  ``theta`` ($ per calendar day), ``vega`` ($ per volatility point);
- per position (q signed, short < 0; m the multiplier):
  ``position_delta`` = delta * q * m share-equivalents (a short put > 0; stock:
  q; a future: q * m), ``position_gamma`` = gamma * q * m,
  ``position_theta`` = theta * q * m in $ per day (short premium > 0),
  ``position_vega`` = vega * q * m in $ per +1 IV point, ``position_rho`` =
  rho * q * m in $ per +1 percentage point of the rate, ``position_value``
  = price * q * m in $.

Each option is priced with its exercise style (``LegInputs.exercise_style``,
set from ``metrics.exercise``): European legs with Black-Scholes-Merton or
Black-76 (``metrics.greeks``), American legs with the QD+ exercise boundary
and its early-exercise premium (``metrics.american``; continuous dividend
yield only, discrete dividends are out of scope). A leg with no style given is priced as European.

An option whose mark gives no IV takes the broker's IV; when its mark
cannot be inverted (outside the model's bounds) and the broker gives none, it
takes its intrinsic delta (+/-1 per unit in the money, 0 out) with zero
gamma, theta, vega and rho, source ``intrinsic``, and stays in the totals.
A leg without even that (no underlying price, strike or expiry) has NaN
greeks and ``priced`` False: callers exclude and count it, never treat it
as zero.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from enum import StrEnum
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from metrics import american, greeks
from metrics.exercise import ExerciseStyle
from metrics.greeks import IVStatus
from portfolios.instruments import CRYPTOCURRENCY, EQUITY, EQUITY_OPTION, FUTURE, FUTURE_OPTION

Floats = NDArray[np.float64]
Strings = NDArray[np.str_]

# Above this many (scenario x leg) prices, the what-if grid is priced a few
# move rows at a time so its inputs stay within tens of megabytes.
SCENARIO_CELLS_PER_BATCH = 1_000_000


class GreeksSource(StrEnum):
    """Where a leg's greeks come from."""

    IMPLIED = "implied"  # IV solved from the option's mark
    MARKET_IV = "market_iv"  # the broker's IV, when the mark gives none
    INTRINSIC = "intrinsic"  # expired, or no IV from mark or broker: intrinsic delta
    LINEAR = "linear"  # stock or future: delta 1 per unit by definition
    NONE = "none"  # no usable IV or price: greeks NaN, leg excluded


_SOURCES = np.array([source.value for source in GreeksSource])
_SOURCE_CODE = {source: np.int8(code) for code, source in enumerate(GreeksSource)}
_IV_CODE = {status: np.int8(code) for code, status in enumerate(greeks.IV_STATUSES)}
_UNINVERTIBLE = np.array(
    [
        _IV_CODE[status]
        for status in (
            IVStatus.BELOW_INTRINSIC,
            IVStatus.ABOVE_BOUND,
            IVStatus.OUT_OF_RANGE,
            IVStatus.NOT_CONVERGED,
        )
    ]
)


@dataclass(frozen=True, slots=True)
class LegInputs:
    """Equal-length arrays describing each leg; see the field comments for units."""

    instrument_type: Strings  # "Equity", "Equity Option", "Future", "Future Option"
    option_type: Strings  # "C", "P", or "" for stock and futures
    strike: Floats  # per share/unit; NaN for non-options
    expiration: NDArray[np.datetime64]  # datetime64[D] New York date; NaT if none
    settlement: Strings  # "AM" or "PM"
    mark: Floats  # per share/unit price of the leg itself; NaN if none
    underlying_price: Floats  # per share/unit (futures price for futures options)
    quantity: Floats  # signed contracts or shares; short < 0
    multiplier: Floats  # units per contract: 100 equity options, 1 stock, 50 /ES
    dividend_yield: Floats  # annual continuous fraction; 0 if unknown
    broker_iv: Floats  # annual fraction; NaN if none (fallback only)
    beta: Floats  # against SPY; NaN if unknown
    # "American" / "European" per option ("" = European); None = all "".
    exercise_style: Strings | None = None

    def __post_init__(self) -> None:
        if self.exercise_style is None:
            object.__setattr__(self, "exercise_style", np.full(len(self.quantity), ""))
        for field in fields(self):
            value = getattr(self, field.name)
            if field.name in _STRING_FIELDS:
                coerced = _as_strings(value)
            elif field.name == "expiration":
                coerced = np.asarray(value, dtype="datetime64[D]")
            else:
                coerced = _as_floats(value)
            if coerced.ndim != 1:
                raise ValueError(f"{field.name} must be one-dimensional")
            object.__setattr__(self, field.name, coerced)
        lengths = {getattr(self, field.name).shape[0] for field in fields(self)}
        if len(lengths) != 1:
            raise ValueError("every LegInputs array must have the same length")

    def __len__(self) -> int:
        return self.quantity.shape[0]

    @classmethod
    def from_rows(cls, rows: Iterable[Mapping[str, Any]]) -> LegInputs:
        """Build from dicts keyed by field name (Decimal, None and dates allowed).

        Missing or None values take the documented defaults: no price is NaN,
        settlement "PM", dividend yield 0, stock multiplier 1.
        """
        rows = list(rows)
        return cls.from_columns({name: [row.get(name) for row in rows] for name in _FIELD_NAMES})

    @classmethod
    def from_columns(cls, columns: Mapping[str, Sequence[Any]]) -> LegInputs:
        """Build from one list per field (Decimal, None and dates allowed), as from_rows.

        Column by column: NumPy converts a whole column of Decimals at once,
        instead of a Python branch per field per row.
        """
        kinds = list(columns["instrument_type"])
        arrays: dict[str, Any] = {}
        for name in _FIELD_NAMES:
            values = list(columns.get(name) or [None] * len(kinds))
            if name in _STRING_FIELDS:
                fallback = "PM" if name == "settlement" else ""
                arrays[name] = np.array(
                    [fallback if v is None else v for v in values], dtype=np.str_
                )
            elif name == "expiration":
                arrays[name] = np.array(
                    [v.date() if isinstance(v, dt.datetime) else v for v in values],
                    dtype="datetime64[D]",
                )
            elif None in values:
                arrays[name] = np.array(
                    [
                        _default(name, kind) if v is None else float(v)
                        for v, kind in zip(values, kinds, strict=True)
                    ],
                    dtype=np.float64,
                )
            else:
                arrays[name] = np.array(values, dtype=np.float64)
        return cls(**arrays)


_FIELD_NAMES = tuple(field.name for field in fields(LegInputs))
_STRING_FIELDS = frozenset({"instrument_type", "option_type", "settlement", "exercise_style"})
_COLUMN_DTYPES: dict[str, Any] = {
    "instrument_type": np.str_,
    "option_type": np.str_,
    "settlement": np.str_,
    "exercise_style": np.str_,
    "expiration": "datetime64[D]",
}


def _default(name: str, instrument_type: str) -> Any:
    if name in ("option_type", "instrument_type", "exercise_style"):
        return ""
    if name == "settlement":
        return "PM"
    if name == "expiration":
        return None  # NaT
    if name == "dividend_yield":
        return 0.0
    if name == "multiplier" and instrument_type in (EQUITY, CRYPTOCURRENCY):
        return 1.0
    return np.nan


def _as_strings(value: ArrayLike) -> Strings:
    array = np.asarray(value)
    if array.dtype.kind == "U":
        return array
    return np.array(["" if item is None else str(item) for item in array.ravel()])


def _as_floats(value: ArrayLike) -> Floats:
    array = np.asarray(value)
    if array.dtype.kind in "fiub":
        return array.astype(np.float64, copy=False)
    return np.array(
        [np.nan if item is None else float(item) for item in array.ravel()],
        dtype=np.float64,
    )


@dataclass(frozen=True, slots=True)
class LegPricing:
    """Per-leg pricing results (units in the module docstring)."""

    years: Floats  # to expiry, 365-day years; NaN for stock and futures
    iv: Floats  # volatility used (annual fraction); NaN if none
    iv_status: Strings  # IVStatus values: why the mark did or did not give an IV
    greeks_source: Strings  # GreeksSource values
    price: Floats
    delta: Floats
    gamma: Floats
    theta: Floats
    vega: Floats
    position_delta: Floats
    position_gamma: Floats
    position_theta: Floats
    position_vega: Floats
    position_value: Floats
    priced: NDArray[np.bool_]
    rho: Floats | None = None  # $ per rate percentage point per unit; None if not computed
    position_rho: Floats | None = None  # rho * q * m, $ per +1 rate point


def price_legs(legs: LegInputs, *, now: dt.datetime, rate: float) -> LegPricing:
    """Price every leg at ``now`` with the continuous annual risk-free ``rate``.

    Options: IV solved from the mark with the leg's own model (European:
    BSM with the dividend yield, Black-76 for futures options; American: the
    QD+ model of metrics.american with the same carry), else the
    broker's IV, else intrinsic delta. Expired options take intrinsic value.
    Stock, futures and coins have delta 1.
    """
    size = len(legs)
    kind = legs.instrument_type
    is_future_option = kind == FUTURE_OPTION
    is_option = (kind == EQUITY_OPTION) | is_future_option
    is_linear = (kind == EQUITY) | (kind == FUTURE) | (kind == CRYPTOCURRENCY)

    if size and is_option.all():
        # The bulk case: no gather or scatter, the option arrays are the result.
        option = _price_options(legs, slice(None), is_future_option, now, rate)
        years, iv, status, source = option.years, option.sigma, option.status, option.source
        values = option.greeks
        price, delta, gamma, theta, vega, rho = (
            values.price,
            values.delta,
            values.gamma,
            values.theta,
            values.vega,
            values.rho,
        )
    else:
        years, iv, price, delta, gamma, theta, vega, rho = (np.full(size, np.nan) for _ in range(8))
        status = np.full(size, _IV_CODE[IVStatus.UNSUPPORTED])
        source = np.full(size, _SOURCE_CODE[GreeksSource.NONE])
        if is_linear.any():
            status[is_linear] = _IV_CODE[IVStatus.NOT_APPLICABLE]
            source[is_linear] = _SOURCE_CODE[GreeksSource.LINEAR]
            mark = legs.mark[is_linear]
            # A stock's or future's own price: its mark, else the quoted underlying.
            price[is_linear] = np.where(np.isnan(mark), legs.underlying_price[is_linear], mark)
            delta[is_linear] = 1.0
            gamma[is_linear] = theta[is_linear] = vega[is_linear] = rho[is_linear] = 0.0
        if is_option.any():
            index = np.flatnonzero(is_option)
            option = _price_options(legs, index, is_future_option[index], now, rate)
            years[index] = option.years
            iv[index] = option.sigma
            status[index] = option.status
            source[index] = option.source
            price[index] = option.greeks.price
            delta[index] = option.greeks.delta
            gamma[index] = option.greeks.gamma
            theta[index] = option.greeks.theta
            vega[index] = option.greeks.vega
            rho[index] = option.greeks.rho

    units = legs.quantity * legs.multiplier
    position_delta = delta * units
    position_gamma = gamma * units
    position_theta = theta * units
    position_vega = vega * units
    priced = (
        np.isfinite(position_delta)
        & np.isfinite(position_gamma)
        & np.isfinite(position_theta)
        & np.isfinite(position_vega)
    )
    source[~priced] = _SOURCE_CODE[GreeksSource.NONE]
    return LegPricing(
        years=years,
        iv=iv,
        iv_status=greeks.status_names(status),
        greeks_source=_SOURCES[source],
        price=price,
        delta=delta,
        gamma=gamma,
        theta=theta,
        vega=vega,
        position_delta=position_delta,
        position_gamma=position_gamma,
        position_theta=position_theta,
        position_vega=position_vega,
        position_value=price * units,
        priced=priced,
        rho=rho,
        position_rho=rho * units,
    )


@dataclass(frozen=True, slots=True)
class _OptionPricing:
    years: Floats
    sigma: Floats
    status: NDArray[np.int8]
    source: NDArray[np.int8]
    greeks: greeks.Greeks


def _price_options(legs, index, is_future_option, now, rate) -> _OptionPricing:
    years = greeks.year_fraction(legs.expiration[index], legs.settlement[index], now)
    option_type = legs.option_type[index]
    is_call = option_type == "C"
    strike = np.where(is_call | (option_type == "P"), legs.strike[index], np.nan)
    # Black-76 is BSM on the futures price with the carry equal to the rate.
    carry = np.where(is_future_option, rate, legs.dividend_yield[index])
    spot = legs.underlying_price[index]
    mark = legs.mark[index]
    size = mark.size
    # Each leg runs through its own model only: an American leg's solve starts
    # from its European IV itself, and its greeks replace the European ones.
    is_american = legs.exercise_style[index] == ExerciseStyle.AMERICAN.value
    american_legs = np.flatnonzero(is_american)
    european_legs = slice(None) if american_legs.size == 0 else np.flatnonzero(~is_american)
    status = np.empty(size, dtype=np.int8)
    sigma = np.empty(size)
    implied = greeks.implied_volatility(
        price=mark[european_legs],
        spot=spot[european_legs],
        strike=strike[european_legs],
        years=years[european_legs],
        rate=rate,
        dividend_yield=carry[european_legs],
        is_call=is_call[european_legs],
    )
    status[european_legs] = implied.status_code
    sigma[european_legs] = implied.sigma
    if american_legs.size:
        solved_american = american.solve_implied_volatility(
            price=mark[american_legs],
            spot=spot[american_legs],
            strike=strike[american_legs],
            years=years[american_legs],
            rate=rate,
            carry_offset=carry[american_legs],
            is_call=is_call[american_legs],
            futures=is_future_option[american_legs],
        )
        status[american_legs] = solved_american.iv.status_code
        sigma[american_legs] = solved_american.iv.sigma
    solved = status == _IV_CODE[IVStatus.SOLVED]
    broker_iv = legs.broker_iv[index]
    use_broker = (
        ~solved
        & (broker_iv >= greeks.SIGMA_MIN)
        & (broker_iv <= greeks.SIGMA_MAX)
        & (years > 0.0)
        & (spot > 0.0)
        & (strike > 0.0)
    )
    sigma = np.where(use_broker, broker_iv, sigma)
    price, delta, gamma, theta, vega, rho = (np.empty(size) for _ in range(6))
    european_futures = is_future_option[european_legs]
    values = greeks.black_scholes_merton(
        spot=spot[european_legs],
        strike=strike[european_legs],
        years=years[european_legs],
        rate=rate,
        dividend_yield=carry[european_legs],
        sigma=sigma[european_legs],
        is_call=is_call[european_legs],
        with_rho=True,
    )
    european_rho = values.rho
    if european_futures.any():
        # Black-76 holds the futures price fixed as the rate moves.
        european_years = years[european_legs]
        european_rho = np.where(
            european_futures & (european_years > 0.0),
            -0.01 * european_years * values.price,
            european_rho,
        )
    outputs = (price, delta, gamma, theta, vega, rho)
    european_values = (values.price, values.delta, values.gamma, values.theta, values.vega)
    for target, value in zip(outputs, (*european_values, european_rho), strict=True):
        target[european_legs] = value
    if american_legs.size:
        # A leg priced at its solved volatility starts from the solve's
        # boundary; one priced at the broker's IV starts afresh.
        start = np.where(use_broker[american_legs, None], np.nan, solved_american.boundary)
        priced_american = american.american_greeks(
            spot=spot[american_legs],
            strike=strike[american_legs],
            years=years[american_legs],
            rate=rate,
            carry_offset=carry[american_legs],
            sigma=sigma[american_legs],
            is_call=is_call[american_legs],
            futures=is_future_option[american_legs],
            start=start,
        )
        american_values = (
            priced_american.price,
            priced_american.delta,
            priced_american.gamma,
            priced_american.theta,
            priced_american.vega,
            priced_american.rho,
        )
        for target, value in zip(outputs, american_values, strict=True):
            target[american_legs] = value
    source = np.full(status.shape, _SOURCE_CODE[GreeksSource.NONE])
    source[solved] = _SOURCE_CODE[GreeksSource.IMPLIED]
    source[use_broker] = _SOURCE_CODE[GreeksSource.MARKET_IV]
    source[status == _IV_CODE[IVStatus.EXPIRED]] = _SOURCE_CODE[GreeksSource.INTRINSIC]
    # A mark the model cannot invert (typically a deep in-the-money leg quoted
    # under intrinsic) and no broker IV: the leg still has a direction. A leg
    # with no mark at all stays unpriced: there is nothing to say where it is.
    fallback = (
        (source == _SOURCE_CODE[GreeksSource.NONE])
        & np.isin(status, _UNINVERTIBLE)
        & (years > 0.0)
        & (spot > 0.0)
        & np.isfinite(spot)
        & (strike > 0.0)
    )
    if fallback.any():
        sign = np.where(is_call[fallback], 1.0, -1.0)
        moneyness = sign * (spot[fallback] - strike[fallback])
        price[fallback] = np.maximum(moneyness, 0.0)
        delta[fallback] = np.where(moneyness > 0.0, sign, 0.0)
        for greek in (gamma, theta, vega, rho):
            greek[fallback] = 0.0
        source[fallback] = _SOURCE_CODE[GreeksSource.INTRINSIC]
    return _OptionPricing(
        years, sigma, status, source, greeks.Greeks(price, delta, gamma, theta, vega, rho)
    )


# --------------------------------------------------------------------------
# What-if


@dataclass(frozen=True, slots=True)
class ScenarioGrid:
    """The book re-priced on a grid: axis 0 underlying moves, axis 1 IV shifts.

    ``value`` is the summed position value in $ and ``pnl`` its change from
    today's model value ($); the greek totals are in position units (delta in
    share-equivalents, theta $ per day, vega $ per IV point). Legs without a
    price are left out of every cell and counted in ``legs_unpriced``.
    """

    underlying_moves_pct: Floats
    iv_shift_points: Floats
    days_forward: int
    value: Floats
    pnl: Floats
    delta: Floats
    gamma: Floats
    theta: Floats
    vega: Floats
    legs_unpriced: int


def price_scenarios(
    legs: LegInputs,
    *,
    now: dt.datetime,
    rate: float,
    underlying_moves_pct: ArrayLike,
    iv_shift_points: ArrayLike,
    days_forward: int,
) -> ScenarioGrid:
    """Re-price the book with every underlying moved by each % and IV by each point.

    Each option keeps the volatility it is priced with today (implied or the
    broker's) plus the shift, floored at SIGMA_MIN; time moves ``days_forward``
    calendar days; options that expire by then take intrinsic value. Each
    cell prices every leg with its own model, as ``price_legs`` does today
    (BSM / Black-76, QD+ for American legs), so the zero scenario's greeks
    are today's totals. A leg on its intrinsic fallback (no IV) is priced
    at SIGMA_MIN with today's difference to that held as a constant.
    """
    moves = np.asarray(underlying_moves_pct, dtype=np.float64).reshape(-1)
    shifts = np.asarray(iv_shift_points, dtype=np.float64).reshape(-1)
    if not np.all(moves > -100.0):
        raise ValueError("underlying_moves_pct must be greater than -100")
    if not np.all(np.isfinite(shifts)):
        raise ValueError("iv_shift_points must be finite")
    if days_forward < 0:
        raise ValueError("days_forward must not be negative")

    base = price_legs(legs, now=now, rate=rate)
    kind = legs.instrument_type
    is_option = (kind == EQUITY_OPTION) | (kind == FUTURE_OPTION)
    included = base.priced & np.isfinite(base.position_value)
    units = legs.quantity * legs.multiplier
    growth = 1.0 + moves / 100.0
    grid_shape = (moves.size, shifts.size)

    # Stock and futures: value scales with the move; delta is unchanged.
    linear = included & ~is_option
    linear_value = np.sum(base.position_value[linear]) * growth
    value = np.broadcast_to(linear_value[:, None], grid_shape).copy()
    delta = np.full(grid_shape, np.sum(base.position_delta[linear]))
    gamma, theta, vega = (np.zeros(grid_shape) for _ in range(3))

    options = np.flatnonzero(included & is_option)
    if options.size:
        futures = kind[options] == FUTURE_OPTION
        carry = np.where(futures, rate, legs.dividend_yield[options])
        # fmax: a leg on its intrinsic fallback has no IV and is priced at the floor.
        sigma = np.fmax(base.iv[options] + shifts[:, None] / 100.0, greeks.SIGMA_MIN)
        years = base.years[options] - days_forward / greeks.DAYS_PER_YEAR
        leg_units = units[options]
        option_legs = {
            "is_american": legs.exercise_style[options] == ExerciseStyle.AMERICAN.value,
            "strike": legs.strike[options],
            "carry": carry,
            "is_call": legs.option_type[options] == "C",
            "futures": futures,
        }
        spot_today = legs.underlying_price[options]
        outputs = (value, delta, gamma, theta, vega)
        rows_per_batch = max(1, SCENARIO_CELLS_PER_BATCH // (shifts.size * options.size))
        for first in range(0, moves.size, rows_per_batch):
            rows = slice(first, first + rows_per_batch)
            cells = _own_model_values(
                **option_legs,
                spot=spot_today * growth[rows, None, None],
                years=years,
                sigma=sigma[None, :, :],
                rate=rate,
            )
            for total, cell in zip(outputs, cells, strict=True):
                total[rows] += cell @ leg_units
        # A leg on its intrinsic fallback (no IV) is priced at the volatility
        # floor in the grid; today's difference to that carries as a
        # constant, so the zero scenario is today's value and P/L starts at 0.
        held = np.isnan(base.iv[options])
        if held.any():
            today = _own_model_values(
                **{name: values[held] for name, values in option_legs.items()},
                spot=spot_today[held],
                years=base.years[options][held],
                sigma=np.full(np.count_nonzero(held), greeks.SIGMA_MIN),
                rate=rate,
            )[0]
            premium = (base.price[options][held] - today) @ leg_units[held]
            if np.isfinite(premium):
                value += premium

    return ScenarioGrid(
        underlying_moves_pct=moves,
        iv_shift_points=shifts,
        days_forward=days_forward,
        value=value,
        pnl=value - np.sum(base.position_value[included]),
        delta=delta,
        gamma=gamma,
        theta=theta,
        vega=vega,
        legs_unpriced=int(np.count_nonzero(~included)),
    )


def _own_model_values(*, is_american, spot, strike, years, rate, carry, sigma, is_call, futures):
    """Return (price, delta, gamma, theta, vega) per unit, each leg with its own model.

    Legs on the last axis (``is_american`` and the other per-leg arrays);
    ``spot``, ``years`` and ``sigma`` broadcast against them, cells on the
    axes before. European legs: BSM / Black-76 (``carry`` is the dividend
    yield, the rate for futures options). American legs: QD+, the exercise
    boundary solved over every input but the spot (on which it does not
    depend) and each spot started from it.
    """
    shape = np.broadcast_shapes(np.shape(spot), np.shape(years), np.shape(sigma), is_american.shape)
    models = [
        (mask, american_model)
        for mask, american_model in ((~is_american, False), (is_american, True))
        if mask.any()
    ]
    out = None if len(models) == 1 else tuple(np.empty(shape) for _ in range(5))
    for mask, american_model in models:
        # One model for every leg (the usual book): whole arrays, no gathers.
        columns = slice(None) if len(models) == 1 else np.flatnonzero(mask)
        # The model's own broadcasting, on the legs' columns: no full-size copies.
        spot_, years_, sigma_ = (np.asarray(x)[..., columns] for x in (spot, years, sigma))
        leg = {
            "spot": spot_,
            "strike": strike[columns],
            "years": years_,
            "rate": rate,
            "sigma": sigma_,
            "is_call": is_call[columns],
        }
        if american_model:
            no_spot = np.broadcast_shapes(years_.shape, sigma_.shape)
            boundary = american.exercise_boundary(
                years=years_,
                rate=rate,
                carry_offset=carry[columns],
                sigma=sigma_,
                is_call=is_call[columns],
                futures=futures[columns],
            ).reshape(*no_spot, -1)
            cells = np.broadcast_shapes(spot_.shape, no_spot)
            start = np.broadcast_to(boundary, (*cells, boundary.shape[-1]))
            values = american.american_greeks(
                **leg,
                carry_offset=carry[columns],
                futures=futures[columns],
                start=start.reshape(-1, boundary.shape[-1]),
                with_rho=False,
            )
        else:
            values = greeks.black_scholes_merton(**leg, dividend_yield=carry[columns])
        parts = (values.price, values.delta, values.gamma, values.theta, values.vega)
        if len(models) == 1:
            return parts
        for target, part in zip(out, parts, strict=True):
            target[..., columns] = part
    return out
