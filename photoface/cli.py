"""Command line: ``photoface COMMAND ...`` (``python -m photoface`` is the same).

``detect`` lives here; the library commands (scan, people, name, ...) in ``cli_library``.
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import sys

from . import __version__
from .errors import PhotoFaceError


def _thresholds(text: str) -> tuple[float, float, float]:
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError("expected three numbers like 0.6,0.7,0.8") from None
    if len(values) != 3 or not all(0 <= v < 1 for v in values):
        raise argparse.ArgumentTypeError("expected three scores in [0, 1), like 0.6,0.7,0.8")
    return values


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def build_parser() -> argparse.ArgumentParser:
    from .detection import DetectorSettings

    defaults = DetectorSettings()
    parser = argparse.ArgumentParser(
        prog="photoface", description="Find, group and recognise the people in your photos."
    )
    parser.add_argument("--version", action="version", version=f"photoface {__version__}")
    parser.add_argument(
        "--self-test", nargs="?", const=True, default=None, metavar="IMAGE",
        help="check this installation without a window: load every model and run it on a "
        "synthetic input (or, given IMAGE, detect, align and embed its faces with timings); "
        "exit 0 if all is well",
    )
    # Also before the command (``photoface --library F people``), as users of git -C expect.
    parser.add_argument("--library", dest="library_first", metavar="FILE",
                        help="library file for any command (default: $PHOTOFACE_LIBRARY or the user data folder)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("detect", help="find faces and their landmarks in photos")
    p.add_argument("images", nargs="+", metavar="IMAGE", help="photo files")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.add_argument(
        "--min-face-size", type=_positive_int, default=defaults.min_face_size, metavar="PX",
        help=f"smallest face to find, in photo pixels (default {defaults.min_face_size})",
    )
    p.add_argument(
        "--max-size", type=_positive_int, default=defaults.max_working_side, metavar="PX",
        help="longest side the photo is scaled to for detection "
        f"(default {defaults.max_working_side}; larger finds smaller faces, slower)",
    )
    p.add_argument(
        "--thresholds", type=_thresholds, default=defaults.thresholds, metavar="P,R,O",
        help="score thresholds of the three detector stages (default %s)"
        % ",".join(str(t) for t in defaults.thresholds),
    )
    p.set_defaults(run=run_detect)

    from .cli_library import add_library_commands

    add_library_commands(sub)

    p = sub.add_parser("gui", help="open the PhotoFace window (the default with no command)",
                       description="Open the PhotoFace window.")
    p.add_argument("folder", nargs="?", metavar="FOLDER", help="a folder of photos to scan at once")
    p.add_argument("--library", metavar="FILE", help="library file (default: $PHOTOFACE_LIBRARY or the user data folder)")
    p.set_defaults(run=run_gui)
    return parser


def _no_display() -> bool:
    """On Linux/BSD without X11, Wayland or an explicit Qt platform, Qt would abort the process."""
    if sys.platform.startswith(("win", "darwin")):
        return False
    return not any(os.environ.get(v) for v in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"))


def run_gui(args) -> int:
    if _no_display():
        _error("no display to open the window on (DISPLAY and WAYLAND_DISPLAY are unset); "
               "the command line works without one: photoface --help")
        return 2
    argv = [args.folder] if getattr(args, "folder", None) else []
    if getattr(args, "library", None):
        argv += ["--library", args.library]
    try:
        from .gui import main as gui_main  # Qt is imported only for the window
        import PySide6  # noqa: F401
    except ImportError as exc:
        _error(f"the window needs PySide6 ({exc}); install it with: pip install PySide6-Essentials")
        return 1
    return gui_main(argv)


def run_detect(args) -> int:
    from .detection import DetectorSettings, FaceDetector

    try:
        settings = DetectorSettings(
            min_face_size=args.min_face_size,
            max_working_side=args.max_size,
            thresholds=args.thresholds,
        )
    except ValueError as exc:
        _error(str(exc))
        return 2
    detector = FaceDetector(settings)
    results, failed = [], 0
    for path in args.images:
        try:
            det = detector.detect_file(path)
        except PhotoFaceError as exc:
            failed += 1
            _error(str(exc))
            results.append({"path": path, "error": getattr(exc, "reason", str(exc))})
            continue
        if args.json:
            results.append(det.to_dict())
        else:
            _print_detection(det)
    if args.json:
        json.dump(results, sys.stdout, indent=2)
        sys.stdout.write("\n")
    return 1 if failed else 0


def _print_detection(det) -> None:
    n = len(det.faces)
    print(f"{det.path} ({det.width}x{det.height}): {n} face{'s' if n != 1 else ''}")
    for i, face in enumerate(det.faces, 1):
        d = face.to_dict()
        x, y, w, h = d["box"]
        marks = "  ".join(f"{k} {v[0]:.0f},{v[1]:.0f}" for k, v in d["landmarks"].items())
        print(f"  face {i}: box [{x:.0f}, {y:.0f}, {w:.0f}, {h:.0f}] score {d['score']:.3f}")
        print(f"          {marks}")


def _error(message: str) -> None:
    print(f"photoface: error: {message}", file=sys.stderr)


def _library_fault(exc) -> str:
    text = str(exc)
    if "disk is full" in text or "disk I/O" in text:
        return "the disk is full or failing (free some space and run the command again)"
    if "readonly" in text or "read-only" in text:
        return "the library cannot be written (read-only file, folder or disk)"
    if "locked" in text or "busy" in text:
        return "another PhotoFace is writing to it; try again in a moment"
    return text


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv:  # `photoface` alone opens the window
        return run_gui(argparse.Namespace(folder=None, library=None))
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.self_test is not None:
        from .selftest import run as self_test

        return _guarded(lambda: self_test(None if args.self_test is True else args.self_test))
    if args.library_first and getattr(args, "library", None) is None:
        args.library = args.library_first
    if not getattr(args, "run", None):
        if args.library_first:  # `photoface --library F` alone: the window on that library
            return run_gui(argparse.Namespace(folder=None, library=args.library_first))
        parser.print_help()
        return 0
    return _guarded(lambda: args.run(args))


def _guarded(command) -> int:
    """Run a command: its errors as one line, Ctrl-C as exit 130, a closed pipe as success."""
    import sqlite3

    try:
        return command()
    except PhotoFaceError as exc:
        _error(str(exc))
        return 1
    except sqlite3.Error as exc:
        # Every change is one transaction: a failed one changed nothing.
        _error(f"the library: {_library_fault(exc)}; nothing of the failed step was saved")
        return 1
    except KeyboardInterrupt:
        _error("interrupted")
        return 130
    except BrokenPipeError:
        # `photoface people | head`: the reader left; not an error. Python would complain again
        # when flushing stdout at exit, so point it at nothing.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:  # after BrokenPipeError, which is one
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM):
            raise
        where = f"{exc.filename}: " if exc.filename else ""
        _error(f"{where}{exc.strerror}")
        return 1
