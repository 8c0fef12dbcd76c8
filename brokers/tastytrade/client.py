"""Tastytrade REST client: one requests.Session per broker connection.

Framework-free. The wire format (envelope, kebab-case keys, decimal strings,
``-effect`` signs, pagination) is decoded here and nowhere else; callers get
frozen dataclasses with signed ``Decimal`` amounts. See tastytrade-api.md.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter
from requests.utils import DEFAULT_CA_BUNDLE_PATH

if TYPE_CHECKING:
    from brokers.tastytrade.oauth_client import TokenSet

logger = logging.getLogger(__name__)

DEFAULT_USER_AGENT = "thetavue/0.1.0"
DEFAULT_TIMEOUT_SECONDS = (3.05, 10.0)  # (connect, read)
MAX_ATTEMPTS = 4
QUOTE_BATCH_SIZE = 100  # symbols per /market-data/by-type call, across all keys
TRANSACTIONS_PER_PAGE = 250
TRANSACTIONS_PER_PAGE_MAX = 2000
REFRESH_MARGIN_SECONDS = 60
RETRY_AFTER_MAX_SECONDS = 60.0
MAX_PAGES = 10_000  # a guard against a server that never reaches the last page
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


# --- Errors -------------------------------------------------------------------


class BrokerError(Exception):
    """A Tastytrade call failed; the message never carries a token."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        attempts: int = 1,
    ) -> None:
        super().__init__(message)
        self.status = status  # HTTP status, None when no response arrived
        self.code = code  # the API's error.code / error_code, or our own reason
        self.attempts = attempts  # requests sent for this call


class BrokerUnavailable(BrokerError):
    """Transient failure (timeouts, resets, 429, 5xx) that outlived its retries."""


class BrokerAuthError(BrokerError):
    """Authentication failed (a second 401, or the token endpoint refused)."""


class BrokerGrantInvalid(BrokerAuthError):
    """The refresh token or code is dead (``invalid_grant``): reconnect required."""


class BrokerProtocolError(BrokerError):
    """The answer was not what the protocol promises (not JSON, wrong shape)."""


class BrokerRequestError(BrokerError):
    """The API refused the request (400, 403, 404, 406, 422): not retried."""


