"""The sandbox's REST endpoints (tastytrade-api.md §3), behind authentication."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from tastytrade_sandbox import account_data, market_data
from tastytrade_sandbox.http_types import Request, Response, json_response
from tastytrade_sandbox.wire import envelope, error_body, list_envelope

if TYPE_CHECKING:
    from tastytrade_sandbox.server import Sandbox

DEFAULT_PER_PAGE = 250
MAX_PER_PAGE = 2000
MAX_QUOTE_SYMBOLS = 100
# Tastytrade publishes no limit for the instrument lists; the sandbox holds
# clients to the one it publishes for quotes, so a client that chunks is tested.
MAX_INSTRUMENT_SYMBOLS = 100


class ApiError(Exception):
    def __init__(
        self, status: int, code: str, message: str, errors: list[dict[str, str]] | None = None
    ) -> None:
        super().__init__(message)
        self.response = json_response(status, error_body(code, message, errors))


def not_found(what: str = "Resource") -> ApiError:
    return ApiError(404, "not_found", f"{what} not found")


def invalid(domain: str, reason: str = "does not have a valid value") -> ApiError:
    return ApiError(
        400,
        "validation_error",
        "Request validation failed",
        [{"domain": domain, "reason": reason}],
    )


class Api:
    """Routes one authenticated request for a customer login."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    def handle(self, request: Request, customer: str) -> Response:
        if request.method != "GET":
            raise not_found("Endpoint")
        route, args = self._route(request.segments)
        return json_response(200, route(request, customer, *args))

    def _route(self, segments: tuple[str, ...]) -> tuple[Callable[..., Any], tuple[str, ...]]:
        match segments:
            case ("customers", "me"):
                return self.customer, ()
            case ("customers", customer_id, "accounts"):
                return self.accounts, (customer_id,)
            case ("customers", customer_id, "accounts", number):
                return self.account, (customer_id, number)
            case ("accounts", number, "balances"):
                return self.balances, (number,)
            case ("accounts", number, "balances", currency):
                return self.balance, (number, currency)
            case ("accounts", number, "balance-snapshots"):
                return self.balance_snapshots, (number,)
            case ("accounts", number, "positions"):
                return self.positions, (number,)
            case ("accounts", number, "transactions"):
                return self.transactions, (number,)
            case ("accounts", number, "transactions", transaction_id):
                return self.transaction, (number, transaction_id)
            case ("market-data", "by-type"):
                return self.quotes, ()
            case ("market-metrics",):
                return self.market_metrics, ()
            case ("option-chains", symbol, "nested"):
                return self.option_chain, (symbol,)
            case ("instruments", "equity-options"):
                return self.equity_options, ()
            case ("instruments", "equity-options", symbol):
                return self.equity_option, (symbol,)
            case ("instruments", "future-options"):
                return self.future_options, ()
            case ("instruments", "future-options", symbol):
                return self.future_option, (symbol,)
            case ("instruments", "futures", *rest) if rest:
                return self.future, ("/".join(rest),)
        raise not_found("Endpoint")

    # --- Customers and accounts ---------------------------------------------------

    def customer(self, request: Request, login: str) -> dict[str, Any]:
        person = self.sandbox.book.customers[login]
        return envelope(
            {
                "id": person.customer_id,
                "first-name": person.first_name,
                "last-name": person.last_name,
                "email": person.email,
                "has-industry-affiliation": False,
                "is-professional": False,
            },
            request.path,
        )

    def _own_account(self, login: str, number: str) -> Any:
        owner = self.sandbox.book.owner_of(number)
        if owner is None:
            raise not_found("Account")
        if owner != login:
            raise ApiError(403, "unauthorized", "Not authorized to access this account")
        return self.sandbox.book.accounts[number]

    def _me(self, customer_id: str) -> None:
        if customer_id != "me":
            raise ApiError(403, "unauthorized", "Only 'me' is accepted as a customer id")

    def accounts(self, request: Request, login: str, customer_id: str) -> dict[str, Any]:
        self._me(customer_id)
        items = [
            account_data.account_item(account) for account in self.sandbox.book.accounts_of(login)
        ]
        return list_envelope(items, request.path)

    def account(
        self, request: Request, login: str, customer_id: str, number: str
    ) -> dict[str, Any]:
        self._me(customer_id)
        account = self._own_account(login, number)
        return envelope(account_data.account_item(account)["account"], request.path)

    def balances(self, request: Request, login: str, number: str) -> dict[str, Any]:
        return list_envelope([self._balance_data(login, number)], request.path)

    def balance(self, request: Request, login: str, number: str, currency: str) -> dict[str, Any]:
        data = self._balance_data(login, number)
        if currency != "USD":
            raise not_found("Balance")
        return envelope(data, request.path)

    def _balance_data(self, login: str, number: str) -> dict[str, Any]:
        account = self._own_account(login, number)
        sandbox = self.sandbox
        return account_data.balance_item(
            sandbox.market, account, sandbox.current_tick, sandbox.clock.now()
        )

    def balance_snapshots(self, request: Request, login: str, number: str) -> dict[str, Any]:
        """Daily end-of-day balances, newest first, paginated like transactions."""
        account = self._own_account(login, number)
        per_page = _int_param(request, "per-page", DEFAULT_PER_PAGE)
        if not 1 <= per_page <= MAX_PER_PAGE:
            raise invalid("per-page")
        page = _int_param(request, "page-offset", 0)
        if page < 0:
            raise invalid("page-offset")
        time_of_day = request.param("time-of-day") or "EOD"
        if time_of_day not in ("EOD", "BOD"):
            raise invalid("time-of-day")
        sandbox = self.sandbox
        rows = account_data.balance_snapshots(
            sandbox.market,
            account,
            sandbox.current_tick,
            sandbox.clock.now(),
            start=_date_param(request, "start-date"),
            end=_date_param(request, "end-date") or _date_param(request, "snapshot-date"),
            time_of_day=time_of_day,
        )
        items, pagination = _page(rows, per_page, page)
        return list_envelope(items, request.path, pagination)

    def positions(self, request: Request, login: str, number: str) -> dict[str, Any]:
        account = self._own_account(login, number)
        underlyings = set(request.query.get("underlying-symbol[]", []))
        underlyings |= set(request.query.get("underlying-symbol", []))
        include_marks = request.param("include-marks") == "true"
        sandbox = self.sandbox
        now, tick = sandbox.clock.now(), sandbox.current_tick
        items = [
            account_data.position_item(
                sandbox.market, account, holding, tick, now, include_marks=include_marks
            )
            for holding in account.holdings
            if not underlyings or holding.underlying_symbol in underlyings
        ]
        return list_envelope(items, request.path)

    # --- Transactions -------------------------------------------------------------

    def transactions(self, request: Request, login: str, number: str) -> dict[str, Any]:
        account = self._own_account(login, number)
        per_page = _int_param(request, "per-page", DEFAULT_PER_PAGE)
        if not 1 <= per_page <= MAX_PER_PAGE:
            raise invalid("per-page")
        page = _int_param(request, "page-offset", 0)
        if page < 0:
            raise invalid("page-offset")
        sort = request.param("sort") or "Desc"
        if sort not in ("Asc", "Desc"):
            raise invalid("sort")
        matches = _TransactionFilter.from_request(request)
        rows = [row for row in account.transactions if matches(row)]
        rows.sort(key=lambda row: (row["executed-at"], row["id"]), reverse=sort == "Desc")
        items, pagination = _page(rows, per_page, page)
        return list_envelope(items, request.path, pagination)

    def transaction(
        self, request: Request, login: str, number: str, transaction_id: str
    ) -> dict[str, Any]:
        account = self._own_account(login, number)
        for row in account.transactions:
            if str(row["id"]) == transaction_id:
                return envelope(row, request.path)
        raise not_found("Transaction")

    # --- Market data --------------------------------------------------------------

    def quotes(self, request: Request, login: str) -> dict[str, Any]:
        wanted: list[tuple[str, str]] = []
        for key in market_data.QUOTE_KEYS:
            for value in request.query.get(key, []) + request.query.get(f"{key}[]", []):
                wanted.extend((key, symbol) for symbol in value.split(",") if symbol)
        if len(wanted) > MAX_QUOTE_SYMBOLS:
            raise invalid("symbols", f"at most {MAX_QUOTE_SYMBOLS} symbols per request")
        sandbox = self.sandbox
        now, tick = sandbox.clock.now(), sandbox.current_tick
        items = []
        for key, symbol in wanted:
            item = market_data.quote(
                sandbox.market, key, symbol, tick, now, sandbox.greeks_in_quotes
            )
            if item is not None:
                items.append(item)
        body = list_envelope(items, request.path)
        body["pagination"] = None
        return body

    def market_metrics(self, request: Request, login: str) -> dict[str, Any]:
        symbols = [
            symbol
            for value in request.query.get("symbols", [])
            for symbol in value.split(",")
            if symbol
        ]
        sandbox = self.sandbox
        now, tick = sandbox.clock.now(), sandbox.current_tick
        items = [
            item
            for symbol in dict.fromkeys(symbols)
            if (item := market_data.market_metric(sandbox.market, symbol, tick, now))
        ]
        return list_envelope(items, request.path)

    def option_chain(self, request: Request, login: str, symbol: str) -> dict[str, Any]:
        items = market_data.option_chain(self.sandbox.market, symbol, self.sandbox.current_tick)
        if items is None:
            raise not_found("Option chain")
        return list_envelope(items, request.path)

    def equity_option(self, request: Request, login: str, symbol: str) -> dict[str, Any]:
        data = market_data.equity_option_instrument(self.sandbox.market, symbol)
        if data is None:
            raise not_found("Equity option")
        return envelope(data, request.path)

    def equity_options(self, request: Request, login: str) -> dict[str, Any]:
        """The batch form: ``symbol[]`` repeated; expired contracts only with ``with-expired``."""
        return self._instruments(request, market_data.equity_option_instrument, filtered=True)

    def future_option(self, request: Request, login: str, symbol: str) -> dict[str, Any]:
        data = market_data.future_option_instrument(self.sandbox.market, symbol)
        if data is None:
            raise not_found("Future option")
        return envelope(data, request.path)

    def future_options(self, request: Request, login: str) -> dict[str, Any]:
        return self._instruments(request, market_data.future_option_instrument, filtered=False)

    def _instruments(
        self, request: Request, build: Callable[..., dict[str, Any] | None], *, filtered: bool
    ) -> dict[str, Any]:
        """Answer a batch instrument list: unknown symbols are left out, as production does.

        ``filtered``: expired contracts are listed only with ``with-expired=true``
        (the equity-option list's parameter; the future-option list has none).
        """
        symbols = request.query.get("symbol[]", []) + request.query.get("symbol", [])
        if not symbols:
            raise invalid("symbol[]", "is required")
        if len(symbols) > MAX_INSTRUMENT_SYMBOLS:
            raise invalid("symbol[]", f"at most {MAX_INSTRUMENT_SYMBOLS} symbols per request")
        with_expired = not filtered or request.param("with-expired") == "true"
        items = [
            item
            for symbol in dict.fromkeys(symbols)
            if (item := build(self.sandbox.market, symbol)) is not None
            and (with_expired or item["active"])
        ]
        return list_envelope(items, request.path)

    def future(self, request: Request, login: str, symbol: str) -> dict[str, Any]:
        data = market_data.future_instrument(self.sandbox.market, symbol)
        if data is None:
            raise not_found("Future")
        return envelope(data, request.path)


