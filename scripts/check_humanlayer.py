#!/usr/bin/env python3
"""HumanLayer's own Python SDK (humanlayer, pinned in scripts/check-humanlayer) against a live Gatehouse on 127.0.0.1.

Run by scripts/check-humanlayer, which starts the service, the Slack stand-in and this script with
HUMANLAYER_API_BASE, HUMANLAYER_API_KEY (a request key: the agent's), CHECK_DECIDE_KEY (a decide key: the person's
through the API), CHECK_STAND_IN_OUT (what the stand-in prints) and GATEHOUSE_URL / SLACK_SIGNING_SECRET for
scripts/slack-click. Each case runs the SDK's blocking call in a thread, as an agent would, and decides it the way a
person would: through Gatehouse's API, or with a signed Slack click on the button the stand-in printed. The SDK polls
every 3 s, unchanged.
"""
import os
import re
import subprocess
import sys
import threading
import time

import requests
from humanlayer import HumanLayer, ResponseOption

BASE = os.environ["HUMANLAYER_API_BASE"]
DECIDE = {"Authorization": "Bearer " + os.environ["CHECK_DECIDE_KEY"]}
STAND_IN_OUT = os.environ["CHECK_STAND_IN_OUT"]
HERE = os.path.dirname(os.path.abspath(__file__))


def fail(message):
    sys.exit(f"check-humanlayer: {message}")


def in_thread(body):
    """Starts `body` as an agent's blocking call; returns a function that waits for its result."""
    result = {}

    def run():
        try:
            result["value"] = body()
        except BaseException as error:  # noqa: BLE001 - reported to the waiting side
            result["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()

    def wait():
        thread.join(60)
        if thread.is_alive():
            fail("the SDK was still waiting after 60 s")
        if "error" in result:
            raise result["error"]
        return result["value"]

    return wait


def pending(kind, field):
    """Waits until the SDK has filed something: the newest pending item of `kind` (function_calls, human_contacts)."""
    for _ in range(100):
        answer = requests.get(f"{BASE}/agent/{kind}/pending", headers=DECIDE, timeout=10)
        answer.raise_for_status()
        items = answer.json()
        if items:
            return items[-1]["gatehouse"][field], items[-1]["call_id"]
        time.sleep(0.1)
    fail(f"nothing pending in {kind}")


def printed_value(what, ident):
    """The VALUE the stand-in printed beside a button or modal (`what`) about `ident`."""
    for _ in range(100):
        with open(STAND_IN_OUT, encoding="utf-8") as output:
            lines = [line for line in output if what in line and ident in line]
        if lines:
            found = re.search(r" '([^']*)' --user", lines[-1])
            if found:
                return found.group(1)
        time.sleep(0.1)
    fail(f"the stand-in printed no {what} for {ident}")


def slack_click(*arguments):
    subprocess.run([os.path.join(HERE, "slack-click"), *arguments], check=True, stdout=subprocess.DEVNULL)


def click_and_submit(button, modal, ident, user, *fields):
    """Presses the button `button` of the message about `ident`, then submits the form it opened (`modal`)."""
    slack_click("click", button, printed_value(f"button {button}", ident), "--user", user)
    callback = {"reject": "gatehouse.reject_modal", "reply": "gatehouse.contact_reply_modal"}[modal]
    slack_click("submit", modal, printed_value(f"modal {callback}", ident), *fields, "--user", user)


def respond(kind, call_id, body):
    """Answers through Gatehouse's API, as a person with a decide key: `kind` is function_calls or human_contacts."""
    answer = requests.post(f"{BASE}/agent/{kind}/{call_id}/respond", headers=DECIDE, json=body, timeout=10)
    if answer.status_code != 200:
        fail(f"{kind} respond answered {answer.status_code}: {answer.text}")


def expect(wait, expected, what):
    """Waits for the SDK's call and checks what it returned."""
    answer = wait()
    if answer != expected:
        fail(f"{what}: the SDK returned {answer!r}, not {expected!r}")
    print(f"{what}: {answer!r}")


def main():
    hl = HumanLayer(run_id="check-humanlayer")
    ran = []

    @hl.require_approval()
    def deploy(service: str, commit: str) -> str:
        ran.append((service, commit))
        return f"deployed {service} at {commit}"

    # Approved through Gatehouse's API: the function runs with its arguments.
    wait = in_thread(lambda: deploy(service="api", commit="4f2a9c1"))
    _, call_id = pending("function_calls", "approval_id")
    respond("function_calls", call_id, {"approved": True, "comment": "go", "as": "alice"})
    expect(wait, "deployed api at 4f2a9c1", "require_approval, approved through the API")

    # Rejected through the API: the model is told why, and nothing runs.
    wait = in_thread(lambda: deploy(service="api", commit="0000000"))
    _, call_id = pending("function_calls", "approval_id")
    respond("function_calls", call_id, {"approved": False, "comment": "wrong commit"})
    expect(wait, "User denied deploy with message: wrong commit", "require_approval, rejected through the API")

    # Approved with a signed Slack click on the message's Approve button.
    wait = in_thread(lambda: deploy(service="web", commit="a1b2c3d"))
    approval_id, _ = pending("function_calls", "approval_id")
    slack_click("click", "gatehouse.approve", printed_value("button gatehouse.approve", approval_id), "--user", "U0ALICE")
    expect(wait, "deployed web at a1b2c3d", "require_approval, approved in Slack")

    # Rejected in Slack: Reject opens its form; the reason reaches the model.
    wait = in_thread(lambda: deploy(service="db", commit="dead000"))
    approval_id, _ = pending("function_calls", "approval_id")
    click_and_submit("gatehouse.reject", "reject", approval_id, "U0BOB", "--reason", "not during the freeze")
    expect(wait, "User denied deploy with message: not during the freeze", "require_approval, rejected in Slack")
    if ran != [("api", "4f2a9c1"), ("web", "a1b2c3d")]:
        fail(f"the function ran with {ran}, not just the two approved calls")

    ask = hl.human_as_tool(response_options=[
        ResponseOption(name="eu", title="Europe (Frankfurt)"),
        ResponseOption(name="other", title="Somewhere else", prompt_fill="Put it in "),
    ])

    # human_as_tool answered in Slack's Reply form.
    wait = in_thread(lambda: ask("Which region should the new cluster go to?", "Cluster region"))
    contact_id, _ = pending("human_contacts", "contact_id")
    click_and_submit("gatehouse.contact_reply", "reply", contact_id, "U0ALICE", "--text", "Frankfurt, after the freeze")
    expect(wait, "Frankfurt, after the freeze", "human_as_tool, answered in Slack's Reply form")

    # human_as_tool answered with an option's button.
    wait = in_thread(lambda: ask("Which region for the replica?"))
    contact_id, _ = pending("human_contacts", "contact_id")
    slack_click("click", "gatehouse.contact_option.0", printed_value("button gatehouse.contact_option.0", contact_id), "--user", "U0BOB")
    expect(wait, "Europe (Frankfurt)", "human_as_tool, answered with an option's button")

    # human_as_tool answered through the respond route.
    wait = in_thread(lambda: ask("Anything else before I start?"))
    _, call_id = pending("human_contacts", "contact_id")
    respond("human_contacts", call_id, {"response": "No, go ahead", "as": "carol"})
    expect(wait, "No, go ahead", "human_as_tool, answered through the API")


if __name__ == "__main__":
    main()