# --- Retry policy -------------------------------------------------------------


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with full jitter: random(0, min(cap, base * 2**n))."""

    base_seconds: float
    cap_seconds: float

    def ceiling(self, retry_index: int) -> float:
        """Return the upper bound in seconds of the delay before retry ``n`` (0-based)."""
        return min(self.cap_seconds, self.base_seconds * 2**retry_index)

    def delay(self, retry_index: int, rng: random.Random) -> float:
        return rng.uniform(0.0, self.ceiling(retry_index))


SERVER_BACKOFF = Backoff(base_seconds=0.5, cap_seconds=8.0)  # 5xx, timeouts, resets
THROTTLE_BACKOFF = Backoff(base_seconds=2.0, cap_seconds=30.0)  # 429

# Errors raised before a complete response arrived (connect, TLS, reset,
# truncated body, timeouts); all are safe to retry on a GET.
_TRANSPORT_ERRORS = urllib3.exceptions.HTTPError
_TIMEOUT_ERRORS = urllib3.exceptions.TimeoutError


# --- Results ------------------------------------------------------------------


@dataclass(frozen=True)
class Account:
    account_number: str
    nickname: str | None
    account_type_name: str | None  # "Individual", "Roth IRA", ...
    margin_or_cash: str | None  # "Margin" or "Cash"
    is_closed: bool  # closed accounts are listed but not synced
    is_futures_approved: bool
    authority_level: str | None  # "owner"
    suitable_options_level: str | None
    opened_at: datetime | None


@dataclass(frozen=True)
class Balance:
    """USD balances; amounts in $, unsigned unless stated."""

    account_number: str
    currency: str
    net_liquidating_value: Decimal | None  # signed
    cash_balance: Decimal | None  # signed as sent (no effect field)
    equity_buying_power: Decimal | None
    derivative_buying_power: Decimal | None
    used_derivative_buying_power: Decimal | None
    maintenance_requirement: Decimal | None
    maintenance_excess: Decimal | None
    margin_equity: Decimal | None
    long_equity_value: Decimal | None
    short_equity_value: Decimal | None
    long_derivative_value: Decimal | None
    short_derivative_value: Decimal | None
    pending_cash: Decimal | None  # signed from pending-cash-effect
    updated_at: datetime | None


@dataclass(frozen=True)
class Position:
    """One leg. ``quantity`` is signed: short < 0, a Zero-direction leg is 0."""

    account_number: str
    symbol: str
    instrument_type: str  # "Equity", "Equity Option", "Future", "Future Option", ...
    underlying_symbol: str | None  # "SPX" for SPXW options, the future for /ES options
    quantity: Decimal  # contracts or shares, signed; may be fractional
    quantity_direction: str  # "Long", "Short" or "Zero"
    multiplier: Decimal  # units per contract: 100 options, 1 stock, 50 /ES options
    average_open_price: Decimal | None  # per share/unit, unsigned
    close_price: Decimal | None  # previous close per share/unit
    mark_price: Decimal | None  # per unit, only with include_marks
    mark: Decimal | None  # whole position, only with include_marks
    cost_effect: str | None  # undocumented; never derive direction from it
    expires_at: datetime | None
    realized_day_gain: Decimal | None  # $, signed
    realized_today: Decimal | None  # $, signed
    streamer_symbol: str | None
    created_at: datetime | None
    updated_at: datetime | None

    def is_expired(self, now: datetime) -> bool:
        """Return True when the leg is past its ``expires-at`` (still listed)."""
        return self.expires_at is not None and self.expires_at <= now


@dataclass(frozen=True)
class Transaction:
    """A ledger row; money in $, signed from its ``-effect`` (credit > 0)."""

    id: int  # the dedupe key
    account_number: str | None
    transaction_type: str  # "Trade", "Receive Deliver", "Money Movement", ...
    transaction_sub_type: str | None
    action: str | None  # "Sell to Open", ...
    symbol: str | None
    instrument_type: str | None
    underlying_symbol: str | None
    quantity: Decimal | None  # unsigned, as sent
    price: Decimal | None  # per share/unit, unsigned
    value: Decimal | None  # price x quantity x multiplier, signed
    net_value: Decimal | None  # after fees, signed
    commission: Decimal | None  # signed (a cost is < 0)
    clearing_fees: Decimal | None
    regulatory_fees: Decimal | None
    proprietary_index_option_fees: Decimal | None
    executed_at: datetime | None
    transaction_date: date | None  # New York calendar date
    description: str | None
    order_id: str | None = None  # legs filled in one order share it (multi-leg, rolls)


@dataclass(frozen=True)
class BalanceSnapshot:
    """The account's balances at one day's end (``time-of-day`` EOD); money in $."""

    snapshot_date: date  # New York calendar date
    net_liquidating_value: Decimal | None


@dataclass(frozen=True)
class Quote:
    """A REST quote; ``price`` is the first usable of mark, mid, (bid+ask)/2, last,
    close, and ``price_source`` names it. Greek fields are undocumented extras."""

    symbol: str
    instrument_type: str | None
    bid: Decimal | None
    ask: Decimal | None
    mid: Decimal | None
    mark: Decimal | None
    last: Decimal | None
    close: Decimal | None
    prev_close: Decimal | None
    price: Decimal | None  # per share/unit
    price_source: str | None  # "mark", "mid", "bid_ask", "last", "close" or None
    volume: Decimal | None
    open_interest: Decimal | None
    updated_at: datetime | None
    volatility: Decimal | None  # fraction; undocumented
    delta: Decimal | None
    gamma: Decimal | None
    theta: Decimal | None
    vega: Decimal | None
    rho: Decimal | None
    theo_price: Decimal | None


@dataclass(frozen=True)
class ExpirationIV:
    expiration_date: date
    settlement_type: str | None  # "AM" / "PM"
    option_chain_type: str | None
    implied_volatility: Decimal | None  # fraction: 0.2242 = 22.42 %


@dataclass(frozen=True)
class MarketMetric:
    symbol: str
    beta: Decimal | None
    dividend_yield: Decimal | None  # fraction per year
    iv_index: Decimal | None  # 30-day IV, fraction
    iv_index_rank: Decimal | None  # fraction 0-1
    iv_percentile: Decimal | None  # fraction 0-1
    iv_30_day: Decimal | None  # percent (21.87 = 21.87 %)
    hv_30_day: Decimal | None  # percent
    earnings_date: date | None
    expiration_ivs: tuple[ExpirationIV, ...]


# Quote keys of /market-data/by-type, reachable from an instrument-type as well.
QUOTE_KEYS = {
    "Equity": "equity",
    "Equity Option": "equity-option",
    "Index": "index",
    "Future": "future",
    "Future Option": "future-option",
    "Cryptocurrency": "cryptocurrency",
}


def quote_key(instrument_type: str) -> str:
    """Return the by-type query key for an instrument type or a key itself."""
    if instrument_type in QUOTE_KEYS.values():
        return instrument_type
    try:
        return QUOTE_KEYS[instrument_type]
    except KeyError:
        raise ValueError(f"no quote key for instrument type {instrument_type!r}") from None


# --- The client ---------------------------------------------------------------


RefreshCallback = Callable[[], "str | TokenSet | None"]


class TastytradeClient:
    """Read-only Tastytrade API client for one broker connection.

    Give either ``access_token_provider`` (called before each request) or
    ``tokens``. On a 401, ``refresh`` is called once and the request retried
    once. With a provider, ``refresh`` returns the new access token (or a
    TokenSet), which this client then keeps using, or None to re-read the
    provider. With ``tokens`` plus ``client_secret`` (and ``client_id``) and no
    ``refresh``, the client refreshes itself, also when under 60 s remain, and
    hands each new TokenSet to ``on_tokens`` to be stored before it is used.
    """

    def __init__(
        self,
        base_url: str,
        *,
        access_token_provider: Callable[[], str] | None = None,
        tokens: TokenSet | None = None,
        refresh: RefreshCallback | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        on_tokens: Callable[[TokenSet], None] | None = None,
        user_agent: str = DEFAULT_USER_AGENT,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT_SECONDS,
        max_attempts: int = MAX_ATTEMPTS,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        now: Callable[[], datetime] | None = None,
        session: requests.Session | None = None,
    ) -> None:
        if (access_token_provider is None) == (tokens is None):
            raise ValueError("give exactly one of access_token_provider or tokens")
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.base_url = base_url.rstrip("/")
        self.user_agent = user_agent
        self.timeout = timeout
        self.max_attempts = max_attempts
        self._provider = access_token_provider
        self._override_token: str | None = None
        self._tokens = tokens
        self._client_id = client_id
        self._client_secret = client_secret
        self._on_tokens = on_tokens
        self._refresh = refresh
        if refresh is None and tokens is not None and client_secret is not None:
            self._refresh = self._refresh_tokens
        self._sleep = sleep
        # Jitter only spreads retries out; a plain PRNG is the right tool.
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not security
        self._now = now or (lambda: datetime.now(UTC))
        self._session = session
        # API calls go straight to a urllib3 pool (what requests runs on): a
        # requests.Session costs twice the CPU per call in cookie jars, hooks
        # and setting merges this client never uses. The session is kept for
        # the token endpoint (oauth_client) and made on first use.
        self._pool: urllib3.HTTPConnectionPool | None = None
        self._timeout = _pool_timeout(timeout)
        self._headers = {"User-Agent": user_agent, "Accept": "application/json"}
        self.calls = 0  # API calls made (retries of one call not counted)

    @property
    def session(self) -> requests.Session:
        """Return the requests session the token endpoint is called through."""
        if self._session is None:
            session = requests.Session()
            # The broker is a configured URL: no proxy or netrc lookups.
            session.trust_env = False
            # Retries live in this client alone; urllib3 must not add a second layer.
            for prefix in ("http://", "https://"):
                session.mount(prefix, HTTPAdapter(max_retries=0))
            session.headers.update(self._headers)
            self._session = session
        return self._session

    def close(self) -> None:
        """Close the pooled connections."""
        if self._pool is not None:
            self._pool.close()
            self._pool = None
        if self._session is not None:
            self._session.close()

    def __enter__(self) -> TastytradeClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def tokens(self) -> TokenSet | None:
        """Return the current TokenSet when the client was built with one."""
        return self._tokens

    # --- Endpoints ------------------------------------------------------------

    def accounts(self) -> list[Account]:
        """Return the customer's accounts, closed ones included."""
        payload = self._get("/customers/me/accounts")
        return [_account(item) for item in _items(payload, "accounts")]

    def balance(self, account_number: str) -> Balance:
        """Return the account's USD balances."""
        path = f"/accounts/{_segment(account_number)}/balances/USD"
        return _balance(_data(self._get(path), "balance"))

    def balance_snapshots(
        self, account_number: str, *, start_date: date, end_date: date | None = None
    ) -> list[BalanceSnapshot]:
        """Return the account's end-of-day balances from ``start_date``, following every page."""
        params = [("time-of-day", "EOD"), ("start-date", start_date.isoformat())]
        if end_date is not None:
            params.append(("end-date", end_date.isoformat()))
        path = f"/accounts/{_segment(account_number)}/balance-snapshots"
        snapshots = []
        for item in self._pages(path, params):
            day = item.day("snapshot_date")
            if day is not None:
                snapshots.append(
                    BalanceSnapshot(
                        snapshot_date=day,
                        net_liquidating_value=item.decimal("net_liquidating_value"),
                    )
                )
        return snapshots

    def positions(self, account_number: str, *, include_marks: bool = False) -> list[Position]:
        """Return every leg with a signed quantity (Zero-direction legs included)."""
        params = [("include-marks", "true")] if include_marks else []
        path = f"/accounts/{_segment(account_number)}/positions"
        payload = self._get(path, params)
        return [_position(item) for item in _items(payload, "positions")]

    def transactions(
        self,
        account_number: str,
        start_date: date | None = None,
        *,
        end_date: date | None = None,
        types: Sequence[str] = (),
        per_page: int = TRANSACTIONS_PER_PAGE,
    ) -> list[Transaction]:
        """Return transactions oldest first (``sort=Asc``), following every page."""
        if not TRANSACTIONS_PER_PAGE <= per_page <= TRANSACTIONS_PER_PAGE_MAX:
            raise ValueError(
                f"per_page must be {TRANSACTIONS_PER_PAGE}-{TRANSACTIONS_PER_PAGE_MAX}"
            )
        params = [("sort", "Asc"), ("per-page", str(per_page))]
        if start_date is not None:
            params.append(("start-date", start_date.isoformat()))
        if end_date is not None:
            params.append(("end-date", end_date.isoformat()))
        params.extend(("types[]", kind) for kind in types)
        path = f"/accounts/{_segment(account_number)}/transactions"
        return [_transaction(item) for item in self._pages(path, params)]

    def quotes(self, symbols: Mapping[str, Iterable[str]]) -> dict[str, Quote]:
        """Return quotes by symbol; keys are by-type keys or instrument types.

        At most 100 symbols go in one request, across all keys; symbols the
        API does not know are absent from the result.
        """
        pairs: dict[tuple[str, str], None] = {}
        for kind, names in symbols.items():
            key = quote_key(kind)
            for name in names:
                pairs[(key, name)] = None  # ordered de-duplication
        ordered = list(pairs)
        quotes: dict[str, Quote] = {}
        for start in range(0, len(ordered), QUOTE_BATCH_SIZE):
            batch: dict[str, list[str]] = {}
            for key, name in ordered[start : start + QUOTE_BATCH_SIZE]:
                batch.setdefault(key, []).append(name)
            params = [(key, ",".join(names)) for key, names in batch.items()]
            payload = self._get("/market-data/by-type", params)
            for item in _items(payload, "quotes"):
                quote = _quote(item)
                quotes[quote.symbol] = quote
        return quotes

    def market_metrics(self, symbols: Iterable[str]) -> dict[str, MarketMetric]:
        """Return IV index, per-expiration IVs, beta and dividend yield by symbol."""
        names = list(dict.fromkeys(symbols))
        metrics: dict[str, MarketMetric] = {}
        for start in range(0, len(names), QUOTE_BATCH_SIZE):
            params = [("symbols", ",".join(names[start : start + QUOTE_BATCH_SIZE]))]
            payload = self._get("/market-metrics", params)
            for item in _items(payload, "market metrics"):
                metric = _market_metric(item)
                metrics[metric.symbol] = metric
        return metrics

    # --- Transport ------------------------------------------------------------

    def request_json(
        self,
        method: str,
        path: str,
        *,
        params: Sequence[tuple[str, str]] = (),
        json_body: Any = None,
    ) -> Any:
        """Send one API call and return its JSON with snake_case keys.

        GETs are retried on transient failures; other methods are sent once.
        """
        method = method.upper()
        self.calls += 1
        response = self._send(method, path, params, json_body)
        return _decode(response, f"{method} {path}")

    def _get(self, path: str, params: Sequence[tuple[str, str]] = ()) -> Any:
        """GET one API call; the JSON keeps the wire's kebab-case keys (_Record reads both)."""
        self.calls += 1
        return _decode_wire(self._send("GET", path, params, None), f"GET {path}")

    def _pages(self, path: str, params: list[tuple[str, str]]) -> Iterator[Any]:
        for offset in range(MAX_PAGES):
            query = [*params, ("page-offset", str(offset))]
            payload = self._get(path, query)
            yield from _items(payload, path)
            total_pages = _total_pages(payload, path)
            if total_pages is None or offset >= total_pages - 1:
                return
        raise BrokerProtocolError(f"GET {path}: more than {MAX_PAGES} pages")

    def _send(
        self,
        method: str,
        path: str,
        params: Sequence[tuple[str, str]],
        json_body: Any,
    ) -> _Reply:
        pool, prefix = self._connection_pool()
        url = prefix + path + _encode_query(params)
        body = None
        headers = dict(self._headers)
        if json_body is not None:
            body = json.dumps(json_body).encode()
            headers["Content-Type"] = "application/json"
        retryable = method in IDEMPOTENT_METHODS
        refreshed = False
        attempt = 0
        while True:
            attempt += 1
            headers["Authorization"] = f"Bearer {self._access_token()}"
            try:
                response = _request(pool, method, url, body, headers, self._timeout)
            except urllib3.exceptions.LocationValueError:
                raise  # a malformed URL is a bug, not a transient failure
            except _TRANSPORT_ERRORS as exc:
                status, retry_after = None, None
                reason = _transport_reason(exc)
                backoff = SERVER_BACKOFF
            else:
                status = response.status_code
                if status == 401:
                    if refreshed or self._refresh is None:
                        raise _status_error(BrokerAuthError, response, method, path)
                    refreshed = True
                    attempt -= 1  # a retry after a refresh is not a transient retry
                    logger.info("%s %s: HTTP 401, refreshing the token", method, path)
                    self._refresh_now()
                    continue
                if status < 400:
                    return response
                if status != 429 and status < 500:
                    raise _status_error(BrokerRequestError, response, method, path)
                reason = "throttled" if status == 429 else "server_error"
                backoff = THROTTLE_BACKOFF if status == 429 else SERVER_BACKOFF
                retry_after = _retry_after_seconds(response.headers.get("Retry-After"))
            if not retryable or attempt >= self.max_attempts:
                raise BrokerUnavailable(
                    f"{method} {path}: {reason} (HTTP {status or 'none'}) "
                    f"after {attempt} attempt(s)",
                    status=status,
                    code=reason,
                    attempts=attempt,
                )
            if retry_after is None:
                delay = backoff.delay(attempt - 1, self._rng)
            else:
                delay = retry_after
            logger.warning(
                "%s %s: %s (HTTP %s); retry %d in %.2f s",
                method,
                path,
                reason,
                status,
                attempt,
                delay,
            )
            self._sleep(delay)

    def _connection_pool(self) -> tuple[urllib3.HTTPConnectionPool, str]:
        """Return the broker's connection pool (made on first use) and the base path."""
        parts = urlsplit(self.base_url)
        if self._pool is None:
            tls = {"cert_reqs": "CERT_REQUIRED", "ca_certs": DEFAULT_CA_BUNDLE_PATH}
            self._pool = urllib3.connection_from_url(
                self.base_url,
                maxsize=1,  # one sync sends one request at a time
                retries=False,
                timeout=self._timeout,
                **(tls if parts.scheme == "https" else {}),
            )
        return self._pool, parts.path

    # --- Tokens ---------------------------------------------------------------

    def _access_token(self) -> str:
        if self._tokens is not None:
            if (
                self._refresh is not None
                and self._tokens.refresh_token
                and self._tokens.expires_within(REFRESH_MARGIN_SECONDS, now=self._now())
            ):
                self._refresh_now()
            return self._tokens.access_token
        if self._override_token is not None:
            return self._override_token
        assert self._provider is not None  # noqa: S101 - guaranteed by __init__
        return self._provider()

    def _refresh_now(self) -> None:
        assert self._refresh is not None  # noqa: S101 - callers check
        result = self._refresh()
        if self._tokens is not None:
            if isinstance(result, str) or result is None:
                raise TypeError("refresh must return a TokenSet when tokens are used")
            self._tokens = result
        elif result is not None:
            self._override_token = result if isinstance(result, str) else (result.access_token)

    def _refresh_tokens(self) -> TokenSet:
        from brokers.tastytrade.oauth_client import refresh_access_token

        assert self._tokens is not None  # noqa: S101 - tokens mode only
        if not self._tokens.refresh_token:
            raise BrokerGrantInvalid("no refresh token to refresh with", code="no_grant")
        tokens = refresh_access_token(
            self.base_url,
            client_id=self._client_id,
            client_secret=self._client_secret or "",
            refresh_token=self._tokens.refresh_token,
            scope=" ".join(self._tokens.scopes) or None,
            session=self.session,
            user_agent=self.user_agent,
            timeout=self.timeout,
            now=self._now(),
        )
        if self._on_tokens is not None:
            self._on_tokens(tokens)  # store a rotated refresh token before use
        return tokens


