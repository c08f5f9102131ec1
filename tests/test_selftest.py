"""``photoface --self-test [IMAGE]`` (photoface/selftest.py) without the bundle: it passes on the
shipped models and fails, naming the check, when a model or its card is wrong."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import sys

import cv2
import numpy as np
import pytest

from photoface import selftest
from photoface.cli import main
from photoface.config import models_dir


def run(**kwargs) -> tuple[int, str]:
    out = io.StringIO()
    rc = selftest.run(out=out, **kwargs)
    return rc, out.getvalue()


@pytest.fixture
def models_copy(tmp_path):
    dst = tmp_path / "models"
    shutil.copytree(models_dir(), dst)
    return dst


def test_passes_on_the_shipped_models():
    rc, text = run()
    assert rc == 0, text
    assert "FAIL" not in text
    for line in ("ok   load pnet/rnet/onet",
                 "ok   pnet (1, 60, 80, 3) -> [(1, 25, 35, 4), (1, 25, 35, 2)]",
                 "ok   rnet (3, 24, 24, 3) -> [(3, 4), (3, 2)]",
                 "ok   onet (3, 48, 48, 3) -> [(3, 4), (3, 10), (3, 2)]",
                 "ok   load and verify SHA-256",
                 "ok   embed (4, 150, 150, 3) -> (4, 128)",
                 "ok   embedding norms",
                 "ok   learn a metric: (8, 8)"):
        assert line in text, text
    assert text.rstrip().splitlines()[-1].startswith("self-test passed in")
    formats = re.search(r"^photo formats: (.+)$", text, re.M).group(1).split(", ")
    assert {"JPEG", "PNG", "WebP", "BMP", "TIFF"} <= set(formats)
    try:
        import pillow_heif  # noqa: F401
    except ImportError:
        assert "HEIC" not in formats
    else:
        assert "HEIC" in formats



def test_image_prints_faces_with_timings(tmp_path, astronaut):
    photo = tmp_path / "astronaut.jpg"
    cv2.imwrite(str(photo), cv2.cvtColor(astronaut, cv2.COLOR_RGB2BGR))
    rc, text = run(image=photo)
    assert rc == 0, text
    assert "512x512, 1 face(s)" in text
    assert re.search(r"decode [\d.]+ ms, detect [\d.]+ ms, embed [\d.]+ ms; total [\d.]+ ms", text), text
    face = re.search(r"face 1: box \[(\d+), (\d+), (\d+), (\d+)\] score ([\d.]+) embedding 128-d norm ([\d.]+)", text)
    assert face, text
    x, y, w, h = map(int, face.groups()[:4])
    assert 150 < x < 220 and 30 < y < 90 and 60 < w < 120, text  # the astronaut's face
    assert float(face.group(6)) == pytest.approx(1.0, abs=1e-3)


def test_a_wrong_embedding_size_in_the_card_fails(models_copy):
    card = json.loads((models_copy / "model_card.json").read_text())
    card["embedding"]["size"] = 64
    (models_copy / "model_card.json").write_text(json.dumps(card))
    rc, text = run(model_dir=models_copy)
    assert rc == 1
    assert "FAIL embed (4, 150, 150, 3) -> (4, 128): expected (4, 64)" in text, text
    assert "self-test FAILED" in text


def test_a_model_that_does_not_match_its_card_fails(models_copy):
    card = json.loads((models_copy / "model_card.json").read_text())
    card["sha256"] = "0" * 64
    (models_copy / "model_card.json").write_text(json.dumps(card))
    rc, text = run(model_dir=models_copy)
    assert rc == 1
    assert "FAIL load and verify SHA-256: embedder.tflite does not match its model card" in text, text


def test_a_missing_detector_network_fails(models_copy):
    (models_copy / "rnet.tflite").unlink()
    rc, text = run(model_dir=models_copy)
    assert rc == 1
    assert "FAIL load pnet/rnet/onet: model file not found" in text, text
    assert "ok   load and verify SHA-256" in text  # the other checks still run


def test_cli_option(capsys, tmp_path):
    assert main(["--self-test"]) == 0
    assert "self-test passed" in capsys.readouterr().out
    assert main(["--self-test", str(tmp_path / "missing.jpg")]) == 2
    assert "photoface: error: no such image" in capsys.readouterr().err


def test_noise_photo_has_no_faces(tmp_path):
    noise = np.random.default_rng(1).integers(0, 256, (200, 300, 3), dtype=np.uint8)
    photo = tmp_path / "noise.png"
    cv2.imwrite(str(photo), noise)
    rc, text = run(image=photo)
    assert rc == 0, text
    assert "300x200, 0 face(s)" in text


def test_output_cut_short_by_a_pipe_is_not_an_error():
    # `photoface --self-test | head -n 1`: the reader leaves while the checks still print.
    proc = subprocess.run(f'"{sys.executable}" -m photoface --self-test | head -n 1', shell=True,
                          capture_output=True, text=True, timeout=300)
    assert proc.stdout.startswith("photoface ")
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr
