"""Album acceptance on LFW View 1 test people: grouping quality, recognition after naming, timing.

    python benchmarks/album.py [--data ../shared/data] [--library FILE] [--threshold-scale 0.8 0.9 1.0]

1. Scans the photos of the 1,711 people of ``lfw/protocol/peopleDevTest.txt`` (3,708 photos; never
   trained on) into a library, through a folder of symlinks (``<library>.photos/<Name>/``), so the
   data is never copied. A library that already holds them is rescanned (nothing to do).
2. Grouping: LFW labels the face nearest the image centre only; other faces are background people
   of unknown identity, kept in the library but left out of the measures (their count is
   printed). Each central face's label is its person or unnamed group; pairwise and BCubed
   precision / recall / F against the true identities (targets: BCubed precision >= 0.97, recall
   as high as possible).
3. Recognition, per ``--recognition MIN:ENROL`` experiment, on a fresh copy of the grouped library:
   for each person with at least MIN photos, the central faces of their first ENROL photos (by file
   name, among photos with a face) are moved to a person of that name (which confirms them); then
   the library refreshes and every other central face of those people is counted as the right
   name, a wrong name, or unknown (target: wrong names <= 1%). Faces of people who were not
   named that get a name anyway are counted apart (false positives), and so are background faces named.
   What the user sees is all of them together: of the names the app gives, the share that is
   wrong (another named person's, or any name on someone never named).

4. Album-sized groupings (``--subsets N:MIN``): a family album holds tens of people, not 1,711;
   random sets of N people with MIN+ photos are grouped on their own, BCubed averaged.
5. Strangers by group (``--fairface-strangers N``): LFW has no group labels, so after the first
   recognition experiment N adult FairFace val photos of each race group (each a different person,
   none of them named) are scanned into that experiment's library, and the faces nearest their
   photos' centres that get a name anyway are counted per group, with the names most given.

Every threshold scale given (``Library.set_strictness``: the model card's same-person threshold
times the scale) regroups and re-runs the recognition experiments on a copy of the scanned
library; the scan itself happens once.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from metrics import bcubed_prf, pairwise_prf, summary  # noqa: E402

from photoface.library import Library  # noqa: E402

DEFAULT_DATA = Path(os.environ.get("PHOTOFACE_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
STAGES = ("read", "decode", "detect", "embed", "store")


# -- the data ---------------------------------------------------------------------------------
def devtest_people(data: Path) -> dict[str, list[Path]]:
    """{name: sorted photo paths} of View 1's test people."""
    lines = (data / "lfw" / "protocol" / "peopleDevTest.txt").read_text().split("\n")
    people = {}
    for line in lines[1 : 1 + int(lines[0])]:
        name, count = line.split()
        people[name] = [data / "lfw" / "images" / name / f"{name}_{i:04d}.jpg" for i in range(1, int(count) + 1)]
    return people


def link_folder(folder: Path, people: dict[str, list[Path]]) -> int:
    """A folder of real sub-folders holding symlinks to the photos (the scan does not descend into
    symlinked folders, but follows symlinked files). Returns the number of photos linked."""
    n = 0
    for name, paths in people.items():
        (folder / name).mkdir(parents=True, exist_ok=True)
        for p in paths:
            link = folder / name / p.name
            if not link.is_symlink():
                link.symlink_to(p.resolve())
            n += 1
    return n


def copy_library(src: Path, dst: Path) -> None:
    """A consistent copy of a (WAL) library file."""
    for suffix in ("", "-wal", "-shm"):
        Path(str(dst) + suffix).unlink(missing_ok=True)
    with sqlite3.connect(src) as a, sqlite3.connect(dst) as b:
        a.backup(b)
    a.close()
    b.close()


