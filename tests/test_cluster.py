"""Grouping faces: average-linkage clustering on squared L2, checked against SciPy's exact one."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

from metrics import adjusted_rand, bcubed_prf  # noqa: E402
from synthetic import synthetic_faces  # noqa: E402

from photoface.cluster import blend_neighbours, cluster_faces, group_faces  # noqa: E402

THRESHOLD = 0.9855  # on the scale benchmarks/synthetic.py draws its embeddings for


def scipy_average(x: np.ndarray, threshold: float) -> np.ndarray:
    hierarchy = pytest.importorskip("scipy.cluster.hierarchy")
    from scipy.spatial.distance import pdist

    return hierarchy.fcluster(hierarchy.linkage(pdist(x.astype(np.float64), "sqeuclidean"), "average"),
                              threshold, "distance")


def same_partition(a, b) -> bool:
    pairs = set(zip(a.tolist(), b.tolist()))
    return len(pairs) == len(set(a.tolist())) == len(set(b.tolist()))


def test_empty_and_single_face():
    assert cluster_faces(np.zeros((0, 128), np.float32), THRESHOLD).shape == (0,)
    assert cluster_faces(np.ones((1, 128), np.float32) / np.sqrt(128), THRESHOLD).tolist() == [0]


def test_rejects_a_flat_vector():
    with pytest.raises(ValueError):
        cluster_faces(np.zeros(128, np.float32), THRESHOLD)


def test_with_every_neighbour_it_is_exactly_scipys_average_linkage():
    x, _ = synthetic_faces(600, 80, seed=3)
    ours = cluster_faces(x, THRESHOLD, k=len(x) - 1)
    assert same_partition(ours, scipy_average(x, THRESHOLD))


def test_the_scalable_k_nn_graph_agrees_with_the_exact_result():
    x, truth = synthetic_faces(3000, 400, seed=1)
    ours = cluster_faces(x, THRESHOLD)
    exact = scipy_average(x, THRESHOLD)
    assert adjusted_rand(ours, exact) > 0.99
    # and it groups people: nearly no mixed groups, most faces with their own person
    p, r, _ = bcubed_prf(truth.tolist(), ours.tolist())
    assert p > 0.99 and r > 0.8


def test_threshold_decides_whether_two_people_merge():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 128))
    b -= a * (a @ b) / (a @ a)  # b orthogonal to a: the two people are 2.0 apart
    faces = np.array([a + 0.05 * rng.standard_normal(128) for _ in range(5)]
                     + [b + 0.05 * rng.standard_normal(128) for _ in range(3)])
    faces = (faces / np.linalg.norm(faces, axis=1, keepdims=True)).astype(np.float32)
    assert cluster_faces(faces, 1.0).tolist() == [0] * 5 + [1] * 3  # biggest group is label 0
    assert set(cluster_faces(faces, 2.5).tolist()) == {0}  # a loose threshold merges everyone
    assert len(set(cluster_faces(faces, 1e-6).tolist())) == 8  # a strict one merges no one


def test_labels_are_numbered_by_size_and_stable_for_the_same_input():
    x, _ = synthetic_faces(2000, 200, seed=5)
    labels = cluster_faces(x, THRESHOLD)
    sizes = np.bincount(labels)
    assert (np.diff(sizes) <= 0).all()
    assert np.array_equal(labels, cluster_faces(x.copy(), THRESHOLD))


def test_reports_progress():
    x, _ = synthetic_faces(100, 10)
    said = []
    cluster_faces(x, THRESHOLD, progress=said.append)
    assert said and all(isinstance(s, str) for s in said)


def five_people_and_a_stranger():
    rng = np.random.default_rng(1)
    centres = rng.normal(size=(5, 32))
    x = np.repeat(centres, 6, 0) + 0.25 * rng.normal(size=(30, 32))
    x = np.vstack([x, rng.normal(size=(1, 32))])  # a stranger far from everyone
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32), np.append(np.repeat(np.arange(5), 6), 99)


def within_person(e, ids):
    """Mean squared distance between two photos of one person."""
    d = np.maximum(2 - 2 * e @ e.T, 0)
    same = (ids[:, None] == ids[None]) & ~np.eye(len(ids), dtype=bool)
    return d[same].mean()


def test_blending_pulls_a_persons_photos_together_and_leaves_loners_alone():
    x, ids = five_people_and_a_stranger()
    b = blend_neighbours(x, radius=1.0, k=3)
    assert np.allclose(np.linalg.norm(b, axis=1), 1, atol=1e-5)
    assert np.array_equal(b[-1], x[-1])  # no neighbour within the radius: unchanged
    assert within_person(b, ids) < 0.8 * within_person(x, ids)
    # The formula: x + sum of cos^3-weighted nearest neighbours (here k=1), re-normalised.
    d = np.maximum(2 - 2 * x @ x.T, 0)
    np.fill_diagonal(d, np.inf)
    j = d[0].argmin()
    expected = x[0] + (1 - d[0, j] / 2) ** 3 * x[j]
    assert np.allclose(blend_neighbours(x, 1.0, k=1)[0], expected / np.linalg.norm(expected), atol=1e-6)


def test_a_second_blending_round_blends_the_blended_faces_again():
    x, ids = five_people_and_a_stranger()
    once, twice = blend_neighbours(x, 1.0, k=4), blend_neighbours(x, 1.0, k=4, rounds=2)
    # Exactly so here: each face has fewer faces within the radius than the second round's 16
    # candidates (its nearest before blending), so no neighbour is out of its reach.
    assert np.allclose(twice, blend_neighbours(once, 1.0, k=4), atol=1e-6)
    assert within_person(twice, ids) < 0.8 * within_person(once, ids)
    assert np.array_equal(twice[-1], x[-1])  # the stranger still has no one to blend with
    # The app's grouping takes the rounds from its blend setting (neighbours, radius, rounds).
    assert np.array_equal(group_faces(x, 0.3, blend=(4, 1.0, 2)), cluster_faces(twice, 0.3))
    assert np.array_equal(group_faces(x, 0.3, blend=(4, 1.0)), cluster_faces(once, 0.3))


def profile_album(seed=0, dim=32):
    """Two people, 6 frontal photos each, and 3 profiles each that look more like each other's
    profiles (0.42 apart) than like their own person's frontal photos (1.13)."""
    rng = np.random.default_rng(seed)
    a, b, side = np.linalg.qr(rng.normal(size=(dim, 3)))[0].T

    def faces(centre, n, turn):
        x = centre + turn * side + 0.15 * rng.normal(size=(n, dim)) / np.sqrt(dim)
        return x / np.linalg.norm(x, axis=1, keepdims=True)

    x = np.concatenate([faces(a, 6, 0), faces(b, 6, 0), faces(a, 3, 2.0), faces(b, 3, 2.0)]).astype(np.float32)
    return x, [0] * 6 + [1] * 6 + [0] * 3 + [1] * 3, np.array([False] * 12 + [True] * 6)