def _page(rows: list, per_page: int, page: int) -> tuple[list, dict[str, Any]]:
    """Return one page of rows and the pagination object the real API sends."""
    start = page * per_page
    items = rows[start : start + per_page]
    pagination = {
        "per-page": per_page,
        "page-offset": page,
        "item-offset": start,
        "total-items": len(rows),
        "total-pages": math.ceil(len(rows) / per_page),
        "current-item-count": len(items),
        "previous-link": None,
        "next-link": None,
        "paging-link-template": None,
    }
    return items, pagination


def _int_param(request: Request, name: str, default: int) -> int:
    value = request.param(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise invalid(name) from None


def _date_param(request: Request, name: str) -> date | None:
    value = request.param(name)
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise invalid(name) from None


def _time_param(request: Request, name: str) -> datetime | None:
    value = request.param(name)
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise invalid(name) from None
    if parsed.tzinfo is None:
        raise invalid(name, "needs a time zone")
    return parsed


@dataclass(frozen=True)
class _TransactionFilter:
    """The transaction filters of one request, parsed once (not once per row)."""

    start: date | None
    end: date | None
    start_at: datetime | None
    end_at: datetime | None
    types: tuple[str, ...]
    sub_types: tuple[str, ...]
    fields: tuple[tuple[str, str], ...]  # (name, wanted value) for exact matches

    @classmethod
    def from_request(cls, request: Request) -> _TransactionFilter:
        fields = tuple(
            (name, wanted)
            for name in ("underlying-symbol", "symbol", "instrument-type")
            if (wanted := request.param(name)) is not None
        )
        return cls(
            start=_date_param(request, "start-date"),
            end=_date_param(request, "end-date"),
            start_at=_time_param(request, "start-at"),
            end_at=_time_param(request, "end-at"),
            types=tuple(request.query.get("types[]", []) + request.query.get("type", [])),
            sub_types=tuple(request.query.get("sub-type[]", [])),
            fields=fields,
        )

    def __call__(self, row: dict[str, Any]) -> bool:
        if self.start or self.end:
            day = date.fromisoformat(row["transaction-date"])
            if (self.start and day < self.start) or (self.end and day > self.end):
                return False
        if self.start_at or self.end_at:
            executed = datetime.fromisoformat(row["executed-at"])
            if (self.start_at and executed < self.start_at) or (
                self.end_at and executed > self.end_at
            ):
                return False
        if self.types and row["transaction-type"] not in self.types:
            return False
        if self.sub_types and row["transaction-sub-type"] not in self.sub_types:
            return False
        return all(row.get(name) == wanted for name, wanted in self.fields)
