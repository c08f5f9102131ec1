"""XMP face regions without an outside tool: the RDF forms apps write, orientation against
Pillow's own transposes, merging, the lossless segment writer, untrusted input, import decisions."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image, ImageOps

from photoface.library import Library
from photoface.xmp import files, segments
from photoface.xmp.importer import match_regions
from photoface.xmp.orientation import to_stored, to_upright
from photoface.xmp.packet import Region, XmpError, merge, regions_of

from .library_fixtures import add_faces, assignment, identities

NS = ('xmlns:x="adobe:ns:meta/" xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
      'xmlns:mwg-rs="http://www.metadataworkinggroup.com/schemas/regions/" '
      'xmlns:stArea="http://ns.adobe.com/xmp/sType/Area#" xmlns:dc="http://purl.org/dc/elements/1.1/" '
      'xmlns:MP="http://ns.microsoft.com/photo/1.2/" xmlns:MPRI="http://ns.microsoft.com/photo/1.2/t/RegionInfo#" '
      'xmlns:MPReg="http://ns.microsoft.com/photo/1.2/t/Region#"')

# digiKam / Picasa style: nested rdf:Description, attributes for simple fields.
NESTED = f"""<x:xmpmeta {NS}><rdf:RDF><rdf:Description rdf:about="">
 <mwg-rs:Regions><rdf:Description><mwg-rs:RegionList><rdf:Bag>
  <rdf:li><rdf:Description mwg-rs:Name="Ann Lee" mwg-rs:Type="Face">
   <mwg-rs:Area stArea:x="0.5" stArea:y="0.25" stArea:w="0.2" stArea:h="0.1" stArea:unit="normalized"/>
  </rdf:Description></rdf:li>
  <rdf:li><rdf:Description mwg-rs:Name="Rex" mwg-rs:Type="Pet">
   <mwg-rs:Area stArea:x="0.5" stArea:y="0.5" stArea:w="0.2" stArea:h="0.2" stArea:unit="normalized"/>
  </rdf:Description></rdf:li>
 </rdf:Bag></mwg-rs:RegionList></rdf:Description></mwg-rs:Regions>
 <MP:RegionInfo><rdf:Description><MPRI:Regions><rdf:Bag>
  <rdf:li MPReg:PersonDisplayName="Bo Chan" MPReg:Rectangle="0.1, 0.2, 0.3, 0.4"/>
 </rdf:Bag></MPRI:Regions></rdf:Description></MP:RegionInfo>
 <dc:subject><rdf:Bag><rdf:li>holiday</rdf:li></rdf:Bag></dc:subject>
</rdf:Description></rdf:RDF></x:xmpmeta>"""

BOMB = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="">&lol4;</rdf:Description></rdf:RDF></x:xmpmeta>"""

# The stored pixels of each orientation, from upright ones: Pillow's transposes, checked below
# against ImageOps.exif_transpose so that the tests do not lean on the code they test.
TO_STORED = {1: None, 2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
             4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_90,
             7: Image.Transpose.TRANSVERSE, 8: Image.Transpose.ROTATE_270}


def stored_image(upright: Image.Image, orientation: int) -> Image.Image:
    t = TO_STORED[orientation]
    stored = upright.transpose(t) if t is not None else upright.copy()
    exif = Image.Exif()
    exif[0x0112] = orientation
    stored.info["exif"] = exif.tobytes()
    return stored


def test_both_rdf_forms_and_microsoft_regions_are_read():
    regions = regions_of(NESTED.encode())
    assert [(r.name, r.kind) for r in regions] == [("Ann Lee", "mwg"), ("Bo Chan", "microsoft")]  # the pet is not a face
    ann, bo = regions
    assert ann.box == pytest.approx((0.4, 0.2, 0.2, 0.1))  # MWG: centre -> top-left corner
    assert bo.box == pytest.approx((0.1, 0.2, 0.3, 0.4))  # Microsoft: already top-left


