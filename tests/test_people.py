"""People and groups: user decisions are constraints that regrouping never overrides."""

from __future__ import annotations

import numpy as np
import pytest

from photoface.errors import UserError

from .library_fixtures import add_faces, assignment, at, identities, open_library, unit


@pytest.fixture
def lib(tmp_path):
    lib = open_library(tmp_path / "lib.sqlite3")
    yield lib
    lib.close()


@pytest.fixture
def three_people(lib):
    embs, labels = identities(3, [6, 5, 4])
    ids = add_faces(lib, embs)
    lib.refresh()
    return np.array(ids), labels


def groups(lib):
    return [p for p in lib.list_people() if p.kind == "group"]


def test_faces_of_each_person_form_one_group(lib, three_people):
    ids, labels = three_people
    gs = groups(lib)
    assert [g.faces for g in gs] == [6, 5, 4]  # biggest first
    for person in range(3):
        assert len({assignment(lib, int(f))["group_id"] for f in ids[labels == person]}) == 1


def test_naming_a_group_confirms_its_faces_and_survives_regrouping(lib, three_people):
    ids, labels = three_people
    g = assignment(lib, int(ids[0]))["group_id"]
    lib.people.name(f"g{g}", "Ann")
    lib.refresh()
    lib.refresh()
    for f in ids[labels == 0]:
        a = assignment(lib, int(f))
        assert (a["name"], a["state"]) == ("Ann", "confirmed")
    assert [p.name for p in lib.list_people() if p.kind == "person"] == ["Ann"]


def test_new_faces_of_a_named_person_are_suggested_with_the_name(lib, three_people):
    ids, labels = three_people
    lib.people.name(f"g{assignment(lib, int(ids[0]))['group_id']}", "Ann")
    more, more_labels = identities(3, [2, 0, 0], seed=0)  # same centres (same seed)
    new = add_faces(lib, more[:2], prefix="/later/img")
    lib.refresh()
    for f in new:
        a = assignment(lib, f)
        assert (a["name"], a["state"]) == ("Ann", "suggested")
    # A stranger is not given a name.
    stranger = add_faces(lib, identities(1, 1, seed=99)[0], prefix="/later/x")[0]
    lib.refresh()
    assert assignment(lib, stranger)["name"] is None


def test_rejected_face_is_never_suggested_to_that_person_again(lib, three_people):
    ids, labels = three_people
    ann = lib.people.name(f"g{assignment(lib, int(ids[0]))['group_id']}", "Ann")
    new = add_faces(lib, identities(3, [1, 0, 0], seed=0)[0], prefix="/later/img")[0]
    lib.refresh()
    assert assignment(lib, new)["name"] == "Ann"
    lib.people.reject([new])
    assert assignment(lib, new)["name"] is None
    lib.refresh()
    lib.refresh()
    assert assignment(lib, new)["name"] is None
    assert lib.db.scalar("SELECT COUNT(*) FROM rejections WHERE face_id = ? AND person_id = ?", (new, ann.id)) == 1


def test_rename_to_an_existing_name_merges_and_merged_people_stay_merged(lib, three_people):
    ids, labels = three_people
    g0 = assignment(lib, int(ids[labels == 0][0]))["group_id"]
    g1 = assignment(lib, int(ids[labels == 1][0]))["group_id"]
    ann = lib.people.name(f"g{g0}", "Ann")
    bob = lib.people.name(f"g{g1}", "Bob")
    lib.people.name(bob, "ann")  # an existing name, other case
    lib.refresh()
    people = [p for p in lib.list_people() if p.kind == "person"]
    assert [(p.name, p.faces) for p in people] == [("Ann", 11)]
    assert people[0].id == ann.id


def test_merge_groups_and_split_faces_out(lib, three_people):
    ids, labels = three_people
    g0 = assignment(lib, int(ids[labels == 0][0]))["group_id"]
    g1 = assignment(lib, int(ids[labels == 1][0]))["group_id"]
    merged = lib.people.merge([f"g{g0}", f"g{g1}"])
    assert merged.kind == "group" and sum(g.faces for g in groups(lib) if g.id == merged.id) == 11
    ann = lib.people.name(merged, "Ann")
    bob_faces = [int(f) for f in ids[labels == 1]]
    lib.people.move(bob_faces, new_name="Bob")
    lib.refresh()
    names = {p.name: p.faces for p in lib.list_people() if p.kind == "person"}
    assert names == {"Ann": 6, "Bob": 5}
    assert ann.kind == "person"


