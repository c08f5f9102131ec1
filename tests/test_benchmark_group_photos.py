"""benchmarks/group_photos.py: its hand labels find their faces, and it scores what it should."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

from photoface.library import Library

from .conftest import DATA, data_dir

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

from group_photos import photo_list, report, truth_labels  # noqa: E402


def test_the_hand_labels_find_their_faces_and_the_named_album_groups_perfectly(tmp_path):
    data_dir("detection")
    data_dir("album-mini")
    lib = Library.open(tmp_path / "lib.sqlite3")
    lib.scan(photo_list(DATA), workers=1)
    ids, truth, parts = truth_labels(lib, DATA)
    named = Counter(t for t in truth if not t.startswith("stranger"))
    # The collage: four men, six photos each; album-mini: its five people.
    assert [named[n] for n in ("bruce_willis", "dwayne_johnson", "jason_statham", "vin_diesel")] == [6, 6, 6, 6]
    assert {"obama", "biden", "kit_harington", "rose_leslie", "alex_lacamoire"} <= set(named)
    assert Counter(parts)["collage"] == 24
    # Every face a stranger of its own but the labelled ones; scored against itself, perfect.
    assert report(truth, truth, parts)["all"][1:] == (1.0, 1.0, 1.0)
    assert report(truth, truth, parts)["with someone else"] == 0
    everyone = report(truth, ["one group"] * len(truth), parts)  # every face with everyone
    assert everyone["with someone else"] == len(truth) and everyone["all"][2] == 1.0
    # Grouped as the app groups: the named album's people each in one group of their own.
    lib.refresh()
    from group_photos import predicted

    r = report(truth, predicted(lib, ids), parts)
    assert r["album-mini"][1:3] == (1.0, 1.0)
    # No group holds two faces of one photo: the collage's men are left to naming.
    assert r["collage"][2] < 0.5 and r["group photos"][1] > r["collage"][2]
    # --name-one-each: one face of each of the 9 labelled people named; recognition names most
    # of the collage's other faces after their man.
    from group_photos import name_one_each

    named_faces = name_one_each(lib, ids, truth)
    assert len(named_faces) == 9
    after = report(truth, predicted(lib, ids), parts)
    assert after["collage"][2] > 0.5 and after["collage"][1] == 1.0
    lib.close()
