"""LFW evaluation: protocol parsing, verification and k-NN metrics, plots and reports."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.conftest import data_dir
from training.eval import lfw, metrics, plots, report

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


# --- parsing the real protocol files -------------------------------------------------------------


@pytest.fixture(scope="module")
def protocol():
    return data_dir("lfw", "protocol")


def test_view1_dev_test_pairs(protocol):
    pairs = lfw.read_pairs(protocol / "pairsDevTest.txt")
    assert len(pairs) == 1000
    assert sum(p.same for p in pairs) == 500
    assert all(p.same for p in pairs[:500]) and not any(p.same for p in pairs[500:])
    assert {p.fold for p in pairs} == {0}
    # First line of the file: "Abdullah_Gul 13 14".
    assert pairs[0] == lfw.Pair(
        "Abdullah_Gul/Abdullah_Gul_0013.jpg", "Abdullah_Gul/Abdullah_Gul_0014.jpg", True, 0
    )
    # The identities of DevTest pairs are DevTest people.
    people = lfw.read_people(protocol / "peopleDevTest.txt")
    names = {lfw.person_of(path) for p in pairs for path in (p.path1, p.path2)}
    assert names <= set(people)


def test_view1_dev_train_pairs(protocol):
    pairs = lfw.read_pairs(protocol / "pairsDevTrain.txt")
    assert len(pairs) == 2200 and sum(p.same for p in pairs) == 1100
    assert pairs[0].path1 == "Aaron_Peirsol/Aaron_Peirsol_0001.jpg"
    assert pairs[0].path2 == "Aaron_Peirsol/Aaron_Peirsol_0002.jpg"


def test_view2_pairs_in_ten_folds(protocol):
    pairs = lfw.read_pairs(protocol / "pairs.txt")
    assert len(pairs) == 6000
    for fold in range(10):
        mine = pairs[fold * 600 : (fold + 1) * 600]
        assert {p.fold for p in mine} == {fold}
        assert [p.same for p in mine] == [True] * 300 + [False] * 300
    assert pairs[0].path1 == "Abel_Pacheco/Abel_Pacheco_0001.jpg"
    assert pairs[0].path2 == "Abel_Pacheco/Abel_Pacheco_0004.jpg"
    different = pairs[300]  # "Abdel_Madi_Shabneh 1 Dean_Barker 1"
    assert different.path1 == "Abdel_Madi_Shabneh/Abdel_Madi_Shabneh_0001.jpg"
    assert different.path2 == "Dean_Barker/Dean_Barker_0001.jpg"
    assert not different.same
    images = data_dir("lfw", "images")
    for path in {p.path1 for p in pairs} | {p.path2 for p in pairs}:
        assert (images / path).is_file(), path


def test_view2_fold_people_are_disjoint(protocol):
    folds = lfw.view2_fold_people(lfw.read_pairs(protocol / "pairs.txt"))
    assert len(folds) == 10
    assert all(len(people) > 300 for people in folds)
    assert sum(len(people) for people in folds) == len(set().union(*folds))


def test_dev_people_split_all_of_lfw(protocol):
    train = lfw.read_people(protocol / "peopleDevTrain.txt")
    test = lfw.read_people(protocol / "peopleDevTest.txt")
    assert (len(train), len(test)) == (4038, 1711)
    assert not set(train) & set(test)
    assert len(set(train) | set(test)) == 5749
    assert sum(train.values()) + sum(test.values()) == 13233
    assert next(iter(test.items())) == ("AJ_Lamas", 1)


# --- parsing errors ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, line, message",
    [
        ("", 1, "empty file"),
        ("two\n", 1, "not an integer"),
        ("1 2 3\n", 1, "header"),
        ("1\nA 1 2\n", 2, "file ends after 1 pair lines"),
        ("1\nA 1 2\nA 1 B 2\nC 1 2\n", 4, "more pair lines"),
        ("1\nA 1 B 2\nA 1 2\n", 2, "same-person line"),
        ("1\nA 1 2\nA 1 2\n", 3, "different-person line"),
        ("1\nA 1 x\nA 1 B 2\n", 2, "image index 'x' is not an integer"),
        ("1\nA 0 2\nA 1 B 2\n", 2, "must be positive"),
        ("1\n../A 1 2\nA 1 B 2\n", 2, "not a valid person name"),
        ("2 1\nA 1 2\nA 1 B 2\nC 1 2\n\n", 4, "file ends after 3 pair lines"),
    ],
)
def test_malformed_pairs_name_file_and_line(tmp_path, text, line, message):
    path = tmp_path / "pairs.txt"
    path.write_text(text)
    with pytest.raises(ValueError, match=message) as raised:
        lfw.read_pairs(path)
    assert f"{path}: line {line}:" in str(raised.value)


@pytest.mark.parametrize(
    "text, line, message",
    [
        ("2\nA 1\n", 2, "file ends after 1 person lines"),
        ("1\nA\n", 2, "expected 'name count'"),
        ("2\nA 1\nA 3\n", 3, "listed twice"),
        ("1\nA none\n", 2, "image count 'none' is not an integer"),
        ("1 1\nA 1\n", 1, "header should be one number"),
    ],
)
def test_malformed_people_name_file_and_line(tmp_path, text, line, message):
    path = tmp_path / "people.txt"
    path.write_text(text)
    with pytest.raises(ValueError, match=message) as raised:
        lfw.read_people(path)
    assert f"{path}: line {line}:" in str(raised.value)


def test_small_view2_file_and_fold_people(tmp_path):
    path = tmp_path / "pairs.txt"
    path.write_text("2 1\nA 1 2\nA 1 B 3\n\nC 2 3\nD 1 E 12\n")
    pairs = lfw.read_pairs(path)
    assert pairs == [
        lfw.Pair("A/A_0001.jpg", "A/A_0002.jpg", True, 0),
        lfw.Pair("A/A_0001.jpg", "B/B_0003.jpg", False, 0),
        lfw.Pair("C/C_0002.jpg", "C/C_0003.jpg", True, 1),
        lfw.Pair("D/D_0001.jpg", "E/E_0012.jpg", False, 1),
    ]
    assert lfw.view2_fold_people(pairs) == [{"A", "B"}, {"C", "D", "E"}]


# --- thresholds and accuracy ----------------------------------------------------------------------


def test_separable_distances_give_perfect_scores():
    dist = [0.1, 0.3, 0.2, 1.5, 1.2, 0.9]
    same = [True, True, True, False, False, False]
    threshold = metrics.best_threshold(dist, same)
    assert threshold == pytest.approx(0.6)  # midpoint of 0.3 (last same) and 0.9 (first other)
    assert metrics.accuracy(dist, same, threshold) == 1.0
    assert metrics.roc_auc(dist, same) == 1.0


def test_best_threshold_by_hand():
    # Accepting the k smallest is right for 3,4,5,4,5,6,5,4 of 7 pairs (k = 0..7): k = 5 wins.
    dist = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]
    same = [True, True, False, True, True, False, False]
    threshold = metrics.best_threshold(dist, same)
    assert threshold == pytest.approx(0.55)
    assert metrics.accuracy(dist, same, threshold) == pytest.approx(6 / 7)


def test_best_threshold_ties_take_the_smallest_and_the_extremes_are_possible():
    # k = 2 and k = 4 are both right for 5 of 6 pairs.
    dist, same = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6], [True, True, False, True, False, False]
    assert metrics.best_threshold(dist, same) == pytest.approx(0.25)
    # All different: reject everything; all same: accept everything (strictly above the largest).
    dist = [0.5, 0.7]
    threshold = metrics.best_threshold(dist, [False, False])
    assert threshold <= 0.5 and metrics.accuracy(dist, [False, False], threshold) == 1
    threshold = metrics.best_threshold(dist, [True, True])
    assert threshold > 0.7 and metrics.accuracy(dist, [True, True], threshold) == 1


def test_best_threshold_matches_brute_force_with_ties():
    rng = np.random.default_rng(1)
    for _ in range(20):
        n = int(rng.integers(1, 40))
        dist = np.round(rng.random(n), 1)  # many equal distances
        same = rng.random(n) < 0.5
        candidates = np.concatenate((dist, dist + 0.05, [10.0]))
        best = max(metrics.accuracy(dist, same, t) for t in candidates)
        assert metrics.accuracy(dist, same, metrics.best_threshold(dist, same)) == best


def test_threshold_separates_adjacent_floats():
    low = 0.5
    high = np.nextafter(low, 1.0)
    threshold = metrics.best_threshold([low, high], [True, False])
    assert metrics.accuracy([low, high], [True, False], threshold) == 1.0


def test_mcnemar_counts_the_pairs_only_one_model_got_right():
    a = np.array([1, 1, 0, 1, 0, 1, 1, 1], bool)
    b = np.array([1, 0, 1, 1, 0, 0, 0, 0], bool)
    r = metrics.mcnemar_exact(a, b)
    assert (r["only_first_right"], r["only_second_right"]) == (4, 1)
    assert abs(r["p_value"] - 2 * (1 + 5) / 32) < 1e-12  # binomial(5, 1/2): P(X <= 1), two-sided
    assert metrics.mcnemar_exact(a, a)["p_value"] == 1.0
    # 27 against 23 discordant pairs: no difference.
    c = np.r_[np.ones(27, bool), np.zeros(23, bool)]
    assert abs(metrics.mcnemar_exact(c, ~c)["p_value"] - 0.672) < 1e-3


def test_answered_right_counts_unmeasured_pairs_wrong():
    right = metrics.answered_right([0.1, 0.9, np.nan, np.nan], [True, False, True, False], 0.5)
    assert right.tolist() == [True, True, False, False]


def test_view1_threshold_comes_from_train_pairs():
    train_dist, train_same = [0.2, 0.4, 0.8, 1.0], [True, True, False, False]  # threshold 0.6
    # Alone these test pairs would be separated at 0.75; the train threshold rejects 0.7.
    test_dist, test_same = [0.5, 0.7, 0.8, 1.5], [True, True, False, False]
    acc, threshold = metrics.view1_accuracy(train_dist, train_same, test_dist, test_same)
    assert threshold == pytest.approx(0.6)
    assert acc == 0.75


# Three folds of four pairs; thresholds and accuracies worked out by hand:
#   fold 0 tested, folds 1+2 choose: best cut after 0.7 -> threshold 0.75; fold 0: 2/4 right
#   fold 1 tested, folds 0+2 choose: best cut after 0.42 -> 0.435; fold 1: 3/4
#   fold 2 tested, folds 0+1 choose: best cut after 0.3 -> 0.4; fold 2: 2/4
KFOLD_DIST = [0.1, 0.2, 0.5, 0.6, 0.3, 0.7, 0.8, 0.9, 0.42, 0.65, 0.45, 1.0]
KFOLD_SAME = [True, True, False, False] * 3
KFOLD_FOLDS = [0] * 4 + [1] * 4 + [2] * 4


def test_kfold_accuracy_by_hand():
    result = metrics.kfold_accuracy(KFOLD_DIST, KFOLD_SAME, KFOLD_FOLDS)
    assert result["folds"] == [0, 1, 2]
    assert result["thresholds"] == pytest.approx([0.75, 0.435, 0.4])
    assert result["accuracies"] == [0.5, 0.75, 0.5]
    assert result["mean"] == pytest.approx(7 / 12)
    assert result["std"] == pytest.approx(np.sqrt(1 / 72))


def test_kfold_only_some_folds_still_uses_all_for_thresholds():
    result = metrics.kfold_accuracy(KFOLD_DIST, KFOLD_SAME, KFOLD_FOLDS, only_folds=[1])
    assert result["folds"] == [1]
    assert result["thresholds"] == pytest.approx([0.435])
    assert result["accuracies"] == [0.75] and result["mean"] == 0.75 and result["std"] == 0
    with pytest.raises(ValueError, match="not among"):
        metrics.kfold_accuracy(KFOLD_DIST, KFOLD_SAME, KFOLD_FOLDS, only_folds=[3])


def test_unmeasured_pairs_are_wrong_at_every_threshold():
    dist = [0.1, 0.2, np.nan, 1.0, 1.1, np.nan]
    same = [True, True, True, False, False, False]
    threshold = metrics.best_threshold(dist, same)
    assert metrics.accuracy(dist, same, threshold) == pytest.approx(4 / 6)
    for t in (-1.0, 0.0, 0.5, 5.0):
        assert metrics.accuracy(dist, same, t) <= 4 / 6
    far, tar, _ = metrics.roc_curve(dist, same)
    assert far.min() == pytest.approx(1 / 3) and tar.max() == pytest.approx(2 / 3)
    assert metrics.roc_auc(dist, same) == pytest.approx(mann_whitney(dist, same))
    with pytest.raises(ValueError, match="finite"):
        metrics.best_threshold([np.inf, 0.1], [True, False])


# --- ROC, AUC and VAL ----------------------------------------------------------------------------


def mann_whitney(dist, same) -> float:
    """P(same-person distance < different-person distance), ties one half, by brute force.
    Unmeasured pairs rank worst: same-person ones farthest, different-person ones nearest."""
    dist, same = np.asarray(dist, float), np.asarray(same, bool)
    d_same = np.where(np.isnan(dist[same]), np.inf, dist[same])
    d_diff = np.where(np.isnan(dist[~same]), -np.inf, dist[~same])
    less = d_same[:, None] < d_diff[None, :]
    equal = d_same[:, None] == d_diff[None, :]
    return float(np.mean(less + 0.5 * equal))


def test_roc_auc_equals_mann_whitney():
    rng = np.random.default_rng(2)
    same = rng.random(300) < 0.4
    dist = np.round(np.where(same, rng.normal(0.8, 0.3, 300), rng.normal(1.2, 0.3, 300)), 1)
    auc = metrics.roc_auc(dist, same)
    assert 0.6 < auc < 0.99
    assert auc == pytest.approx(mann_whitney(dist, same), abs=1e-12)


def test_roc_curve_runs_corner_to_corner():
    rng = np.random.default_rng(3)
    dist, same = rng.random(50), rng.random(50) < 0.5
    far, tar, thresholds = metrics.roc_curve(dist, same)
    assert (far[0], tar[0]) == (0, 0) and (far[-1], tar[-1]) == (1, 1)
    assert np.all(np.diff(far) >= 0) and np.all(np.diff(tar) >= 0)
    assert np.all(np.diff(thresholds) > 0)
    assert len(thresholds) == 51
    for i in (0, 17, 50):  # each point is what its threshold does
        accepted = dist < thresholds[i]
        assert tar[i] == np.mean(accepted[same]) and far[i] == np.mean(accepted[~same])


def test_val_at_far_by_hand():
    same_dist = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
    diff_dist = [0.35, 0.75] + [1.5 + i / 10 for i in range(8)]
    dist, same = same_dist + diff_dist, [True] * 10 + [False] * 10
    # One false accept allowed (FAR 0.1): accept below 0.75, i.e. seven same-person pairs.
    val, threshold, far = metrics.val_at_far(dist, same, far=0.1)
    assert (val, far) == (pytest.approx(0.7), pytest.approx(0.1))
    assert threshold == pytest.approx(0.725)
    # None allowed (FAR 1e-3 of ten pairs): accept below 0.35, three same-person pairs.
    val, threshold, far = metrics.val_at_far(dist, same, far=1e-3)
    assert (val, threshold, far) == (pytest.approx(0.3), pytest.approx(0.325), 0.0)


def test_val_at_far_when_unmeasured_pairs_exceed_the_target():
    val, _, far = metrics.val_at_far([0.1, np.nan, 1.0], [True, False, False], far=0.1)
    assert val == 0.0 and far == 0.5


# --- k-NN identification -------------------------------------------------------------------------


def test_knn_table_on_points_on_a_line():
    gallery = np.array([[0.0, 0], [1, 0], [3, 0], [10, 0]])
    gallery_labels = ["A", "B", "B", "C"]
    probes = np.array([[0.4, 0], [2.5, 0], [9, 0]])
    probe_labels = ["A", "B", "C"]
    # Probe 0.4: A, B, B, C; probe 2.5: B, B, A, C; probe 9: C, B, B, A (nearest first).
    # k = 2 ties (A/B and C/B) go to the nearest; k = 3 and 4 outvote probes 0.4 and 9.
    table = metrics.knn_table(gallery, gallery_labels, probes, probe_labels, ks=(1, 2, 3, 4))
    assert table == {1: 1.0, 2: 1.0, 3: pytest.approx(1 / 3), 4: pytest.approx(1 / 3)}


def test_knn_tie_goes_to_the_nearest_tied_label():
    gallery = np.array([[0.0], [1], [2], [3], [4]])
    labels = [0, 1, 1, 2, 2]  # from a probe at -0.1: one 0, then two 1s, then two 2s
    # Labels 1 and 2 tie with two votes; 1 is nearer. (The nearest neighbour's label, 0, lost.)
    assert metrics.knn_table(gallery, labels, [[-0.1]], [1], ks=(5,)) == {5: 1.0}
    assert metrics.knn_table(gallery, labels, [[-0.1]], [2], ks=(5,)) == {5: 0.0}
    with pytest.raises(ValueError, match="1..5"):
        metrics.knn_table(gallery, labels, [[0.0]], [0], ks=(6,))


def test_knn_with_many_probes_in_chunks():
    rng = np.random.default_rng(4)
    centres = rng.normal(size=(20, 8)) * 10
    labels = np.repeat(np.arange(20), 60)
    emb = centres[labels] + rng.normal(size=(1200, 8))
    table = metrics.knn_table(emb[0::2], labels[0::2], emb[1::2], labels[1::2], ks=(1, 7))
    assert table == {1: 1.0, 7: 1.0}
    shuffled = rng.permutation(labels[0::2])
    table = metrics.knn_table(emb[0::2], shuffled, emb[1::2], labels[1::2], ks=(1,))
    assert table[1] < 0.3


# --- plots ---------------------------------------------------------------------------------------


def assert_png(path):
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE) and len(data) > 1000


def test_plots_write_png_files(tmp_path):
    pytest.importorskip("matplotlib", reason="matplotlib (training extra) draws the plots")
    history = [
        {"epoch": 1, "loss": 2.0, "val_loss": 2.2, "lfw_accuracy": 0.7},
        {"epoch": 2, "loss": 1.5, "lfw_accuracy": 0.8},
        {"epoch": 3, "loss": 1.2, "val_loss": 1.6, "lfw_accuracy": 0.85},
    ]
    assert_png(plots.plot_loss(history, tmp_path / "loss.png"))
    rng = np.random.default_rng(5)
    same = rng.random(200) < 0.5
    far, tar, _ = metrics.roc_curve(rng.random(200) + same * -0.3, same)
    curves = {"model": (far, tar), "chance": ([0, 1], [0, 1])}
    assert_png(plots.plot_roc(curves, tmp_path / "roc.png"))
    emb = rng.normal(size=(30, 128))
    labels = np.repeat(["Ann", "Bob", "Cy"], 10)
    out = plots.plot_embedding_scatter(emb, labels, tmp_path / "sub" / "pca.png")
    assert out == tmp_path / "sub" / "pca.png"
    assert_png(out)
    assert_png(plots.plot_embedding_scatter(emb, labels, tmp_path / "tsne.png", method="tsne"))
    with pytest.raises(ValueError, match="unknown projection"):
        plots.plot_embedding_scatter(emb, labels, tmp_path / "x.png", method="umap")


def test_pca_finds_the_main_directions():
    rng = np.random.default_rng(6)
    basis = np.linalg.qr(rng.normal(size=(128, 2)))[0].T  # two orthonormal directions
    # Uncorrelated coordinates with variances 12.5 and 0.5: the principal axes are the basis.
    coords = np.array([[5.0, 0], [-5, 0], [0, 1], [0, -1]])
    points, description = plots.project_2d(coords @ basis + 3.0)
    assert description == "PCA (100% of the variance)"
    # Up to the signs of the axes, PCA gives back the coordinates.
    assert np.allclose(np.abs(points), np.abs(coords), atol=1e-9)


def test_tsne_falls_back_to_pca_without_scikit_learn(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "sklearn", None)  # makes the import fail
    monkeypatch.setitem(sys.modules, "sklearn.manifold", None)
    _, description = plots.project_2d(np.random.default_rng(7).normal(size=(5, 3)), "tsne")
    assert description.startswith("PCA") and "t-SNE unavailable" in description


# --- reports on a small fake protocol ----------------------------------------------------------


def fake_embeddings(counts: dict[str, int], seed: int = 8) -> dict[str, np.ndarray]:
    """Images of one person lie close to the person's direction: perfectly separable."""
    rng = np.random.default_rng(seed)
    embeddings = {}
    for name, count in counts.items():
        centre = rng.normal(size=128)
        for index in range(1, count + 1):
            vector = centre / np.linalg.norm(centre) + rng.normal(scale=0.01, size=128)
            embeddings[lfw.image_path(name, index)] = (vector / np.linalg.norm(vector)).astype(
                np.float32
            )
    return embeddings


