"""The bridge between the views and the library: one object the views share.

Every library call goes through ``LibraryRunner`` (one worker thread, its own connection) and
every scan through ``ScanJob`` (another thread, another connection); the GUI thread only ever
receives results. Views ask for navigation with signals (``openPerson``, ``openPhotos``, ...)
and the main window decides where to show it.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QObject, QStringListModel, QThreadPool, QTimer, Signal

from ..errors import PhotoFaceError
from .models import PeopleFilter, PeopleModel, plural
from .thumbnails import ImageLoader
from .workers import LibraryRunner, ScanJob, open_library

log = logging.getLogger(__name__)

COVER_CHUNK = 500  # face ids per list_faces() call when fetching cover faces
WATCH_MS = 2000  # how often the window looks for changes made by another program


def load_people(lib) -> dict:
    """Runs on the library thread: people and groups, their cover faces, names, counts."""
    people = lib.list_people()
    ids = [p.cover_face_id for p in people if p.cover_face_id]
    covers = {}
    for i in range(0, len(ids), COVER_CHUNK):
        for f in lib.list_faces(face_ids=ids[i:i + COVER_CHUNK]):
            covers[f["id"]] = (f["path"], tuple(f["box"]))
    names = sorted({p.name for p in people if p.name}, key=str.casefold)
    return {"people": people, "covers": covers, "names": names, "stats": lib.stats(),
            "can_redo": lib.people.can_redo(), "version": lib.db.data_version()}


class Controller(QObject):
    libraryChanged = Signal()  # a decision, an undo or a scan changed the library: views reload
    peopleLoaded = Signal(dict)  # stats of the library after each reload
    status = Signal(str)  # what the app did or is doing, for the status bar
    problem = Signal(str)  # something the user asked for could not be done
    busyChanged = Signal()  # work started or ended: see ``idle``
    scanStarted = Signal(list)
    scanProgress = Signal(object)  # ScanProgress
    scanPhase = Signal(str)
    scanFinished = Signal(object)  # ScanSummary, or None when the scan failed
    photoErrors = Signal(list)  # [(path, reason)] of the photos that could not be read
    missingPhotos = Signal(list)  # [(path, what it holds)] of the photos marked missing
    libraryFailed = Signal(str)  # the library itself cannot be opened
    # Navigation: the main window shows the page.
    openPerson = Signal(object)  # Target
    openPhotos = Signal(list, int)  # [(photo_id, path, face_id or None)], index to show
    findFace = Signal(int)
    findPerson = Signal(str)
    redoChanged = Signal(bool)  # whether Redo has something to redo
    grouped = Signal()  # a scan grouped the faces found so far: the people grid can fill in

    def __init__(self, library_path, scan_workers: int | None = None, thumb_size: int = 112,
                 opener: Callable = open_library, parent=None):
        super().__init__(parent)
        self.library_path = Path(library_path)
        self.scan_workers = scan_workers
        self.thumb_size = thumb_size
        self._opener = opener
        self.images = ImageLoader(threads=2, parent=self)
        self.people_model = PeopleModel(self.images, thumb_size, self)
        self.people_filter = PeopleFilter(self)
        self.people_filter.setSourceModel(self.people_model)
        self.names_model = QStringListModel(self)  # for every name completer
        self.stats: dict = {}
        self.can_redo = False
        self._version = None  # the library's data_version at the last reload
        # Another program (the command line) may change the same library: look every 2 s, and
        # reload when it did, so the window never shows, or acts on, what is no longer there.
        self._watch = QTimer(self, interval=WATCH_MS, timeout=self._check_outside_changes)
        self._watch.start()
        self.scan_job: ScanJob | None = None
        self._scan_queue: list[list[str]] = []
        self._scan_pool = QThreadPool(self)
        self._scan_pool.setMaxThreadCount(1)
        self.runner = self._make_runner()

    def _make_runner(self) -> LibraryRunner:
        runner = LibraryRunner(self.library_path, self._opener, self)
        runner.busyChanged.connect(self.busyChanged.emit)
        return runner

    # -- state ----------------------------------------------------------------------------------
    @property
    def scanning(self) -> bool:
        return self.scan_job is not None

    @property
    def idle(self) -> bool:
        """No library work queued and no scan running (thumbnails may still be loading)."""
        return self.runner.idle and not self.scanning

    def names(self) -> list[str]:
        return self.names_model.stringList()

    # -- reading --------------------------------------------------------------------------------
    def reload_people(self) -> None:
        self.runner.submit(load_people, self._people_loaded, self._library_error)

    def _people_loaded(self, data: dict) -> None:
        self.people_model.set_people(data["people"], data["covers"])
        if data["names"] != self.names_model.stringList():
            self.names_model.setStringList(data["names"])
        self.stats = data["stats"]
        self._version = data["version"]
        if data["can_redo"] != self.can_redo:
            self.can_redo = data["can_redo"]
            self.redoChanged.emit(self.can_redo)
        self.peopleLoaded.emit(self.stats)

    def _check_outside_changes(self) -> None:
        if self.scanning or not self.runner.idle or self._version is None:
            return  # a scan reloads when it ends; queued work reloads after itself

        def seen(version):
            if self._version is not None and version != self._version:
                self._version = version
                self.status.emit("The library was changed by another program; shown as it is now")
                self.changed()

        self.runner.submit(lambda lib: lib.db.data_version(), seen, lambda exc: None)

    def run(self, fn, on_done: Callable | None = None, on_error: Callable | None = None) -> None:
        """Call ``fn(library)`` off the GUI thread; ``on_done(result)`` back on it."""
        self.runner.submit(fn, on_done, on_error or self.report_error)

    # -- deciding -------------------------------------------------------------------------------
    def decide(self, fn, message, on_done: Callable | None = None) -> None:
        """A user decision (name, merge, reject, ...): run it, say what it did, reload. With
        "Write names to XMP sidecars" on, the sidecars of the photos it touched are rewritten."""
        written = []

        def decide_and_write(lib):
            result = fn(lib)
            written.append(_write_touched(lib))
            return result

        def done(result):
            text = message(result) if callable(message) else message
            if text:
                self.status.emit(f"{text}. Ctrl+Z undoes it.")
            if on_done is not None:
                on_done(result)
            self.changed()
            self._report_unwritten(written)

        self.runner.submit(decide_and_write, done, self.report_error)

    def _report_unwritten(self, written) -> None:
        failed = [f for summary in written if summary is not None for f in summary.failed]
        if failed:
            path, reason = failed[0]
            more = f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""
            self.problem.emit(f"Names not written to {Path(path).name}: {reason}{more}")

    def write_xmp(self) -> None:
        """Write every confirmed name into the photos' XMP sidecars now, with progress."""
        from ..xmp.writer import write_photos

        def progress(done, total, _path):
            if total and (done == total or done % 20 == 0):
                self.status.emit(f"Writing names to XMP sidecars: {done} of {total} photos…")

        def done(summary):
            self.status.emit(f"Names written: {len(summary.written)} sidecars written, "
                             f"{summary.unchanged} already up to date")
            self._report_unwritten([summary])

        self.status.emit("Writing names to XMP sidecars…")
        self.run(lambda lib: write_photos(lib.db, progress=progress), done)

    def rename(self, target, name: str, on_done: Callable | None = None) -> None:
        existing = name in self.names()
        if target.kind == "group":
            message = f"Added the group to {name}" if existing else f"Named {name}"
        else:
            message = f"Merged into {name}" if existing else f"Renamed to {name}"
        self.decide(lambda lib: lib.people.name(target, name), message, on_done)

    def merge(self, targets, on_done: Callable | None = None) -> None:
        people = sum(1 for t in targets if t.kind == "person")
        groups = len(targets) - people
        what = " and ".join(x for x in (plural(people, "person", "people") if people else "",
                                        plural(groups, "unnamed group") if groups else "") if x)
        self.decide(lambda lib: lib.people.merge(targets), f"Merged {what} into one", on_done)

    def hide(self, targets, hidden: bool = True) -> None:
        """Hide people (named) from the grid; unnamed groups have no name to hide under, so their
        faces are ignored instead. Both come back from View > Hidden."""
        people = [t for t in targets if t.kind == "person"]
        groups = [t for t in targets if t.kind == "group"]

        def hide(lib):
            for t in people:
                lib.people.hide(t, hidden)
            faces = [f["id"] for g in groups for f in lib.list_faces(g)]
            if faces:
                lib.people.ignore(faces, hidden)
            return len(people), len(faces)

        def said(result):
            n_people, n_faces = result
            bits = ([plural(n_people, "person", "people")] if n_people else []) + (
                [plural(n_faces, "face")] if n_faces else [])
            verb = "Hid" if hidden else "Brought back"
            return f"{verb} {' and '.join(bits)}" + (" (View > Hidden brings them back)" if hidden else "")

        self.decide(hide, said)

    def ignore_faces(self, face_ids, ignored: bool = True, on_done: Callable | None = None) -> None:
        ids = list(face_ids)
        verb = "Ignored" if ignored else "Brought back"
        self.decide(lambda lib: lib.people.ignore(ids, ignored), f"{verb} {plural(len(ids), 'face')}", on_done)

    def undo(self) -> None:
        written = []

        def undo_and_write(lib):
            from ..xmp.writer import touched_photos

            touched = touched_photos(lib.db)  # the undone entry is gone afterwards
            entry = lib.people.undo_entry()
            written.append(_write_touched(lib, touched))
            return entry

        def undone(entry):
            self.status.emit(f"Undid: {entry['text']}. Ctrl+Shift+Z redoes it.")
            self.changed()
            self._report_unwritten(written)

        self.runner.submit(undo_and_write, undone, self.report_error)

    def redo(self) -> None:
        written = []

        def redo_and_write(lib):
            entry = lib.people.redo_entry()
            written.append(_write_touched(lib))
            return entry

        def redone(entry):
            self.status.emit(f"Redid: {entry['text']}")
            self.changed()
            self._report_unwritten(written)

        self.runner.submit(redo_and_write, redone, self.report_error)

    def changed(self) -> None:
        self.reload_people()
        self.libraryChanged.emit()

    def report_error(self, exc: Exception) -> None:
        if isinstance(exc, PhotoFaceError):
            self.problem.emit(str(exc))
        else:
            self.problem.emit(f"Something went wrong: {exc}")

    def _library_error(self, exc: Exception) -> None:
        if isinstance(exc, PhotoFaceError):
            self.libraryFailed.emit(str(exc))
        else:
            self.report_error(exc)

    # -- scanning -------------------------------------------------------------------------------
    def scan(self, folders) -> None:
        folders = [str(f) for f in folders]
        if self.scan_job is not None:
            if folders not in self._scan_queue and folders != self.scan_job.folders:
                self._scan_queue.append(folders)
                self.status.emit(f"{_names(folders)} will be scanned after the current scan")
            return
        job = ScanJob(self.library_path, folders, self.scan_workers, self._opener, self)
        job.progress.connect(self.scanProgress)
        job.phase.connect(self.scanPhase)
        job.grouped.connect(self._scan_grouped)
        job.finished.connect(self._scan_done)
        job.failed.connect(self._scan_failed)
        self.scan_job = job
        self.busyChanged.emit()
        self._scan_pool.start(job.run)
        self.scanStarted.emit(folders)

    def _scan_grouped(self) -> None:
        self.reload_people()

    def cancel_scan(self) -> None:
        self._scan_queue.clear()
        if self.scan_job is not None:
            self.scan_job.cancel()
            self.status.emit("Stopping the scan; what was scanned is kept…")

    def _scan_done(self, summary) -> None:
        self._end_scan()
        if summary.changed or summary.moved:
            self.images.clear()  # edited or moved photos: crops from the new pixels
        self.scanFinished.emit(summary)
        if summary.failed or summary.skipped:
            self.photoErrors.emit(list(summary.failed) + list(summary.skipped))
        self.changed()
        self._next_scan()

    def _scan_failed(self, exc) -> None:
        self._end_scan()
        self.report_error(exc)
        self.scanFinished.emit(None)
        self.changed()
        self._next_scan()

    def _end_scan(self) -> None:
        job, self.scan_job = self.scan_job, None
        if job is not None:
            job.deleteLater()
        self.busyChanged.emit()

    def _next_scan(self) -> None:
        if self._scan_queue:
            self.scan(self._scan_queue.pop(0))

    def show_photo_errors(self) -> None:
        """Every unreadable photo in the library (not only the last scan's)."""
        self.run(lambda lib: [(e["path"], e["error"]) for e in lib.photo_errors()], self.photoErrors.emit)

    def show_missing_photos(self) -> None:
        """Photos whose folder was gone, empty or unreadable at a scan (an unmounted drive)."""
        def read(lib):
            return [(m["path"], f"{m['faces']} faces, {m['named'] or 0} named") for m in lib.missing_photos()]

        self.run(read, self.missingPhotos.emit)

    def forget_missing(self) -> None:
        def done(n):
            self.status.emit(f"Forgot {plural(n, 'missing photo')}")
            self.changed()

        self.runner.submit(lambda lib: lib.forget_missing(), done, self.report_error)

    # -- folders --------------------------------------------------------------------------------
    def load_folders(self, on_done: Callable) -> None:
        self.run(lambda lib: lib.folders(), on_done)

    def rescan_all(self) -> None:
        """Scan every folder of the library that is there now (F5); a folder that is gone is
        left for the user to see in Folders, its photos kept."""
        def scan(folders):
            present = [f["path"] for f in folders if f["exists"]]
            if present:
                self.scan(present)
            else:
                self.problem.emit("No library folder to scan: open a folder of photos (Ctrl+O)")

        self.load_folders(scan)

    def remove_folder(self, path: str, on_done: Callable | None = None) -> None:
        def done(n):
            self.status.emit(f"Removed {path} from the library with {plural(n, 'photo')}; the files are untouched")
            self.changed()
            if on_done is not None:
                on_done(n)

        self.runner.submit(lambda lib: lib.remove_folder(path), done, self.report_error)

    # -- settings -------------------------------------------------------------------------------
    def read_settings(self, on_done: Callable[[dict], None]) -> None:
        from .. import xmp

        def read(lib):
            return {
                "min_face_size": lib.detector_settings().min_face_size,
                "strictness": round(lib.threshold / lib.card.threshold, 3),
                "threshold": lib.threshold,
                "read_xmp": xmp.read_enabled(lib.db),
                "write_xmp": xmp.write_enabled(lib.db),
            }

        self.run(read, on_done)

    def apply_settings(self, min_face_size: int, strictness: float, read_xmp: bool | None = None,
                       write_xmp: bool | None = None) -> None:
        from .. import xmp

        def apply(lib):
            lib.set_min_face_size(min_face_size)
            for key, on in ((xmp.SETTING_READ, read_xmp), (xmp.SETTING_WRITE, write_xmp)):
                if on is not None:
                    lib.db.set_setting(key, "1" if on else "0")
            if abs(lib.threshold / lib.card.threshold - strictness) < 1e-6:
                return False
            lib.set_strictness(strictness)
            lib.refresh()  # suggestions and groups follow the new strictness
            return True

        def done(regrouped):
            self.status.emit("Settings saved; faces regrouped with the new strictness" if regrouped
                             else "Settings saved")
            if regrouped:
                self.changed()

        self.status.emit("Saving settings…")
        self.run(apply, done)

    def switch_library(self, path) -> None:
        """Use another library file (never during a scan)."""
        path = Path(path).expanduser()
        if path == self.library_path:
            return
        if self.scanning:
            self.problem.emit("Wait for the scan to finish before switching libraries")
            return
        self.runner.shutdown()
        self.runner.deleteLater()
        self.library_path = path
        self.runner = self._make_runner()
        self.images.clear()
        self.status.emit(f"Opened the library {path}")
        self.changed()

    # -- closing --------------------------------------------------------------------------------
    def shutdown(self) -> None:
        self._scan_queue.clear()
        if self.scan_job is not None:
            self.scan_job.cancel(closing=True)
        self._scan_pool.waitForDone()
        self.runner.shutdown()
        self.images.shutdown()


def _write_touched(lib, touched=None):
    """The sidecars of the photos the latest decision touched, when the library's setting asks."""
    from ..xmp.writer import after_decision

    try:
        return after_decision(lib.db, touched)
    except Exception:  # the decision stands; a sidecar problem must not look like its failure
        log.exception("writing XMP sidecars failed")
        return None


def _names(folders) -> str:
    return ", ".join(Path(f).name or f for f in folders)
