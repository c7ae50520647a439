# Sourced by the benchmark scripts: makes sure Benchmarks/.venv has torch, safetensors
# and numpy (created with pip the first time) and sets VENV to it.
VENV=Benchmarks/.venv
if ! "$VENV/bin/python" -c "import torch, safetensors, numpy" 2>/dev/null; then
  echo "creating $VENV with torch, safetensors and numpy (one time)..." >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q torch safetensors numpy
fi
