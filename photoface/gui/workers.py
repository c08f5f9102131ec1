"""Work off the GUI thread: library operations and scanning.

Both open their own ``Library`` (a separate SQLite connection; WAL lets one read while the other
writes) on their worker thread and post results back to the GUI thread through Qt signals, so no
widget is ever touched from a worker thread. Image loading lives in ``thumbnails.ImageLoader``.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QObject, QThreadPool, Signal, Slot

log = logging.getLogger(__name__)


def open_library(path):
    from ..library import Library  # numpy and the store: imported once the window is up

    return Library.open(path)


class _Relay(QObject):
    """Carries results from the worker thread to the GUI thread (queued connections)."""

    done = Signal(int, object)
    failed = Signal(int, object)


class LibraryRunner(QObject):
    """Runs library operations one at a time, in order, on a worker thread.

    ``submit(fn, on_done, on_error)`` calls ``fn(library)`` on the worker thread, then
    ``on_done(result)`` or ``on_error(exception)`` on the GUI thread. One thread means decisions
    (name, merge, undo) apply in the order the user made them.
    """

    busyChanged = Signal()  # work started or all done: see ``idle``

    def __init__(self, library_path, opener: Callable = open_library, parent=None):
        super().__init__(parent)
        self.library_path = Path(library_path)
        self._opener = opener
        self._lib = None
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._pool.setExpiryTimeout(-1)  # keep the one thread (and its connection)
        self._relay = _Relay()
        self._relay.done.connect(self._finish)
        self._relay.failed.connect(self._fail)
        self._jobs: dict[int, tuple] = {}
        self._ids = itertools.count(1)
        self._closed = False

    @property
    def idle(self) -> bool:
        return not self._jobs

    def submit(self, fn: Callable[[Any], Any], on_done: Callable | None = None,
               on_error: Callable | None = None) -> int | None:
        if self._closed:
            return None
        job = next(self._ids)
        self._jobs[job] = (on_done, on_error)
        if len(self._jobs) == 1:
            self.busyChanged.emit()
        self._pool.start(lambda: self._run(job, fn))
        return job

    def shutdown(self) -> None:
        """Finish the queued jobs, then close the connection."""
        self._closed = True
        self._pool.waitForDone()
        if self._lib is not None:
            self._lib.close()
            self._lib = None

    # worker thread
    def _run(self, job: int, fn) -> None:
        try:
            if self._lib is None:
                self._lib = self._opener(self.library_path)
            result = fn(self._lib)
        except Exception as exc:  # reported on the GUI thread, never lost
            if not _is_user_error(exc):
                log.exception("library operation failed")
            self._relay.failed.emit(job, exc)
        else:
            self._relay.done.emit(job, result)

    # GUI thread
    @Slot(int, object)
    def _finish(self, job: int, result) -> None:
        on_done, _ = self._jobs.pop(job, (None, None))
        try:
            if on_done is not None:
                on_done(result)
        finally:
            self._idle_check()

    @Slot(int, object)
    def _fail(self, job: int, exc) -> None:
        _, on_error = self._jobs.pop(job, (None, None))
        try:
            if on_error is not None:
                on_error(exc)
            else:
                log.error("unhandled library error: %s", exc)
        finally:
            self._idle_check()

    def _idle_check(self) -> None:
        if not self._jobs:
            self.busyChanged.emit()


def _is_user_error(exc: Exception) -> bool:
    from ..errors import PhotoFaceError

    return isinstance(exc, PhotoFaceError)


class ScanJob(QObject):
    """One scan of some folders: ``Library.scan`` with a progress callback and a cancel Event.

    Signals (received on the GUI thread): ``progress(ScanProgress)`` at most every 100 ms,
    ``phase(str)`` while recognising and grouping, then ``finished(ScanSummary)`` or
    ``failed(exception)``. A cancelled scan keeps what it stored, and its faces are grouped so
    they show up at once.
    """

    progress = Signal(object)
    phase = Signal(str)
    grouped = Signal()  # the faces found so far were grouped (a first scan fills the grid as it goes)
    finished = Signal(object)
    failed = Signal(object)
    # Group what was found every so often while photos are analysed, so the window shows people
    # during a long first scan; never when grouping would take more than a tenth of the scan's time.
    group_every_s = 8.0

    def __init__(self, library_path, folders, workers: int | None = None,
                 opener: Callable = open_library, parent=None):
        super().__init__(parent)
        self.library_path = Path(library_path)
        self.folders = [str(f) for f in folders]
        self.workers = workers
        self.cancel_event = threading.Event()
        self.closing = False  # the app is quitting: skip grouping after a cancel
        self._opener = opener
        self._last_emit = 0.0
        self._last_phase = None
        self._lib = None
        self._last_group = time.monotonic()
        self._group_cost = 0.0
        self._grouped_faces = 0

    def cancel(self, closing: bool = False) -> None:
        self.closing = self.closing or closing
        self.cancel_event.set()

    @property
    def cancelled(self) -> bool:
        return self.cancel_event.is_set()

    # worker thread
    def run(self) -> None:
        try:
            lib = self._lib = self._opener(self.library_path)
            try:
                summary = lib.scan(self.folders, workers=self.workers, progress=self._on_progress,
                                   cancel=self.cancel_event, group_progress=self.phase.emit)
                if summary.interrupted and not self.closing:
                    self.phase.emit("grouping the faces found so far")
                    lib.refresh(self.phase.emit)
            finally:
                self._lib = None
                lib.close()
        except Exception as exc:
            if not _is_user_error(exc):
                log.exception("scan failed")
            self.failed.emit(exc)
        else:
            self.finished.emit(summary)

    def _on_progress(self, p) -> None:
        self._group_so_far(p)
        now = time.monotonic()
        final = p.total and p.done >= p.total
        if p.phase == self._last_phase and not final and now - self._last_emit < 0.1:
            return  # the GUI repaints ten times a second at most
        self._last_emit, self._last_phase = now, p.phase
        self.progress.emit(p)

    def _group_so_far(self, p) -> None:
        """On the scan's thread, between two photos: group the faces stored so far."""
        now = time.monotonic()
        if (self._lib is None or p.phase != "analysing" or not p.faces or p.faces == self._grouped_faces
                or self.cancelled or (p.total and p.done >= p.total)
                or now - self._last_group < max(self.group_every_s, 10 * self._group_cost)):
            return
        try:
            self._lib.refresh()
        except Exception:  # the end of the scan groups again; a failure here only delays the grid
            log.exception("grouping during the scan failed")
        self._group_cost = time.monotonic() - now
        self._last_group, self._grouped_faces = time.monotonic(), p.faces
        self.grouped.emit()