@dataclass(frozen=True)
class _Reply:
    """A complete HTTP answer: what the error and decode helpers read."""

    status_code: int
    headers: Mapping[str, str]  # case-insensitive (urllib3's HTTPHeaderDict)
    content: bytes


def _request(pool, method: str, url: str, body, headers, timeout) -> _Reply:
    """Send one request on the pool; raise urllib3's errors for transport failures."""
    # retries=False: no retry and no redirect-following inside urllib3 (the
    # API does not redirect; _send owns the retry policy).
    response = pool.urlopen(
        method,
        url,
        body=body,
        headers=headers,
        retries=False,
        redirect=False,
        timeout=timeout,
        preload_content=True,  # the whole body, or a transport error
    )
    return _Reply(status_code=response.status, headers=response.headers, content=response.data)


def _transport_reason(error: Exception) -> str:
    """ "timeout" or "reset", as requests classifies them (a refused connect is a reset)."""
    refused = isinstance(error, urllib3.exceptions.NewConnectionError)
    return "timeout" if isinstance(error, _TIMEOUT_ERRORS) and not refused else "reset"


def _pool_timeout(timeout: tuple[float, float] | float) -> urllib3.Timeout:
    """requests-style timeout, (connect, read) or one number for both, as urllib3's."""
    connect, read = timeout if isinstance(timeout, tuple) else (timeout, timeout)
    return urllib3.Timeout(connect=connect, read=read)