def central_faces(lib: Library) -> tuple[dict[int, tuple[str, str]], dict]:
    """{face id: (true name, path)} of the face nearest each photo's centre, and counts."""
    rows = lib.db.query(
        "SELECT f.id, p.path, p.width, p.height, f.x, f.y, f.w, f.h FROM faces f "
        "JOIN photos p ON p.id = f.photo_id WHERE p.status = 'ok'"
    )
    by_photo = defaultdict(list)
    for r in rows:
        by_photo[r["path"]].append(r)
    central = {}
    for path, faces in by_photo.items():
        def offset(r):
            return (r["x"] + r["w"] / 2 - r["width"] / 2) ** 2 + (r["y"] + r["h"] / 2 - r["height"] / 2) ** 2

        best = min(faces, key=offset)
        central[best["id"]] = (Path(path).parent.name, path)
    photos = lib.db.scalar("SELECT COUNT(*) FROM photos WHERE status = 'ok'")
    counts = {
        "photos": photos,
        "unreadable": lib.db.scalar("SELECT COUNT(*) FROM photos WHERE status = 'error'"),
        "faces": len(rows),
        "central": len(central),
        "background": len(rows) - len(central),
        "no_face": photos - len(by_photo),
    }
    return central, counts


def face_labels(lib: Library) -> dict[int, dict]:
    return {f["id"]: f for f in lib.list_faces()}


def label_of(face: dict):
    if face["person_id"] is not None:
        return ("p", face["person_id"])
    if face["group"] is not None:
        return ("g", face["group"])
    return ("f", face["id"])  # no assignment: a group of its own


# -- the measures -----------------------------------------------------------------------------
def grouping_report(lib: Library, central: dict) -> dict:
    faces = face_labels(lib)
    ids = sorted(central)
    truth = [central[i][0] for i in ids]
    pred = [label_of(faces[i]) for i in ids]
    pp, pr, pf = pairwise_prf(truth, pred)
    bp, br, bf = bcubed_prf(truth, pred)
    s = summary(pred)
    # Recall where it is possible at all: people with two or more central faces.
    sizes = defaultdict(int)
    for t in truth:
        sizes[t] += 1
    multi = [k for k, t in enumerate(truth) if sizes[t] >= 2]
    _, br2, _ = bcubed_prf([truth[k] for k in multi], [pred[k] for k in multi])
    # Pure groups: every central face of the same person; complete: all of that person's faces.
    members = defaultdict(list)
    for t, p in zip(truth, pred):
        members[p].append(t)
    impure = sum(1 for m in members.values() if len(set(m)) > 1)
    return {
        "pairwise": (pp, pr, pf), "bcubed": (bp, br, bf), "bcubed_recall_multi": br2,
        "people": len(sizes), "people_multi": sum(1 for n in sizes.values() if n >= 2),
        "impure_groups": impure, **s,
        "all_groups": lib.stats()["groups"],
    }


def album_subsets(lib: Library, central: dict, n_people: int, min_photos: int, draws: int, seed: int = 0) -> dict:
    """Albums the size of a family's: ``draws`` random sets of ``n_people`` people with at least
    ``min_photos`` central faces each, every set grouped on its own as the library groups (its
    faces' embeddings only, ``photoface.cluster.group_faces`` at the library's thresholds);
    BCubed averaged over the draws."""
    import numpy as np

    from photoface.recognise import turned_faces
    from photoface.store.records import decode_array
    from training.eval.clustering import grouping_bcubed

    ids = sorted(central)
    marks = ",".join("?" * len(ids))
    rows = lib.db.query(f"SELECT id, embedding, frontal FROM faces WHERE id IN ({marks})", ids)
    emb = {r[0]: decode_array(r[1]) for r in rows}
    frontality = {r[0]: r[2] for r in rows}
    by_person = defaultdict(list)
    for fid in ids:
        by_person[central[fid][0]].append(fid)
    pool = sorted(n for n, faces in by_person.items() if len(faces) >= min_photos)
    rng = np.random.default_rng(seed)
    blend = lib.thresholds.blending  # as grouping.refresh
    scores, sizes = [], []
    for _ in range(draws):
        people = rng.choice(pool, min(n_people, len(pool)), replace=False)
        faces = [f for n in people for f in by_person[n]]
        album = (np.stack([emb[f] for f in faces]), [central[f][0] for f in faces],
                 turned_faces([frontality[f] for f in faces]))
        scores.append(grouping_bcubed([album], lib.group_threshold, blend, lib.turned_group_threshold))
        sizes.append(len(faces))
    p, r, f = (float(np.mean([s[i] for s in scores])) for i in range(3))
    return {"pool": len(pool), "faces": float(np.mean(sizes)), "bcubed": (p, r, f),
            "precision_range": (min(s[0] for s in scores), max(s[0] for s in scores))}


