"""Entry point of a Python instance started as a fresh interpreter (no zygote).

`python3 modelfn_bootstrap.py` puts this folder first on sys.path; it is taken off again before
the function's code is imported, so a module of the bundle can never be shadowed by ours.
"""

import time

_BEGAN = time.time()

import os  # noqa: E402
import sys  # noqa: E402

_HERE = os.path.dirname(os.path.abspath(__file__))

import modelfn_runtime  # noqa: E402  (needs this folder on sys.path, once)

sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]

if __name__ == "__main__":
    sys.exit(modelfn_runtime.main(began=_BEGAN))
