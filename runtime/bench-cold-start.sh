#!/usr/bin/env bash
# Cold start of a handler, measured locally: the time from spawning the release binary to its
# first `GET /2018-06-01/runtime/invocation/next` (process start -> ready), and to its answer of a
# first (empty SQS) invocation. A tiny Lambda Runtime API stand-in on 127.0.0.1 (Python's
# http.server) serves the requests; no AWS call is made (the SDK only loads its configuration).
#
# Usage: runtime/bench-cold-start.sh [BINARY_NAME] [RUNS]   (defaults: shipping 20)
# Set NO_BUILD=1 to skip `cargo build --release`.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${1:-shipping}"
RUNS="${2:-20}"
if [[ "${NO_BUILD:-}" != 1 ]]; then
  nice cargo build --release -q -p order-handlers --bin "$BIN"
fi
EXE="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release/$BIN"
[[ -x "$EXE" ]] || { echo "no binary at $EXE" >&2; exit 1; }

python3 - "$EXE" "$RUNS" <<'PY'
import http.server, json, os, socket, statistics, subprocess, sys, threading, time

exe, runs = sys.argv[1], int(sys.argv[2])
size = os.path.getsize(exe)

class State:
    first_next = None
    response = None
    served = 0

state = State()
lock = threading.Lock()
# A first invocation that needs no AWS call: an empty SQS batch, or (order_api) a request for an
# unknown path, answered 404 by the router.
if os.path.basename(exe) == "order_api":
    event = json.dumps({"resource": "/{proxy+}", "path": "/health", "httpMethod": "GET",
                        "headers": {}, "requestContext": {"httpMethod": "GET"}, "isBase64Encoded": False}).encode()
else:
    event = json.dumps({"Records": []}).encode()

class Api(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def do_GET(self):
        now = time.perf_counter()
        with lock:
            if state.first_next is None:
                state.first_next = now
            serve = state.served == 0
            state.served += 1
        if not serve:
            # Second poll after the first invocation: hold it (the process is killed anyway).
            time.sleep(5)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Lambda-Runtime-Aws-Request-Id", "req-1")
        self.send_header("Lambda-Runtime-Deadline-Ms", str(int(time.time() * 1000) + 30000))
        self.send_header("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:bench")
        self.send_header("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000")
        self.send_header("Content-Length", str(len(event)))
        self.end_headers()
        self.wfile.write(event)
    def do_POST(self):
        now = time.perf_counter()
        length = int(self.headers.get("Content-Length", 0))
        body = self.rfile.read(length) if length else b""
        with lock:
            if state.response is None:
                state.response = (now, self.path, body)
        self.send_response(202)
        self.send_header("Content-Length", "0")
        self.end_headers()

class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    def handle_error(self, request, client_address):
        pass  # the killed process resets its held long poll


env = {
    "PATH": os.environ.get("PATH", ""),
    "AWS_LAMBDA_FUNCTION_NAME": "bench", "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128", "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/bench",
    "AWS_LAMBDA_LOG_STREAM_NAME": "bench", "AWS_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
    # Everything any handler requires (names from contracts' env module).
    "ORDERS_TABLE": "t", "INVENTORY_TABLE": "t", "PAYMENTS_TABLE": "t", "SHIPMENTS_TABLE": "t",
    "EVENT_BUS_NAME": "bus", "CUSTOMER_NOTIFICATION_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:c",
    "OPS_ALERT_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:o",
    "REDRIVE_QUEUE_URL": "http://127.0.0.1:1/q", "AWS_LAMBDA_LOG_FORMAT": "Text",
}
ready, first = [], []
for i in range(runs):
    state.first_next, state.response, state.served = None, None, 0
    # A fresh Runtime API per run: a late long poll of the previous (killed) process cannot
    # disturb this one.
    server = Server(("127.0.0.1", 0), Api)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env["AWS_LAMBDA_RUNTIME_API"] = f"127.0.0.1:{server.server_address[1]}"
    t0 = time.perf_counter()
    proc = subprocess.Popen([exe], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = t0 + 10
    while (state.first_next is None or state.response is None) and time.perf_counter() < deadline:
        if proc.poll() is not None:
            sys.exit(f"{exe} exited with {proc.returncode} before answering")
        time.sleep(0.0002)
    proc.kill(); proc.wait()
    server.shutdown(); server.server_close()
    if state.first_next is None or state.response is None:
        sys.exit(f"no request within 10 s: first_next={state.first_next} response={state.response} served={state.served}")
    path, body = state.response[1], state.response[2]
    if not path.endswith("/response"):
        sys.exit(f"the first invocation failed: {path} {body[:300]!r}")
    ready.append((state.first_next - t0) * 1000)
    first.append((state.response[0] - t0) * 1000)

def fmt(xs):
    xs = sorted(xs)
    return f"min {xs[0]:.2f} ms, median {statistics.median(xs):.2f} ms, max {xs[-1]:.2f} ms"
stripped = exe + ".stripped"
try:
    subprocess.run(["strip", "-o", stripped, exe], check=True)
    stripped_size = f", {os.path.getsize(stripped) / 1e6:.2f} MB stripped"
    os.remove(stripped)
except Exception:
    stripped_size = ""
print(f"binary: {exe} ({size / 1e6:.2f} MB{stripped_size})")
print(f"runs: {runs}")
print(f"process start -> first GET /next (ready):        {fmt(ready)}")
print(f"process start -> first invocation answered:      {fmt(first)}")
print(f"first answer: {body[:120].decode(errors='replace')}")
PY
