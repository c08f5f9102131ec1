"""Face names in photos' XMP metadata: MWG and Microsoft regions, read on scan and written on request.

    packet.py       parse regions from an XMP packet; merge PhotoFace's regions into one
    orientation.py  the stored image's frame <-> the upright frame faces are kept in
    files.py        where a photo's XMP lives: embedded (JPEG, PNG, WebP, TIFF, HEIC) or a sidecar
    segments.py     lossless JPEG APP1 / PNG iTXt rewriting for ``write-xmp --embed``
    importer.py     the scan's hook: regions -> faces -> named faces (journaled decisions)
    writer.py       confirmed names -> sidecars (or embedded packets)

XMP is untrusted input: every packet is parsed with defusedxml, which refuses entity declarations
(the "billion laughs" bomb) before expanding anything. No exiv2 (GPL): stdlib XML and Pillow.
"""

from .packet import Region, XmpError

SETTING_READ = "xmp_read"  # read names from photos' metadata on scan ("1", the default, or "0")
SETTING_WRITE = "xmp_write"  # write sidecars after every decision ("1" or "0", the default)


def read_enabled(db) -> bool:
    return db.get_setting(SETTING_READ, "1") == "1"


def write_enabled(db) -> bool:
    return db.get_setting(SETTING_WRITE, "0") == "1"


__all__ = ["Region", "XmpError", "SETTING_READ", "SETTING_WRITE", "read_enabled", "write_enabled"]
