"""Triplet loss with FaceNet's semi-hard mining, and the teacher (distillation) terms.

Everything is written with ``keras.ops`` so it runs on any Keras backend. Distances are squared
L2 distances between L2-normalised embeddings (0..4), as in FaceNet (Schroff et al. 2015):

    L = mean over triplets of max(d(a, p) - d(a, n) + alpha, 0)

Online mining (batches of P identities x K images): every anchor-positive pair of the batch is
used; its negative is semi-hard, d(a, p) < d(a, n) < d(a, p) + alpha, the hardest such one (the
smallest d(a, n)); when the batch has no semi-hard negative for that pair, the hardest negative
(the smallest d(a, n) of all) is used instead.
"""

from __future__ import annotations

from keras import ops

_BIG = 1e9


def pairwise_sq_distances(emb):
    """Squared L2 distance between every two rows, clipped at 0 against rounding."""
    sq = ops.sum(ops.square(emb), axis=1)
    d = ops.expand_dims(sq, 1) - 2.0 * ops.matmul(emb, ops.transpose(emb)) + ops.expand_dims(sq, 0)
    return ops.maximum(d, 0.0)


def _same_label(labels):
    """(n, n) masks: rows of one label, and the same without a row paired with itself."""
    labels = ops.reshape(labels, (-1,))
    same = ops.equal(ops.expand_dims(labels, 1), ops.expand_dims(labels, 0))
    return same, ops.logical_and(same, ops.logical_not(ops.cast(ops.eye(ops.shape(labels)[0]), "bool")))


def semihard_negatives(dist, labels, alpha: float):
    """For each (anchor, positive) pair, the index of the negative the loss uses.

    Returns ``(neg_index, pos_mask, semihard_found)``, all (n, n): ``neg_index[a, p]`` is the
    chosen negative for the pair, ``pos_mask[a, p]`` says whether (a, p) is a positive pair,
    ``semihard_found[a, p]`` whether a semi-hard negative existed (else the hardest was taken).
    """
    same, pos_mask = _same_label(labels)
    neg_mask = ops.logical_not(same)  # (a, n)
    d_ap = ops.expand_dims(dist, 2)  # (a, p, 1)
    d_an = ops.expand_dims(dist, 1)  # (a, 1, n)
    semihard = ops.logical_and(
        ops.logical_and(d_an > d_ap, d_an < d_ap + alpha), ops.expand_dims(neg_mask, 1)
    )  # (a, p, n)
    semihard_d = ops.where(semihard, d_an, _BIG)
    semihard_idx = ops.argmin(semihard_d, axis=2)
    found = ops.any(semihard, axis=2)
    hardest_idx = ops.argmin(ops.where(neg_mask, dist, _BIG), axis=1)  # (a,)
    hardest_idx = ops.broadcast_to(ops.expand_dims(hardest_idx, 1), ops.shape(semihard_idx))
    neg_index = ops.where(found, semihard_idx, hardest_idx)
    return neg_index, pos_mask, found


def triplet_semihard_loss(emb, labels, alpha: float = 0.2):
    """Mean triplet loss over all anchor-positive pairs with semi-hard negatives."""
    dist = pairwise_sq_distances(emb)
    neg_index, pos_mask, _ = semihard_negatives(dist, labels, alpha)
    d_an = ops.take_along_axis(dist, ops.reshape(neg_index, (ops.shape(dist)[0], -1)), axis=1)
    d_an = ops.reshape(d_an, ops.shape(dist))
    per_pair = ops.maximum(dist - d_an + alpha, 0.0)
    pos = ops.cast(pos_mask, per_pair.dtype)
    return ops.sum(per_pair * pos) / ops.maximum(ops.sum(pos), 1.0)


def triplet_loss(anchor, positive, negative, alpha: float = 0.2):
    """Triplet loss on given triplets (the offline generator's batches)."""
    d_ap = ops.sum(ops.square(anchor - positive), axis=1)
    d_an = ops.sum(ops.square(anchor - negative), axis=1)
    return ops.mean(ops.maximum(d_ap - d_an + alpha, 0.0))


def distill_regression_loss(student, teacher, mask=None):
    """Mean squared distance between the student's embedding and the teacher's (both unit), over
    the rows ``mask`` (1/0 per row: has a teacher embedding) keeps; all rows without one."""
    sq = ops.sum(ops.square(student - teacher), axis=1)
    mask = ops.ones_like(sq) if mask is None else ops.cast(mask, sq.dtype)
    return ops.sum(sq * mask) / ops.maximum(ops.sum(mask), 1.0)


def distill_relational_loss(student, teacher, mask=None):
    """Match the batch's pairwise distance structure (scale-free: each side over its mean), over
    the pairs of rows ``mask`` keeps. A row without a teacher embedding must not take part: its
    zero target would sit at the same distance from every other target and pull those people
    together (as it did in View 2 fold runs, whose DevTest faces have no teacher rows)."""
    ds = pairwise_sq_distances(student)
    dt = pairwise_sq_distances(teacher)
    row = ops.ones_like(ds[0]) if mask is None else ops.cast(mask, ds.dtype)
    m = row[:, None] * row[None, :]
    count = ops.maximum(ops.sum(m), 1.0)
    ds = ds / ops.maximum(ops.sum(ds * m) / count, 1e-6)
    dt = dt / ops.maximum(ops.sum(dt * m) / count, 1e-6)
    return ops.sum(ops.square(ds - dt) * m) / count


def spread_loss(emb, groups, margin: float):
    """Mean over pairs of rows of one group of max(margin - d, 0): different people of one
    demographic group pushed at least ``margin`` (squared distance) apart. Every row is a
    different person; ``groups`` labels the rows' group."""
    dist = pairwise_sq_distances(emb)
    mask = ops.cast(_same_label(groups)[1], dist.dtype)
    return ops.sum(ops.maximum(margin - dist, 0.0) * mask) / ops.maximum(ops.sum(mask), 1.0)
