"""Threads, the fused kernel in pure Python, the fallback without numba, and Ctrl-C (issues 10, 14, 15).

Nothing here is timed: speed is measured by ``benchmarks/bench_cmeans.py``.
"""

import json
import subprocess
import sys
import textwrap
import threading
import warnings

import numpy as np
import pytest
from sklearn.datasets import make_blobs
from threadpoolctl import threadpool_info

from hyperspy_cmeans.cmeans import (
    HAVE_NUMBA,
    GustafsonKessel,
    Possibilistic,
    Probabilistic,
    _fused,
    _kernels,
)
from hyperspy_cmeans.cmeans._parallel import WorkerPool, resolve_n_jobs

_NEEDS_NUMBA = pytest.mark.skipif(not HAVE_NUMBA, reason="numba not installed")
BACKENDS = ["numpy", pytest.param("numba", marks=_NEEDS_NUMBA)]
ESTIMATORS = [Probabilistic, Possibilistic, GustafsonKessel]
COINCIDENT = "ignore:Possibilistic.*converged onto the same centre:UserWarning"


@pytest.fixture(scope="module")
def data():
    """40k samples in 3-D, 4 overlapping blobs: several blocks for both backends."""
    return make_blobs(40_000, n_features=3, centers=4, cluster_std=2.0, random_state=3)[0]


def fitted_state(est):
    """The fitted attributes (trailing underscore) of an estimator."""
    return {k: v for k, v in vars(est).items() if k.endswith("_")}


def assert_same_state(a, b):
    sa, sb = fitted_state(a), fitted_state(b)
    assert sa.keys() == sb.keys()
    for key in sa:
        np.testing.assert_array_equal(sa[key], sb[key], err_msg=key)


# ---------------------------------------------------------------------- threads
@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("init_size", [None, 5000], ids=["starts-on-all", "subsample"])
@pytest.mark.filterwarnings(COINCIDENT)
def test_parallel_starts_equal_serial_starts(data, cls, backend, init_size):
    """n_jobs = 1, 2 or 3 threads: bit-identical fits for a given random_state."""
    kw = {"n_init": 3, "random_state": 0, "init_size": init_size, "backend": backend}
    serial = cls(4, n_jobs=1, **kw).fit(data)
    for n_jobs in (2, 3):
        assert_same_state(serial, cls(4, n_jobs=n_jobs, **kw).fit(data))
    np.testing.assert_array_equal(
        serial.predict_membership(data), cls(4, n_jobs=2, **kw).fit(data).memberships_
    )


@pytest.mark.parametrize("backend", BACKENDS)
def test_subsampled_starts_reach_the_full_data_partition(data, backend):
    """Starts on 5000 of 40k samples, refined on all: same partition as starts on all."""
    full = GustafsonKessel(4, n_init=4, init_size=None, random_state=0, backend=backend)
    sub = GustafsonKessel(4, n_init=4, init_size=5000, random_state=0, backend=backend)
    full.fit(data)
    sub.fit(data)
    order = np.argmin(_kernels.sq_distances(full.cluster_centers_, sub.cluster_centers_), axis=1)
    assert sorted(order) == [0, 1, 2, 3]
    np.testing.assert_allclose(sub.cluster_centers_[order], full.cluster_centers_, atol=1e-3)
    np.testing.assert_allclose(sub.objective_, full.objective_, rtol=1e-6)


