"""Grouping faces into people: average-linkage agglomerative clustering of face embeddings.

The distance between two faces is the squared L2 distance of their embeddings (2 - 2 cos for unit
vectors). Two groups are merged while the *average* distance over all their cross pairs of faces
is <= ``threshold``; the result is the same as cutting the exact average-linkage dendrogram at
``threshold`` (``scipy.cluster.hierarchy.linkage(method="average")`` then ``fcluster(t,
"distance")``), except for the approximation below. A full n x n distance matrix is never built
(100k faces would need 40 GB), so:

1. **Candidate graph.** Each face keeps its ``k`` nearest neighbours among the faces within
   ``threshold`` of it (exact, from blockwise float32 matrix products over the upper triangle
   only). Pairs farther than the threshold are not needed: two groups with no pair of faces within
   the threshold cannot average within it.
2. **Merging.** For squared L2 the average cross distance of two groups is exact from per-group
   sums: ``mean |a-b|^2 = mean|a|^2 + mean|b|^2 - 2 mean(a).mean(b)``, so a group is just its vector
   sum, its sum of squared norms and its size. Each round merges every pair of groups that are each
   other's nearest neighbour (within the threshold): for average linkage (a reducible linkage)
   this gives the same result as merging one closest pair at a time (RAC, Sumengen et al. 2021),
   and a round is a few vectorised NumPy passes over the graph's edges.

The only approximation: two groups are compared only if a face of one is among the ``k`` nearest
neighbours of a face of the other. With ``k >= n - 1`` the result is exact average linkage.

**Faces of one photo are different people** (``apart``: each face's photo). Two groups holding
faces of the same photo are never merged (a cannot-link constraint): strangers in the background
of group photos are small, blurred faces whose embeddings lie close together, and without this
they chained into one group across photos, several from each photo. Only faces whose photo has
another face carry a constraint, so a library of portraits pays nothing for it.

**The user's groups are kept** (``together``: a group id, or -1). Faces the user put in one group
(a merge, or faces split off into a group of their own) end up in one cluster, and two such groups
never in one, since the user has seen both. Each of their faces is a seed that other faces may
gather around (no two seeds in one cluster), and each group's seeds with what gathered around
them form its cluster. Starting from the whole group instead would ask a new face to be near the
group's average: a merge of two looks of one person (with and without a beard) is near neither.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

_TILE = 2048  # rows/columns per matrix-product tile (16 MB of float32 products: stays in cache)
_CHUNK = 65536  # edges per chunk when computing group distances (bounds the gathered copies)
_SWITCH = 1024  # rounds go on while they merge at least one pair per this many edges
_ROWS = 8192  # faces per block when blending (bounds the gathered neighbour copies)
_BLEND_CANDIDATES = 16  # a face's nearest before blending, among which later rounds look


def cluster_faces(
    embeddings: np.ndarray, threshold: float, *, k: int = 20, apart: np.ndarray | None = None,
    together: np.ndarray | None = None, progress: Callable[[str], None] | None = None,
) -> np.ndarray:
    """Average-linkage agglomerative clustering on squared L2 distance, stopping when the average
    distance between the two closest clusters exceeds ``threshold``. Returns int64 labels (n,),
    0..m-1, clusters numbered by decreasing size (label 0 = biggest; equal sizes by first face).
    Faces with the same ``apart`` value (their photo) never end up in one cluster; faces with the
    same ``together`` value (>= 0: a group the user made) always do, and two such groups never."""
    if together is not None and np.size(together) != len(embeddings):
        raise ValueError(f"together must have one value per face ({len(embeddings)}), got {np.size(together)}")
    x = np.ascontiguousarray(embeddings, dtype=np.float32)
    if x.ndim != 2:
        raise ValueError(f"embeddings must be (n, d), got shape {x.shape}")
    n = len(x)
    if n == 0:
        return np.empty(0, np.int64)
    say = progress or (lambda message: None)
    say(f"finding the neighbours of {n} faces")
    u, v = _neighbour_graph(x, float(threshold), min(int(k), n - 1))
    say(f"merging {n} faces along {len(u)} links")
    root = _merge(x, u, v, float(threshold), _Apart.of(apart, n, together))
    return _by_size(_join_user_groups(root, together))


def _join_user_groups(root: np.ndarray, together) -> np.ndarray:
    """Each face's cluster, the clusters holding faces of one user's group (``together`` >= 0)
    joined into one."""
    if together is None:
        return root
    together = np.asarray(together).ravel()
    first: dict[int, int] = {}
    relabel = {}
    for face in np.flatnonzero(together >= 0).tolist():
        relabel[int(root[face])] = first.setdefault(int(together[face]), int(root[face]))
    if not relabel:
        return root
    return np.array([relabel.get(r, r) for r in root.tolist()], root.dtype)


class _Apart:
    """Cannot-link bookkeeping: for each group, the photos of its faces that share a photo with
    another face, and -1 if it holds a face of a group the user made (most faces carry no mark
    and are never checked). Two groups sharing a mark never merge."""

    def __init__(self, marks: list[set]):
        self.marks = marks
        self.has = np.array([bool(m) for m in marks])

    @classmethod
    def of(cls, apart, n: int, together=None) -> "_Apart | None":
        """Marks from each face's photo (``apart``) and, for faces in a group the user made
        (``together`` >= 0), one mark they all share: no two of them in one cluster."""
        if apart is None and together is None:
            return None
        marks: list[set] = [set() for _ in range(n)]
        if apart is not None:
            apart = np.asarray(apart).ravel()
            if len(apart) != n:
                raise ValueError(f"apart must have one value per face ({n}), got {len(apart)}")
            _, inverse, counts = np.unique(apart, return_inverse=True, return_counts=True)
            inverse = inverse.ravel()
            for i in np.flatnonzero(counts[inverse] > 1).tolist():
                marks[i].add(int(inverse[i]))
        if together is not None:
            for i in np.flatnonzero(np.asarray(together).ravel() >= 0).tolist():
                marks[i].add(-1)  # photo marks are >= 0
        return cls(marks) if any(marks) else None

    def clash(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Whether groups a[i] and b[i] share a mark: faces of one photo, or two user's groups' faces."""
        out = np.zeros(len(a), bool)
        for i in np.flatnonzero(self.has[a] & self.has[b]).tolist():
            out[i] = not self.marks[a[i]].isdisjoint(self.marks[b[i]])
        return out

    def join(self, a, b) -> None:
        """Group(s) b merged into a."""
        for i, j in zip(np.atleast_1d(a).tolist(), np.atleast_1d(b).tolist()):
            if self.has[j]:
                if len(self.marks[i]) < len(self.marks[j]):  # add the smaller set to the bigger
                    self.marks[i], self.marks[j] = self.marks[j], self.marks[i]
                self.marks[i] |= self.marks[j]
                self.has[i] = True


