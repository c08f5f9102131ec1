"""benchmarks/album.py measures an unnamed library scanned with the model under test, or refuses."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from photoface.library import Library

from .conftest import DATA, data_dir

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import album  # noqa: E402


def run(library: Path) -> int:
    return album.main(["--data", str(DATA), "--library", str(library), "--limit-people", "3",
                       "--recognition", "", "--subsets", "", "--workers", "1"])


def test_a_library_holding_names_is_refused_not_measured(tmp_path, capsys):
    data_dir("lfw", "protocol")
    library = tmp_path / "lib.sqlite3"
    assert run(library) == 0
    assert "BCubed" in capsys.readouterr().out
    lib = Library.open(library)
    lib.people.move([lib.list_faces()[0]["id"]], new_name="Someone")  # as a recognition experiment does
    lib.close()
    assert run(library) == 2
    out, err = capsys.readouterr()
    assert "holds 1 people and 1 confirmed faces" in err and "BCubed" not in out


def test_faces_left_with_another_models_embedding_stop_the_measures(tmp_path, capsys, monkeypatch):
    from photoface.analyse import Analyser
    from photoface.errors import PhotoFaceError

    data_dir("lfw", "protocol")
    library = tmp_path / "lib.sqlite3"
    assert run(library) == 0
    capsys.readouterr()
    lib = Library.open(library)
    lib.db.execute("UPDATE faces SET model_version = 'an-older-model'")
    lib.close()

    def unreadable(self, path, landmarks):
        raise PhotoFaceError(f"{path}: cannot read file (a disk error)")

    monkeypatch.setattr(Analyser, "reembed", unreadable)
    assert run(library) == 2
    out, err = capsys.readouterr()
    assert "faces still carry another model's embedding" in err and "BCubed" not in out


def test_names_given_to_people_never_named_count_as_wrong():
    r = {"correct": 90, "wrong": 1, "false_pos": 7, "bg_named": 2}
    assert album.names_given(r) == (100, 10)  # 1 named person's face under another name + 9 strangers


def test_strangers_named_are_counted_per_group_with_the_names_most_given():
    faces = ([("Black", "Ann")] * 3 + [("Black", "Bob")] + [("Black", None)] * 6
             + [("White", "Bob")] + [("White", None)] * 9 + [("Indian", None)] * 4)
    r = album.named_by_group(faces, groups=("White", "Black", "Indian", "Latino_Hispanic"))
    assert list(r["groups"]) == ["White", "Black", "Indian", "Latino_Hispanic"]  # the order asked, then any other
    assert r["groups"]["Black"] == {"faces": 10, "named": 4, "share": 0.4, "top": [("Ann", 3), ("Bob", 1)]}
    assert r["groups"]["White"]["share"] == 0.1
    assert r["groups"]["Latino_Hispanic"] == {"faces": 0, "named": 0, "share": None, "top": []}
    assert r["all"] == {"faces": 24, "named": 5, "share": 5 / 24, "top": [("Ann", 3), ("Bob", 2)]}
    # A group none of whose faces was named has no ratio (not a division by zero); a group without faces is left out.
    assert (r["max_min"], r["max_group"], r["min_group"]) == (None, "Black", "Indian")
    r = album.named_by_group([f for f in faces if f[0] != "Indian"], top=1)
    assert r["max_min"] == 4.0 and r["groups"]["Black"]["top"] == [("Ann", 3)]
    assert album.named_by_group([("White", None)])["max_min"] is None  # nobody named at all
    assert album.named_by_group([])["max_group"] is None


def test_fairface_strangers_without_fairface_are_skipped_saying_why(tmp_path, capsys, monkeypatch):
    data_dir("lfw", "protocol")
    monkeypatch.setenv("PHOTOFACE_FAIRFACE", str(tmp_path / "nowhere"))
    assert album.main(["--data", str(DATA), "--library", str(tmp_path / "lib.sqlite3"), "--limit-people", "3",
                       "--recognition", "1:1", "--subsets", "", "--workers", "1", "--fairface-strangers", "2"]) == 0
    out = capsys.readouterr().out
    assert f"FairFace strangers skipped: FairFace is not at {tmp_path / 'nowhere'}" in out
    assert "BCubed" in out and "names given" in out and "FairFace strangers (" not in out


def test_fairface_strangers_are_scanned_into_the_named_library_and_reported_per_group(tmp_path, capsys, monkeypatch):
    from training import fairface

    data_dir("lfw", "protocol")
    if not (fairface.default_root() / "fairface_label_val.csv").exists():
        pytest.skip(f"needs FairFace at {fairface.default_root()} (see training/fairface.py)")
    captured = []
    experiment = album.strangers_experiment

    def spy(*args, **kwargs):  # the figures main() puts into its results
        captured.append(experiment(*args, **kwargs))
        return captured[-1]

    monkeypatch.setattr(album, "strangers_experiment", spy)
    assert album.main(["--data", str(DATA), "--library", str(tmp_path / "lib.sqlite3"), "--limit-people", "3",
                       "--recognition", "1:1,1:1", "--subsets", "", "--workers", "1",
                       "--fairface-strangers", "1"]) == 0
    out = capsys.readouterr().out
    assert len(captured) == 1  # after the first experiment only
    st = captured[0]
    assert st["found"] == 7 and st["photos"] == {race: 1 for race in fairface.RACES}
    assert list(st["groups"]) == list(fairface.RACES)
    # At most one face a photo counts (the central one); the detector may miss a face in a tight crop.
    assert 0 < st["all"]["faces"] == sum(g["faces"] for g in st["groups"].values()) <= 7
    assert "FairFace strangers (never named; scanned into this library after the naming above (3 faces of 3 people)" in out
    assert "named share max/min across groups" in out
