"""benchmarks/small_faces.py: photos pasted small really give small faces, of the right person."""

from __future__ import annotations

import sys
from pathlib import Path

from .conftest import DATA, data_dir

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import small_faces  # noqa: E402
from album import devtest_people  # noqa: E402


def test_pasted_photos_give_large_and_small_faces_of_the_same_person():
    data_dir("lfw", "protocol")
    people = dict(sorted((n, p[:2]) for n, p in devtest_people(DATA).items() if len(p) >= 4)[:2])
    faces = small_faces.embed_pasted(people, (1.0, 0.3))
    assert len(faces) == 8 and all(v is not None for v in faces.values())
    widths = {s: [v[1] for k, v in faces.items() if k[2] == s] for s in (1.0, 0.3)}
    assert min(widths[1.0]) > 60 and max(widths[0.3]) < 40
    # The same photo small and large is nearer itself than the other person's photos are.
    (a, b) = people
    d = lambda u, v: float(((faces[u][0] - faces[v][0]) ** 2).sum())  # noqa: E731
    assert d((a, 0, 0.3), (a, 0, 1.0)) < min(d((a, 0, 0.3), (b, i, 1.0)) for i in range(2))
