# Shared by scripts/dev, scripts/test and scripts/bench: install what is missing, quickly
# skip what is there, start test services. Source it.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CARGO_LEPTOS_VERSION="0.3.10"

# A free TCP port on loopback, for servers that must be told their port (redis-server).
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

log() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

APT_UPDATED=0
apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing ${missing[*]} (apt)"
  if [ "$APT_UPDATED" -eq 0 ]; then
    as_root apt-get update -qq
    APT_UPDATED=1
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

ensure_wasm_target() {
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    log "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  fi
}

ensure_cargo_leptos() {
  if cargo leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then
    return 0
  fi
  log "installing cargo-leptos $CARGO_LEPTOS_VERSION (no_downloads; ~20 min on 2 cores, once)"
  cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked --features no_downloads
}

# cargo-leptos (no_downloads) takes wasm-bindgen from PATH; it must match Cargo.lock exactly.
ensure_wasm_bindgen() {
  local wanted
  wanted="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock")"
  if wasm-bindgen --version 2>/dev/null | grep -qx "wasm-bindgen $wanted"; then
    return 0
  fi
  log "installing wasm-bindgen-cli $wanted (matches Cargo.lock)"
  # Not --locked: its lockfile pins a yanked webpki-roots release.
  cargo install wasm-bindgen-cli --version "$wanted"
}

ensure_rust_tools() {
  export PATH="$HOME/.cargo/bin:$PATH"
  ensure_wasm_target
  ensure_cargo_leptos
  ensure_wasm_bindgen
}

# The Python tools of the tests (tests/requirements.txt) in a venv at target/py; its
# interpreter is exported as TEST_PYTHON (tests/api/smtp.rs runs aiosmtpd with it).
ensure_python_tools() {
  local venv="$ROOT/target/py"
  apt_install python3-venv
  if [ ! -x "$venv/bin/python" ] || [ "$ROOT/tests/requirements.txt" -nt "$venv/.installed" ]; then
    log "installing the tests' Python tools into target/py (pip)"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$ROOT/tests/requirements.txt"
    touch "$venv/.installed"
  fi
  export TEST_PYTHON="$venv/bin/python"
}

# Starts a three-master Redis Cluster on free ports under "$1" (persistence on, as the
# app expects) and exports REDIS_CLUSTER_NODES. Stop it with stop_redis_cluster "$1".
start_redis_cluster() {
  local dir="$1" port ports=()
  for _ in 1 2 3; do
    port="$(free_port)"
    ports+=("$port")
    mkdir -p "$dir/cluster-$port"
    # The bus port is given too: the default (port + 10000) overflows above 55535.
    redis-server --port "$port" --bind 127.0.0.1 --daemonize yes \
      --cluster-enabled yes --cluster-port "$(free_port)" \
      --cluster-config-file nodes.conf --cluster-node-timeout 2000 \
      --dir "$dir/cluster-$port" --appendonly yes --save "" \
      --pidfile "$dir/cluster-$port/redis.pid" --logfile "$dir/cluster-$port/redis.log"
    # Up before the next free port is picked, so no two nodes are handed the same one.
    for _ in $(seq 1 100); do
      redis-cli -p "$port" ping 2>/dev/null | grep -q PONG && break
      sleep 0.1
    done
  done
  redis-cli --cluster create $(printf '127.0.0.1:%s ' "${ports[@]}") \
    --cluster-replicas 0 --cluster-yes >"$dir/cluster-create.log" 2>&1 \
    || { cat "$dir/cluster-create.log" >&2; echo "redis cluster did not form" >&2; return 1; }
  for _ in $(seq 1 100); do
    redis-cli -p "${ports[0]}" cluster info 2>/dev/null | grep -q 'cluster_state:ok' && break
    sleep 0.1
  done
  redis-cli -p "${ports[0]}" cluster info | grep -q 'cluster_state:ok' \
    || { echo "redis cluster is not ok" >&2; return 1; }
  REDIS_CLUSTER_NODES="$(printf 'redis://127.0.0.1:%s/,' "${ports[@]}")"
  export REDIS_CLUSTER_NODES="${REDIS_CLUSTER_NODES%,}"
  log "Redis Cluster on ports ${ports[*]}"
}

# Stops the cluster start_redis_cluster "$1" started (no-op if none).
stop_redis_cluster() {
  local pidfile pid pids=()
  for pidfile in "$1"/cluster-*/redis.pid; do
    [ -f "$pidfile" ] || continue
    pid="$(cat "$pidfile")"
    if kill "$pid" 2>/dev/null; then pids+=("$pid"); fi
  done
  # A node writes its files while it shuts down: wait for it, so the caller's rm -rf of
  # the directory does not race it ("Directory not empty" failed a test run).
  for pid in "${pids[@]}"; do
    for _ in $(seq 1 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.05
    done
  done
}
