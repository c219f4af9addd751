#!/usr/bin/env python3
"""A small stand-in for Slack's Web API on loopback, for benchmarks and for trying Gatehouse without a workspace.

    python3 scripts/slack-stand-in.py 8700 &
    SLACK_BOT_TOKEN=xoxb-local SLACK_SIGNING_SECRET=local SLACK_API_URL=http://127.0.0.1:8700/api/ \\
        swift run gatehouse serve

Every method Gatehouse calls gets an answer of the shape Slack gives; anything else gets {"ok": true}.
User groups: SLACK_STAND_IN_GROUPS="S0SRE=U0BOB,U0CAROL S0DBA=U0DAVE" names their members; any other group
answers no_such_subteam, as Slack does. Set SLACK_STAND_IN_LOG=1 to print each call on standard error, one line
each: the method, its arguments in full (blocks counted, not printed) and the answer.

Each posted or updated message's buttons, and each opened modal, are printed on standard output with the command
that presses or submits them (scripts/slack-click), so every Slack path can be tried locally:

    button gatehouse.approve on C0APPROVALS 1733373600.000001 "Approve": scripts/slack-click click gatehouse.approve 'VALUE' --user U0ALICE

SLACK_STAND_IN_BUTTONS=0 turns that off (the benchmarks do).
"""
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


def parse_groups(text):
    groups = {}
    for item in text.split():
        group, _, members = item.partition("=")
        groups[group] = [m for m in members.split(",") if m]
    return groups


def channel_id(channel):
    """Slack answers with the channel's ID even when it was named: `#approvals` becomes `C0APPROVALS`."""
    channel = str(channel or "")
    if channel.startswith("#"):
        return "C0" + "".join(c for c in channel[1:].upper() if c.isalnum())[:20]
    return channel or "C0STANDIN"


GROUPS = parse_groups(os.environ.get("SLACK_STAND_IN_GROUPS", ""))
LOG = os.environ.get("SLACK_STAND_IN_LOG") == "1"
BUTTONS = os.environ.get("SLACK_STAND_IN_BUTTONS", "1") != "0"
LOG_LOCK = threading.Lock()  # calls are answered on several threads; each keeps to its own line


def quoted(text):
    return "'" + str(text).replace("'", "'\\''") + "'"


def decoded_json(value):
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


def button_lines(method, args, answer):
    """What a person could press on this message or modal, each with the scripts/slack-click command that does."""
    lines = []
    if method in ("chat.postMessage", "chat.update") and answer.get("ok"):
        for block in decoded_json(args.get("blocks")) or []:
            for element in block.get("elements", []) if isinstance(block, dict) else []:
                if isinstance(element, dict) and element.get("type") == "button":
                    label = (element.get("text") or {}).get("text", "")
                    lines.append(
                        f"button {element.get('action_id')} on {answer.get('channel')} {answer.get('ts')} {json.dumps(label)}: "
                        f"scripts/slack-click click {element.get('action_id')} {quoted(element.get('value', ''))} --user U0YOU")
    if method == "views.open":
        view = decoded_json(args.get("view")) or {}
        inputs = [b.get("block_id") for b in view.get("blocks", []) if isinstance(b, dict) and b.get("type") == "input"]
        callback = view.get("callback_id", "")
        kinds = {"reject": "reject --reason TEXT [--code CODE]", "modify": "modify --payload JSON", "contact_reply": "reply --text TEXT"}
        kind = next((usage for word, usage in kinds.items() if word in callback), callback)
        lines.append(
            f"modal {callback} (inputs: {', '.join(map(str, inputs))}): "
            f"scripts/slack-click submit {kind} {quoted(view.get('private_metadata', ''))} --user U0YOU")
    return lines


def log_line(method, args, answer):
    shown = dict(args)
    blocks = shown.pop("blocks", None)
    if isinstance(blocks, str):
        try:
            blocks = json.loads(blocks)
        except ValueError:
            pass
    extra = f" ({len(blocks)} blocks)" if isinstance(blocks, list) else ""
    return f"{method} {json.dumps(shown, ensure_ascii=False)}{extra} -> {json.dumps(answer, ensure_ascii=False)}"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Message timestamps grow from the start time, as Slack's do, so a restarted stand-in never reuses one that a
    # database kept from before.
    counter = int(time.time() * 1_000_000)
    lock = threading.Lock()

    def arguments(self):
        url = urlsplit(self.path)
        args = {k: v[-1] for k, v in parse_qs(url.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if body and "json" in (self.headers.get("Content-Type") or ""):
            try:
                decoded = json.loads(body)
            except ValueError:
                decoded = None
            if isinstance(decoded, dict):
                args.update(decoded)
        elif body:
            args.update({k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace")).items()})
        return url.path.rsplit("/", 1)[-1], args

    def next_ts(self):
        with Handler.lock:
            Handler.counter += 1
            seconds, micros = divmod(Handler.counter, 1_000_000)
            return f"{seconds}.{micros:06d}"

    def reply(self, method, args):
        if method in ("chat.postMessage", "chat.update"):
            return {"ok": True, "channel": channel_id(args.get("channel")), "ts": args.get("ts") or self.next_ts()}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": self.next_ts()}
        if method == "chat.getPermalink":
            channel, ts = args.get("channel", "C0STANDIN"), args.get("message_ts", "0").replace(".", "")
            return {"ok": True, "channel": channel, "permalink": f"https://slack.test/archives/{channel}/p{ts}"}
        if method == "views.open":
            return {"ok": True, "view": {"id": "V" + self.next_ts().replace(".", "")}}
        if method == "conversations.open":
            users = str(args.get("users", "")).split(",")
            return {"ok": True, "channel": {"id": "D" + users[0] if users[0] else "D0STANDIN"}}
        if method == "users.info":
            user = str(args.get("user", "U0UNKNOWN"))
            return {"ok": True, "user": {"id": user, "name": user.lower(), "real_name": user, "tz": "UTC"}}
        if method == "auth.test":
            return {"ok": True, "url": "https://local.slack.test/", "team": "Local", "user": "gatehouse", "user_id": "U0STANDIN"}
        if method == "conversations.info":
            return {"ok": True, "channel": {"id": args.get("channel", ""), "is_member": True}}
        if method == "usergroups.users.list":
            group = str(args.get("usergroup", ""))
            if group not in GROUPS:
                return {"ok": False, "error": "no_such_subteam"}
            return {"ok": True, "users": GROUPS[group]}
        return {"ok": True}

    def answer(self):
        method, args = self.arguments()
        answer = self.reply(method, args)
        if LOG:
            line = log_line(method, args, answer)
            with LOG_LOCK:
                print(line, file=sys.stderr, flush=True)
        if BUTTONS:
            lines = button_lines(method, args, answer)
            if lines:
                with LOG_LOCK:
                    print("\n".join(lines), flush=True)
        body = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        if method == "auth.test":  # the bot scopes of manifests/slack-app.yaml, as Slack reports a token's scopes
            self.send_header("x-oauth-scopes", "chat:write,chat:write.public,commands,users:read,im:write,usergroups:read")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = answer
    do_GET = answer

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
    server.serve_forever()
