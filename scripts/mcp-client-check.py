#!/usr/bin/env python3
"""Gatehouse's MCP tools through the official Python client (`mcp` on PyPI), over both transports.

Run by scripts/check-mcp against a live `gatehouse serve` on 127.0.0.1: over stdio (`gatehouse mcp`, which reaches the
service with GATEHOUSE_URL and GATEHOUSE_API_KEY) and over Streamable HTTP (`/mcp` with `Authorization: Bearer`), each
in the client's default mode and in `mode="legacy"`. For each: list the tools; file and wait while a person decides
through the API (approve, modify, reject); verify and consume; request_permission's allow, deny, modified and
still-pending answers; a cancelled wait that leaves the request pending; bad input as a tool error. Over HTTP, a bad
or missing key is refused with 401.

Environment: GATEHOUSE_URL, GATEHOUSE_BIN, REQUEST_KEY, DECIDE_KEY.
"""

import asyncio
import json
import os
import re
import sys
import urllib.error
import urllib.request

from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

URL = os.environ["GATEHOUSE_URL"]
BIN = os.environ["GATEHOUSE_BIN"]
REQUEST_KEY = os.environ["REQUEST_KEY"]
DECIDE_KEY = os.environ["DECIDE_KEY"]
TOOLS = {"request_approval", "get_approval", "verify_approval", "request_permission"}

passed = 0
failures = []


def check(condition, what):
    global passed
    if condition:
        passed += 1
    else:
        failures.append(what)
        print(f"  FAIL {what}", flush=True)


def api(method, path, key, body=None):
    """The intake API: (status, JSON answer)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(URL + path, data=data, method=method, headers={"Authorization": f"Bearer {key}"})
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def decide(approval_id, outcome, reason="checked", payload=None):
    body = {"outcome": outcome, "as": "alice", "reason": reason}
    if payload is not None:
        body["payload"] = payload
    status, answer = api("POST", f"/v1/approvals/{approval_id}/decision", DECIDE_KEY, body)
    assert status == 200, (status, answer)
    return answer


def texts(result):
    return [item.text for item in result.content]


def approval_of(result):
    """The approval object: the second text of an approval result."""
    return json.loads(texts(result)[1])


class Waiter:
    """Runs a waiting tool call in the background; the first progress notification names the request's id."""

    def __init__(self, client, name, arguments):
        self.id = None
        self.progress = []
        self.named = asyncio.Event()
        self.task = asyncio.create_task(client.call_tool(name, arguments, progress_callback=self.on_progress))

    async def on_progress(self, progress, total, message):
        self.progress.append((progress, total, message))
        found = re.search(r"apr_[A-Za-z0-9_-]+", message or "")
        if found and self.id is None:
            self.id = found.group(0)
            self.named.set()

    async def filed(self):
        await asyncio.wait_for(self.named.wait(), 30)
        return self.id

    async def result(self):
        return await asyncio.wait_for(self.task, 30)