PEOPLE = {"Ann_A": 3, "Bob_B": 2, "Cy_C": 2, "Di_D": 3, "Ed_E": 1, "Flo_F": 2}


@pytest.fixture
def fake_protocol(tmp_path):
    (tmp_path / "pairsDevTrain.txt").write_text(
        "2\nAnn_A\t1\t2\nBob_B\t1\t2\nAnn_A\t1\tBob_B\t1\nCy_C\t1\tEd_E\t1\n"
    )
    (tmp_path / "pairsDevTest.txt").write_text(
        "2\nDi_D\t1\t3\nFlo_F\t1\t2\nDi_D\t2\tFlo_F\t2\nDi_D\t1\tEd_E\t1\n"
    )
    lines = ["10\t2"]
    for fold in range(10):
        same = ["Ann_A\t1\t3", "Di_D\t2\t3"]
        lines += same + [f"Bob_B\t{1 + fold % 2}\tCy_C\t1", "Ed_E\t1\tFlo_F\t2"]
    (tmp_path / "pairs.txt").write_text("\n".join(lines) + "\n")
    return tmp_path


def test_view1_report_on_separable_embeddings(fake_protocol):
    result = report.evaluate_view1(fake_embeddings(PEOPLE), fake_protocol)
    assert (result["pairs"], result["train_pairs"]) == (4, 4)
    assert result["missing_pairs"] == result["missing_train_pairs"] == 0
    assert result["missing_images"] == 0
    assert result["accuracy"] == 1.0 and result["auc"] == 1.0 and result["val"] == 1.0
    assert result["val_far"] == 0.0
    assert 0.0 < result["threshold"] < 2.0
    assert result["roc"]["far"][0] == 0 and result["roc"]["tar"][-1] == 1
    assert json.loads(json.dumps(result)) == result


