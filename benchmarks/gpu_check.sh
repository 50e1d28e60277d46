#!/usr/bin/env bash
# The prepared GPU check of issue 18: the tox -e vllm tests, cases/s of the vLLM and transformers backends on 64
# ct_tumor cases (random-weight full-size Qwen2.5-VL-3B, fixed output length), the harness overhead, 5 GRPO steps
# with use_vllm colocate on the tiny model; every figure in one JSON file (README: "The GPU check").
#
#   bash benchmarks/gpu_check.sh                     # on one CUDA GPU, offline, about 8 minutes
#   bash benchmarks/gpu_check.sh --dry-run --out /tmp/gpu_check.json    # the plumbing, on CPU
#   bash benchmarks/gpu_check.sh --help              # every option (wheelhouse, interpreters, budget)
#
# PYTHON picks the interpreter that runs the check [.venv/bin/python if there, else python3]. A part that cannot
# run (no CUDA GPU, vLLM not installed) is recorded as "not run: <reason>"; the others still run.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [[ -z "${PYTHON:-}" ]]; then
    if [[ -x "$root/.venv/bin/python" ]]; then PYTHON="$root/.venv/bin/python"; else PYTHON=python3; fi
fi
# offline: nothing may reach the network
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1 TOKENIZERS_PARALLELISM=false \
    WANDB_DISABLED=true VLLM_NO_USAGE_STATS=1 DO_NOT_TRACK=1
cd "$root"
exec "$PYTHON" benchmarks/gpu_check.py "$@"
