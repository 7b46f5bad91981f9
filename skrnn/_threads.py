"""BLAS thread control around training and prediction.

The kernels' per-step products go through Numba's BLAS (SciPy's OpenBLAS)
while the hoisted GEMMs go through NumPy's own OpenBLAS.  Alternating
between two multi-threaded BLAS libraries makes their spinning worker
threads fight for the cores: on a 2-core machine an LSTM training step with
64-128 hidden units ran 2.5-3x slower than with one BLAS thread (measured in
benchmarks/bench_training_step.py).  Parallelism across fits belongs to
joblib (``n_jobs`` in GridSearchCV), which this also keeps from
oversubscribing.
"""

# Numba's np.dot calls SciPy's BLAS; load it now so the limit reaches it even
# in a first fit, whose kernels compile (and load it) inside the context.
import scipy.linalg  # noqa: F401
from threadpoolctl import ThreadpoolController

__all__ = ["single_threaded_blas"]

_controller = None


def single_threaded_blas():
    """Context manager limiting every loaded BLAS library to one thread.

    The controller scans the loaded libraries once (about 5 ms, which would
    dominate predicting one sequence if done per call) and is reused.
    """
    global _controller
    if _controller is None:
        _controller = ThreadpoolController()
    return _controller.limit(limits=1, user_api="blas")
