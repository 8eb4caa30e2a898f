#!/usr/bin/env bash
# Create or reuse the project's virtual environment and install the pinned stack.
#
#   bash tools/setup_env.sh              # idempotent; fast when nothing changed
#   bash tools/setup_env.sh --print-plan # print the mmcv build plan, install nothing
#
# Environment variables:
#   MMMTL_VENV       virtual environment folder        (default: <repo>/.venv)
#   MMMTL_CACHE      cache for the compiled mmcv wheel (default: ~/.cache/mmmtl)
#   PYTHON           interpreter used to create the venv (default: python3)
#   MMMTL_CUDA       auto (default): build mmcv's CUDA ops when `nvcc` is found
#                    and PyTorch sees a GPU; 1: build them without a visible GPU
#                    (needs nvcc and TORCH_CUDA_ARCH_LIST); 0: CPU ops only
#   TORCH_CUDA_ARCH_LIST  GPU architectures to compile for (default: those of
#                    the visible GPUs, e.g. "9.0" on an H100)
#   MAX_JOBS         parallel compile jobs (default: number of cores)
#   MMMTL_PROGRESS_INTERVAL  seconds between progress lines of the mmcv build (30)
#
# mmcv 2.1.0 has no wheel for this torch, so it is compiled once (7 to 22
# minutes on 2 cores for the CPU ops, depending on load; 6 minutes on 16
# cores with the CUDA ops for one architecture) and the wheel is cached
# under a name that contains the exact torch version -- plus, for a CUDA build,
# PyTorch's CUDA version and the architectures -- so a wheel built against one
# torch is never reused with another (pip's own cache keys wheels by the
# source archive only):
#   CPU ops:  $MMMTL_CACHE/wheels/torch-<version>/
#   CUDA ops: $MMMTL_CACHE/wheels/torch-<version>-cu<cuda>-sm<archs>/
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${MMMTL_VENV:-$ROOT/.venv}"
CACHE="${MMMTL_CACHE:-$HOME/.cache/mmmtl}"
PYTHON="${PYTHON:-python3}"
MMCV_VERSION="2.1.0"

log() { echo "[setup_env] $*" >&2; }

# "1 min 05 s" from a number of seconds.
fmt_elapsed() { printf '%d min %02d s' $(($1 / 60)) $(($1 % 60)); }

# Run a command in the background and print a progress line every
# MMMTL_PROGRESS_INTERVAL seconds: elapsed time and, when a build folder and a
# total are given, how many object files exist so far.
#   run_with_progress LABEL BUILD_DIR TOTAL_OBJECTS CMD...
run_with_progress() {
    local label="$1" build_dir="$2" total="$3"
    shift 3
    local interval="${MMMTL_PROGRESS_INTERVAL:-30}" start=$SECONDS pid status
    "$@" &
    pid=$!
    while kill -0 "$pid" 2>/dev/null; do
        local waited=0
        while ((waited < interval)) && kill -0 "$pid" 2>/dev/null; do
            sleep 1
            waited=$((waited + 1))
        done
        kill -0 "$pid" 2>/dev/null || break
        local objects=""
        if [[ -d "$build_dir" && "$total" -gt 0 ]]; then
            objects=", $(find "$build_dir" -name '*.o' 2>/dev/null | wc -l)/$total objects compiled"
        fi
        log "$label: $(fmt_elapsed $((SECONDS - start))) elapsed$objects"
    done
    status=0
    wait "$pid" || status=$?
    log "$label: finished in $(fmt_elapsed $((SECONDS - start))) (exit status $status)"
    return "$status"
}

# What PyTorch in the venv reports: "<torch version> <cuda version or none>
# <number of visible GPUs> <capabilities of the GPUs, comma separated>".
torch_query() {
    "$VENV/bin/python" - <<'EOF'
import torch
cuda = torch.version.cuda or 'none'
count = torch.cuda.device_count() if torch.cuda.is_available() else 0
caps = sorted({'%d.%d' % torch.cuda.get_device_capability(i) for i in range(count)})
print(torch.__version__.split('+')[0], cuda, count, ','.join(caps) or 'none')
EOF
}