async def exercise(client, label):
    print(f"{label}: protocol {client.protocol_version}", flush=True)
    tools = await client.list_tools()
    check({tool.name for tool in tools.tools} == TOOLS, f"{label}: tools/list names the four tools")
    schema = next(tool.input_schema for tool in tools.tools if tool.name == "request_approval")
    check(schema.get("required") == ["action", "payload"], f"{label}: request_approval requires action and payload")

    # File and wait; a person approves through the API; the wait answers at once with the decision.
    payload = {"service": "api", "environment": "production", "commit": "4f2a9c1", "via": label}
    waiter = Waiter(client, "request_approval", {"action": "Deploy api to production", "payload": payload,
                                                  "risk": "high", "requester": "agent:mcp-check", "wait_seconds": 60})
    approval_id = await waiter.filed()
    decide(approval_id, "approve", "diff reviewed")
    result = await waiter.result()
    check(not result.is_error, f"{label}: request_approval answers without error")
    check(texts(result)[0].startswith("APPROVED by alice"), f"{label}: approved: first line says APPROVED")
    check(approval_of(result)["status"] == "approved", f"{label}: approved: the approval object says approved")
    check(len(waiter.progress) >= 1 and waiter.progress[0][1] == 60, f"{label}: progress notifications while waiting")

    mismatch = await client.call_tool("verify_approval", {"id": approval_id, "payload": {**payload, "commit": "0000000"}})
    check(mismatch.is_error and texts(mismatch)[0].startswith("payload_mismatch:"), f"{label}: verify mismatch is payload_mismatch")
    verified = await client.call_tool("verify_approval", {"id": approval_id, "payload": payload, "consume": True})
    check(not verified.is_error and texts(verified)[0].startswith("VERIFIED and CONSUMED"), f"{label}: verify and consume")
    again = await client.call_tool("verify_approval", {"id": approval_id, "payload": payload, "consume": True})
    check(again.is_error and texts(again)[0].startswith("already_consumed:"), f"{label}: a second consume is refused")

    # File without waiting; a person modifies it; get_approval says to run theirs.
    pending = await client.call_tool("request_approval", {"action": "Scale workers", "payload": {"workers": 40}})
    check(texts(pending)[0].startswith("PENDING"), f"{label}: wait_seconds 0 answers PENDING at once")
    pending_id = approval_of(pending)["id"]
    decide(pending_id, "modify", "20 is enough", payload={"workers": 20})
    modified = await client.call_tool("get_approval", {"id": pending_id})
    check(texts(modified)[0].startswith("MODIFIED by alice") and '{"workers":20}' in texts(modified)[0],
          f"{label}: modified: first line says to run the modified payload")
    check(approval_of(modified)["decision"]["payload"] == {"workers": 20}, f"{label}: modified: decision.payload")

    # A rejection.
    waiter = Waiter(client, "request_approval", {"action": "Drop table sessions_old", "payload": {"table": "sessions_old"},
                                                  "wait_seconds": 60})
    decide(await waiter.filed(), "reject", "still in use")
    rejected = await waiter.result()
    check(texts(rejected)[0].startswith("REJECTED by alice") and "still in use" in texts(rejected)[0],
          f"{label}: rejected: do not run, with the reason")

    # A cancelled wait stops; the request stays pending for its approvers.
    held = await client.call_tool("request_approval", {"action": "Rotate keys", "payload": {"key": "signing"}})
    held_id = approval_of(held)["id"]
    waiter = Waiter(client, "get_approval", {"id": held_id, "wait_seconds": 600})
    await waiter.filed()
    waiter.task.cancel()
    try:
        await waiter.task
    except asyncio.CancelledError:
        pass
    status, current = api("GET", f"/v1/approvals/{held_id}", REQUEST_KEY)
    check(status == 200 and current["status"] == "pending", f"{label}: a cancelled wait leaves the request pending")
    after = await client.call_tool("get_approval", {"id": held_id})
    check(texts(after)[0].startswith("PENDING"), f"{label}: the session still answers after a cancellation")

    # request_permission, as Claude Code's --permission-prompt-tool: allow, modified, deny, still pending.
    command = {"command": "rm -rf build/", "description": "clean the build"}
    for outcome, expected in [("approve", {"behavior": "allow", "updatedInput": command}),
                              ("modify", {"behavior": "allow", "updatedInput": {"command": "rm -rf build/tmp"}})]:
        waiter = Waiter(client, "request_permission", {"tool_name": "Bash", "input": command, "wait_seconds": 60})
        decide(await waiter.filed(), outcome, payload={"command": "rm -rf build/tmp"} if outcome == "modify" else None)
        answer = json.loads(texts(await waiter.result())[0])
        check(answer == expected, f"{label}: request_permission {outcome}: {answer}")
    waiter = Waiter(client, "request_permission", {"tool_name": "Bash", "input": command, "wait_seconds": 60})
    permission_id = await waiter.filed()
    decide(permission_id, "reject", "not on main")
    answer = json.loads(texts(await waiter.result())[0])
    check(answer["behavior"] == "deny" and "not on main" in answer["message"], f"{label}: request_permission deny: {answer}")
    status, filed = api("GET", f"/v1/approvals/{permission_id}", REQUEST_KEY)
    check(filed["action"] == "Run Bash" and filed["payload"] == command, f"{label}: request_permission files Run TOOL with the input")
    answer = json.loads(texts(await client.call_tool(
        "request_permission", {"tool_name": "Write", "input": {"file_path": "/tmp/x"}, "wait_seconds": 1}))[0])
    check(answer["behavior"] == "deny" and "still pending" in answer["message"] and "apr_" in answer["message"],
          f"{label}: request_permission still pending: {answer}")

    # Bad input: a tool error with the API's code; nothing filed.
    bad = await client.call_tool("request_approval", {"action": "No payload"})
    check(bad.is_error and texts(bad)[0].startswith("invalid_field:"), f"{label}: a missing payload is invalid_field")
    unknown = await client.call_tool("get_approval", {"id": "apr_nobodyhasthisid000000"})
    check(unknown.is_error and texts(unknown)[0].startswith("not_found:"), f"{label}: an unknown id is not_found")


def stdio(mode):
    environment = {"GATEHOUSE_URL": URL, "GATEHOUSE_API_KEY": REQUEST_KEY}
    return Client(StdioServerParameters(command=BIN, args=["mcp"], env=environment), mode=mode)


def http(mode, key=REQUEST_KEY):
    client = create_mcp_http_client(headers={"Authorization": f"Bearer {key}"})
    return Client(streamable_http_client(URL + "/mcp", http_client=client), mode=mode)


async def attempt(label, make):
    """Runs the whole exercise on a new client; returns whether it connected."""
    try:
        async with make() as client:
            await exercise(client, label)
            return True
    except Exception as error:  # noqa: BLE001 - reported, then judged by the caller
        print(f"{label}: could not run: {type(error).__name__}: {error}", flush=True)
        return False


async def main():
    modes = {}
    for label, make in [("stdio legacy", lambda: stdio("legacy")), ("http legacy", lambda: http("legacy")),
                        ("stdio default", lambda: stdio("auto")), ("http default", lambda: http("auto"))]:
        modes[label] = await attempt(label, make)
    for label, connected in modes.items():
        check(connected, f"{label}: connects and runs")

    # A bad or missing key over HTTP: 401 with the API's error shape, before any session.
    initialize = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
                  "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "check", "version": "1"}}}
    for key in ["not-a-key", None]:
        headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
        if key:
            headers["Authorization"] = f"Bearer {key}"
        request = urllib.request.Request(URL + "/mcp", data=json.dumps(initialize).encode(), method="POST", headers=headers)
        try:
            urllib.request.urlopen(request, timeout=10)
            check(False, f"http: key {key!r} is refused")
        except urllib.error.HTTPError as error:
            body = json.loads(error.read())
            check(error.code == 401 and body["error"]["code"] == "unauthorized", f"http: key {key!r} gets 401 unauthorized")
    refused = await attempt("http legacy, bad key", lambda: http("legacy", key="not-a-key"))
    check(not refused, "http: the client cannot connect with a bad key")

    print(f"{passed} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
