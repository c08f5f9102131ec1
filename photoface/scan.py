"""Scanning folders into the library: incremental, resumable, never stopped by a bad photo.

    files -> (pool of processes) read, hash, decode, detect, align, embed -> store

Each photo's result is committed in its own transaction as it arrives, so a crash or Ctrl-C keeps
everything done so far and the next scan resumes where this one stopped. Unchanged files (same
size and mtime, else the same content hash) are skipped; a moved or renamed photo (same hash,
old path gone) keeps its faces and names. At the end of a complete scan a photo gone from a folder
that still holds photos is removed; one whose folder is gone, empty or unreadable (an unmounted
drive) is only marked missing, with its faces and names, until it returns or the user forgets it.
"""

from __future__ import annotations

import errno
import multiprocessing
import os
import signal
import stat
import sqlite3
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from .align import frontality
from .analyse import Analyser, PhotoResult, file_hash
from .detection import DetectorSettings
from .errors import PhotoFaceError, UserError
from .store import Database
from .store.records import decode_array, encode_array
from .xmp import read_enabled as xmp_read_enabled
from .xmp.importer import attach_regions, import_names

PHOTO_SUFFIXES = frozenset({
    ".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".webp", ".bmp", ".tif", ".tiff", ".avif",
    # Phones' HEIF photos: read when pillow-heif is installed, otherwise reported as not read.
    ".heic", ".heif", ".hif",
})
MATCH_IOU = 0.5  # a re-analysed photo's face keeps its id (and name) when its box overlaps this much
# ... or, when its box moved (a crop, a mirror, a rotation), when its embedding is within this share
# of the model card's pair threshold of the old face's (squared L2, same model). With the bundled
# model (pair threshold 0.175) edits of astronaut() moved its embedding by 0.0004-0.02 (crop,
# resize, brightness, grey, mirror, 8 degrees rotation, JPEG quality 30): the cut, 0.044, is twice
# the largest, and a quarter of the distance at which two faces may be one person at all.
MATCH_SHARE = 0.25


@dataclass
class ScanProgress:
    done: int
    total: int
    faces: int
    elapsed: float
    path: str = ""
    phase: str = "analysing"

    @property
    def eta(self) -> float | None:
        if self.done == 0 or self.total == 0:
            return None
        return self.elapsed / self.done * (self.total - self.done)


@dataclass
class ScanSummary:
    roots: list[str]
    found: int = 0  # photo files under the roots
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    moved: int = 0
    removed: int = 0
    missing: int = 0  # kept, marked missing: their folder was gone, empty or unreadable
    reembedded: int = 0  # faces given a new model's embedding
    faces: int = 0  # faces found in the photos analysed now
    failed: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    named_from_metadata: int = 0  # faces named from the photos' XMP face regions
    metadata_problems: list[tuple[str, str]] = field(default_factory=list)  # (path, reason): names not read
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason): not photo files, loops, ...
    interrupted: bool = False
    seconds: float = 0.0
    stage_seconds: dict = field(default_factory=dict)  # read, decode, detect, embed (all workers), store

    def to_dict(self) -> dict:
        d = dict(self.__dict__)
        d["failed"] = [{"path": p, "error": e} for p, e in self.failed]
        d["metadata_problems"] = [{"path": p, "error": e} for p, e in self.metadata_problems]
        d["skipped"] = [{"path": p, "reason": r} for p, r in self.skipped]
        d["stage_seconds"] = {k: round(v, 3) for k, v in self.stage_seconds.items()}
        d["seconds"] = round(self.seconds, 3)
        return d


