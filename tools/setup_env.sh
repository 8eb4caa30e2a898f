#!/usr/bin/env bash
# Create or reuse the project's virtual environment and install the pinned stack.
#
#   bash tools/setup_env.sh            # idempotent; fast when nothing changed
#
# Environment variables:
#   MMMTL_VENV       virtual environment folder        (default: <repo>/.venv)
#   MMMTL_CACHE      cache for the compiled mmcv wheel (default: ~/.cache/mmmtl)
#   PYTHON           interpreter used to create the venv (default: python3)
#
# mmcv 2.1.0 has no wheel for this torch, so it is compiled once (about 7
# minutes on 2 cores) and the wheel is cached under a name that contains the
# exact torch version, so a wheel built against one torch is never reused with
# another (pip's own cache keys wheels by the source archive only).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${MMMTL_VENV:-$ROOT/.venv}"
CACHE="${MMMTL_CACHE:-$HOME/.cache/mmmtl}"
PYTHON="${PYTHON:-python3}"
MMCV_VERSION="2.1.0"

log() { echo "[setup_env] $*" >&2; }

torch_version() { sed -n 's/^torch==\(.*\)$/\1/p' "$ROOT/requirements/torch.txt"; }

# Everything that decides what gets installed; the stamp is its hash.
stamp_of() {
    cat "$ROOT"/requirements/*.txt "$ROOT/setup.py" "$ROOT/tools/setup_env.sh" \
        | sha256sum | cut -c1-16
}

STAMP_FILE="$VENV/.mmmtl-stamp"
STAMP="$(stamp_of)"
if [[ -f "$STAMP_FILE" && "$(cat "$STAMP_FILE")" == "$STAMP" ]]; then
    log "environment $VENV is up to date"
    exit 0
fi

if [[ ! -x "$VENV/bin/python" ]]; then
    log "creating virtual environment $VENV"
    "$PYTHON" -m venv "$VENV"
fi
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check)
"${PIP[@]}" install -q --upgrade "pip>=23" "setuptools<80" wheel

log "installing torch (requirements/torch.txt)"
"${PIP[@]}" install -q -r "$ROOT/requirements/torch.txt"

TORCH="$(torch_version)"
WHEEL_DIR="$CACHE/wheels/torch-$TORCH"
mmcv_ok() {
    "$VENV/bin/python" - <<EOF 2>/dev/null
import mmcv, torch
from mmcv.ops import point_sample  # noqa: F401  (needs the compiled ops)
assert mmcv.__version__ == "$MMCV_VERSION", mmcv.__version__
assert torch.__version__.split("+")[0] == "$TORCH", torch.__version__
EOF
}

build_mmcv_wheel() {
    local work
    work="$(mktemp -d)"
    trap 'rm -rf "$work"' RETURN
    log "building mmcv $MMCV_VERSION with ops against torch $TORCH (about 7 minutes on 2 cores)"
    "${PIP[@]}" download -q --no-deps --no-binary :all: --no-build-isolation \
        "mmcv==$MMCV_VERSION" -d "$work"
    tar -xzf "$work/mmcv-$MMCV_VERSION.tar.gz" -C "$work"
    # torch >= 2.6 headers require C++20; mmcv hard-codes older standards.
    sed -i -e 's/-std=c++14/-std=c++20/g' -e 's/-std=c++17/-std=c++20/g' \
        "$work/mmcv-$MMCV_VERSION/setup.py"
    mkdir -p "$WHEEL_DIR"
    MMCV_WITH_OPS=1 MAX_JOBS="${MAX_JOBS:-$(nproc)}" "${PIP[@]}" wheel -q --no-deps \
        --no-build-isolation -w "$work/dist" "$work/mmcv-$MMCV_VERSION"
    # Move into place only when complete, so a killed build leaves no bad wheel.
    local built
    built="$(ls "$work"/dist/mmcv-*.whl)"
    cp "$built" "$WHEEL_DIR/.partial.whl"
    mv "$WHEEL_DIR/.partial.whl" "$WHEEL_DIR/$(basename "$built")"
}

if ! mmcv_ok; then
    if ! ls "$WHEEL_DIR"/mmcv-"$MMCV_VERSION"-*.whl >/dev/null 2>&1; then
        build_mmcv_wheel
    else
        log "reusing cached mmcv wheel from $WHEEL_DIR"
    fi
    "${PIP[@]}" install -q --no-deps "$WHEEL_DIR"/mmcv-"$MMCV_VERSION"-*.whl
    # mmcv's own runtime dependencies (minus opencv-python: we use headless).
    "${PIP[@]}" install -q addict packaging pillow pyyaml yapf
fi

log "installing runtime, test and optional requirements"
"${PIP[@]}" install -q -r "$ROOT/requirements/runtime.txt" -r "$ROOT/requirements/tests.txt" \
    -r "$ROOT/requirements/optional.txt" -r "$ROOT/requirements/torch.txt"
"${PIP[@]}" install -q --no-deps --no-build-isolation -e "$ROOT"
mmcv_ok || { log "mmcv with ops does not import after installation"; exit 1; }

echo "$STAMP" > "$STAMP_FILE"
log "environment ready: $VENV"