def test_undo_restores_each_decision_in_reverse_order(lib, three_people):
    ids, labels = three_people
    g0 = assignment(lib, int(ids[0]))["group_id"]
    before = [assignment(lib, int(f)) for f in ids]
    ann = lib.people.name(f"g{g0}", "Ann")
    lib.people.name(ann, "Annie")
    lib.people.reject([int(ids[0])])
    assert lib.people.undo() == "rejected 1 faces"
    assert assignment(lib, int(ids[0]))["name"] == "Annie"
    assert lib.people.undo() == "renamed Ann to Annie"
    assert [p.name for p in lib.list_people() if p.kind == "person"] == ["Ann"]
    lib.people.undo()
    assert lib.list_people(include_groups=False) == []
    assert [assignment(lib, int(f)) for f in ids] == before
    with pytest.raises(UserError, match="nothing to undo"):
        lib.people.undo()


def test_confirm_ignore_hide_and_cover(lib, three_people):
    ids, labels = three_people
    ann = lib.people.name(f"g{assignment(lib, int(ids[0]))['group_id']}", "Ann")
    new = add_faces(lib, identities(3, [2, 0, 0], seed=0)[0], prefix="/later/img")
    lib.refresh()
    assert lib.people.confirm(person="Ann") == 2
    assert all(assignment(lib, f)["state"] == "confirmed" for f in new)
    lib.people.ignore([new[0]])
    assert assignment(lib, new[0]) is None
    lib.refresh()
    assert assignment(lib, new[0]) is None  # ignored faces stay out of groups
    lib.people.set_cover("Ann", new[1])
    assert [p.cover_face_id for p in lib.list_people() if p.kind == "person"] == [new[1]]
    lib.people.hide("Ann")
    assert lib.list_people(include_groups=False) == []
    assert [p.name for p in lib.list_people(include_hidden=True, include_groups=False)] == ["Ann"]


def test_find_a_person_ranks_their_photos_first(lib, three_people):
    ids, labels = three_people
    lib.people.name(f"g{assignment(lib, int(ids[labels == 2][0]))['group_id']}", "Cy")
    hits = lib.find_person("Cy")
    assert {h.face_id for h in hits} == {int(f) for f in ids[labels == 2]}
    assert [h.distance for h in hits] == sorted(h.distance for h in hits)
    hits = lib.find_face(int(ids[0]))
    assert hits[0].face_id == int(ids[0]) and hits[0].distance < 1e-5


def test_unknown_people_groups_and_faces_get_clear_errors(lib, three_people):
    with pytest.raises(UserError, match="no person 'Zed'|no person or group 'Zed'"):
        lib.people.resolve("Zed")
    with pytest.raises(UserError, match="no group g999"):
        lib.people.resolve("g999")
    with pytest.raises(UserError, match="no face f999999"):
        lib.people.reject([999999])
    with pytest.raises(UserError, match="empty"):
        lib.people.name("g1", "   ")


def test_a_metric_is_learned_once_enough_people_are_confirmed(lib):
    from photoface.grouping import METRIC_KEY

    from .test_metric import nuisance_faces

    x, y = nuisance_faces(n_people=10, per_person=15)  # plain distances confuse these people
    ids = np.array(add_faces(lib, x))
    for person in range(10):
        lib.people.move([int(f) for f in ids[y == person][:5]], new_name=f"Person {person}")
    assert lib.refresh()["personalised"] is False  # off unless the user turns it on
    lib.set_personalised(True)
    assert lib.refresh()["personalised"] is True
    learned = lib.db.get_setting(METRIC_KEY)
    lib.refresh()
    assert lib.db.get_setting(METRIC_KEY) == learned  # unchanged decisions: not learned again
    lib.set_personalised(False)
    assert lib.refresh()["personalised"] is False


def test_no_metric_when_plain_distances_already_find_everyone(lib, three_people):
    ids, labels = three_people
    for person, name in enumerate(["Ann", "Bob", "Cy"]):
        lib.people.name(f"g{assignment(lib, int(ids[labels == person][0]))['group_id']}", name)
    lib.set_personalised(True)
    assert lib.refresh()["personalised"] is False  # nothing for a metric to improve on


