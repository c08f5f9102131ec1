"""XMP packets: face regions out of one (MWG and Microsoft), PhotoFace's regions into one.

RDF lets a struct be written three ways (``rdf:parseType="Resource"``, a nested
``rdf:Description``, or attributes), and apps use all of them, so reading walks structs by what
they contain rather than by one layout. Writing merges into the packet that is there: other tags
and other apps' regions stay; the regions PhotoFace wrote before (marked ``photoface:Source``) are
replaced.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from io import BytesIO

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

X = "adobe:ns:meta/"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
MWGRS = "http://www.metadataworkinggroup.com/schemas/regions/"
STAREA = "http://ns.adobe.com/xmp/sType/Area#"
STDIM = "http://ns.adobe.com/xap/1.0/sType/Dimensions#"
MP = "http://ns.microsoft.com/photo/1.2/"
MPRI = "http://ns.microsoft.com/photo/1.2/t/RegionInfo#"
MPREG = "http://ns.microsoft.com/photo/1.2/t/Region#"
PF = "http://ns.photoface.app/xmp/1.0/"
SOURCE = "PhotoFace"

PREFIXES = {"x": X, "rdf": RDF, "mwg-rs": MWGRS, "stArea": STAREA, "stDim": STDIM, "MP": MP,
            "MPRI": MPRI, "MPReg": MPREG, "photoface": PF}
MAX_PACKET = 16 << 20  # a larger "packet" is not metadata; refuse it before parsing

_PACKET_HEAD = '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
_PACKET_TAIL = '\n<?xpacket end="w"?>'


class XmpError(ValueError):
    """An XMP packet that cannot be used; the message is one line for the user."""


@dataclass(frozen=True)
class Region:
    """A named face region, normalised to the stored image (x, y = top-left corner)."""

    name: str
    x: float
    y: float
    w: float
    h: float
    kind: str = "mwg"  # "mwg" | "microsoft"
    ours: bool = False  # written by PhotoFace

    @property
    def box(self) -> tuple[float, float, float, float]:
        return self.x, self.y, self.w, self.h


def _q(ns: str, name: str) -> str:
    return f"{{{ns}}}{name}"


def parse(data: bytes | str) -> ET.Element:
    """The packet's XML tree, parsed safely (no entities, no external references)."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    if len(data) > MAX_PACKET:
        raise XmpError(f"XMP of {len(data) >> 20} MB is too large to be metadata; ignored")
    data = data.strip(b"\x00 \t\r\n")
    try:
        return SafeET.fromstring(data, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise XmpError(f"XMP refused: it declares XML entities or external references ({type(exc).__name__})") from None
    except ET.ParseError as exc:
        raise XmpError(f"XMP is not valid XML ({exc})") from None


# -- reading --------------------------------------------------------------------------------
def _fields(node: ET.Element) -> dict:
    """A struct's fields by qualified name: elements, or strings for attribute-form fields."""
    out: dict = {}
    holders = [node] + [c for c in node if c.tag == _q(RDF, "Description")]
    for h in holders:
        for k, v in h.attrib.items():
            if not k.startswith(f"{{{RDF}}}"):
                out.setdefault(k, v)
    children = list(node) if node.get(_q(RDF, "parseType")) == "Resource" else []
    for h in holders[1:]:
        children += list(h)
    for c in children:
        out.setdefault(c.tag, c)
    return out


def _text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip()
    if value.get(_q(RDF, "resource")) is not None:
        return value.get(_q(RDF, "resource")).strip()
    for li in value.iter(_q(RDF, "li")):  # a language alternative: its first entry
        return (li.text or "").strip()
    return (value.text or "").strip()


def _items(node) -> list[ET.Element]:
    """The rdf:li of an array property (Bag, Seq or Alt)."""
    if node is None or isinstance(node, str):
        return []
    for arr in node.iter():
        if arr.tag in (_q(RDF, "Bag"), _q(RDF, "Seq"), _q(RDF, "Alt")):
            return [li for li in arr if li.tag == _q(RDF, "li")]
    return []


def _number(value) -> float:
    return float(_text(value))


def _clean_box(x, y, w, h):
    """Clamp to the image; None for a box that is empty or lies outside it."""
    x0, y0 = max(0.0, x), max(0.0, y)
    x1, y1 = min(1.0, x + w), min(1.0, y + h)
    if not (x1 > x0 and y1 > y0):
        return None
    return x0, y0, x1 - x0, y1 - y0


def read_regions(root: ET.Element) -> list[Region]:
    """Named face regions of a parsed packet: MWG first, then Microsoft. Unnamed regions, regions
    of other kinds (pets, focus) and regions with unreadable areas are left out."""
    out: list[Region] = []
    for regions in root.iter(_q(MWGRS, "Regions")):
        for li in _items(_fields(regions).get(_q(MWGRS, "RegionList"))):
            f = _fields(li)
            name, kind = _text(f.get(_q(MWGRS, "Name"))), _text(f.get(_q(MWGRS, "Type")))
            area = f.get(_q(MWGRS, "Area"))
            if not name or (kind and kind.lower() != "face") or area is None or isinstance(area, str):
                continue
            a = _fields(area)
            unit = _text(a.get(_q(STAREA, "unit")))
            if unit and unit.lower() != "normalized":
                continue
            try:
                cx, cy = _number(a[_q(STAREA, "x")]), _number(a[_q(STAREA, "y")])
                w, h = _number(a[_q(STAREA, "w")]), _number(a[_q(STAREA, "h")])
            except (KeyError, TypeError, ValueError):
                continue
            box = _clean_box(cx - w / 2, cy - h / 2, w, h)  # MWG: x, y are the centre
            if box:
                out.append(Region(name, *box, kind="mwg", ours=_text(f.get(_q(PF, "Source"))) == SOURCE))
    for info in root.iter(_q(MP, "RegionInfo")):
        for li in _items(_fields(info).get(_q(MPRI, "Regions"))):
            f = _fields(li)
            name, rect = _text(f.get(_q(MPREG, "PersonDisplayName"))), _text(f.get(_q(MPREG, "Rectangle")))
            if not name or not rect:
                continue
            try:
                x, y, w, h = (float(v) for v in rect.split(","))
            except ValueError:
                continue
            box = _clean_box(x, y, w, h)  # Microsoft: x, y are the top-left corner
            if box:
                out.append(Region(name, *box, kind="microsoft", ours=_text(f.get(_q(PF, "Source"))) == SOURCE))
    return out


def regions_of(data: bytes | str) -> list[Region]:
    return read_regions(parse(data))


# -- writing --------------------------------------------------------------------------------
def _register(data: bytes | None) -> None:
    """Keep the prefixes the packet uses (ElementTree would otherwise write ns0:, ns1:, ...)."""
    names = dict(PREFIXES)
    if data:
        try:
            for _, (prefix, uri) in SafeET.iterparse(BytesIO(data), events=("start-ns",)):
                if prefix and uri not in PREFIXES.values():
                    names.setdefault(prefix, uri)
        except Exception:  # parse() has already accepted it; prefixes are cosmetic
            pass
    for prefix, uri in names.items():
        try:
            ET.register_namespace(prefix, uri)
        except ValueError:
            pass


def _overlaps(a, b) -> bool:
    ix = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / (a[2] * a[3] + b[2] * b[3] - inter + 1e-12) >= 0.3


def _struct(parent: ET.Element, tag: str) -> ET.Element:
    el = ET.SubElement(parent, tag)
    el.set(_q(RDF, "parseType"), "Resource")
    return el


def _leaf(parent: ET.Element, tag: str, text) -> None:
    ET.SubElement(parent, tag).text = str(text)


def _fmt(v: float) -> str:
    return f"{v:.6f}".rstrip("0").rstrip(".") or "0"


def _container(prop: ET.Element) -> ET.Element:
    """Where a struct property's fields go, whichever way it was written."""
    if prop.get(_q(RDF, "parseType")) == "Resource":
        return prop
    for c in prop:
        if c.tag == _q(RDF, "Description"):
            return c
    if len(prop) == 0:
        prop.set(_q(RDF, "parseType"), "Resource")
    return prop


def _array(container: ET.Element, tag: str) -> ET.Element:
    """The rdf:Bag of the array field ``tag`` of ``container`` (created if missing)."""
    prop = next((c for c in container if c.tag == tag), None)
    if prop is None:
        prop = ET.SubElement(container, tag)
    bag = next((c for c in prop.iter() if c.tag in (_q(RDF, "Bag"), _q(RDF, "Seq"))), None)
    if bag is None:
        bag = ET.SubElement(prop, _q(RDF, "Bag"))
    return bag


def _drop(bag: ET.Element, mine: list[Region], read_li) -> int:
    """Remove PhotoFace's earlier regions, and other regions that say what one of ours says (same
    name over the same face: a copy another tool kept); returns how many are left."""
    left = 0
    for li in list(bag):
        r = read_li(li)
        if r is not None and (r.ours or any(r.name.casefold() == m.name.casefold() and _overlaps(r.box, m.box)
                                            for m in mine)):
            bag.remove(li)
        else:
            left += 1
    return left


def _one(li, struct_tag: str, list_tag: str) -> Region | None:
    """The region a list item of ``struct_tag``'s ``list_tag`` array says, read as read_regions would."""
    wrapper = ET.Element(struct_tag, {_q(RDF, "parseType"): "Resource"})
    ET.SubElement(ET.SubElement(wrapper, list_tag), _q(RDF, "Bag")).append(li)
    found = read_regions(wrapper)
    return found[0] if found else None


def _bag(rdf: ET.Element, struct_tag: str, list_tag: str, regions: list[Region], description):
    """The region struct (created if missing), where its fields go, and its list's bag with
    PhotoFace's earlier regions dropped, with how many other regions are left in it."""
    prop = next(rdf.iter(struct_tag), None)
    if prop is None:
        prop = _struct(description(), struct_tag)
    holder = _container(prop)
    bag = _array(holder, list_tag)
    left = _drop(bag, regions, lambda li: _one(li, struct_tag, list_tag))
    return prop, holder, bag, left


def merge(existing: bytes | None, regions: list[Region], dimensions: tuple[int, int]) -> bytes:
    """A packet holding ``regions`` (normalised, stored frame) as MWG and Microsoft regions, merged
    into ``existing`` (a packet's bytes, or None for a new one). ``dimensions`` is the stored
    image's (width, height) in pixels: MWG's AppliedToDimensions."""
    root = parse(existing) if existing else None
    _register(existing)
    if root is None:
        root = ET.Element(_q(X, "xmpmeta"))
    rdf = root if root.tag == _q(RDF, "RDF") else next(root.iter(_q(RDF, "RDF")), None)
    if rdf is None:
        rdf = ET.SubElement(root, _q(RDF, "RDF"))

    def description() -> ET.Element:
        d = ET.SubElement(rdf, _q(RDF, "Description"))
        d.set(_q(RDF, "about"), "")
        return d

    # MWG regions
    prop, holder, bag, left = _bag(rdf, _q(MWGRS, "Regions"), _q(MWGRS, "RegionList"), regions, description)
    if left or regions:
        for old in [c for c in holder if c.tag == _q(MWGRS, "AppliedToDimensions")]:
            holder.remove(old)
        for k in [k for k in holder.attrib if k.startswith(f"{{{STDIM}}}")]:
            del holder.attrib[k]
        dims = _struct(holder, _q(MWGRS, "AppliedToDimensions"))
        holder.remove(dims)
        holder.insert(0, dims)  # before the list, as exiftool and digiKam write it
        _leaf(dims, _q(STDIM, "w"), dimensions[0])
        _leaf(dims, _q(STDIM, "h"), dimensions[1])
        _leaf(dims, _q(STDIM, "unit"), "pixel")
        for r in regions:
            li = _struct(bag, _q(RDF, "li"))
            area = _struct(li, _q(MWGRS, "Area"))
            for k, v in (("x", r.x + r.w / 2), ("y", r.y + r.h / 2), ("w", r.w), ("h", r.h)):
                _leaf(area, _q(STAREA, k), _fmt(v))
            _leaf(area, _q(STAREA, "unit"), "normalized")
            _leaf(li, _q(MWGRS, "Name"), r.name)
            _leaf(li, _q(MWGRS, "Type"), "Face")
            _leaf(li, _q(PF, "Source"), SOURCE)
    else:
        _remove(rdf, prop)

    # Microsoft regions
    prop, _, bag, left = _bag(rdf, _q(MP, "RegionInfo"), _q(MPRI, "Regions"), regions, description)
    if left or regions:
        for r in regions:
            li = _struct(bag, _q(RDF, "li"))
            _leaf(li, _q(MPREG, "PersonDisplayName"), r.name)
            _leaf(li, _q(MPREG, "Rectangle"), ", ".join(_fmt(v) for v in r.box))
            _leaf(li, _q(PF, "Source"), SOURCE)
    else:
        _remove(rdf, prop)

    for d in [d for d in rdf if d.tag == _q(RDF, "Description")]:
        if len(d) == 0 and all(k.startswith(f"{{{RDF}}}") for k in d.attrib):
            rdf.remove(d)  # emptied by removing our regions
    ET.indent(root, " ")
    return (_PACKET_HEAD + ET.tostring(root, encoding="unicode") + _PACKET_TAIL).encode("utf-8")


def _remove(rdf: ET.Element, prop: ET.Element) -> None:
    for parent in rdf.iter():
        if prop in list(parent):
            parent.remove(prop)
            return
