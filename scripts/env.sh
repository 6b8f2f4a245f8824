# Sourced by every Skipwise script: one place that decides where tools and build caches live and
# which compiler builds which target. Never run directly.
#
# Build output and installed tools live outside the clone, so a fresh clone on the same machine
# reuses them; nothing depends on them being there.
SKIPWISE_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SKIPWISE_CACHE=${SKIPWISE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/skipwise}
SKIPWISE_TOOLS=$SKIPWISE_CACHE/tools
# The exact versions the build needs; wasm-bindgen must equal the one in Cargo.lock.
TRUNK_VERSION=0.21.14
WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/[^0-9.]/,""); print; exit}' "$SKIPWISE_ROOT/Cargo.lock")
PLAYWRIGHT_DIR=$SKIPWISE_ROOT/tests/e2e
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp}
export CARGO_TERM_COLOR=never

# Native builds: rustup's stable toolchain (burn 0.22 needs >= 1.95).
native_env() {
  export CARGO_TARGET_DIR=$SKIPWISE_CACHE/target-native
  export PATH=$SKIPWISE_TOOLS/bin:$PATH
  unset RUSTC_BOOTSTRAP
}

# wasm32 builds: Debian's rustc-web, which has std's sources. Every wasm call must carry both
# PATH and RUSTC_BOOTSTRAP: one call without them in the same target dir rebuilds everything.
wasm_env() {
  export CARGO_TARGET_DIR=$SKIPWISE_CACHE/target-wasm
  export PATH=/usr/bin:$SKIPWISE_TOOLS/bin:$PATH
  export RUSTC_BOOTSTRAP=1
  export TRUNK_OFFLINE=true
}