def group_faces(
    embeddings: np.ndarray, threshold: float, *, blend: tuple[int, float] | tuple[int, float, int] | None = None,
    turned: np.ndarray | None = None, turned_threshold: float | None = None, apart: np.ndarray | None = None,
    together: np.ndarray | None = None, progress: Callable[[str], None] | None = None,
) -> np.ndarray:
    """The app's grouping of unnamed faces: int64 labels (n,), numbered by decreasing size.

    Faces not ``turned`` are grouped by ``cluster_faces`` at ``threshold``, blended first when
    ``blend`` = (neighbours, radius[, rounds]). A turned face (a profile) then joins the group whose faces
    are on average nearest to it, if that average is within ``turned_threshold`` (what average
    linkage asks of a single face, on raw embeddings); turned faces that join no group are grouped
    among themselves at ``turned_threshold``. Profiles look more alike across people than frontal
    faces do, so clustered together with the frontal faces they chain people into one group: on
    20 albums of 30 held-out CFP people (frontal and profile photos) this raised BCubed precision
    from 0.658 to 0.742 and recall from 0.654 to 0.680 (``benchmarks/album_cfp.py``).

    Faces with the same ``apart`` value (their photo) are never blended together nor grouped
    together, turned faces included. Faces with the same ``together`` value (>= 0) are a group
    the user made: kept whole, turned or not, and never merged with another such group."""
    x = np.ascontiguousarray(embeddings, dtype=np.float32)
    if turned is None or turned_threshold is None:
        turned = np.zeros(len(x), bool)
    turned = np.asarray(turned, bool)
    made = None if together is None else np.asarray(together).ravel()
    if made is not None:
        turned = turned & (made < 0)  # a user's group is grouped whole, with the frontal faces
    photo = None if apart is None else np.asarray(apart).ravel()
    frontal, frontal_photo = x[~turned], _rows(photo, ~turned)
    if blend and len(frontal):
        frontal = blend_neighbours(frontal, blend[1], blend[0], rounds=blend[2] if len(blend) > 2 else 1,
                                   apart=frontal_photo)
    labels = np.empty(len(x), np.int64)
    labels[~turned] = cluster_faces(frontal, threshold, apart=frontal_photo, together=_rows(made, ~turned),
                                    progress=progress)
    if turned.any():
        groups = int(labels[~turned].max()) + 1 if (~turned).any() else 0
        joined, how_far = _nearest_group(x[turned], x[~turned], labels[~turned], groups, float(turned_threshold))
        if photo is not None:
            _keep_apart(joined, how_far, labels[~turned], photo[turned], frontal_photo)
        rest = joined < 0
        if rest.any():
            joined[rest] = groups + cluster_faces(x[turned][rest], float(turned_threshold),
                                                  apart=_rows(_rows(photo, turned), rest))
        labels[turned] = joined
    return _by_size(labels)


