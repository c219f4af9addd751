"""The web page in a real browser: headless Chromium (Debian's, never a downloaded one) driven by Playwright against a
`gatehouse serve` on 127.0.0.1 that it starts (and restarts once) itself. Run by scripts/check-web, which prepares the
database; reads its settings from the environment: GATEHOUSE_BIN, GATEHOUSE_DB, GATEHOUSE_PORT, SERVE_LOG,
GATEHOUSE_URL, LOGIN_LINK, REQUEST_KEY, DECIDE_KEY, CHROMIUM, SCREENSHOTS."""

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

from playwright.sync_api import expect, sync_playwright

BASE = os.environ["GATEHOUSE_URL"]
LINK = os.environ["LOGIN_LINK"]
REQUEST_KEY = os.environ["REQUEST_KEY"]
DECIDE_KEY = os.environ["DECIDE_KEY"]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SHOTS = os.environ.get("SCREENSHOTS", ".build/web-screenshots")
PHONE = {"width": 360, "height": 760}


def api(method, path, key, body=None):
    request = urllib.request.Request(
        BASE + path,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": "Bearer " + key, "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.load(answer)


class Service:
    """`gatehouse serve` on 127.0.0.1, Slack off, callbacks to loopback only: nothing leaves this machine."""

    def __init__(self):
        self.process = None

    def start(self):
        environment = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
        environment.update(GATEHOUSE_CALLBACK_TARGETS="allowlist", GATEHOUSE_CALLBACK_ALLOW="127.0.0.0/8")
        with open(os.environ["SERVE_LOG"], "ab") as log:
            self.process = subprocess.Popen(
                [os.environ["GATEHOUSE_BIN"], "serve", "--host", "127.0.0.1", "--port", os.environ["GATEHOUSE_PORT"],
                 "--db", os.environ["GATEHOUSE_DB"]],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=environment)
        for _ in range(200):
            try:
                with urllib.request.urlopen(BASE + "/readyz", timeout=1):
                    return
            except (urllib.error.URLError, ConnectionError):
                if self.process.poll() is not None:
                    break
                time.sleep(0.05)
        raise AssertionError("the service did not start: " + open(os.environ["SERVE_LOG"]).read()[-2000:])

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


def file_request(action, payload, **extra):
    return api("POST", "/v1/approvals", REQUEST_KEY, {"action": action, "payload": payload, **extra})["id"]


def status(approval_id):
    return api("GET", "/v1/approvals/" + approval_id, REQUEST_KEY)


def check_phone_layout(page, where):
    """No horizontal scrolling at 360 px, and every control at least 44 px tall."""
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{where}: the page scrolls sideways by {overflow} px at 360 px"
    small = page.evaluate(
        """() => [...document.querySelectorAll('button, a.open, a.more, header a, select, textarea, input:not([type=hidden]), summary')]
            .filter(e => e.offsetParent !== null)
            .map(e => [e.tagName + ' ' + (e.textContent || e.name || '').trim().slice(0, 30), e.getBoundingClientRect().height])
            .filter(([_, h]) => h < 44)"""
    )
    assert not small, f"{where}: tap targets under 44 px: {small}"


def main():
    os.makedirs(SHOTS, exist_ok=True)
    service = Service()
    service.start()
    try:
        run(service)
    finally:
        service.stop()


def run(service):
    first = file_request(
        "Deploy api to production", {"service": "api", "commit": "4f2a9c1"},
        risk="high", requester="ci", reasoning="Release 2.3 passed staging for a day; <script>alert(1)</script>",
    )
    problems = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"], headless=True)
        context = browser.new_context(viewport=PHONE, color_scheme="light", device_scale_factor=2, is_mobile=True, has_touch=True)
        page = context.new_page()
        # A violated Content-Security-Policy or a failing script shows in the console, and a file the page needs that
        # fails shows as a response: the page must have none. (Pages answered 401 or 422 on purpose are documents.)
        page.on(
            "console",
            lambda message: problems.append(message.text)
            if message.type == "error" and not message.text.startswith("Failed to load resource")
            else None,
        )
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.on(
            "response",
            lambda response: problems.append(f"{response.status} {response.url}")
            if response.status >= 400 and response.request.resource_type != "document"
            else None,
        )

        # Sign in with the one-time link, and see the pending request (its <script> shown as text).
        page.goto(LINK)
        assert page.url.rstrip("/").endswith("/ui"), page.url
        expect(page.get_by_role("link", name="Deploy api to production")).to_be_visible()
        expect(page.get_by_text("<script>alert(1)</script>", exact=False)).to_be_visible()
        check_phone_layout(page, "pending list")

        # The list changes without a reload when a request is filed through the API (within 2 s).
        page.evaluate("window.notReloaded = true")
        second = file_request("Rotate the database password", {"database": "orders"}, risk="medium", requester="ci")
        expect(page.get_by_role("link", name="Rotate the database password")).to_be_visible(timeout=2000)
        third = file_request("Scale workers", {"replicas": 3, "service": "workers"}, risk="low", requester="ci")
        expect(page.get_by_role("link", name="Scale workers")).to_be_visible(timeout=2000)
        assert page.evaluate("window.notReloaded === true"), "the page reloaded"
        page.screenshot(path=f"{SHOTS}/pending-360-light.png", full_page=True)

        # The same list in dark mode, and on a desktop.
        dark = browser.new_context(viewport=PHONE, color_scheme="dark", device_scale_factor=2, is_mobile=True, has_touch=True)
        dark.add_cookies(context.cookies())
        dark_page = dark.new_page()
        dark_page.goto(BASE + "/ui")
        expect(dark_page.get_by_role("link", name="Scale workers")).to_be_visible()
        background = dark_page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background == "rgb(17, 20, 24)", f"dark mode background is {background}"
        check_phone_layout(dark_page, "pending list, dark")
        dark_page.screenshot(path=f"{SHOTS}/pending-360-dark.png", full_page=True)
        desktop = browser.new_context(viewport={"width": 1280, "height": 800}, color_scheme="light")
        desktop.add_cookies(context.cookies())
        desktop_page = desktop.new_page()
        desktop_page.goto(BASE + "/ui")
        desktop_page.screenshot(path=f"{SHOTS}/pending-desktop-light.png", full_page=True)

        # A decision elsewhere (the API) takes the request off the open list.
        fourth = file_request("Purge the CDN cache", {"zone": "static"}, risk="low", requester="ci")
        expect(page.get_by_role("link", name="Purge the CDN cache")).to_be_visible(timeout=2000)
        api("POST", f"/v1/approvals/{fourth}/decision", DECIDE_KEY, {"outcome": "approve", "as": "bob"})
        expect(page.get_by_role("link", name="Purge the CDN cache")).to_have_count(0, timeout=2000)

        # After a restart of the service the open list reconnects by itself and keeps updating; the session survives.
        service.stop()
        service.start()
        fifth = file_request("Renew the TLS certificate", {"domain": "example.org"}, risk="low", requester="ci")
        expect(page.get_by_role("link", name="Renew the TLS certificate")).to_be_visible(timeout=5000)
        assert page.evaluate("window.notReloaded === true"), "the page reloaded"
        api("POST", f"/v1/approvals/{fifth}/decision", DECIDE_KEY, {"outcome": "reject", "as": "bob", "reason": "later"})

        # Approve on the phone.
        page.get_by_role("link", name="Deploy api to production").click()
        check_phone_layout(page, "one approval")
        page.screenshot(path=f"{SHOTS}/approval-360-light.png", full_page=True)
        page.get_by_role("button", name="Approve", exact=True).click()
        expect(page.get_by_text("You approved it.")).to_be_visible()
        decided = status(first)
        assert decided["status"] == "approved" and decided["decision"]["by"] == "local:alice", decided

        # Reject with a reason and a reason code.
        page.goto(BASE + "/ui/approvals/" + second)
        page.get_by_label("Why reject? (required)").fill("Rotate after the freeze")
        page.get_by_label("Reason code").select_option("not_now")
        page.get_by_role("button", name="Reject").click()
        expect(page.get_by_text("You rejected it.")).to_be_visible()
        decided = status(second)
        assert decided["status"] == "rejected" and decided["decision"]["reason"] == "Rotate after the freeze", decided
        assert decided["decision"]["reason_code"] == "not_now", decided

        # Modify: invalid JSON is said beside the editor and nothing is stored; then valid JSON is.
        page.goto(BASE + "/ui/approvals/" + third)
        editor = page.get_by_label("Approve with this payload (JSON)")
        editor.fill('{"replicas": 5, "service": ')
        page.get_by_role("button", name="Approve with changes").click()
        expect(page.locator("#payload-error")).to_contain_text("not valid JSON")
        expect(page.get_by_label("Approve with this payload (JSON)")).to_have_value('{"replicas": 5, "service": ')
        assert status(third)["status"] == "pending"
        page.screenshot(path=f"{SHOTS}/modify-error-360-light.png", full_page=True)
        page.get_by_label("Approve with this payload (JSON)").fill('{"replicas": 5, "service": "workers"}')
        page.get_by_role("button", name="Approve with changes").click()
        expect(page.get_by_text("You approved it with changes.")).to_be_visible()
        decided = status(third)
        assert decided["status"] == "modified" and decided["decision"]["payload"]["replicas"] == 5, decided
        expect(page.locator(".diff .add")).to_contain_text('"replicas": 5')

        # Keyboard: the skip link comes first and takes focus visibly.
        page.goto(BASE + "/ui")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.className") == "skip"

        page.get_by_role("button", name="Sign out").click()
        expect(page.get_by_text("You are signed out.")).to_be_visible()
        page.goto(BASE + "/ui")
        expect(page.get_by_text("Sign in to Gatehouse")).to_be_visible()
        browser.close()
    assert not problems, f"console errors: {problems}"
    print(f"web page: sign-in, live list, approve, reject, modify, layout at 360 px: ok; screenshots in {SHOTS}")


if __name__ == "__main__":
    try:
        main()
    except AssertionError as failure:
        print(f"web page check failed: {failure}", file=sys.stderr)
        sys.exit(1)
