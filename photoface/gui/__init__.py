"""PhotoFace's desktop window (PySide6). Qt is used here and nowhere else in ``photoface``.

    app.py          QApplication setup, ``main(argv)``
    main_window.py  menus, toolbar, pages, scan progress, notices
    controller.py   the views' one door to the library (off the GUI thread)
    workers.py      library operations and scans on worker threads
    thumbnails.py   face crops and photo previews on worker threads, cached
    models.py       item models: people, faces, find results
    delegates.py    painting a tile; grid.py: the grid of tiles
    people_view.py, person_view.py, find_view.py, photo_viewer.py, photos_view.py,
    review_view.py, folders_view.py, hidden_view.py: the pages
    xcb.py          before Qt starts: the X11 libraries its xcb plugin needs, and their packages
    settings.py     remembered settings and the Settings dialog
    dialogs.py, panels.py, icons.py: small parts
"""


def main(argv=None) -> int:
    from .app import main as _main

    return _main(argv)