def recognition_experiment(lib: Library, central: dict, min_photos: int, enrol: int) -> dict:
    by_person = defaultdict(list)
    for fid, (name, path) in central.items():
        by_person[name].append((path, fid))
    named = {name: sorted(faces) for name, faces in by_person.items() if len(faces) >= min_photos}
    t = time.perf_counter()
    for name, faces in sorted(named.items()):
        lib.people.move([fid for _, fid in faces[:enrol]], new_name=name)
    naming = time.perf_counter() - t
    t = time.perf_counter()
    personalised = lib.refresh()["personalised"]
    refresh = time.perf_counter() - t
    faces = face_labels(lib)
    correct = wrong = unknown = sure_right = 0
    for name, items in named.items():
        for _, fid in items[enrol:]:
            f = faces[fid]
            if f["person"] is None:
                unknown += 1
            elif f["person"] == name:
                correct += 1
                sure_right += f["sure"]
            else:
                wrong += 1
    others = [fid for name, items in by_person.items() if name not in named for _, fid in items]
    false_pos = sum(1 for fid in others if faces[fid]["person"] is not None)
    background = [fid for fid in faces if fid not in central]
    bg_named = sum(1 for fid in background if faces[fid]["person"] is not None)
    # Sure suggestions ("Confirm sure suggestions" takes them at once): how many, how many wrong.
    sure = sum(1 for f in faces.values() if f["sure"])
    # Whose names strangers get: a few look-alike magnets point at what the model separates worst.
    magnets = Counter(faces[fid]["person"] for fid in others + background if faces[fid]["person"] is not None)
    return {
        "sure": sure, "sure_wrong": sure - sure_right, "magnets": magnets.most_common(5),
        "people": len(named), "enrolled": sum(min(enrol, len(v)) for v in named.values()),
        "evaluated": correct + wrong + unknown, "correct": correct, "wrong": wrong, "unknown": unknown,
        "others": len(others), "false_pos": false_pos, "background": len(background), "bg_named": bg_named,
        "naming_s": naming, "refresh_s": refresh, "decisions": len(named), "metric_used": personalised,
    }


def named_by_group(faces, groups=(), top: int = 3) -> dict:
    """Strangers named, per group: ``faces`` is (group, name the app gave or None) for each face.
    ``groups`` are listed first, in that order (one without faces has share None). Returns
    {"groups": {group: {"faces", "named", "share", "top"}}, "all": the same over every face,
    "max_min": the highest named share over the lowest (None where the lowest is 0: no ratio),
    "max_group", "min_group"}; ``top`` is [(name, faces)], most given first."""
    names = {g: [] for g in groups}
    for group, name in faces:
        names.setdefault(group, []).append(name)

    def tally(given: list) -> dict:
        hits = [n for n in given if n is not None]
        return {"faces": len(given), "named": len(hits), "share": len(hits) / len(given) if given else None,
                "top": Counter(hits).most_common(top)}

    per_group = {g: tally(v) for g, v in names.items()}
    shares = {g: r["share"] for g, r in per_group.items() if r["share"] is not None}
    hi = max(shares, key=shares.get, default=None)
    lo = min(shares, key=shares.get, default=None)
    return {"groups": per_group, "all": tally([n for v in names.values() for n in v]),
            "max_min": shares[hi] / shares[lo] if lo is not None and shares[lo] > 0 else None,
            "max_group": hi, "min_group": lo}


