"""Single-threaded BLAS inside parallel tasks, scoped and always restored.

The passes over a map run one dask task per core, so each task's BLAS calls
should use one thread (oversubscribed BLAS threads cost about 25 %). A
``threadpool_limits(1)`` entered and left by every task changes the
process-wide BLAS setting from several threads at once: a task that enters
while another holds the limit saves "1" as the original and restores it
last, leaving BLAS single-threaded for the rest of the process. This context
counts its users instead: the first one in sets the limit, the last one out
restores what was there before.

Finding the loaded BLAS libraries takes threadpoolctl about 4 ms (it walks
the process's shared objects), which a pass of a thousand small blocks would
pay a thousand times: the libraries are found once and again only after new
modules were imported (which may have loaded another BLAS).
"""

import sys
import threading
from contextlib import contextmanager

from threadpoolctl import ThreadpoolController

_lock = threading.Lock()
_users = 0
_limiter = None
_controller = None
_modules_seen = -1


def _blas_controller():
    """The process's thread-pool controller, refreshed when modules were imported since."""
    global _controller, _modules_seen
    if _controller is None or len(sys.modules) != _modules_seen:
        _controller = ThreadpoolController()
        _modules_seen = len(sys.modules)
    return _controller


@contextmanager
def single_threaded_blas():
    """Limit BLAS to one thread while any task of this process is inside.

    Yields
    ------
    None
        Nothing; the limit holds inside the ``with`` block.
    """
    global _users, _limiter
    with _lock:
        if _users == 0:
            _limiter = _blas_controller().limit(limits=1, user_api="blas")
        _users += 1
    try:
        yield
    finally:
        with _lock:
            _users -= 1
            if _users == 0:
                _limiter.restore_original_limits()
                _limiter = None
