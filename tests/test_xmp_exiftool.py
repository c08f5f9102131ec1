"""Names travel both ways, checked with exiftool as the independent client: regions exiftool
writes (as digiKam, Picasa and Lightroom do) name faces on scan; names given in PhotoFace come
back out of ``write-xmp`` where exiftool reads them, over the right face, in every orientation.
The photos themselves are never changed unless ``--embed`` is asked for."""

from __future__ import annotations

import json
import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image

from photoface.cli import main

from .conftest import data_dir
from .test_xmp import BOMB, TO_STORED, stored_image

EXIFTOOL = shutil.which("exiftool")
needs_exiftool = pytest.mark.skipif(
    EXIFTOOL is None, reason="exiftool is not installed (Debian: apt-get install libimage-exiftool-perl; .ci/run does this)")


def exiftool(*args) -> str:
    done = subprocess.run([EXIFTOOL, *map(str, args)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def read_regions(path) -> dict:
    """exiftool's view: {"mwg": {name: (x, y, w, h) top-left}, "ms": {...}, "dims": (w, h)}."""
    (info,) = json.loads(exiftool("-j", "-struct", "-XMP:RegionInfo", "-XMP:RegionInfoMP", path))
    mwg = info.get("RegionInfo", {})
    out = {"mwg": {}, "ms": {}, "dims": None}
    for r in mwg.get("RegionList", []):
        a = r["Area"]
        out["mwg"][r["Name"]] = (a["X"] - a["W"] / 2, a["Y"] - a["H"] / 2, a["W"], a["H"])
    if "AppliedToDimensions" in mwg:
        out["dims"] = (mwg["AppliedToDimensions"]["W"], mwg["AppliedToDimensions"]["H"])
    for r in info.get("RegionInfoMP", {}).get("Regions", []):
        out["ms"][r["PersonDisplayName"]] = tuple(float(v) for v in str(r["Rectangle"]).split(","))
    return out


def mwg_region(name, box) -> str:
    x, y, w, h = box
    return (f"{{Area={{X={x + w / 2:.6f},Y={y + h / 2:.6f},W={w:.6f},H={h:.6f},Unit=normalized}},"
            f"Name={name},Type=Face}}")


def iou(a, b) -> float:
    ix = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    return ix * iy / (a[2] * a[3] + b[2] * b[3] - ix * iy)


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def faces(capsys, lib) -> list[dict]:
    return json.loads(run(capsys, "faces", "--library", lib, "--json")[1])


def detected_boxes(path) -> list[tuple]:
    from photoface.decode import decode_file
    from photoface.detection import FaceDetector

    image = decode_file(path, max_side=1600)
    return sorted((tuple(map(float, f.box)) for f in FaceDetector().detect(image)), key=lambda b: b[0])


def normalised(box, size):
    return box[0] / size[0], box[1] / size[1], box[2] / size[0], box[3] / size[1]


def snapshot(folder) -> dict:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.suffix != ".xmp"}


@needs_exiftool
def test_regions_exiftool_wrote_name_faces_on_scan(tmp_path, capsys):
    src = data_dir("album-mini", "test", "obama_and_biden.jpg")
    photos = tmp_path / "photos"
    photos.mkdir()
    for name in ("embedded.jpg", "ms.jpg", "mwg.jpg"):
        shutil.copy(src, photos / name)
    size = Image.open(src).size
    left, middle, _small = (normalised(b, size) for b in detected_boxes(src))
    # MWG regions embedded in the JPEG, with a person the detector does not see (top-left corner).
    exiftool("-q", "-overwrite_original",
             f"-RegionInfo={{AppliedToDimensions={{W={size[0]},H={size[1]},Unit=pixel}},RegionList=["
             f"{mwg_region('Barack Obama', middle)},{mwg_region('Back Ground', (0.02, 0.02, 0.1, 0.14))}]}}",
             photos / "embedded.jpg")
    # Microsoft regions in a photo.xmp sidecar (Windows Photo Gallery, exiftool's default name).
    x, y, w, h = left
    exiftool("-q", f"-RegionInfoMP={{Regions=[{{PersonDisplayName=Joe Biden,Rectangle={x:.6f}|, {y:.6f}|, "
                   f"{w:.6f}|, {h:.6f}}}]}}", photos / "ms.xmp")
    # MWG regions in a photo.jpg.xmp sidecar (digiKam's name): the same person again.
    exiftool("-q", f"-RegionInfo={{RegionList=[{mwg_region('Barack Obama', middle)}]}}", photos / "mwg.jpg.xmp")
    before = snapshot(photos)

    lib = tmp_path / "lib.sqlite3"
    code, out, _ = run(capsys, "scan", "--library", lib, "--workers", "1", photos)
    assert code == 0 and "4 faces named from the photos' metadata" in out
    # Confirmed: the names read (recognition then suggests them for the same faces in other copies).
    named = [(f["path"].rsplit("/", 1)[1], f["person"], f["state"], f["score"], f["box"]) for f in faces(capsys, lib)
             if f["state"] == "confirmed"]
    obama = sorted(n for n in named if n[1] == "Barack Obama")
    assert [n[0] for n in obama] == ["embedded.jpg", "mwg.jpg"]  # one person, both photos
    assert all(n[2] == "confirmed" and n[3] > 0.5 and iou(normalised(n[4], size), middle) > 0.9 for n in obama)
    (biden,) = [n for n in named if n[1] == "Joe Biden"]
    assert biden[0] == "ms.jpg" and iou(normalised(biden[4], size), left) > 0.9
    (background,) = [n for n in named if n[1] == "Back Ground"]  # a face of its own, from the region
    assert background[0] == "embedded.jpg" and background[3] == 0.0
    assert iou(normalised(background[4], size), (0.02, 0.02, 0.1, 0.14)) > 0.95
    people = json.loads(run(capsys, "people", "--library", lib, "--json", "--no-groups")[1])
    assert sorted(p["name"] for p in people) == ["Back Ground", "Barack Obama", "Joe Biden"]
    assert snapshot(photos) == before  # reading never writes

    code, out, _ = run(capsys, "undo", "--library", lib)
    assert "named 4 faces from photos' metadata" in out
    after = faces(capsys, lib)
    assert not [f for f in after if f["person"]]
    assert len(after) == 9  # the face added from a region went with the undo
    assert all(f["state"] == "auto" for f in after)  # every face still shows, in a group


@needs_exiftool
def test_names_travel_both_ways_in_every_orientation(tmp_path, capsys, astronaut):
    upright = Image.fromarray(astronaut[:360])  # not square: quarter turns swap width and height
    (face,) = detected_boxes_of(upright, tmp_path)
    W, H = upright.size
    photos = tmp_path / "photos"
    photos.mkdir()
    stored_face = {}
    for o in range(1, 9):
        stored = stored_image(upright, o)
        mask = Image.new("L", upright.size)
        mask.paste(255, tuple(round(v) for v in (face[0], face[1], face[0] + face[2], face[1] + face[3])))
        mask = mask.transpose(TO_STORED[o]) if TO_STORED[o] is not None else mask
        x0, y0, x1, y1 = mask.getbbox()
        sw, sh = stored.size
        stored_face[o] = ((x0 / sw, y0 / sh, (x1 - x0) / sw, (y1 - y0) / sh), (sw, sh))
        path = photos / f"o{o}.jpg"
        stored.save(path, quality=95, exif=stored.info["exif"])
        exiftool("-q", "-overwrite_original",
                 f"-RegionInfo={{RegionList=[{mwg_region(f'Person {o}', stored_face[o][0])}]}}", path)
    before = snapshot(photos)

    lib = tmp_path / "lib.sqlite3"
    assert run(capsys, "scan", "--library", lib, "--workers", "1", photos)[0] == 0
    found = faces(capsys, lib)
    for o in range(1, 9):
        # The astronaut's face (a mirrored photo may show the detector another, smaller "face").
        f = max((f for f in found if f["path"].endswith(f"/o{o}.jpg")), key=lambda f: iou(f["box"], face))
        assert f["person"] == f"Person {o}" and f["score"] > 0.5, f"orientation {o}: {f}"  # the detected face
        assert iou(f["box"], face) > 0.8, f"orientation {o}"

    # Names given in PhotoFace come back out where exiftool finds them, over the face.
    for o in range(1, 9):
        assert run(capsys, "name", "--library", lib, f"Person {o}", f"Named {o}")[0] == 0
    code, out, _ = run(capsys, "write-xmp", "--library", lib, "--quiet")
    assert code == 0 and out.startswith("8 sidecars written")
    for o in range(1, 9):
        regions = read_regions(photos / f"o{o}.jpg.xmp")
        box, dims = stored_face[o]
        assert regions["dims"] == dims, f"orientation {o}"
        assert iou(regions["mwg"][f"Named {o}"], box) > 0.9, f"orientation {o}: {regions}"
        assert iou(regions["ms"][f"Named {o}"], box) > 0.9, f"orientation {o}"
    assert snapshot(photos) == before  # sidecars only: the photos are untouched


def detected_boxes_of(image: Image.Image, tmp_path) -> list[tuple]:
    path = tmp_path / "upright.png"
    image.save(path)
    return detected_boxes(path)


@needs_exiftool
def test_write_xmp_merges_into_the_sidecar_there_and_replaces_only_its_own(tmp_path, capsys, astronaut):
    photos = tmp_path / "photos"
    photos.mkdir()
    for name in ("a.jpg", "b.jpg"):
        Image.fromarray(astronaut).save(photos / name, quality=92)
    lib = tmp_path / "lib.sqlite3"
    assert run(capsys, "scan", "--library", lib, "--workers", "1", photos)[0] == 0
    (group,) = json.loads(run(capsys, "people", "--library", lib, "--json")[1])
    assert run(capsys, "name", "--library", lib, group["id"], "Eileen Collins")[0] == 0
    # Another app's sidecar for a.jpg, named photo.xmp, with a keyword and its own region.
    exiftool("-q", "-XMP-dc:Subject=holiday",
             f"-RegionInfo={{RegionList=[{mwg_region('Someone Else', (0.7, 0.7, 0.2, 0.2))}]}}", photos / "a.xmp")
    before = snapshot(photos)

    code, out, _ = run(capsys, "write-xmp", "--library", lib, "--quiet")
    assert code == 0 and out.startswith("2 sidecars written")
    assert sorted(p.name for p in photos.glob("*.xmp")) == ["a.xmp", "b.jpg.xmp"]  # each photo's own name
    a = read_regions(photos / "a.xmp")
    assert set(a["mwg"]) == {"Someone Else", "Eileen Collins"} and set(a["ms"]) == {"Eileen Collins"}
    assert "holiday" in exiftool("-XMP-dc:Subject", photos / "a.xmp")

    assert run(capsys, "name", "--library", lib, "Eileen Collins", "Eileen M. Collins")[0] == 0
    assert run(capsys, "write-xmp", "--library", lib, "--quiet")[1].startswith("2 sidecars written")
    assert set(read_regions(photos / "a.xmp")["mwg"]) == {"Someone Else", "Eileen M. Collins"}
    assert set(read_regions(photos / "b.jpg.xmp")["ms"]) == {"Eileen M. Collins"}
    assert run(capsys, "write-xmp", "--library", lib, "--quiet")[1].startswith("0 sidecars written, 2 already")
    assert snapshot(photos) == before

    # With the setting on, a decision rewrites the sidecars it touched; its undo does too.
    assert run(capsys, "settings", "--library", lib, "--write-xmp", "on")[0] == 0
    (face,) = [f for f in faces(capsys, lib) if f["path"].endswith("b.jpg")]
    assert run(capsys, "reject", "--library", lib, face["id"])[0] == 0
    assert read_regions(photos / "b.jpg.xmp")["mwg"] == {}
    assert run(capsys, "undo", "--library", lib)[0] == 0
    assert set(read_regions(photos / "b.jpg.xmp")["mwg"]) == {"Eileen M. Collins"}


def test_an_entity_bomb_is_refused_in_one_line_and_the_scan_goes_on(tmp_path, capsys, astronaut):
    photos = tmp_path / "photos"
    photos.mkdir()
    Image.fromarray(astronaut).save(photos / "a.jpg")
    (photos / "a.jpg.xmp").write_text(BOMB)
    lib = tmp_path / "lib.sqlite3"
    code, out, _ = run(capsys, "scan", "--library", lib, "--workers", "1", photos)
    assert code == 0 and "1 faces found" in out
    problems = [line for line in out.splitlines() if "names not read" in line]
    assert len(problems) == 1 and "a.jpg.xmp" in problems[0] and "refused" in problems[0]


@needs_exiftool
def test_embed_writes_into_jpeg_and_png_keeping_image_data_and_refuses_others(tmp_path, capsys, astronaut):
    photos = tmp_path / "photos"
    photos.mkdir()
    Image.fromarray(astronaut).save(photos / "a.jpg", quality=90)
    exiftool("-q", "-overwrite_original", "-Artist=Jane Doe", "-XMP-dc:Subject=space", photos / "a.jpg")
    Image.fromarray(astronaut).save(photos / "b.png")
    Image.fromarray(astronaut).save(photos / "c.webp", quality=90)
    pixels = {p.name: np.asarray(Image.open(p)) for p in photos.iterdir()}
    webp = (photos / "c.webp").read_bytes()
    lib = tmp_path / "lib.sqlite3"
    assert run(capsys, "scan", "--library", lib, "--workers", "1", photos)[0] == 0
    (group,) = json.loads(run(capsys, "people", "--library", lib, "--json")[1])
    run(capsys, "name", "--library", lib, group["id"], "Eileen Collins")

    code, out, _ = run(capsys, "write-xmp", "--library", lib, "--embed", "--quiet")
    assert code == 1 and out.startswith("2 photos written")
    (refused,) = [line for line in out.splitlines() if "not written" in line]
    assert "c.webp" in refused and "JPEG and PNG" in refused
    assert (photos / "c.webp").read_bytes() == webp and not list(photos.glob("*.xmp"))
    for name in ("a.jpg", "b.png"):
        assert set(read_regions(photos / name)["mwg"]) == {"Eileen Collins"}, name
        assert np.array_equal(np.asarray(Image.open(photos / name)), pixels[name]), name
    assert "Jane Doe" in exiftool("-Artist", photos / "a.jpg") and "space" in exiftool("-XMP-dc:Subject", photos / "a.jpg")
    assert "Warning" not in exiftool("-validate", "-warning", "-a", photos / "a.jpg")
    code, out, _ = run(capsys, "scan", "--library", lib, "--workers", "1", photos)
    assert "3 unchanged" in out  # the library knows the files it rewrote


@needs_exiftool
def test_names_embedded_in_png_webp_and_tiff_are_read(tmp_path, capsys, astronaut):
    photos = tmp_path / "photos"
    photos.mkdir()
    face = (180 / 512, 40 / 512, 110 / 512, 140 / 512)
    for suffix in ("png", "webp", "tif"):
        path = photos / f"a.{suffix}"
        Image.fromarray(astronaut).save(path)
        exiftool("-q", "-overwrite_original", f"-RegionInfo={{RegionList=[{mwg_region(suffix.upper(), face)}]}}", path)
    lib = tmp_path / "lib.sqlite3"
    code, out, _ = run(capsys, "scan", "--library", lib, "--workers", "1", photos)
    assert code == 0 and "3 faces named" in out
    named = {f["path"].rsplit(".", 1)[1]: f["person"] for f in faces(capsys, lib) if f["state"] == "confirmed"}
    assert named == {"png": "PNG", "webp": "WEBP", "tif": "TIF"}