def test_view1_report_counts_missing_embeddings_as_wrong(fake_protocol):
    embeddings = fake_embeddings(PEOPLE)
    del embeddings["Flo_F/Flo_F_0002.jpg"]  # in test pairs "Flo_F 1 2" and "Di_D 2 Flo_F 2"
    result = report.evaluate_view1(embeddings, fake_protocol)
    assert result["pairs"] == 4 and result["missing_pairs"] == 2
    assert result["missing_images"] == 1
    assert result["missing_image_examples"] == ["Flo_F/Flo_F_0002.jpg"]
    assert result["accuracy"] == 0.5
    assert result["auc"] == pytest.approx(0.25)  # 1 of 4 (same, different) orderings is right
    assert json.loads(json.dumps(result)) == result


def test_view1_without_some_people_drops_their_pairs_only(fake_protocol):
    # Test pairs "Flo_F 1 2" and "Di_D 2 Flo_F 2" show Flo_F; the threshold still comes from DevTrain.
    embeddings = fake_embeddings(PEOPLE)
    whole = report.evaluate_view1(embeddings, fake_protocol)
    without = report.evaluate_view1(embeddings, fake_protocol, skip_people={"Flo_F"})
    assert (whole["pairs"], without["pairs"]) == (4, 2)
    assert without["threshold"] == whole["threshold"] and without["train_pairs"] == 4


