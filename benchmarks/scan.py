"""Scan speed: photos/s and where the time goes, for small LFW photos and for 12 MP JPEGs.

    python benchmarks/scan.py [--data ../shared/data] [--lfw 500] [--big 24] [--workers N]

(a) ``--lfw`` LFW photos (250x250, spread evenly over the sorted list), scanned through a folder of
    symlinks; (b) ``--big`` 12 MP JPEGs (4000x3000, quality 90) made for the run in a temporary
    folder from real photos with faces (``detection/`` and ``album-mini/``): a different random
    crop of a source per photo, flipped every other time, upscaled, with a little sensor-like grain
    so that the files are about as large as a camera's (and all differ). Each set is scanned into a
    fresh library with the default number of workers (target: >= 8 photos/s for 12 MP photos on a
    2-core machine), then scanned again unchanged (should take next to nothing).

``--peer`` also runs face_recognition's pipeline on the same LFW photos in one process (dlib's
HOG detector upsampling once on photos shrunk to at most 1024 px, its 5-point shape predictor and
ResNet descriptor, through ``dlib-bin`` and ``face-recognition-models``: what
``face_recognition.face_encodings`` does), scans them with one worker too, and prints the ratio of
photos/s per process.

Printed: wall-clock photos/s of the scan (and with the grouping that follows it), the stage
seconds per photo summed over workers (read = read + hash, decode, detect, embed = align +
embed, store = the main process writing SQLite), the rescan time, and the peak resident memory
of the largest scan worker (target: <= 1 GB).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from photoface.library import Library  # noqa: E402
from photoface.scan import worker_count  # noqa: E402

DEFAULT_DATA = Path(os.environ.get("PHOTOFACE_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
STAGES = ("read", "decode", "detect", "embed", "store")


def link_lfw(data: Path, folder: Path, n: int) -> int:
    paths = sorted((data / "lfw" / "images").glob("*/*.jpg"))
    if not paths:
        raise SystemExit(f"LFW not found under {data}")
    pick = np.linspace(0, len(paths) - 1, min(n, len(paths))).round().astype(int)
    folder.mkdir(parents=True, exist_ok=True)
    for i in pick:
        (folder / paths[i].name).symlink_to(paths[i].resolve())
    return len(pick)


def make_big_photos(data: Path, folder: Path, n: int, size=(4000, 3000), quality=90, grain=3.0, seed=0) -> list[Path]:
    """``n`` distinct JPEGs of ``size`` made from real photos with faces."""
    from PIL import Image

    sources = sorted((data / "detection").glob("*.jpg")) + sorted((data / "album-mini").glob("*/**/*.jpg"))
    sources = [p for p in sources if p.name != "dogs.jpg"]
    if not sources:
        raise SystemExit(f"no source photos under {data}/detection or album-mini")
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    aspect = size[0] / size[1]
    for i in range(n):
        src = Image.open(sources[i % len(sources)]).convert("RGB")
        w, h = src.size
        # The largest 4:3 box, then a random 75-100% of it: a different crop every time.
        cw, ch = (w, w / aspect) if w / aspect <= h else (h * aspect, h)
        f = rng.uniform(0.75, 1.0)
        cw, ch = cw * f, ch * f
        x0, y0 = rng.uniform(0, w - cw), rng.uniform(0, h - ch)
        img = src.crop((round(x0), round(y0), round(x0 + cw), round(y0 + ch))).resize(size, Image.BICUBIC)
        if i % 2:
            img = img.transpose(Image.FLIP_LEFT_RIGHT)
        pixels = np.asarray(img, np.float32)
        if grain:
            pixels += rng.normal(0.0, grain, pixels.shape).astype(np.float32)
        path = folder / f"big_{i:03d}.jpg"
        Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(path, quality=quality)
        out.append(path)
    return out


def peer_bench(folder: Path) -> float:
    """face_recognition's pipeline on every photo of ``folder`` in this process: photos/s."""
    import dlib
    import face_recognition_models as models
    from PIL import Image

    hog = dlib.get_frontal_face_detector()
    shape = dlib.shape_predictor(models.pose_predictor_five_point_model_location())
    net = dlib.face_recognition_model_v1(models.face_recognition_model_location())
    photos = sorted(folder.iterdir())
    faces = 0
    t = time.perf_counter()
    for path in photos:
        img = Image.open(path).convert("RGB")
        if max(img.size) > 1024:
            img.thumbnail((1024, 1024))
        rgb = np.asarray(img)
        for rect in hog(rgb, 1):
            net.compute_face_descriptor(rgb, shape(rgb, rect), 1)
            faces += 1
    seconds = time.perf_counter() - t
    print(f"\n== peer: face_recognition's pipeline (dlib HOG + 5-point + ResNet), one process ==")
    print(f"{len(photos)} photos, {faces} faces in {seconds:.2f} s = {len(photos) / seconds:.2f} photos/s")
    return len(photos) / seconds


class WorkerMemory:
    """The largest peak resident set (VmHWM) of this process's children while it runs, read from
    /proc every 0.1 s: the scan's workers exit without being waited for, so getrusage's
    RUSAGE_CHILDREN never sees them."""

    def __init__(self):
        self.peak_kb, self._stop = 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.available = Path("/proc/self/status").exists()
        if self.available:
            self._thread.start()

    def _run(self):
        me = str(os.getpid())
        while not self._stop.wait(0.1):
            for stat in Path("/proc").glob("[0-9]*/stat"):
                try:
                    if stat.read_text().rsplit(")", 1)[1].split()[1] != me:
                        continue
                    self.peak_kb = max(self.peak_kb, peak_kb(stat.parent / "status"))
                except (OSError, IndexError, ValueError, StopIteration):
                    continue  # a process that ended while being read

    def stop(self) -> str:
        if not self.available:
            return "n/a (no /proc)"
        self._stop.set()
        self._thread.join()
        return f"{self.peak_kb / 1024:.0f} MB"


