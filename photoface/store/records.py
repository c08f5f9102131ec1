"""How arrays are kept in the library: float32 bytes, little-endian."""

from __future__ import annotations

import numpy as np


def encode_array(a) -> bytes:
    return np.ascontiguousarray(a, dtype="<f4").tobytes()


def decode_array(blob: bytes, shape=(-1,)) -> np.ndarray:
    return np.frombuffer(blob, dtype="<f4").reshape(shape)
