#!/usr/bin/env bash
# The etcdisc demo: sets up a fresh Debian 12 machine, builds the etcdisc CLI,
# starts a throwaway etcd (unless ETCD_HOSTS points at one), and shows real
# processes registering, being found, watched, killed and stopped.
# Cleans up after itself, also on Ctrl-C.
#
#   scripts/demo.sh            plain etcd
#   scripts/demo.sh --secure   etcd with TLS (a throwaway CA made with openssl)
#                              and authentication (users and roles as the
#                              README's "Secure etcd" says)
#   scripts/demo.sh --fleet    keeps the fleet page of `etcdisc fleet serve`
#                              running (http://127.0.0.1:8080/, or
#                              FLEET_LISTEN=HOST:PORT) with hosts coming and
#                              going, until Ctrl-C
set -euo pipefail
cd "$(dirname "$0")/.."
secure=false
fleet=false
case "${1:-}" in
  "") ;;
  --secure) secure=true ;;
  --fleet) fleet=true ;;
  *) echo "usage: $0 [--secure | --fleet]" >&2; exit 2 ;;
esac

scripts/setup.sh
build_dir=${BUILD_DIR:-build}
echo "demo: building the etcdisc CLI in $build_dir (a few minutes the first time)"
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build_dir" --target etcdisc_cli --parallel "$(nproc)" >/dev/null
etcdisc="$PWD/$build_dir/tools/etcdisc"
export PATH="$PWD/$build_dir/tools:$PATH"  # for the commands that `run` starts