def test_a_teacher_cache_without_the_test_people_is_not_evaluated_on_view1(fake_protocol):
    # prepare --teacher-skip-lfw leaves DevTest people out of the teacher's cache: training.evaluate
    # then reports no teacher_view1 instead of stopping on "no pair has a measured distance".
    embeddings = fake_embeddings(PEOPLE)
    assert report.covers_view1_test(embeddings, fake_protocol)
    without = {p: e for p, e in embeddings.items() if not p.startswith(("Di_D", "Flo_F"))}
    assert not report.covers_view1_test(without, fake_protocol)
    del embeddings["Flo_F/Flo_F_0002.jpg"]
    assert not report.covers_view1_test(embeddings, fake_protocol)


def test_view2_report(fake_protocol):
    embeddings = fake_embeddings(PEOPLE)
    result = report.evaluate_view2(embeddings, fake_protocol)
    assert result["folds"] == list(range(10)) and result["pairs"] == 40
    assert result["fold_accuracies"] == [1.0] * 10
    assert result["accuracy"] == 1.0 and result["accuracy_std"] == 0.0
    assert result["auc"] == 1.0 and result["missing_pairs"] == 0
    assert json.loads(json.dumps(result)) == result

    del embeddings["Ed_E/Ed_E_0001.jpg"]  # one different-person pair in every fold
    result = report.evaluate_view2(embeddings, fake_protocol, folds=[2, 5])
    assert result["folds"] == [2, 5] and result["pairs"] == 8
    assert result["missing_pairs"] == 2 and result["missing_pairs_all_folds"] == 10
    assert result["fold_accuracies"] == [0.75, 0.75]
    assert len(result["fold_thresholds"]) == 2


