#!/usr/bin/env python3
"""A minimal stand-in for Slack's Web API on loopback, for benchmarks: answers every method with ok:true."""
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    counter = 0

    def answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        Handler.counter += 1
        ts = f"1700000000.{Handler.counter:06d}"
        body = json.dumps({"ok": True, "channel": "C0BENCH", "ts": ts, "permalink": "https://slack.test/p1",
                           "view": {"id": "V1"}, "message_ts": ts}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=utf-8")
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