# Decide the mmcv build from MMMTL_CUDA, nvcc and torch_query's answer.
# Sets BUILD (cpu|cuda), WHY, ARCHS (e.g. "8.0;9.0"), TORCH and WHEEL_DIR.
plan_mmcv_build() {
    local torch_ver torch_cuda gpus caps nvcc_path sm
    read -r torch_ver torch_cuda gpus caps <<<"$(torch_query)"
    nvcc_path="$(command -v nvcc || true)"
    if [[ -z "$nvcc_path" && -n "${CUDA_HOME:-}" && -x "${CUDA_HOME}/bin/nvcc" ]]; then
        nvcc_path="$CUDA_HOME/bin/nvcc"
    fi
    local mode="${MMMTL_CUDA:-auto}"
    BUILD=cpu
    ARCHS=""
    case "$mode" in
        0) WHY="MMMTL_CUDA=0" ;;
        1|auto)
            if [[ "$torch_cuda" == none ]]; then
                WHY="this torch has no CUDA support"
            elif [[ -z "$nvcc_path" ]]; then
                WHY="no nvcc on PATH or in \$CUDA_HOME/bin"
            elif [[ "$mode" == auto && "$gpus" -eq 0 ]]; then
                WHY="nvcc found but PyTorch sees no GPU; MMMTL_CUDA=1 builds the CUDA ops anyway"
            else
                BUILD=cuda
                WHY="nvcc at $nvcc_path, $gpus GPU(s) visible, torch built with CUDA $torch_cuda"
            fi ;;
        *) log "MMMTL_CUDA must be auto, 0 or 1, got '$mode'"; return 1 ;;
    esac
    TORCH="$torch_ver"
    WHEEL_DIR="$CACHE/wheels/torch-$torch_ver"
    [[ "$BUILD" == cuda ]] || return 0
    if [[ -n "${TORCH_CUDA_ARCH_LIST:-}" ]]; then
        ARCHS="$TORCH_CUDA_ARCH_LIST"
    elif [[ "$caps" != none ]]; then
        ARCHS="${caps//,/;}"
    else
        log "MMMTL_CUDA=1 and no visible GPU: set TORCH_CUDA_ARCH_LIST (e.g. 9.0)"
        return 1
    fi
    # "8.0;9.0+PTX" -> "80-90ptx"
    sm="$(echo "$ARCHS" | tr -d ' .+' | tr ';,' '--' | tr '[:upper:]' '[:lower:]')"
    WHEEL_DIR="$CACHE/wheels/torch-$torch_ver-cu${torch_cuda//./}-sm$sm"
}

print_plan() {
    echo "mmcv build: $BUILD ($WHY)"
    echo "TORCH_CUDA_ARCH_LIST: ${ARCHS:-none}"
    echo "wheel cache: $WHEEL_DIR"
}

torch_version() { sed -n 's/^torch==\(.*\)$/\1/p' "$ROOT/requirements/torch.txt"; }