def find_photos(roots: list[Path], skipped: list | None = None) -> dict[str, os.stat_result]:
    """Photo files under ``roots`` (recursively; hidden files and folders skipped).

    Only regular files are returned: a FIFO named ``a.jpg`` would block its reader forever, a
    device never ends. What is passed over for a reason the user should know (such files, broken
    links and link loops, unreadable folders, names that are not UTF-8, which the library cannot
    store) is appended to ``skipped`` as (path shown, reason).
    """
    skipped = [] if skipped is None else skipped
    found: dict[str, os.stat_result] = {}

    def consider(path: str) -> None:
        if not _utf8(path):
            skipped.append((shown_path(path), "the file name is not valid UTF-8: rename it to include it"))
            return
        try:
            st = os.stat(path)
        except OSError as exc:
            if os.path.islink(path):
                why = "a symbolic link loop" if exc.errno == errno.ELOOP else "a broken symbolic link"
                skipped.append((path, why))
            elif exc.errno != errno.ENOENT:  # ENOENT: vanished while walking
                skipped.append((path, f"cannot read it ({exc.strerror})"))
            return
        if stat.S_ISREG(st.st_mode):
            found[path] = st
        else:
            skipped.append((path, f"{_kind(st.st_mode)}, not a photo file"))

    def unreadable(exc: OSError) -> None:
        where = exc.filename or "?"
        why = "a symbolic link loop" if exc.errno == errno.ELOOP else f"cannot read the folder ({exc.strerror})"
        skipped.append((shown_path(where), f"{why}: its photos are kept as missing"))

    for root in roots:
        if not root.is_dir():
            consider(str(root))
            continue
        for folder, dirs, files in os.walk(root, onerror=unreadable):
            kept = []
            for d in sorted(dirs):
                if d.startswith("."):
                    continue
                if _loops_back(os.path.join(folder, d)):
                    skipped.append((shown_path(os.path.join(folder, d)), "a symbolic link loop (a link to a folder above it)"))
                    continue
                if not _utf8(d):
                    skipped.append((shown_path(os.path.join(folder, d)),
                                    "the folder name is not valid UTF-8: rename it to include it"))
                    continue
                kept.append(d)
            dirs[:] = kept
            for name in sorted(files):
                if name.startswith(".") or Path(name).suffix.lower() not in PHOTO_SUFFIXES:
                    continue
                consider(os.path.join(folder, name))
    return found


def _loops_back(path: str) -> bool:
    """A link to its own folder or one above it (never followed: folder links are not walked,
    but the user should know why its photos are not found)."""
    if not os.path.islink(path):
        return False
    target = os.path.realpath(path)
    here = os.path.realpath(os.path.dirname(path))
    return here == target or here.startswith(target.rstrip(os.sep) + os.sep)


