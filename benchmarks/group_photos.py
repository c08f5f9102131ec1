"""Grouping real, unconstrained photos: group photos of strangers, a collage, a small named album.

    python benchmarks/group_photos.py [--data ../shared/data] [--model DIR] [--threshold-scale 1.0] [--name-one-each]

Scans ``detection/*.jpg`` (PASCAL VOC group photos, dlib's collage ``bald_guys.jpg`` of four men,
a portrait) and ``album-mini/{train,test}`` into a temporary library, lets the library group
every face as the app does, and scores the groups against identities labelled by hand:

* ``group_photos_labels.csv`` (beside this script): the collage's 24 faces and the people of
  album-mini's test photos, by box centre (the detected face whose box holds the point, nearest
  centre first);
* album-mini's training photos: their folder's person (the largest face of the photo);
* every other face: a stranger of its own (the VOC photos' people, background faces).

Prints BCubed precision / recall / F over all faces and for each part, and how many faces share
a group with someone else. Strangers grouped together are the errors LFW-style benchmarks cannot
show: the faces there are of people with many photos, in albums that hold only them.
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent.parent), str(Path(__file__).resolve().parent)]

from album import with_embedder  # noqa: E402
from photoface.library import Library  # noqa: E402
from training.eval.clustering import bcubed_prf  # noqa: E402

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = HERE.parent.parent / "shared" / "data"
LABELS = HERE / "group_photos_labels.csv"


def photo_list(data: Path) -> list[Path]:
    det = sorted((data / "detection").glob("*.jpg"))
    mini = sorted(p for p in (data / "album-mini").rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    return det + mini


def part_of(path: str) -> str:
    if path.endswith("bald_guys.jpg"):
        return "collage"
    return "album-mini" if "album-mini" in path else "group photos"


def truth_labels(lib: Library, data: Path) -> tuple[list[int], list[str], list[str]]:
    """(face ids, identity, part) for every face in the library."""
    rows = lib.db.query("SELECT f.id, p.path, f.x, f.y, f.w, f.h FROM faces f JOIN photos p ON p.id = f.photo_id "
                        "WHERE p.status = 'ok' ORDER BY f.id")
    by_photo: dict[str, list] = {}
    for r in rows:
        by_photo.setdefault(str(Path(r[1]).resolve()), []).append(r)
    identity = {r[0]: f"stranger {r[0]}" for r in rows}
    with open(LABELS, newline="") as fh:
        for row in csv.DictReader(fh):
            faces = by_photo.get(str((data / row["file"]).resolve()), [])
            cx, cy = float(row["cx"]), float(row["cy"])
            inside = [f for f in faces if f[2] <= cx <= f[2] + f[4] and f[3] <= cy <= f[3] + f[5]]
            if not inside:
                raise SystemExit(f"{row['file']}: no face found at ({cx:.0f}, {cy:.0f}) for {row['identity']}")
            near = min(inside, key=lambda f: (f[2] + f[4] / 2 - cx) ** 2 + (f[3] + f[5] / 2 - cy) ** 2)
            identity[near[0]] = row["identity"]
    for path, faces in by_photo.items():
        if "/album-mini/train/" in path:
            largest = max(faces, key=lambda f: f[4] * f[5])
            identity[largest[0]] = Path(path).parent.name
    ids = [r[0] for r in rows]
    parts = {r[0]: part_of(str(r[1])) for r in rows}
    return ids, [identity[i] for i in ids], [parts[i] for i in ids]


def predicted(lib: Library, ids: list[int]) -> list[str]:
    who = {r[0]: (f"p{r[1]}" if r[1] is not None else f"g{r[2]}")
           for r in lib.db.query("SELECT face_id, person_id, group_id FROM assignments")}
    return [who.get(i, f"none {i}") for i in ids]


def name_one_each(lib: Library, ids: list[int], truth: list[str]) -> list[int]:
    """Name the first face of each labelled person with 2+ faces, as a user would, and refresh:
    the people's other faces are then named by recognition (a named face scores as its person)."""
    counts: dict[str, int] = {}
    for t in truth:
        counts[t] = counts.get(t, 0) + 1
    first: dict[str, int] = {}
    for i, t in zip(ids, truth):
        if not t.startswith("stranger") and counts[t] > 1:
            first.setdefault(t, i)
    for name, face in first.items():
        lib.people.move([face], new_name=name)
    lib.refresh()
    return list(first.values())


def report(truth: list[str], pred: list[str], parts: list[str]) -> dict:
    out = {"all": (len(truth), *bcubed_prf(truth, pred))}
    for part in ("group photos", "collage", "album-mini"):
        keep = [k for k, p in enumerate(parts) if p == part]
        out[part] = (len(keep), *bcubed_prf([truth[k] for k in keep], [pred[k] for k in keep]))
    members: dict[str, set] = {}
    for t, p in zip(truth, pred):
        members.setdefault(p, set()).add(t)
    out["with someone else"] = sum(1 for t, p in zip(truth, pred) if len(members[p]) > 1)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--model", type=Path, default=None, help="a model folder (default: the bundled model)")
    ap.add_argument("--threshold-scale", type=float, nargs="+", default=[1.0])
    ap.add_argument("--name-one-each", action="store_true",
                    help="then name one face of each labelled person (collage, album-mini) and score again")
    args = ap.parse_args(argv)
    photos = photo_list(args.data)
    if not photos:
        raise SystemExit(f"no photos under {args.data}/detection or {args.data}/album-mini")
    with tempfile.TemporaryDirectory(prefix="photoface-groups-") as tmp:
        model = with_embedder(args.model, Path(tmp) / "models") if args.model else None  # a candidate's export
        lib = Library.open(Path(tmp) / "lib.sqlite3", model)
        summary = lib.scan(photos, workers=1)
        print(f"model {lib.card.version}; {len(photos)} photos, {summary.faces} faces")
        ids, truth, parts = truth_labels(lib, args.data)
        for scale in args.threshold_scale:
            lib.set_strictness(scale)
            lib.refresh()
            r = report(truth, predicted(lib, ids), parts)
            blend = lib.thresholds.blending
            print(f"\n== threshold scale {scale:g}: grouping threshold {lib.group_threshold:.4f}"
                  + (f", {blend[0]} neighbours blended {blend[2]}x within {blend[1]:.4f}" if blend else ", no blending")
                  + " ==")
            for part in ("all", "group photos", "collage", "album-mini"):
                n, p, rc, f = r[part]
                print(f"{part:13s} {n:3d} faces: BCubed precision {p:.3f}  recall {rc:.3f}  F {f:.3f}")
            print(f"faces sharing a group with someone else: {r['with someone else']} of {len(truth)}")
        if args.name_one_each:
            print("\n== then one face of each labelled person named (a correction each), at the last scale ==")
            named = name_one_each(lib, ids, truth)
            r = report(truth, predicted(lib, ids), parts)
            for part in ("all", "group photos", "collage", "album-mini"):
                n, p, rc, f = r[part]
                print(f"{part:13s} {n:3d} faces: BCubed precision {p:.3f}  recall {rc:.3f}  F {f:.3f}")
            print(f"faces sharing a group with someone else: {r['with someone else']} of {len(truth)}; "
                  f"{len(named)} people named, one face each")
        lib.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
