"""Training batches from the aligned-crop cache: P identities x K images, or offline triplets.

Augmentation makes the crops look like personal photos rather than LFW press photos: horizontal
flip, scale/shift/rotation jitter, brightness/contrast, colour casts, blur, low resolution, JPEG
artefacts and partial occlusion. Each is applied with its own probability; all of it is
NumPy/OpenCV on uint8 crops, seeded, so a run is reproducible.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class Augment:
    flip: float = 0.5
    jitter: float = 1.0  # probability of a scale/shift/rotation warp
    scale: float = 0.08  # +- relative scale
    shift: float = 0.06  # +- fraction of the crop
    rotate: float = 10.0  # +- degrees
    photometric: float = 0.8  # brightness/contrast
    colour_cast: float = 0.3
    blur: float = 0.2
    low_res: float = 0.2
    jpeg: float = 0.3
    occlude: float = 0.15

    @classmethod
    def basic(cls) -> "Augment":
        """The original recipe: flip, small scale/shift jitter, brightness/contrast."""
        return cls(rotate=0.0, colour_cast=0.0, blur=0.0, low_res=0.0, jpeg=0.0, occlude=0.0)

    @classmethod
    def clean(cls) -> "Augment":
        """The real recipe without the degradations that change what the teacher sees."""
        return cls(blur=0.0, low_res=0.0, jpeg=0.0, occlude=0.0)

    @classmethod
    def geometric(cls) -> "Augment":
        """Mirroring and scale/shift/rotation jitter only (for views already degraded)."""
        return cls(photometric=0.0, colour_cast=0.0, blur=0.0, low_res=0.0, jpeg=0.0, occlude=0.0)

    @classmethod
    def none(cls) -> "Augment":
        return cls(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)


def augment_crop(img: np.ndarray, aug: Augment, rng: np.random.Generator) -> np.ndarray:
    """One augmented view of a uint8 RGB crop (same size)."""
    s = img.shape[0]
    out = img
    if rng.random() < aug.flip:
        out = out[:, ::-1]
    if rng.random() < aug.jitter and (aug.scale or aug.shift or aug.rotate):
        scale = 1.0 + rng.uniform(-aug.scale, aug.scale)
        angle = rng.uniform(-aug.rotate, aug.rotate)
        m = cv2.getRotationMatrix2D((s / 2, s / 2), angle, scale)
        m[:, 2] += rng.uniform(-aug.shift, aug.shift, 2) * s
        out = cv2.warpAffine(np.ascontiguousarray(out), m, (s, s), borderMode=cv2.BORDER_REFLECT101)
    out = np.ascontiguousarray(out)
    if rng.random() < aug.blur:
        k = rng.choice([3, 5])
        out = cv2.GaussianBlur(out, (k, k), rng.uniform(0.6, 1.6))
    if rng.random() < aug.low_res:
        small = int(s * rng.uniform(0.3, 0.6))
        out = cv2.resize(cv2.resize(out, (small, small), interpolation=cv2.INTER_AREA), (s, s))
    if rng.random() < aug.jpeg:
        out = jpeg_artefacts(out, rng)
    x = tone(out.astype(np.float32), aug, rng)
    if rng.random() < aug.occlude:
        h = int(s * rng.uniform(0.15, 0.35))
        w = int(s * rng.uniform(0.2, 0.5))
        y0, x0 = rng.integers(0, s - h), rng.integers(0, s - w)
        x[y0 : y0 + h, x0 : x0 + w] = rng.uniform(0, 255, 3)
    return np.clip(x, 0, 255).astype(np.uint8)


def jpeg_artefacts(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The image after a round trip through JPEG at a low quality (15-59)."""
    ok, enc = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(15, 60))])
    return cv2.imdecode(enc, cv2.IMREAD_UNCHANGED) if ok else img


def tone(x: np.ndarray, aug: Augment, rng: np.random.Generator) -> np.ndarray:
    """Brightness/contrast and a colour cast (float pixels; the same draws for a crop or a photo)."""
    if rng.random() < aug.photometric:
        contrast = rng.uniform(0.7, 1.3)
        brightness = rng.uniform(-30, 30)
        x = (x - x.mean()) * contrast + x.mean() + brightness
    if rng.random() < aug.colour_cast:
        x = x * rng.uniform(0.85, 1.15, 3)
    return x


