"""The library commands: scan, people, faces, name, merge, split, reject, confirm, hide, ignore,
cover, undo, redo, folders, find, verify, embed, settings, write-xmp, export, errors, missing,
forget-missing. Each is a thin layer over ``photoface.library.Library``."""

from __future__ import annotations

import argparse
import json
import sys
import time

from .cli import _positive_int
from .errors import UserError


def add_library_commands(sub) -> None:
    def command(name, help, run, json_flag=True):
        p = sub.add_parser(name, help=help, description=help)
        p.add_argument("--library", metavar="FILE", help="library file (default: $PHOTOFACE_LIBRARY or the user data folder)")
        if json_flag:
            p.add_argument("--json", action="store_true", help="print JSON")
        p.set_defaults(run=run)
        return p

    p = command("scan", "scan folders (or photos) for faces, then recognise and group them", run_scan)
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--workers", type=_positive_int, default=None,
                   help="processes to use (default: one per core, at most 4; never more than the cores)")
    p.add_argument("--min-face-size", type=_positive_int, metavar="PX", help="smallest face to find (saved in the library)")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")

    p = command("people", "list people and unnamed groups", run_people)
    p.add_argument("--hidden", action="store_true", help="include hidden people")
    p.add_argument("--no-groups", action="store_true", help="named people only")

    p = command("faces", "list faces: id, photo, box, landmarks, score, person, group, state", run_faces)
    p.add_argument("who", nargs="?", help="only this person (name or p<ID>) or group (g<ID>)")

    p = command("name", "name a group, or rename a person (an existing name merges them)", run_name)
    p.add_argument("target", help="g<ID>, p<ID> or a name")
    p.add_argument("name")

    p = command("merge", "merge people and groups into the first one given (merged groups stay merged "
                "when a later scan regroups)", run_merge)
    p.add_argument("targets", nargs="+", help="g<ID>, p<ID> or names")

    p = command("split", "move faces to another person, a new person, or a new group (a group split "
                "this way stays split when a later scan regroups)", run_split)
    p.add_argument("faces", nargs="+", metavar="FACE", help="face ids (f12 or 12)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--to", metavar="PERSON", help="an existing person (name or p<ID>)")
    g.add_argument("--new", metavar="NAME", help="a new person with this name")

    p = command("reject", '"not this person": remembered; the face is never suggested to them again', run_reject)
    p.add_argument("faces", nargs="+", metavar="FACE")

    p = command("confirm", "confirm suggested faces (or every suggestion of --person)", run_confirm)
    p.add_argument("faces", nargs="*", metavar="FACE")
    p.add_argument("--person", help="confirm this person's sure suggestions (few such are wrong, strangers counted)")
    p.add_argument("--less-sure-too", action="store_true", help="with --person: confirm all of their suggestions")

    p = command("hide", "hide a person from listings (--show to undo)", run_hide)
    p.add_argument("person")
    p.add_argument("--show", action="store_true")

    p = command("ignore", "ignore faces (not a person of interest); --restore to undo", run_ignore)
    p.add_argument("faces", nargs="+", metavar="FACE")
    p.add_argument("--restore", action="store_true")

    p = command("cover", "choose the face that stands for a person", run_cover)
    p.add_argument("person")
    p.add_argument("face")

    command("undo", "undo the latest decision (name, merge, split, reject, ...)", run_undo)
    command("redo", "redo the decision undone last (until another decision is made)", run_redo)
    command("folders", "list the library's folders (a scanned folder becomes one), missing ones marked", run_folders)

    p = command("find", "find a person's photos: by name, face id, or an example photo", run_find)
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--person", help="a name, p<ID> or g<ID>")
    g.add_argument("--face", help="a face id")
    g.add_argument("--photo", help="an example photo (its largest face, or --index)")
    p.add_argument("--index", type=int, default=0, help="which face of --photo, by size (0 = largest)")
    p.add_argument("--limit", type=_positive_int, default=50)
    p.add_argument("--max-distance", type=float, help="default: the same-person threshold")

    p = command("verify", "are the (largest) faces in two photos the same person?", run_verify)
    p.add_argument("a", metavar="PHOTO_A")
    p.add_argument("b", metavar="PHOTO_B")

    p = command("embed", "faces of photos with box, landmarks, score and embedding", run_embed)
    p.add_argument("images", nargs="+", metavar="IMAGE")

    p = command("settings", "show or change the library's settings (a change regroups the faces)", run_settings)
    p.add_argument("--min-face-size", type=_positive_int, metavar="PX", help="smallest face to find on later scans")
    p.add_argument("--strictness", type=float, metavar="X",
                   help="scale on the same-person thresholds: 0.5 (strict) .. 1.5 (lenient); 1 = the model's")
    p.add_argument("--personalise", choices=["on", "off"],
                   help="learn a metric on your confirmed faces for recognition, used only where it "
                        "recognises held-out confirmed faces better than plain distances (off by default)")
    p.add_argument("--read-xmp", choices=["on", "off"],
                   help="on scan, name faces from names other apps wrote into the photos' XMP (on by default)")
    p.add_argument("--write-xmp", choices=["on", "off"],
                   help="after every decision, write the names into the photos' XMP sidecars (off by default)")

    p = command("write-xmp", "write confirmed names into XMP face regions (MWG and Microsoft) that "
                "digiKam, Lightroom and others read: sidecars by default", run_write_xmp)
    p.add_argument("people", nargs="*", metavar="PERSON", help="only photos of these people (names or p<ID>)")
    p.add_argument("--embed", action="store_true",
                   help="write into the JPEG and PNG photos themselves (image data unchanged) instead of sidecars")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")

    command("export", "people, faces and decisions as JSON", run_export, json_flag=False)
    command("errors", "photos that could not be read, with the reason", run_errors)
    command("missing", "photos whose folder was gone, empty or unreadable at the last scan "
            "(an unmounted drive): kept with their faces and names until found again", run_missing)
    p = command("forget-missing", "remove missing photos with their faces and names (all, or those "
                "under the folders given); not undoable", run_forget_missing)
    p.add_argument("folders", nargs="*", metavar="FOLDER")