def test_entity_bomb_and_broken_xml_are_refused_with_one_line():
    with pytest.raises(XmpError) as bomb:
        regions_of(BOMB.encode())
    assert "refused" in str(bomb.value) and "\n" not in str(bomb.value)
    with pytest.raises(XmpError, match="not valid XML"):
        regions_of(b"<x:xmpmeta")


@pytest.mark.parametrize("orientation", range(1, 9))
def test_orientation_maps_boxes_like_pillow_transposes_pixels(orientation):
    upright = Image.new("L", (64, 40))
    upright.paste(255, (10, 5, 30, 15))  # a "face" at x 10..30, y 5..15
    stored = stored_image(upright, orientation)
    assert np.array_equal(np.asarray(ImageOps.exif_transpose(stored)), np.asarray(upright))
    sx0, sy0, sx1, sy1 = stored.getbbox()
    W, H = stored.size
    stored_box = (sx0 / W, sy0 / H, (sx1 - sx0) / W, (sy1 - sy0) / H)
    assert to_upright(stored_box, orientation) == pytest.approx((10 / 64, 5 / 40, 20 / 64, 10 / 40))
    assert to_stored((10 / 64, 5 / 40, 20 / 64, 10 / 40), orientation) == pytest.approx(stored_box)


def test_merge_keeps_other_tags_and_apps_and_replaces_its_own():
    first = merge(NESTED.encode(), [Region("Cy Dunn", 0.6, 0.6, 0.1, 0.1)], (400, 300))
    again = merge(first, [Region("Cy Dunn", 0.62, 0.6, 0.1, 0.1)], (400, 300))
    names = [(r.name, r.kind, r.ours) for r in regions_of(again)]
    assert names == [("Ann Lee", "mwg", False), ("Cy Dunn", "mwg", True),
                     ("Bo Chan", "microsoft", False), ("Cy Dunn", "microsoft", True)]
    assert regions_of(again)[1].x == pytest.approx(0.62)
    assert b"holiday" in again and b"Rex" in again  # other tags, other kinds of region
    assert merge(again, [Region("Cy Dunn", 0.62, 0.6, 0.1, 0.1)], (400, 300)) == again  # nothing to rewrite
    emptied = merge(again, [], (400, 300))
    assert [r.name for r in regions_of(emptied)] == ["Ann Lee", "Bo Chan"]


def _jpeg(**kw) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (48, 64, 3), np.uint8)).save(buf, "JPEG", **kw)
    return buf.getvalue()


def test_jpeg_packet_is_replaced_and_nothing_else_changes():
    exif = Image.Exif()
    exif[0x0112] = 6
    data = _jpeg(exif=exif.tobytes(), quality=90)
    packet = merge(None, [Region("Ann Lee", 0.1, 0.1, 0.2, 0.2)], (64, 48))
    once = segments.embed_jpeg(data, packet)
    twice = segments.embed_jpeg(once, merge(packet, [Region("Bo Chan", 0.5, 0.5, 0.2, 0.2)], (64, 48)))
    assert [r.name for r in regions_of(segments.read_jpeg_packet(twice))] == ["Bo Chan"] * 2
    assert twice.count(segments.JPEG_XMP) == 1
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(twice))), np.asarray(Image.open(io.BytesIO(data))))
    assert Image.open(io.BytesIO(twice)).getexif()[0x0112] == 6
    assert twice.endswith(data[data.index(b"\xff\xda"):])  # the scan data, byte for byte
    with pytest.raises(segments.SegmentError):
        segments.embed_jpeg(data[:200], packet)