def _segment(value: str) -> str:
    return quote(value, safe="")


def _encode_query(params: Sequence[tuple[str, str]]) -> str:
    """Encode spaces as %20 and slashes as %2F; keep commas and [] readable."""
    if not params:
        return ""
    return "?" + "&".join(
        f"{quote(key, safe='[]')}={quote(value, safe=',')}" for key, value in params
    )


def _retry_after_seconds(header: str | None) -> float | None:
    """Parse Retry-After (seconds or an HTTP date), bounded to a minute."""
    if not header:
        return None
    try:
        seconds = float(header)
    except ValueError:
        try:
            when = parsedate_to_datetime(header)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    if seconds != seconds:  # NaN
        return None
    return min(max(seconds, 0.0), RETRY_AFTER_MAX_SECONDS)


# --- Wire format: the one place that knows envelopes, kebab-case and signs -----


def _decode(response: _Reply, what: str) -> Any:
    """Parse a JSON body, decimals as Decimal, keys turned to snake_case."""
    # Keys are turned to snake_case while the parser builds each object:
    # no second walk over every value of a large page.
    return _parse_json(response, what, _snake_object)


def _decode_wire(response: _Reply, what: str) -> Any:
    """Parse a JSON body, decimals as Decimal, keys as sent (for _Record's readers)."""
    # Without a hook the C parser builds each object itself: rebuilding every
    # object of a 250-row page in Python cost more than the parse.
    return _parse_json(response, what, None)


