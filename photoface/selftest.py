"""``photoface --self-test [IMAGE]``: is this installation (a checkout or the frozen bundle) whole?

Headless (no Qt) and quick. Without an image it loads every bundled model with the same classes
the app uses (``FaceDetector``'s MTCNN cascade, ``Embedder``, scikit-learn's NCA for
personalisation) and runs each on a synthetic input, checking output shapes against the networks'
geometry and the embeddings against the model card (size, unit L2 norm). With an image it
detects, aligns and embeds its faces as a scan would (``Analyser``) and prints them with timings.

Every check prints one line, ``ok`` or ``FAIL``; the exit status is 0 only if all passed.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

NORM_TOLERANCE = 1e-3  # the card says "L2 normalised": raw model outputs must be unit length


@dataclass
class Report:
    out: object = None  # a writable text stream; None: sys.stdout at the time of writing
    failures: list[str] = field(default_factory=list)

    def line(self, text: str = "") -> None:
        print(text, file=self.out or sys.stdout, flush=True)

    def check(self, name: str, ok: bool, detail: str = "") -> bool:
        self.line(f"  {'ok  ' if ok else 'FAIL'} {name}{': ' + detail if detail else ''}")
        if not ok:
            self.failures.append(f"{name}: {detail}" if detail else name)
        return ok


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def _where(report: Report, model_dir: Path) -> None:
    from . import __version__
    from .decode import readable_formats

    frozen = getattr(sys, "frozen", False)
    report.line(
        f"photoface {__version__} ({'frozen bundle' if frozen else 'Python ' + platform.python_version()}"
        f", {platform.system()} {platform.machine()})"
    )
    report.line(f"models: {model_dir}")
    report.line(f"photo formats: {', '.join(readable_formats())}")


def check_models(report: Report, model_dir: Path | None = None, seed: int = 0) -> None:
    """Load every model and run it on synthetic input; record what fails in ``report``."""
    from .detection import FaceDetector
    from .detection.cascade import PNET_CELL, PNET_STRIDE
    from .embedder import CARD_NAME, Embedder, ModelCard
    from .errors import PhotoFaceError

    rng = np.random.default_rng(seed)
    model_dir = Path(model_dir) if model_dir else _default_models()

    # -- detector: the three MTCNN networks ----------------------------------------------------
    report.line("detector (MTCNN over LiteRT):")
    t = time.perf_counter()
    try:
        detector = FaceDetector(model_dir=model_dir)
    except PhotoFaceError as exc:
        report.check("load pnet/rnet/onet", False, str(exc))
        detector = None
    else:
        report.check("load pnet/rnet/onet", True, _ms(time.perf_counter() - t))
    if detector is not None:
        cascade = detector.cascade
        h, w = 60, 80  # P-Net is fully convolutional: a 12x12 window every 2 pixels
        grid = ((h - PNET_CELL) // PNET_STRIDE + 1, (w - PNET_CELL) // PNET_STRIDE + 1)
        cases = [
            ("pnet", cascade.pnet, (1, h, w, 3), [(1, *grid, 4), (1, *grid, 2)]),
            ("rnet", cascade.rnet, (3, 24, 24, 3), [(3, 4), (3, 2)]),
            ("onet", cascade.onet, (3, 48, 48, 3), [(3, 4), (3, 10), (3, 2)]),
        ]
        for name, model, shape, expected in cases:
            x = rng.uniform(-1.0, 1.0, shape).astype(np.float32)
            t = time.perf_counter()
            try:
                outs = model(x)
            except Exception as exc:  # noqa: BLE001 - a broken native library surfaces here
                report.check(f"{name} run", False, f"{type(exc).__name__}: {exc}")
                continue
            dt = time.perf_counter() - t
            shapes = [tuple(o.shape) for o in outs]
            if not report.check(f"{name} {shape} -> {shapes}", shapes == expected,
                                _ms(dt) if shapes == expected else f"expected {expected}"):
                continue
            scores = outs[-1]  # face / not-face probabilities (softmax)
            sums = scores.sum(axis=-1)
            report.check(f"{name} scores are probabilities",
                         bool(np.all(np.isfinite(scores)) and np.all(scores >= 0)
                              and np.allclose(sums, 1.0, atol=1e-4)),
                         f"sums in [{sums.min():.5f}, {sums.max():.5f}]")
        # The whole cascade (pyramid, NMS, regression, crops) on a synthetic photo.
        photo = rng.integers(0, 256, (240, 320, 3), dtype=np.uint8)
        t = time.perf_counter()
        try:
            faces = detector.detect(photo)
        except Exception as exc:  # noqa: BLE001
            report.check("cascade on a 320x240 noise image", False, f"{type(exc).__name__}: {exc}")
        else:
            report.check("cascade on a 320x240 noise image", True,
                         f"{len(faces)} face(s), {_ms(time.perf_counter() - t)}")

    # -- embedder: checked against its model card ---------------------------------------------
    report.line("embedder (model card):")
    try:
        card = ModelCard.load(model_dir / CARD_NAME)
    except PhotoFaceError as exc:
        report.check("model card", False, str(exc))
        return
    report.check("model card", True, f"{card.model_file}, version {card.version}, input "
                 f"{card.input_size}px, {card.embedding_size}-d {card.distance}, "
                 f"threshold {card.threshold:.4f}")
    t = time.perf_counter()
    try:
        embedder = Embedder(model_dir)  # verifies the SHA-256 and the input size
    except PhotoFaceError as exc:
        report.check("load and verify SHA-256", False, str(exc))
        return
    report.check("load and verify SHA-256", True, _ms(time.perf_counter() - t))
    n, s = 4, card.input_size
    crops = rng.integers(0, 256, (n, s, s, 3)).astype(np.float32)
    crops[1] = crops[0]  # the same crop twice must give the same embedding
    t = time.perf_counter()
    try:
        (raw,) = embedder.model(crops)
    except Exception as exc:  # noqa: BLE001
        report.check("embed", False, f"{type(exc).__name__}: {exc}")
        return
    dt = time.perf_counter() - t
    expected = (n, card.embedding_size)
    if not report.check(f"embed {crops.shape} -> {tuple(raw.shape)}", tuple(raw.shape) == expected,
                        _ms(dt) if tuple(raw.shape) == expected else f"expected {expected}"):
        return
    norms = np.linalg.norm(raw, axis=1)
    report.check("embedding norms (card: L2-normalised)",
                 bool(np.all(np.isfinite(raw)) and np.all(np.abs(norms - 1.0) < NORM_TOLERANCE)),
                 "[" + ", ".join(f"{v:.5f}" for v in norms) + "]")
    same = float(np.sum((raw[0] - raw[1]) ** 2))
    differ = float(np.sum((raw[0] - raw[2]) ** 2))
    report.check("same input -> same embedding, different input -> different",
                 same < 1e-8 and differ > 1e-6, f"distances {same:.2e} and {differ:.4f}")


def check_personalisation(report: Report, seed: int = 0) -> None:
    """scikit-learn's NCA (and SciPy under it) learns on a few synthetic people: identity in 4
    dimensions, large per-photo variation in 4 others, so that a learned metric beats plain
    distances on held-out faces and ``learn`` keeps it."""
    report.line("personalisation (scikit-learn NCA):")
    rng = np.random.default_rng(seed)
    people, photos = 8, 8
    centres = np.zeros((people, 8))
    centres[:, :4] = rng.normal(scale=0.55, size=(people, 4))
    x = np.repeat(centres, photos, 0)
    x[:, :4] += rng.normal(scale=0.08, size=(people * photos, 4))
    x[:, 4:] += rng.normal(scale=0.6, size=(people * photos, 4))
    x = (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)
    y = np.repeat(np.arange(1, people + 1), photos)
    t = time.perf_counter()
    try:
        from .metric import learn

        matrix = learn(x, y, max_iter=5)
    except Exception as exc:  # noqa: BLE001 - a missing SciPy module in a bundle surfaces here
        report.check("learn a metric", False, f"{type(exc).__name__}: {exc}")
        return
    ok = matrix is not None and matrix.shape == (8, 8) and bool(np.all(np.isfinite(matrix)))
    report.check("learn a metric", ok, f"{None if matrix is None else matrix.shape}, "
                 f"{_ms(time.perf_counter() - t)}")


def check_image(report: Report, path: str, model_dir: Path | None = None) -> None:
    """Detect, align and embed the faces of one photo, as a scan does, and print them."""
    from .analyse import Analyser
    from .errors import PhotoFaceError

    report.line(f"image: {path}")
    t = time.perf_counter()
    try:
        analyser = Analyser(model_dir=model_dir)
    except PhotoFaceError as exc:
        report.check("load models", False, str(exc))
        return
    load = time.perf_counter() - t
    t = time.perf_counter()
    result = analyser.analyse(str(path))
    total = time.perf_counter() - t
    if result.error:
        report.check("analyse", False, result.error)
        return
    stages = ", ".join(f"{k} {_ms(v)}" for k, v in result.seconds.items())
    report.line(f"  {result.width}x{result.height}, {len(result.faces)} face(s); "
                f"load models {_ms(load)}; {stages}; total {_ms(total)}")
    for i, face in enumerate(result.faces, 1):
        x, y, w, h = face.box
        norm = float(np.linalg.norm(face.embedding))
        report.line(f"  face {i}: box [{x:.0f}, {y:.0f}, {w:.0f}, {h:.0f}] score {face.score:.3f} "
                    f"embedding {face.embedding.shape[0]}-d norm {norm:.4f} "
                    f"[{', '.join(f'{v:+.3f}' for v in face.embedding[:4])}, ...]")
    dims = {f.embedding.shape for f in result.faces}
    report.check("embeddings match the card",
                 all(abs(float(np.linalg.norm(f.embedding)) - 1) < NORM_TOLERANCE for f in result.faces)
                 and dims <= {(analyser.embedder.card.embedding_size,)},
                 f"{len(result.faces)} face(s)")


def _default_models() -> Path:
    from .config import models_dir

    return models_dir()


def run(image: str | os.PathLike | None = None, model_dir: Path | str | None = None, out=None) -> int:
    """The self-test; 0 if every check passed, else 1 (a missing image: 2)."""
    report = Report(out)
    model_dir = Path(model_dir) if model_dir else _default_models()
    t0 = time.perf_counter()
    _where(report, model_dir)
    if image is not None:
        if not Path(image).is_file():
            print(f"photoface: error: no such image: {image}", file=sys.stderr)
            return 2
        check_image(report, str(image), model_dir)
    else:
        check_models(report, model_dir)
        check_personalisation(report)
    elapsed = time.perf_counter() - t0
    if report.failures:
        report.line(f"self-test FAILED ({len(report.failures)} check(s)) in {elapsed:.2f} s")
        return 1
    report.line(f"self-test passed in {elapsed:.2f} s")
    return 0
