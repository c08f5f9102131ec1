"""Before Qt starts on X11: are the libraries its xcb plugin needs installed? Without, say,
libxcb-icccm4, Qt aborts (exit 134) with a message that names neither the library nor the
package. This checks each one the way the dynamic loader will, and names the packages to install.
No Qt here: it runs before Qt is loaded."""

from __future__ import annotations

import ctypes
import os
import sys

# What libQt6XcbQpa and the xcb plugin link against beyond a desktop's basics: the library, and
# the package that holds it on Debian/Ubuntu and on Fedora.
LIBRARIES = {
    "libxcb-cursor.so.0": ("libxcb-cursor0", "xcb-util-cursor"),
    "libxcb-icccm.so.4": ("libxcb-icccm4", "xcb-util-wm"),
    "libxcb-image.so.0": ("libxcb-image0", "xcb-util-image"),
    "libxcb-keysyms.so.1": ("libxcb-keysyms1", "xcb-util-keysyms"),
    "libxcb-randr.so.0": ("libxcb-randr0", "libxcb"),
    "libxcb-render-util.so.0": ("libxcb-render-util0", "xcb-util-renderutil"),
    "libxcb-render.so.0": ("libxcb-render0", "libxcb"),
    "libxcb-shape.so.0": ("libxcb-shape0", "libxcb"),
    "libxcb-shm.so.0": ("libxcb-shm0", "libxcb"),
    "libxcb-sync.so.1": ("libxcb-sync1", "libxcb"),
    "libxcb-util.so.1": ("libxcb-util1", "xcb-util"),
    "libxcb-xfixes.so.0": ("libxcb-xfixes0", "libxcb"),
    "libxcb-xkb.so.1": ("libxcb-xkb1", "libxcb"),
    "libxcb.so.1": ("libxcb1", "libxcb"),
    "libxkbcommon-x11.so.0": ("libxkbcommon-x11-0", "libxkbcommon-x11"),
    "libxkbcommon.so.0": ("libxkbcommon0", "libxkbcommon"),
    "libX11-xcb.so.1": ("libx11-xcb1", "libX11-xcb"),
    "libX11.so.6": ("libx11-6", "libX11"),
    "libGL.so.1": ("libgl1", "libglvnd-glx"),
}


def uses_xcb(env=os.environ, platform: str = sys.platform) -> bool:
    """Will Qt pick its xcb plugin? On Linux when asked to, or with an X display and no Wayland one."""
    if not platform.startswith("linux"):
        return False
    asked = env.get("QT_QPA_PLATFORM", "")
    if asked:
        return asked.split(";")[0].split(":")[0] == "xcb"
    return bool(env.get("DISPLAY")) and not env.get("WAYLAND_DISPLAY")


def _loadable(name: str) -> bool:
    try:
        ctypes.CDLL(name)
    except OSError:
        return False
    return True


def missing_libraries(loadable=None) -> list[str]:
    loadable = loadable or _loadable
    return [name for name in LIBRARIES if not loadable(name)]


def advice(missing: list[str]) -> str:
    """What to print: the missing libraries and the commands that install them."""
    debian = sorted({LIBRARIES[m][0] for m in missing})
    fedora = sorted({LIBRARIES[m][1] for m in missing})
    return (
        "PhotoFace cannot open its window: the X11 (xcb) libraries Qt needs are missing:\n"
        f"  {', '.join(missing)}\n"
        "Install them, then start PhotoFace again:\n"
        f"  Debian/Ubuntu:  sudo apt install {' '.join(debian)}\n"
        f"  Fedora:         sudo dnf install {' '.join(fedora)}\n"
        "(On Wayland, QT_QPA_PLATFORM=wayland uses Wayland instead. The command line works without them.)"
    )


def check(env=os.environ, platform: str = sys.platform, loadable=None) -> str | None:
    """None when the window can start; else the advice to print."""
    if not uses_xcb(env, platform):
        return None
    missing = missing_libraries(loadable)
    return advice(missing) if missing else None
