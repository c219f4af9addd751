#!/usr/bin/env python3
"""Two `gatehouse serve` replicas on one PostgreSQL, end to end (run by scripts/check-replicas).

A private PostgreSQL cluster (Debian's binaries, in a temporary directory, on a port of its own, stopped at the end),
scripts/slack-stand-in.py as Slack, and two replicas on 127.0.0.1:

1. Requests alternate between the replicas; each is read back on the other, and decisions taken on either are seen
   on both.
2. A long-poll held on one replica is answered when the other decides: the time from the decision's answer to the
   poll's is printed for 30 rounds (the target is 100 ms), and none may exceed 1 s.
3. Under load on both, one replica is killed with SIGKILL. Every request acknowledged (2xx) by either replica is then
   read back on the survivor, and the survivor posts each to Slack, the dead one's claimed posts after their lease:
   none is lost, and none is posted twice beyond what the README admits (a post the dead replica had made but not yet
   recorded).

Usage: scripts/check_replicas.py GATEHOUSE_BINARY
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

BIN = sys.argv[1]
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TMP = tempfile.mkdtemp(prefix="gatehouse-replicas.")
PROCS = []
RUN_AS = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def fail(message):
    print(f"check-replicas: FAILED: {message}", file=sys.stderr)
    for name in ("a.log", "b.log"):
        path = os.path.join(TMP, name)
        if os.path.exists(path):
            print(f"--- {name} (last 15 lines)", file=sys.stderr)
            with open(path) as f:
                print("".join(f.readlines()[-15:]), file=sys.stderr)
    raise SystemExit(1)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pg_bin():
    explicit = os.environ.get("GATEHOUSE_PG_BIN")
    if explicit:
        return explicit
    versions = sorted((int(v) for v in os.listdir("/usr/lib/postgresql") if v.isdigit()), reverse=True)
    for v in versions:
        if os.path.exists(f"/usr/lib/postgresql/{v}/bin/initdb"):
            return f"/usr/lib/postgresql/{v}/bin"
    fail("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb)")


def start_cluster():
    binaries = pg_bin()
    data = os.path.join(TMP, "pg")
    os.makedirs(data)
    if RUN_AS:
        shutil.chown(TMP, "postgres")
        shutil.chown(data, "postgres")
    port = free_port()
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.STDOUT}
    subprocess.run(RUN_AS + [f"{binaries}/initdb", "-D", data, "-U", "gatehouse", "--auth=trust", "-E", "UTF8"], check=True, **quiet)
    options = f"-p {port} -k {TMP} -c listen_addresses=127.0.0.1 -c max_connections=100"
    subprocess.run(RUN_AS + [f"{binaries}/pg_ctl", "-D", data, "-o", options, "-l", os.path.join(TMP, "pg.log"), "-w", "start"],
                   check=True, **quiet)
    stop = RUN_AS + [f"{binaries}/pg_ctl", "-D", data, "-m", "immediate", "-w", "stop"]
    subprocess.run([f"{binaries}/psql", "-X", "-q", "-h", "127.0.0.1", "-p", str(port), "-U", "gatehouse", "-d", "postgres",
                    "-c", "CREATE DATABASE gatehouse"], check=True, **quiet)
    return f"postgres://gatehouse@127.0.0.1:{port}/gatehouse?sslmode=disable", stop


def call(base, method, path, key, body=None, timeout=10):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method=method)
    request.add_header("Authorization", f"Bearer {key}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def wait_ready(base):
    for _ in range(300):
        try:
            with urllib.request.urlopen(base + "/readyz", timeout=1):
                return
        except Exception:
            time.sleep(0.1)
    fail(f"{base} never became ready")


def serve(name, db, slack_port):
    port = free_port()
    env = dict(os.environ, SLACK_BOT_TOKEN="xoxb-local", SLACK_SIGNING_SECRET="local-signing-secret",
               SLACK_API_URL=f"http://127.0.0.1:{slack_port}/api/", SLACK_PACING="0")
    log = open(os.path.join(TMP, f"{name}.log"), "w")
    process = subprocess.Popen([BIN, "serve", "--host", "127.0.0.1", "--port", str(port), "--db", db, "--log-level", "notice"],
                               env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    PROCS.append(process)
    base = f"http://127.0.0.1:{port}"
    wait_ready(base)
    return process, base


def key(db, name, scope):
    out = subprocess.run([BIN, "keys", "create", name, "--scope", scope, "--db", db], check=True, capture_output=True, text=True)
    return out.stdout.strip().splitlines()[-1]


def create(base, agent, label):
    return call(base, "POST", "/v1/approvals", agent, {
        "action": f"Deploy api {label}", "payload": {"service": "api", "label": label}, "risk": "high",
        "requester": "agent:ci"})


def posts_by_label(stand_in_log):
    """How many times the stand-in was asked to post each request to the channel, by its label."""
    counts = {}
    with open(stand_in_log) as f:
        for line in f:
            if not line.startswith("chat.postMessage "):
                continue
            match = re.search(r"Deploy api (kill-\d+-\d+)", line)
            if match:
                counts[match.group(1)] = counts.get(match.group(1), 0) + 1
    return counts


def main():
    db, stop_cluster = start_cluster()
    try:
        run(db)
    finally:
        for process in PROCS:
            if process.poll() is None:
                process.terminate()
        for process in PROCS:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        subprocess.run(stop_cluster, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        shutil.rmtree(TMP, ignore_errors=True)


def run(db):
    slack_port = free_port()
    stand_in_log = os.path.join(TMP, "stand-in.log")
    stand_in = subprocess.Popen(
        [sys.executable, os.path.join(ROOT, "scripts", "slack-stand-in.py"), str(slack_port)],
        env=dict(os.environ, SLACK_STAND_IN_LOG="1", SLACK_STAND_IN_BUTTONS="0"),
        stdout=subprocess.DEVNULL, stderr=open(stand_in_log, "w"), stdin=subprocess.DEVNULL)
    PROCS.append(stand_in)
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{slack_port}/api/auth.test", timeout=1)
            break
        except Exception:
            time.sleep(0.1)

    a, base_a = serve("a", db, slack_port)
    b, base_b = serve("b", db, slack_port)
    agent = key(db, "ci-agent", "request")
    lead = key(db, "ci-lead", "decide")

    # 1. Alternating requests, read and decided across replicas.
    ids = []
    for i in range(20):
        status, body = create(base_a if i % 2 == 0 else base_b, agent, f"alt-{i}")
        if status != 201:
            fail(f"create {i} answered {status}: {body}")
        ids.append(body["id"])
    for i, approval_id in enumerate(ids):
        other = base_b if i % 2 == 0 else base_a
        status, body = call(other, "GET", f"/v1/approvals/{approval_id}", agent)
        if status != 200 or body["payload"]["label"] != f"alt-{i}":
            fail(f"{approval_id} read on the other replica: {status} {body}")
        status, body = call(other, "POST", f"/v1/approvals/{approval_id}/decision", lead,
                            {"outcome": "approve" if i % 3 else "reject", "as": "U0ALICE"})
        if status != 200:
            fail(f"deciding {approval_id} on the other replica answered {status}: {body}")
        for base in (base_a, base_b):
            status, body = call(base, "GET", f"/v1/approvals/{approval_id}", agent)
            if body["status"] != ("approved" if i % 3 else "rejected"):
                fail(f"{approval_id} on {base} is {body['status']} after its decision")
    print("check-replicas: 20 requests alternated between two replicas, each read and decided on the other")

    # 2. A long-poll on one replica, the decision on the other.
    latencies = []
    for i in range(30):
        held, decider = (base_a, base_b) if i % 2 == 0 else (base_b, base_a)
        status, body = create(held, agent, f"poll-{i}")
        approval_id = body["id"]
        answered = {}

        def poll():
            answered["response"] = call(held, "GET", f"/v1/approvals/{approval_id}?wait=30", agent, timeout=40)
            answered["at"] = time.monotonic()

        poller = threading.Thread(target=poll)
        poller.start()
        time.sleep(0.3)  # the poll is held by now (a script, not a test of deadlines: a late hold only shortens the figure)
        status, body = call(decider, "POST", f"/v1/approvals/{approval_id}/decision", lead, {"outcome": "approve", "as": "U0ALICE"})
        decided_at = time.monotonic()
        poller.join(timeout=35)
        if "response" not in answered or answered["response"][1]["status"] != "approved":
            fail(f"the poll on {held} for {approval_id} was not answered with the decision taken on {decider}: {answered}")
        latencies.append((answered["at"] - decided_at) * 1000)
    latencies.sort()
    print(f"check-replicas: a decision on one replica answered the poll held on the other in "
          f"p50 {latencies[len(latencies) // 2]:.1f} ms, max {latencies[-1]:.1f} ms (30 rounds; target 100 ms)")
    if latencies[-1] > 1000:
        fail(f"a cross-replica wake-up took {latencies[-1]:.0f} ms")

    # 3. Load on both, one replica killed with SIGKILL.
    acknowledged = []
    lock = threading.Lock()
    stop = threading.Event()

    def load(worker):
        n = 0
        while not stop.is_set():
            base = base_a if (worker + n) % 2 == 0 else base_b
            label = f"kill-{worker}-{n}"
            n += 1
            try:
                status, body = create(base, agent, label)
            except Exception:
                continue  # the killed replica: not acknowledged, so not promised
            if status == 201:
                with lock:
                    acknowledged.append((label, body["id"]))
            time.sleep(0.05)

    workers = [threading.Thread(target=load, args=(w,)) for w in range(4)]
    for worker in workers:
        worker.start()
    time.sleep(2)
    a.send_signal(signal.SIGKILL)
    a.wait()
    time.sleep(2)
    stop.set()
    for worker in workers:
        worker.join()
    with lock:
        done = list(acknowledged)
    for label, approval_id in done:
        status, body = call(base_b, "GET", f"/v1/approvals/{approval_id}", agent)
        if status != 200 or body["payload"]["label"] != label:
            fail(f"{approval_id} ({label}), acknowledged before the kill, reads {status} on the survivor")
    print(f"check-replicas: {len(done)} requests acknowledged under load, one replica killed with SIGKILL: all read back")

    # The survivor posts what the dead replica left: its claims lapse after their lease (60 s).
    deadline = time.monotonic() + 150
    while True:
        counts = posts_by_label(stand_in_log)
        missing = [label for label, _ in done if label not in counts]
        if not missing:
            break
        if time.monotonic() > deadline:
            fail(f"{len(missing)} acknowledged requests were never posted to Slack, e.g. {missing[:3]}")
        time.sleep(1)
    twice = {label: n for label, n in counts.items() if n > 1}
    print(f"check-replicas: every acknowledged request posted to Slack; posted twice: {len(twice)}")
    # Only a post the dead replica made and had not yet recorded may be sent again: at most the one batch it held.
    if len(twice) > 32:
        fail(f"{len(twice)} requests were posted twice: {sorted(twice)[:5]}")


if __name__ == "__main__":
    main()
