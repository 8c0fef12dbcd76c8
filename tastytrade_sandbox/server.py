"""The sandbox server: one world (book, prices, OAuth, faults, log) over HTTP.

The same ``Sandbox`` runs standalone (``python -m tastytrade_sandbox``)
and in-process for tests (``start_sandbox(port=0)``). Each request gets its
own thread, so a hanging fault never blocks the others.
"""

from __future__ import annotations

import logging
import re
import threading
from datetime import datetime
from http.server import ThreadingHTTPServer
from typing import Any

from tastytrade_sandbox import market_calendar as cal
from tastytrade_sandbox.api import Api, ApiError
from tastytrade_sandbox.book import Book
from tastytrade_sandbox.clock import SandboxClock
from tastytrade_sandbox.config import CONTROL_PREFIX, SandboxConfig
from tastytrade_sandbox.control import Control
from tastytrade_sandbox.demo_accounts import build_book
from tastytrade_sandbox.faults import (
    MODIFIER_KINDS,
    FaultInjector,
    FaultRule,
    drift,
)
from tastytrade_sandbox.http_handler import handler_for
from tastytrade_sandbox.http_types import (
    Request,
    Response,
    html_response,
    json_response,
    redirect_response,
)
from tastytrade_sandbox.market import Market, seeded_rng
from tastytrade_sandbox.oauth import AuthorizeError, OAuthServer
from tastytrade_sandbox.request_log import (
    LoggedRequest,
    RequestLog,
    redact_headers,
    redact_query,
)
from tastytrade_sandbox.wire import error_body

logger = logging.getLogger(__name__)

# "name/version" at the start, as production insists on (browsers pass too).
USER_AGENT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._+-]*")
BAD_GATEWAY_HTML = (
    b"<html><head><title>502 Bad Gateway</title></head><body>"
    b"<center><h1>502 Bad Gateway</h1></center></body></html>"
)


