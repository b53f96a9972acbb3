"""One BLAS thread for the model tests, as ``python -m sweepgui.model`` uses.

The model's matrices are ~100 x 100: OpenBLAS threads only spin against each other, and on a
busy 2-core machine they made these tests 2.5x slower. This only takes effect if numpy is not
imported yet when this folder is collected (the suite-wide place is tests/conftest.py).
"""

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
