"""Our LiteRT cascade against the mtcnn package it was exported from, on the same pixels."""

from __future__ import annotations

import os

import numpy as np
import pytest

from photoface.decode import decode_file
from photoface.detection import LANDMARK_NAMES, DetectorSettings, FaceDetector
from photoface.detection.boxes import match_boxes

from ..conftest import DATA, data_dir


@pytest.fixture(scope="module")
def mtcnn_package():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    mtcnn = pytest.importorskip("mtcnn", reason="the mtcnn package (training extra) is needed")
    return mtcnn.MTCNN()


def comparison_images(astronaut):
    images = {"astronaut": astronaut}
    folders = [DATA / "detection", DATA / "album-mini" / "test"]
    for folder in folders:
        for path in sorted(folder.glob("*.jpg")):
            images[path.name] = decode_file(path).pixels
    lfw = sorted((DATA / "lfw" / "images").glob("A*/*_0001.jpg"))[:25]
    for path in lfw:
        images[path.name] = decode_file(path).pixels
    return images


def test_boxes_and_landmarks_match_the_mtcnn_package(mtcnn_package, astronaut):
    data_dir("detection")
    # The package's defaults, on the very pixels it gets: no working-size reduction.
    ours = FaceDetector(DetectorSettings(min_face_size=20, min_working_face=20, max_working_side=10**5))
    ious, errors, unmatched, total = [], [], [], 0
    for name, img in comparison_images(astronaut).items():
        theirs = [f for f in mtcnn_package.detect_faces(img) if f["confidence"] >= 0.9]
        mine = ours.detect(img)
        total += len(theirs)
        a = np.array([[x, y, x + w, y + h] for x, y, w, h in (f["box"] for f in theirs)]).reshape(-1, 4)
        b = np.array([[x, y, x + w, y + h] for x, y, w, h in (f.box for f in mine)]).reshape(-1, 4)
        matches = match_boxes(a, b, min_iou=0.5)
        unmatched += [(name, theirs[i]["box"]) for i in set(range(len(theirs))) - {i for i, _, _ in matches}]
        for i, j, iou in matches:
            ref = np.array([theirs[i]["keypoints"][k] for k in LANDMARK_NAMES], dtype=float)
            size = max(theirs[i]["box"][2:])
            ious.append(iou)
            errors.append((np.linalg.norm(mine[j].landmarks - ref, axis=1).max(), size))
    ious, errors = np.array(ious), np.array(errors)
    assert total >= 40
    assert len(unmatched) <= 0.02 * total, unmatched
    # The cascade amplifies tiny numeric differences now and then (a different P-Net candidate
    # survives), and large images' pyramids and our resampling differ from the package's, so a
    # few faces land a little further apart.
    assert np.median(ious) >= 0.95
    assert (ious >= 0.9).mean() >= 0.95
    assert np.median(errors[:, 0]) <= 2.0  # pixels
    assert (errors[:, 0] <= np.maximum(3.0, 0.06 * errors[:, 1])).mean() >= 0.97
