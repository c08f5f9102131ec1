"""The command line: ``photoface detect`` as a user runs it, in a fresh process."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import cv2
import pytest


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "photoface", *args], capture_output=True, text=True, timeout=120
    )


@pytest.fixture()
def photo(tmp_path, astronaut):
    path = tmp_path / "astronaut.jpg"
    cv2.imwrite(str(path), cv2.cvtColor(astronaut, cv2.COLOR_RGB2BGR))
    return path


def test_detect_json_lists_box_score_and_landmarks(photo):
    proc = run("detect", "--json", str(photo))
    assert proc.returncode == 0, proc.stderr
    (result,) = json.loads(proc.stdout)
    assert result["path"] == str(photo)
    assert (result["width"], result["height"]) == (512, 512)
    (face,) = result["faces"]
    assert len(face["box"]) == 4 and face["score"] > 0.99
    assert set(face["landmarks"]) == {"left_eye", "right_eye", "nose", "mouth_left", "mouth_right"}
    assert proc.stderr == ""  # no native log noise


def test_missing_file_is_reported_and_the_others_still_processed(photo, tmp_path):
    missing = tmp_path / "missing.jpg"
    proc = run("detect", "--json", str(missing), str(photo))
    assert proc.returncode == 1
    assert proc.stderr.strip() == f"photoface: error: {missing}: file not found"
    results = json.loads(proc.stdout)
    assert results[0] == {"path": str(missing), "error": "file not found"}
    assert len(results[1]["faces"]) == 1


def test_text_output(photo):
    proc = run("detect", str(photo))
    assert proc.returncode == 0
    assert "(512x512): 1 face" in proc.stdout
    assert "left_eye" in proc.stdout


def test_settings_from_the_command_line(photo):
    proc = run("detect", "--json", "--min-face-size", "300", str(photo))
    assert json.loads(proc.stdout)[0]["faces"] == []
    proc = run("detect", "--thresholds", "0.6,0.7", str(photo))
    assert proc.returncode == 2 and "three" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_version_and_help():
    assert run("--version").stdout.startswith("photoface ")
    assert "detect" in run("--help").stdout


def test_without_a_display_the_window_says_so_instead_of_crashing():
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    out = subprocess.run([sys.executable, "-m", "photoface"], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 2
    assert "no display" in out.stderr and "Traceback" not in out.stderr
    # `photoface --library F` alone also means the window (on that library), not the help text.
    out = subprocess.run([sys.executable, "-m", "photoface", "--library", "lib.sqlite3"], capture_output=True,
                         text=True, env=env, timeout=60)
    assert out.returncode == 2 and "no display" in out.stderr
