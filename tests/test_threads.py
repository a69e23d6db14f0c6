"""BLAS thread limits inside parallel tasks are scoped and always restored."""

import threading
from types import SimpleNamespace

import numpy as np

from hyperspy_cmeans import _threads
from hyperspy_cmeans._threads import single_threaded_blas


class _FakeBlas:
    """A process-wide thread setting, as OpenBLAS has, with threadpoolctl's limiter API."""

    threads = 2

    def __call__(self, limits, user_api):
        fake = self

        class Limiter:
            original = fake.threads

            def restore_original_limits(self):
                fake.threads = self.original

        limiter = Limiter()
        self.threads = limits
        return limiter


def test_overlapping_users_restore_the_original_limit(monkeypatch):
    """The race that left OpenBLAS at 1 thread: two tasks enter and leave interleaved."""
    blas = _FakeBlas()
    monkeypatch.setattr(_threads, "_blas_controller", lambda: SimpleNamespace(limit=blas))
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen = []

    def first():
        with single_threaded_blas():
            seen.append(blas.threads)
            first_in.set()
            second_in.wait(5)
        first_out.set()

    def second():
        first_in.wait(5)
        with single_threaded_blas():  # enters while the first holds the limit
            second_in.set()
            first_out.wait(5)  # ... and is still inside when the first leaves
            seen.append(blas.threads)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert seen == [1, 1]  # single-threaded as long as any task is inside
    assert blas.threads == 2  # restored once the last one left


def test_an_exception_inside_restores_the_limit(monkeypatch):
    blas = _FakeBlas()
    monkeypatch.setattr(_threads, "_blas_controller", lambda: SimpleNamespace(limit=blas))
    try:
        with single_threaded_blas():
            assert blas.threads == 1
            raise RuntimeError("task failed")
    except RuntimeError:
        pass
    assert blas.threads == 2


def test_real_blas_is_restored_after_eager_clustering():
    from threadpoolctl import threadpool_info, threadpool_limits

    from hyperspy_cmeans.data import synthetic_eds_map

    def blas_threads():
        return [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]

    np.ones((2, 2)) @ np.ones((2, 2))  # BLAS loaded
    limiter = threadpool_limits(limits=2, user_api="blas")
    try:
        before = blas_threads()
        s = synthetic_eds_map(shape=(40, 36), n_channels=256, scale=0.04, random_state=3)
        s.fuzzy_cluster(3, "fcm", n_init=1, random_state=0)
        s.cluster_phase_spectra(threshold=0.3)
        assert blas_threads() == before
    finally:
        limiter.restore_original_limits()


def test_the_blas_libraries_are_found_once():
    """threadpoolctl's library search (about 4 ms) runs again only after new imports."""
    first = _threads._blas_controller()
    with single_threaded_blas():
        pass
    assert _threads._blas_controller() is first
    import sys
    import types

    sys.modules["_hyperspy_cmeans_test_new_module"] = types.ModuleType("x")
    try:
        assert _threads._blas_controller() is not first
    finally:
        del sys.modules["_hyperspy_cmeans_test_new_module"]