def shown_path(path: str) -> str:
    """A path that can be printed and stored whatever bytes its name holds (\\xNN for other bytes)."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # bytes the file system gave that are not UTF-8 (surrogateescape)
        return False
    return True


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISDIR(mode):
        return "a folder"
    return "a special file"


def resolve_roots(paths) -> list[Path]:
    roots = []
    for p in paths:
        path = Path(p).expanduser()
        if not path.exists():
            raise UserError(f"{p}: no such file or folder")
        roots.append(path.resolve())
    return roots


# -- worker side ----------------------------------------------------------------------------
_analyser: Analyser | None = None


def worker_count(workers: int | None) -> int:
    """How many worker processes a scan asked for ``workers`` (None: the default) runs.

    Each worker holds its own models and a decoded photo (~120 MB): more workers than cores only
    add memory (64 on 2 cores took 7.7 GB), never speed."""
    cores = os.cpu_count() or 1
    return max(1, min(workers, cores) if workers is not None else min(cores, 4))


def _init_worker(settings: DetectorSettings, model_dir) -> None:
    global _analyser
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the main process handles Ctrl-C
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
    _analyser = Analyser(settings, model_dir)


def _exit_with_parent(parent: int) -> None:
    # A killed scan (kill -9, a crashed GUI) must not leave its workers running.
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)


def _run_task(task):
    kind, path, payload = task
    if kind == "analyse":
        result = _analyser.analyse(path)
        if payload:  # read names from the photo's XMP
            attach_regions(result, _analyser)
        return result
    try:
        return _analyser.reembed(path, payload)
    except PhotoFaceError as exc:
        return exc


class Scanner:
    """Scans folders into a library. ``cancel`` (a threading.Event) stops it cleanly."""

    def __init__(
        self,
        db: Database,
        settings: DetectorSettings,
        model_version: str,
        model_dir=None,
        workers: int | None = None,
        progress: Callable[[ScanProgress], None] | None = None,
        cancel: threading.Event | None = None,
        match_distance: float = 0.0,
    ):
        self.db = db
        # An edited photo's face keeps its id within this of its old embedding (0: by box only);
        # the library passes MATCH_SHARE of its card's pair threshold.
        self.match_distance = match_distance
        self.workers = worker_count(workers)
        # Each worker process runs its models on one thread: processes already use every core.
        threads = 1 if self.workers > 1 else settings.num_threads
        self.settings = DetectorSettings(**{**settings.__dict__, "num_threads": threads})
        self.model_version = model_version
        self.model_dir = model_dir
        self.progress = progress
        self.cancel = cancel or threading.Event()
        self._touched: list[str] = []  # this scan's photos with new times but the same content
        self.read_xmp = False  # the library's setting, read when a scan starts
        from .people import People

        self._people = People(db, model_version, None)  # only to journal names read from metadata

    # -- planning ---------------------------------------------------------------------------
    def scan(self, paths) -> ScanSummary:
        roots = resolve_roots(paths)
        self.read_xmp = xmp_read_enabled(self.db)
        t0 = time.perf_counter()
        summary = ScanSummary([str(r) for r in roots])
        self._report(ScanProgress(0, 0, 0, 0.0, phase="finding photos"))
        files = find_photos(roots, summary.skipped)
        summary.found = len(files)
        known = self._known_under(roots)
        todo: list[str] = []
        for path, st in files.items():
            row = known.get(path)
            if row is None:
                todo.append(path)
            elif row["size"] == st.st_size and row["mtime_ns"] == st.st_mtime_ns:
                summary.unchanged += 1
            else:
                todo.append(path)
        missing = {p: row for p, row in known.items() if p not in files}
        back = [row["id"] for p, row in known.items() if p in files and row["missing_since"] is not None]
        if back:
            with self.db.transaction() as c:
                c.executemany("UPDATE photos SET missing_since = NULL WHERE id = ?", [(i,) for i in back])
        todo = self._detect_moves(todo, known, missing, summary)
        self._touched = []
        journal_start = self.db.scalar("SELECT COALESCE(MAX(id), 0) FROM journal")
        try:
            pending = set(todo)
            stale = {p: rows for p, rows in self._stale_faces().items() if p not in pending}
            self._run(todo, stale, known, summary, t0)
            # A photo with new times but the same content keeps its faces as they were, so any
            # still embedded by another model are re-embedded now, not left for the next scan.
            if self._touched and not self.cancel.is_set():
                touched = set(self._touched)
                stale = {p: rows for p, rows in self._stale_faces().items() if p in touched}
                if stale:
                    self._run([], stale, known, summary, t0)
        except KeyboardInterrupt:
            summary.interrupted = True
        if self.cancel.is_set():
            summary.interrupted = True
        if summary.named_from_metadata:
            self._people.squash_imports(journal_start, f"named {summary.named_from_metadata} faces from photos' metadata")
        if not summary.interrupted and missing:
            removed, absent = _removed_or_absent(missing, files)
            now = time.time()
            with self.db.transaction() as c:
                for row in removed:
                    c.execute("DELETE FROM photos WHERE id = ?", (row["id"],))
                for row in absent:
                    c.execute("UPDATE photos SET missing_since = COALESCE(missing_since, ?) WHERE id = ?",
                              (now, row["id"]))
            summary.removed, summary.missing = len(removed), len(absent)
        summary.seconds = time.perf_counter() - t0
        return summary

    def _known_under(self, roots: list[Path]) -> dict[str, sqlite3.Row]:
        known = {}
        for root in roots:
            r = str(root)
            rows = self.db.query(
                "SELECT id, path, size, mtime_ns, hash, status, missing_since FROM photos "
                "WHERE path = ? OR substr(path, 1, ?) = ?",
                (r, len(r) + 1, r + os.sep),
            )
            known.update((row["path"], row) for row in rows)
        return known

    def _detect_moves(self, todo, known, missing, summary) -> list[str]:
        """New paths whose content is a photo whose old path is gone: move it, keep its faces."""
        new = [p for p in todo if p not in known]
        if not new:
            return todo
        # Photos outside the scanned folders may have been moved in, too.
        gone = dict(missing)
        for row in self.db.query("SELECT id, path, hash FROM photos"):
            if row["path"] not in gone and row["path"] not in known and not os.path.exists(row["path"]):
                gone[row["path"]] = row
        if not gone:
            return todo
        by_hash = {}
        for row in gone.values():
            by_hash.setdefault(row["hash"], []).append(row)
        moved = set()
        for i, path in enumerate(new):
            if self.cancel.is_set():
                break
            self._report(ScanProgress(i, len(new), 0, 0.0, path, phase="looking for moved photos"))
            try:
                h = file_hash(path)
            except OSError:
                continue
            rows = by_hash.get(h)
            if not rows:
                continue
            row = rows.pop()
            st = os.stat(path)
            with self.db.transaction() as c:
                # Another scan of the same folder may have stored the new path, or moved the row,
                # since this one planned: then it is not a move for this scan.
                if c.execute("SELECT 1 FROM photos WHERE path = ?", (path,)).fetchone() or not c.execute(
                        "SELECT 1 FROM photos WHERE id = ? AND path = ?", (row["id"], row["path"])).fetchone():
                    continue
                c.execute(
                    "UPDATE photos SET path = ?, size = ?, mtime_ns = ?, missing_since = NULL WHERE id = ?",
                    (path, st.st_size, st.st_mtime_ns, row["id"]),
                )
            missing.pop(row["path"], None)
            moved.add(path)
        summary.moved = len(moved)
        return [p for p in todo if p not in moved]

    def _stale_faces(self) -> dict[str, list[sqlite3.Row]]:
        """Faces embedded by another model version, by photo path (re-embedded lazily)."""
        rows = self.db.query(
            "SELECT f.id, f.landmarks, p.path FROM faces f JOIN photos p ON p.id = f.photo_id "
            "WHERE f.model_version IS NOT ? AND p.missing_since IS NULL ORDER BY p.path",
            (self.model_version,),
        )
        stale: dict[str, list] = {}
        for row in rows:
            stale.setdefault(row["path"], []).append(row)
        return stale

    # -- running ----------------------------------------------------------------------------
    def _run(self, todo, stale, known, summary, t0) -> None:
        tasks = [("analyse", p, self.read_xmp) for p in todo]
        tasks += [
            ("reembed", path, [np.frombuffer(r["landmarks"], np.float32).reshape(5, 2) for r in rows])
            for path, rows in stale.items()
        ]
        total = len(tasks)
        if not total:
            return
        done = 0

        def handle(task, result):
            nonlocal done
            t = time.perf_counter()
            if task[0] == "analyse":
                self._store(result, summary)
                for k, v in result.seconds.items():
                    summary.stage_seconds[k] = summary.stage_seconds.get(k, 0.0) + v
            else:
                self._store_reembedding(stale[task[1]], result, summary)
            summary.stage_seconds["store"] = summary.stage_seconds.get("store", 0.0) + time.perf_counter() - t
            done += 1
            self._report(ScanProgress(done, total, summary.faces, time.perf_counter() - t0, task[1]))

        self._report(ScanProgress(0, total, 0, time.perf_counter() - t0))
        if self.workers == 1 or total <= 2:
            _init_local(self.settings, self.model_dir)
            for task in tasks:
                if self.cancel.is_set():
                    return
                handle(task, _run_task(task))
            return
        self._run_pool(tasks, handle)

    def _run_pool(self, tasks, handle) -> None:
        queue = list(reversed(tasks))
        crashes: dict[tuple, int] = {}
        while queue and not self.cancel.is_set():
            pool = ProcessPoolExecutor(
                self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_worker,
                initargs=(self.settings, self.model_dir),
            )
            running = {}
            try:
                while (queue or running) and not self.cancel.is_set():
                    while queue and len(running) < 2 * self.workers:
                        task = queue.pop()
                        running[pool.submit(_run_task, task)] = task
                    finished, _ = wait(running, timeout=0.25, return_when=FIRST_COMPLETED)
                    for fut in finished:
                        task = running.pop(fut)
                        handle(task, fut.result())
            except BrokenProcessPool:
                # A worker died (a native crash on some file): retry what was in flight once,
                # then record a photo that crashed twice as failed.
                for task in running.values():
                    key = task[:2]
                    crashes[key] = crashes.get(key, 0) + 1
                    if crashes[key] >= 2:
                        handle(task, PhotoResult(task[1], error="the photo crashed the face detector")
                               if task[0] == "analyse" else PhotoFaceError("crashed"))
                    else:
                        queue.append(task)
                continue
            finally:
                pool.shutdown(wait=False, cancel_futures=True)
            break

    # -- storing ----------------------------------------------------------------------------
    def _store(self, result: PhotoResult, summary: ScanSummary) -> None:
        now = time.time()
        path = result.path
        summary.metadata_problems.extend((path, note) for note in result.notes)
        with self.db.transaction() as c:
            # What the library holds now, not what it held when this scan planned: another scan
            # of the same folder may have stored the photo meanwhile.
            old = c.execute("SELECT id, hash, status FROM photos WHERE path = ?", (path,)).fetchone()
            if result.error:
                summary.failed.append((path, result.error))
                # Keep the faces (and names) a photo had if it became unreadable: lose nothing.
                c.execute(
                    "INSERT INTO photos(path, size, mtime_ns, hash, status, error, scanned_at) "
                    "VALUES (?, ?, ?, ?, 'error', ?, ?) ON CONFLICT(path) DO UPDATE SET "
                    "size = excluded.size, mtime_ns = excluded.mtime_ns, status = 'error', "
                    "error = excluded.error, scanned_at = excluded.scanned_at",
                    (path, result.size, result.mtime_ns, result.hash, result.error, now),
                )
                return
            if old is not None and old["hash"] == result.hash and old["status"] == "ok":
                summary.unchanged += 1  # touched, not changed
                self._touched.append(path)
                c.execute(
                    "UPDATE photos SET size = ?, mtime_ns = ?, scanned_at = ? WHERE id = ?",
                    (result.size, result.mtime_ns, now, old["id"]),
                )
                return
            if old is None:
                summary.new += 1
                photo_id = c.execute(
                    "INSERT INTO photos(path, size, mtime_ns, hash, width, height, status, scanned_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, 'ok', ?)",
                    (path, result.size, result.mtime_ns, result.hash, result.width, result.height, now),
                ).lastrowid
                old_faces = []
            else:
                summary.changed += 1
                photo_id = old["id"]
                c.execute(
                    "UPDATE photos SET size = ?, mtime_ns = ?, hash = ?, width = ?, height = ?, "
                    "status = 'ok', error = NULL, scanned_at = ? WHERE id = ?",
                    (result.size, result.mtime_ns, result.hash, result.width, result.height, now, photo_id),
                )
                old_faces = c.execute("SELECT id, x, y, w, h, embedding, model_version FROM faces WHERE photo_id = ?",
                                      (photo_id,)).fetchall()
            summary.faces += len(result.faces)
            kept: set[int] = set()
            matches = []
            for face in result.faces:
                match = _best_overlap(face.box, old_faces, kept)
                matches.append(match)
                if match is not None:
                    kept.add(match)
            _match_by_embedding(result.faces, matches, old_faces, self.model_version, self.match_distance)
            kept = {m for m in matches if m is not None}
            ids, inserted = [], set()
            for face, match in zip(result.faces, matches):
                values = (*face.box, encode_array(face.landmarks), face.score, encode_array(face.embedding),
                          self.model_version, frontality(face.landmarks))
                if match is not None:
                    # An edited photo: the face keeps its id, so its name and decisions stay.
                    c.execute(
                        "UPDATE faces SET x = ?, y = ?, w = ?, h = ?, landmarks = ?, score = ?, "
                        "embedding = ?, model_version = ?, frontal = ? WHERE id = ?",
                        (*values, match),
                    )
                    ids.append(match)
                else:
                    ids.append(c.execute(
                        "INSERT INTO faces(photo_id, x, y, w, h, landmarks, score, embedding, model_version, "
                        "frontal) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (photo_id, *values),
                    ).lastrowid)
                    inserted.add(ids[-1])
            for row in old_faces:
                if row["id"] not in kept:
                    c.execute("DELETE FROM faces WHERE id = ?", (row["id"],))
            if result.regions:
                summary.named_from_metadata += import_names(self._people, c, path, result, ids, inserted)

    def _store_reembedding(self, rows, result, summary: ScanSummary) -> None:
        if isinstance(result, Exception):
            # Unreadable now: its faces (and names) stay, with the old model's embedding, out of
            # grouping and recognition until a scan can read the photo again. Say so.
            path = rows[0]["path"]
            reason = str(result).removeprefix(f"{path}: ")
            summary.failed.append((path, f"{reason} (not re-embedded with the new model: its {len(rows)} "
                                         "face(s) wait for the next scan)"))
            return
        with self.db.transaction() as c:
            for row, emb in zip(rows, result):
                c.execute(
                    "UPDATE faces SET embedding = ?, model_version = ? WHERE id = ?",
                    (encode_array(emb), self.model_version, row["id"]),
                )
        summary.reembedded += len(rows)

    def _report(self, progress: ScanProgress) -> None:
        if self.progress:
            self.progress(progress)


def _removed_or_absent(missing: dict, files: dict) -> tuple[list, list]:
    """Photos not found: removed when their folder still holds photos (the user deleted them),
    else absent (the folder is gone, empty or unreadable: an unmounted drive must not take the
    names with it)."""
    holding = {os.path.dirname(p) for p in files}
    removed, absent = [], []
    for path, row in missing.items():
        (removed if os.path.dirname(path) in holding else absent).append(row)
    return removed, absent


def _init_local(settings, model_dir) -> None:
    global _analyser
    if _analyser is None or _analyser.settings != settings:
        _analyser = Analyser(settings, model_dir)


def _match_by_embedding(faces, matches: list, old_faces, model_version: str, max_distance: float) -> None:
    """Fill in ``matches`` (new face -> old face id) for faces whose box matched none: the old
    face of the same model nearest in embedding, within ``max_distance``, closest pairs first."""
    taken = {m for m in matches if m is not None}
    old = [r for r in old_faces if r["id"] not in taken and r["model_version"] == model_version and r["embedding"]]
    new = [i for i, m in enumerate(matches) if m is None]
    if not old or not new:
        return
    a = np.stack([faces[i].embedding for i in new]).astype(np.float32)
    b = np.stack([decode_array(r["embedding"]) for r in old]).astype(np.float32)
    d = ((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)
    for flat in np.argsort(d, axis=None):
        i, j = divmod(int(flat), len(old))
        if d[i, j] > max_distance:
            break
        if matches[new[i]] is None and old[j]["id"] not in taken:
            matches[new[i]] = old[j]["id"]
            taken.add(old[j]["id"])


def _best_overlap(box, old_faces, taken) -> int | None:
    best, best_iou = None, MATCH_IOU
    x, y, w, h = box
    for row in old_faces:
        if row["id"] in taken:
            continue
        ix = max(0.0, min(x + w, row["x"] + row["w"]) - max(x, row["x"]))
        iy = max(0.0, min(y + h, row["y"] + row["h"]) - max(y, row["y"]))
        inter = ix * iy
        iou = inter / (w * h + row["w"] * row["h"] - inter + 1e-9)
        if iou >= best_iou:
            best, best_iou = row["id"], iou
    return best