def _parse_json(response: _Reply, what: str, object_pairs_hook) -> Any:
    try:
        return json.loads(
            response.content, parse_float=Decimal, object_pairs_hook=object_pairs_hook
        )
    except ValueError:
        content_type = response.headers.get("Content-Type", "?")
        raise BrokerProtocolError(
            f"{what}: HTTP {response.status_code} body is not JSON ({content_type})",
            status=response.status_code,
            code="malformed_json",
        ) from None


def _snake_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    return {key.replace("-", "_"): value for key, value in pairs}


def _data(payload: Any, what: str) -> _Record:
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), dict):
        raise _shape_error(f"{what}: no 'data' object in the response")
    return _Record(payload["data"], what)


def _items(payload: Any, what: str) -> list[_Record]:
    data = _data(payload, what)
    items = data.get("items")
    if not isinstance(items, list):
        raise _shape_error(f"{what}: 'data.items' is not a list")
    return [_Record(item, what) for item in items]


def _total_pages(payload: Any, what: str) -> int | None:
    pagination = payload.get("pagination") if isinstance(payload, dict) else None
    if pagination is None:
        return None
    return _Record(pagination, f"{what} pagination").integer("total_pages")


def error_fields(response: _Reply | requests.Response) -> tuple[str | None, str | None]:
    """Return (code, message) from an API or OAuth error body, if it has one.

    API errors are ``{"error": {"code", "message"}}``; the token endpoint sends
    ``error_code``/``error_description`` or the RFC's ``error``.
    """
    try:
        body = json.loads(response.content)
    except ValueError:
        return None, None
    if not isinstance(body, dict):
        return None, None
    error = body.get("error")
    if isinstance(error, dict):
        return _text_or_none(error.get("code")), _text_or_none(error.get("message"))
    code = body.get("error_code") or error
    return _text_or_none(code), _text_or_none(body.get("error_description"))