def _rows(values: np.ndarray | None, mask: np.ndarray) -> np.ndarray | None:
    return None if values is None else values[mask]


def _keep_apart(joined: np.ndarray, how_far: np.ndarray, labels: np.ndarray, q_photo: np.ndarray,
                x_photo: np.ndarray) -> None:
    """Undo (in ``joined``) a turned face's joining of a group that holds a face of its photo, or
    that a nearer turned face of its photo joined first; it is grouped with the other turned
    faces instead."""
    photos, counts = np.unique(np.concatenate([q_photo, x_photo]), return_counts=True)
    shared = set(photos[counts > 1].tolist())
    taken: dict = {}
    for g, p in zip(labels.tolist(), x_photo.tolist()):
        if p in shared:
            taken.setdefault(p, set()).add(g)
    todo = [i for i in np.flatnonzero(joined >= 0).tolist() if q_photo[i] in shared]
    # Nearer faces first: of two faces of one photo, the one that looks more like the group joins it.
    todo.sort(key=lambda i: float(how_far[i]))
    for i in todo:
        groups = taken.setdefault(q_photo[i], set())
        if joined[i] in groups:
            joined[i] = -1
        else:
            groups.add(int(joined[i]))


def _nearest_group(q: np.ndarray, x: np.ndarray, labels: np.ndarray, groups: int,
                   threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """For each row of ``q``: the group whose faces (rows of ``x``) are nearest on average (mean
    squared L2 = |q|^2 + mean |x|^2 - 2 q.mean(x)), or -1 if none is within ``threshold``; and
    that average distance."""
    out = np.full(len(q), -1, np.int64)
    how_far = np.full(len(q), np.inf)
    if groups == 0:
        return out, how_far
    sums = np.zeros((groups, x.shape[1]), np.float64)
    np.add.at(sums, labels, x)
    sizes = np.bincount(labels, minlength=groups).astype(np.float64)
    sq = np.bincount(labels, weights=(x.astype(np.float64) ** 2).sum(1), minlength=groups) / sizes
    means = (sums / sizes[:, None]).astype(np.float32)
    for start in range(0, len(q), _TILE):
        block = q[start : start + _TILE]
        d = (block * block).sum(1)[:, None] + sq[None] - 2.0 * (block @ means.T)
        best = d.argmin(1)
        near = d[np.arange(len(block)), best]
        ok = near <= threshold
        out[start : start + _TILE][ok] = best[ok]
        how_far[start : start + _TILE] = near
    return out, how_far


def blend_neighbours(embeddings: np.ndarray, radius: float, k: int = 3, power: float = 3.0, rounds: int = 1,
                     apart: np.ndarray | None = None) -> np.ndarray:
    """Each face's embedding blended with its ``k`` nearest faces within ``radius`` (alpha query
    expansion, Radenovic et al. 2018), each weighted by its cosine similarity to the power
    ``power``, then re-normalised. Photos of one person pull together through the photos between
    them, so grouping splits people less; a face with no neighbour within ``radius`` is unchanged.
    Grouping on blended embeddings needs its own threshold (the model card's ``group_blend``).

    With ``rounds`` > 1 the blended embeddings are blended again, each round with the nearest
    faces it then has: a person's photos reach the photos two steps away. On 20 albums of 30
    held-out CFP people, 4 neighbours blended twice grouped with recall 0.942 at BCubed precision
    >= 0.95 where 3 blended once reached 0.911. Later rounds look for a face's nearest among the
    ``_BLEND_CANDIDATES`` nearest it had before blending, not among all faces: one search over all
    pairs instead of one per round (100k faces: 16 s a search on the project's machine).

    A face is never blended with a face of the same ``apart`` value (its photo): another person."""
    x = np.ascontiguousarray(embeddings, dtype=np.float32)
    n, rounds = len(x), max(int(rounds), 1)
    if n < 2 or k <= 0:
        return x.copy()
    k = min(int(k), n - 1)
    wide = rounds > 1 or apart is not None  # candidates beyond k: later rounds, or some set aside
    cand_d, cand_j = _nearest(x, float(radius), min(max(k, _BLEND_CANDIDATES), n - 1) if wide else k)
    if apart is not None:
        photo = np.asarray(apart).ravel()
        cand_j = np.where((cand_j >= 0) & (photo[np.maximum(cand_j, 0)] == photo[:, None]), -1, cand_j)
    d, j = cand_d[:, :k], cand_j[:, :k]
    for r in range(rounds):
        if r or apart is not None:
            d, j = _nearest_among(x, cand_j, float(radius), k)
        x = _blend_with(x, d, j, float(power))
    return x


def _nearest_among(x: np.ndarray, cand_j: np.ndarray, radius: float, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Each face's k nearest within ``radius`` among its candidates (rows of ``cand_j``, -1 = none)."""
    d = np.full(cand_j.shape, np.inf, np.float32)
    for start in range(0, len(x), _ROWS):
        rows = slice(start, start + _ROWS)
        cj = cand_j[rows]
        dd = np.maximum(2 - 2 * np.einsum("id,ikd->ik", x[rows], x[np.maximum(cj, 0)]), 0)
        d[rows] = np.where((cj >= 0) & (dd <= radius), dd, np.inf)
    order = np.argsort(d, axis=1, kind="stable")[:, :k]
    d = np.take_along_axis(d, order, 1)
    return d, np.where(np.isfinite(d), np.take_along_axis(cand_j, order, 1), -1)


def _blend_with(x: np.ndarray, best_d: np.ndarray, best_j: np.ndarray, power: float) -> np.ndarray:
    """x plus its neighbours ``best_j`` (-1 = none), each weighted by cos^power, re-normalised."""
    out = np.empty_like(x)
    for start in range(0, len(x), _ROWS):  # in blocks: the gathered neighbours stay small
        rows = slice(start, start + _ROWS)
        j = best_j[rows]
        found = j >= 0
        weight = np.where(found, np.clip(1 - best_d[rows] / 2, 0, 1), 0).astype(np.float64) ** power
        b = x[rows].astype(np.float64) + np.einsum("ik,ikd->id", weight, x[np.where(found, j, 0)].astype(np.float64))
        out[rows] = b / np.linalg.norm(b, axis=1, keepdims=True)
    return out


def _neighbour_graph(x: np.ndarray, threshold: float, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Edges (u < v) joining each face to its k nearest faces within ``threshold`` (either way)."""
    n = len(x)
    if k <= 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    _, best_j = _nearest(x, threshold, k)
    i = np.repeat(np.arange(n), k)
    j = best_j.ravel()
    found = j >= 0
    lo, hi = np.minimum(i[found], j[found]), np.maximum(i[found], j[found])
    pairs = np.unique(lo * n + hi)
    return pairs // n, pairs % n


def _nearest(x: np.ndarray, threshold: float, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Each face's k nearest other faces within ``threshold``: distances (n, k), ascending, and
    indices (n, k); unfilled slots are inf / -1."""
    n = len(x)
    sq = np.einsum("ij,ij->i", x, x)
    # Candidates are filtered on the dot product alone (one pass over each tile), loosened by how
    # far the norms are from 1 so that no pair within reach is lost; exact distances come after.
    slack = np.float32(np.abs(sq - 1).max() + 1e-5)
    # Each face's k nearest so far. Its current k-th distance bounds what can still get in, so
    # once a face has k close neighbours, the rest of its big group no longer becomes candidates
    # (without this, a person with 9000 faces yields 40M candidate pairs to sort).
    best_d = np.full((n, k), np.inf, np.float32)
    best_j = np.full((n, k), -1, np.int64)
    reach = np.full(n, np.float32(threshold))
    dots_buf = np.empty(min(n, _TILE) ** 2, np.float32)  # reused: fresh tiles cost page faults
    mask_buf = np.empty(len(dots_buf), bool)
    starts = range(0, n, _TILE)
    # Diagonal tiles first: every face then has a bound from its own block before the rest.
    tiles = [(i0, i0) for i0 in starts] + [(i0, j0) for i0 in starts for j0 in starts if j0 > i0]
    for i0, j0 in tiles:  # upper triangle only: each pair is computed once
        xi, xj = x[i0 : i0 + _TILE], x[j0 : j0 + _TILE]
        shape = (len(xi), len(xj))
        size = shape[0] * shape[1]
        dots = np.matmul(xi, xj.T, out=dots_buf[:size].reshape(shape))
        # One scalar comparison per product (the cost that matters next to the product itself),
        # with the loosest bound in the tile; the exact per-face test follows on the few left.
        loosest = max(reach[i0 : i0 + _TILE].max(), reach[j0 : j0 + _TILE].max())
        mask = np.greater_equal(dots, np.float32(1 - loosest / 2) - slack, out=mask_buf[:size].reshape(shape))
        flat = np.flatnonzero(mask)
        r, c = np.divmod(flat, shape[1])
        if i0 == j0:
            upper = r < c
            flat, r, c = flat[upper], r[upper], c[upper]
        gi, gj = r + i0, c + j0
        d = sq[gi] + sq[gj] - 2 * dots.ravel()[flat]
        # Each direction separately: a pair only enters the list of an end it is close enough for.
        src, dst, dd = np.concatenate([gi, gj]), np.concatenate([gj, gi]), np.concatenate([d, d])
        useful = dd <= reach[src]
        if useful.any():
            touched = _update(best_d, best_j, src[useful], dst[useful], dd[useful])
            reach[touched] = np.minimum(threshold, best_d[touched, -1])
    return best_d, best_j


def _update(best_d, best_j, src, dst, d) -> np.ndarray:
    """Merge new (src -> dst, distance) entries into the per-face sorted k-nearest lists; returns
    the faces touched. Exact ties keep the earlier entry (deterministic for a given input)."""
    k = best_d.shape[1]
    faces, local = np.unique(src, return_inverse=True)
    owner = np.concatenate([np.repeat(np.arange(len(faces)), k), local])
    all_d = np.concatenate([best_d[faces].ravel(), d])
    all_j = np.concatenate([best_j[faces].ravel(), dst])
    # One float64 sort key: owner, then distance (empty slots, inf, after any real distance).
    span = 2.0 * (float(d.max()) + 1)
    order = np.argsort(owner * span + np.minimum(all_d, span / 2), kind="stable")
    group = owner[order]
    rank = np.arange(len(order)) - np.searchsorted(group, group)
    top = rank < k
    pick = order[top]
    best_d[faces[group[top]], rank[top]] = all_d[pick]
    best_j[faces[group[top]], rank[top]] = all_j[pick]
    return faces


def _merge(x: np.ndarray, u: np.ndarray, v: np.ndarray, threshold: float, apart: _Apart | None = None) -> np.ndarray:
    """Merge groups along the graph while the closest pair averages <= threshold, never two
    groups that ``apart`` marks alike; returns each face's group root."""
    n = len(x)
    sums = x.astype(np.float64)  # float64: sums of thousands of faces, compared near the threshold
    sq = np.einsum("ij,ij->i", sums, sums)
    size = np.ones(n)
    parent = np.arange(n)
    dist = _average_distance(sums, sq, size, u, v)
    # Rounds: merge every reciprocal nearest pair at once. Cheap per merge while many pairs merge.
    while True:
        live = np.flatnonzero(dist <= threshold)
        if not len(live):
            break
        src = np.concatenate([u[live], v[live]])
        dst = np.concatenate([v[live], u[live]])
        dd = np.concatenate([dist[live], dist[live]])
        # Exact ties go to the lower index, so a reciprocal pair always exists.
        best = np.full(n, np.inf)
        np.minimum.at(best, src, dd)
        tie = dd == best[src]
        nearest = np.full(n, n)
        np.minimum.at(nearest, src[tie], dst[tie])
        a = np.flatnonzero(nearest < n)
        b = nearest[a]
        mutual = (nearest[b] == a) & (a < b)
        a, b = a[mutual], b[mutual]
        if apart is not None:
            clash = apart.clash(a, b)
            if clash.any():  # such a pair stays apart for good: photos are only ever added to groups
                gone = np.isin(u * n + v, a[clash] * n + b[clash])
                u, v, dist = u[~gone], v[~gone], dist[~gone]
                a, b = a[~clash], b[~clash]
        if len(a) * _SWITCH < len(u):
            # A big group can absorb only one face per round, and big groups now grow by
            # absorbing faces one at a time: go on one merge at a time instead.
            _chain(sums, sq, size, parent, u, v, dist, threshold, apart)
            break
        if apart is not None:
            apart.join(a, b)
        sums[a] += sums[b]
        sq[a] += sq[b]
        size[a] += size[b]
        parent[b] = a
        # Move the edges of b onto a; only edges touching a merged group change distance.
        relabel = np.arange(n)
        relabel[b] = a
        u, v = relabel[u], relabel[v]
        keep = u != v
        u, v, dist = u[keep], v[keep], dist[keep]
        u, v = np.minimum(u, v), np.maximum(u, v)
        merged = np.zeros(n, bool)
        merged[a] = True
        changed = merged[u] | merged[v]
        pairs = np.unique(u[changed] * n + v[changed])  # parallel edges collapse into one
        cu, cv = pairs // n, pairs % n
        same = ~changed
        u = np.concatenate([u[same], cu])
        v = np.concatenate([v[same], cv])
        dist = np.concatenate([dist[same], _average_distance(sums, sq, size, cu, cv)])
    while True:  # pointer jumping: every face to its group's root
        up = parent[parent]
        if np.array_equal(up, parent):
            return parent
        parent = up


def _chain(sums, sq, size, parent, u, v, dist, threshold, apart: _Apart | None = None) -> None:
    """Nearest-neighbour chain (Murtagh 1983): follow nearest neighbours until two groups are each
    other's nearest, merge them, go on from the chain's rest. Exact for average linkage.

    A group's neighbour list holds, per neighbouring group, a lower bound on the *sum* of their
    cross distances: sums only grow as groups grow, so a bound stays valid after any merge, and
    after a merge the bounds of both lists just add up. Finding a group's nearest neighbour then
    needs exact distances only where the bound (divided by the current pair count) is below the
    best exact distance so far: a group of thousands of faces absorbing one face at a time would
    otherwise recompute its distance to every neighbour at each step."""
    prods = size[u] * size[v]
    src, dst = np.concatenate([u, v]), np.concatenate([v, u])
    order = np.argsort(src, kind="stable")
    src, dst = src[order], dst[order]
    tsum, tprod = np.concatenate([dist * prods] * 2)[order], np.concatenate([prods] * 2)[order]
    heads, starts = np.unique(src, return_index=True)
    ends = np.r_[starts[1:], len(src)]
    # group -> (neighbour ids, bound on the sum of cross distances, pair count when it was exact)
    lists = {h: (dst[a:b], tsum[a:b], tprod[a:b]) for h, a, b in zip(heads.tolist(), starts.tolist(), ends.tolist())}

    def find(ids):
        roots = parent[ids]
        while True:
            up = parent[roots]
            if not (up != roots).any():
                break
            roots = up
        parent[ids] = roots  # path compression
        return roots

    def exact(c, ids):
        return sq[c] / size[c] + sq[ids] / size[ids] - 2 * (sums[ids] @ sums[c]) / (size[c] * size[ids])

    def nearest(c):
        ids, t, p = lists[c]
        roots = find(ids)
        if (roots != ids).any():  # neighbours merged since: re-key, and add up the bounds
            keep = roots != c
            roots, t = roots[keep], t[keep]
            ids, inverse = np.unique(roots, return_inverse=True)
            t, p = np.bincount(inverse, t, len(ids)), np.full(len(ids), -1.0)
            lists[c] = (ids, t, p)
        if apart is not None and apart.has[c] and len(ids):
            clash = apart.clash(np.full(len(ids), c), ids)
            if clash.any():  # for good: a group's photos only grow
                ids, t, p = ids[~clash], t[~clash], p[~clash]
                lists[c] = (ids, t, p)
        if not len(ids):
            return -1, np.inf
        pairs = size[c] * size[ids]
        bound = t / pairs
        known = pairs == p  # neither side has changed since the sum was computed: exact
        best = bound[known].min() if known.any() else np.inf
        todo = np.flatnonzero(~known & (bound <= min(best, threshold)))
        if len(todo) > 16:  # the lowest bounds first: usually enough to rule out the rest
            first = todo[np.argpartition(bound[todo], 8)[:8]]
            d = exact(c, ids[first])
            t[first], p[first] = d * pairs[first], pairs[first]
            best = min(best, d.min())
            todo = np.flatnonzero((pairs != p) & (bound <= min(best, threshold)))
        if len(todo):
            t[todo], p[todo] = exact(c, ids[todo]) * pairs[todo], pairs[todo]
        d = np.where(pairs == p, t / pairs, np.inf)
        best = d.min()
        return (int(ids[d == best].min()), best) if best <= threshold else (-1, best)

    def merge(a, b):
        if (size[a], -a) < (size[b], -b):  # the bigger group survives: short parent chains
            a, b = b, a
        sums[a] += sums[b]
        sq[a] += sq[b]
        size[a] += size[b]
        parent[b] = a
        if apart is not None:
            apart.join(a, b)
        (ia, ta, _), (ib, tb, _) = lists.pop(a), lists.pop(b)
        ids, t = find(np.concatenate([ia, ib])), np.concatenate([ta, tb])
        keep = ids != a
        ids, inverse = np.unique(ids[keep], return_inverse=True)
        lists[a] = (ids, np.bincount(inverse, t[keep], len(ids)), np.full(len(ids), -1.0))
        return a

    live = dist <= threshold
    todo = sorted(set(u[live].tolist()) | set(v[live].tolist()), reverse=True)
    while todo:
        start = todo.pop()
        if parent[start] != start:
            continue
        chain = [start]
        while chain:
            c = chain[-1]
            nxt, d = nearest(c)
            if nxt < 0:
                chain.pop()
            elif len(chain) > 1 and exact(c, np.array([chain[-2]]))[0] <= d:  # ties: back
                prev = chain[-2]
                del chain[-2:]
                todo.append(merge(prev, c))
            elif nxt in chain:  # only when the graph breaks reducibility: merge, do not loop
                del chain[chain.index(nxt) :]
                todo.append(merge(nxt, c))
            else:
                chain.append(nxt)


def _average_distance(sums, sq, size, u, v) -> np.ndarray:
    """Exact mean squared L2 distance over all cross pairs of groups u and v."""
    out = np.empty(len(u))
    for s in range(0, len(u), _CHUNK):
        cu, cv = u[s : s + _CHUNK], v[s : s + _CHUNK]
        dot = np.einsum("ij,ij->i", sums[cu], sums[cv])
        nu, nv = size[cu], size[cv]
        out[s : s + _CHUNK] = sq[cu] / nu + sq[cv] / nv - 2 * dot / (nu * nv)
    return out


def _by_size(root: np.ndarray) -> np.ndarray:
    """Labels 0..m-1 by decreasing group size; equal sizes ordered by their first face."""
    _, inverse, counts = np.unique(root, return_inverse=True, return_counts=True)
    inverse = inverse.ravel()
    first = np.full(len(counts), len(root))
    np.minimum.at(first, inverse, np.arange(len(root)))
    order = np.lexsort((first, -counts))
    rank = np.empty(len(order), np.int64)
    rank[order] = np.arange(len(order))
    return rank[inverse]
