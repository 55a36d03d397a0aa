#!/usr/bin/env bash
# Multi-process (multi-GPU) training with torchrun:
#   tools/dist_train.sh CONFIG NPROC [matbench train options...]
# On a machine without CUDA the processes talk over gloo (CPU), which is how CI tests it.
set -euo pipefail
CONFIG=$1
NPROC=$2
shift 2
exec torchrun --nnodes=1 --nproc_per_node="$NPROC" --master_port="${PORT:-29500}" \
    -m matbench.cli train "$CONFIG" --launcher pytorch "$@"