def _status_error(kind: type[BrokerError], response: _Reply, method: str, path: str) -> BrokerError:
    code, message = error_fields(response)
    detail = " ".join(part for part in (code, message) if part)
    return kind(
        f"{method} {path}: HTTP {response.status_code} {detail}".rstrip(),
        status=response.status_code,
        code=code,
    )


def _shape_error(message: str) -> BrokerProtocolError:
    return BrokerProtocolError(message, code="unexpected_shape")


def _text_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


_EFFECT_SIGNS = {"Credit": 1, "Debit": -1, "None": 0}
_DIRECTION_SIGNS = {"Long": 1, "Short": -1, "Zero": 0}


class _WireKeys(dict):
    """snake_case name -> the kebab-case key the API sends, built once per name."""

    def __missing__(self, key: str) -> str:
        wire = self[key] = key.replace("_", "-")
        return wire


class _EffectKeys(dict):
    """Amount name -> the name of its ``-effect`` sign field."""

    def __missing__(self, key: str) -> str:
        effect = self[key] = f"{key}_effect"
        return effect


_WIRE_KEYS = _WireKeys()
_EFFECT_KEYS = _EffectKeys()
_ABSENT = object()


class _Record:
    """Typed reads of one JSON object by snake_case name; bad values are protocol errors.

    The object keeps the keys as sent: a name is looked up kebab-cased (the
    API's spelling) first, then as written (payloads already in snake_case).
    """

    __slots__ = ("raw", "what")

    def __init__(self, raw: Any, what: str) -> None:
        if not isinstance(raw, dict):
            raise _shape_error(f"{what}: expected an object, got {type(raw).__name__}")
        self.raw = raw
        self.what = what

    def get(self, key: str) -> Any:
        """Return the value named `key` (kebab- or snake-cased on the wire), or None."""
        value = self.raw.get(_WIRE_KEYS[key], _ABSENT)
        return self.raw.get(key) if value is _ABSENT else value

    def invalid(self, key: str, value: Any, expected: str) -> BrokerProtocolError:
        return _shape_error(f"{self.what}: '{key}' is not {expected}: {value!r}")

    def missing(self, key: str) -> BrokerProtocolError:
        return _shape_error(f"{self.what}: '{key}' is missing")

    def text(self, key: str) -> str | None:
        value = self.get(key)
        if value is None or value == "":
            return None
        if type(value) is str:  # the common case first
            return value
        if isinstance(value, (dict, list, bool)):
            raise self.invalid(key, value, "a string")
        return str(value)

    def required_text(self, key: str) -> str:
        value = self.text(key)
        if value is None:
            raise self.missing(key)
        return value

    def decimal(self, key: str) -> Decimal | None:
        value = self.get(key)
        if value is None:
            return None
        try:
            if type(value) is str and value:  # the wire's decimal strings, checked as below
                number = Decimal(value)
                if number.is_finite():
                    return number
                raise ValueError(value)
            return decimal_or_none(value)
        except (ValueError, InvalidOperation):
            raise self.invalid(key, value, "a number") from None

    def required_decimal(self, key: str) -> Decimal:
        value = self.decimal(key)
        if value is None:
            raise self.missing(key)
        return value

    def signed(self, key: str) -> Decimal | None:
        """Return the amount signed by ``<key>_effect``; None if the sign is absent."""
        amount = self.decimal(key)
        if amount is None:
            return None
        effect = self.get(_EFFECT_KEYS[key])
        if effect is None:
            return Decimal(0) if amount == 0 else None
        sign = _EFFECT_SIGNS.get(effect) if type(effect) is str else None
        if sign is None:
            raise self.invalid(f"{key}_effect", effect, "Credit, Debit or None")
        # abs() and - round to the context as multiplying by ±1 would: the same
        # Decimal, bar a zero debit, which the multiplication keeps as -0.
        if sign == 1:
            return abs(amount)
        if sign == -1 and amount:
            return -abs(amount)
        return abs(amount) * sign

    def integer(self, key: str) -> int | None:
        value = self.get(key)
        if type(value) is int:  # ids and counts arrive as JSON integers
            return value
        number = self.decimal(key)
        if number is None:
            return None
        if number != number.to_integral_value():
            raise self.invalid(key, value, "an integer")
        return int(number)

    def required_integer(self, key: str) -> int:
        value = self.integer(key)
        if value is None:
            raise self.missing(key)
        return value

    def flag(self, key: str) -> bool:
        value = self.get(key)
        if isinstance(value, bool):
            return value
        if value in (None, ""):
            return False
        if str(value).lower() in ("true", "false"):
            return str(value).lower() == "true"
        raise self.invalid(key, value, "a boolean")

    def timestamp(self, key: str) -> datetime | None:
        value = self.text(key)
        if value is None:
            return None
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise self.invalid(key, value, "an ISO 8601 time") from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)

    def day(self, key: str) -> date | None:
        value = self.text(key)
        if value is None:
            return None
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            raise self.invalid(key, value, "a YYYY-MM-DD date") from None

    def required_day(self, key: str) -> date:
        value = self.day(key)
        if value is None:
            raise self.missing(key)
        return value

    def record(self, key: str) -> _Record | None:
        value = self.get(key)
        return None if value is None else _Record(value, f"{self.what}.{key}")

    def records(self, key: str) -> list[_Record]:
        value = self.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.invalid(key, value, "a list")
        return [_Record(item, f"{self.what}.{key}") for item in value]


