#!/usr/bin/env bash
# Two figures of `cargo cfn local`, warm (the first run builds the handlers and is not counted):
# 1. time to ready: the app synthesized, the handlers' build checked, moto started, everything provisioned,
#    every function process started, the APIs listening (the "started in" line), then Ctrl-C (SIGINT);
# 2. an order end to end, when the app serves the order API: from the POST /orders to the order's final state
#    (SHIPPED or CANCELLED) as GET /orders/{id} answers it, polled every 10 ms, ORDERS orders per run, one at a
#    time, after a product is stocked through the local AWS endpoint.
#
# Usage: local/bench.sh [RUNS] [-- LOCAL_ARGS...]   (default: 3 runs of the order flow's stacks)
#   local/bench.sh 5 -- --assembly cfnkit.out Order     (an existing assembly, one stack and its imports)
#   ORDERS=20 local/bench.sh 1
set -euo pipefail
cd "$(dirname "$0")/.."
runs=3
if [[ $# -gt 0 && $1 != "--" ]]; then runs=$1; shift; fi
[[ ${1:-} == "--" ]] && shift
args=("$@")
[[ ${#args[@]} -eq 0 ]] && args=(Order Inventory Payment Shipping)
orders=${ORDERS:-5}

cargo build --quiet -p cfnkit-deploy --bin cargo-cfn
bin=$(pwd)/target/debug/cargo-cfn
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
log=$(mktemp)
pid=
# Whatever happens, the run under test is stopped (it stops moto and the handlers itself).
trap '[[ -n $pid ]] && kill -INT "$pid" 2>/dev/null; wait 2>/dev/null; rm -f "$log"' EXIT

start_run() {
  : >"$log"
  start=$(date +%s.%N)
  "$bin" local --port "$port" --api-port 0 --as-user bench "${args[@]}" >"$log" 2>&1 &
  pid=$!
  until grep -q '^started in' "$log"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "cargo cfn local ended before ready:" >&2
      cat "$log" >&2
      exit 1
    fi
    sleep 0.05
  done
  end=$(date +%s.%N)
}

stop_run() {
  kill -INT "$pid"
  wait "$pid" || true
  pid=
}

# Prints one end-to-end time per order, in seconds.
order_times() {
  local api
  api=$(grep -oE '^  API Order/[^ ]+ \(REST API\): \S+' "$log" | awk '{print $NF}') || return 0
  python3 - "http://127.0.0.1:$port" "$api" "$orders" <<'PY'
import json, sys, time, urllib.request

endpoint, api, n = sys.argv[1], sys.argv[2], int(sys.argv[3])

def aws(target, body):
    # moto and the local endpoint read the credential scope only; a caller that is no function is not IAM-checked.
    r = urllib.request.Request(endpoint, json.dumps(body).encode(), {
        "X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.0",
        "Authorization": "AWS4-HMAC-SHA256 Credential=bench/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0"})
    return json.load(urllib.request.urlopen(r))

def call(method, path, body=None):
    r = urllib.request.Request(api + path, body and json.dumps(body).encode(), {"content-type": "application/json"}, method=method)
    return json.load(urllib.request.urlopen(r))

table = next(t for t in aws("DynamoDB_20120810.ListTables", {})["TableNames"] if t.startswith("Inventory-"))
aws("DynamoDB_20120810.PutItem", {"TableName": table, "Item": {
    "pk": {"S": "PRODUCT#bench"}, "productId": {"S": "bench"}, "stock": {"N": "1000000"}}})
for _ in range(n):
    t0 = time.monotonic()
    order = call("POST", "/orders", {"customerId": "bench", "lines": [{"productId": "bench", "quantity": 1, "unitPriceCents": 100}]})
    while True:
        status = call("GET", "/orders/" + order["orderId"])["status"]
        if status in ("SHIPPED", "CANCELLED"):
            break
        if time.monotonic() - t0 > 30:
            sys.exit(f"order {order['orderId']} still {status} after 30 s")
        time.sleep(0.01)
    print(f"{time.monotonic() - t0:.3f} {status}")
PY
}

start_run
stop_run
echo "warm-up run (builds the handlers, not counted): $(python3 -c "print(f'{$end - $start:.2f}')") s"
grep -E '^ready:' "$log" | head -1
ready=()
e2e=()
for i in $(seq 1 "$runs"); do
  start_run
  t=$(python3 -c "print(f'{$end - $start:.2f}')")
  ready+=("$t")
  echo "run $i: ready in $t s; $(grep -o '^started in .*)' "$log")"
  while read -r secs status; do
    e2e+=("$secs")
    echo "  order: POST to $status in $secs s"
  done < <(order_times)
  stop_run
done
python3 - "${ready[*]}" "${e2e[*]:-}" <<'PY'
import statistics, sys
def line(what, values):
    t = [float(x) for x in values.split()]
    if t:
        print(f"{what}: median {statistics.median(t):.2f} s, min {min(t):.2f} s, max {max(t):.2f} s over {len(t)}")
line("cargo cfn local to ready, warm", sys.argv[1])
line("an order from POST to its final state", sys.argv[2])
PY
