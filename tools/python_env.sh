#!/usr/bin/env bash
# Sourced by tools/dist_*.sh and tools/slurm_*.sh: sets PYTHON to the
# interpreter that runs the tools, so the scripts work without activating
# an environment. The first that applies:
#   1. $PYTHON, if set (e.g. PYTHON=/opt/envs/mtl/bin/python);
#   2. the activated virtual environment ($VIRTUAL_ENV) or conda
#      environment ($CONDA_PREFIX) the script was started from;
#   3. the repository's .venv (what `make env` creates);
#   4. python3 on the PATH.
_MMMTL_REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ -z "${PYTHON:-}" ]; then
    if [ -n "${VIRTUAL_ENV:-}" ] && [ -x "$VIRTUAL_ENV/bin/python" ]; then
        PYTHON="$VIRTUAL_ENV/bin/python"
    elif [ -n "${CONDA_PREFIX:-}" ] && [ -x "$CONDA_PREFIX/bin/python" ]; then
        PYTHON="$CONDA_PREFIX/bin/python"
    elif [ -x "$_MMMTL_REPO/.venv/bin/python" ]; then
        PYTHON="$_MMMTL_REPO/.venv/bin/python"
    else
        PYTHON=python3
    fi
fi
