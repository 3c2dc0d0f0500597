#!/usr/bin/env bash
# One-shot GPU session for issue #18: tools/gpu_check.py on CUDA under a time limit; the JSON, the table, the log and
# nvidia-smi's report land in $OUT (where the device tool returns files from). Usage: OUT=DIR tools/gpu_session.sh [LIMIT_S]
# The device image lacks clipdepth's pure-Python needs; fetch them once here, beside the repository root, and carry .whl:
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --platform manylinux2014_x86_64 -d .whl \
#     open_clip_torch==3.3.0 fastcore==1.14.5 ftfy==6.3.1 wcwidth==0.9.4
# then run, e.g.: device run, carry ['.whl'], command 'tools/gpu_session.sh 540', timeout_s 600.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:?set OUT to the folder for the results}; limit=${1:-540}
if ls .whl/*.whl >/dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site .whl/*.whl || exit 1
  export PYTHONPATH=/tmp/site
fi
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1
nvidia-smi > "$out/nvidia-smi.txt" 2>&1
timeout -k 10 "$limit" python3 tools/gpu_check.py --device cuda --work "${WORK:-/tmp}" --out "$out/gpu_check.json" \
  > "$out/gpu_check.txt" 2> "$out/gpu_check.log"
rc=$?
cat "$out/gpu_check.txt"; tail -n 30 "$out/gpu_check.log"
echo "gpu_check exit status $rc (124: stopped at the $limit s limit; the JSON holds the stages that had finished)"
exit $rc
