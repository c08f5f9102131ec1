"""A library made with one model keeps every name when a model of another input moves in."""

from __future__ import annotations

import hashlib
import json

import numpy as np

from photoface.config import models_dir
from photoface.library import Library
from tests.test_scan import album  # noqa: F401 (fixture)


def _small_arcface_model(folder):
    """A 32x32 network on the ArcFace crop, exported as the app reads models (random weights:
    only its input differs from the bundled model's, which is what the change is about)."""
    from training.backbones import build_backbone
    from training.export import MODEL_FILE, build_card, to_tflite

    data = to_tflite(build_backbone("resnet", input_size=32, embedding_size=128, widths=(8,), blocks=(1,)))
    folder.mkdir()
    (folder / MODEL_FILE).write_bytes(data)
    card = build_card({"name": "older"}, hashlib.sha256(data).hexdigest(), 32, 128, None, flip_average=False)
    assert card["input"]["template"] == "arcface"
    for name in ("pnet.tflite", "rnet.tflite", "onet.tflite", "detector.json"):
        (folder / name).symlink_to(models_dir() / name)
    (folder / "model_card.json").write_text(json.dumps(card))
    return folder


def test_a_library_of_an_older_model_re_embeds_with_the_bundled_one_and_keeps_its_names(tmp_path, album):  # noqa: F811
    older = _small_arcface_model(tmp_path / "older-model")
    lib = Library.open(tmp_path / "lib.sqlite3", model_dir=older)
    lib.scan([album], workers=1)
    ref = lib.list_people()[0].ref
    lib.people.name(ref, "Eileen")
    old_version = lib.card.version
    lib.close()

    lib = Library.open(tmp_path / "lib.sqlite3")  # the bundled model: another crop and input size
    assert lib.card.input_size != 32 and lib.card.version != old_version
    s = lib.scan([album], workers=1)
    assert s.reembedded == 6 and s.new == 0
    rows = lib.db.execute("SELECT model_version, embedding FROM faces").fetchall()
    assert {r["model_version"] for r in rows} == {lib.card.version}
    assert all(np.frombuffer(r["embedding"], np.float32).size == lib.card.embedding_size for r in rows)
    assert {f["person"] for f in lib.list_faces()} == {"Eileen"}
    assert [p.faces for p in lib.list_people() if p.name == "Eileen"] == [6]
    lib.close()
