"""Batch samplers and augmentation."""

from __future__ import annotations

import numpy as np

from training.dataset import Augment, IdentitySampler, OfflineTripletSampler, augment_crop

LABELS = np.repeat(np.arange(10), [1, 2, 3, 4, 5, 6, 2, 2, 2, 8])


def test_identity_sampler_gives_p_people_times_k_images():
    sampler = IdentitySampler(LABELS, people=4, per_person=3, seed=0)
    idx = sampler.batch_indices()
    assert len(idx) == 12
    groups = LABELS[idx].reshape(4, 3)
    assert (groups == groups[:, :1]).all()  # K images of one person per row
    assert len(set(groups[:, 0])) == 4  # P different people


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