def test_knn_report_split():
    embeddings = fake_embeddings(PEOPLE)
    people = {"Ann_A", "Bob_B", "Di_D", "Ed_E", "Nobody_N"}  # Ed_E has 1 image, Nobody_N none
    result = report.knn_report(embeddings, people, ks=(1, 2))
    assert result["identities"] == 3 and result["identities_skipped"] == 2
    # Ann_A and Di_D: images 1, 3 in the gallery, 2 probes; Bob_B: image 1 gallery, 2 probe.
    assert (result["gallery_images"], result["probe_images"]) == (5, 3)
    assert result["accuracy"] == {"1": 1.0, "2": 1.0}
    assert json.loads(json.dumps(result)) == result
    with pytest.raises(ValueError, match="two or more"):
        report.knn_report(embeddings, {"Ed_E"}, ks=(1,))


def _fake_cfp(root, people=15):
    import csv

    (root / "cfp").mkdir()
    with open(root / "cfp" / "manifest.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["path", "name", "pose"])
        for k in range(people):
            for j in range(3):
                w.writerow([f"P{k}/frontal_0{j}.jpg", f"P{k}", "frontal"])
            w.writerow([f"P{k}/profile_00.jpg", f"P{k}", "profile"])
    return {f"cfp:P{k}" for k in range(people)}


def test_cfp_figures_are_averaged_over_draws_of_pairs(tmp_path):
    from training.evaluate import cfp_pairs, evaluate_cfp, evaluate_cfp_draws

    people = _fake_cfp(tmp_path)
    rng = np.random.default_rng(0)
    centre = {f"P{k}": rng.normal(size=8) for k in range(15)}
    emb = {f"P{k}/{f}": centre[f"P{k}"] + rng.normal(size=8) for k in range(15)
           for f in ("frontal_00.jpg", "frontal_01.jpg", "frontal_02.jpg", "profile_00.jpg")}
    out = evaluate_cfp_draws(emb, people, tmp_path, draws=4)
    one = [evaluate_cfp(emb, cfp_pairs(people, tmp_path, seed=s))["frontal-frontal"]["accuracy"] for s in range(4)]
    assert out["frontal-frontal"]["accuracy"] == pytest.approx(np.mean(one))
    assert out["frontal-frontal"]["sd_over_draws"] == pytest.approx(np.std(one))
    assert len(set(one)) > 1  # the draws differ: that is why they are averaged


def test_cfp_different_pairs_keep_to_one_fold(tmp_path):
    # A fold's people must not appear in the other folds' pairs, which choose its threshold.
    from training.evaluate import cfp_pairs

    people = _fake_cfp(tmp_path)
    for kind, (a, b, same, fold) in cfp_pairs(people, tmp_path).items():
        fold_of = {}
        for p, q, f in zip(a, b, fold):
            for person in (p.split("/")[0], q.split("/")[0]):
                assert fold_of.setdefault(person, f) == f, (kind, person)
        assert (~same).sum() == same.sum() > 0
        assert all(p.split("/")[0] != q.split("/")[0] for p, q, s_ in zip(a, b, same) if not s_)
