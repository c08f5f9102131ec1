"""Fixtures shared by the training tests."""

from __future__ import annotations

import csv

import cv2
import numpy as np
import pytest


@pytest.fixture()
def tiny_cfp(tmp_path, astronaut):
    """A CFP-shaped data folder: two 'people' (the astronaut, mirrored and not) and a photo
    without any face, which must get the fallback landmarks."""
    root = tmp_path / "data"
    rows = []
    for person, img in (("Eileen", astronaut), ("Mirror", astronaut[:, ::-1])):
        folder = root / "cfp" / "images" / person
        folder.mkdir(parents=True)
        for k, scale in enumerate((0.5, 0.4)):
            small = cv2.resize(np.ascontiguousarray(img), None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
            cv2.imwrite(str(folder / f"frontal_0{k}.jpg"), cv2.cvtColor(small, cv2.COLOR_RGB2BGR))
            rows.append((f"{person}/frontal_0{k}.jpg", person, "frontal"))
    (root / "cfp" / "images" / "Blank").mkdir()
    cv2.imwrite(str(root / "cfp" / "images" / "Blank" / "frontal_00.jpg"), np.full((200, 200, 3), 128, np.uint8))
    rows.append(("Blank/frontal_00.jpg", "Blank", "frontal"))
    with open(root / "cfp" / "manifest.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["path", "name", "pose"])
        w.writerows(rows)
    return root