def stranger_photos(root: Path, per_race: int, seed: int = 0) -> dict[str, list[Path]]:
    """{race group: photo paths} of ``per_race`` adult FairFace val faces of each group (seeded).
    Adults only: LFW's people are adults, so a child named would measure age, not group."""
    from training import fairface

    adults = [f for f in fairface.read_labels(root, "val") if f.adult]
    photos: dict[str, list[Path]] = {race: [] for race in fairface.RACES}
    for f in fairface.balanced(adults, per_race, seed):
        photos[f.race].append(Path(root) / "fair_face" / f.file)
    return photos


def strangers_experiment(lib: Library, folder: Path, photos: dict[str, list[Path]], workers=None,
                         progress=None) -> dict:
    """Scans ``photos`` ({group: paths}, linked under ``folder/<group>/``) into a library that
    holds names; per group, how many of their central faces the app names (``named_by_group``)."""
    link_folder(folder, photos)
    t = time.perf_counter()
    # The library's own scan refreshes after it (as the LFW scan did), which is what names faces.
    s = lib.scan([folder], workers=workers, progress=progress)
    seconds = time.perf_counter() - t
    root = folder.resolve()
    # FairFace labels the face nearest the centre; other faces are background people, left out.
    central, _ = central_faces(lib)
    ours = sorted((fid, group) for fid, (group, path) in central.items() if Path(path).parent.parent == root)
    faces = face_labels(lib)
    report = named_by_group([(group, faces[fid]["person"]) for fid, group in ours], groups=list(photos))
    report.update(photos={g: len(p) for g, p in photos.items()}, found=s.found, failed=len(s.failed),
                  background=sum(1 for f in faces.values() if Path(f["path"]).parent.parent == root) - len(ours),
                  scan_s=seconds)
    return report


def print_strangers(st: dict, after: str) -> None:
    def names(top):
        return ", ".join(f"{n} {k}" for n, k in top) or "-"

    print(f"  FairFace strangers (never named; scanned into this library after {after}): {st['found']} photos, "
          f"{st['failed']} failed, {st['background']} background faces left out; scan and refresh {st['scan_s']:.1f} s")
    for group, r in st["groups"].items():
        print(f"    {group:16s} {r['faces']:4d} faces of {st['photos'].get(group, 0):4d} photos, named "
              f"{pct(r['named'], r['faces']):>7} ({r['named']}); names most given: {names(r['top'])}")
    a = st["all"]
    print(f"    {'all':16s} {a['faces']:4d} faces, named {pct(a['named'], a['faces'])} ({a['named']}); "
          f"names most given: {names(a['top'])}")
    if st["max_min"] is not None:
        print(f"    named share max/min across groups: {st['max_min']:.2f}x ({st['max_group']} / {st['min_group']})")
    elif st["max_group"] is None or not st["groups"][st["max_group"]]["named"]:
        print("    named share max/min across groups: n/a (no group's face was named)")
    else:
        print(f"    named share max/min across groups: n/a (no face of {st['min_group']} was named; "
              f"highest {st['max_group']})")


def names_given(r: dict) -> tuple[int, int]:
    """(names the app gave, how many of them are wrong) in a ``recognition_experiment``: a named
    person's face under another name, or any name on a face of someone never named (central or
    background)."""
    bad = r["wrong"] + r["false_pos"] + r["bg_named"]
    return r["correct"] + bad, bad


def unmeasurable(lib: Library) -> str | None:
    """Why a library cannot be measured, or None. The measures start from no user decision: a kept
    library's copy that holds the names of a recognition experiment would count those faces as
    named by the app (and silently so)."""
    people = lib.db.scalar("SELECT COUNT(*) FROM people")
    confirmed = lib.db.scalar("SELECT COUNT(*) FROM assignments WHERE state = 'confirmed'")
    if people or confirmed:
        return (f"holds {people} people and {confirmed} confirmed faces; the benchmark measures a library "
                "without names (give a new --library, or the one a previous run scanned before naming)")
    return None


