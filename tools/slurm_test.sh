#!/usr/bin/env bash
# Evaluate on a Slurm cluster (dataset sharded over the tasks; metrics are
# exact, see docs/en/user_guides/distributed.md). Usage:
#   [GPUS=8] [GPUS_PER_NODE=8] [CPUS_PER_TASK=5] [SRUN_ARGS="..."] \
#   bash tools/slurm_test.sh PARTITION JOB_NAME CONFIG CHECKPOINT [test.py args]
set -euo pipefail

if [ $# -lt 4 ]; then
    echo "usage: bash $0 PARTITION JOB_NAME CONFIG CHECKPOINT [test.py args]" >&2
    exit 2
fi
PARTITION=$1
JOB_NAME=$2
CONFIG=$3
CHECKPOINT=$4
shift 4
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
    "$PYTHON" -u "$REPO/tools/test.py" "$CONFIG" "$CHECKPOINT" \
    --launcher slurm "$@"