def test_profiles_join_their_persons_frontal_group_instead_of_each_other():
    x, truth, turned = profile_album()
    plain = cluster_faces(x, 1.2)
    assert len(set(plain[12:])) == 1  # every profile in one group, two people mixed
    grouped = group_faces(x, 1.2, turned=turned, turned_threshold=1.2)
    assert adjusted_rand(truth, grouped) == 1.0
    # A stricter turned threshold leaves them out of the frontal groups (grouped among themselves).
    strict = group_faces(x, 1.2, turned=turned, turned_threshold=0.6)
    assert set(strict[:12]).isdisjoint(strict[12:])


def test_without_turned_faces_grouping_is_blend_then_cluster():
    x, _, _ = profile_album()
    blended = cluster_faces(blend_neighbours(x, 1.0, 3), 0.9)
    assert np.array_equal(group_faces(x, 0.9, blend=(3, 1.0)), blended)
    assert np.array_equal(group_faces(x, 0.9, blend=(3, 1.0), turned=np.zeros(len(x), bool), turned_threshold=0.5), blended)
    assert len(group_faces(np.empty((0, 8), np.float32), 0.9)) == 0


def group_photo_strangers(seed=0, dim=32):
    """Four photos of 3 background strangers each: blurred faces that all look alike (0.3 apart
    on average), while each stranger is someone else."""
    rng = np.random.default_rng(seed)
    blob = rng.normal(size=dim)
    x = blob / np.linalg.norm(blob) + 0.3 * rng.normal(size=(12, dim)) / np.sqrt(dim)
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32), np.repeat(np.arange(4), 3)