def pct(a: int, b: int) -> str:

    return f"{100 * a / b:.2f}%" if b else "n/a"


def with_embedder(embedder_dir: Path, into: Path) -> Path:
    """A models folder: the bundled detector beside another embedder (a candidate's export holds
    only embedder.tflite + model_card.json)."""
    from photoface.config import models_dir

    into.mkdir(parents=True, exist_ok=True)
    for f in models_dir().iterdir():
        source = embedder_dir / f.name if (embedder_dir / f.name).exists() else f
        link = into / f.name
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(source.resolve())
    return into


# -- main ---------------------------------------------------------------------------------------
def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--library", type=Path, default=None,
                    help="library file (default: album.sqlite3 in a new temporary folder, removed after)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary library and its symlink folder")
    ap.add_argument("--workers", type=int, default=None, help="scan processes (default: the library's, one per core up to 4)")
    ap.add_argument("--threshold-scale", type=float, nargs="+", default=[1.0],
                    help="same-person threshold scales to group and recognise with (0.5..1.5; default 1.0)")
    ap.add_argument("--recognition", default="4:3,2:1",
                    help="MIN:ENROL experiments, comma separated ('' for none; default 4:3,2:1)")
    ap.add_argument("--subsets", default="30:4,30:8",
                    help="N:MIN album-sized groupings: N random people with MIN+ photos, 10 draws "
                         "(comma separated; '' for none; default 30:4,30:8)")
    ap.add_argument("--no-personalise", action="store_true", help="plain distances for recognition (no learned metric)")
    ap.add_argument("--limit-people", type=int, default=0, help="only the first N people (a quick run)")
    ap.add_argument("--model", type=Path, default=None,
                    help="model folder (embedder.tflite + model_card.json; default: the bundled model). "
                         "A library scanned with another model re-embeds its faces")
    ap.add_argument("--fairface-strangers", type=int, default=0, metavar="N",
                    help="after the first recognition experiment, scan N adult FairFace val faces of each race "
                         "group (e.g. 300) into its library and report per group how many get a name "
                         "(default 0: off; FairFace as training/fairface.py says)")
    args = ap.parse_args(argv)

    if not (args.data / "lfw" / "protocol" / "peopleDevTest.txt").exists():
        print(f"LFW not found under {args.data}", file=sys.stderr)
        return 2
    people = devtest_people(args.data)
    if args.limit_people:
        people = dict(list(people.items())[: args.limit_people])
    tmp = None
    if args.library is None:
        tmp = Path(tempfile.mkdtemp(prefix="photoface-album-"))
        args.library = tmp / "album.sqlite3"
    folder = Path(str(args.library) + ".photos")
    experiments = [tuple(int(x) for x in e.split(":")) for e in args.recognition.split(",") if e.strip()]
    if args.model is not None:
        args.model = with_embedder(args.model, Path(str(args.library) + ".models"))
    strangers, skipped = {}, None
    if args.fairface_strangers > 0:
        from training.fairface import default_root

        if not experiments:
            skipped = "no recognition experiment to scan them after (--recognition is empty)"
        elif not (default_root() / "fair_face" / "val").is_dir():
            skipped = f"FairFace is not at {default_root()} (set PHOTOFACE_FAIRFACE; see training/fairface.py)"
        else:
            try:
                strangers = stranger_photos(default_root(), args.fairface_strangers)
            except FileNotFoundError as exc:
                skipped = str(exc)
    # One folder per N: a rerun with another N must not scan the links an earlier one left.
    stranger_folder = Path(f"{args.library}.fairface{args.fairface_strangers}")

    try:
        n = link_folder(folder, people)
        load = os.getloadavg()
        print(f"LFW View 1 test people: {len(people)} people, {n} photos (symlinked under {folder})")
        print(f"machine: {os.cpu_count()} cores, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at start")
        if skipped:
            print(f"FairFace strangers skipped: {skipped}")

        # -- scan (once) --------------------------------------------------------------------
        lib = Library.open(args.library, args.model)

        def refuse(problem: str) -> int:
            lib.close()
            print(f"{args.library}: {problem}", file=sys.stderr)
            return 2

        if problem := unmeasurable(lib):
            return refuse(problem)
        print(f"model {lib.card.version}, model card thresholds: pair (verify, find) "
              f"{lib.card.threshold:.4f}, naming {lib.card.name_threshold:.4f}, grouping {lib.card.group_threshold:.4f}")
        last = [0.0]

        def progress(p):
            if p.total and (p.done == p.total or time.perf_counter() - last[0] > 30):
                last[0] = time.perf_counter()
                print(f"  scan {p.done}/{p.total} photos, {p.faces} faces, {p.elapsed:.0f} s", file=sys.stderr)

        t = time.perf_counter()
        s = lib.scan([folder], workers=args.workers, progress=progress)
        total = time.perf_counter() - t
        done = s.new + s.changed + len(s.failed)
        print(f"\nscan: {s.found} photos found, {s.new} new, {s.unchanged} unchanged, {len(s.failed)} failed, "
              f"{s.faces} faces, {s.reembedded} faces re-embedded with the model")
        print(f"scan wall time {s.seconds:.1f} s = {done / s.seconds if s.seconds and done else 0:.1f} photos/s; "
              f"with the grouping that follows {total:.1f} s")
        if done:
            st = s.stage_seconds
            print("stage time per photo (all workers): " + ", ".join(
                f"{k} {1000 * st.get(k, 0.0) / done:.1f} ms" for k in STAGES))
        stale = lib.db.scalar("SELECT COUNT(*) FROM faces WHERE model_version IS NOT ?", (lib.card.version,))
        if stale:
            return refuse(f"{stale} faces still carry another model's embedding after the scan "
                          "(see the scan's failures above); the measures would leave them out")
        central, counts = central_faces(lib)
        print(f"faces: {counts['faces']} in {counts['photos']} photos; {counts['central']} central (labelled), "
              f"{counts['background']} background faces left out of the measures, "
              f"{counts['no_face']} photos without a face, {counts['unreadable']} unreadable")
        lib.close()

        # -- per threshold scale ----------------------------------------------------------------
        work = Path(str(args.library) + ".work.sqlite3")
        results = []
        for scale in args.threshold_scale:
            copy_library(args.library, work)
            lib = Library.open(work, args.model)
            lib.set_strictness(scale)
            lib.set_personalised(not args.no_personalise)
            t = time.perf_counter()
            lib.refresh()
            grouping_s = time.perf_counter() - t
            g = grouping_report(lib, central)
            threshold, group_threshold = lib.name_threshold, lib.group_threshold
            lib.close()
            print(f"\n== threshold scale {scale:g}: grouping threshold {group_threshold:.4f}, "
                  f"recognition threshold {threshold:.4f} ==")
            print(f"grouping (refresh of {counts['faces']} faces): {grouping_s:.2f} s")
            print(f"groups: {g['groups']} among the {len(central)} central faces of {g['people']} people "
                  f"({g['people_multi']} with 2+ faces); {g['singletons']} singletons; largest {g['largest']}; "
                  f"{g['impure_groups']} groups mix people; {g['all_groups']} groups over all faces")
            print("pairwise  precision {:.4f}  recall {:.4f}  F {:.4f}".format(*g["pairwise"]))
            print("BCubed    precision {:.4f}  recall {:.4f}  F {:.4f}".format(*g["bcubed"])
                  + f"   (recall over people with 2+ faces {g['bcubed_recall_multi']:.4f})")
            row = {"scale": scale, "threshold": group_threshold, "grouping_s": grouping_s, **g}
            for spec in [x for x in args.subsets.split(",") if x.strip()]:
                n_people, min_photos = (int(v) for v in spec.split(":"))
                lib = Library.open(work, args.model)
                a = album_subsets(lib, central, n_people, min_photos, draws=10)
                lib.close()
                print(f"album-sized: {n_people} people with >= {min_photos} photos (of {a['pool']}), "
                      f"{a['faces']:.0f} faces on average, 10 draws: BCubed precision {a['bcubed'][0]:.4f} "
                      f"(range {a['precision_range'][0]:.3f}-{a['precision_range'][1]:.3f})  recall "
                      f"{a['bcubed'][1]:.4f}  F {a['bcubed'][2]:.4f}")
            for k, (min_photos, enrol) in enumerate(experiments):
                copy_library(work, Path(str(work) + ".rec"))
                rlib = Library.open(Path(str(work) + ".rec"), args.model)
                r = recognition_experiment(rlib, central, min_photos, enrol)
                if k == 0 and strangers:  # after the counts above, which the strangers must not change
                    r["strangers"] = strangers_experiment(rlib, stranger_folder, strangers, args.workers, progress)
                rlib.close()
                e = r["evaluated"]
                print(f"recognition, people with >= {min_photos} faces, {enrol} named each: {r['people']} people, "
                      f"{r['enrolled']} faces named, {e} faces to recognise")
                print(f"  correct {pct(r['correct'], e)} ({r['correct']}), wrong name {pct(r['wrong'], e)} "
                      f"({r['wrong']}), unknown {pct(r['unknown'], e)} ({r['unknown']})")
                print(f"  false positives: {r['false_pos']} of the {r['others']} central faces of people not named "
                      f"got a name ({pct(r['false_pos'], r['others'])}); background faces named: "
                      f"{r['bg_named']} of {r['background']}")
                given, bad = names_given(r)
                print(f"  names given: {given}, of them wrong {pct(bad, given)} ({bad}: a named person's face under "
                      "another name, or a face of someone never named)")
                if r["magnets"]:
                    print("  names most given to people never named: " + ", ".join(f"{n} {k}" for n, k in r["magnets"]))
                print(f"  sure suggestions (confirmed at once by 'Confirm sure suggestions'): {r['sure']} "
                      f"({pct(r['sure'], given)} of names given), of them wrong {pct(r['sure_wrong'], r['sure'])} ({r['sure_wrong']})")
                print(f"  naming: {r['decisions']} decisions in {r['naming_s']:.1f} s "
                      f"({1000 * r['naming_s'] / max(1, r['decisions']):.0f} ms each); refresh {r['refresh_s']:.2f} s")
                if not args.no_personalise:
                    print("  learned metric: " + ("in use" if r["metric_used"] else
                          "not used (too few confirmed faces, or it did not beat plain distances on held-out ones)"))
                if "strangers" in r:
                    print_strangers(r["strangers"], f"the naming above ({r['enrolled']} faces of {r['people']} people)")
                row[f"rec{min_photos}:{enrol}"] = r
            results.append(row)

        if len(results) > 1:
            print("\n== sweep ==")
            head = "scale  grouping threshold  BCubed P  BCubed R  BCubed F  groups"
            for min_photos, enrol in experiments:
                head += f"  | {min_photos}:{enrol} correct  wrong  unknown  FP"
            print(head)
            for row in results:
                line = (f"{row['scale']:5.2f}  {row['threshold']:9.4f}  {row['bcubed'][0]:8.4f}  "
                        f"{row['bcubed'][1]:8.4f}  {row['bcubed'][2]:8.4f}  {row['groups']:6d}")
                for min_photos, enrol in experiments:
                    r = row[f"rec{min_photos}:{enrol}"]
                    e = r["evaluated"]
                    line += (f"  | {pct(r['correct'], e):>11}  {pct(r['wrong'], e):>5}  {pct(r['unknown'], e):>7}  "
                             f"{pct(r['false_pos'], r['others']):>5}")
                print(line)
    finally:
        if tmp is not None and not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        elif tmp is not None:
            print(f"\nkept {tmp}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
