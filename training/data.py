"""The face images training uses: LFW, CFP and CelebA, listed with their identities.

Identities are prefixed by their source (``lfw:George_W_Bush``, ``cfp:Some_Name``,
``celeba:1234``): the sources share no people (see the data README), and the prefix keeps that
explicit. Paths are relative to the source's ``images/`` folder.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

SOURCES = ("lfw", "cfp", "celeba")


def default_data_root() -> Path:
    env = os.environ.get("PHOTOFACE_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "shared" / "data"


@dataclass(frozen=True, order=True)
class FaceImage:
    source: str  # "lfw", "cfp" or "celeba"
    path: str  # relative to <data_root>/<source>/images
    identity: str  # source-prefixed
    pose: str = "frontal"  # CFP has "profile" too

    def file(self, data_root: Path) -> Path:
        return Path(data_root) / self.source / "images" / self.path

    @property
    def name(self) -> str:
        """The identity without its source prefix (LFW protocol files use these)."""
        return self.identity.split(":", 1)[1]


def list_lfw(data_root: Path) -> list[FaceImage]:
    root = Path(data_root) / "lfw" / "images"
    return [
        FaceImage("lfw", f"{p.parent.name}/{p.name}", f"lfw:{p.parent.name}")
        for p in sorted(root.glob("*/*.jpg"))
    ]


def list_cfp(data_root: Path) -> list[FaceImage]:
    manifest = Path(data_root) / "cfp" / "manifest.csv"
    with open(manifest, newline="") as f:
        rows = list(csv.DictReader(f))
    return sorted(
        FaceImage("cfp", _relative(r["path"]), f"cfp:{r['name']}", r["pose"]) for r in rows
    )


def list_celeba(data_root: Path) -> list[FaceImage]:
    manifest = Path(data_root) / "celeba" / "manifest.csv"
    with open(manifest, newline="") as f:
        rows = list(csv.DictReader(f))
    return sorted(FaceImage("celeba", _relative(r["path"]), f"celeba:{r['identity']}") for r in rows)


def _relative(path: str) -> str:
    """Manifest paths may or may not start with ``images/``."""
    return path[len("images/"):] if path.startswith("images/") else path


LISTERS = {"lfw": list_lfw, "cfp": list_cfp, "celeba": list_celeba}


def list_source(source: str, data_root: Path) -> list[FaceImage]:
    return LISTERS[source](data_root)
