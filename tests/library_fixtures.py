"""Small libraries built from synthetic embeddings: fast, exact tests of people and groups."""

from __future__ import annotations

import functools
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from photoface.config import models_dir
from photoface.embedder import CARD_NAME
from photoface.library import Library
from photoface.store.records import encode_array

# The operating points the synthetic embeddings below are spaced for (same person ~0.34 apart,
# different people ~2): those of a card whose pair threshold is near 1. Tests of people and groups
# check the app's logic at these, whatever the bundled model's own thresholds are.
SYNTHETIC_THRESHOLDS = {
    "same_person_threshold": 1.036, "group_threshold": 0.4, "name_threshold": 0.86, "sure_threshold": 0.49,
    "turned_threshold": 0.9437, "turned_group_threshold": 0.859,
    "group_blend": 4, "group_blend_rounds": 2, "group_blend_radius": 0.8288,
}


@functools.cache
def synthetic_models() -> Path:
    """The bundled models with a card of ``SYNTHETIC_THRESHOLDS`` (a folder for the session)."""
    folder = Path(tempfile.mkdtemp(prefix="photoface-synthetic-models-"))
    for f in models_dir().iterdir():
        if f.name != CARD_NAME:
            (folder / f.name).symlink_to(f)
    card = json.loads((models_dir() / CARD_NAME).read_text())
    card["embedding"].update(SYNTHETIC_THRESHOLDS)
    card["version"] += "-synthetic-thresholds"
    (folder / CARD_NAME).write_text(json.dumps(card))
    return folder


def open_library(path) -> Library:
    """A library whose card has the thresholds the synthetic embeddings are spaced for."""
    return Library.open(path, model_dir=synthetic_models())


def unit(v) -> np.ndarray:
    v = np.asarray(v, np.float32)
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def at(origin, distance, towards):
    """A unit vector at squared distance ``distance`` from unit ``origin``, turned towards the
    (orthogonal, unit) ``towards``."""
    cos = 1 - distance / 2
    return cos * origin + np.sqrt(1 - cos * cos) * towards


def identities(n_people: int, per_person, dim: int = 128, spread: float = 0.04, seed: int = 0):
    """Embeddings of ``n_people`` well-separated people: same person ~0.34 apart (squared L2),
    different people ~2 apart; ``per_person`` is an int or a list of counts."""
    rng = np.random.default_rng(seed)
    counts = per_person if isinstance(per_person, (list, tuple)) else [per_person] * n_people
    centres = unit(rng.normal(size=(n_people, dim)))
    embs, labels = [], []
    for p, n in enumerate(counts):
        embs.append(unit(centres[p] + spread * rng.normal(size=(n, dim))))
        labels += [p] * n
    return np.concatenate(embs), np.array(labels)


def add_faces(lib: Library, embeddings, prefix: str = "/photos/img") -> list[int]:
    """One photo per face (paths need not exist for grouping and corrections)."""
    ids = []
    with lib.db.transaction() as c:
        start = c.execute("SELECT COUNT(*) FROM photos").fetchone()[0]
        for i, e in enumerate(embeddings):
            pid = c.execute(
                "INSERT INTO photos(path, size, mtime_ns, hash, width, height, status, scanned_at) "
                "VALUES (?, 1, 1, ?, 100, 100, 'ok', ?)",
                (f"{prefix}{start + i:05d}.jpg", f"h{start + i}", time.time()),
            ).lastrowid
            marks = np.array([[30, 40], [70, 40], [50, 55], [35, 75], [65, 75]], np.float32)
            ids.append(c.execute(
                "INSERT INTO faces(photo_id, x, y, w, h, landmarks, score, embedding, model_version, frontal) "
                "VALUES (?, 10, 10, 80, 80, ?, 0.99, ?, ?, face_frontality(?))",
                (pid, encode_array(marks), encode_array(e), lib.card.version, encode_array(marks)),
            ).lastrowid)
    return ids


def assignment(lib: Library, face_id: int):
    row = lib.db.query(
        "SELECT a.person_id, pe.name, a.group_id, a.state FROM assignments a "
        "LEFT JOIN people pe ON pe.id = a.person_id WHERE a.face_id = ?", (face_id,)
    )
    return dict(row[0]) if row else None
