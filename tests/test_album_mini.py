"""Acceptance on the tiny named album: scan train/, name its groups, scan test/, check names."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

from photoface.library import Library

from .conftest import data_dir


def test_named_people_are_recognised_in_later_photos(tmp_path):
    album = data_dir("album-mini")
    lib = Library.open(tmp_path / "lib.sqlite3")
    lib.scan([album / "train"], workers=2)
    # Name each group as a user would: by who is in it (the folder names the person). Naming one
    # group can turn another group of the same person into suggestions for the name: look again
    # after each decision, as the window does.
    while groups := [g for g in lib.list_people() if g.kind == "group"]:
        g = groups[0]
        folders = Counter(Path(f["path"]).parent.name for f in lib.list_faces(lib.people.resolve(g.ref)))
        assert len(folders) == 1, f"group {g.ref} mixes people: {folders}"
        lib.people.name(g.ref, folders.most_common(1)[0][0])
    people = {p.name for p in lib.list_people(include_groups=False)}
    assert people == {"obama", "biden", "kit_harington", "rose_leslie", "alex_lacamoire"}
    # Naming a group can make a person's other photos suggestions: a user reviewing the people
    # confirms them. Each must be right.
    for name in people:
        faces = lib.list_faces(lib.people.resolve(name))
        assert all(Path(f["path"]).parent.name == name for f in faces), name
        if suggested := [f["id"] for f in faces if f["state"] == "suggested"]:
            lib.people.confirm(suggested)

    lib.scan([album / "test"], workers=2)
    with open(album / "test_expected.csv") as f:
        expected = {row["file"]: row["identities_left_to_right"].split(";") for row in csv.DictReader(f)}
    for rel, names in expected.items():
        faces = sorted(
            (f for f in lib.list_faces() if f["path"] == str((album / rel).resolve())),
            key=lambda f: f["box"][0],
        )
        suggested = [f["person"] for f in faces if f["person"]]
        assert suggested == names, f"{rel}: expected {names}, got {suggested}"
        assert all(f["state"] == "suggested" for f in faces if f["person"])
