"""The bundled embedding model, run as the app runs it and described by its model card."""

from __future__ import annotations

import json
import shutil

import cv2
import numpy as np
import pytest

from photoface.config import models_dir
from photoface.detection import central_face
from photoface.embedder import Embedder, ModelCard, squared_l2
from photoface.errors import ModelError

from .conftest import data_dir

pytestmark = pytest.mark.skipif(
    not (models_dir() / "model_card.json").exists(), reason="no bundled embedder in resources/models"
)


@pytest.fixture(scope="module")
def embedder():
    return Embedder()


def face_embedding(embedder, detector, rgb):
    faces = detector.detect(rgb)
    assert faces, "no face found"
    return embedder.embed_faces(rgb, [faces[0].landmarks])[0]


def test_card_describes_the_model(embedder):
    card = embedder.card
    assert card.distance == "squared_l2"
    assert 0 < card.threshold < 4
    assert embedder.model.input_signature[1:] == (card.input_size, card.input_size, 3)
    assert "lfw_view1_devtest_accuracy" in card.raw["figures"]


def test_embeddings_are_unit_vectors_and_stable(embedder, detector, astronaut):
    a = face_embedding(embedder, detector, astronaut)
    assert a.shape == (embedder.card.embedding_size,)
    assert np.linalg.norm(a) == pytest.approx(1.0, abs=1e-5)
    # The same face, smaller and re-compressed: the same person by the card's threshold.
    small = cv2.resize(astronaut, (300, 300), interpolation=cv2.INTER_AREA)
    ok, enc = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, 60])
    b = face_embedding(embedder, detector, cv2.imdecode(enc, cv2.IMREAD_UNCHANGED))
    d, same = embedder.same_person(a, b)
    assert same and d < 0.5 * embedder.threshold


def test_held_out_lfw_pairs_through_the_app(embedder, detector):
    """200 pairsDevTest pairs (people the model never saw), photo to decision through the app."""
    from training.eval.lfw import read_pairs

    root = data_dir("lfw")
    pairs = read_pairs(root / "protocol" / "pairsDevTest.txt")
    pairs = pairs[:100] + pairs[-100:]
    cache = {}

    def emb(path):
        if path not in cache:
            rgb = detector.decode(root / "images" / path).pixels
            central = central_face(detector.detect(rgb), rgb.shape[1], rgb.shape[0])
            cache[path] = None if central is None else embedder.embed_faces(rgb, [central.landmarks])[0]
        return cache[path]

    def decide(pair) -> bool:  # a photo without a face answers wrong, as the protocol counts it
        a, b = emb(pair.path1), emb(pair.path2)
        if a is None or b is None:
            return False
        return (squared_l2(a, b) < embedder.threshold) == pair.same

    correct = sum(decide(p) for p in pairs)
    # A floor below the model card's View 1 figure (figures.lfw_view1_devtest_accuracy, 98.7%):
    # a crop cut in the wrong geometry, or a broken export, falls far under it.
    assert correct / len(pairs) >= 0.95


def test_a_tampered_or_missing_model_is_refused(tmp_path):
    for name in ("embedder.tflite", "model_card.json"):
        shutil.copy(models_dir() / name, tmp_path / name)
    data = bytearray((tmp_path / "embedder.tflite").read_bytes())
    data[-100] ^= 0xFF
    (tmp_path / "embedder.tflite").write_bytes(bytes(data))
    with pytest.raises(ModelError, match="SHA-256"):
        Embedder(tmp_path)
    (tmp_path / "model_card.json").write_text(json.dumps({"model_file": "x"}))
    with pytest.raises(ModelError, match="invalid model card"):
        ModelCard.load(tmp_path / "model_card.json")
    with pytest.raises(ModelError, match="not found"):
        Embedder(tmp_path / "nowhere")


def test_mirror_averaging_makes_a_face_and_its_mirror_image_one_embedding(embedder, astronaut, detector, tmp_path):
    faces = detector.detect(astronaut)
    crop = embedder.align(astronaut, faces[0].landmarks)[None]
    mirror = crop[:, :, ::-1]
    if embedder.card.flip_average:
        assert float(squared_l2(embedder.embed_crops(crop), embedder.embed_crops(mirror))[0]) < 1e-8
    # The same model without averaging (a copy of its card that says so) sees two views.
    for name in (embedder.card.model_file, "model_card.json"):
        shutil.copy(models_dir() / name, tmp_path / name)
    card = json.loads((tmp_path / "model_card.json").read_text())
    card["embedding"]["flip_average"] = False
    (tmp_path / "model_card.json").write_text(json.dumps(card))
    plain = Embedder(tmp_path)
    a, b = plain.embed_crops(crop), plain.embed_crops(mirror)
    assert 1e-4 < float(squared_l2(a, b)[0]) < embedder.card.threshold
    if embedder.card.flip_average:  # the average lies between the two views
        avg = (a + b) / np.linalg.norm(a + b)
        assert float(squared_l2(avg, embedder.embed_crops(crop))[0]) < 1e-8


def test_a_batch_of_any_size_embeds_as_faces_one_at_a_time(embedder, detector, astronaut):
    """Batches run padded to a few fixed sizes; padding never changes a face's embedding."""
    from photoface.runtime import padded_batch

    assert [padded_batch(m) for m in (1, 2, 3, 5, 7, 9, 13, 17, 25)] == [1, 2, 3, 6, 8, 12, 16, 24, 32]
    face = central_face(detector.detect(astronaut), astronaut.shape[1], astronaut.shape[0])
    crop = embedder.align(astronaut, face.landmarks)
    # Five different crops (shifted copies), as a group photo's five faces.
    crops = np.stack([np.roll(crop, k, axis=1) for k in range(5)])
    together = embedder.embed_crops(crops)
    alone = np.concatenate([embedder.embed_crops(c[None]) for c in crops])
    assert np.abs(together - alone).max() < 1e-5
