#!/usr/bin/env bash
# Train on a Slurm cluster: one task per GPU (or per CPU process), any number
# of nodes. Usage:
#   [GPUS=16] [GPUS_PER_NODE=8] [CPUS_PER_TASK=5] [SRUN_ARGS="..."] \
#   bash tools/slurm_train.sh PARTITION JOB_NAME CONFIG [WORK_DIR] [train.py args]
# CPU-only partitions: set GPUS_PER_NODE=0 (no --gres request); tools/train.py
# then uses gloo. See docs/en/user_guides/distributed.md.
set -euo pipefail

if [ $# -lt 3 ]; then
    echo "usage: bash $0 PARTITION JOB_NAME CONFIG [WORK_DIR] [train.py args]" >&2
    exit 2
fi
PARTITION=$1
JOB_NAME=$2
CONFIG=$3
shift 3
WORK_DIR_ARGS=()
if [ $# -gt 0 ] && [[ "$1" != -* ]]; then
    WORK_DIR_ARGS=(--work-dir "$1")
    shift
fi
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
SRUN_ARGS=${SRUN_ARGS:-""}
GRES_ARGS=()
if [ "$GPUS_PER_NODE" -gt 0 ]; then
    GRES_ARGS=(--gres=gpu:"$GPUS_PER_NODE")
    TASKS_PER_NODE=${TASKS_PER_NODE:-$GPUS_PER_NODE}
else
    # CPU nodes: one process per node unless TASKS_PER_NODE says otherwise
    TASKS_PER_NODE=${TASKS_PER_NODE:-1}
fi
REPO="$(cd "$(dirname "$0")/.." && pwd)"
source "$REPO/tools/python_env.sh"

PYTHONPATH="$REPO":${PYTHONPATH:-} \
srun -p "$PARTITION" \
    --job-name="$JOB_NAME" \
    "${GRES_ARGS[@]}" \
    --ntasks="$GPUS" \
    --ntasks-per-node="$TASKS_PER_NODE" \
    --cpus-per-task="$CPUS_PER_TASK" \
    --kill-on-bad-exit=1 \
    $SRUN_ARGS \
    "$PYTHON" -u "$REPO/tools/train.py" "$CONFIG" "${WORK_DIR_ARGS[@]}" \
    --launcher slurm "$@"