def bench(title: str, folder: Path, library: Path, workers: int | None) -> float:
    reset_own_peak()
    watch = WorkerMemory()
    lib = Library.open(library)
    t = time.perf_counter()
    s = lib.scan([folder], workers=workers)
    total = time.perf_counter() - t
    done = s.new + s.changed + len(s.failed)
    st = s.stage_seconds
    used = worker_count(workers)
    print(f"\n== {title} ==")
    print(f"{s.found} photos, {s.faces} faces, {len(s.failed)} failed, {used} workers")
    print(f"scan: {s.seconds:.2f} s = {done / s.seconds:.2f} photos/s wall-clock; "
          f"with the grouping after it {total:.2f} s = {done / total:.2f} photos/s")
    print("per photo (s, summed over workers): " + ", ".join(f"{k} {st.get(k, 0.0) / done:.4f}" for k in STAGES))
    work = sum(st.get(k, 0.0) for k in STAGES if k != "store")
    print(f"worker time {work / done:.4f} s/photo -> at most {used * done / work:.2f} photos/s on {used} busy "
          f"workers; wall {s.seconds / done:.4f} s/photo (the rest: pool start-up, model loading, idle)")
    t = time.perf_counter()
    s2 = lib.scan([folder], workers=workers)
    total2 = time.perf_counter() - t
    print(f"rescan, unchanged: {s2.unchanged} unchanged, {s2.new + s2.changed} analysed; scan {s2.seconds:.3f} s, "
          f"with the grouping after it {total2:.3f} s")
    lib.close()
    if used == 1 or done <= 2:  # the scanner analyses in this process then: no child to watch
        watch.stop()
        print(f"peak memory of this process (it analysed the photos itself): {own_peak()}")
    else:
        print(f"peak memory of the largest scan worker: {watch.stop()} (target <= 1024 MB)")
    return done / s.seconds


def reset_own_peak() -> None:
    """Start this process's VmHWM afresh (Linux: 5 to clear_refs), so a run's peak is its own."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def peak_kb(status: Path) -> int:
    """A process's peak resident set (VmHWM) from its /proc status file, in kB."""
    return next(int(line.split()[1]) for line in status.read_text().splitlines() if line.startswith("VmHWM:"))


def own_peak() -> str:
    status = Path("/proc/self/status")
    return f"{peak_kb(status) / 1024:.0f} MB" if status.exists() else "n/a (no /proc)"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--lfw", type=int, default=500, help="LFW photos to scan (0: skip)")
    ap.add_argument("--big", type=int, default=24, help="12 MP JPEGs to make and scan (0: skip)")
    ap.add_argument("--grain", type=float, default=3.0, help="noise sigma added to the 12 MP photos (0: none)")
    ap.add_argument("--workers", type=int, default=None, help="scan processes (default: the library's, one per core up to 4)")
    ap.add_argument("--peer", action="store_true",
                    help="also face_recognition's pipeline on the LFW photos; both in one process, with the ratio")
    ap.add_argument("--library", type=Path, default=None,
                    help="folder for the libraries and the made photos (default: a new temporary folder, removed after)")
    args = ap.parse_args(argv)

    tmp = args.library or Path(tempfile.mkdtemp(prefix="photoface-scan-"))
    tmp.mkdir(parents=True, exist_ok=True)
    try:
        load = os.getloadavg()
        print(f"machine: {os.cpu_count()} cores, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at start")
        if args.lfw:
            shutil.rmtree(tmp / "lfw", ignore_errors=True)
            (tmp / "lfw.sqlite3").unlink(missing_ok=True)
            n = link_lfw(args.data, tmp / "lfw", args.lfw)
            bench(f"LFW: {n} photos, 250x250", tmp / "lfw", tmp / "lfw.sqlite3", args.workers)
            if args.peer:
                (tmp / "lfw1.sqlite3").unlink(missing_ok=True)
                ours = bench(f"LFW: {n} photos, one worker (per process, for the peer)", tmp / "lfw", tmp / "lfw1.sqlite3", 1)
                theirs = peer_bench(tmp / "lfw")
                print(f"\nper process: PhotoFace {ours:.2f} photos/s, face_recognition {theirs:.2f} photos/s: "
                      f"{ours / theirs:.2f}x")
        if args.big:
            shutil.rmtree(tmp / "big", ignore_errors=True)
            (tmp / "big.sqlite3").unlink(missing_ok=True)
            t = time.perf_counter()
            made = make_big_photos(args.data, tmp / "big", args.big, grain=args.grain)
            mb = sum(p.stat().st_size for p in made) / len(made) / 1e6
            print(f"\n(made {len(made)} 4000x3000 JPEGs, quality 90, {mb:.1f} MB each on average, "
                  f"in {time.perf_counter() - t:.1f} s)")
            bench(f"12 MP JPEGs: {len(made)} photos, 4000x3000", tmp / "big", tmp / "big.sqlite3", args.workers)
    finally:
        if args.library is None:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
