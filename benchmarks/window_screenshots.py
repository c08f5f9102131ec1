"""Screenshots of every page of the real window, for a person to look at.

    python benchmarks/window_screenshots.py [--out tests/artifacts/window] [--data ../shared/data]

Without a display it starts Xvfb (``apt-get install xvfb``) when that is installed, so the window
runs on a real X server through Qt's xcb plugin, as on a desktop; otherwise (or with
``--offscreen``) Qt's offscreen platform. A library is built in a temporary folder from
album-mini (train/ scanned and named by folder, test/ scanned: suggestions to check), one person
hidden and one face ignored, then each page is shown and saved as a PNG: people (default and
Show all), a person, find by name and people together, the photo viewer (and drawing a face),
photos, the review queue, library folders, hidden. Prints each file written.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_DATA = Path(os.environ.get("PHOTOFACE_DATA", ROOT.parent / "shared" / "data"))
SIZE = (1100, 760)


def start_xvfb():
    """An Xvfb server on a free display number, or None when Xvfb is not installed."""
    exe = shutil.which("Xvfb")
    if exe is None:
        return None
    for n in range(90, 110):
        if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists():
            proc = subprocess.Popen([exe, f":{n}", "-screen", "0", "1280x900x24", "-nolisten", "tcp"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for _ in range(50):
                if Path(f"/tmp/.X11-unix/X{n}").exists():
                    return proc, f":{n}"
                time.sleep(0.1)
            proc.kill()
    return None


def build_library(path: Path, album: Path) -> None:
    from photoface.library import Library

    lib = Library.open(path)
    try:
        lib.scan([album / "train"], workers=1)
        while groups := [g for g in lib.list_people() if g.kind == "group"]:
            faces = lib.list_faces(lib.people.resolve(groups[0].ref))
            lib.people.name(groups[0].ref, Counter(Path(f["path"]).parent.name for f in faces).most_common(1)[0][0])
        lib.scan([album / "test"], workers=1)
        lib.people.hide("alex_lacamoire")
        suggested = [f for f in lib.list_faces() if f["state"] == "suggested"]
        if suggested:  # the least sure suggestion: something for Hidden to show
            lib.people.ignore([min(suggested, key=lambda f: f["confidence"])["id"]])
    finally:
        lib.close()


def build_demo_library(path: Path, folder: Path) -> None:
    """A library of photos anyone may publish: scikit-image's astronaut (Eileen Collins, a NASA
    photo in the public domain) cropped, mirrored, toned and tinted into eight photos, named."""
    from PIL import Image, ImageEnhance
    from skimage import data

    from photoface.library import Library

    folder.mkdir(parents=True, exist_ok=True)
    base = Image.fromarray(data.astronaut())
    crops = [(0, 0, 512, 512), (60, 0, 420, 380), (100, 20, 380, 300), (30, 10, 470, 450)]
    for i in range(8):
        img = base.crop(crops[i % 4])
        if i % 2:
            img = img.transpose(Image.FLIP_LEFT_RIGHT)
        img = ImageEnhance.Brightness(img).enhance(0.8 + 0.07 * i)
        if i >= 4:
            img = ImageEnhance.Color(img).enhance(0.3)
        img.save(folder / f"mission_{i + 1:02d}.jpg", quality=92)
    lib = Library.open(path)
    try:
        lib.scan([folder], workers=1)
        first = lib.list_people()[0]
        faces = lib.list_faces(lib.people.resolve(first.ref))
        # Name one photo's face: the others become suggestions to check, as after a first naming.
        lib.people.move([faces[0]["id"]], new_name="Eileen Collins")
        lib.refresh()
    finally:
        lib.close()


def shoot_demo(tmp: Path, out: Path) -> int:
    """The people page and the person's page of the demo library (the README's picture)."""
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from photoface.gui.app import create_app
    from photoface.gui.main_window import MainWindow
    from photoface.gui.models import TargetRole
    from photoface.gui.settings import AppSettings

    app = create_app()
    window = MainWindow(tmp / "library.sqlite3", AppSettings(QSettings(str(tmp / "s.ini"), QSettings.IniFormat)),
                        scan_workers=1)
    window.resize(1060, 500)
    window.show()
    out.mkdir(parents=True, exist_ok=True)
    for name, show in (("demo_people", lambda: window.show_people()),
                       ("demo_person", lambda: window.controller.openPerson.emit(
                           window.people_view.model.index(0).data(TargetRole)))):
        show()
        end = time.monotonic() + 20
        while time.monotonic() < end and not (window.is_idle() and window.controller.images.idle):
            app.processEvents()
            time.sleep(0.05)
        for _ in range(10):
            app.processEvents()
            time.sleep(0.05)
        image = window.grab().toImage()
        image.save(str(out / f"{name}.png"))
        print(out / f"{name}.png")
    QApplication.instance().processEvents()
    window.close()
    return 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=ROOT / "tests" / "artifacts" / "window")
    p.add_argument("--data", type=Path, default=DEFAULT_DATA)
    p.add_argument("--offscreen", action="store_true", help="Qt's offscreen platform even where Xvfb is installed")
    p.add_argument("--demo", action="store_true",
                   help="only the people and person pages of a library of public-domain photos (the README's picture)")
    args = p.parse_args(argv)
    album = args.data / "album-mini"
    if not args.demo and not (album / "train").is_dir():
        raise SystemExit(f"no album-mini under {args.data} (use --data)")

    xvfb = None
    if not args.offscreen and not os.environ.get("DISPLAY"):
        xvfb = start_xvfb()
        if xvfb is not None:
            os.environ["DISPLAY"] = xvfb[1]
    if args.offscreen or not os.environ.get("DISPLAY"):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    else:
        os.environ["QT_QPA_PLATFORM"] = "xcb"
        from photoface.gui.xcb import check

        problem = check()
        if problem:
            print(problem, file=sys.stderr)
            print("falling back to Qt's offscreen platform", file=sys.stderr)
            os.environ["QT_QPA_PLATFORM"] = "offscreen"
    tmp = Path(tempfile.mkdtemp(prefix="photoface-shots-"))
    os.environ["XDG_CONFIG_HOME"] = str(tmp / "config")
    try:
        if args.demo:
            build_demo_library(tmp / "library.sqlite3", tmp / "photos")
            return shoot_demo(tmp, args.out)
        build_library(tmp / "library.sqlite3", album)
        return shoot(tmp, args.out)
    finally:
        if xvfb is not None:
            xvfb[0].terminate()
        shutil.rmtree(tmp, ignore_errors=True)


def shoot(tmp: Path, out: Path) -> int:
    from PySide6.QtCore import QPointF, QSettings, Qt
    from PySide6.QtWidgets import QApplication

    from photoface.gui.app import create_app
    from photoface.gui.main_window import MainWindow
    from photoface.gui.settings import AppSettings

    app = create_app()
    print(f"platform: {app.platformName()}")
    window = MainWindow(tmp / "library.sqlite3", AppSettings(QSettings(str(tmp / "s.ini"), QSettings.IniFormat)),
                        scan_workers=1)
    window.resize(*SIZE)
    window.show()
    out.mkdir(parents=True, exist_ok=True)

    def settle(seconds: float = 30.0) -> None:
        """Library results in and every thumbnail on screen painted."""
        end = time.monotonic() + seconds
        quiet = 0
        while time.monotonic() < end and quiet < 3:
            app.processEvents()
            window.repaint()
            app.processEvents()
            busy = not window.is_idle() or not window.controller.images.idle
            quiet = 0 if busy else quiet + 1
            time.sleep(0.05)

    def save(name: str) -> None:
        settle()
        if app.platformName() == "xcb":  # what the X server shows, decorations aside
            image = window.screen().grabWindow(window.winId()).toImage()
        else:
            image = window.grab().toImage()
        path = out / f"{name}.png"
        image.save(str(path))
        print(path)

    settle()
    save("01_people")
    window.people_view.show_all.setChecked(True)
    save("02_people_show_all")
    window.people_view.show_all.setChecked(False)

    proxy = window.people_view.proxy
    rows = [proxy.index(r, 0) for r in range(proxy.rowCount())]
    person = max((i for i in rows if i.data(Qt.UserRole + 7).kind == "person"),
                 key=lambda i: i.data(Qt.UserRole + 7).suggested)
    window.show_person(person.data(Qt.UserRole + 1))
    save("03_person")

    window.show_find()
    window.find_view.search.setText(person.data())
    window.find_view._search()
    save("04_find_person")
    window.find_view.search.setText("obama and biden")
    window.find_view._search()
    save("05_find_together")

    hits = window.find_view.model.hits()
    window.show_photos([(h.photo_id, h.path, h.face_id) for h in hits], 0)
    settle()
    save("06_viewer")
    viewer = window.photo_viewer
    viewer.draw_action.setChecked(True)
    canvas = viewer.canvas
    canvas._drag = (QPointF(canvas.width() * 0.05, canvas.height() * 0.1), QPointF(canvas.width() * 0.2, canvas.height() * 0.35))
    canvas.update()
    save("07_viewer_drawing_a_face")
    viewer.draw_action.setChecked(False)

    window.show_photos_page()
    save("08_photos")
    window.show_review()
    save("09_review")
    window.show_folders()
    save("10_folders")
    window.show_hidden()
    save("11_hidden")
    window.close()
    QApplication.processEvents()
    return 0


if __name__ == "__main__":
    sys.exit(main())