def test_undoing_a_decision_on_a_person_keeps_their_faces(lib, three_people):
    """Undo restores a person's row in place: rename, cover, hide and a merge of two people
    must not drop the faces of a person who still exists (an INSERT OR REPLACE would, through
    ON DELETE CASCADE)."""
    ids, labels = three_people
    g0 = assignment(lib, int(ids[labels == 0][0]))["group_id"]
    g1 = assignment(lib, int(ids[labels == 1][0]))["group_id"]
    ann = lib.people.name(f"g{g0}", "Ann")
    bob = lib.people.name(f"g{g1}", "Bob")

    def people():
        return [(p.name, p.faces, p.hidden) for p in lib.list_people(include_hidden=True, include_groups=False)]

    before = people()
    assert [name for name, _, _ in before] == ["Ann", "Bob"] and all(n > 0 for _, n, _ in before)
    lib.people.name(ann, "Anne")
    lib.people.undo()
    assert people() == before
    lib.people.set_cover(ann, int(ids[labels == 0][1]))
    lib.people.undo()
    assert people() == before
    lib.people.hide(bob)
    lib.people.undo()
    assert people() == before
    lib.people.merge([ann, bob])
    assert people() == [("Ann", before[0][1] + before[1][1], False)]
    lib.people.undo()
    assert people() == before


def test_the_cover_of_a_group_is_its_most_frontal_large_face(lib):
    """Between two equally large, confident faces, the frontal one is the cover, not the profile."""
    from photoface.store.records import encode_array

    embs, _ = identities(1, [2])
    ids = add_faces(lib, embs)
    profile = np.array([[30, 40], [70, 40], [68, 55], [50, 75], [72, 75]], np.float32)
    lib.db.execute("UPDATE faces SET landmarks = ?, frontal = face_frontality(?) WHERE id = ?",
                   (encode_array(profile), encode_array(profile), ids[0]))
    lib.refresh()
    (group,) = lib.list_people()
    assert group.cover_face_id == ids[1]


def test_the_cards_neighbour_blending_keeps_a_varied_persons_photos_together(tmp_path):
    """With ``group_blend`` in the model card, faces are blended with their nearest faces before
    grouping (``group_blend_rounds`` times): people whose photos vary (same person ~0.8 apart,
    above the grouping threshold) end up in fewer groups, and no group mixes people."""
    import dataclasses

    embs, labels = identities(4, 8, spread=0.07, seed=3)
    counts = {}
    for blend, rounds in ((0, 1), (3, 1), (4, 2)):
        lib = open_library(tmp_path / f"blend{blend}.sqlite3")
        lib.card = dataclasses.replace(lib.card, group_blend=blend, group_blend_rounds=rounds)
        assert (lib.thresholds.blend, lib.thresholds.blend_rounds) == (blend, rounds)
        ids = add_faces(lib, embs)
        lib.refresh()
        group_of = {f: assignment(lib, f)["group_id"] for f in ids}
        members = {}
        for f, label in zip(ids, labels):
            members.setdefault(group_of[f], set()).add(label)
        assert all(len(people) == 1 for people in members.values())
        counts[blend] = len(members)
        lib.close()
    # A second round (4 neighbours) reaches the photos that one round (3) left apart.
    assert counts[4] < counts[3] < counts[0]


def test_blending_reaches_only_as_far_as_the_cards_radius(tmp_path):
    """A stranger within the pair threshold of someone's photos, but beyond the card's blending
    radius, is not blended towards them, so stays out of their group. Blending out to the pair
    threshold (older cards) pulls them in: look-alike strangers merge."""
    import dataclasses
    import json

    from photoface.embedder import ModelCard

    e0, e1 = np.eye(128, dtype=np.float32)[:2]
    embs = [at(e0, 0.02 * (i % 3), v) for i, v in enumerate(np.eye(128, dtype=np.float32)[2:8])]  # one person
    grouped = {}
    for name in ("card", "pair threshold"):
        lib = open_library(tmp_path / f"{name}.sqlite3")
        card = lib.card
        assert card.group_blend and card.group_blend_radius < card.threshold  # the synthetic card's operating point
        stranger = at(e0, (card.group_blend_radius + card.threshold) / 2, e1)
        if name == "pair threshold":
            lib.card = dataclasses.replace(card, group_blend_radius=card.threshold)
        ids = add_faces(lib, embs + [stranger])
        lib.refresh()
        groups = [assignment(lib, f)["group_id"] for f in ids]
        assert len(set(groups[:-1])) == 1  # the person's photos are one group either way
        grouped[name] = groups[-1] == groups[0]
        lib.close()
    assert grouped == {"card": False, "pair threshold": True}

    # A card from before the radius was chosen blends out to its pair threshold, as it did.
    raw = {"model_file": "m.tflite", "sha256": "", "version": "v", "input": {"size": 96},
           "embedding": {"size": 128, "distance": "squared_l2", "same_person_threshold": 0.9, "group_blend": 3}}
    path = tmp_path / "old_card.json"
    path.write_text(json.dumps(raw))
    old = ModelCard.load(path)
    assert old.group_blend_radius == 0.9 and old.blending() == (3, 0.9, 1)
    assert old.blending(1.2) == (3, 0.9 * 1.2, 1)  # strictness scales the radius too