def _account(item: _Record) -> Account:
    # Each item wraps the account with the caller's authority level.
    account = item.record("account") or item
    return Account(
        account_number=account.required_text("account_number"),
        nickname=account.text("nickname"),
        account_type_name=account.text("account_type_name"),
        margin_or_cash=account.text("margin_or_cash"),
        is_closed=account.flag("is_closed"),
        is_futures_approved=account.flag("is_futures_approved"),
        authority_level=item.text("authority_level"),
        suitable_options_level=account.text("suitable_options_level"),
        opened_at=account.timestamp("opened_at"),
    )


def _balance(data: _Record) -> Balance:
    return Balance(
        account_number=data.required_text("account_number"),
        currency=data.text("currency") or "USD",
        net_liquidating_value=data.decimal("net_liquidating_value"),
        cash_balance=data.decimal("cash_balance"),
        equity_buying_power=data.decimal("equity_buying_power"),
        derivative_buying_power=data.decimal("derivative_buying_power"),
        used_derivative_buying_power=data.decimal("used_derivative_buying_power"),
        maintenance_requirement=data.decimal("maintenance_requirement"),
        maintenance_excess=data.decimal("maintenance_excess"),
        margin_equity=data.decimal("margin_equity"),
        long_equity_value=data.decimal("long_equity_value"),
        short_equity_value=data.decimal("short_equity_value"),
        long_derivative_value=data.decimal("long_derivative_value"),
        short_derivative_value=data.decimal("short_derivative_value"),
        pending_cash=data.signed("pending_cash"),
        updated_at=data.timestamp("updated_at"),
    )