class Sandbox:
    """A running (or runnable) sandbox; the Python control API lives here."""

    def __init__(
        self,
        config: SandboxConfig | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.config = config or SandboxConfig()
        self.clock = SandboxClock()
        self.faults = FaultInjector(self.config.seed)
        self.log = RequestLog()
        self.greeks_in_quotes = self.config.greeks_in_quotes
        self._lock = threading.Lock()
        self._manual_ticks = 0
        self._ticks_since = self.clock.now()
        self._release = threading.Event()  # set to free hanging requests
        self._build_world()
        self.api = Api(self)
        self.control = Control(self)
        self._server = ThreadingHTTPServer((host, port), handler_for(self))
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._thread: threading.Thread | None = None

    def _build_world(self) -> None:
        market_date = self.config.market_date or cal.new_york_today(self.clock.now())
        self.market = Market(self.config.seed, market_date)
        self.book: Book = build_book(self.market)
        self.oauth = OAuthServer(self.config, self.clock, self.book.customers)

    # --- Lifecycle ----------------------------------------------------------------

    @property
    def host(self) -> str:
        return str(self._server.server_address[0])

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """Return the REST base URL (the token endpoint is base_url + /oauth/token)."""
        return f"http://{self.host}:{self.port}"

    @property
    def authorize_url(self) -> str:
        return f"{self.base_url}/auth.html"

    @property
    def token_url(self) -> str:
        return f"{self.base_url}/oauth/token"

    def start(self) -> Sandbox:
        """Serve on a background thread; return self."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                name=f"tastytrade-sandbox:{self.port}",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, free hanging requests and close the socket."""
        self._release.set()
        if self._thread is not None:
            self._server.shutdown()  # waits for serve_forever, so only when started
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # --- Market time --------------------------------------------------------------

    @property
    def current_tick(self) -> int:
        """Return the tick: control calls plus, standalone, the wall-clock cadence."""
        with self._lock:
            ticks = self._manual_ticks
            since = self._ticks_since
        if self.config.tick_seconds:
            elapsed = (self.clock.now() - since).total_seconds()
            ticks += max(0, int(elapsed // self.config.tick_seconds))
        return ticks

    def tick(self, count: int = 1) -> int:
        """Move prices ``count`` ticks (one minute of market time each) forward."""
        if count < 0:
            raise ValueError("ticks only move forward")
        with self._lock:
            self._manual_ticks += count
        return self.current_tick

    def advance_clock(self, seconds: float) -> datetime:
        """Move the sandbox clock (token expiry, updated-at) without sleeping."""
        return self.clock.advance(seconds)

    def set_greeks(self, enabled: bool) -> None:
        """Switch the undocumented greek fields on option quotes on or off."""
        self.greeks_in_quotes = enabled

    # --- Faults, grants, log ------------------------------------------------------

    def add_fault(self, kind: str, **options: Any) -> FaultRule:
        """Add a fault rule; see faults.FAULT_KINDS for kinds and options."""
        return self.faults.add(kind, **options)

    def clear_faults(self) -> None:
        self.faults.clear()

    def revoke(self, *, customer: str | None = None, refresh_token: str | None = None) -> int:
        """Revoke grants as if deleted at Tastytrade; return how many."""
        return self.oauth.revoke(customer=customer, refresh_token=refresh_token)

    def expire_access_token(self, token: str) -> None:
        self.oauth.expire(token)

    def approve(
        self,
        customer: str = "demo",
        *,
        client_id: str | None = None,
        redirect_uri: str | None = None,
        scope: str = "read",
        code_challenge: str | None = None,
    ) -> str:
        """Consent as ``customer`` without the page; return the authorization code."""
        return self.oauth.approve(
            customer,
            client_id or self.config.client_id,
            redirect_uri or self.config.redirect_uris[0],
            scope,
            code_challenge=code_challenge,
        )

    def create_grant(self, customer: str = "demo", scope: str = "read") -> dict[str, Any]:
        """Issue tokens for ``customer`` directly (Tastytrade's "Create Grant")."""
        return self.oauth.create_grant(customer, scope)

    def requests(self, path: str | None = None, method: str | None = None) -> list[LoggedRequest]:
        """Return logged API requests, oldest first; ``path`` matches a prefix."""
        return self.log.entries(path=path, method=method)

    def clear_log(self) -> None:
        self.log.clear()

    def reset(self) -> None:
        """Forget faults, log, grants and tokens; tick 0; clock back to real time."""
        self.faults.clear()
        self.log.clear()
        self.clock.reset()
        with self._lock:
            self._manual_ticks = 0
            self._ticks_since = self.clock.now()
            released, self._release = self._release, threading.Event()
        released.set()
        self.greeks_in_quotes = self.config.greeks_in_quotes
        today = cal.new_york_today(self.clock.now())
        if self.config.market_date is None and today != self.market.market_date:
            self._build_world()  # the date rolled over: expirations move with it
        else:
            self.oauth.reset()

    def describe(self) -> dict[str, Any]:
        """Return URLs, OAuth client, demo customers and state, JSON-ready."""
        return {
            "base_url": self.base_url,
            "authorize_url": self.authorize_url,
            "token_url": self.token_url,
            "client_id": self.config.client_id,
            "redirect_uris": list(self.config.redirect_uris),
            "seed": self.config.seed,
            "market_date": self.market.market_date.isoformat(),
            "tick": self.current_tick,
            "clock": self.clock.now().isoformat(),
            "greeks_in_quotes": self.greeks_in_quotes,
            "customers": [
                {
                    "login": customer.login,
                    "name": customer.display_name,
                    "accounts": list(customer.account_numbers),
                }
                for customer in self.book.customers.values()
            ],
        }

    # --- Request handling -----------------------------------------------------------

    def dispatch(self, request: Request) -> Response:
        """Answer one request: control, faults, OAuth or the API."""
        if request.path == CONTROL_PREFIX or request.path.startswith(CONTROL_PREFIX + "/"):
            return self.control.handle(request)
        fired = self.faults.fire(request.method, request.path)
        replacing = next((r for r in fired if r.kind not in MODIFIER_KINDS), None)
        response = self._fault_response(replacing) if replacing else None
        if response is None:
            expire = replacing is not None and replacing.kind == "expired_token"
            response = self._serve(request, expire_token=expire)
            if replacing is not None and replacing.kind == "drop":
                response.action = "drop"
        for rule in fired:
            if rule.kind == "latency":
                response.delay_seconds += rule.seconds if rule.seconds is not None else 1.0
            elif rule.kind == "schema_drift" and response.status == 200:
                rng = seeded_rng(self.config.seed, "drift", rule.id, rule.fired)
                response.payload = drift(response.payload, mode=rule.mode, rng=rng)
        response.fault = ",".join(rule.kind for rule in fired) or None
        self.log.append(
            LoggedRequest(
                method=request.method,
                path=request.path,
                query=redact_query(request.query),
                status=None if response.action else response.status,
                headers=redact_headers(request.headers),
                at=self.clock.now(),
                fault=response.fault,
            )
        )
        return response

    def release_event(self) -> threading.Event:
        with self._lock:
            return self._release

    def _fault_response(self, rule: FaultRule) -> Response | None:
        response = self._replacement(rule)
        if response is not None and rule.retry_after is not None:
            response.headers["Retry-After"] = f"{rule.retry_after:g}"
        return response

    def _replacement(self, rule: FaultRule) -> Response | None:
        kind = rule.kind
        if kind == "throttle":
            return json_response(429, error_body("too_many_requests", "Rate limit exceeded"))
        if kind == "server_error":
            return json_response(500, error_body("internal_server_error", "Internal error"))
        if kind == "unavailable":
            return json_response(503, error_body("service_unavailable", "Try again later"))
        if kind == "status":
            # The real envelope carries field-level reasons in error.errors[].
            details = [{"domain": "sandbox", "reason": "injected_fault", "message": "Injected"}]
            return json_response(
                rule.status or 500, error_body("sandbox_fault", "Injected", details)
            )
        if kind == "bad_gateway":
            return Response(status=502, body=BAD_GATEWAY_HTML, content_type="text/html")
        if kind == "malformed_json":
            return Response(
                status=200, body=b'{"data": {"items": [{"symbol": "SP', content_type="text/plain"
            )
        if kind == "invalid_grant":
            return json_response(
                400, {"error_code": "invalid_grant", "error_description": "Invalid JWT"}
            )
        if kind == "hang":
            seconds = rule.seconds if rule.seconds is not None else self.config.hang_seconds
            return Response(status=200, action="hang", hang_seconds=seconds)
        return None  # drop and expired_token act on the real answer

    def _serve(self, request: Request, *, expire_token: bool) -> Response:
        if request.path == "/auth.html":
            return self._authorize(request)
        if not USER_AGENT_RE.match(request.header("User-Agent") or ""):
            message = "User-Agent must look like product/version"
            if request.path == "/oauth/token":
                return json_response(
                    401, {"error_code": "invalid_request", "error_description": message}
                )
            return json_response(401, error_body("unauthorized", message))
        if request.path == "/oauth/token":
            if request.method != "POST":
                return json_response(404, error_body("not_found", "Endpoint not found"))
            status, body = self.oauth.token(
                request.form_or_json(),
                has_authorization=request.header("Authorization") is not None,
            )
            return json_response(status, body)
        authorization = request.header("Authorization") or ""
        scheme, _, token = authorization.partition(" ")
        if expire_token and token:
            self.oauth.expire(token)
        access = self.oauth.authenticate(token) if scheme == "Bearer" and token else None
        if access is None:
            return json_response(
                401, error_body("token_invalid", "Access token is invalid or expired")
            )
        try:
            return self.api.handle(request, access.customer)
        except ApiError as error:
            return error.response

    def _authorize(self, request: Request) -> Response:
        params = {key: values[-1] for key, values in request.query.items()}
        if request.method == "POST":
            params.update(request.form_or_json())
        try:
            authorize = self.oauth.check_authorize(params)
        except AuthorizeError as error:
            return html_response(400, f"<!doctype html><h1>Authorization error</h1><p>{error}</p>")
        login = params.get("sandbox_login")
        decision = params.get("decision") or {"1": "allow", "0": "deny"}.get(
            params.get("sandbox_approve", "")
        )
        if decision == "deny":
            return redirect_response(self.oauth.redirect(authorize, error="access_denied"))
        if decision == "allow" and login:
            try:
                code = self.oauth.approve(
                    login,
                    authorize.client_id,
                    authorize.redirect_uri,
                    authorize.scope,
                    code_challenge=authorize.code_challenge,
                )
            except AuthorizeError as error:
                return html_response(
                    400, f"<!doctype html><h1>Authorization error</h1><p>{error}</p>"
                )
            return redirect_response(
                self.oauth.redirect(authorize, code=code, scope=authorize.scope)
            )
        return html_response(200, self.oauth.consent_page(authorize))


def start_sandbox(
    host: str = "127.0.0.1", port: int = 0, config: SandboxConfig | None = None, **options: Any
) -> Sandbox:
    """Start a sandbox on a background thread; ``options`` are SandboxConfig fields."""
    if config is None:
        config = SandboxConfig(**options)
    elif options:
        raise TypeError("give config or options, not both")
    return Sandbox(config, host=host, port=port).start()