# Everything that decides what gets installed; the stamp is its hash.
stamp_of() {
    cat "$ROOT"/requirements/*.txt "$ROOT/setup.py" "$ROOT/tools/setup_env.sh" \
        | sha256sum | cut -c1-16
}

mmcv_ok() {
    "$VENV/bin/python" - <<EOF 2>/dev/null
import mmcv, torch
from mmcv.ops import point_sample  # noqa: F401  (needs the compiled ops)
assert mmcv.__version__ == "$MMCV_VERSION", mmcv.__version__
assert torch.__version__.split("+")[0] == "$TORCH", torch.__version__
if "$BUILD" == "cuda" and torch.cuda.is_available():
    from mmcv.ops import nms  # raises if the ops have no CUDA kernels
    boxes = torch.tensor([[0., 0., 2., 2.], [0., 0., 2., 2.1]], device="cuda")
    assert nms(boxes, torch.tensor([0.9, 0.8], device="cuda"), 0.5)[1].tolist() == [0]
EOF
}

build_mmcv_wheel() {
    local work src total
    work="$(mktemp -d)"
    trap 'rm -rf "$work"' RETURN
    "${PIP[@]}" download -q --no-deps --no-binary :all: --no-build-isolation \
        "mmcv==$MMCV_VERSION" -d "$work"
    tar -xzf "$work/mmcv-$MMCV_VERSION.tar.gz" -C "$work"
    src="$work/mmcv-$MMCV_VERSION"
    # torch >= 2.6 headers require C++20; mmcv hard-codes older standards.
    sed -i -e 's/-std=c++14/-std=c++20/g' -e 's/-std=c++17/-std=c++20/g' "$src/setup.py"
    # Sources mmcv's setup.py compiles (the objects the progress lines count).
    total=$(find "$src/mmcv/ops/csrc/pytorch" -maxdepth 1 -name '*.cpp' | wc -l)
    total=$((total + $(find "$src/mmcv/ops/csrc/pytorch/cpu" -name '*.cpp' | wc -l)))
    local -a build_env=(MMCV_WITH_OPS=1 MAX_JOBS="${MAX_JOBS:-$(nproc)}")
    if [[ "$BUILD" == cuda ]]; then
        total=$((total + $(find "$src/mmcv/ops/csrc/pytorch/cuda" -name '*.cu' -o -name '*.cpp' | wc -l)))
        build_env+=(FORCE_CUDA=1 TORCH_CUDA_ARCH_LIST="$ARCHS")
        log "building mmcv $MMCV_VERSION with CPU and CUDA ops (arch $ARCHS) against torch $TORCH (about 6 minutes on 16 cores for one arch)"
    else
        # mmcv's setup.py builds CUDA ops whenever torch sees a GPU: hide it.
        build_env+=(FORCE_CUDA=0 CUDA_VISIBLE_DEVICES=)
        log "building mmcv $MMCV_VERSION with ops against torch $TORCH (7 to 22 minutes on 2 cores, depending on load)"
    fi
    mkdir -p "$WHEEL_DIR"
    run_with_progress "step 3/5: compiling mmcv ops ($BUILD)" "$src/build" "$total" \
        env "${build_env[@]}" "${PIP[@]}" wheel -q --no-deps --no-build-isolation \
        -w "$work/dist" "$src"
    # Move into place only when complete, so a killed build leaves no bad wheel.
    local built
    built="$(ls "$work"/dist/mmcv-*.whl)"
    cp "$built" "$WHEEL_DIR/.partial.whl"
    mv "$WHEEL_DIR/.partial.whl" "$WHEEL_DIR/$(basename "$built")"
}

# Sourced (tests): define the functions only.
[[ "${BASH_SOURCE[0]}" == "$0" ]] || return 0

if [[ "${1:-}" == "--print-plan" ]]; then
    if ! "$VENV/bin/python" -c "import torch" 2>/dev/null; then
        log "--print-plan needs torch in $VENV (run bash tools/setup_env.sh first)"
        exit 1
    fi
    plan_mmcv_build
    print_plan
    exit 0
elif [[ $# -gt 0 ]]; then
    log "unknown argument '$1' (expected nothing or --print-plan)"
    exit 2
fi

STAMP_FILE="$VENV/.mmmtl-stamp"
STAMP="$(stamp_of)"
if [[ -f "$STAMP_FILE" && "$(cat "$STAMP_FILE")" == "$STAMP" ]]; then
    log "environment $VENV is up to date"
    exit 0
fi
SETUP_START=$SECONDS

if [[ ! -x "$VENV/bin/python" ]]; then
    log "step 1/5: creating virtual environment $VENV"
    "$PYTHON" -m venv "$VENV"
else
    log "step 1/5: reusing virtual environment $VENV"
fi
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check)
"${PIP[@]}" install -q --upgrade "pip>=23" "setuptools<80" wheel

log "step 2/5: installing torch (requirements/torch.txt)"
"${PIP[@]}" install -q -r "$ROOT/requirements/torch.txt"

plan_mmcv_build
if [[ "$TORCH" != "$(torch_version)" ]]; then
    log "torch $TORCH is installed but requirements/torch.txt pins $(torch_version)"
    exit 1
fi
log "mmcv build: $BUILD ($WHY)${ARCHS:+, TORCH_CUDA_ARCH_LIST=$ARCHS}"

if ! mmcv_ok; then
    if ! ls "$WHEEL_DIR"/mmcv-"$MMCV_VERSION"-*.whl >/dev/null 2>&1; then
        build_mmcv_wheel
    else
        log "step 3/5: reusing cached mmcv wheel from $WHEEL_DIR"
    fi
    "${PIP[@]}" install -q --no-deps "$WHEEL_DIR"/mmcv-"$MMCV_VERSION"-*.whl
    # mmcv's own runtime dependencies (minus opencv-python: we use headless).
    "${PIP[@]}" install -q addict packaging pillow pyyaml yapf
else
    log "step 3/5: mmcv $MMCV_VERSION with ops is already installed"
fi

log "step 4/5: installing runtime, test and optional requirements"
"${PIP[@]}" install -q -r "$ROOT/requirements/runtime.txt" -r "$ROOT/requirements/tests.txt" \
    -r "$ROOT/requirements/optional.txt" -r "$ROOT/requirements/torch.txt"
log "step 5/5: installing mmmtl in editable mode"
"${PIP[@]}" install -q --no-deps --no-build-isolation -e "$ROOT"
mmcv_ok || { log "mmcv with ops does not import after installation"; exit 1; }

echo "$STAMP" > "$STAMP_FILE"
log "environment ready: $VENV ($(fmt_elapsed $((SECONDS - SETUP_START))))"