def _open(args, create: bool = False):
    """The library; only commands that write a first scan or setting create it."""
    from .library import Library

    args.opened = Library.open(args.library, create=create)
    return args.opened


def _open_for_analysis(args):
    from .library import Library

    return Library.open_for_analysis(args.library)


def _print_json(data) -> None:
    json.dump(data, sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")


class _Progress:
    """One line on stderr, rewritten in place on a terminal, every few seconds otherwise."""

    def __init__(self):
        self.tty = sys.stderr.isatty()
        self.last = 0.0

    def __call__(self, p) -> None:
        now = time.monotonic()
        final = p.total and p.done == p.total
        if not final and now - self.last < (0.2 if self.tty else 5.0):
            return
        self.last = now
        if p.phase != "analysing":
            line = f"{p.phase}: {p.done}/{p.total}" if p.total else p.phase
        else:
            eta = p.eta
            left = f", {_duration(eta)} left" if eta is not None and not final else ""
            line = f"{p.done}/{p.total} photos, {p.faces} faces{left}"
        if self.tty:
            sys.stderr.write("\r\033[K" + line + ("\n" if final else ""))
        else:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()


def _duration(seconds: float) -> str:
    s = int(seconds + 0.5)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


def run_scan(args) -> int:
    lib = _open(args, create=True)
    if args.min_face_size is not None:
        lib.set_min_face_size(args.min_face_size)
    progress = None if args.quiet else _Progress()
    say = None if args.quiet else (lambda msg: print(msg, file=sys.stderr))
    summary = lib.scan(args.paths, workers=args.workers, progress=progress, group_progress=say)
    if args.json:
        _print_json({**summary.to_dict(), "library": lib.stats()})
    else:
        s = summary
        print(f"{s.found} photos: {s.new} new, {s.changed} changed, {s.moved} moved, "
              f"{s.unchanged} unchanged, {s.removed} removed; {s.faces} faces found "
              f"in {_duration(s.seconds)}")
        if s.missing:
            print(f"{s.missing} photos missing (their folder is gone, empty or unreadable): kept with "
                  "their names; see 'photoface missing', or 'photoface forget-missing' to remove them")
        if s.reembedded:
            print(f"{s.reembedded} faces re-embedded with the current model")
        if s.named_from_metadata:
            print(f"{s.named_from_metadata} faces named from the photos' metadata (XMP face regions; "
                  "'photoface undo' takes them back)")
        for path, reason in s.metadata_problems:
            print(f"  {path}: names not read: {reason}")
        st = lib.stats()
        gone = f" ({st['missing']} missing)" if st["missing"] else ""
        print(f"library: {st['photos']} photos{gone}, {st['faces']} faces, {st['people']} people, {st['groups']} unnamed groups")
        if s.failed:
            print(f"{len(s.failed)} photos could not be read:")
            for path, reason in s.failed:
                print(f"  {path}: {reason}")
        if s.skipped:
            print(f"{len(s.skipped)} files or folders skipped:")
            for path, reason in s.skipped:
                print(f"  {path}: {reason}")
    if summary.interrupted:
        print("photoface: scan interrupted: what was scanned is kept; scan again to continue", file=sys.stderr)
        return 130
    return 0


def run_people(args) -> int:
    people = _open(args).list_people(include_hidden=args.hidden, include_groups=not args.no_groups)
    if args.json:
        _print_json([p.to_dict() for p in people])
        return 0
    print(f"{'ID':<8} {'NAME':<30} {'FACES':>6} {'PHOTOS':>7}  SUGGESTED")
    for p in people:
        name = p.name if p.kind == "person" else "Unnamed"
        name += " (hidden)" if p.hidden else ""
        print(f"{p.ref:<8} {name:<30} {p.faces:>6} {p.photos:>7}  {p.suggested or ''}")
    return 0


def run_faces(args) -> int:
    lib = _open(args)
    target = lib.people.resolve(args.who) if args.who else None
    faces = lib.list_faces(target)
    if args.json:
        _print_json(faces)
        return 0
    for f in faces:
        who = f["person"] or (f"g{f['group']}" if f["group"] else "-")
        conf = f" {f['confidence']:.2f}" if f["confidence"] else ""
        x, y, w, h = f["box"]
        print(f"f{f['id']:<7} {who:<24} {f['state'] + conf:<16} [{x:.0f}, {y:.0f}, {w:.0f}, {h:.0f}] "
              f"{f['score']:.3f}  {f['path']}")
    return 0


def _done(args, message: str, data=None, touched=None) -> int:
    """A decision was made: say so, and write sidecars if the library's setting asks for it."""
    from .xmp.writer import after_decision

    lib = getattr(args, "opened", None)
    written = after_decision(lib.db, touched) if lib is not None else None
    if getattr(args, "json", False):
        _print_json(data if data is not None else {"ok": True, "message": message})
    else:
        print(message)
        if written is not None and written.written:
            print(f"{len(written.written)} XMP sidecars written")
    for path, reason in written.failed if written is not None else []:
        print(f"photoface: {path}: names not written: {reason}", file=sys.stderr)
    return 0


def run_name(args) -> int:
    lib = _open(args)
    person = lib.people.name(args.target, args.name)
    return _done(args, f"{args.target} is now {args.name} ({person})", {"person": str(person), "name": args.name})


def run_merge(args) -> int:
    result = _open(args).people.merge(args.targets)
    return _done(args, f"merged into {result}", {"into": str(result)})


def run_split(args) -> int:
    from .people import parse_face_id

    faces = [parse_face_id(f) for f in args.faces]
    result = _open(args).people.move(faces, to=args.to, new_name=args.new)
    return _done(args, f"moved {len(faces)} faces to {result}", {"to": str(result), "faces": faces})


def run_reject(args) -> int:
    from .people import parse_face_id

    n = _open(args).people.reject([parse_face_id(f) for f in args.faces])
    return _done(args, f"{n} faces rejected (remembered)", {"rejected": n})


def run_confirm(args) -> int:
    from .people import parse_face_id

    if not args.faces and not args.person:
        raise UserError("give face ids or --person")
    lib = _open(args)
    sure = None if args.less_sure_too or not args.person else lib.sure_confidence
    n = lib.people.confirm([parse_face_id(f) for f in args.faces], person=args.person, min_confidence=sure)
    return _done(args, f"{n} faces confirmed", {"confirmed": n})


def run_hide(args) -> int:
    _open(args).people.hide(args.person, hidden=not args.show)
    return _done(args, f"{args.person} {'shown' if args.show else 'hidden'}")


def run_ignore(args) -> int:
    from .people import parse_face_id

    faces = [parse_face_id(f) for f in args.faces]
    _open(args).people.ignore(faces, ignored=not args.restore)
    return _done(args, f"{len(faces)} faces {'restored' if args.restore else 'ignored'}")


def run_cover(args) -> int:
    _open(args).people.set_cover(args.person, args.face)
    return _done(args, f"cover of {args.person} set")


def run_undo(args) -> int:
    from .xmp.writer import touched_photos

    lib = _open(args)
    touched = touched_photos(lib.db)  # the undone entry is gone afterwards
    what = lib.people.undo()
    return _done(args, f"undone: {what}", {"undone": what}, touched=touched)


def run_redo(args) -> int:
    lib = _open(args)
    what = lib.people.redo()
    return _done(args, f"redone: {what}", {"redone": what})


def run_folders(args) -> int:
    def line(f):
        state = "" if f["exists"] else "  (missing)"
        gone = f", {f['missing']} missing" if f["missing"] else ""
        return f"{f['path']}  {f['photos']} photos{gone}{state}"

    return _listing(args, _open(args).folders(), line)


def run_find(args) -> int:
    lib = _open(args)
    kw = {"limit": args.limit, "max_distance": args.max_distance}
    if args.person:
        hits = lib.find_person(args.person, **kw)
    elif args.face:
        hits = lib.find_face(args.face, **kw)
    else:
        hits = lib.find_photo(args.photo, face=args.index, **kw)
    if args.json:
        _print_json([h.to_dict() for h in hits])
        return 0
    if not hits:
        print("no photos found")
    for h in hits:
        x, y, w, h_ = h.box
        print(f"{h.distance:.3f}  f{h.face_id:<7} [{x:.0f}, {y:.0f}, {w:.0f}, {h_:.0f}]  {h.path}")
    return 0


def run_verify(args) -> int:
    r = _open_for_analysis(args).verify(args.a, args.b)
    if args.json:
        _print_json(r)
    else:
        verdict = "same person" if r["same_person"] else "different people"
        pose = ", a turned face: stricter" if r["turned"] else ""
        print(f"{verdict}: distance {r['distance']:.3f} (threshold {r['threshold']:.3f}{pose})")
    return 0


def run_embed(args) -> int:
    lib = _open_for_analysis(args)
    out, failed = [], 0
    for path in args.images:
        try:
            r = lib.analyse_photo(path)
        except UserError as exc:
            failed += 1
            print(f"photoface: error: {exc}", file=sys.stderr)
            out.append({"path": path, "error": str(exc)})
            continue
        out.append({
            "path": path, "width": r.width, "height": r.height,
            "faces": [{
                "box": [round(float(v), 1) for v in f.box], "score": round(float(f.score), 4),
                "landmarks": [[round(float(x), 1), round(float(y), 1)] for x, y in f.landmarks],
                "embedding": [round(float(v), 6) for v in f.embedding],
            } for f in r.faces],
        })
    if args.json:
        _print_json(out)
    else:
        for item in out:
            if "faces" in item:
                print(f"{item['path']}: {len(item['faces'])} faces, {lib.card.embedding_size}-d embeddings (use --json)")
    return 1 if failed else 0


def run_settings(args) -> int:
    from .config import library_path

    # Showing the settings of a library not created yet shows the defaults; only a change creates it.
    changes = (args.min_face_size, args.strictness, args.personalise, args.read_xmp, args.write_xmp)
    lib = _open(args, create=True) if any(v is not None for v in changes) else _open_for_analysis(args)
    regroup = False
    if args.min_face_size is not None:
        lib.set_min_face_size(args.min_face_size)
    if args.strictness is not None:
        lib.set_strictness(args.strictness)
        regroup = True
    if args.personalise is not None:
        lib.set_personalised(args.personalise == "on")
        regroup = True
    from . import xmp

    if args.read_xmp is not None:
        lib.db.set_setting(xmp.SETTING_READ, "1" if args.read_xmp == "on" else "0")
    if args.write_xmp is not None:
        lib.db.set_setting(xmp.SETTING_WRITE, "1" if args.write_xmp == "on" else "0")
    if regroup:
        lib.refresh()
    data = {
        "library": str(library_path(args.library)),
        "min_face_size": lib.detector_settings().min_face_size,
        "strictness": lib.strictness,
        "pair_threshold": round(lib.threshold, 4),
        "name_threshold": round(lib.name_threshold, 4),
        "group_threshold": round(lib.group_threshold, 4),
        "group_blend": lib.card.group_blend,  # nearest faces blended in before grouping (0: none)
        "group_blend_rounds": lib.card.group_blend_rounds,
        "group_blend_radius": round(lib.card.group_blend_radius * lib.strictness, 4),  # how far a blended neighbour may be
        "personalise": lib.personalised,
        "read_xmp": xmp.read_enabled(lib.db),
        "write_xmp": xmp.write_enabled(lib.db),
        "model": lib.card.version,
    }
    if args.json:
        _print_json(data)
    else:
        for key, value in data.items():
            print(f"{key.replace('_', ' ')}: {value}")
    return 0


def run_write_xmp(args) -> int:
    from .xmp.writer import write_photos

    lib = _open(args)
    people = None
    if args.people:
        targets = [lib.people.resolve(p) for p in args.people]
        if any(t.kind != "person" for t in targets):
            raise UserError("only named people's faces are written; name the group first")
        people = [t.id for t in targets]
    progress = None
    if not args.quiet:
        report = _Progress()

        def progress(done, total, path):
            from .scan import ScanProgress

            report(ScanProgress(done, total, 0, 0.0, path, phase="writing XMP"))
    summary = write_photos(lib.db, people=people, embed=args.embed, progress=progress)
    if args.json:
        _print_json(summary.to_dict())
    else:
        where = "photos" if args.embed else "sidecars"
        print(f"{len(summary.written)} {where} written, {summary.unchanged} already up to date")
        for path, reason in summary.failed:
            print(f"  {path}: not written: {reason}")
    return 1 if summary.failed else 0


def run_export(args) -> int:
    _print_json(_open(args).export())
    return 0


def _listing(args, items, line) -> int:
    """Print ``items`` as JSON, or one ``line(item)`` each."""
    if args.json:
        _print_json(items)
    else:
        for item in items:
            print(line(item))
    return 0


def run_errors(args) -> int:
    return _listing(args, _open(args).photo_errors(), lambda e: f"{e['path']}: {e['error']}")


def run_missing(args) -> int:
    def line(m):
        since = time.strftime("%Y-%m-%d %H:%M", time.localtime(m["missing_since"]))
        return f"{m['path']}: missing since {since}, {m['faces']} faces, {m['named'] or 0} named"

    return _listing(args, _open(args).missing_photos(), line)


def run_forget_missing(args) -> int:
    n = _open(args).forget_missing(args.folders or None)
    return _done(args, f"{n} missing photos forgotten", {"forgotten": n})
