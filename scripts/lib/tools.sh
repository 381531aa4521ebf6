# Shared by scripts/dev and scripts/test: install what is missing, quickly skip what is
# there. Source it; every function is idempotent.

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
