"""Child processes that die with their parent, however the parent dies (SIGKILL included).

Linux's prctl(PR_SET_PDEATHSIG) asks the kernel to signal a process when the thread that
started it ends. It is chosen over a watchdog pipe (the child watching a pipe whose other end
the parent holds) because the kernel does it: nothing in the child has to be listening, which a
pool worker blocked on its task queue, or busy in lxml on a huge page, is not; and it survives
exec, so it reaches `scrapy crawl` started by `coopspider run` without any code of ours in it.
Its one condition: the child must be started from a thread that lives as long as the parent;
ours are started from the main thread. Elsewhere than on Linux this does nothing.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

_PR_SET_PDEATHSIG = 1
# Looked up once, here: a preexec_fn must not load anything between fork and exec.
_PRCTL = ctypes.CDLL(None, use_errno=True).prctl if sys.platform.startswith("linux") else None


def die_with_parent(parent_pid: int, signal_number: int = signal.SIGKILL) -> None:
    """Have the kernel send `signal_number` to this process when its parent (`parent_pid`)
    dies; if it has died already, send it now."""
    if _PRCTL is None:
        return
    if _PRCTL(_PR_SET_PDEATHSIG, signal_number, 0, 0, 0) != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"prctl(PR_SET_PDEATHSIG): {os.strerror(error)}")
    if os.getppid() != parent_pid:  # the parent died before the request was made
        os.kill(os.getpid(), signal_number)


def dying_with_this_process(signal_number: int) -> Callable[[], None]:
    """A `preexec_fn` for subprocess.Popen: the child gets `signal_number` when this process
    dies. Everything it calls is ready before the fork, as a preexec_fn requires."""
    parent_pid = os.getpid()
    return lambda: die_with_parent(parent_pid, signal_number)


# Ctrl-C at a terminal sends SIGINT to every process of the foreground process group: the crawl's
# helper processes (archive writer, extraction workers) as well as the crawl. The crawl decides
# what an interrupt means (finish the writes in flight, then stop) and tells its helpers to stop;
# a helper dying of it on its own would lose those writes and print a KeyboardInterrupt traceback.


@contextmanager
def sigint_held_for_children() -> Iterator[None]:
    """Processes started inside the block begin with SIGINT blocked (a signal mask survives fork
    and exec), so a Ctrl-C while they start up cannot interrupt them before they can call
    `ignore_sigint`; a SIGINT for this process meanwhile waits for the end of the block."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def ignore_sigint() -> None:
    """In a helper process started under `sigint_held_for_children`: ignore SIGINT from now on
    (one held meanwhile is dropped), leaving the stop to the parent."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def start_helper(parent_pid: int) -> None:
    """A worker pool's initializer: die with the parent (`parent_pid`), ignore Ctrl-C."""
    ignore_sigint()
    die_with_parent(parent_pid)