def _position(item: _Record) -> Position:
    direction = item.required_text("quantity_direction")
    if direction not in _DIRECTION_SIGNS:
        raise item.invalid("quantity_direction", direction, "Long, Short or Zero")
    quantity = item.required_decimal("quantity")
    return Position(
        account_number=item.text("account_number") or "",
        symbol=item.required_text("symbol"),
        instrument_type=item.required_text("instrument_type"),
        underlying_symbol=item.text("underlying_symbol"),
        quantity=abs(quantity) * _DIRECTION_SIGNS[direction],
        quantity_direction=direction,
        multiplier=item.decimal("multiplier") or Decimal(1),
        average_open_price=item.decimal("average_open_price"),
        close_price=item.decimal("close_price"),
        mark_price=item.decimal("mark_price"),
        mark=item.decimal("mark"),
        cost_effect=item.text("cost_effect"),
        expires_at=item.timestamp("expires_at"),
        realized_day_gain=item.signed("realized_day_gain"),
        realized_today=item.signed("realized_today"),
        streamer_symbol=item.text("streamer_symbol"),
        created_at=item.timestamp("created_at"),
        updated_at=item.timestamp("updated_at"),
    )


def _transaction(item: _Record) -> Transaction:
    return Transaction(
        id=item.required_integer("id"),
        account_number=item.text("account_number"),
        transaction_type=item.required_text("transaction_type"),
        transaction_sub_type=item.text("transaction_sub_type"),
        action=item.text("action"),
        symbol=item.text("symbol"),
        instrument_type=item.text("instrument_type"),
        underlying_symbol=item.text("underlying_symbol"),
        quantity=item.decimal("quantity"),
        price=item.decimal("price"),
        value=item.signed("value"),
        net_value=item.signed("net_value"),
        commission=item.signed("commission"),
        clearing_fees=item.signed("clearing_fees"),
        regulatory_fees=item.signed("regulatory_fees"),
        proprietary_index_option_fees=item.signed("proprietary_index_option_fees"),
        executed_at=item.timestamp("executed_at"),
        transaction_date=item.day("transaction_date"),
        description=item.text("description"),
        order_id=item.text("order_id"),
    )


def _quote(item: _Record) -> Quote:
    bid, ask = item.decimal("bid"), item.decimal("ask")
    mid, mark = item.decimal("mid"), item.decimal("mark")
    last, close = item.decimal("last"), item.decimal("close")
    price, source = select_price(mark=mark, mid=mid, bid=bid, ask=ask, last=last, close=close)
    return Quote(
        symbol=item.required_text("symbol"),
        instrument_type=item.text("instrument_type"),
        bid=bid,
        ask=ask,
        mid=mid,
        mark=mark,
        last=last,
        close=close,
        prev_close=item.decimal("prev_close"),
        price=price,
        price_source=source,
        volume=item.decimal("volume"),
        open_interest=item.decimal("open_interest"),
        updated_at=item.timestamp("updated_at"),
        volatility=item.decimal("volatility"),
        delta=item.decimal("delta"),
        gamma=item.decimal("gamma"),
        theta=item.decimal("theta"),
        vega=item.decimal("vega"),
        rho=item.decimal("rho"),
        theo_price=item.decimal("theo_price"),
    )


def select_price(
    *,
    mark: Decimal | None,
    mid: Decimal | None,
    bid: Decimal | None,
    ask: Decimal | None,
    last: Decimal | None,
    close: Decimal | None,
) -> tuple[Decimal | None, str | None]:
    """Return (price, source): mark, mid, (bid+ask)/2, last, close; first > 0."""
    if mark is not None and mark > 0:
        return mark, "mark"
    if mid is not None and mid > 0:
        return mid, "mid"
    if bid is not None and ask is not None and bid > 0 and ask > 0:
        return (bid + ask) / 2, "bid_ask"
    if last is not None and last > 0:
        return last, "last"
    if close is not None and close > 0:
        return close, "close"
    return None, None


def _market_metric(item: _Record) -> MarketMetric:
    earnings = item.record("earnings")
    return MarketMetric(
        symbol=item.required_text("symbol"),
        beta=item.decimal("beta"),
        dividend_yield=item.decimal("dividend_yield"),
        iv_index=item.decimal("implied_volatility_index"),
        # Payloads say -index-rank; the published schema says -rank.
        iv_index_rank=item.decimal("implied_volatility_index_rank")
        if item.get("implied_volatility_index_rank") is not None
        else item.decimal("implied_volatility_rank"),
        iv_percentile=item.decimal("implied_volatility_percentile"),
        iv_30_day=item.decimal("implied_volatility_30_day"),
        hv_30_day=item.decimal("historical_volatility_30_day"),
        earnings_date=earnings.day("expected_report_date") if earnings else None,
        expiration_ivs=tuple(
            ExpirationIV(
                expiration_date=row.required_day("expiration_date"),
                settlement_type=row.text("settlement_type"),
                option_chain_type=row.text("option_chain_type"),
                implied_volatility=row.decimal("implied_volatility"),
            )
            for row in item.records("option_expiration_implied_volatilities")
        ),
    )


def decimal_or_none(value: object) -> Decimal | None:
    """Return a wire number or decimal string as Decimal, never through float."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal, float)):
        raise ValueError(f"not a number: {value!r}")
    if isinstance(value, float):
        value = repr(value)  # only reached for callers outside _decode
    try:
        result = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"not a number: {value!r}") from None
    if not result.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    return result