def test_a_turned_face_is_named_only_when_closer_than_a_frontal_one_needs_to_be(lib):
    """A profile's embedding is less sure: naming holds it to the name threshold x the card's
    turned_threshold / same_person_threshold."""
    card = lib.card
    assert card.turned_threshold < card.threshold  # the synthetic card's operating point
    d = card.name_threshold * (card.turned_scale + 1) / 2  # close enough for a frontal face only
    e0, e1 = np.eye(128, dtype=np.float32)[:2]

    ids = add_faces(lib, [e0, e0, at(e0, 0.05, -e1), at(e0, d, e1), at(e0, d, e1)])
    lib.people.move(ids[:3], new_name="Ann")
    lib.db.execute("UPDATE faces SET frontal = 0.1 WHERE id = ?", (ids[4],))  # turned away
    lib.refresh()
    frontal, turned = assignment(lib, ids[3]), assignment(lib, ids[4])
    assert frontal["name"] == "Ann" and frontal["state"] == "suggested"
    assert turned["person_id"] is None


def test_naming_is_stricter_than_verifying_one_pair(lib):
    """Between the card's name threshold and its pair threshold a face is not given a named
    person's name (in a library it meets every named person: wrong names add up), yet find,
    which judges one pair, still finds it. Strictness scales naming too."""
    card = lib.card
    assert card.name_threshold < card.threshold  # the synthetic card's operating point
    e0, e1, e2 = np.eye(128, dtype=np.float32)[:3]

    between = (card.name_threshold + card.threshold) / 2
    near = card.name_threshold * 0.9
    ids = add_faces(lib, [e0, at(e0, between, e1), at(e0, near, e2)])
    lib.people.move([ids[0]], new_name="Ann")
    lib.refresh()
    assert assignment(lib, ids[1])["person_id"] is None
    assert assignment(lib, ids[2])["name"] == "Ann" and assignment(lib, ids[2])["state"] == "suggested"
    assert {h.face_id for h in lib.find_person("Ann")} == set(ids)
    assert ids[1] in {h.face_id for h in lib.find_face(ids[0])}
    lib.set_strictness(card.threshold / card.name_threshold * 1.01)  # lenient enough to name it
    lib.refresh()
    assert assignment(lib, ids[1])["name"] == "Ann"


def test_find_asks_a_turned_face_to_be_as_close_as_naming_does(lib):
    """Find this person: a face halfway between the turned and the frontal threshold is found when
    frontal, not when turned; searching from a turned face is just as strict."""
    card = lib.card
    d = (card.turned_threshold + card.threshold) / 2
    e0, e1, e2 = np.eye(128, dtype=np.float32)[:3]

    ids = add_faces(lib, [e0, at(e0, d, e1), at(e0, d, e2)])
    lib.people.move([ids[0]], new_name="Ann")
    lib.db.execute("UPDATE faces SET frontal = 0.1 WHERE id = ?", (ids[2],))
    assert {h.face_id for h in lib.find_person("Ann")} == {ids[0], ids[1]}
    lib.db.execute("UPDATE faces SET frontal = 0.1 WHERE id = ?", (ids[0],))  # the example turned
    assert {h.face_id for h in lib.find_face(ids[0])} == {ids[0]}
    # A lenient search reaches the turned face too, and reports its plain distance.
    hits = lib.find_person("Ann", max_distance=lib.threshold * 1.2)
    assert {h.face_id for h in hits} == {ids[0], ids[1], ids[2]}
    assert max(h.distance for h in hits) == pytest.approx(d, abs=1e-4)


