"""Worker threads for the c-means engine, and clean interruption.

The pass over the samples (:mod:`hyperspy_cmeans.cmeans._kernels`) releases the GIL (numba
``nogil`` kernels; NumPy releases it inside its array operations), so plain Python threads
run it on several cores: either the ``n_init`` starts side by side (each start's passes
run serially in its own thread) or the blocks of samples of one pass (partial sums are
reduced in block order, so the result does not depend on the number of threads).

The calling thread only hands out work and waits (in steps of :data:`POLL_SECONDS`, so that
it acts on a signal that the OS delivered to a worker thread). Python runs signal handlers
in the main thread only, so a Ctrl-C always arrives there as :class:`KeyboardInterrupt`,
between two Python statements, never inside a compiled kernel. :class:`WorkerPool` then
tells the workers to stop (they look at :attr:`WorkerPool.cancelled` between two passes),
waits for the passes under way to finish and re-raises the interrupt.

No process-wide setting is changed: the threads are this module's own (numba's threading
layer and the BLAS thread pools are not touched), and they end with the pool.
"""

import numbers
import os
import threading
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait


def available_cpus():
    """Number of CPUs this process may run on.

    Returns
    -------
    int
        ``len(os.sched_getaffinity(0))`` where available (Linux), else ``os.cpu_count()``.
    """
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def resolve_n_jobs(n_jobs):
    """Number of worker threads that an ``n_jobs`` parameter value selects.

    Parameters
    ----------
    n_jobs : int or None
        None or -1: every available CPU; a positive integer: that many threads; ``-k``
        (k >= 2): all CPUs but ``k - 1`` (at least one), as in joblib.

    Returns
    -------
    int
        Number of threads, >= 1.
    """
    if n_jobs is None:
        return available_cpus()
    if not isinstance(n_jobs, numbers.Integral) or isinstance(n_jobs, bool) or n_jobs == 0:
        raise ValueError(f"n_jobs must be None or a non-zero integer, got n_jobs={n_jobs!r}.")
    if n_jobs < 0:
        return max(1, available_cpus() + 1 + int(n_jobs))
    return int(n_jobs)


#: Seconds the calling thread waits for a task before it looks at pending signals again.
POLL_SECONDS = 0.1


class Cancelled(Exception):
    """Raised inside a worker task when its pool was told to stop."""


class WorkerPool:
    """A few worker threads that run tasks while the calling thread waits.

    Use as a context manager. :meth:`run` runs callables in the workers and returns their
    results in order; if the caller is interrupted (``KeyboardInterrupt``) or a task
    raises, the remaining tasks are cancelled, running ones are asked to stop
    (:attr:`cancelled`) and awaited, and the exception propagates.

    Parameters
    ----------
    n_threads : int
        Number of worker threads, >= 1.
    """

    def __init__(self, n_threads):
        self.n_threads = int(n_threads)
        self.cancelled = threading.Event()
        self._executor = None

    def __enter__(self):
        self._executor = ThreadPoolExecutor(self.n_threads, thread_name_prefix="cmeans")
        return self

    def __exit__(self, *exc):
        self.cancelled.set()
        self._executor.shutdown(wait=True, cancel_futures=True)
        self._executor = None
        return False

    def check(self):
        """Raise :class:`Cancelled` if the pool was told to stop (call from tasks)."""
        if self.cancelled.is_set():
            raise Cancelled

    def run(self, tasks, on_result=None):
        """Run ``tasks`` (callables without arguments) in the workers.

        Parameters
        ----------
        tasks : sequence of callable
            Work items; each may call :meth:`check` between steps.
        on_result : callable or None
            Called in the calling thread as ``on_result(index, result)`` as soon as a task
            finishes (in completion order), e.g. to drop results no longer needed; the
            list returned then holds None for every task.

        Returns
        -------
        list
            The tasks' results in the order of ``tasks``.
        """
        # Only the futures not yet handled are referenced, so that a result handed to
        # ``on_result`` and dropped there is freed at once (not kept until the end).
        pending = {self._executor.submit(task): i for i, task in enumerate(tasks)}
        results = [None] * len(pending)
        try:
            while pending:
                # With a timeout the calling thread comes back to the interpreter
                # regularly: a Ctrl-C that the OS delivers to a worker thread only flags
                # the signal, and the main thread would otherwise act on it only when a
                # task finishes (never, in a long fit).
                done, _ = wait(pending, timeout=POLL_SECONDS, return_when=FIRST_COMPLETED)
                for f in sorted(done, key=pending.get):
                    i = pending.pop(f)
                    if on_result is None:
                        results[i] = f.result()  # re-raises a task's exception
                    else:
                        on_result(i, f.result())
                done = f = None  # no reference left to a result handed to on_result
        except BaseException:
            self.cancelled.set()
            for f in pending:
                f.cancel()
            wait(pending)  # passes under way finish; a second Ctrl-C stops waiting
            raise
        return results
