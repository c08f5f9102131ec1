"""Event-loop latency of the window during a real scan (the GUI must never block).

    python benchmarks/gui_latency.py [--photos 300] [--workers N] [--data ../shared/data]

A real main window (offscreen without a display) on a fresh library scans a folder of ``--photos``
LFW photos (symlinks, spread over the sorted list). Meanwhile a QTimer asks to tick every 10 ms
on the GUI thread; each tick's lateness (time since the previous tick minus 10 ms) is how long
the event loop could not respond. The scan's progress updates, the regrouping after it, the
people grid's reload and its thumbnails all happen during the measurement. Printed: ticks, max /
p99 / median lateness, and the 100 ms target. ``--workers`` is the number of scan processes
(default: the app's, one per core up to 4; 1 analyses in a thread of the app's own process).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_DATA = Path(os.environ.get("PHOTOFACE_DATA", ROOT.parent / "shared" / "data"))
TICK_MS = 10
TARGET_MS = 100


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--photos", type=int, default=300)
    p.add_argument("--workers", type=int, default=None)
    p.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = p.parse_args(argv)
    lfw = sorted((args.data / "lfw" / "images").glob("*/*.jpg"))
    if not lfw:
        raise SystemExit(f"no LFW photos under {args.data / 'lfw' / 'images'} (use --data)")

    if not any(os.environ.get(v) for v in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    tmp = Path(tempfile.mkdtemp(prefix="photoface-latency-"))
    os.environ["XDG_CONFIG_HOME"] = str(tmp / "config")  # QSettings: not the user's
    folder = tmp / "photos"
    folder.mkdir()
    for i in np.linspace(0, len(lfw) - 1, args.photos).astype(int):
        (folder / lfw[i].name).symlink_to(lfw[i])

    from PySide6.QtCore import QElapsedTimer, QSettings, QTimer

    from photoface.gui.app import create_app
    from photoface.gui.main_window import MainWindow
    from photoface.gui.settings import AppSettings

    app = create_app()
    window = MainWindow(tmp / "library.sqlite3", AppSettings(QSettings(str(tmp / "s.ini"), QSettings.IniFormat)),
                        scan_workers=args.workers)
    window.show()

    clock = QElapsedTimer()
    gaps: list[float] = []
    last = [0.0]

    def tick():
        now = clock.nsecsElapsed() / 1e6
        gaps.append(now - last[0] - TICK_MS)
        last[0] = now

    timer = QTimer()
    timer.setTimerType(timer.timerType().PreciseTimer)
    timer.setInterval(TICK_MS)
    timer.timeout.connect(tick)

    def start():
        clock.start()
        last[0] = 0.0
        timer.start()
        window.open_folder(str(folder))

    finished = []
    window.controller.scanFinished.connect(lambda s: finished.append((time.perf_counter(), s)))
    t0 = time.perf_counter()
    QTimer.singleShot(200, start)

    def check():
        if finished and window.is_idle() and window.controller.images.idle:
            QTimer.singleShot(500, app.quit)  # the thumbnails of the reloaded grid paint too
        else:
            QTimer.singleShot(50, check)

    QTimer.singleShot(300, check)
    app.exec()
    timer.stop()
    window.close()

    summary = finished[0][1]
    if summary is None:
        raise SystemExit("the scan failed (see the log above): no measurement")
    late = np.maximum(np.array(gaps[1:]), 0.0)
    print(f"scanned {summary.found} photos, {summary.faces} faces in {summary.seconds:.1f} s "
          f"(workers: {args.workers or 'default'}); measured {time.perf_counter() - t0:.1f} s in all")
    print(f"{len(late)} ticks of {TICK_MS} ms: lateness max {late.max():.1f} ms, "
          f"p99 {np.percentile(late, 99):.1f} ms, median {np.median(late):.1f} ms")
    print(f"target: max <= {TARGET_MS} ms: {'met' if late.max() <= TARGET_MS else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