def test_a_turned_face_is_grouped_with_its_persons_frontal_faces(lib):
    from .test_cluster import profile_album

    x, truth, turned = profile_album()
    t = lib.card.turned_group_threshold
    x = np.hstack([x, np.zeros((len(x), 96), np.float32)])  # the model's 128 dimensions
    ids = add_faces(lib, x)
    lib.db.execute(f"UPDATE faces SET frontal = 0.05 WHERE id IN ({','.join(str(i) for i in np.array(ids)[turned])})")
    lib.set_strictness(1.2 / t)  # the album's profiles lie 1.13 from their person's frontal faces
    lib.refresh()
    group = [assignment(lib, f)["group_id"] for f in ids]
    assert len({g for g, p in zip(group, truth) if p == 0}) == 1
    assert len({g for g, p in zip(group, truth) if p == 1}) == 1
    assert group[0] != group[6]


def test_verify_is_stricter_when_either_face_is_turned(lib, monkeypatch):
    """Two photos at a distance between the turned and the frontal threshold: the same person
    when both faces are frontal, not when one of them is a profile."""
    from photoface.align import template
    from photoface.analyse import FaceResult, PhotoResult

    card = lib.card
    d = (card.turned_threshold + card.threshold) / 2
    e0, e1 = np.eye(128, dtype=np.float32)[:2]
    cos = 1 - d / 2
    frontal = template(112)
    profile = frontal.copy()
    profile[2, 0] += 0.75 * (frontal[1, 0] - frontal[0, 0])  # nose beyond an eye

    def photo(embedding, marks):
        return PhotoResult("x", faces=[FaceResult((0, 0, 100, 100), 0.99, marks, embedding)])

    def verify(marks_b):
        faces = {"a.jpg": photo(e0, frontal), "b.jpg": photo(cos * e0 + np.sqrt(1 - cos * cos) * e1, marks_b)}
        monkeypatch.setattr(lib, "analyse_photo", lambda p: faces[p])
        return lib.verify("a.jpg", "b.jpg")

    both = verify(frontal)
    assert both["same_person"] and not both["turned"] and both["threshold"] == pytest.approx(lib.threshold, abs=1e-4)
    one = verify(profile)
    assert not one["same_person"] and one["turned"] and one["distance"] == pytest.approx(d, abs=1e-4)
    assert one["threshold"] == pytest.approx(card.turned_threshold, abs=1e-4)


def test_two_people_photographed_together_are_never_one_group(lib):
    # Siblings who look alike, in five photos together: without the photos, one group of ten.
    rng = np.random.default_rng(4)
    a, towards = unit(rng.normal(size=(2, 128)))
    towards = unit(towards - (towards @ a) * a)
    b = at(a, 0.3, towards)
    faces = unit(np.stack([a, b] * 5) + 0.03 * rng.normal(size=(10, 128)))
    ids = add_faces(lib, faces)
    lib.refresh()
    assert len({assignment(lib, f)["group_id"] for f in ids}) == 1
    with lib.db.transaction() as c:  # the same faces, two to a photo: now five photos of both
        for i in range(0, 10, 2):
            c.execute("UPDATE faces SET photo_id = (SELECT photo_id FROM faces WHERE id = ?) WHERE id = ?",
                      (ids[i], ids[i + 1]))
    lib.refresh()
    sibling = [assignment(lib, f)["group_id"] for f in ids]
    assert len(set(sibling[0::2])) == len(set(sibling[1::2])) == 1  # each sibling one group
    assert sibling[0] != sibling[1]


def test_merged_groups_stay_merged_after_regrouping(lib, three_people):
    # The user says two groups are one (unnamed) person: a later scan's regrouping keeps that.
    ids, labels = three_people
    g0 = assignment(lib, int(ids[labels == 0][0]))["group_id"]
    g1 = assignment(lib, int(ids[labels == 1][0]))["group_id"]
    merged = lib.people.merge([f"g{g0}", f"g{g1}"])
    lib.refresh()
    assert sorted(g.faces for g in groups(lib)) == [4, 11]
    assert {assignment(lib, int(f))["group_id"] for f in ids[labels != 2]} == {merged.id}
    # New photos of either person still join that group, and the third person stays apart.
    new = add_faces(lib, identities(3, [2, 2, 2])[0][[0, 2, 4]])
    lib.refresh()
    assert sorted(g.faces for g in groups(lib)) == [5, 13]
    assert assignment(lib, new[0])["group_id"] == assignment(lib, new[1])["group_id"] == merged.id
    # Undone, the merge is forgotten: the next regrouping separates them again.
    lib.people.undo()
    lib.refresh()
    assert sorted(g.faces for g in groups(lib)) == [5, 6, 7]


