# Sourced by compare_training.sh and compare_inference.sh: the venv with torch (VENV),
# the release convviz (CV; CONVVIZ=path/to/convviz measures that binary instead of
# building one), a scratch directory (RUN, removed on exit), CIFAR-format data
# (CIFAR_DIR: a seeded synthetic set unless given), the two networks (NETS, DATA; VGG=ARCH.json
# puts another CIFAR-format network in the second place) and the thread count both
# frameworks use (THREADS, default 2).
source Benchmarks/ensure_venv.sh
make -s setup
if [ -z "${CONVVIZ:-}" ]; then swift build -c release --product convviz >&2; fi
CV=${CONVVIZ:-.build/release/convviz}
THREADS=${THREADS:-2}
RUN=$(mktemp -d)
trap 'rm -rf "$RUN"' EXIT
if [ -z "${CIFAR_DIR:-}" ]; then
  CIFAR_DIR=$RUN/cifar
  "$VENV/bin/python" Benchmarks/pytorch_peer.py synthetic-cifar "$CIFAR_DIR"
fi
VGG=${VGG:-Examples/vgg-cifar.json}
NETS=(small "$VGG")
DATA=(fashion-mnist "cifar10:$CIFAR_DIR")
# Multiply-adds per image of network $1, from convviz's shape table.
macs() { "$CV" shapes "$1" --format json | "$VENV/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["total_macs"])'; }
