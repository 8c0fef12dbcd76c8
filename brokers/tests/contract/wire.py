"""The real wire format built from the public SDK's models, and a stub API serving it.

The SDK (tests only) is the oracle of the real API's shapes: a model instance
dumped by alias (kebab-case), with each signed amount written the way the
API sends it (unsigned, plus ``<name>-effect``), wrapped in the ``data``
envelope, is what a real server answers.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel
from tastytrade.utils import get_sign

# The amounts each SDK model signs from an ``-effect`` field (its own validators' lists).
SIGNED_FIELDS = {
    "CurrentPosition": ("realized_day_gain", "realized_today"),
    "Transaction": (
        "value",
        "net_value",
        "regulatory_fees",
        "clearing_fees",
        "proprietary_index_option_fees",
        "commission",
        "other_charge",
    ),
}


def to_wire(model: BaseModel) -> dict[str, Any]:
    """Dump an SDK model as the API writes it: kebab-case, decimal strings, effects."""
    wire = model.model_dump(mode="json", by_alias=True, exclude_none=True)
    for name in SIGNED_FIELDS.get(type(model).__name__, ()):
        amount = getattr(model, name)
        if amount is None:
            continue
        key = name.replace("_", "-")
        sign = get_sign(amount)
        wire[key] = str(abs(Decimal(amount)))
        wire[f"{key}-effect"] = sign.value if sign is not None else "None"
    return wire


def list_body(items: Iterable[BaseModel], *, paginated: bool = False) -> dict[str, Any]:
    rows = [to_wire(item) for item in items]
    body: dict[str, Any] = {"data": {"items": rows}, "context": "/contract"}
    if paginated:
        body["pagination"] = {
            "per-page": 250,
            "page-offset": 0,
            "item-offset": 0,
            "total-items": len(rows),
            "total-pages": 1,
            "current-item-count": len(rows),
            "previous-link": None,
            "next-link": None,
            "paging-link-template": None,
        }
    return body


class _Handler(BaseHTTPRequestHandler):
    routes: Mapping[str, dict[str, Any]] = {}

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        path = urlsplit(self.path).path
        body = self.routes.get(path)
        status = 200 if body is not None else 404
        payload = json.dumps(body or {"error": {"code": "not_found", "message": path}}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def stub_api(routes: Mapping[str, dict[str, Any]]) -> Iterator[str]:
    """Serve fixed JSON bodies by path on loopback; yield the base URL."""
    handler = type("Handler", (_Handler,), {"routes": dict(routes)})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
