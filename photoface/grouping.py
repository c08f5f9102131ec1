"""Keeping the library's people and groups up to date after a scan or a correction.

User decisions are constraints that this never overrides: confirmed faces are never moved,
ignored faces are left alone, and a rejected face is never suggested to that person again.
Everything else is recomputed: suggestions (k-NN recognition against confirmed faces) and unnamed
groups (agglomerative clustering of what is left).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from . import metric as learned
from .recognise import recognise, turned_faces, turned_thresholds
from .store import Database
from .store.records import decode_array

NEXT_GROUP_KEY = "next_group_id"
METRIC_KEY = "learned_metric"
# "1": learn a metric on confirmed faces, "0": plain distances (default: on LFW's View 1 test
# people and the held-out CFP people no learned metric named more faces right; benchmarks/album.py
# and benchmarks/album_cfp.py measure both).
PERSONALISE_KEY = "personalise"
PERSONALISE_DEFAULT = "0"


@dataclass(frozen=True)
class Thresholds:
    """The model card's operating points under the user's strictness (``Library.thresholds``)."""

    recognise: float  # naming: the card's name threshold x strictness
    group: float  # grouping unnamed faces x strictness
    pair: float  # the pair threshold x strictness
    vote_radius: float | None = None  # recognise.recognise's voters: the card's own pair threshold
    turned_scale: float = 1.0  # a turned face's naming threshold, relative to ``recognise``
    turned_group: float | None = None  # a turned face joining a group (None: like any face)
    # ``cluster.group_faces``'s ``blend``: (neighbours, radius x strictness, rounds), or None when
    # the card does not blend (``ModelCard.blending``).
    blending: tuple[int, float, int] | None = None

    @property
    def blend(self) -> int:
        """Neighbours blended in before grouping (0: none)."""
        return self.blending[0] if self.blending else 0

    @property
    def blend_rounds(self) -> int:
        return self.blending[2] if self.blending else 1


@dataclass
class FaceSet:
    ids: np.ndarray  # (n,) face ids
    embeddings: np.ndarray  # (n, d)
    frontality: list = field(default_factory=list)  # (n,) 0..1, None where never measured
    photos: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))  # (n,) each face's photo id


def load_embeddings(db: Database, model_version: str, where: str = "1", params=()) -> FaceSet:
    rows = db.query(
        "SELECT f.id, f.embedding, f.frontal, f.photo_id FROM faces f LEFT JOIN assignments a ON a.face_id = f.id "
        f"WHERE f.ignored = 0 AND f.model_version = ? AND f.embedding IS NOT NULL AND ({where}) "
        "ORDER BY f.id",
        (model_version, *params),
    )
    if not rows:
        return FaceSet(np.empty(0, np.int64), np.empty((0, 0), np.float32))
    ids = np.array([r[0] for r in rows], np.int64)
    return FaceSet(ids, np.stack([decode_array(r[1]) for r in rows]), [r[2] for r in rows],
                   np.array([r[3] for r in rows], np.int64))


def references(db: Database, model_version: str) -> tuple[FaceSet, np.ndarray]:
    """Confirmed faces of named people, and the person of each."""
    refs = load_embeddings(db, model_version, "a.state = 'confirmed'")
    people = {r[0]: r[1] for r in db.query("SELECT face_id, person_id FROM assignments WHERE state = 'confirmed'")}
    return refs, np.array([people[i] for i in refs.ids], np.int64)


def rejections_for(db: Database, face_ids) -> list[set[int]]:
    by_face: dict[int, set[int]] = {}
    for face_id, person_id in db.query("SELECT face_id, person_id FROM rejections"):
        by_face.setdefault(face_id, set()).add(person_id)
    return [by_face.get(int(i), set()) for i in face_ids]


def suggest(db: Database, model_version: str, t: Thresholds, where: str, params=(), k: int = 5):
    """Recognise the faces selected by ``where`` (never confirmed ones): -> {face id: Match}.
    A turned face must lie within ``t.recognise`` x ``t.turned_scale``."""
    candidates = load_embeddings(db, model_version, f"(a.state IS NULL OR a.state != 'confirmed') AND ({where})", params)
    refs, ref_people = references(db, model_version)
    if not len(candidates.ids) or not len(refs.ids):
        return candidates, {}
    matches = recognise(
        candidates.embeddings, refs.embeddings, ref_people,
        turned_thresholds(t.recognise, candidates.frontality, t.turned_scale), k=k,
        rejected=rejections_for(db, candidates.ids), metric=current_metric(db), vote_radius=t.vote_radius,
    )
    return candidates, {int(i): m for i, m in zip(candidates.ids, matches) if m is not None}


def current_metric(db: Database) -> np.ndarray | None:
    """The learned metric, if personalisation is on and one has been learned."""
    if db.get_setting(PERSONALISE_KEY, PERSONALISE_DEFAULT) != "1":
        return None
    cached = learned.from_text(db.get_setting(METRIC_KEY))
    return cached[0] if cached else None


def update_metric(db: Database, model_version: str) -> bool:
    """Learn the metric again if the confirmed faces changed; True if one is in use."""
    if db.get_setting(PERSONALISE_KEY, PERSONALISE_DEFAULT) != "1":
        return False
    refs, people = references(db, model_version)
    sig = learned.signature(refs.ids, people)
    cached = learned.from_text(db.get_setting(METRIC_KEY))
    if cached and cached[1] == sig:
        return True
    matrix = learned.learn(refs.embeddings, people) if len(refs.ids) else None
    with db.transaction() as c:
        if matrix is None:
            c.execute("DELETE FROM settings WHERE key = ?", (METRIC_KEY,))
        else:
            c.execute("INSERT OR REPLACE INTO settings(key, value) VALUES (?, ?)", (METRIC_KEY, learned.to_text(matrix, sig)))
    return matrix is not None


def write_suggestions(conn, matches: dict) -> None:
    for face_id, m in matches.items():
        conn.execute(
            "INSERT OR REPLACE INTO assignments(face_id, person_id, group_id, state, confidence) "
            "VALUES (?, ?, NULL, 'suggested', ?)",
            (face_id, m.person, round(m.confidence, 4)),
        )


# Regrouping reads and clusters outside the write lock (it can take a while; the user's decisions
# must not wait for it) and writes only if nobody committed meanwhile; else it plans again, and
# after this many tries plans holding the lock.
_OPTIMISTIC_TRIES = 3


def refresh(db: Database, model_version: str, t: Thresholds, progress=None) -> dict:
    """Re-suggest and re-group every face the user has not decided on. One transaction.
    Named faces are recognised at ``t.recognise``; the rest are grouped at ``t.group``, blended
    first as ``t.blending`` says, turned faces joining groups within
    ``t.turned_group`` (``cluster.group_faces``)."""
    say = progress or (lambda msg: None)
    say("learning from confirmed faces")
    personalised = update_metric(db, model_version)
    for attempt in range(_OPTIMISTIC_TRIES + 1):
        seen = db.data_version()
        if attempt < _OPTIMISTIC_TRIES:
            plan = _plan_groups(db, model_version, t, say)
        with db.transaction() as c:
            if attempt == _OPTIMISTIC_TRIES:
                plan = _plan_groups(db, model_version, t, say)  # under the lock: nothing can change
            elif db.data_version() != seen:
                continue  # a decision or another scan committed while this one planned
            if plan is None:
                return {"suggested": 0, "groups": 0, "personalised": personalised}
            candidates, matches, ids, group_ids, together = plan
            c.executemany(
                "DELETE FROM assignments WHERE face_id = ? AND state IN ('auto', 'suggested')",
                [(int(f),) for f in candidates.ids],
            )
            write_suggestions(c, matches)
            c.executemany(
                "INSERT INTO assignments(face_id, person_id, group_id, state, pinned) VALUES (?, NULL, ?, 'auto', ?)",
                [(int(f), int(g), int(p >= 0)) for f, g, p in zip(ids, group_ids, together)],
            )
        return {"suggested": len(matches), "groups": int(len(set(group_ids))), "personalised": personalised}
    raise AssertionError("unreachable: the last try plans under the lock")


def _plan_groups(db: Database, model_version: str, t: Thresholds, say):
    """Suggestions and groups for every undecided face, as the library is now (None: no faces)."""
    from .cluster import group_faces

    say("recognising faces")
    candidates, matches = suggest(db, model_version, t, "1")
    if not len(candidates.ids):
        return None
    rest = np.array([i not in matches for i in candidates.ids.tolist()], bool)
    ids = candidates.ids[rest]
    grouped = db.query("SELECT face_id, group_id, pinned FROM assignments WHERE group_id IS NOT NULL")
    old = {r[0]: r[1] for r in grouped}
    # Groups the user made (merged, or split off) are kept whole and apart from each other.
    pinned = {r[0]: r[1] for r in grouped if r[2]}
    together = np.array([pinned.get(int(f), -1) for f in ids], np.int64)
    # Faces of one photo are two people, unless the user put two of them together (a collage, a
    # mirror): such a photo's faces are grouped like faces of different photos.
    apart = candidates.photos[rest].copy()
    twice = _photos_with_someone_twice(db)
    if twice:
        mine = np.isin(apart, list(twice))
        apart[mine] = -ids[mine]  # a value of their own (photo ids are positive)
    say(f"grouping {len(ids)} faces")
    labels = group_faces(
        candidates.embeddings[rest], t.group,
        blend=t.blending,
        turned=turned_faces([f for f, r in zip(candidates.frontality, rest) if r]),
        turned_threshold=t.turned_group,
        apart=apart,
        together=together,
    )
    group_ids = _stable_group_ids(db, ids, labels, old, together)
    return candidates, matches, ids, group_ids, together


def _photos_with_someone_twice(db: Database) -> set[int]:
    """Photos in which the user put two faces in one person or in one group of their own."""
    rows = db.query(
        "SELECT f.photo_id FROM faces f JOIN assignments a ON a.face_id = f.id "
        "WHERE a.state = 'confirmed' OR a.pinned = 1 "
        "GROUP BY f.photo_id, a.person_id, a.group_id HAVING COUNT(*) > 1"
    )
    return {r[0] for r in rows}


def _stable_group_ids(db: Database, ids, labels, old: dict, together=None) -> list[int]:
    """Give each new cluster the id of the old group most of its faces came from, so that ids a
    user has seen ("g12") keep meaning the same faces; a cluster holding a group the user made
    (``together`` >= 0) keeps that group's id; other clusters get ids never used before."""
    members: dict[int, list[int]] = {}
    for face_id, label in zip(ids.tolist(), labels.tolist()):
        members.setdefault(label, []).append(face_id)
    taken: set[int] = set()
    mapping: dict[int, int] = {}
    if together is not None:
        for label, gid in zip(labels.tolist(), np.asarray(together).tolist()):
            if gid >= 0 and label not in mapping:
                mapping[label] = gid
                taken.add(gid)
    # Larger clusters choose first.
    for label, faces in sorted(members.items(), key=lambda kv: -len(kv[1])):
        if label in mapping:
            continue
        votes = Counter(old[f] for f in faces if f in old)
        for gid, _ in votes.most_common():
            if gid not in taken:
                mapping[label] = gid
                taken.add(gid)
                break
    next_id = max([int(db.get_setting(NEXT_GROUP_KEY, "1"))] + [g + 1 for g in old.values()])
    for label in members:
        if label not in mapping:
            mapping[label] = next_id
            next_id += 1
    db.set_setting(NEXT_GROUP_KEY, next_id)
    return [mapping[label] for label in labels.tolist()]


def new_group_id(db: Database) -> int:
    """A group id never used before (for faces split off by the user)."""
    used = db.scalar("SELECT MAX(group_id) FROM assignments") or 0
    gid = max(int(db.get_setting(NEXT_GROUP_KEY, "1")), used + 1)
    db.set_setting(NEXT_GROUP_KEY, gid + 1)
    return gid
