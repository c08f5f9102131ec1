"""Face embeddings from the bundled model, described by its model card.

The card (``resources/models/model_card.json``, written by ``python -m training.export``) says
everything the app needs: the model file and its SHA-256, the input size, the embedding size,
the distance and the same-person threshold. Nothing of it is repeated in code.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .align import TEMPLATES, align_face
from .config import models_dir
from .errors import ModelError
from .runtime import LiteModel

CARD_NAME = "model_card.json"


@dataclass(frozen=True)
class ModelCard:
    model_file: str
    sha256: str
    version: str
    input_size: int
    template: str  # the crop's geometry (``photoface.align.TEMPLATES``); older cards: "arcface"
    embedding_size: int
    distance: str
    threshold: float  # verification: "same person?" for one pair (best accuracy)
    group_threshold: float  # grouping unnamed faces (a stricter operating point)
    flip_average: bool  # embed each face and its mirror image, average (the thresholds assume it)
    # Before grouping, blend each face with this many nearest faces within group_blend_radius
    # (``cluster.blend_neighbours``; 0 = off); group_threshold is then for blended embeddings.
    group_blend: int
    # Blending rounds (``cluster.blend_neighbours``): older cards blended once.
    group_blend_rounds: int
    # How far a blended neighbour may be (squared L2). Older cards: the pair threshold.
    group_blend_radius: float
    # Recognising a turned face (frontality below recognise.TURNED_BELOW): its threshold. Cards
    # without one treat every face alike.
    turned_threshold: float
    # Grouping a turned face: the average distance at which it may join a group of frontal faces
    # (``cluster.group_faces``). None (older cards): turned faces are grouped like any other.
    turned_group_threshold: float | None
    # Naming a frontal face by k-NN: stricter than the pair threshold, so that few named people's
    # photos get a wrong name (training/operating_points.py). Older cards: the pair threshold.
    name_threshold: float
    # Sure suggestions: within this (at most ``name_threshold``), few names given are wrong even
    # counting strangers, and "Confirm sure suggestions" takes them. Older cards: name_threshold.
    sure_threshold: float
    raw: dict

    def blending(self, scale: float = 1.0) -> tuple[int, float, int] | None:
        """``cluster.group_faces``'s ``blend``, its radius times ``scale`` (the user's strictness):
        None when the card does not blend."""
        return (self.group_blend, self.group_blend_radius * scale, self.group_blend_rounds) if self.group_blend else None

    @property
    def sure_confidence(self) -> float:
        """The least ``recognise.Match.confidence`` of a sure suggestion: a nearest face at the sure
        threshold, all votes for the person. Confidence falls with the distance relative to the
        face's threshold, so the same cut holds for turned faces and at any strictness. A card
        without a stricter sure threshold: 0, every suggestion is sure."""
        if self.sure_threshold >= self.name_threshold:
            return 0.0
        return 1.0 - 0.5 * self.sure_threshold / self.name_threshold

    @property
    def turned_scale(self) -> float:
        """The turned face's threshold relative to the pair threshold (the user's strictness
        scales both)."""
        return self.turned_threshold / self.threshold

    @classmethod
    def load(cls, path: Path) -> "ModelCard":
        try:
            raw = json.loads(Path(path).read_text())
            card = cls(
                model_file=raw["model_file"],
                sha256=raw["sha256"],
                version=raw["version"],
                input_size=int(raw["input"]["size"]),
                template=str(raw["input"].get("template", "arcface")),
                embedding_size=int(raw["embedding"]["size"]),
                distance=raw["embedding"]["distance"],
                threshold=float(raw["embedding"]["same_person_threshold"]),
                # Cards from before the operating points used one threshold for everything.
                group_threshold=float(raw["embedding"].get("group_threshold", raw["embedding"]["same_person_threshold"])),
                flip_average=bool(raw["embedding"].get("flip_average", False)),
                group_blend=int(raw["embedding"].get("group_blend", 0)),
                group_blend_rounds=int(raw["embedding"].get("group_blend_rounds", 1)),
                group_blend_radius=float(raw["embedding"].get("group_blend_radius", raw["embedding"]["same_person_threshold"])),
                turned_threshold=float(raw["embedding"].get("turned_threshold", raw["embedding"]["same_person_threshold"])),
                turned_group_threshold=(float(raw["embedding"]["turned_group_threshold"])
                                        if "turned_group_threshold" in raw["embedding"] else None),
                name_threshold=float(raw["embedding"].get("name_threshold", raw["embedding"]["same_person_threshold"])),
                sure_threshold=float(raw["embedding"].get("sure_threshold", raw["embedding"].get(
                    "name_threshold", raw["embedding"]["same_person_threshold"]))),
                raw=raw,
            )
            if card.template not in TEMPLATES:
                raise ValueError(f"unknown crop template {card.template!r}")
            return card
        except FileNotFoundError:
            raise ModelError(f"model card not found: {path}") from None
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"{path}: invalid model card ({exc})") from None


def squared_l2(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Squared L2 distance between rows of ``a`` and ``b`` (broadcasting)."""
    return np.sum((np.asarray(a, np.float32) - np.asarray(b, np.float32)) ** 2, axis=-1)


class Embedder:
    """Aligns faces and maps them to L2-normalised embeddings with the bundled model."""

    def __init__(self, model_dir: Path | str | None = None, num_threads: int = 2, verify: bool = True):
        model_dir = Path(model_dir) if model_dir else models_dir()
        self.card = ModelCard.load(model_dir / CARD_NAME)
        path = model_dir / self.card.model_file
        if verify and path.is_file():
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            if digest != self.card.sha256:
                raise ModelError(f"{path.name} does not match its model card (SHA-256 differs)")
        self.model = LiteModel(path, num_threads=num_threads)
        sig = self.model.input_signature
        if tuple(sig[1:]) != (self.card.input_size, self.card.input_size, 3):
            raise ModelError(f"{path.name}: input {sig} does not match the card's size")

    @property
    def input_size(self) -> int:
        return self.card.input_size

    @property
    def threshold(self) -> float:
        return self.card.threshold

    def align(self, rgb: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
        return align_face(rgb, landmarks, self.card.input_size, self.card.template)

    def embed_crops(self, crops: np.ndarray, batch: int = 32) -> np.ndarray:
        """Embeddings of aligned uint8 crops (n, s, s, 3) -> (n, d), unit length."""
        crops = np.asarray(crops)
        n = len(crops)
        if n == 0:
            return np.empty((0, self.card.embedding_size), np.float32)
        x = crops.astype(np.float32)
        if self.card.flip_average:
            # The face and its mirror image, averaged: a face is nearly symmetric, so this averages
            # out the network's own asymmetric errors (LFW View 1: 93.5% -> 95.2% measured).
            (both,) = self.model.run_batched(np.concatenate([x, x[:, :, ::-1]]), max_batch=batch)
            emb = both[:n] + both[n:]
        else:
            (emb,) = self.model.run_batched(x, max_batch=batch)
        # Re-normalise: the model's own normalisation is exact only up to float rounding.
        return emb / np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-12)

    def embed_faces(self, rgb: np.ndarray, landmarks_list) -> np.ndarray:
        crops = [self.align(rgb, marks) for marks in landmarks_list]
        return self.embed_crops(np.stack(crops) if crops else np.empty((0,)))

    def same_person(self, a: np.ndarray, b: np.ndarray) -> tuple[float, bool]:
        d = float(squared_l2(a, b))
        return d, d < self.card.threshold
