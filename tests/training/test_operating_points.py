"""The grouping and naming thresholds: read off the false accept rate of held-out pairs."""

from __future__ import annotations

import numpy as np
import pytest

from training.operating_points import operating_points, threshold_at_far


def people(n_people=20, per=6, spread=0.5, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((n_people, 32))
    x = np.repeat(centres, per, 0) / np.sqrt(32) + spread * rng.standard_normal((n_people * per, 32)) / np.sqrt(32)
    return x / np.linalg.norm(x, axis=1, keepdims=True), np.repeat(np.arange(n_people), per)


def test_threshold_lets_through_at_most_the_asked_share_of_different_people():
    x, ids = people()
    d = np.maximum(2 - 2 * x @ x.T, 0)
    diff = ids[:, None] != ids[None]
    iu = np.triu_indices(len(x), 1)
    for far in (0.0, 0.003, 0.02, 0.1):
        t, tar, n_same, n_diff = threshold_at_far(x, ids, far)
        accepted = np.mean(d[iu][diff[iu]] < t)
        assert accepted <= far + 1e-12
        # and it is the largest such threshold: one more different pair would break it
        assert np.mean(d[iu][diff[iu]] <= t) > far or far == 0
        assert n_same == 20 * 15 and n_diff == len(iu[0]) - n_same
        assert 0 <= tar <= 1


def test_stricter_far_gives_a_lower_threshold_and_fewer_true_accepts():
    x, ids = people()
    loose, strict = threshold_at_far(x, ids, 0.05), threshold_at_far(x, ids, 0.005)
    assert strict[0] < loose[0] and strict[1] <= loose[1]


def test_the_grouping_point_is_at_three_percent_false_accepts():
    x, ids = people()
    g = operating_points(x, ids)["group_threshold"]
    assert g["far"] == 0.03 and g["value"] == threshold_at_far(x, ids, 0.03)[0]


def test_needs_both_kinds_of_pairs():
    x, _ = people(n_people=1)
    with pytest.raises(ValueError):
        threshold_at_far(x, [0] * len(x), 0.01)


def test_grouping_runs_at_the_largest_threshold_that_keeps_album_precision(monkeypatch):
    import training.operating_points as op
    from training.operating_points import album_bcubed, albums

    monkeypatch.setattr(op, "BLEND_RADII", (1.0, 0.8))  # two radii are enough here (and quicker)
    x, ids = people(n_people=36, per=6, spread=1.5, seed=2)  # precise only below the pair threshold
    points = operating_points(x, ids, pair_threshold=1.0, name_draws=2)
    g, b = points["group_threshold"], points["group_blend"]
    rows = albums(ids)
    for radius, t, (p, r) in ((None, b["raw_threshold"], b["raw_precision_recall"]),
                              (b["radius"], b["threshold"], b["blended_precision_recall"])):
        # Of the faces in a face's group, 95% are its person; one step more and it is not so.
        assert (p, r) == album_bcubed(x, ids, rows, t, radius) and p >= 0.95
        assert album_bcubed(x, ids, rows, round(t + 0.01, 2), radius)[0] < 0.95
    # Blending is used when it groups more of each person's photos together at that precision.
    assert b["adopted"] == (b["blended_precision_recall"][1] > b["raw_precision_recall"][1])
    assert g["value"] == (b["threshold"] if b["adopted"] else b["raw_threshold"])


def _per_threshold(fake):
    """An ``album_scores`` stand-in from a function of one threshold (like ``album_bcubed``)."""
    return lambda e, i, rows, thresholds, blend: [fake(e, i, rows, t, blend) for t in thresholds]


def test_blending_is_adopted_with_the_largest_threshold_that_keeps_album_precision(monkeypatch):
    import training.operating_points as op

    def fake(embeddings, identities, rows, threshold, blend):
        if blend is None:  # raw: precise enough up to 0.7, with less recall
            return (0.96 if threshold <= 0.7 + 1e-9 else 0.90), 0.70
        # Blended: precision falls as the threshold grows; recall is better throughout.
        return (0.99 if threshold <= 0.5 + 1e-9 else 0.90), 0.85

    monkeypatch.setattr(op, "album_scores", _per_threshold(fake))
    monkeypatch.setattr(op, "album_bcubed", fake)
    x, ids = people(n_people=36, per=6, seed=2)
    points = op.operating_points(x, ids, pair_threshold=1.0, name_draws=2)
    g, b = points["group_threshold"], points["group_blend"]
    assert b["value"] == 4 and b["adopted"] and b["threshold"] == 0.5 and b["rounds"] == 2
    assert g["value"] == 0.5 and g["blended"] and g["raw_value"] == 0.7
    assert g["far_value"] == threshold_at_far(x, ids, 0.03)[0]  # still reported
    assert points["group_blend_rounds"]["value"] == 2

    # Blending that loses recall at the same precision is not adopted: raw grouping's point is used.
    monkeypatch.setattr(op, "album_scores", _per_threshold(lambda e, i, r, t, blend: (0.96, 0.70 if blend is None else 0.60)))
    points = op.operating_points(x, ids, pair_threshold=1.0, name_draws=2)
    assert points["group_blend"]["value"] == 0 and points["group_threshold"]["value"] == 1.0


def test_grouping_keeps_the_false_accept_point_when_no_threshold_is_precise_enough(monkeypatch):
    import training.operating_points as op

    monkeypatch.setattr(op, "album_scores", _per_threshold(lambda e, i, r, t, blend: (0.80, 0.90)))
    monkeypatch.setattr(op, "album_bcubed", lambda e, i, r, t, blend: (0.80, 0.90))
    x, ids = people(n_people=36, per=6, seed=2)
    points = op.operating_points(x, ids, pair_threshold=1.0, name_draws=2)
    assert points["group_blend"]["value"] == 0
    assert points["group_threshold"]["value"] == threshold_at_far(x, ids, 0.03)[0]


def test_blending_reaches_no_farther_than_the_albums_need(monkeypatch):
    import training.operating_points as op

    # Album recall by blending radius: flat down to 0.8 x the pair threshold (0.004 under the
    # best, within the slack), then falling; precision 0.96 up to threshold 0.4 for every radius.
    recall = {1.0: 0.900, 0.95: 0.902, 0.9: 0.901, 0.85: 0.899, 0.8: 0.898, 0.75: 0.890, 0.7: 0.85, 0.65: 0.80}

    def fake(embeddings, identities, rows, threshold, blend):
        if blend is None:
            return (0.96 if threshold <= 0.7 + 1e-9 else 0.90), 0.70
        return (0.96 if threshold <= 0.4 + 1e-9 else 0.90), recall[round(blend / 0.9, 2)]

    monkeypatch.setattr(op, "album_scores", _per_threshold(fake))
    x, ids = people(n_people=36, per=6, seed=2)
    points = op.operating_points(x, ids, pair_threshold=0.9, name_draws=2)
    b = points["group_blend"]
    assert b["adopted"] and b["radius"] == round(0.8 * 0.9, 4) and b["threshold"] == 0.396  # the last 1% step (0.009) under 0.4
    assert b["blended_precision_recall"] == [0.96, 0.898]
    assert points["group_blend_radius"]["value"] == round(0.8 * 0.9, 4)
    assert [r["radius"] for r in b["radii_tried"]] == [round(0.9 * f, 4) for f in op.BLEND_RADII]


def test_album_scores_are_album_bcubed_at_each_threshold():
    from training.operating_points import album_bcubed, album_scores, albums

    x, ids = people(n_people=36, per=6, spread=1.5, seed=2)
    rows = albums(ids)[:3]
    for blend in (None, 0.8):
        assert album_scores(x, ids, rows, [0.3, 0.5], blend) == [album_bcubed(x, ids, rows, t, blend) for t in (0.3, 0.5)]


def test_turned_faces_get_the_threshold_that_accepts_strangers_as_often_as_frontal_pairs(monkeypatch):
    import training.operating_points as op
    from training.operating_points import turned_threshold

    monkeypatch.setattr(op, "BLEND_RADII", (1.0,))  # grouping is not what this checks (and 8x quicker)

    x, ids = people()
    profiles, pids = people(spread=0.9, seed=0)  # the same people, blurrier: more strangers come close
    pair = threshold_at_far(x, ids, 0.1)[0]
    t = turned_threshold(x, ids, profiles, pids, pair_threshold=pair)
    d = np.maximum(2 - 2 * x @ profiles.T, 0)
    diff = ids[:, None] != pids[None]
    assert abs(np.mean(d[diff] < t["value"]) - t["far"]) < 1e-3  # the frontal pairs' rate
    assert t["far_at_pair_threshold"] > t["far"] and t["value"] < pair  # stricter than the pair threshold
    points = operating_points(x, ids, pair_threshold=pair, profiles=(profiles, pids), name_draws=2)
    assert points["turned_threshold"]["value"] == t["value"]


def test_the_naming_threshold_is_the_largest_that_keeps_wrong_names_within_one_percent():
    from training.operating_points import NAME_WRONG, name_threshold, naming_rates

    # Crowded people (some lookalikes): at the pair threshold naming gets more than 1% wrong.
    x, ids = people(n_people=50, per=8, spread=1.0, seed=4)
    pair = 1.2
    at_pair = naming_rates(x, ids, pair, pair, draws=10)
    assert at_pair["wrong"] > NAME_WRONG
    n = name_threshold(x, ids, pair, draws=10)
    assert n["value"] < pair and n["wrong"] <= NAME_WRONG
    assert n["wrong"] == naming_rates(x, ids, n["value"], pair, draws=10)["wrong"]
    # one 0.01 step more lenient would name too many wrong
    assert naming_rates(x, ids, n["value"] + 0.01, pair, draws=10)["wrong"] > NAME_WRONG
    # a stricter threshold names fewer of the named people's photos right, and fewer strangers
    assert n["right"] <= n["at_pair_threshold"]["right"]
    assert n["strangers_named"] < n["at_pair_threshold"]["strangers_named"]


def test_names_given_to_strangers_are_counted_as_wrong_names():
    """What the user sees: of the names the app gives, how many are wrong, a stranger named
    included. With half of the people never named, strangers' names outnumber the named
    people's wrong ones, and the card records that beside the naming threshold."""
    from training.operating_points import name_threshold, naming_rates

    x, ids = people(n_people=50, per=8, spread=1.0, seed=4)
    pair = 1.2
    n = name_threshold(x, ids, pair, draws=10)
    among = n["among_strangers"]
    assert among["named_people"] == 25
    assert {k: among[k] for k in among if k != "named_people"} == naming_rates(x, ids, n["value"], pair, draws=10, named=25)
    assert among["strangers_named"] > 0 and among["suggestions_wrong"] > among["wrong"]
    # a name given wrongly is a named person's photo under another name or a stranger's photo named
    per_person = 8
    named_photos, stranger_photos = 25 * (per_person - 3), 25 * per_person
    right = among["right"] * named_photos
    bad = among["wrong"] * named_photos + among["strangers_named"] * stranger_photos
    assert among["suggestions_wrong"] == pytest.approx(bad / (right + bad))
    # stricter naming gives fewer names wrongly
    assert among["suggestions_wrong"] < n["at_pair_threshold"]["among_strangers"]["suggestions_wrong"]


def test_a_model_that_names_well_at_the_pair_threshold_keeps_it_for_naming():
    from training.operating_points import name_threshold

    x, ids = people(n_people=40, per=6, spread=0.3, seed=5)  # well apart: no wrong names
    n = name_threshold(x, ids, 1.0, draws=10)
    assert n["value"] == 1.0 and n["wrong"] == 0.0 and n["right"] > 0.9



def test_writing_only_some_points_keeps_the_cards_others(tmp_path):
    import json

    from training.operating_points import write_card

    card = {"embedding": {"name_threshold": 0.86, "group_threshold": 0.4},
            "operating_points": {"name_threshold": {"value": 0.86}, "group_threshold": {"value": 0.4, "chosen_on": "old"}}}
    (tmp_path / "model_card.json").write_text(json.dumps(card))
    points = {"name_threshold": {"value": 0.49, "chosen_on": "new"}, "group_threshold": {"value": 0.33}}
    written = write_card(tmp_path, points, only=["name_threshold"])
    assert written["embedding"] == {"name_threshold": 0.49, "group_threshold": 0.4}
    assert written["operating_points"]["group_threshold"] == {"value": 0.4, "chosen_on": "old"}
    assert json.loads((tmp_path / "model_card.json").read_text()) == written
    with pytest.raises(ValueError, match="no such operating point: name"):
        write_card(tmp_path, points, only=["name"])
    assert write_card(tmp_path, points)["embedding"]["group_threshold"] == 0.33  # all of them


def test_sure_suggestions_are_those_within_the_largest_threshold_giving_few_wrong_names():
    from training.operating_points import SURE_WRONG, name_threshold, naming_rates, sure_threshold

    x, ids = people(n_people=50, per=8, spread=1.0, seed=4)
    pair = 1.2
    naming = name_threshold(x, ids, pair, draws=10)
    assert naming["among_strangers"]["suggestions_wrong"] > SURE_WRONG  # naming itself gives more wrong
    s = sure_threshold(x, ids, naming["value"], pair, draws=10)
    assert s["value"] < naming["value"] and s["suggestions_wrong"] <= SURE_WRONG and s["named_people"] == 25
    assert s["suggestions_wrong"] == naming_rates(x, ids, s["value"], pair, draws=10, named=25)["suggestions_wrong"]
    assert naming_rates(x, ids, s["value"] + 0.01, pair, draws=10, named=25)["suggestions_wrong"] > SURE_WRONG
    # where naming already gives few names wrongly, every suggestion is sure
    x, ids = people(n_people=40, per=6, spread=0.3, seed=5)
    assert sure_threshold(x, ids, 0.7, 0.7, draws=10)["value"] == 0.7