def test_faces_split_off_a_group_stay_apart_after_regrouping(lib, three_people):
    ids, labels = three_people
    first = [int(f) for f in ids[labels == 0][:2]]
    split = lib.people.move(first)  # into a new group of their own: "these two are someone else"
    lib.refresh()
    assert assignment(lib, first[0])["group_id"] == assignment(lib, first[1])["group_id"] == split.id
    rest = {assignment(lib, int(f))["group_id"] for f in ids[labels == 0][2:]}
    assert len(rest) == 1 and split.id not in rest
    assert sorted(g.faces for g in groups(lib)) == [2, 4, 4, 5]
    lib.people.undo()  # undone, the split is forgotten
    lib.refresh()
    assert sorted(g.faces for g in groups(lib)) == [4, 5, 6]


def test_a_photo_the_user_says_holds_someone_twice_is_grouped_like_any_other(lib):
    # A collage: three faces of one person in one photo are kept apart at first, since two faces
    # of one photo are two people. Once the user puts two of them together, the third may join.
    rng = np.random.default_rng(6)
    centre = unit(rng.normal(size=128))
    ids = add_faces(lib, unit(centre + 0.03 * rng.normal(size=(3, 128))))
    with lib.db.transaction() as c:
        c.execute("UPDATE faces SET photo_id = (SELECT photo_id FROM faces WHERE id = ?)", (ids[0],))
    lib.refresh()
    assert len({assignment(lib, f)["group_id"] for f in ids}) == 3
    lib.people.merge([f"g{assignment(lib, ids[0])['group_id']}", f"g{assignment(lib, ids[1])['group_id']}"])
    lib.refresh()
    assert len({assignment(lib, f)["group_id"] for f in ids}) == 1


def test_confirming_a_persons_suggestions_at_once_takes_only_the_sure_ones(lib, tmp_path):
    """Few suggestions within the card's sure threshold are wrong, strangers counted; farther
    ones are left to check one by one (a confirmed face draws its look-alikes to the name)."""
    import json

    from photoface.embedder import ModelCard

    card = lib.card
    assert card.sure_threshold < card.name_threshold  # the synthetic card's operating point
    e0, e1, e2 = np.eye(128, dtype=np.float32)[:3]
    sure_d, less_d = card.sure_threshold * 0.8, (card.sure_threshold + card.name_threshold) / 2
    ids = add_faces(lib, [e0, at(e0, sure_d, e1), at(e0, less_d, e2)])
    lib.people.move([ids[0]], new_name="Ann")
    lib.refresh()
    faces = {f["id"]: f for f in lib.list_faces(lib.people.resolve("Ann"))}
    assert [faces[i]["state"] for i in ids] == ["confirmed", "suggested", "suggested"]
    assert [faces[i]["sure"] for i in ids] == [False, True, False]
    assert lib.people.confirm(person="Ann", min_confidence=lib.sure_confidence) == 1
    assert [assignment(lib, i)["state"] for i in ids] == ["confirmed", "confirmed", "suggested"]
    # the cut is the same at any strictness: both thresholds scale
    lib.set_strictness(1.1)
    lib.refresh()
    assert lib.sure_confidence == round(card.sure_confidence, 4)
    assert [f["sure"] for f in lib.list_faces(face_ids=[ids[2]])] == [False]
    assert lib.people.confirm(person="Ann") == 1  # without a cut: every suggestion

    # A card without a sure threshold: every suggestion is sure, as before.
    raw = {"model_file": "m.tflite", "sha256": "", "version": "v", "input": {"size": 96},
           "embedding": {"size": 128, "distance": "squared_l2", "same_person_threshold": 0.9, "name_threshold": 0.8}}
    path = tmp_path / "old_card.json"
    path.write_text(json.dumps(raw))
    old = ModelCard.load(path)
    assert old.sure_threshold == 0.8 and old.sure_confidence == 0.0
