#!/bin/bash
# make run: certificates, a collector-stub and one vpn-agent configured
# through its API by vpnctl; metrics flow at once. Ctrl-C stops everything.
# DEMO_SECONDS=N stops by itself after N seconds (for scripted checks).
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${BIN:-build}
DEMO=${DEMO:-build/demo}
COLLECTOR_PORT=${COLLECTOR_PORT:-50051}
COLLECTOR_HTTP=${COLLECTOR_HTTP:-127.0.0.1:9101}
API=${API:-127.0.0.1:9276}
METRICS=${METRICS:-127.0.0.1:9273}
INTERVAL=${INTERVAL:-60}

pids=()
cleanup() {
	trap - EXIT INT TERM
	echo
	echo "stopping: ${pids[*]:-}"
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	echo "stopped; logs and state kept in $DEMO/"
}
trap cleanup EXIT
trap 'exit 0' INT TERM

wait_for() { # what cmd...
	local what=$1; shift
	for _ in $(seq 1 100); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
	echo "run-demo: timed out waiting for $what" >&2
	exit 1
}

rm -rf "$DEMO"
mkdir -p "$DEMO"

"$BIN/vpn-agent" --state-dir "$DEMO/agent" --api-listen "$API" --metrics-listen "$METRICS" \
	>"$DEMO/agent.log" 2>&1 &
pids+=($!)
wait_for "the agent's API token" test -s "$DEMO/agent/api-token"
UUID=$(cat "$DEMO/agent/device-uuid")

certs/gen-certs.sh "$DEMO/certs" --device-uuid "$UUID" >/dev/null
"$BIN/collector-stub" --listen "127.0.0.1:$COLLECTOR_PORT" --certs "$DEMO/certs" \
	--interval "$INTERVAL" --metrics-listen "$COLLECTOR_HTTP" >"$DEMO/collector.log" 2>&1 &
pids+=($!)
wait_for "the collector-stub" curl -sf "http://$COLLECTOR_HTTP/api/devices"

export VPNCTL_API="http://$API" VPNCTL_TOKEN_FILE="$DEMO/agent/api-token"
ctl() { "$BIN/vpnctl" "$@"; }
json_id() { python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'; }
pem_object() { # name type certfile [keyfile]
	python3 - "$@" <<'EOF'
import json, sys
name, typ, cert = sys.argv[1:4]
o = {"name": name, "cert": open(cert).read(), "type": typ}
if len(sys.argv) > 4:
    o["privateKey"] = open(sys.argv[4]).read()
print(json.dumps(o))
EOF
}

NET=$(ctl post /object/networks \
	'{"name":"collector","subType":"HOST","value":"127.0.0.1","type":"networkobject"}' | json_id)
pem_object agent-cert internalcertificate "$DEMO/certs/client.crt" "$DEMO/certs/client.key" \
	>"$DEMO/internal-cert.json"
CERT=$(ctl post /object/internalcertificates "@$DEMO/internal-cert.json" | json_id)
rm -f "$DEMO/internal-cert.json"
pem_object collector-ca externalcacertificate "$DEMO/certs/ca.crt" >"$DEMO/ca-cert.json"
CA=$(ctl post /object/externalcacertificates "@$DEMO/ca-cert.json" | json_id)
ctl post /devicesettings/default/telemetrystreamingconfig "{
  \"name\": \"demo-telemetry\", \"connectionMode\": \"DIAL_OUT\", \"port\": $COLLECTOR_PORT,
  \"targetHost\": {\"id\": \"$NET\", \"name\": \"collector\", \"type\": \"networkobject\"},
  \"clientCertificate\": {\"id\": \"$CERT\", \"name\": \"agent-cert\", \"type\": \"internalcertificate\"},
  \"caCertificate\": {\"id\": \"$CA\", \"name\": \"collector-ca\", \"type\": \"externalcacertificate\"},
  \"type\": \"telemetrystreamingconfig\"}" >/dev/null

wait_for "the first metric batch at the collector" \
	grep -q "received metric batch" "$DEMO/collector.log"

cat <<EOF

  vpn-agent $UUID is streaming to the collector-stub (interval ${INTERVAL}s).

  Status:            $BIN/vpnctl --api http://$API --token-file $DEMO/agent/api-token show telemetry status
  Agent metrics:     curl http://$METRICS/metrics
  Collector metrics: curl http://$COLLECTOR_HTTP/metrics
  Collector log:     tail -f $DEMO/collector.log
  Agent log:         tail -f $DEMO/agent.log
  Change interval:   curl -X POST http://$COLLECTOR_HTTP/api/interval -d '{"interval":120}'

  Ctrl-C stops everything.
EOF
ctl show telemetry status || true

if [ -n "${DEMO_SECONDS:-}" ]; then
	sleep "$DEMO_SECONDS"
else
	while true; do sleep 3600; done
fi