def test_faces_of_one_photo_are_never_grouped_together():
    x, photo = group_photo_strangers()
    assert len(set(cluster_faces(x, 0.5).tolist())) == 1  # without the photos: one group of 12 strangers
    for k in (2, 20):  # the round-based merge and the nearest-neighbour chain
        labels = cluster_faces(x, 0.5, k=k, apart=photo)
        for g in set(labels.tolist()):
            members = photo[labels == g]
            assert len(members) == len(set(members.tolist())), (k, labels)
        assert len(set(labels.tolist())) < 12  # still grouped, one face of a photo to a group
    # Faces with a photo of their own change nothing.
    y, _ = synthetic_faces(600, 80, seed=3)
    assert np.array_equal(cluster_faces(y, THRESHOLD, apart=np.arange(len(y))), cluster_faces(y, THRESHOLD))
    with pytest.raises(ValueError):
        cluster_faces(x, 0.5, apart=photo[:5])


def test_a_large_library_with_group_photos_keeps_each_photos_faces_apart():
    # Big enough for the merge to switch from rounds to the nearest-neighbour chain.
    x, truth = synthetic_faces(3000, 60, seed=2)
    rng = np.random.default_rng(0)
    photo = rng.integers(0, 1500, len(x))  # about two faces a photo, of anyone
    labels = cluster_faces(x, THRESHOLD, apart=photo)
    pairs = set(zip(labels.tolist(), photo.tolist()))
    assert len(pairs) == len(x)  # no group holds two faces of one photo
    p, r, _ = bcubed_prf(truth.tolist(), labels.tolist())
    assert p > 0.99 and r > 0.5


def test_a_face_is_not_blended_with_another_face_of_its_photo():
    x, photo = group_photo_strangers()
    alone = np.array([0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5])  # pairs of look-alikes in one photo
    b = blend_neighbours(x[:2], 1.0, k=3, apart=alone[:2])
    assert np.array_equal(b, x[:2])  # its only neighbour is in its photo: unchanged
    assert not np.array_equal(blend_neighbours(x[:2], 1.0, k=3), x[:2])
    # Otherwise it is blended as before with the rest, both rounds.
    d = np.maximum(2 - 2 * x @ x.T, 0)
    d[alone[:, None] == alone[None, :]] = np.inf
    j = d[0].argmin()
    expected = x[0] + (1 - d[0, j] / 2) ** 3 * x[j]
    assert np.allclose(blend_neighbours(x, 1.0, k=1, apart=alone)[0], expected / np.linalg.norm(expected), atol=1e-6)
    twice = blend_neighbours(x, 1.0, k=4, rounds=2, apart=alone)
    assert np.allclose(twice, blend_neighbours(blend_neighbours(x, 1.0, k=4, apart=alone), 1.0, k=4, apart=alone), atol=1e-6)


def test_a_profile_does_not_join_the_group_of_a_face_in_its_photo():
    x, truth, turned = profile_album()
    photo = np.arange(len(x))
    photo[12] = 0  # person 0's first profile shares a photo with person 0's first frontal face
    photo[13] = photo[14] = 100  # and two of its profiles share one photo
    grouped = group_faces(x, 1.2, turned=turned, turned_threshold=1.2, apart=photo)
    assert grouped[12] != grouped[0] and grouped[13] != grouped[14]
    assert grouped[13] == grouped[1] or grouped[14] == grouped[1]  # the nearer one still joins
    assert adjusted_rand(truth, group_faces(x, 1.2, turned=turned, turned_threshold=1.2,
                                            apart=np.arange(len(x)))) == 1.0


def test_a_users_group_stays_whole_gathers_new_faces_and_never_joins_another():
    x, truth = synthetic_faces(400, 8, seed=5, lookalikes=0.0)
    auto = cluster_faces(x, THRESHOLD)
    a, b = (np.flatnonzero(truth == p) for p in (0, 1))
    together = np.full(len(x), -1)
    together[a[:3]] = together[b[:3]] = 7  # the user merged two people's groups: one group now
    labels = cluster_faces(x, THRESHOLD, together=together)
    assert len(set(labels[together == 7].tolist())) == 1
    # The other faces of both people gather around it as they gathered in their own groups.
    for person in (a, b):
        assert (labels[person] == labels[a[0]]).mean() >= (auto[person] == auto[person[0]]).mean() > 0.8
    # Two groups the user made stay apart, however alike: here the first 3 faces of one person.
    split = np.full(len(x), -1)
    split[a[:1]], split[a[1:3]] = 1, 2
    labels = cluster_faces(x, THRESHOLD, together=split)
    assert labels[a[0]] != labels[a[1]] and labels[a[1]] == labels[a[2]]
    with pytest.raises(ValueError):
        cluster_faces(x, THRESHOLD, together=split[:5])
