"""Batch samplers and augmentation."""

from __future__ import annotations

import numpy as np

from training.dataset import Augment, IdentitySampler, OfflineTripletSampler, augment_crop, lookalike_identities

LABELS = np.repeat(np.arange(10), [1, 2, 3, 4, 5, 6, 2, 2, 2, 8])


def test_identity_sampler_gives_p_people_times_k_images():
    sampler = IdentitySampler(LABELS, people=4, per_person=3, seed=0)
    idx = sampler.batch_indices()
    assert len(idx) == 12
    groups = LABELS[idx].reshape(4, 3)
    assert (groups == groups[:, :1]).all()  # K images of one person per row
    assert len(set(groups[:, 0])) == 4  # P different people


def test_people_with_profiles_show_half_their_batch_images_as_profiles():
    """With ``profiles``, a person photographed both ways pairs the poses in every batch; a
    person with frontal photos only is drawn as before."""
    labels = np.repeat(np.arange(6), 14)
    profiles = np.tile(np.r_[np.zeros(10, bool), np.ones(4, bool)], 6)
    profiles[labels == 5] = False  # frontal photos only
    sampler = IdentitySampler(labels, people=6, per_person=4, seed=3, profiles=profiles)
    for _ in range(20):
        idx = sampler.batch_indices()
        for person in range(6):
            shown = idx[labels[idx] == person]
            assert len(shown) == 4
            assert profiles[shown].sum() == (0 if person == 5 else 2)


def test_offline_triplets_are_valid():
    sampler = OfflineTripletSampler(LABELS, num_same=2, num_diff=3, triplets=50, seed=0)
    idx = sampler.batch_indices()
    a, p, n = idx[:50], idx[50:100], idx[100:]
    assert (LABELS[a] == LABELS[p]).all() and (a != p).all()
    assert (LABELS[a] != LABELS[n]).all()


def test_augmentation_keeps_shape_and_is_reproducible(astronaut):
    crop = np.ascontiguousarray(astronaut[50:162, 170:282])
    one = augment_crop(crop, Augment(), np.random.default_rng(3))
    two = augment_crop(crop, Augment(), np.random.default_rng(3))
    assert one.shape == crop.shape and one.dtype == np.uint8
    assert np.array_equal(one, two)
    assert np.array_equal(augment_crop(crop, Augment.none(), np.random.default_rng(0)), crop)
    views = [augment_crop(crop, Augment(), np.random.default_rng(s)) for s in range(8)]
    assert len({v.tobytes() for v in views}) == 8  # every seed gives another view


def _people_on_a_line(n_people=40, per=3, seed=0):
    """Identities whose mean embeddings lie along a circle arc: identity i looks most like i +- 1."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(n_people) * 10, per)  # labels need not be 0..n-1
    angle = np.repeat(np.linspace(0, np.pi / 2, n_people), per)
    emb = np.stack([np.cos(angle), np.sin(angle)] + [np.zeros_like(angle)] * 6, 1)
    emb += rng.normal(scale=1e-3, size=emb.shape)
    return labels, emb.astype(np.float32)


def test_lookalikes_are_the_identities_with_the_nearest_mean_embedding():
    labels, emb = _people_on_a_line()
    valid = np.ones(len(labels), bool)
    valid[:3] = False  # identity 0 has no teacher embedding: random neighbours, itself first
    near = lookalike_identities(labels, emb, valid, 5)
    assert near.shape == (40, 5) and (near[:, 0] == np.arange(40)).all()
    assert set(near[20, 1:3]) == {19, 21} and set(near[20, 3:5]) == {18, 22}
    assert set(near[39, 1:]) == {38, 37, 36, 35}


def test_lookalike_batches_gather_similar_people_and_the_rest_stay_random():
    labels, emb = _people_on_a_line()
    near = lookalike_identities(labels, emb, np.ones(len(labels), bool), 9)
    sampler = IdentitySampler(labels, people=4, per_person=3, seed=1, lookalikes=near, lookalike_share=1.0)
    for _ in range(20):
        chosen = np.unique(labels[sampler.batch_indices()]) // 10
        assert len(chosen) == 4 and chosen.max() - chosen.min() <= 16  # within the seed's 8 nearest
    sampler.lookalike_share = 0.0
    spans = [np.ptp(np.unique(labels[sampler.batch_indices()]) // 10) for _ in range(20)]
    assert max(spans) > 16  # random identities spread over the whole set
