"""Read the weights of dlib's face-recognition ResNet from its serialised file (NumPy only).

``dlib_face_recognition_resnet_model_v1.dat`` (public domain; in the ``face-recognition-models``
package) is dlib's own serialisation of the whole network object. Its primitives:

* an integer: one byte holding the byte count (low 4 bits) and the sign (0x80), then that many
  little-endian bytes;
* a string: its length as such an integer, then the bytes;
* a float: a mantissa and a base-2 exponent, both such integers;
* a tensor: version 2, then num_samples, k, nr, nc as integers, then the values as little-endian
  float32.

A layer object writes its name (``con_4``, ``affine_``, ``fc_2``, ...) before its fields, and
``add_layer`` writes the layer below it first, so the layers' names stand in the file from the
input upwards. Only the layers that hold weights are read, each from its name on; what lies
between them (flags, empty gradient tensors) is skipped. The reader checks every shape against
the architecture it expects, so a different file fails loudly rather than loading garbage.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass
class Conv:
    kernel: np.ndarray  # (rows, cols, in, out): Keras's layout
    bias: np.ndarray
    stride: int
    padding: int


@dataclass
class Affine:
    gamma: np.ndarray
    beta: np.ndarray


@dataclass
class DlibNet:
    input_mean: tuple[float, float, float]  # subtracted from R, G, B; then divided by 256
    convs: list[Conv]
    affines: list[Affine]
    fc: np.ndarray  # (inputs, outputs), no bias


def model_path() -> Path:
    import face_recognition_models

    return Path(face_recognition_models.face_recognition_model_location())


class _Reader:
    def __init__(self, data: bytes, pos: int = 0):
        self.data = data
        self.pos = pos

    def int(self) -> int:
        head = self.data[self.pos]
        size, negative = head & 0x0F, bool(head & 0x80)
        raw = self.data[self.pos + 1:self.pos + 1 + size]
        if size == 0 or len(raw) != size:
            raise ValueError(f"bad integer at byte {self.pos}")
        self.pos += 1 + size
        value = int.from_bytes(raw, "little")
        return -value if negative else value

    def float(self) -> float:
        mantissa = self.int()
        exponent = self.int()
        return float(mantissa) * 2.0 ** exponent

    def string(self) -> str:
        n = self.int()
        text = self.data[self.pos:self.pos + n].decode("ascii")
        self.pos += n
        return text

    def tensor(self) -> np.ndarray:
        if self.int() != 2:
            raise ValueError(f"unknown tensor version at byte {self.pos}")
        shape = tuple(self.int() for _ in range(4))
        count = int(np.prod(shape))
        values = np.frombuffer(self.data, "<f4", count, self.pos)
        self.pos += 4 * count
        return values.astype(np.float32).reshape(shape)


def _name_positions(data: bytes, names: tuple[str, ...]) -> list[tuple[int, str]]:
    """Where each layer name is written (its length byte included), in file order."""
    alternatives = b"|".join(re.escape(n.encode()) for n in names)
    found = []
    for m in re.finditer(rb"\x01([\x01-\x7f])(" + alternatives + rb")", data):
        if m.group(1)[0] == len(m.group(2)):
            found.append((m.start(), m.group(2).decode()))
    return found


def read(path: Path | str | None = None) -> DlibNet:
    """The weights of dlib's ResNet, bottom (input) to top."""
    data = Path(path or model_path()).read_bytes()
    inputs = _name_positions(data, ("input_rgb_image_sized",))
    if len(inputs) != 1:
        raise ValueError("not dlib's face-recognition network: no input_rgb_image_sized layer")
    r = _Reader(data, inputs[0][0])
    r.string()
    mean = (r.float(), r.float(), r.float())

    convs, affines, fc = [], [], None
    for pos, name in _name_positions(data, ("con_4", "affine_", "fc_2")):
        r = _Reader(data, pos)
        r.string()
        if name == "con_4":
            params = r.tensor().ravel()
            filters, rows, cols = r.int(), r.int(), r.int()
            stride_y, stride_x, pad_y, pad_x = r.int(), r.int(), r.int(), r.int()
            if stride_y != stride_x or pad_y != pad_x or rows != cols:
                raise ValueError(f"{name} at byte {pos}: non-square convolution")
            n_in = (params.size - filters) // (filters * rows * cols)
            if n_in * filters * rows * cols + filters != params.size:
                raise ValueError(f"{name} at byte {pos}: {params.size} parameters do not fit")
            # dlib: filters (out, in, rows, cols) then biases, one flat array.
            w = params[: filters * n_in * rows * cols].reshape(filters, n_in, rows, cols)
            convs.append(Conv(w.transpose(2, 3, 1, 0).copy(), params[-filters:].copy(), stride_y, pad_y))
        elif name == "affine_":
            params = r.tensor().ravel()
            k = params.size // 2
            affines.append(Affine(params[:k].copy(), params[k:].copy()))
        else:
            outputs, inputs_ = r.int(), r.int()
            params = r.tensor()
            if params.size != outputs * inputs_:
                raise ValueError(f"{name} at byte {pos}: expected {inputs_}x{outputs} weights (no bias)")
            fc = params.reshape(inputs_, outputs).copy()
    if fc is None or len(convs) != 29 or len(affines) != 29:
        raise ValueError(f"expected 29 convolutions, 29 affine layers and one fully connected layer, "
                         f"found {len(convs)}, {len(affines)}, {0 if fc is None else 1}")
    return DlibNet(mean, convs, affines, fc)
