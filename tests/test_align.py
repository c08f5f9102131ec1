"""Alignment: the five landmarks land on the template, whatever the face's pose and size."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from photoface.align import TEMPLATE_112, align_face, similarity_transform, template


def test_similarity_transform_recovers_a_known_transform():
    angle, scale, shift = np.deg2rad(17), 2.5, np.array([40.0, -12.0])
    rot = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    src = TEMPLATE_112
    dst = src @ rot.T + shift
    m = similarity_transform(src, dst)
    assert np.allclose(m[:, :2], rot, atol=1e-9)
    assert np.allclose(m[:, 2], shift, atol=1e-9)


def test_similarity_transform_never_reflects():
    mirrored = TEMPLATE_112 * [-1, 1]
    m = similarity_transform(TEMPLATE_112, mirrored)
    assert np.linalg.det(m[:, :2]) > 0


def dots_image(points: np.ndarray, radius: int, shape=(600, 800)) -> np.ndarray:
    """A black image with five differently coloured dots at ``points``."""
    img = np.zeros((*shape, 3), np.uint8)
    colours = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0), (0, 255, 255)]
    for (x, y), c in zip(points, colours):
        cv2.circle(img, (int(round(x)), int(round(y))), radius, c, -1)
    return img, colours


def dot_centres(img: np.ndarray, colours) -> np.ndarray:
    centres = []
    for c in colours:
        dist = np.abs(img.astype(int) - np.array(c)).sum(axis=2)
        ys, xs = np.nonzero(dist < 200)
        centres.append([xs.mean(), ys.mean()])
    return np.array(centres)


@pytest.mark.parametrize("size", [112, 96])
@pytest.mark.parametrize("angle, scale", [(0, 3.0), (25, 2.0), (-40, 4.0)])
def test_landmarks_land_on_the_template(size, angle, scale):
    a = np.deg2rad(angle)
    rot = scale * np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    landmarks = (TEMPLATE_112 - 56) @ rot.T + [400, 300]
    img, colours = dots_image(landmarks, radius=int(1.5 * scale) + 1)
    crop = align_face(img, landmarks, size=size)
    assert crop.shape == (size, size, 3)
    assert np.abs(dot_centres(crop, colours) - template(size)).max() < 1.5


def test_large_faces_are_shrunk_without_aliasing(astronaut, detector):
    """A 4x larger copy of the same face gives (nearly) the same crop as the original."""
    face = detector.detect(astronaut)[0]
    big = cv2.resize(astronaut, None, fx=4, fy=4, interpolation=cv2.INTER_CUBIC)
    small_crop = align_face(astronaut, face.landmarks).astype(int)
    big_crop = align_face(big, face.landmarks * 4).astype(int)
    # Upsampled by 4 and shrunk again: differences are interpolation noise only.
    assert np.abs(small_crop - big_crop).mean() < 6


def test_face_at_the_image_edge_is_padded_black(astronaut, detector):
    face = detector.detect(astronaut)[0]
    shifted = face.landmarks - [face.landmarks[:, 0].min() - 5, 0]
    crop = align_face(astronaut, shifted)
    assert crop.shape == (112, 112, 3)
    assert (crop[:, :5] == 0).all()  # left of the image is outside it


def test_frontality_is_one_for_a_frontal_face_and_falls_as_the_head_turns():
    from photoface.align import frontality, template

    marks = template(112)
    assert frontality(marks) > 0.95
    turned = marks.copy()
    turned[2, 0] += 0.25 * (marks[1, 0] - marks[0, 0])  # nose a quarter eye distance aside
    assert 0.4 < frontality(turned) < 0.6
    turned[2, 0] += 0.5 * (marks[1, 0] - marks[0, 0])  # a profile
    assert frontality(turned) == 0.0
    assert frontality(np.zeros((5, 2))) == 0.0  # degenerate landmarks: no crash
