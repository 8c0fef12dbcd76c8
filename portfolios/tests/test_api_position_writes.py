"""POST/PATCH/DELETE /api/portfolio/{id}/positions/: legs of manual portfolios."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from portfolios.models import Portfolio, Position
from portfolios.selectors import market_today
from portfolios.tests.api_support import db_state, make_connection, make_synced, position_json
from portfolios.tests.factories import make_book, make_portfolio, make_short_put
from thetavue_site import rls

pytestmark = pytest.mark.django_db


@pytest.fixture
def manual(alice):
    with rls.as_service():
        return make_portfolio(owner=alice, name="Schwab IRA")


@pytest.fixture
def expiry():
    return market_today() + dt.timedelta(days=40)


def list_url(portfolio) -> str:
    return f"/api/portfolio/{portfolio.pk}/positions/"


def detail_url(portfolio, position_id) -> str:
    return f"/api/portfolio/{portfolio.pk}/positions/{position_id}/"


def stored(portfolio) -> list[Position]:
    with rls.as_service():
        return list(Position.objects.filter(portfolio=portfolio).order_by("id"))


def version(portfolio) -> int:
    with rls.as_service():
        return Portfolio.objects.get(pk=portfolio.pk).sync_version


# Create ----------------------------------------------------------------------------


def test_add_a_leg_by_occ_symbol(manual, alice_api, expiry):
    # given
    symbol = f"AAPL  {expiry:%y%m%d}P00172500"
    # when
    response = alice_api.post(
        list_url(manual),
        {
            "symbol": symbol,
            "quantity": -2,
            "average_open_price": "3.10",
            "mark": "2.05",
            "open_date": "2026-11-01",
        },
        format="json",
    )
    # then: premium = −3.10 × −2 × 100; value = 2.05 × −2 × 100
    assert response.status_code == 201
    [leg] = stored(manual)
    body = response.json()
    assert body == position_json(leg)
    assert {
        key: body[key] for key in body if key not in ("id", "updated_at", "strategy_group_id")
    } == {
        "portfolio_id": manual.pk,
        "symbol": symbol,
        "underlying_symbol": "AAPL",
        "instrument_type": "Equity Option",
        "option_type": "P",
        "strike_price": "172.500000",
        "expiration_date": expiry.isoformat(),
        "dte": 40,
        "open_date": "2026-11-01",
        "quantity": -2,
        "multiplier": "100",
        "strategy_type": "short_put",
        "average_open_price": "3.100000",
        "mark": "2.050000",
        "previous_close": None,
        "underlying_price": None,
        "implied_volatility": None,
        "iv_status": "no_underlying",
        "greeks_source": "none",
        "beta": None,
        "premium_received": "620.00",
        "current_value": "-410.00",
        "unrealized_pnl": "210.00",
        "fees_since_open": "0.00",
        "pnl_open": "210.00",
        "pnl_day": None,
        "delta": None,
        "gamma": None,
        "theta": None,
        "vega": None,
        "rho": None,
        "exercise_style": "American",
        "exercise_style_source": "",
        "iv_rank": None,
        "iv_percentile": None,
    }
    assert version(manual) == 1


def test_collapsed_lowercase_occ_symbol_is_normalised(manual, alice_api, expiry):
    response = alice_api.post(
        list_url(manual),
        {"symbol": f" spy {expiry:%y%m%d}c00600000 ", "quantity": 1},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["symbol"] == f"SPY   {expiry:%y%m%d}C00600000"
    assert response.json()["strategy_type"] == "long_call"


def test_add_a_leg_by_its_parts(manual, alice_api, expiry):
    response = alice_api.post(
        list_url(manual),
        {
            "underlying_symbol": "qqq",
            "expiration_date": expiry.isoformat(),
            "option_type": "C",
            "strike_price": "512.5",
            "quantity": "-1",
        },
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert body["symbol"] == f"QQQ   {expiry:%y%m%d}C00512500"
    assert body["underlying_symbol"] == "QQQ"
    assert body["strategy_type"] == "short_call"
    assert body["premium_received"] is None


def test_option_root_may_differ_from_underlying(manual, alice_api, expiry):
    response = alice_api.post(
        list_url(manual),
        {"symbol": f"SPXW  {expiry:%y%m%d}P05800000", "underlying_symbol": "SPX", "quantity": -1},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["underlying_symbol"] == "SPX"


def test_a_priced_option_gets_greeks(manual, alice_api, expiry):
    response = alice_api.post(
        list_url(manual),
        {
            "symbol": f"SPY   {expiry:%y%m%d}P00540000",
            "quantity": -1,
            "mark": "4.20",
            "underlying_price": "560.00",
            "average_open_price": "5.00",
        },
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert body["greeks_source"] == "implied"
    assert body["iv_status"] == "solved"
    assert 0.05 < body["implied_volatility"] < 1.0
    # A short put: delta > 0 (share-equivalents), theta > 0 ($/day), vega < 0.
    assert 0 < body["delta"] < 50
    assert body["theta"] > 0
    assert body["vega"] < 0


def test_an_option_with_only_an_iv_estimate_is_priced_from_it(manual, alice_api, expiry):
    response = alice_api.post(
        list_url(manual),
        {
            "symbol": f"SPY   {expiry:%y%m%d}C00600000",
            "quantity": 2,
            "underlying_price": "560",
            "implied_volatility": 0.2,
        },
        format="json",
    )
    body = response.json()
    assert body["greeks_source"] == "market_iv"
    assert body["implied_volatility"] == 0.2
    assert body["delta"] > 0


def test_an_iv_estimate_waits_for_the_underlying_price(manual, alice_api, expiry):
    # given: an IV but no underlying price, so the leg cannot be priced yet
    created = alice_api.post(
        list_url(manual),
        {"symbol": f"SPY   {expiry:%y%m%d}C00600000", "quantity": 1, "implied_volatility": 0.3},
        format="json",
    ).json()
    assert (created["implied_volatility"], created["delta"]) == (0.3, None)
    assert created["greeks_source"] == "none"
    # when the underlying price arrives
    patched = alice_api.patch(
        detail_url(manual, created["id"]), {"underlying_price": "590"}, format="json"
    ).json()
    # then the estimate prices it
    assert patched["implied_volatility"] == 0.3
    assert patched["greeks_source"] == "market_iv"
    assert 0 < patched["delta"] < 100


def test_a_stock_leg_has_delta_equal_to_its_shares(manual, alice_api):
    response = alice_api.post(
        list_url(manual),
        {"symbol": "brk/b", "quantity": "12.5", "average_open_price": "400", "mark": "410"},
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert body["symbol"] == "BRK/B"
    assert body["instrument_type"] == "Equity"
    assert body["multiplier"] == "1"
    assert body["quantity"] == 12.5
    assert body["delta"] == 12.5
    assert (body["gamma"], body["theta"], body["vega"]) == (0.0, 0.0, 0.0)
    assert body["greeks_source"] == "linear"
    assert body["premium_received"] == "-5000.00"
    assert body["current_value"] == "5125.00"
    assert body["strategy_type"] == "stock"


def test_a_stock_leg_by_underlying_only(manual, alice_api):
    response = alice_api.post(
        list_url(manual), {"underlying_symbol": "MSFT", "quantity": 10}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["symbol"] == "MSFT"


def test_a_future_needs_its_multiplier(manual, alice_api):
    before = db_state()
    response = alice_api.post(list_url(manual), {"symbol": "/ESZ6", "quantity": 1}, format="json")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["multiplier"]
    assert db_state() == before
    response = alice_api.post(
        list_url(manual), {"symbol": "/ESZ6", "quantity": 1, "multiplier": 50}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["instrument_type"] == "Future"
    # delta 1 per unit of the underlying: 1 contract × 50
    assert (response.json()["delta"], response.json()["greeks_source"]) == (50.0, "linear")


def test_a_futures_option_by_symbol(manual, alice_api, expiry):
    symbol = f"./ESZ6 EW3Z6 {expiry:%y%m%d}P5650"
    response = alice_api.post(
        list_url(manual), {"symbol": symbol, "quantity": -1, "multiplier": 50}, format="json"
    )
    assert response.status_code == 201
    body = response.json()
    assert body["instrument_type"] == "Future Option"
    assert body["underlying_symbol"] == "/ESZ6"
    assert body["strike_price"] == "5650.000000"


def test_strategy_detection_groups_a_new_spread(manual, alice_api, expiry):
    # given: a short 540 put, then a long 530 put of the same expiry
    alice_api.post(
        list_url(manual),
        {"symbol": f"SPY   {expiry:%y%m%d}P00540000", "quantity": -1, "average_open_price": "4"},
        format="json",
    )
    assert stored(manual)[0].strategy_type == "short_put"
    # when
    alice_api.post(
        list_url(manual),
        {"symbol": f"SPY   {expiry:%y%m%d}P00530000", "quantity": 1, "average_open_price": "2"},
        format="json",
    )
    # then: one put credit spread
    short, long = stored(manual)
    assert short.strategy_type == long.strategy_type == "put_credit_spread"
    assert short.strategy_group_id == long.strategy_group_id != ""
    assert version(manual) == 2
    # and deleting the long leg leaves a short put again
    alice_api.delete(detail_url(manual, long.pk))
    [short] = stored(manual)
    assert short.strategy_type == "short_put"
    assert version(manual) == 3


# Validation ------------------------------------------------------------------------


def _occ(expiry, option_type="P", strike="00540000", root="SPY   "):
    return f"{root}{expiry:%y%m%d}{option_type}{strike}"


INVALID_LEGS = [
    ("quantity zero", lambda e: {"symbol": _occ(e), "quantity": 0}, ["quantity"]),
    ("quantity missing", lambda e: {"symbol": _occ(e)}, ["quantity"]),
    ("quantity text", lambda e: {"symbol": _occ(e), "quantity": "many"}, ["quantity"]),
    ("fractional contracts", lambda e: {"symbol": _occ(e), "quantity": 1.5}, ["quantity"]),
    (
        "multiplier zero",
        lambda e: {"symbol": _occ(e), "quantity": 1, "multiplier": 0},
        ["multiplier"],
    ),
    (
        "multiplier huge",
        lambda e: {"symbol": _occ(e), "quantity": 1, "multiplier": 10**9},
        ["multiplier"],
    ),
    (
        "strike negative",
        lambda e: {
            "underlying_symbol": "SPY",
            "expiration_date": e.isoformat(),
            "option_type": "P",
            "strike_price": "-5",
            "quantity": 1,
        },
        ["strike_price"],
    ),
    (
        "strike zero",
        lambda e: {
            "underlying_symbol": "SPY",
            "expiration_date": e.isoformat(),
            "option_type": "P",
            "strike_price": "0",
            "quantity": 1,
        },
        ["strike_price"],
    ),
    (
        "strike with 4 decimals",
        lambda e: {
            "underlying_symbol": "SPY",
            "expiration_date": e.isoformat(),
            "option_type": "P",
            "strike_price": "100.1234",
            "quantity": 1,
        },
        ["strike_price"],
    ),
    (
        "expiration not a date",
        lambda e: {
            "underlying_symbol": "SPY",
            "expiration_date": "2026-13-45",
            "option_type": "P",
            "strike_price": "500",
            "quantity": 1,
        },
        ["expiration_date"],
    ),
    (
        "option type unknown",
        lambda e: {
            "underlying_symbol": "SPY",
            "expiration_date": e.isoformat(),
            "option_type": "X",
            "strike_price": "500",
            "quantity": 1,
        },
        ["option_type"],
    ),
    (
        "option parts missing",
        lambda e: {"underlying_symbol": "SPY", "expiration_date": e.isoformat(), "quantity": 1},
        ["option_type", "strike_price"],
    ),
    (
        "stock with a strike",
        lambda e: {"symbol": "SPY", "strike_price": "500", "quantity": 10},
        ["strike_price"],
    ),
    (
        "stock parts with option fields",
        lambda e: {
            "underlying_symbol": "SPY",
            "instrument_type": "Equity",
            "option_type": "C",
            "quantity": 10,
        },
        ["option_type"],
    ),
    (
        "symbol disagrees with strike",
        lambda e: {"symbol": _occ(e), "strike_price": "545", "quantity": 1},
        ["strike_price"],
    ),
    (
        "symbol disagrees with type",
        lambda e: {"symbol": _occ(e), "option_type": "C", "quantity": 1},
        ["option_type"],
    ),
    (
        "symbol disagrees with instrument type",
        lambda e: {"symbol": _occ(e), "instrument_type": "Equity", "quantity": 1},
        ["instrument_type"],
    ),
    ("symbol unreadable", lambda e: {"symbol": "NOT A SYMBOL!!", "quantity": 1}, ["symbol"]),
    (
        "occ with a bad date",
        lambda e: {"symbol": "SPY   261345P00540000", "quantity": 1},
        ["symbol"],
    ),
    ("neither symbol nor parts", lambda e: {"quantity": 1}, ["symbol", "underlying_symbol"]),
    (
        "future option parts",
        lambda e: {"underlying_symbol": "ES", "instrument_type": "Future Option", "quantity": 1},
        ["symbol"],
    ),
    (
        "iv as a percentage",
        lambda e: {"symbol": _occ(e), "quantity": 1, "implied_volatility": 25},
        ["implied_volatility"],
    ),
    (
        "iv not finite",
        lambda e: {"symbol": _occ(e), "quantity": 1, "implied_volatility": "NaN"},
        ["implied_volatility"],
    ),
    ("mark negative", lambda e: {"symbol": _occ(e), "quantity": 1, "mark": "-0.01"}, ["mark"]),
    (
        "underlying price zero",
        lambda e: {"symbol": _occ(e), "quantity": 1, "underlying_price": "0"},
        ["underlying_price"],
    ),
    (
        "open price not a number",
        lambda e: {"symbol": _occ(e), "quantity": 1, "average_open_price": "Infinity"},
        ["average_open_price"],
    ),
    (
        "value too large for money",
        lambda e: {
            "symbol": _occ(e),
            "quantity": 999999999999,
            "multiplier": 1000000,
            "mark": "999999",
        },
        ["mark"],
    ),
    (
        "strategy unknown",
        lambda e: {"symbol": _occ(e), "quantity": 1, "strategy_type": "wheel"},
        ["strategy_type"],
    ),
    ("unknown field", lambda e: {"symbol": _occ(e), "quantity": 1, "colour": "red"}, ["colour"]),
    ("read-only field", lambda e: {"symbol": _occ(e), "quantity": 1, "delta": 50}, ["delta"]),
    (
        "several bad fields at once",
        lambda e: {"symbol": _occ(e), "quantity": 0, "multiplier": 0, "mark": "-1"},
        ["mark", "multiplier", "quantity"],
    ),
]


@pytest.mark.parametrize(
    ("make_body", "fields"),
    [case[1:] for case in INVALID_LEGS],
    ids=[case[0] for case in INVALID_LEGS],
)
def test_invalid_leg_is_400_naming_each_field(manual, alice_api, expiry, make_body, fields):
    with rls.as_service():
        make_short_put(portfolio=manual, underlying="QQQ")
    before = db_state()
    response = alice_api.post(list_url(manual), make_body(expiry), format="json")
    assert response.status_code == 400, response.json()
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert sorted(error["fields"]) == fields
    assert all(reasons and all(reasons) for reasons in error["fields"].values())
    assert db_state() == before


def test_duplicate_symbol_is_400_not_500(manual, alice_api, expiry):
    body = {"symbol": _occ(expiry), "quantity": -1}
    assert alice_api.post(list_url(manual), body, format="json").status_code == 201
    before = db_state()
    # the same contract, written another way
    again = {
        "underlying_symbol": "SPY",
        "expiration_date": expiry.isoformat(),
        "option_type": "P",
        "strike_price": "540",
        "quantity": 3,
    }
    response = alice_api.post(list_url(manual), again, format="json")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["symbol"]
    assert "already holds" in response.json()["error"]["fields"]["symbol"][0]
    assert db_state() == before


def test_the_same_symbol_in_two_portfolios_is_fine(manual, alice, alice_api, expiry):
    with rls.as_service():
        other = make_portfolio(owner=alice, name="Other")
    body = {"symbol": _occ(expiry), "quantity": -1}
    assert alice_api.post(list_url(manual), body, format="json").status_code == 201
    assert alice_api.post(list_url(other), body, format="json").status_code == 201


# Update ----------------------------------------------------------------------------


@pytest.fixture
def leg(manual, alice_api, expiry):
    response = alice_api.post(
        list_url(manual),
        {
            "symbol": _occ(expiry),
            "quantity": -1,
            "average_open_price": "4.00",
            "mark": "3.00",
            "underlying_price": "560",
        },
        format="json",
    )
    return response.json()


def test_patch_quantity_recomputes_money_and_greeks(manual, alice_api, leg):
    response = alice_api.patch(detail_url(manual, leg["id"]), {"quantity": -3}, format="json")
    assert response.status_code == 200
    body = response.json()
    with rls.as_service():
        assert body == position_json(Position.objects.get(pk=leg["id"]))
    assert body["quantity"] == -3
    assert body["premium_received"] == "1200.00"
    assert body["current_value"] == "-900.00"
    assert body["unrealized_pnl"] == "300.00"
    assert body["delta"] == pytest.approx(3 * leg["delta"])
    assert body["theta"] == pytest.approx(3 * leg["theta"])
    assert version(manual) == 2


def test_patch_mark_reprices(manual, alice_api, leg):
    response = alice_api.patch(detail_url(manual, leg["id"]), {"mark": "6.50"}, format="json")
    body = response.json()
    assert body["current_value"] == "-650.00"
    assert body["implied_volatility"] > leg["implied_volatility"]
    assert body["delta"] > leg["delta"]


def test_patch_clearing_the_mark_leaves_value_unknown(manual, alice_api, leg):
    body = alice_api.patch(detail_url(manual, leg["id"]), {"mark": None}, format="json").json()
    assert body["current_value"] is None
    assert body["unrealized_pnl"] is None


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"quantity": 0}, ["quantity"]),
        ({"quantity": "0.5"}, ["quantity"]),
        ({"multiplier": -1}, ["multiplier"]),
        ({"symbol": "QQQ"}, ["symbol"]),
        ({"strike_price": "500"}, ["strike_price"]),
        ({"expiration_date": "2030-01-01", "option_type": "C"}, ["expiration_date", "option_type"]),
        ({"instrument_type": "Equity"}, ["instrument_type"]),
        ({"premium_received": "5"}, ["premium_received"]),
        ({"portfolio_id": 1}, ["portfolio_id"]),
        ({"implied_volatility": -0.1}, ["implied_volatility"]),
    ],
)
def test_patch_rejects_bad_fields(manual, alice_api, leg, body, fields):
    before = db_state()
    response = alice_api.patch(detail_url(manual, leg["id"]), body, format="json")
    assert response.status_code == 400
    assert sorted(response.json()["error"]["fields"]) == fields
    assert db_state() == before


def test_put_is_not_allowed_on_a_leg(manual, alice_api, leg):
    response = alice_api.put(detail_url(manual, leg["id"]), {"quantity": 2}, format="json")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_delete_a_leg(manual, alice_api, leg):
    response = alice_api.delete(detail_url(manual, leg["id"]))
    assert response.status_code == 204
    assert stored(manual) == []
    assert version(manual) == 2
    assert alice_api.delete(detail_url(manual, leg["id"])).status_code == 404


# Synced portfolios -----------------------------------------------------------------


def test_synced_legs_are_read_only(alice, alice_api, expiry):
    with rls.as_service():
        synced = make_synced(owner=alice, connection=make_connection(owner=alice))
        [existing] = make_book(portfolio=synced, n_positions=1)
    before = db_state()
    attempts = [
        alice_api.post(list_url(synced), {"symbol": _occ(expiry), "quantity": 1}, format="json"),
        alice_api.post(list_url(synced), {"quantity": 0}, format="json"),  # 403 before 400
        alice_api.patch(detail_url(synced, existing.pk), {"quantity": -2}, format="json"),
        alice_api.delete(detail_url(synced, existing.pk)),
    ]
    for response in attempts:
        assert response.status_code == 403
        assert response.json() == {
            "error": {
                "code": "read_only",
                "message": "This portfolio is synced from the broker: its legs are read-only.",
                "fields": {},
            }
        }
    assert db_state() == before
    assert alice_api.get(detail_url(synced, existing.pk)).status_code == 200


def test_money_is_rounded_to_cents(manual, alice_api, expiry):
    response = alice_api.post(
        list_url(manual),
        {"symbol": _occ(expiry), "quantity": -1, "average_open_price": "0.123456"},
        format="json",
    )
    assert response.json()["premium_received"] == "12.35"
    assert Decimal(response.json()["average_open_price"]) == Decimal("0.123456")
