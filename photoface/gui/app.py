"""Starting the desktop app: ``photoface`` (no arguments), ``photoface gui [FOLDER]``.

The window is shown before anything heavy happens: the library opens and loads on a worker
thread once the event loop runs, and the face models load only when a scan starts (in the scan's
worker processes). ``PHOTOFACE_STARTUP_PROBE=1`` prints ``shown <seconds>`` once the window has
been shown and painted, then quits: ``benchmarks/startup.py`` times that.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

_T0 = time.perf_counter()

PROBE_ENV = "PHOTOFACE_STARTUP_PROBE"


def since_process_start() -> float:
    """Seconds since this process started (Linux: from /proc), else since this module loaded."""
    try:
        with open("/proc/self/stat") as f:
            started = int(f.read().rsplit(")", 1)[1].split()[19]) / os.sysconf("SC_CLK_TCK")
        with open("/proc/uptime") as f:
            return float(f.read().split()[0]) - started
    except (OSError, ValueError, IndexError):
        return time.perf_counter() - _T0


def _parse(argv):
    p = argparse.ArgumentParser(prog="photoface gui", description="Open the PhotoFace window.")
    p.add_argument("folder", nargs="?", help="a folder of photos to scan at once")
    p.add_argument("--library", metavar="FILE", help="library file (default: the one chosen in Settings, "
                   "else $PHOTOFACE_LIBRARY or the user data folder)")
    p.add_argument("--workers", type=int, default=None, help="scan processes (default: one per core)")
    return p.parse_args(argv)


def create_app(argv=None):
    """The QApplication (one per process), set up for high-DPI screens with the app's icon."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication

    # Worker threads (thumbnails, library calls, an in-process scan) run Python too: hand the GIL
    # back to the GUI thread after 1 ms rather than 5 ms, so a paint (hundreds of calls into Qt,
    # each releasing and retaking the GIL) is not stretched by waits for it.
    sys.setswitchinterval(min(sys.getswitchinterval(), 0.001))
    app = QApplication.instance()
    if app is not None:
        return app
    QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
    app = QApplication(list(argv or sys.argv[:1]))
    app.setApplicationName("PhotoFace")
    app.setOrganizationName("PhotoFace")
    app.setApplicationDisplayName("PhotoFace")
    app.setDesktopFileName("photoface")
    from .icons import app_icon

    app.setWindowIcon(app_icon())
    return app


def _probe_first_paint(app, window) -> None:
    """Print ``shown <seconds since the process started>`` once the window has painted, then quit."""
    from PySide6.QtCore import QEvent, QObject, QTimer

    class FirstPaint(QObject):
        def eventFilter(self, obj, event):
            if event.type() == QEvent.Paint and not getattr(self, "seen", False):
                self.seen = True
                QTimer.singleShot(0, done)  # after this paint has been drawn
            return False

    def done():
        print(f"shown {since_process_start():.3f}", flush=True)
        window.close()
        app.quit()

    window._first_paint_probe = FirstPaint(window)
    window.installEventFilter(window._first_paint_probe)


def main(argv=None) -> int:
    args = _parse(sys.argv[1:] if argv is None else argv)
    from .xcb import check

    problem = check()
    if problem:  # Qt would abort (exit 134) with a message that names no package
        print(problem, file=sys.stderr)
        return 1
    app = create_app()
    from PySide6.QtCore import QTimer

    from .main_window import MainWindow
    from .settings import AppSettings, resolve_library_path

    settings = AppSettings()
    window = MainWindow(resolve_library_path(args.library, settings), settings, scan_workers=args.workers)
    if os.environ.get(PROBE_ENV):
        _probe_first_paint(app, window)  # before show(): the first paint must not be missed
    window.show()
    if args.folder and not os.environ.get(PROBE_ENV):
        QTimer.singleShot(0, lambda: window.open_folder(args.folder))
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