def test_parallel_starts_keep_few_membership_arrays():
    """Starts on all samples in 2 threads: the finished starts' arrays are freed as they end."""
    import tracemalloc

    rng = np.random.default_rng(0)
    n, c = 200_000, 4
    X = rng.normal(size=(n, 3)) + np.repeat(rng.normal(scale=6, size=(4, 3)), n // 4, axis=0)
    est = Probabilistic(c, n_init=8, max_iter=3, init_size=None, n_jobs=2, backend="numpy")
    tracemalloc.start()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est.fit(X)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # two running starts, the best so far, one just finished, and the NumPy chunks
    # (measured 37 MB; keeping every start's memberships took 66 MB)
    assert peak < 5 * n * c * 8 + 16 * 2**20


def test_pool_returns_results_in_order_and_propagates_errors():
    """WorkerPool.run keeps the order of the tasks; a task's exception reaches the caller."""
    with WorkerPool(2) as pool:
        assert pool.run([lambda i=i: i * i for i in range(7)]) == [0, 1, 4, 9, 16, 25, 36]
        with pytest.raises(ZeroDivisionError):
            pool.run([lambda: 1, lambda: 1 / 0])
        assert pool.cancelled.is_set()


@pytest.mark.parametrize(
    ("n_jobs", "expected"), [(1, 1), (3, 3), (None, "all"), (-1, "all"), (-100, 1)]
)
def test_resolve_n_jobs(n_jobs, expected):
    """None and -1 mean every available CPU, -k all but k - 1, at least one."""
    from hyperspy_cmeans.cmeans._parallel import available_cpus

    assert resolve_n_jobs(n_jobs) == (available_cpus() if expected == "all" else expected)
    with pytest.raises(ValueError, match="n_jobs"):
        Probabilistic(n_jobs=0).fit(np.eye(4))


def test_fit_leaves_thread_settings_unchanged(data):
    """No BLAS/OpenMP or numba thread setting leaks out of a fit; the workers end with it."""
    before = _thread_limits()
    numba_threads = _numba_threads()
    n_threads = threading.active_count()
    GustafsonKessel(4, n_init=3, n_jobs=2, random_state=0).fit(data)
    after = _thread_limits()
    assert {lib: after.get(lib) for lib in before} == before
    assert _numba_threads() == numba_threads
    assert threading.active_count() == n_threads


def _thread_limits():
    """Threads of every loaded BLAS/OpenMP library (a fit may load more, e.g. LAPACK's)."""
    return {info["filepath"]: info["num_threads"] for info in threadpool_info()}


def _numba_threads():
    if not HAVE_NUMBA:
        return None
    import numba

    return numba.get_num_threads()


# ---------------------------------------------------------------------- fused kernel
@pytest.fixture
def pure_python_kernel(monkeypatch):
    """Replace every compiled step of the fused pass by its Python original (``py_func``)."""
    if HAVE_NUMBA:
        for name in _fused.STEPS:
            monkeypatch.setattr(_fused, name, getattr(_fused, name).py_func)


def _small_case(kind, dtype):
    rng = np.random.default_rng(1)
    X = np.vstack([rng.normal(size=(110, 3)) + s for s in ([0, 0, 0], [4, 0, 1], [0, 4, 2])])
    X = X.astype(dtype)
    centers = X[[0, 150, 300]].copy()  # samples: exercises the exact zero-distance rule
    if kind == "tiny":  # a distance below SAFE_MIN_SQ_DISTANCE but above 0
        X[5] = centers[1] + 1e-150
    whiten = None
    if kind == "gk":
        a = rng.normal(size=(3, 3, 3)) * 0.3 + np.eye(3)
        whiten = a.astype(dtype)
    eta = np.array([1.5, 2.0, 0.7]) if kind == "pcm" else None
    return X, centers, whiten, eta


# 1 / 0 = inf in the pure-Python kernel warns (the compiled one has error_model="numpy")
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("kind", ["fcm", "tiny", "gk", "pcm"])
@pytest.mark.parametrize("m", [2.0, 1.6])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fused_kernel_in_pure_python_equals_numpy_pass(pure_python_kernel, kind, m, dtype):
    """The fused kernel's Python source gives the NumPy pass's sums and memberships."""
    if dtype is np.float32 and kind == "tiny":
        pytest.skip("1e-150 underflows in float32")
    X, centers, whiten, eta = _small_case(kind, dtype)
    results = {}
    for backend in ("numba", "numpy"):
        U = np.full((X.shape[0], 3), 0.25, dtype=dtype)
        res = _kernels.sweep(
            X,
            centers,
            m,
            U,
            whiten=whiten,
            eta=eta,
            compare=True,
            scatter=whiten is not None,
            backend=backend,
        )
        results[backend] = (U, res)
    (U_f, r_f), (U_n, r_n) = results["numba"], results["numpy"]
    rtol = 1e-5 if dtype is np.float32 else 1e-10
    np.testing.assert_allclose(U_f, U_n, rtol=rtol, atol=rtol)
    assert U_f[0, 0] == 1.0 and U_f[150, 1] == 1.0  # samples on centres
    for name in ("objective", "weight_sum", "weighted_dist", "shift_sum", "scatter_sum"):
        a, b = getattr(r_f, name), getattr(r_n, name)
        if a is None:
            assert b is None
            continue
        np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * np.abs(b).max(), err_msg=name)
    assert r_f.max_change == pytest.approx(r_n.max_change, rel=rtol)


