"""Tastytrade REST client: the façade the rest of the product imports.

Framework-free and read-only. The pieces live beside it: ``transport`` (HTTP
and retries), ``decoding`` (the wire format: envelope, kebab-case keys,
decimal strings, ``-effect`` signs), ``types`` (the frozen results, signed
``Decimal`` amounts) and ``errors``. See tastytrade-api.md.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from brokers.tastytrade import decoding
from brokers.tastytrade.decoding import Record, decimal_or_none
from brokers.tastytrade.errors import (
    SERVER_BACKOFF,
    THROTTLE_BACKOFF,
    Backoff,
    BrokerAuthError,
    BrokerError,
    BrokerGrantInvalid,
    BrokerProtocolError,
    BrokerRequestError,
    BrokerUnavailable,
    TokenSet,
    error_fields,
)
from brokers.tastytrade.oauth_client import refresh_access_token
from brokers.tastytrade.transport import (
    DEFAULT_TIMEOUT_SECONDS,
    DEFAULT_USER_AGENT,
    MAX_ATTEMPTS,
    Transport,
    segment,
)
from brokers.tastytrade.types import (
    Account,
    Balance,
    BalanceSnapshot,
    ExpirationIV,
    MarketMetric,
    OptionInstrument,
    Position,
    Quote,
    Transaction,
)

__all__ = [
    "DEFAULT_TIMEOUT_SECONDS",
    "DEFAULT_USER_AGENT",
    "QUOTE_KEYS",
    "SERVER_BACKOFF",
    "THROTTLE_BACKOFF",
    "Account",
    "Backoff",
    "Balance",
    "BalanceSnapshot",
    "BrokerAuthError",
    "BrokerError",
    "BrokerGrantInvalid",
    "BrokerProtocolError",
    "BrokerRequestError",
    "BrokerUnavailable",
    "ExpirationIV",
    "MarketMetric",
    "OptionInstrument",
    "Position",
    "Quote",
    "Record",
    "TastytradeClient",
    "TokenSet",
    "Transaction",
    "decimal_or_none",
    "error_fields",
    "quote_key",
]

QUOTE_BATCH_SIZE = 100  # symbols per /market-data/by-type call, across all keys
# Symbols per instrument-list call. Tastytrade publishes no limit for these
# lists; its one published batch limit (quotes) keeps each URL a few KB.
INSTRUMENT_BATCH_SIZE = 100
# When a list is refused (tastytrade-api.md §3.7: the equity-option list
# answered 403 in cert in 2026), symbols are asked one by one, at most this
# many per call: the rest stay unanswered until the caller asks again.
SINGLE_INSTRUMENTS_MAX = 50
# Instrument type -> the list endpoint that describes it (``symbol[]`` batches).
INSTRUMENT_LISTS = {
    "Equity Option": "/instruments/equity-options",
    "Future Option": "/instruments/future-options",
}
TRANSACTIONS_PER_PAGE = 250
TRANSACTIONS_PER_PAGE_MAX = 2000
REFRESH_MARGIN_SECONDS = 60
MAX_PAGES = 10_000  # a guard against a server that never reaches the last page

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


def _unspaced(symbol: str) -> str:
    return "".join(symbol.split())


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
        self._now = now or (lambda: datetime.now(UTC))
        self._session = session
        # API calls go straight to a urllib3 pool (what requests runs on): a
        # requests.Session costs twice the CPU per call in cookie jars, hooks
        # and setting merges this client never uses. The session is kept for
        # the token endpoint (oauth_client) and made on first use.
        self._transport = Transport(
            self.base_url,
            user_agent=user_agent,
            timeout=timeout,
            max_attempts=max_attempts,
            sleep=sleep,
            # Jitter only spreads retries out; a plain PRNG is the right tool.
            rng=rng or random.Random(),  # noqa: S311 - jitter, not security
        )
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
            session.headers.update({"User-Agent": self.user_agent, "Accept": "application/json"})
            self._session = session
        return self._session

    def close(self) -> None:
        """Close the pooled connections."""
        self._transport.close()
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
        return [decoding.decode_account(item) for item in decoding.items(payload, "accounts")]

    def balance(self, account_number: str) -> Balance:
        """Return the account's USD balances."""
        path = f"/accounts/{segment(account_number)}/balances/USD"
        return decoding.decode_balance(decoding.data(self._get(path), "balance"))

    def balance_snapshots(
        self, account_number: str, *, start_date: date, end_date: date | None = None
    ) -> list[BalanceSnapshot]:
        """Return the account's end-of-day balances from ``start_date``, following every page."""
        params = [("time-of-day", "EOD"), ("start-date", start_date.isoformat())]
        if end_date is not None:
            params.append(("end-date", end_date.isoformat()))
        path = f"/accounts/{segment(account_number)}/balance-snapshots"
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
        path = f"/accounts/{segment(account_number)}/positions"
        payload = self._get(path, params)
        return [decoding.decode_position(item) for item in decoding.items(payload, "positions")]

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
        path = f"/accounts/{segment(account_number)}/transactions"
        return [decoding.decode_transaction(item) for item in self._pages(path, params)]

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
            for item in decoding.items(payload, "quotes"):
                quote = decoding.decode_quote(item)
                quotes[quote.symbol] = quote
        return quotes

    def market_metrics(self, symbols: Iterable[str]) -> dict[str, MarketMetric]:
        """Return IV index, per-expiration IVs, beta and dividend yield by symbol."""
        names = list(dict.fromkeys(symbols))
        metrics: dict[str, MarketMetric] = {}
        for start in range(0, len(names), QUOTE_BATCH_SIZE):
            params = [("symbols", ",".join(names[start : start + QUOTE_BATCH_SIZE]))]
            payload = self._get("/market-metrics", params)
            for item in decoding.items(payload, "market metrics"):
                metric = decoding.decode_market_metric(item)
                metrics[metric.symbol] = metric
        return metrics

    def option_instruments(
        self, symbols: Mapping[str, Iterable[str]]
    ) -> dict[str, OptionInstrument]:
        """Return option instrument data by symbol; keys are "Equity Option" / "Future Option".

        At most ``INSTRUMENT_BATCH_SIZE`` symbols go in one request; symbols the
        API does not know are absent from the result. Expired equity options
        still held are asked for too (``with-expired``). A list the API refuses
        (403/404) is not asked again in this call: its symbols are fetched one
        by one, ``SINGLE_INSTRUMENTS_MAX`` at most. Results are keyed by the
        symbol as asked: the broker answers in its own padding of a futures
        option's columns ("./MESZ6EX3F7 …" for "./MESZ6 EX3F7 …").
        """
        instruments: dict[str, OptionInstrument] = {}
        singles_left = SINGLE_INSTRUMENTS_MAX
        for instrument_type, names in symbols.items():
            try:
                path = INSTRUMENT_LISTS[instrument_type]
            except KeyError:
                raise ValueError(f"no instrument list for {instrument_type!r}") from None
            wanted = list(dict.fromkeys(names))
            extra = [("with-expired", "true")] if instrument_type == "Equity Option" else []
            refused = False
            for start in range(0, len(wanted), INSTRUMENT_BATCH_SIZE):
                chunk = wanted[start : start + INSTRUMENT_BATCH_SIZE]
                listed = None if refused else self._option_instrument_list(path, chunk, extra)
                if listed is not None:
                    instruments.update(listed)
                    continue
                refused = True
                for name in chunk[:singles_left]:
                    singles_left -= 1
                    instrument = self._option_instrument(path, name)
                    if instrument is not None:
                        instruments[name] = instrument
        return instruments

    def _option_instrument_list(
        self, path: str, chunk: list[str], extra: list[tuple[str, str]]
    ) -> dict[str, OptionInstrument] | None:
        """Return one list call's instruments keyed as asked; None when the list is refused."""
        params = [*(("symbol[]", name) for name in chunk), *extra]
        try:
            payload = self._get(path, params)
        except BrokerRequestError as error:
            if error.status not in (403, 404):
                raise
            return None
        asked = {_unspaced(name): name for name in chunk}
        listed = {}
        for item in decoding.items(payload, path):
            instrument = decoding.decode_option_instrument(item)
            listed[asked.get(_unspaced(instrument.symbol), instrument.symbol)] = instrument
        return listed

    def _option_instrument(self, list_path: str, symbol: str) -> OptionInstrument | None:
        """Return one option's instrument data; None when the API does not know it (404)."""
        path = f"{list_path}/{segment(symbol)}"
        try:
            payload = self._get(path)
        except BrokerRequestError as error:
            if error.status == 404:
                return None
            raise
        return decoding.decode_option_instrument(decoding.data(payload, path))

    # --- Transport ------------------------------------------------------------

    def _get(self, path: str, params: Sequence[tuple[str, str]] = ()) -> Any:
        """GET one API call; the JSON keeps the wire's kebab-case keys (Record reads both)."""
        self.calls += 1
        refresh = self._refresh_now if self._refresh is not None else None
        return self._transport.get(path, params, access_token=self._access_token, refresh=refresh)

    def _pages(self, path: str, params: list[tuple[str, str]]) -> Iterator[Any]:
        for offset in range(MAX_PAGES):
            query = [*params, ("page-offset", str(offset))]
            payload = self._get(path, query)
            yield from decoding.items(payload, path)
            total_pages = decoding.total_pages(payload, path)
            if total_pages is None or offset >= total_pages - 1:
                return
        raise BrokerProtocolError(f"GET {path}: more than {MAX_PAGES} pages")

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
