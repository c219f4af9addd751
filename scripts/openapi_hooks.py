"""schemathesis hooks for scripts/check-openapi.

Every generated callback_url the service would accept is pointed at a loopback port that is bound here but never
listens, so a delivery is refused at once and nothing the fuzzer makes up can send the service to another machine
(the service also runs with callback_targets = allowlist, loopback only).

A generated approval id is almost never one the service knows, so most cases on /v1/approvals/{id}/… would stop at
404. Three cases in four get a real approval instead, made for that case through the API: pending for decisions,
cancels, break-glass and reads (a read's `wait` then becomes 0, so no case holds for a minute), approved for
verification (every other one with the approved payload itself, so it verifies) and for the other reads."""

import json
import os
import re
import socket
import urllib.request

import schemathesis

# Bound for as long as the run lasts, never listening: connecting to it is refused.
_closed = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
_closed.bind(("127.0.0.1", 0))
CLOSED_CALLBACK = "http://127.0.0.1:%d/callback" % _closed.getsockname()[1]

# The document's own pattern for callback_url: values that miss it are left as they are, to be refused.
_URL = re.compile(r"^[Hh][Tt][Tt][Pp][Ss]?://[^/?#]+")

BASE = os.environ["CHECK_OPENAPI_URL"]
FILER_KEY = os.environ["CHECK_OPENAPI_FILER_KEY"]
DECIDER_KEY = os.environ["CHECK_OPENAPI_DECIDER_KEY"]
_count = 0


def _call(method, path, key, body):
    request = urllib.request.Request(
        BASE + path, method=method, data=json.dumps(body).encode(),
        headers={"Authorization": "Bearer " + key, "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def _approval(approved):
    """A new approval filed by another key than the run's, approved by a third when `approved`."""
    payload = {"service": "api", "environment": "staging", "case": _count}
    approval = _call("POST", "/v1/approvals", FILER_KEY,
                     {"action": "Deploy api to staging", "payload": payload, "requester": "agent:check-openapi"})
    if approved:
        approval = _call("POST", "/v1/approvals/%s/decision" % approval["id"], DECIDER_KEY,
                         {"outcome": "approve", "as": "check-openapi"})
    return approval


@schemathesis.hook
def before_call(context, case, kwargs):
    global _count
    _count += 1
    body = case.body
    if isinstance(body, dict):
        url = body.get("callback_url")
        if isinstance(url, str) and len(url) <= 2048 and _URL.match(url):
            body["callback_url"] = CLOSED_CALLBACK
    if "id" not in (case.path_parameters or {}) or _count % 4 == 0:
        return
    verifying = case.path.endswith("/verify")
    approved = verifying or (case.method.upper() == "GET" and _count % 2 == 0)
    approval = _approval(approved)
    case.path_parameters["id"] = approval["id"]
    wait = case.query.get("wait") if isinstance(case.query, dict) else None
    if not approved and (isinstance(wait, int) or (isinstance(wait, str) and wait.isdigit())):
        case.query["wait"] = 0
    if verifying and isinstance(body, dict) and isinstance(body.get("payload"), dict) and _count % 2 == 1:
        body["payload"] = approval["decision"]["payload"]
