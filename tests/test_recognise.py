"""Recognition of new faces among the named people: right names, and no name when unsure."""

from __future__ import annotations

import numpy as np

from photoface.recognise import recognise

THRESHOLD = 0.9855


def unit(v):
    v = np.asarray(v, np.float32)
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def face_at(centre, distance, rng):
    """A unit vector at squared L2 ``distance`` from unit ``centre``."""
    other = rng.normal(size=centre.shape)
    other -= centre * (other @ centre)
    other = unit(other)
    cos = 1 - distance / 2
    return unit(cos * centre + np.sqrt(1 - cos**2) * other)


def test_a_person_named_from_one_photo_is_recognised_among_many_strangers_within_the_threshold():
    rng = np.random.default_rng(0)
    ann = unit(rng.normal(size=128))
    # Ann's one named face; ten other people, each named from one face, all inside the threshold
    # of the query but clearly farther than Ann: the vote alone would see 5 people, 1 vote each.
    refs = [face_at(ann, 0.1, rng)] + [face_at(ann, 0.9, rng) for _ in range(10)]
    people = np.arange(11)
    query = face_at(ann, 0.1, rng)[None]
    (match,) = recognise(query, np.stack(refs), people, THRESHOLD)
    assert match is not None and match.person == 0
    (vote_only,) = recognise(query, np.stack(refs), people, THRESHOLD, margin=None)
    assert vote_only is None


def test_lookalikes_too_close_to_call_stay_unknown():
    rng = np.random.default_rng(1)
    q = unit(rng.normal(size=128))
    refs = np.stack([face_at(q, 0.50, rng), face_at(q, 0.55, rng)])
    (match,) = recognise(q[None], refs, np.array([1, 2]), THRESHOLD)
    assert match is None


def test_a_stranger_beyond_the_threshold_gets_no_name_and_rejections_are_respected():
    rng = np.random.default_rng(2)
    q = unit(rng.normal(size=128))
    refs = np.stack([face_at(q, 1.5, rng), face_at(q, 0.2, rng), face_at(q, 1.4, rng)])
    people = np.array([1, 2, 3])
    assert recognise(q[None], refs[[0, 2]], people[[0, 2]], THRESHOLD) == [None]
    (match,) = recognise(q[None], refs, people, THRESHOLD)
    assert match.person == 2 and 0.5 <= match.confidence <= 1 and abs(match.distance - 0.2) < 1e-4
    assert recognise(q[None], refs, people, THRESHOLD, rejected=[{2}]) == [None]


def test_a_clear_majority_of_several_named_faces_wins():
    rng = np.random.default_rng(3)
    q = unit(rng.normal(size=128))
    refs = np.stack([face_at(q, d, rng) for d in (0.30, 0.35, 0.40, 0.45, 0.60)])
    people = np.array([7, 7, 7, 8, 7])
    (match,) = recognise(q[None], refs, people, THRESHOLD)
    assert match.person == 7


def test_a_stricter_threshold_never_names_a_face_it_would_not_name_otherwise():
    """Strictness is a promise: turning it up may leave more faces unknown, never name more (the
    library keeps the vote radius at the model's threshold)."""
    rng = np.random.default_rng(4)
    centres = unit(rng.normal(size=(12, 128)))
    refs = np.stack([face_at(centres[p], rng.uniform(0.2, 1.2), rng) for p in range(12) for _ in range(3)])
    people = np.repeat(np.arange(12), 3)
    queries = np.stack([face_at(centres[rng.integers(12)], rng.uniform(0.3, 1.6), rng) for _ in range(400)])
    loose = recognise(queries, refs, people, THRESHOLD)
    for scale in (0.9, 0.8, 0.7, 0.5):
        strict = recognise(queries, refs, people, THRESHOLD * scale, vote_radius=THRESHOLD)
        for a, b in zip(loose, strict):
            assert b is None or (a is not None and a.person == b.person)
    assert sum(m is not None for m in strict) < sum(m is not None for m in loose)


def test_one_close_face_among_other_peoples_is_not_a_majority_at_a_stricter_threshold():
    # Ann is nearest, but not clearly (0.12 ahead of Bob); four other people's faces are close too.
    rng = np.random.default_rng(5)
    q = unit(rng.normal(size=128))
    refs = np.stack([face_at(q, d, rng) for d in (0.50, 0.62, 0.66, 0.70, 0.75)])
    people = np.array([1, 2, 2, 3, 4])  # Ann, Bob, Bob, Cy, Di
    assert recognise(q[None], refs, people, THRESHOLD) == [None]
    # Stricter: only Ann's face is within 0.6; the other four, within the model's threshold, still
    # vote (for nobody), as the library asks. Counting only the faces within 0.6 named Ann.
    assert recognise(q[None], refs, people, 0.6, vote_radius=THRESHOLD) == [None]
    assert recognise(q[None], refs, people, 0.6)[0].person == 1


def test_a_turned_face_needs_to_be_closer_to_be_named():
    from photoface.recognise import turned_thresholds

    refs = np.eye(4, dtype=np.float32)[:2]
    ref_people = np.array([1, 2])
    q = np.array([0.8, 0.6, 0, 0], np.float32)  # 0.4 from person 1, 1.2 from person 2
    queries = np.stack([q, q, q])
    thresholds = turned_thresholds(1.0, [0.9, 0.1, None], turned_scale=0.3)
    assert list(thresholds) == [1.0, 0.3, 1.0]  # unknown frontality counts as frontal
    frontal, turned, unknown = recognise(queries, refs, ref_people, thresholds)
    assert frontal.person == 1 and unknown.person == 1 and turned is None
