"""benchmarks/album.py measures an unnamed library scanned with the model under test, or refuses."""

from __future__ import annotations

import sys
from pathlib import Path

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
