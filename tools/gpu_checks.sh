#!/usr/bin/env bash
# The CUDA checks of issue 23 (training, evaluation, prediction, the speed-ups against the
# official code, peak memory, fp16's effect on the metrics), as one run on a GPU machine; logs
# and JSON figures go to $OUT.
#
# Prepare here (the GPU image has torch, numba, opencv, scikit-image, typer, rich, tabulate but
# not mmengine or pymatting, and cannot download):
#   echo /.whl/ >> .git/info/exclude; echo /.aimref/ >> .git/info/exclude
#   pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#       --platform manylinux2014_x86_64 --platform any -d .whl \
#       mmengine-lite==0.10.7 addict yapf termcolor platformdirs pymatting isal
#   rm -f .whl/matbench-*.whl && pip wheel --no-deps -w .whl .      # this checkout, as a wheel
#   mkdir -p .aimref && cp -r <official AIM checkout>/core .aimref/     # for tools/official
# then run `tools/gpu_checks.sh` with .whl and .aimref carried. Each step has its own time limit
# and a failing step does not stop the others; the exit status says whether any failed.
set -u
OUT=${OUT:-gpu_out}
mkdir -p "$OUT"
SCRATCH=$(mktemp -d)
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target "$SCRATCH/site" .whl/*.whl || exit 1
export PYTHONPATH=$SCRATCH/site PYTHONUNBUFFERED=1 PATH=$SCRATCH/site/bin:$PATH
python3 -c "import matbench_aim, mmengine" || exit 1
if [ -d .aimref/core ]; then export AIM_REF=$PWD/.aimref; fi
failed=0
step() {  # step NAME SECONDS COMMAND...; STEPS="a b ..." runs only the steps named (a device call
          # lasts at most 10 minutes: run the script in two or three calls)
    local name=$1 limit=$2
    shift 2
    if [ -n "${STEPS:-}" ] && [[ " $STEPS " != *" $name "* ]]; then return 0; fi
    echo "=== $name"
    timeout "$limit" "$@" > "$OUT/$name.log" 2>&1 || { echo "FAILED ($?): $name"; failed=1; }
    tail -n 12 "$OUT/$name.log"
}
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
# GPU utilisation and memory once a second over the whole run (the steps' logs give the times)
nvidia-smi --query-gpu=timestamp,utilization.gpu,memory.used --format=csv -l 1 > "$OUT/gpu_utilisation.csv" 2>&1 &
monitor=$!
# every stage through `matbench train` on CUDA: smoke runs, kill -9 + resume, bf16 (the two-
# process test skips itself on a one-GPU machine)
step train_tests 240 python3 -m pytest -q -x -p no:cacheprovider tests/aim/test_training.py
step train_fp16_channels_last 90 matbench train configs/aimnet_smoke.py --amp fp16 --channels-last \
    --work-dir "$SCRATCH/smoke_fp16" --cfg-options train_cfg.max_iters=20
step bench_train 120 python3 tools/bench_train.py --amp fp16 --channels-last
step bench_train_loop 180 python3 tools/bench_train_loop.py \
    --stage matting --amp fp16 --channels-last --workers 4
for s in hybrid resize tiled; do     # the embedded set through each strategy on CUDA
    step "eval_$s" 90 matbench eval --strategy "$s" --random-weights --device cuda --work-dir "$SCRATCH/eval_$s"
    cp "$SCRATCH/eval_$s/results.json" "$OUT/eval_$s.json" 2>/dev/null
done
# every network of the model zoo through its default (official) procedure on CUDA (4 images of the
# embedded set, deterministic weights: a smoke test of the device path, not of accuracy)
for m in GFM P3MNet MODNet GCA MatteFormer IndexNet; do
    step "eval_zoo_$m" 120 matbench eval --model "$m" --random-weights --device cuda \
        --dataset-option indices=4 --no-report --work-dir "$SCRATCH/zoo_$m"
done
# the whole evaluation (inference + ten values) against test.py + evaluate.py on the same GPU,
# 48 images of 1200x1500; then fp16 autocast: its time and its largest change of each metric
step bench_eval_hybrid 240 python3 tools/bench_eval.py --images 48 --strategy hybrid --device cuda \
    --dir "$SCRATCH/bench" --json "$OUT/bench_eval_hybrid.json"
step bench_eval_hybrid_fp16 180 python3 tools/bench_eval.py --images 48 --strategy hybrid --device cuda \
    --amp fp16 --skip-official --repeat 1 --dir "$SCRATCH/bench" --json "$OUT/bench_eval_hybrid_fp16.json"
step predict 90 matbench predict "$SCRATCH/bench/1200x1500_48/data/image" --random-weights --device cuda \
    --strategy hybrid --out "$SCRATCH/predict"
# per-strategy inference time and peak GPU memory: 1.8 Mpx, 4K, 8K (tiled, hybrid)
step bench_inference 150 python3 tools/bench_inference.py --device cuda --sizes 1200x1500 2160x3840 4320x7680 \
    --strategies hybrid tiled --json "$OUT/bench_inference.json"
kill "$monitor" 2>/dev/null
exit $failed