def test_png_packet_compressed_or_not_is_read_and_replaced():
    buf = io.BytesIO()
    Image.new("RGB", (20, 10), "red").save(buf, "PNG")
    data = buf.getvalue()
    body = segments.PNG_XMP + b"\x00\x01\x00\x00\x00" + zlib.compress(NESTED.encode())
    chunk = struct.pack(">I", len(body)) + b"iTXt" + body + struct.pack(">I", zlib.crc32(b"iTXt" + body))
    compressed = data[:33] + chunk + data[33:]  # after IHDR
    assert [r.name for r in regions_of(segments.read_png_packet(compressed))] == ["Ann Lee", "Bo Chan"]
    new = segments.embed_png(compressed, merge(segments.read_png_packet(compressed), [], (20, 10)))
    Image.open(io.BytesIO(new)).load()  # CRCs are right
    assert new.count(b"iTXt") == 1 and np.array_equal(np.asarray(Image.open(io.BytesIO(new))),
                                                      np.asarray(Image.open(io.BytesIO(data))))


def test_sidecar_names_and_embedded_packets_are_found(tmp_path):
    photo = tmp_path / "p.jpg"
    photo.write_bytes(segments.embed_jpeg(_jpeg(), merge(None, [Region("Embedded", 0.1, 0.1, 0.2, 0.2)], (64, 48))))
    assert [r.name for r in files.photo_regions(photo).regions] == ["Embedded"]
    (tmp_path / "p.xmp").write_text(NESTED)
    assert [r.name for r in files.photo_regions(photo).regions] == ["Ann Lee", "Bo Chan", "Embedded"]
    (tmp_path / "p.jpg.xmp").write_text(BOMB)  # photo.jpg.xmp comes first, and is refused
    found = files.photo_regions(photo)
    assert [r.name for r in found.regions] == ["Embedded"]
    assert len(found.problems) == 1 and "p.jpg.xmp" in found.problems[0]


def test_regions_match_by_overlap_or_centre_one_face_each():
    faces = [(100, 100, 50, 60), (300, 100, 50, 60)]
    regions = [(95, 95, 60, 70), (310, 110, 10, 10), (500, 500, 40, 40), (100, 100, 50, 60)]
    assert match_regions(regions, faces) == [None, 1, None, 0]  # the exact copy wins face 0
    assert match_regions([(95, 95, 60, 70)], faces) == [0]


@pytest.fixture
def lib(tmp_path):
    return Library.open(tmp_path / "lib.sqlite3")


def test_imported_names_never_override_decisions_and_undo_in_one_step(lib):
    embs, _ = identities(2, 3)
    ids = add_faces(lib, embs)
    lib.people.move([ids[0]], new_name="Ann Lee")  # the user's decision
    lib.people.move([ids[1]], new_name="Bo Chan")
    lib.people.reject([ids[1]])  # "not Bo Chan"
    lib.people.ignore([ids[2]])
    start = lib.db.scalar("SELECT MAX(id) FROM journal")
    with lib.db.transaction() as c:
        n = lib.people.import_names(c, [(ids[0], "Someone Else"), (ids[1], "Bo Chan"), (ids[2], "Cy"),
                                        (ids[3], "ann lee")], [], "a.jpg")
    with lib.db.transaction() as c:
        n += lib.people.import_names(c, [(ids[4], "Dee Ell")], [ids[5]], "b.jpg")
    assert n == 2
    assert assignment(lib, ids[0])["name"] == "Ann Lee"  # not renamed
    assert assignment(lib, ids[1])["person_id"] != lib.people.person_by_name("Bo Chan")
    assert assignment(lib, ids[2]) is None  # still ignored
    assert assignment(lib, ids[3])["name"] == "Ann Lee" and assignment(lib, ids[3])["state"] == "confirmed"
    lib.people.squash_imports(start, "named 2 faces from photos' metadata")
    assert lib.people.undo() == "named 2 faces from photos' metadata"
    assert assignment(lib, ids[3]) is None or assignment(lib, ids[3])["state"] != "confirmed"
    assert lib.people.person_by_name("Dee Ell") is None
    assert not lib.db.query("SELECT 1 FROM faces WHERE id = ?", (ids[5],))  # the face it added is gone
    assert assignment(lib, ids[0])["name"] == "Ann Lee"
