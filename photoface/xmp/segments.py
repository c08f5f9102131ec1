"""Lossless XMP in JPEG (an APP1 segment) and PNG (an iTXt chunk): read the packet, or replace it
while copying every other byte as it was. The compressed image data is never decoded, so
``write-xmp --embed`` cannot change a single pixel.
"""

from __future__ import annotations

import struct
import zlib

JPEG_XMP = b"http://ns.adobe.com/xap/1.0/\x00"
PNG_XMP = b"XML:com.adobe.xmp"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_JPEG_PACKET = 0xFFFF - 2 - len(JPEG_XMP)  # one segment; extended XMP is not written
_MAX_TEXT = 16 << 20


class SegmentError(ValueError):
    """The file's structure is not what its format says; nothing is written."""


def kind_of(head: bytes) -> str | None:
    if head[:2] == b"\xff\xd8":
        return "jpeg"
    if head[:8] == PNG_SIGNATURE:
        return "png"
    return None


# -- JPEG -------------------------------------------------------------------------------------
def _jpeg_segments(data: bytes):
    """(marker, start, end, payload_start) of each segment before the scan data, then the
    offset where the scan (SOS) starts."""
    if data[:2] != b"\xff\xd8":
        raise SegmentError("not a JPEG file")
    pos, out = 2, []
    while True:
        while pos < len(data) and data[pos] == 0xFF and pos + 1 < len(data) and data[pos + 1] == 0xFF:
            pos += 1  # fill bytes
        if pos + 4 > len(data) or data[pos] != 0xFF:
            raise SegmentError("damaged JPEG: no image data found")
        marker = data[pos + 1]
        if marker == 0xDA:  # start of scan: the image data, copied as it is from here
            return out, pos
        if marker in (0x01, *range(0xD0, 0xD8)):
            out.append((marker, pos, pos + 2, pos + 2))
            pos += 2
            continue
        (length,) = struct.unpack(">H", data[pos + 2:pos + 4])
        end = pos + 2 + length
        if length < 2 or end > len(data):
            raise SegmentError("damaged JPEG: a segment runs past the end of the file")
        out.append((marker, pos, end, pos + 4))
        pos = end


def read_jpeg_packet(data: bytes) -> bytes | None:
    segs, _ = _jpeg_segments(data)
    for marker, _start, end, payload in segs:
        if marker == 0xE1 and data[payload:payload + len(JPEG_XMP)] == JPEG_XMP:
            return data[payload + len(JPEG_XMP):end]
    return None


def embed_jpeg(data: bytes, packet: bytes) -> bytes:
    """``data`` with its XMP replaced by ``packet`` (or added after the JFIF/Exif headers)."""
    if len(packet) > MAX_JPEG_PACKET:
        raise SegmentError(f"the XMP ({len(packet)} bytes) does not fit in one JPEG segment; use a sidecar")
    segs, sos = _jpeg_segments(data)
    new = b"\xff\xe1" + struct.pack(">H", 2 + len(JPEG_XMP) + len(packet)) + JPEG_XMP + packet
    is_xmp = [m == 0xE1 and data[p:p + len(JPEG_XMP)] == JPEG_XMP for m, _s, _e, p in segs]
    if any(is_xmp):
        at = is_xmp.index(True)
    else:
        at = 0  # after the leading APP0/APP1 run: JFIF must stay first, Exif early
        while at < len(segs) and segs[at][0] in (0xE0, 0xE1):
            at += 1
    parts = [data[:2]]
    for i, (_marker, start, end, _payload) in enumerate(segs):
        if i == at:
            parts.append(new)
        if not is_xmp[i]:  # a second standard XMP segment is invalid: dropped with the first
            parts.append(data[start:end])
    if at == len(segs):
        parts.append(new)
    parts.append(data[sos:])
    return b"".join(parts)


# -- PNG --------------------------------------------------------------------------------------
def _png_chunks(data: bytes):
    if data[:8] != PNG_SIGNATURE:
        raise SegmentError("not a PNG file")
    pos, out = 8, []
    while pos < len(data):
        if pos + 12 > len(data):
            raise SegmentError("damaged PNG: a chunk runs past the end of the file")
        length, ctype = struct.unpack(">I4s", data[pos:pos + 8])
        end = pos + 12 + length
        if end > len(data):
            raise SegmentError("damaged PNG: a chunk runs past the end of the file")
        out.append((ctype, pos, end))
        pos = end
        if ctype == b"IEND":
            break
    return out


def _itxt_xmp(body: bytes) -> bytes | None:
    keyword, sep, rest = body.partition(b"\x00")
    if keyword != PNG_XMP or not sep or len(rest) < 2:
        return None
    compressed = rest[0] == 1
    _lang, _, rest = rest[2:].partition(b"\x00")
    _translated, _, text = rest.partition(b"\x00")
    if compressed:
        d = zlib.decompressobj()
        try:
            text = d.decompress(text, _MAX_TEXT)
        except zlib.error:
            return None
        if d.unconsumed_tail:
            return None  # larger than any metadata: a zip bomb, not XMP
    return text


def read_png_packet(data: bytes) -> bytes | None:
    for ctype, start, end in _png_chunks(data):
        if ctype == b"iTXt":
            text = _itxt_xmp(data[start + 8:end - 4])
            if text is not None:
                return text
    return None


def _chunk(ctype: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + ctype + body + struct.pack(">I", zlib.crc32(ctype + body) & 0xFFFFFFFF)


def embed_png(data: bytes, packet: bytes) -> bytes:
    """``data`` with its XMP iTXt chunk replaced by ``packet`` (or added before the image data)."""
    chunks = _png_chunks(data)
    new = _chunk(b"iTXt", PNG_XMP + b"\x00\x00\x00\x00\x00" + packet)
    has = any(c == b"iTXt" and _itxt_xmp(data[s + 8:e - 4]) is not None for c, s, e in chunks)
    parts, placed = [data[:8]], False
    for ctype, start, end in chunks:
        if ctype == b"iTXt" and _itxt_xmp(data[start + 8:end - 4]) is not None:
            if not placed:
                parts.append(new)
                placed = True
            continue
        if ctype == b"IDAT" and not has and not placed:
            parts.append(new)
            placed = True
        parts.append(data[start:end])
    if not placed:
        raise SegmentError("damaged PNG: no image data found")
    parts.append(data[chunks[-1][2]:])  # anything after IEND stays, too
    return b"".join(parts)


def read_packet(f, kind: str) -> bytes | None:
    data = f.read()
    return read_jpeg_packet(data) if kind == "jpeg" else read_png_packet(data)


def embed(data: bytes, packet: bytes) -> bytes:
    kind = kind_of(data[:16])
    if kind == "jpeg":
        return embed_jpeg(data, packet)
    if kind == "png":
        return embed_png(data, packet)
    raise SegmentError("only JPEG and PNG photos can hold names written by PhotoFace; use a sidecar")
