"""Run ``.tflite`` models with LiteRT: the app's only inference engine (no TensorFlow)."""

from __future__ import annotations

import contextlib
import os
import sys
from collections import OrderedDict
from pathlib import Path

import numpy as np

from .errors import ModelError


def _load_interpreter_class():
    from ai_edge_litert.interpreter import Interpreter

    return Interpreter


class LiteModel:
    """A LiteRT model whose input batch (and, for fully convolutional nets, size) may vary.

    LiteRT re-plans memory whenever an input shape changes, so one interpreter is kept per input
    shape while their inputs total at most ``cache_elements`` values (each interpreter's memory
    grows with its input): a scan of same-sized photos then reuses them for every pyramid level.
    """

    def __init__(
        self, path: Path | str, num_threads: int = 2, cache_elements: int = 10_000_000
    ):
        self.path = Path(path)
        if not self.path.is_file():
            raise ModelError(f"model file not found: {self.path}")
        self._content = self.path.read_bytes()
        self._num_threads = max(1, int(num_threads))
        self._cache_elements = cache_elements
        self._interpreters: OrderedDict[tuple, object] = OrderedDict()
        probe = self._make()
        details = probe.get_input_details()
        if len(details) != 1:
            raise ModelError(f"{self.path.name}: expected one input, found {len(details)}")
        self.input_signature = tuple(int(d) for d in details[0]["shape_signature"])
        # Outputs keep the order of the exported Keras model ("...:0", "...:1", ...).
        outs = probe.get_output_details()
        self._output_order = sorted(range(len(outs)), key=lambda i: _name_key(outs[i]["name"]))
        self.output_signatures = [
            tuple(int(d) for d in outs[i]["shape_signature"]) for i in self._output_order
        ]

    def _make(self):
        Interpreter = _load_interpreter_class()
        try:
            with _quiet_native_stderr():
                return Interpreter(model_content=self._content, num_threads=self._num_threads)
        except (ValueError, RuntimeError) as exc:
            raise ModelError(f"{self.path.name}: cannot load model ({exc})") from exc

    def _interpreter_for(self, shape: tuple):
        it = self._interpreters.get(shape)
        if it is not None:
            self._interpreters.move_to_end(shape)
            return it
        it = self._make()
        it.resize_tensor_input(it.get_input_details()[0]["index"], list(shape))
        with _quiet_native_stderr():  # the delegate is created (and announced) here
            it.allocate_tensors()
        self._interpreters[shape] = it
        while len(self._interpreters) > 1 and self._cached_elements() > self._cache_elements:
            self._interpreters.popitem(last=False)
        return it

    def _cached_elements(self) -> int:
        return sum(int(np.prod(shape)) for shape in self._interpreters)

    def __call__(self, x: np.ndarray) -> list[np.ndarray]:
        x = np.ascontiguousarray(x, dtype=np.float32)
        it = self._interpreter_for(tuple(x.shape))
        it.set_tensor(it.get_input_details()[0]["index"], x)
        it.invoke()
        outs = it.get_output_details()
        # Copy: the interpreter reuses its output buffers on the next call.
        return [it.get_tensor(outs[i]["index"]).copy() for i in self._output_order]


    def run_batched(self, x: np.ndarray, max_batch: int = 128) -> list[np.ndarray]:
        """Run a batch of any size through a few fixed batch sizes.

        Every distinct batch size would need its own interpreter (re-planning costs far more than
        the inference), so the batch runs in chunks of ``max_batch`` and the remainder is padded
        up to the next of 1, 2, 3, 4, 6, 8, 12, 16, 24...: about 2 log2(max_batch) shapes are
        ever used, and padding wastes at most a third of a run (powers of two alone wasted up to
        half: a group photo's 5 faces and their mirror images ran as 16).
        """
        n = len(x)
        results: list[list[np.ndarray]] = []
        for start in range(0, n, max_batch):
            chunk = x[start : start + max_batch]
            m = len(chunk)
            padded = padded_batch(m)
            if padded != m:
                chunk = np.concatenate([chunk, np.zeros((padded - m, *chunk.shape[1:]), chunk.dtype)])
            results.append([out[:m] for out in self(chunk)])
        if not results:
            return [np.empty((0, *sig[1:]), np.float32) for sig in self.output_signatures]
        return [np.concatenate(parts) for parts in zip(*results)]


def padded_batch(m: int) -> int:
    """The smallest of 1, 2, 3, 4, 6, 8, 12, 16, 24, 32, ... (2^k and 3 x 2^k) that holds ``m``."""
    power = 1 << (m - 1).bit_length()
    return 3 * power // 4 if m <= 3 * power // 4 and power >= 4 else power


@contextlib.contextmanager
def _quiet_native_stderr():
    """Hide LiteRT's native "INFO: Created TensorFlow Lite XNNPACK delegate" line.

    It is written by C++ straight to file descriptor 2, so only redirecting the descriptor helps.
    """
    try:
        fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):
        yield  # no real stderr (frozen GUI app, pytest capture): nothing to hide
        return
    sys.stderr.flush()
    saved = os.dup(fd)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), fd)
            yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)


def _name_key(name: str):
    tail = name.rsplit(":", 1)[-1]
    return (0, int(tail), name) if tail.isdigit() else (1, 0, name)
