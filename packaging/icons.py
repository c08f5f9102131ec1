"""Platform icons for the bundle, made from resources/icons/photoface.png with Pillow.

    python packaging/icons.py OUT_DIR      # writes OUT_DIR/photoface.ico and photoface.icns

``photoface.spec`` calls ``make_icons`` at build time (Windows uses the .ico, macOS the .icns;
Linux windows take the PNG, which the app sets itself). Nothing generated is committed.
"""

from __future__ import annotations

import sys
from pathlib import Path

PNG = Path(__file__).resolve().parent.parent / "resources" / "icons" / "photoface.png"
ICO_SIZES = [(16, 16), (24, 24), (32, 32), (48, 48), (64, 64), (128, 128), (256, 256)]


def make_icons(out_dir: str | Path, png: str | Path = PNG) -> dict[str, Path]:
    """{"ico": path, "icns": path}; a format Pillow cannot write is left out (and reported)."""
    from PIL import Image

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    image = Image.open(png).convert("RGBA")
    made = {}
    ico = out_dir / "photoface.ico"
    image.save(ico, sizes=ICO_SIZES)
    made["ico"] = ico
    icns = out_dir / "photoface.icns"
    try:
        # ICNS wants 512/1024 px variants too; upscaling the 256 px master is acceptable for an icon.
        image.resize((1024, 1024), Image.LANCZOS).save(icns)
        made["icns"] = icns
    except (OSError, KeyError, ValueError) as exc:
        print(f"icons: cannot write {icns.name} with this Pillow ({exc})", file=sys.stderr)
    return made


if __name__ == "__main__":
    for kind, path in make_icons(sys.argv[1] if len(sys.argv) > 1 else ".").items():
        print(kind, path)
