"""LFW evaluation reports for a set of embeddings, as plain JSON-serialisable dicts.

``embeddings`` maps relative image paths (``Name/Name_0001.jpg``, as in
:mod:`training.eval.lfw`) to 128-d L2-normalised embeddings. A pair whose image has no embedding
(for example because no face was detected) is not dropped: it counts as a wrong answer, and the
reports give the number of such pairs and some of the images concerned.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence, Set
from pathlib import Path

import numpy as np

from training.eval import metrics
from training.eval.lfw import Pair, person_of, read_pairs

__all__ = ["FAR_TARGET", "covers_view1_test", "evaluate_view1", "evaluate_view2", "knn_report", "pair_distances", "view1_pairs_right"]

FAR_TARGET = 1e-3  # FaceNet's VAL@FAR=1e-3; see metrics.val_at_far about small samples
MISSING_EXAMPLES = 10  # how many missing images a report names


def covers_view1_test(embeddings: Mapping[str, np.ndarray], protocol_dir: str | Path) -> bool:
    """Whether every image of View 1's DevTest pairs has an embedding: the teacher's cache lacks
    the DevTest people when ``training.prepare --teacher-skip-lfw`` left them out."""
    dist, _ = pair_distances(embeddings, read_pairs(Path(protocol_dir) / "pairsDevTest.txt"))
    return bool(len(dist)) and bool(np.isfinite(dist).all())


def evaluate_view1(
    embeddings: Mapping[str, np.ndarray], protocol_dir: str | Path, skip_people: Set[str] = frozenset()
) -> dict:
    """LFW View 1: threshold chosen on ``pairsDevTrain.txt``, accuracy on ``pairsDevTest.txt``.

    Returns the DevTest accuracy and threshold, VAL at FAR <= 1e-3, the ROC AUC and ROC curve (all
    read off the DevTest pairs), and the numbers of pairs and of pairs lacking an embedding.
    ``skip_people`` (LFW names) leaves out the DevTest pairs showing any of them.
    """
    protocol_dir = Path(protocol_dir)
    train = read_pairs(protocol_dir / "pairsDevTrain.txt")
    test = [p for p in read_pairs(protocol_dir / "pairsDevTest.txt")
            if p.path1.split("/")[0] not in skip_people and p.path2.split("/")[0] not in skip_people]
    train_dist, train_missing = pair_distances(embeddings, train)
    test_dist, test_missing = pair_distances(embeddings, test)
    train_same, test_same = _same(train), _same(test)
    acc, threshold = metrics.view1_accuracy(train_dist, train_same, test_dist, test_same)
    return {
        "protocol": "LFW View 1: threshold on pairsDevTrain, accuracy on pairsDevTest",
        "pairs": len(test),
        "train_pairs": len(train),
        "missing_pairs": _count_unmeasured(test_dist),
        "missing_train_pairs": _count_unmeasured(train_dist),
        **_missing_images(train_missing | test_missing),
        "accuracy": acc,
        "threshold": threshold,
        **_roc_summary(test_dist, test_same),
    }


def view1_pairs_right(embeddings: Mapping[str, np.ndarray], protocol_dir: str | Path) -> np.ndarray:
    """Per DevTest pair: answered right at the View 1 threshold (chosen on DevTrain), to compare
    two models pair by pair (``metrics.mcnemar_exact``)."""
    protocol_dir = Path(protocol_dir)
    train = read_pairs(protocol_dir / "pairsDevTrain.txt")
    test = read_pairs(protocol_dir / "pairsDevTest.txt")
    threshold = metrics.best_threshold(pair_distances(embeddings, train)[0], _same(train))
    return metrics.answered_right(pair_distances(embeddings, test)[0], _same(test), threshold)


def evaluate_view2(
    embeddings: Mapping[str, np.ndarray],
    protocol_dir: str | Path,
    folds: Iterable[int] | None = None,
) -> dict:
    """LFW View 2 (``pairs.txt``): 10-fold accuracy, each fold's threshold chosen on the others.

    ``folds`` restricts the evaluated folds (the other folds still choose the thresholds). VAL at
    FAR <= 1e-3, the ROC AUC and the ROC curve are read off the pairs of the evaluated folds
    pooled. ``missing_pairs`` counts the evaluated pairs lacking an embedding,
    ``missing_pairs_all_folds`` those of all folds.
    """
    pairs = read_pairs(Path(protocol_dir) / "pairs.txt")
    dist, missing = pair_distances(embeddings, pairs)
    same = _same(pairs)
    fold_of = np.array([pair.fold for pair in pairs])
    kfold = metrics.kfold_accuracy(dist, same, fold_of, only_folds=folds)
    evaluated = np.isin(fold_of, kfold["folds"])
    return {
        "protocol": "LFW View 2: 10-fold cross-validation on pairs.txt",
        "pairs": int(evaluated.sum()),
        "missing_pairs": _count_unmeasured(dist[evaluated]),
        "missing_pairs_all_folds": _count_unmeasured(dist),
        **_missing_images(missing),
        "folds": kfold["folds"],
        "fold_accuracies": kfold["accuracies"],
        "fold_thresholds": kfold["thresholds"],
        "accuracy": kfold["mean"],
        "accuracy_std": kfold["std"],
        "threshold": float(np.mean(kfold["thresholds"])),
        **_roc_summary(dist[evaluated], same[evaluated]),
    }


def knn_report(
    embeddings: Mapping[str, np.ndarray], people: Iterable[str], ks: Sequence[int] = (1, 3, 5, 7)
) -> dict:
    """k-NN identification accuracy on the given identities.

    Deterministic split: the embedded images of each identity with at least two are sorted by
    path; those at even positions (0, 2, ...) form the gallery, those at odd positions the probes,
    so every probe's identity is in the gallery. Identities with fewer than two embedded images
    are skipped and counted. The accuracy table is keyed by str(k), as JSON would have it.
    """
    people = set(people)
    by_person: dict[str, list[str]] = {}
    for path in embeddings:
        if person_of(path) in people:
            by_person.setdefault(person_of(path), []).append(path)
    usable = {name: sorted(paths) for name, paths in by_person.items() if len(paths) >= 2}
    if not usable:
        raise ValueError("no identity among the given people has two or more embedded images")
    gallery = [path for paths in usable.values() for path in paths[0::2]]
    probes = [path for paths in usable.values() for path in paths[1::2]]
    table = metrics.knn_table(
        _stack(embeddings, gallery),
        [person_of(path) for path in gallery],
        _stack(embeddings, probes),
        [person_of(path) for path in probes],
        ks,
    )
    return {
        "identities": len(usable),
        "identities_skipped": len(people) - len(usable),
        "gallery_images": len(gallery),
        "probe_images": len(probes),
        "accuracy": {str(k): acc for k, acc in table.items()},
    }


def pair_distances(
    embeddings: Mapping[str, np.ndarray], pairs: Sequence[Pair]
) -> tuple[np.ndarray, set[str]]:
    """Squared L2 distance of each pair's embeddings, NaN where an image has no embedding.

    Returns the distances and the set of image paths that had no embedding.
    """
    paths = sorted({p.path1 for p in pairs} | {p.path2 for p in pairs})
    present = [path for path in paths if path in embeddings]
    missing = set(paths) - set(present)
    row = {path: i for i, path in enumerate(present)}
    first = np.array([row.get(p.path1, -1) for p in pairs], dtype=np.intp)
    second = np.array([row.get(p.path2, -1) for p in pairs], dtype=np.intp)
    dist = np.full(len(pairs), np.nan)
    measured = (first >= 0) & (second >= 0)
    if present:
        emb = _stack(embeddings, present)
        diff = emb[first[measured]] - emb[second[measured]]
        dist[measured] = np.einsum("ij,ij->i", diff, diff)
    return dist, missing


# --- helpers ---------------------------------------------------------------------------------


def _same(pairs: Sequence[Pair]) -> np.ndarray:
    return np.array([pair.same for pair in pairs], dtype=bool)


def _stack(embeddings: Mapping[str, np.ndarray], paths: Sequence[str]) -> np.ndarray:
    return np.stack([np.asarray(embeddings[path], dtype=np.float64).ravel() for path in paths])


def _count_unmeasured(dist: np.ndarray) -> int:
    return int(np.count_nonzero(np.isnan(dist)))


def _missing_images(missing: set[str]) -> dict:
    return {
        "missing_images": len(missing),
        "missing_image_examples": sorted(missing)[:MISSING_EXAMPLES],
    }


def _roc_summary(dist: np.ndarray, same: np.ndarray) -> dict:
    val, val_threshold, achieved_far = metrics.val_at_far(dist, same, FAR_TARGET)
    far, tar, thresholds = metrics.roc_curve(dist, same)
    return {
        "far_target": FAR_TARGET,
        "val": val,
        "val_threshold": val_threshold,
        "val_far": achieved_far,
        "auc": metrics.roc_auc(dist, same),
        "roc": {"far": far.tolist(), "tar": tar.tolist(), "thresholds": thresholds.tolist()},
    }