work=$(mktemp -d /tmp/etcdisc-demo-XXXXXX)
pids=()
cleanup() {
  # Hosts first (SIGTERM: they revoke their leases), etcd last.
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill -TERM "${pids[i]}" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'echo; echo "demo: interrupted, cleaning up"; exit 130' INT TERM

bold=$'\e[1m'; dim=$'\e[2m'; reset=$'\e[0m'
[[ -t 1 ]] || { bold=""; dim=""; reset=""; }
step() { echo; echo "${bold}== $1${reset}"; shift; for line in "$@"; do echo "${dim}   $line${reset}"; done; }
run() {  # shows the command line (arguments with spaces quoted), then runs it
  local shown=() arg
  for arg in "$@"; do [[ $arg == *' '* ]] && arg="'$arg'"; shown+=("$arg"); done
  echo "${bold}\$ etcdisc ${shown[*]}${reset}"
  "$etcdisc" "$@"
}
# Waits until a file holds a line matching a pattern.
wait_for() { for _ in $(seq 1 100); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done; echo "demo: timed out waiting for '$2' in $1" >&2; return 1; }

# A CA and a server certificate for 127.0.0.1, in $work/tls.
make_certs() {
  local dir="$work/tls"
  mkdir -p "$dir"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
    -subj "/CN=etcdisc demo CA" -keyout "$dir/ca.key" -out "$dir/ca.pem" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -subj "/CN=etcd" -keyout "$dir/server.key" -out "$dir/server.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >"$dir/ext"
  openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
    -CAcreateserial -days 1 -extfile "$dir/ext" -out "$dir/server.pem" 2>/dev/null
}

# Users and roles: root, role registrar (readwrite on its prefixes), user
# app with it; then authentication on.
enable_auth() {
  local ctl=(env ETCDCTL_API=3 etcdctl --endpoints="$ETCD_HOSTS" --cacert="$work/tls/ca.pem")
  echo "root-$RANDOM$RANDOM" >"$work/root.pw"
  echo "app-$RANDOM$RANDOM" >"$work/app.pw"
  echo "${bold}\$ etcdctl role add registrar; role grant-permission registrar --prefix=true readwrite /services/ ...${reset}"
  "${ctl[@]}" role add registrar >/dev/null
  "${ctl[@]}" role grant-permission registrar --prefix=true readwrite /services/ >/dev/null
  "${ctl[@]}" role grant-permission registrar --prefix=true readwrite /service_infos/ >/dev/null
  "${ctl[@]}" role grant-permission registrar --prefix=true readwrite /clusters/ >/dev/null
  "${ctl[@]}" role grant-permission registrar --prefix=true readwrite /service_health/ >/dev/null
  "${ctl[@]}" user add "root:$(cat "$work/root.pw")" >/dev/null
  "${ctl[@]}" user grant-role root root >/dev/null
  "${ctl[@]}" user add "app:$(cat "$work/app.pw")" >/dev/null
  "${ctl[@]}" user grant-role app registrar >/dev/null
  "${ctl[@]}" auth enable >/dev/null
  echo "${bold}\$ etcdctl auth enable${reset}"
}

if [[ -z "${ETCD_HOSTS:-}" ]]; then
  port=$(( 20000 + RANDOM % 10000 )); peer=$(( port + 1 ))
  scheme=http; tls_flags=()
  if $secure; then
    make_certs
    scheme=https
    tls_flags=(--cert-file "$work/tls/server.pem" --key-file "$work/tls/server.key")
  fi
  step "Starting a throwaway etcd on $scheme://127.0.0.1:$port" "(data in $work, removed at the end)"
  /usr/bin/etcd --name demo --data-dir "$work/etcd" \
    --listen-client-urls "$scheme://127.0.0.1:$port" --advertise-client-urls "$scheme://127.0.0.1:$port" \
    --listen-peer-urls "http://127.0.0.1:$peer" --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
    --initial-cluster "demo=http://127.0.0.1:$peer" --logger zap --log-outputs "$work/etcd.log" \
    "${tls_flags[@]}" >/dev/null 2>&1 &
  pids=($! "${pids[@]}")
  export ETCD_HOSTS="$scheme://127.0.0.1:$port"
  if $secure; then export ETCD_CACERT="$work/tls/ca.pem"; fi
  for _ in $(seq 1 100); do "$etcdisc" services --timeout=200ms >/dev/null 2>&1 && break; sleep 0.1; done
  if $secure; then
    step "Securing it" "TLS with a throwaway CA; authentication on, with a registrar role for user app."
    enable_auth
    export ETCD_USER=app ETCD_PASSWORD_FILE="$work/app.pw"
    echo "   ETCD_HOSTS=$ETCD_HOSTS ETCD_CACERT=$ETCD_CACERT ETCD_USER=$ETCD_USER ETCD_PASSWORD_FILE=$ETCD_PASSWORD_FILE"
    echo "${bold}\$ ETCD_USER=nobody etcdisc services${reset}  (an unknown user is refused: exit 4)"
    code=0; out=$(ETCD_USER=nobody "$etcdisc" services 2>&1) || code=$?
    echo "$out" | sed "s/^/   /"
    echo "   exit $code"
  fi
fi
echo "demo: etcd at $ETCD_HOSTS"

# --fleet: services whose hosts come and go under a live fleet page.
fleet_hosts=()  # their pids, also in pids for the cleanup
fleet_host() {  # fleet_host SERVICE: one more host of SERVICE, in the background
  local n=$(( ${#fleet_hosts[@]} + 1 ))
  "$etcdisc" register "$1" --hostname="10.0.$(( n / 250 )).$(( n % 250 + 1 ))" \
    --ports=http=8080 --ttl=3s --health-interval=2s --health-retention=10m \
    >>"$work/fleet-hosts.log" 2>&1 &
  pids+=($!)
  fleet_hosts+=($!)
}
fleet_demo() {
  local listen=${FLEET_LISTEN:-127.0.0.1:8080}
  "$etcdisc" fleet serve --listen="$listen" >"$work/serve.log" 2>&1 &
  pids+=($!)
  wait_for "$work/serve.log" "serving the fleet at"
  for service in web web web api api db cache; do fleet_host "$service"; done
  echo
  echo "${bold}$(cat "$work/serve.log")${reset}"
  echo "   open it in a browser; hosts come and go every few seconds (Ctrl-C ends it)"
  echo "   also: curl -s http://$listen/api/fleet, curl -sN http://$listen/api/events, curl -s http://$listen/metrics"
  local services=(web api db cache) round=0
  while true; do
    sleep 6
    round=$(( round + 1 ))
    local victim=${fleet_hosts[$(( RANDOM % ${#fleet_hosts[@]} ))]}
    if kill -0 "$victim" 2>/dev/null; then
      if (( round % 2 )); then
        kill -TERM "$victim"; wait "$victim" 2>/dev/null || true
        echo "   stopped host process $victim (offline at once)"
      else
        kill -KILL "$victim"; wait "$victim" 2>/dev/null || true
        echo "   killed -9 host process $victim (offline after its 3 s TTL)"
      fi
    fi
    local service=${services[$(( RANDOM % ${#services[@]} ))]}
    fleet_host "$service"; echo "   a new host of $service registers"
  done
}
if $fleet; then
  trap 'exit 130' INT TERM  # also when the signal is not sent to the sleep
  fleet_demo
fi

register() {  # register NAME HOSTNAME PORTS: a host process in the background
  "$etcdisc" register web --hostname="$2" --ports="$3" --ttl=2s \
    --health-interval=1s >"$work/$1.log" 2>&1 &
  pids+=($!)
  eval "$1=$!"
  wait_for "$work/$1.log" registered
  sed "s/^/   [$1] /" "$work/$1.log"
}

step "Two hosts of service 'web' register" \
  "Each is its own process holding a lease with a 2 s TTL, refreshed every ~0.7 s."
register host1 10.0.0.1 http=8080
register host2 10.0.0.2 http=8080,https=8443

step "Finding them" "get reads every host of a service in one etcd round trip."
run get web
run get web --url=http --path=/health
run services

step "Picking hosts" "pick does what a client-side balancer in a program does: hosts in turn, or the host that owns a key."
run pick web --count=4
run pick web --hash-key=user-42

step "Watching 'web'" "watch prints hosts as they appear (new) and go (down); it runs from now on."
"$etcdisc" watch web > >(sed -u "s/^/   [watch] /") 2>&1 &
pids+=($!)
sleep 0.5

step "A third host joins"
register host3 10.0.0.3 http=9090
sleep 0.5

step "host1 is killed -9" "It cannot say goodbye: its lease expires within the 2 s TTL and watchers see it down."
{ kill -9 "$host1"; wait "$host1"; } 2>/dev/null || true
sleep 3

step "host2 stops gracefully (SIGTERM)" "It revokes its lease: watchers see it down at once."
kill -TERM "$host2"
wait_for "$work/host2.log" stopped
sed -n "/stopped/s/^/   [host2] /p" "$work/host2.log"
sleep 0.5

step "An api that needs web: etcdisc run" \
  "run waits for web, starts the command, keeps api registered while it runs, and takes it down as soon as it exits."
run run --wait=web --register=api --hostname=10.0.0.9 --ports=http=7070 -- \
  sh -c 'sleep 0.5; etcdisc get api; echo "(the command exits)"'
run get api || true

step "Three workers join cluster 'jobs'" \
  "Each holds a node id unique among the live members; a second process asking for a taken id is refused at once (exit 5)."
for i in 1 2 3; do
  "$etcdisc" cluster join jobs --node="worker$i" \
    --on-down='echo "$1 is down, $ETCDISC_MEMBERS are still up"' >"$work/worker$i.log" 2>&1 &
  pids+=($!)
  eval "worker$i=$!"
  wait_for "$work/worker$i.log" "worker$i"
done
run cluster members jobs
code=0; run cluster join jobs --node=worker2 || code=$?
echo "   exit $code"

step "worker3 is killed -9" \
  "Its lease runs out; every survivor sees it down, and one of them (a claim in etcd) runs the cleanup command, once for the cluster."
{ kill -9 "$worker3"; wait "$worker3"; } 2>/dev/null || true
for _ in $(seq 1 100); do
  grep -q "is down" "$work/worker1.log" "$work/worker2.log" && break
  sleep 0.1
done
grep -h "is down" "$work/worker1.log" "$work/worker2.log" | sed "s/^/   /"
run cluster members jobs

step "What is left"
run get web

step "The fleet" \
  "Every registration publishes its health (load, memory, its process's RSS and CPU)." \
  "Hosts that went (killed or stopped) stay listed as offline for the retention, 24 h by default."
run fleet

echo
echo "demo: done; stopping the remaining processes and etcd"
