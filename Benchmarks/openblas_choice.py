"""Which OpenBLAS kernels ConvViz runs with in a benchmark, said out loud.

OpenBLAS picks its kernels for the CPU when it loads, unless OPENBLAS_CORETYPE names
some. A workplace may set that variable for everything (this one sets Haswell, the
AVX2 kernels, so that tests see the rounding most CI machines have). A user who has not
set it gets OpenBLAS's own choice: on an AVX-512 CPU its AVX-512 kernels (Cooperlake or
SkylakeX), as the peers (onnxruntime's MLAS, PyTorch's oneDNN and MKL) get theirs. So a
benchmark runs ConvViz with OpenBLAS's own choice unless told otherwise
(`--openblas-coretype Haswell`), and prints the kernels it ran.
"""
import argparse, os


def add_argument(parser: argparse.ArgumentParser):
    parser.add_argument("--openblas-coretype", default="auto",
                        help="OPENBLAS_CORETYPE for ConvViz (default auto: OpenBLAS's own choice for this CPU, "
                             "whatever the environment says; e.g. Haswell for the AVX2 kernels)")


def environment(coretype: str) -> dict:
    """The environment for a convviz child process."""
    env = dict(os.environ)
    env.pop("OPENBLAS_CORETYPE", None)
    if coretype != "auto":
        env["OPENBLAS_CORETYPE"] = coretype
    return env
