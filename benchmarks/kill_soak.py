"""Kill -9 soak: scans killed at random moments leave a library that a rescan makes whole.

    python benchmarks/kill_soak.py [--runs 5] [--photos 300] [--workers 2] [--seed 0]

A folder of ``--photos`` LFW photos (250x250, spread over the sorted list; ``--data``) is scanned
once without interruption into a reference library. Then, ``--runs`` times: a fresh library, a scan
(``python -m photoface scan``, its own process group) killed with SIGKILL at a random moment of the
reference scan's duration, ``PRAGMA integrity_check`` on what it left, and a rescan to the end.
The rescanned library must hold what the reference holds: the same photos (path, content hash,
status), the same faces of each (box to 0.1 px), every face grouped or suggested, no duplicate
paths. Printed: one line per run and the count of runs and mismatches (0 expected). Whether the
faces fell into the same groups is printed too; it is not counted as a mismatch (grouping sees the
faces in id order, which a kill changes).
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = Path(os.environ.get("PHOTOFACE_DATA", ROOT.parent / "shared" / "data"))


def link_lfw(data: Path, folder: Path, n: int) -> None:
    paths = sorted((data / "lfw" / "images").glob("*/*.jpg"))
    if not paths:
        sys.exit(f"no LFW photos under {data / 'lfw' / 'images'} (give --data)")
    step = max(1, len(paths) // n)
    folder.mkdir(parents=True)
    for i, p in enumerate(paths[::step][:n]):
        (folder / f"{i:04d}_{p.name}").symlink_to(p)


def scan_command(lib: Path, folder: Path, workers: int) -> list[str]:
    return [sys.executable, "-m", "photoface", "scan", "--library", str(lib), "--workers", str(workers),
            "--quiet", str(folder)]


def run_scan(lib: Path, folder: Path, workers: int) -> float:
    t = time.perf_counter()
    subprocess.run(scan_command(lib, folder, workers), check=True, capture_output=True, env=_env(), timeout=3600)
    return time.perf_counter() - t


def killed_scan(lib: Path, folder: Path, workers: int, after: float) -> None:
    proc = subprocess.Popen(scan_command(lib, folder, workers), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=_env(), start_new_session=True)
    try:
        proc.wait(timeout=after)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the scan and its workers, as a crash would
        proc.wait()


def _env() -> dict:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def integrity(lib: Path) -> str:
    if not lib.exists():
        return "ok (nothing written yet)"
    con = sqlite3.connect(lib)
    try:
        return con.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        con.close()


def contents(lib: Path) -> dict:
    """What a user would notice: photos, their faces, and that every face has a place."""
    con = sqlite3.connect(lib)
    try:
        photos = sorted(con.execute("SELECT path, hash, status FROM photos").fetchall())
        faces = sorted(con.execute(
            "SELECT p.path, ROUND(f.x, 1), ROUND(f.y, 1), ROUND(f.w, 1), ROUND(f.h, 1) "
            "FROM faces f JOIN photos p ON p.id = f.photo_id").fetchall())
        unplaced = con.execute("SELECT COUNT(*) FROM faces f LEFT JOIN assignments a ON a.face_id = f.id "
                               "WHERE a.face_id IS NULL AND f.ignored = 0").fetchone()[0]
        duplicates = con.execute("SELECT COUNT(*) - COUNT(DISTINCT path) FROM photos").fetchone()[0]
        groups = {}
        for path, x, y, gid in con.execute(
                "SELECT p.path, ROUND(f.x, 1), ROUND(f.y, 1), a.group_id FROM faces f "
                "JOIN photos p ON p.id = f.photo_id JOIN assignments a ON a.face_id = f.id"):
            groups.setdefault(gid, set()).add((path, x, y))
        partition = sorted(sorted(g) for g in groups.values())
    finally:
        con.close()
    return {"photos": photos, "faces": faces, "unplaced": unplaced, "duplicates": duplicates,
            "partition": partition}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--photos", type=int, default=300)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="photoface-soak-") as tmp:
        tmp = Path(tmp)
        folder = tmp / "photos"
        link_lfw(args.data, folder, args.photos)
        reference = tmp / "reference.sqlite3"
        seconds = run_scan(reference, folder, args.workers)
        want = contents(reference)
        print(f"reference: {len(want['photos'])} photos, {len(want['faces'])} faces, scanned in {seconds:.1f} s")
        mismatches = regrouped = 0
        for run in range(1, args.runs + 1):
            lib = tmp / f"run{run}.sqlite3"
            after = rng.uniform(0.5, seconds)
            killed_scan(lib, folder, args.workers, after)
            left = integrity(lib)
            kept = len(contents(lib)["photos"]) if lib.exists() else 0
            run_scan(lib, folder, args.workers)
            got = contents(lib)
            problems = [k for k in ("photos", "faces") if got[k] != want[k]]
            problems += [k for k in ("unplaced", "duplicates") if got[k]]
            if not left.startswith("ok"):
                problems.append(f"integrity: {left}")
            same_groups = got["partition"] == want["partition"]
            mismatches += bool(problems)
            regrouped += not same_groups
            print(f"run {run}: killed after {after:.1f} s with {kept} photos stored; integrity {left}; "
                  f"after the rescan {'MISMATCH: ' + ', '.join(problems) if problems else 'same as the reference'}"
                  f"{'' if same_groups else ' (grouped differently)'}")
        print(f"{args.runs} runs, {mismatches} mismatches ({regrouped} grouped differently from the reference)")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