@_NEEDS_NUMBA
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_compiled_kernel_equals_its_python_source(monkeypatch):
    """Compiled and pure-Python fused kernels agree to rounding (fastmath reassociates)."""
    X, centers, whiten, _ = _small_case("gk", np.float64)
    out = []
    for pure in (False, True):
        if pure:
            for name in _fused.STEPS:
                monkeypatch.setattr(_fused, name, getattr(_fused, name).py_func)
        U = np.empty((X.shape[0], 3))
        res = _kernels.sweep(X, centers, 1.6, U, whiten=whiten, scatter=True, backend="numba")
        out.append((U, res.scatter_sum))
    np.testing.assert_allclose(out[0][0], out[1][0], rtol=1e-12)
    np.testing.assert_allclose(out[0][1], out[1][1], rtol=1e-12)


# ---------------------------------------------------------------------- without numba
def test_fallback_without_numba_gives_the_numpy_results(tmp_path):
    """With numba blocked, 'auto' is the NumPy pass and gives the NumPy pass's results."""
    X, _ = make_blobs(3000, n_features=3, centers=4, random_state=4)
    np.save(tmp_path / "X.npy", X)
    code = textwrap.dedent(
        f"""
        import sys
        sys.modules["numba"] = None  # importing numba fails
        import numpy as np
        from hyperspy_cmeans.cmeans import HAVE_NUMBA, GustafsonKessel
        assert not HAVE_NUMBA
        X = np.load({str(tmp_path / "X.npy")!r})
        est = GustafsonKessel(4, n_init=3, random_state=0).fit(X)
        np.save({str(tmp_path / "U.npy")!r}, est.memberships_)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    here = GustafsonKessel(4, n_init=3, random_state=0, backend="numpy").fit(X)
    np.testing.assert_array_equal(np.load(tmp_path / "U.npy"), here.memberships_)


# ---------------------------------------------------------------------- Ctrl-C
_INTERRUPT_SCRIPT = """
import json, os, signal, sys, threading, time
import numpy as np
from threadpoolctl import threadpool_info

# a process started in the background inherits SIGINT ignored (Python then installs no
# KeyboardInterrupt handler): what is tested is the engine's answer to a Ctrl-C
signal.signal(signal.SIGINT, signal.default_int_handler)

def limits():
    return {info["filepath"]: info["num_threads"] for info in threadpool_info()}
from hyperspy_cmeans.cmeans import GustafsonKessel, Possibilistic, Probabilistic

X = np.random.default_rng(0).normal(size=(300_000, 3))
out = []
for cls, backend, n_jobs, init_size in json.loads(sys.argv[1]):
    cls = {"fcm": Probabilistic, "pcm": Possibilistic, "gk": GustafsonKessel}[cls]
    est = cls(4, n_init=4, max_iter=2, init_size=init_size, n_jobs=n_jobs, backend=backend,
              random_state=0)
    import warnings
    warnings.simplefilter("ignore")
    est.fit(X[:20000])  # compiled and fitted: the interrupted refit must leave this
    before = {k: np.copy(v) for k, v in vars(est).items()}
    est.set_params(tol=0.0, max_iter=10**9)
    before["tol"], before["max_iter"] = 0.0, 10**9
    blas, n_threads = limits(), threading.active_count()
    timer = threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    t0 = time.perf_counter()
    try:
        est.fit(X)
        outcome = "finished"
    except BaseException as err:
        outcome = type(err).__name__
    timer.join()
    same = vars(est).keys() == before.keys() and all(
        np.array_equal(vars(est)[k], before[k]) for k in before)
    out.append({"outcome": outcome, "unchanged": bool(same),
                "threads_back": threading.active_count() == n_threads,
                "blas_unchanged": {k: limits().get(k) for k in blas} == blas,
                "seconds": time.perf_counter() - t0})
print(json.dumps(out))
"""


def test_ctrl_c_raises_keyboard_interrupt_and_leaves_the_estimator_unchanged():
    """SIGINT during a long fit: KeyboardInterrupt, estimator and thread settings as before."""
    cases = [
        ["gk", "auto", 2, None],  # starts side by side in two threads
        ["gk", "auto", 1, 5000],  # the refinement, in the single worker thread
        ["pcm", "auto", 2, 5000],  # the possibilistic stage, block-parallel
        ["fcm", "numpy", 2, None],  # the NumPy pass
    ]
    out = subprocess.run(
        [sys.executable, "-c", _INTERRUPT_SCRIPT, json.dumps(cases)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr
    for case, res in zip(cases, json.loads(out.stdout.strip().splitlines()[-1]), strict=True):
        assert res["outcome"] == "KeyboardInterrupt", (case, res)
        assert res["unchanged"] and res["threads_back"] and res["blas_unchanged"], (case, res)


_WORKER_SIGNAL_SCRIPT = """
import os, signal, sys, threading, time, warnings
import numpy as np
from hyperspy_cmeans.cmeans import GustafsonKessel

warnings.simplefilter("ignore")
signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started in the background
X = np.random.default_rng(0).normal(size=(300_000, 3))
est = GustafsonKessel(4, n_init=4, max_iter=2, init_size=None, n_jobs=2, random_state=0)
est.fit(X[:20000])  # compiled
est.set_params(tol=0.0, max_iter=10**9)  # runs until interrupted


def signal_a_worker():
    time.sleep(1.0)
    workers = [t for t in threading.enumerate() if t.name.startswith("cmeans")]
    signal.pthread_kill(workers[0].ident, signal.SIGINT)  # as the OS may deliver it
    time.sleep(20.0)
    print("hang", flush=True)
    os._exit(3)


threading.Thread(target=signal_a_worker, daemon=True).start()
start = time.perf_counter()
try:
    est.fit(X)
    print("finished")
except KeyboardInterrupt:
    print(f"KeyboardInterrupt {time.perf_counter() - start:.2f}")
"""


def test_ctrl_c_delivered_to_a_worker_thread_reaches_the_caller():
    """The OS delivers a process's SIGINT to any thread that does not block it; in a
    worker (inside a compiled pass) it only flags the signal. The caller, waiting for
    starts that never end, must still raise KeyboardInterrupt (it used to wait until a
    task finished: forever here)."""
    out = subprocess.run(
        [sys.executable, "-c", _WORKER_SIGNAL_SCRIPT], capture_output=True, text=True, timeout=300
    )
    last = out.stdout.strip().splitlines()[-1]
    assert last.startswith("KeyboardInterrupt"), (last, out.stderr[-2000:])
    assert float(last.split()[1]) < 5.0  # measured 1.1 s (the signal comes after 1 s)
