"""The main window: menus, toolbar, the pages (people, person, find, photo viewer, photos,
review, folders, hidden), the scan progress in the status bar, and a notice bar for unreadable
photos. After every change of page the keyboard focus goes where the page is worked from."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog, QLabel, QMainWindow, QMessageBox, QStackedWidget, QStyle, QToolBar, QVBoxLayout,
    QWidget,
)

from .. import __version__
from .controller import Controller
from .find_view import FindView
from .folders_view import FoldersView
from .hidden_view import HiddenView
from .icons import app_icon, glyph_icon
from .models import plural
from .panels import NoticeBar, ScanPanel, duration
from .people_view import PeopleView
from .person_view import PersonView
from .photo_viewer import PhotoViewer
from .photos_view import PhotosView
from .review_view import ReviewView
from .settings import AppSettings, SettingsDialog

APP_NAME = "PhotoFace"
OPENING = "Opening the library…"


class MainWindow(QMainWindow):
    def __init__(self, library_path, settings: AppSettings | None = None, scan_workers: int | None = None,
                 parent=None):
        super().__init__(parent)
        self.settings = settings or AppSettings()
        self.controller = Controller(library_path, scan_workers=scan_workers, parent=self)
        self.current_folder: str | None = None
        self._history: list[tuple] = []
        self.setWindowIcon(app_icon())
        self.setAcceptDrops(True)
        self.resize(1100, 760)
        self.setMinimumSize(640, 420)

        self.people_view = PeopleView(self.controller)
        self.person_view = PersonView(self.controller)
        self.find_view = FindView(self.controller)
        self.photo_viewer = PhotoViewer(self.controller)
        self.photos_view = PhotosView(self.controller)
        self.review_view = ReviewView(self.controller)
        self.folders_view = FoldersView(self.controller)
        self.hidden_view = HiddenView(self.controller)
        self.pages = QStackedWidget()
        for page in (self.people_view, self.person_view, self.find_view, self.photo_viewer, self.photos_view,
                     self.review_view, self.folders_view, self.hidden_view):
            self.pages.addWidget(page)

        self.errors_bar = NoticeBar()
        self.library_bar = NoticeBar()
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(6, 6, 6, 0)
        layout.setSpacing(4)
        layout.addWidget(self.library_bar)
        layout.addWidget(self.errors_bar)
        layout.addWidget(self.pages, 1)
        self.setCentralWidget(central)

        self.scan_panel = ScanPanel()
        self.scan_panel.cancelRequested.connect(self.controller.cancel_scan)
        self.stats_label = QLabel()
        self.stats_label.setEnabled(False)
        self.statusBar().addPermanentWidget(self.scan_panel)
        self.statusBar().addPermanentWidget(self.stats_label)

        self._make_actions()
        self._make_menus()
        self._make_toolbar()
        self._connect()
        self.settings.restore_window(self)
        self._update_title()
        self._update_actions()
        self.statusBar().showMessage(OPENING)
        self.controller.reload_people()

    # -- building -------------------------------------------------------------------------------
    def _action(self, text, slot, shortcut=None, icon=None, tip=None) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            if isinstance(shortcut, (list, tuple)):
                action.setShortcuts([QKeySequence(s) for s in shortcut])
            else:
                action.setShortcut(QKeySequence(shortcut))
        if icon is not None:
            action.setIcon(self.style().standardIcon(icon))
        if tip:
            action.setStatusTip(tip)
            action.setToolTip(tip)
        action.triggered.connect(slot)
        return action

    def _make_actions(self) -> None:
        S = QStyle
        self.open_action = self._action("&Open Folder…", self.choose_folder, QKeySequence.Open, S.SP_DirOpenIcon,
                                        "Scan a folder of photos for faces (Ctrl+O)")
        self.rescan_action = self._action("&Rescan All Folders", self.rescan, QKeySequence.Refresh,
                                          S.SP_BrowserReload,
                                          "Scan every library folder again for new and changed photos (F5)")
        self.rescan_action.setIconText("Rescan")
        self.settings_action = self._action("&Settings…", self.open_settings, "Ctrl+,", S.SP_FileDialogDetailedView,
                                            "Library location, smallest face, recognition strictness")
        self.write_xmp_action = self._action("&Write Names to Photos' XMP", self.controller.write_xmp, None, None,
                                             "Write every confirmed name into the photos' XMP sidecars, "
                                             "where digiKam, Lightroom and others read them")
        self.quit_action = self._action("&Quit", self.close, QKeySequence.Quit)
        self.undo_action = self._action("&Undo", self.controller.undo, QKeySequence.Undo, None,
                                        "Undo the latest decision: rename, merge, move, not this person (Ctrl+Z)")
        self.undo_action.setIcon(glyph_icon("edit-undo", "↶"))
        self.redo_action = self._action("&Redo", self.controller.redo, ["Ctrl+Shift+Z", QKeySequence.Redo], None,
                                        "Redo the decision undone last (Ctrl+Shift+Z)")
        self.redo_action.setEnabled(False)
        self.hide_action = self._action("&Hide", self.hide_selected, "Ctrl+H", None,
                                        "Hide the selected people from the grid; the faces of an unnamed "
                                        "group are ignored (View > Hidden brings both back) (Ctrl+H)")
        self.merge_icon = glyph_icon("merge", "⇉")
        self.rename_action = self._action("Re&name…", self.rename, "F2", None, "Name the selected person or group (F2)")
        self.merge_action = self._action("&Merge", self.merge, "Ctrl+M", None,
                                         "Merge the selected people and groups into one (Ctrl+M)")
        self.merge_action.setIcon(self.merge_icon)
        self.find_action = self._action("&Find a Person…", self.show_find, QKeySequence.Find, S.SP_FileDialogContentsView,
                                        "Find the photos of a person (Ctrl+F)")
        self.back_action = self._action("&Back", self.back, [QKeySequence.Back, "Escape"], S.SP_ArrowLeft,
                                        "Back to the previous page (Alt+Left, Esc)")
        self.people_action = self._action("&People", self.show_people, "Ctrl+1", S.SP_DirHomeIcon,
                                          "All people and unnamed groups (Ctrl+1)")
        self.photos_action = self._action("P&hotos", self.show_photos_page, "Ctrl+2", None,
                                          "Every photo, by folder and date (Ctrl+2)")
        self.review_action = self._action("&Review Unnamed Faces", self.show_review, "Ctrl+3", None,
                                          "Name unnamed faces one at a time (Ctrl+3)")
        self.folders_action = self._action("Library &Folders", self.show_folders, "Ctrl+4", None,
                                           "The folders the library scans: add, remove, rescan (Ctrl+4)")
        self.photos_action.setIcon(glyph_icon("image-x-generic", "▦"))
        self.review_action.setIcon(glyph_icon("user-available", "☺"))
        self.review_action.setIconText("Review")
        self.hidden_action = self._action("Hi&dden", self.show_hidden, "Ctrl+5", None,
                                          "Hidden people and ignored faces, to bring them back (Ctrl+5)")
        self.errors_action = self._action("&Unreadable Photos", self.controller.show_photo_errors, None, None,
                                          "List the photos that could not be read")
        self.missing_action = self._action("&Missing Photos", self.controller.show_missing_photos, None, None,
                                           "List the photos whose folder was gone, empty or unreadable at a scan")
        self.forget_missing_action = self._action("&Forget Missing Photos…", self.forget_missing, None, None,
                                                  "Remove the missing photos with their faces and names")
        self.about_action = self._action("&About PhotoFace", self.about)

    def _make_menus(self) -> None:
        bar = self.menuBar()
        m = bar.addMenu("&File")
        m.addAction(self.open_action)
        self.recent_menu = m.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        m.addAction(self.rescan_action)
        m.addAction(self.forget_missing_action)
        m.addSeparator()
        m.addAction(self.write_xmp_action)
        m.addAction(self.settings_action)
        m.addSeparator()
        m.addAction(self.quit_action)
        m = bar.addMenu("&Edit")
        m.addAction(self.undo_action)
        m.addAction(self.redo_action)
        m.addSeparator()
        m.addAction(self.rename_action)
        m.addAction(self.merge_action)
        m.addAction(self.hide_action)
        m = bar.addMenu("&View")
        m.addAction(self.people_action)
        m.addAction(self.photos_action)
        m.addAction(self.review_action)
        m.addAction(self.folders_action)
        m.addAction(self.hidden_action)
        m.addSeparator()
        m.addAction(self.find_action)
        m.addAction(self.back_action)
        m.addSeparator()
        m.addAction(self.errors_action)
        m.addAction(self.missing_action)
        m = bar.addMenu("&Help")
        m.addAction(self.about_action)
        self._fill_recent()

    def _make_toolbar(self) -> None:
        tb = QToolBar("Main")
        tb.setObjectName("mainToolbar")
        tb.setMovable(False)
        tb.setIconSize(QSize(20, 20))
        tb.setToolButtonStyle(Qt.ToolButtonTextBesideIcon)
        for a in (self.back_action, self.people_action, self.photos_action, self.review_action, None,
                  self.open_action, self.rescan_action, None, self.find_action, self.undo_action, self.merge_action,
                  None, self.settings_action):
            tb.addSeparator() if a is None else tb.addAction(a)
        self.addToolBar(tb)
        self.toolbar = tb

    def _connect(self) -> None:
        c = self.controller
        c.status.connect(lambda text: self.statusBar().showMessage(text, 8000))
        c.problem.connect(self._problem)
        c.peopleLoaded.connect(self._people_loaded)
        c.scanStarted.connect(self._scan_started)
        c.scanProgress.connect(self.scan_panel.update_progress)
        c.scanPhase.connect(self.scan_panel.update_phase)
        c.scanFinished.connect(self._scan_finished)
        c.photoErrors.connect(self._photo_errors)
        c.missingPhotos.connect(self._missing_photos)
        c.libraryFailed.connect(self._library_failed)
        c.busyChanged.connect(self._update_actions)
        c.openPerson.connect(self.show_person)
        c.openPhotos.connect(self.show_photos)
        c.findFace.connect(self.find_face)
        c.findPerson.connect(self.find_person)
        c.redoChanged.connect(self.redo_action.setEnabled)
        self.folders_view.addRequested.connect(self.choose_folder)
        c.people_model.renameRequested.connect(lambda t, name: c.rename(t, name))
        c.people_model.mergeRequested.connect(c.merge)
        self.people_view.selectionChanged.connect(self._update_actions)
        self.photo_viewer.backRequested.connect(self.back)
        self.pages.currentChanged.connect(lambda _: self._update_actions())

    # -- folders and scanning -------------------------------------------------------------------
    def choose_folder(self) -> None:
        start = self.current_folder or (self.settings.recent_folders() or [str(Path.home())])[0]
        folder = QFileDialog.getExistingDirectory(self, "Open a folder of photos", start)
        if folder:
            self.open_folder(folder)

    def open_folder(self, folder) -> None:
        """Scan a folder (the menu, the toolbar, a recent folder and a drop all come here).
        A folder scanned before is rescanned incrementally: only new and changed photos."""
        path = Path(folder).expanduser()
        if not path.is_dir():
            self._problem(f"{folder}: not a folder")
            return
        folder = str(path.resolve())
        self.current_folder = folder
        self.settings.add_recent(folder)
        self._update_title()
        self.controller.scan([folder])

    def rescan(self) -> None:
        """Every folder of the library, not only the one opened last (F5)."""
        self.controller.rescan_all()

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        folders = self.settings.recent_folders()
        for i, folder in enumerate(folders):
            label = f"&{i + 1} {folder}" if i < 9 else folder
            self.recent_menu.addAction(label, lambda f=folder: self.open_folder(f))
        if folders:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear the list", self.settings.clear_recent)
        else:
            self.recent_menu.addAction("No recent folders").setEnabled(False)

    def _scan_started(self, folders) -> None:
        what = ", ".join(Path(f).name or f for f in folders)
        self.scan_panel.start(what)
        self.statusBar().showMessage(f"Scanning {what} for faces…")
        self._update_actions()

    def _scan_finished(self, summary) -> None:
        self.scan_panel.hide()
        self._update_actions()
        if summary is None:
            return
        where = ", ".join(Path(r).name or r for r in summary.roots)
        analysed = summary.new + summary.changed
        bits = [f"{summary.found} photos", f"{analysed} new or changed", f"{summary.faces} faces found"]
        if summary.moved:
            bits.append(f"{summary.moved} moved")
        if summary.removed:
            bits.append(f"{summary.removed} removed")
        if summary.missing:
            bits.append(f"{summary.missing} missing (kept; View > Missing Photos)")
        if summary.failed:
            bits.append(f"{len(summary.failed)} unreadable")
        if summary.named_from_metadata:
            bits.append(f"{summary.named_from_metadata} faces named from the photos' metadata")
        if summary.metadata_problems:
            bits.append(f"names not read from {len({p for p, _ in summary.metadata_problems})} photos")
        head = f"Scan of {where} stopped; what was scanned is kept" if summary.interrupted else f"Scanned {where}"
        self.statusBar().showMessage(f"{head}: {', '.join(bits)} ({duration(summary.seconds)})", 15000)

    def _photo_errors(self, failed) -> None:
        if not failed:
            self.errors_bar.show_notice("Every photo could be read.")
            return
        self.errors_bar.show_notice(
            f"{plural(len(failed), 'photo')} could not be read; the rest were scanned.",
            [f"{path} — {reason}" for path, reason in failed],
        )

    def _missing_photos(self, missing) -> None:
        if not missing:
            self.errors_bar.show_notice("No photo is missing.")
            return
        self.errors_bar.show_notice(
            f"{plural(len(missing), 'photo')} missing: their folder was gone, empty or unreadable at a scan. "
            "They keep their faces and names until found again (File > Forget Missing Photos removes them).",
            [f"{path} — {what}" for path, what in missing],
        )

    def forget_missing(self) -> None:
        answer = QMessageBox.question(
            self, "Forget Missing Photos",
            "Remove every missing photo with its faces and names? This cannot be undone; "
            "a photo found again later is scanned as new.",
        )
        if answer == QMessageBox.Yes:
            self.controller.forget_missing()

    def _library_failed(self, message: str) -> None:
        self.library_bar.show_notice(f"Cannot open the library: {message}. Choose another in Settings (Ctrl+,).")
        self.statusBar().showMessage("The library could not be opened")

    def _people_loaded(self, stats: dict) -> None:
        self.library_bar.dismiss()
        if not self.controller.scanning and self.statusBar().currentMessage() in ("", OPENING):
            self.statusBar().showMessage("Ready", 3000)  # never over what a scan or a decision said
        self.stats_label.setText(f"{stats.get('photos', 0)} photos · {stats.get('faces', 0)} faces")
        self._update_actions()

    def _problem(self, message: str) -> None:
        self.statusBar().showMessage(f"⚠ {message}", 12000)

    # -- pages ----------------------------------------------------------------------------------
    def _state(self):
        page = self.pages.currentWidget()
        if page is self.person_view:
            return (page, self.person_view.target)
        if page is self.find_view:
            return (page, (self.find_view.query, self.find_view.max_distance))
        if page is self.photo_viewer:
            return (page, (self.photo_viewer.sequence, self.photo_viewer.index))
        return (page, None)

    def _go(self, page, push: bool = True) -> None:
        if push and self.pages.currentWidget() is not page:
            self._history.append(self._state())
            del self._history[:-50]
        self.pages.setCurrentWidget(page)

    def _focus(self, page=None) -> None:
        """Keyboard focus where the page is worked from (its grid, its name box), so arrows,
        Return, F2 work at once after a change of page."""
        page = page or self.pages.currentWidget()
        target = page.focus_target() if hasattr(page, "focus_target") else page
        target.setFocus(Qt.OtherFocusReason)

    def show_people(self) -> None:
        self._history.clear()
        self.pages.setCurrentWidget(self.people_view)
        self._focus()

    def show_person(self, target) -> None:
        self._go(self.person_view)
        self.person_view.show_target(target)
        self._focus()

    def show_photos(self, sequence, index: int) -> None:
        self._go(self.photo_viewer)
        self.photo_viewer.show_photos(sequence, index)
        self._focus()

    def _show_page(self, page) -> None:
        page.reload()  # before it is shown: a stale page would otherwise reload twice
        self._go(page)
        self._focus()

    def show_photos_page(self) -> None:
        self._show_page(self.photos_view)

    def show_review(self) -> None:
        self.review_view.start()  # reloads: before it is shown, as in _show_page
        self._go(self.review_view)
        self._focus()

    def show_folders(self) -> None:
        self._show_page(self.folders_view)

    def show_hidden(self) -> None:
        self._show_page(self.hidden_view)

    def show_find(self) -> None:
        if self.pages.currentWidget() is not self.find_view:
            self._go(self.find_view)
        self.find_view.focus_search()

    def find_person(self, who: str) -> None:
        self._go(self.find_view)
        self.find_view.find_person(who)
        self._focus()

    def find_face(self, face_id: int) -> None:
        self._go(self.find_view)
        self.find_view.find_face(face_id)
        self._focus()

    def back(self) -> None:
        if not self._history:
            if self.pages.currentWidget() is not self.people_view:
                self.show_people()
            return
        page, state = self._history.pop()
        self.pages.setCurrentWidget(page)
        if page is self.person_view and state is not None:
            self.person_view.show_target(state)
        elif page is self.find_view and state is not None:
            (query, dist) = state
            self.find_view.query, self.find_view.max_distance = query, dist
            self.find_view.reload()
        elif page is self.photo_viewer and state is not None:
            self.photo_viewer.show_photos(*state)
        self._focus(page)

    # -- edit actions ---------------------------------------------------------------------------
    def rename(self) -> None:
        page = self.pages.currentWidget()
        if page is self.people_view:
            self.people_view.rename_current()
        elif page is self.person_view:
            self.person_view.rename()

    def merge(self) -> None:
        if self.pages.currentWidget() is self.people_view:
            self.people_view.merge_selected()

    def hide_selected(self) -> None:
        if self.pages.currentWidget() is self.people_view:
            self.people_view.hide_selected()

    def _update_actions(self) -> None:
        page = self.pages.currentWidget()
        on_people = page is self.people_view
        self.back_action.setEnabled(not on_people)
        self.merge_action.setEnabled(on_people and len(self.people_view.selected_targets()) >= 2)
        self.hide_action.setEnabled(on_people and self.people_view.current_target() is not None)
        self.redo_action.setEnabled(self.controller.can_redo)
        self.rename_action.setEnabled((on_people and self.people_view.current_target() is not None)
                                      or page is self.person_view)
        self.settings_action.setEnabled(True)
        self.rescan_action.setEnabled(not self.controller.scanning)

    def _update_title(self) -> None:
        where = f" — {Path(self.current_folder).name}" if self.current_folder else ""
        self.setWindowTitle(f"{APP_NAME}{where}")

    # -- settings -------------------------------------------------------------------------------
    def open_settings(self) -> None:
        self.controller.read_settings(self._show_settings)

    def _show_settings(self, current: dict) -> None:
        dlg = SettingsDialog(self, str(self.controller.library_path), current["min_face_size"],
                             current["strictness"], library_locked=self.controller.scanning,
                             read_xmp=current.get("read_xmp", True), write_xmp=current.get("write_xmp", False))
        self.settings_dialog = dlg  # reachable from tests
        if dlg.exec() != SettingsDialog.Accepted:
            return
        self.apply_settings(dlg.values(), current)

    def apply_settings(self, values: dict, current: dict) -> None:
        library = values["library"]
        if library and Path(library).expanduser() != self.controller.library_path:
            self.settings.set_library_path(library)
            self.controller.switch_library(library)
            self.show_people()
        xmp = {k: values[k] for k in ("read_xmp", "write_xmp") if k in values and values[k] != current.get(k)}
        if (values["min_face_size"] != current["min_face_size"]
                or abs(values["strictness"] - current["strictness"]) > 1e-6 or xmp):
            self.controller.apply_settings(values["min_face_size"], values["strictness"], **xmp)

    def about(self) -> None:
        QMessageBox.about(
            self, "About PhotoFace",
            f"<h3>PhotoFace {__version__}</h3><p>Finds the faces in your photos, groups them into "
            f"people, and recognises them in new photos. Everything stays on this computer.</p>"
            f"<p>Library: {self.controller.library_path}</p>",
        )

    # -- drag and drop a folder -----------------------------------------------------------------
    @staticmethod
    def _dropped_folder(mime) -> str | None:
        for url in mime.urls() if mime.hasUrls() else []:
            if url.isLocalFile() and Path(url.toLocalFile()).is_dir():
                return url.toLocalFile()
        return None

    def dragEnterEvent(self, event) -> None:
        if self._dropped_folder(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:
        self.dragEnterEvent(event)

    def dropEvent(self, event) -> None:
        folder = self._dropped_folder(event.mimeData())
        if folder:
            event.acceptProposedAction()
            self.open_folder(folder)

    # -- closing --------------------------------------------------------------------------------
    def closeEvent(self, event) -> None:
        self.settings.save_window(self)
        self.settings.sync()
        if self.controller.scanning:
            self.statusBar().showMessage("Stopping the scan…")
        self.controller.shutdown()
        super().closeEvent(event)

    def is_idle(self) -> bool:
        """No scan and no library work in flight (for tests and the benchmarks)."""
        return self.controller.idle