class IdentitySampler:

    """Batches of ``people`` identities x ``per_person`` images each (with replacement when an
    identity has fewer images; augmentation makes the repeated views differ).

    With ``lookalikes`` (each identity's nearest identities, nearest first, as rows of identity
    indices) a share ``lookalike_share`` of the batches is made of one random identity and
    ``people - 1`` drawn from its ``2 x people`` nearest (doppelganger mining, Smirnov et al.
    2017): random identities rarely put two similar-looking people in one batch, so the triplet
    and pairwise terms seldom see the strangers a library confuses."""

    def __init__(self, labels: np.ndarray, people: int, per_person: int, seed: int = 0,
                 lookalikes: np.ndarray | None = None, lookalike_share: float = 0.0,
                 profiles: np.ndarray | None = None):
        """``profiles`` (a bool per image): an identity with profile and frontal images shows
        half its ``per_person`` images from each, so that its positives pair the two poses."""
        self.people, self.per_person = people, per_person
        self.rng = np.random.default_rng(seed)
        order = np.argsort(labels, kind="stable")
        ids, starts = np.unique(labels[order], return_index=True)
        self.ids = ids
        self.members = np.split(order, starts[1:])
        self.profiles = profiles
        self.lookalikes, self.lookalike_share = lookalikes, float(lookalike_share)
        if len(self.ids) < people:
            raise ValueError(f"only {len(self.ids)} identities for batches of {people} people")

    def _identities(self) -> np.ndarray:
        if self.lookalikes is not None and self.rng.random() < self.lookalike_share:
            seed = int(self.rng.integers(len(self.ids)))
            pool = self.lookalikes[seed][self.lookalikes[seed] != seed][: 2 * self.people]
            if len(pool) >= self.people - 1:
                return np.r_[seed, self.rng.choice(pool, self.people - 1, replace=False)]
        return self.rng.choice(len(self.ids), self.people, replace=False)

    def batch_indices(self) -> np.ndarray:
        chosen = self._identities()
        idx = []
        for c in chosen:
            m = self.members[c]
            if self.profiles is not None and 0 < self.profiles[m].sum() < len(m):
                side, front = m[self.profiles[m]], m[~self.profiles[m]]
                k = self.per_person // 2
                idx.append(self.rng.choice(side, k, replace=len(side) < k))
                idx.append(self.rng.choice(front, self.per_person - k, replace=len(front) < self.per_person - k))
                continue
            idx.append(self.rng.choice(m, self.per_person, replace=len(m) < self.per_person))
        return np.concatenate(idx)


def lookalike_identities(labels: np.ndarray, embeddings: np.ndarray, valid: np.ndarray, count: int) -> np.ndarray:
    """Each identity's ``count`` nearest identities (itself first), by the cosine of their mean
    embeddings (the teacher's, over the faces that have one; an identity without any gets random
    neighbours). Rows follow ``np.unique(labels)``."""
    ids, inverse = np.unique(labels, return_inverse=True)
    n = len(ids)
    sums = np.zeros((n, embeddings.shape[1]), np.float64)
    np.add.at(sums, inverse[valid], embeddings[valid])
    norms = np.linalg.norm(sums, axis=1, keepdims=True)
    means = np.where(norms > 0, sums / np.maximum(norms, 1e-12), 0.0).astype(np.float32)
    count = min(count, n)
    out = np.empty((n, count), np.int64)
    rng = np.random.default_rng(0)
    for start in range(0, n, 1024):
        sim = means[start : start + 1024] @ means.T
        rows = np.arange(start, min(start + 1024, n))
        missing = norms[rows, 0] == 0
        sim[missing] = rng.random((int(missing.sum()), n))
        sim[rows - start, rows] = np.inf  # itself first
        out[rows] = np.argsort(-sim, axis=1)[:, :count]
    return out


class OfflineTripletSampler:
    """The student project's generator: for each anchor, ``num_same`` positives x ``num_diff``
    random negatives; batches are [anchors, positives, negatives] of ``triplets`` each."""

    def __init__(self, labels: np.ndarray, num_same: int, num_diff: int, triplets: int, seed: int = 0):
        self.labels = labels
        self.rng = np.random.default_rng(seed)
        self.triplets = triplets
        order = np.argsort(labels, kind="stable")
        ids, starts = np.unique(labels[order], return_index=True)
        members = dict(zip(ids, np.split(order, starts[1:])))
        anchors = [i for i in range(len(labels)) if len(members[labels[i]]) >= 2]
        self.table = self._build(anchors, members, num_same, num_diff)

    def _build(self, anchors, members, num_same, num_diff) -> np.ndarray:
        rows = []
        n = len(self.labels)
        for a in anchors:
            same = members[self.labels[a]]
            same = same[same != a]
            for p in self.rng.choice(same, min(num_same, len(same)), replace=False):
                negs = self.rng.integers(0, n, num_diff * 2)
                negs = negs[self.labels[negs] != self.labels[a]][:num_diff]
                rows.extend((a, p, ng) for ng in negs)
        table = np.array(rows, dtype=np.int64).reshape(-1, 3)
        self.rng.shuffle(table)
        return table

    def batch_indices(self) -> np.ndarray:
        pick = self.table[self.rng.integers(0, len(self.table), self.triplets)]
        return np.concatenate([pick[:, 0], pick[:, 1], pick[:, 2]])
