"""HTTP control endpoints under /__sandbox__/, mirroring the Python API.

GET    /__sandbox__/state                 URLs, seed, date, tick, clock, customers
POST   /__sandbox__/tick                  {"count": 1}            -> {"tick": n}
POST   /__sandbox__/clock                 {"advance_seconds": 900} or {"now": iso}
GET    /__sandbox__/faults                the rules
POST   /__sandbox__/faults                {"kind", "method", "path", "times", "rate",
                                           "seconds", "status", "mode"}
DELETE /__sandbox__/faults[/{id}]         clear all, or one
POST   /__sandbox__/revoke                {"customer"} or {"refresh_token"}
POST   /__sandbox__/approve               {"customer", "redirect_uri"?, "scope"?,
                                           "state"?} -> {"code", "redirect_url"}
POST   /__sandbox__/grants                {"customer", "scope"?} -> token answer
POST   /__sandbox__/greeks                {"enabled": false}
POST   /__sandbox__/reset
GET    /__sandbox__/log?path=&method=     requests seen (redacted)
DELETE /__sandbox__/log
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from tastytrade_sandbox.config import CONTROL_PREFIX
from tastytrade_sandbox.http_types import Request, Response, json_response
from tastytrade_sandbox.oauth import AuthorizeError

if TYPE_CHECKING:
    from tastytrade_sandbox.server import Sandbox

FAULT_OPTIONS = ("method", "path", "times", "rate", "seconds", "status", "mode", "retry_after")


class Control:
    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    def handle(self, request: Request) -> Response:
        name = request.path[len(CONTROL_PREFIX) :].strip("/")
        try:
            body = json.loads(request.body or b"{}")
            if not isinstance(body, dict):
                raise ValueError("the body must be a JSON object")
            return self._route(request.method, name, body, request)
        except (ValueError, KeyError, TypeError, AuthorizeError) as error:
            return json_response(400, {"error": str(error)})

    def _route(self, method: str, name: str, body: dict[str, Any], request: Request) -> Response:
        sandbox = self.sandbox
        match method, name.split("/"):
            case "GET", ["state"] | [""]:
                return json_response(200, sandbox.describe())
            case "POST", ["tick"]:
                return json_response(200, {"tick": sandbox.tick(int(body.get("count", 1)))})
            case "POST", ["clock"]:
                if "now" in body:
                    now = sandbox.clock.set(datetime.fromisoformat(body["now"]))
                else:
                    now = sandbox.advance_clock(float(body.get("advance_seconds", 0)))
                return json_response(200, {"now": now.isoformat()})
            case "GET", ["faults"]:
                return json_response(200, {"faults": [r.as_json() for r in sandbox.faults.rules()]})
            case "POST", ["faults"]:
                options = {key: body[key] for key in FAULT_OPTIONS if key in body}
                rule = sandbox.add_fault(str(body["kind"]), **options)
                return json_response(201, rule.as_json())
            case "DELETE", ["faults"]:
                sandbox.clear_faults()
                return json_response(200, {"faults": []})
            case "DELETE", ["faults", rule_id]:
                found = sandbox.faults.remove(int(rule_id))
                return json_response(200 if found else 404, {"removed": found})
            case "POST", ["revoke"]:
                count = sandbox.revoke(
                    customer=body.get("customer"), refresh_token=body.get("refresh_token")
                )
                return json_response(200, {"revoked": count})
            case "POST", ["approve"]:
                redirect_uri = body.get("redirect_uri") or sandbox.config.redirect_uris[0]
                code = sandbox.approve(
                    body.get("customer", "demo"),
                    redirect_uri=redirect_uri,
                    scope=body.get("scope", "read"),
                )
                query = {"code": code, **({"state": body["state"]} if "state" in body else {})}
                separator = "&" if "?" in redirect_uri else "?"
                return json_response(
                    200,
                    {"code": code, "redirect_url": f"{redirect_uri}{separator}{urlencode(query)}"},
                )
            case "POST", ["grants"]:
                tokens = sandbox.create_grant(
                    body.get("customer", "demo"), body.get("scope", "read")
                )
                return json_response(201, tokens)
            case "POST", ["greeks"]:
                sandbox.set_greeks(bool(body.get("enabled", True)))
                return json_response(200, {"greeks_in_quotes": sandbox.greeks_in_quotes})
            case "POST", ["reset"]:
                sandbox.reset()
                return json_response(200, sandbox.describe())
            case "GET", ["log"]:
                entries = sandbox.requests(
                    path=request.param("path"), method=request.param("method")
                )
                return json_response(200, {"requests": [entry.as_json() for entry in entries]})
            case "DELETE", ["log"]:
                sandbox.clear_log()
                return json_response(200, {"requests": []})
        return json_response(404, {"error": f"no control endpoint {method} {name!r}"})
