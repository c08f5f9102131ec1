"""dlib's face-recognition ResNet imported into Keras computes what dlib computes."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import data_dir
from training.teacher import dlib_available

needs_dlib = pytest.mark.skipif(not dlib_available(), reason="needs dlib and face-recognition-models (pip install -e '.[teacher]')")


@needs_dlib
def test_keras_network_matches_dlib_on_real_face_chips():
    from training.import_dlib import lfw_chips, max_difference_from_dlib

    chips = lfw_chips(24, data_dir())
    assert len(chips) >= 20
    assert max_difference_from_dlib(chips) < 1e-4


@needs_dlib
def test_reader_finds_every_layer_with_dlib_shapes():
    from training import dlib_weights

    net = dlib_weights.read()
    assert np.allclose(net.input_mean, (122.782, 117.001, 104.298), atol=1e-3)
    assert net.convs[0].kernel.shape == (7, 7, 3, 32) and net.convs[0].stride == 2
    assert [c.kernel.shape[-1] for c in net.convs[1:]] == [32] * 6 + [64] * 8 + [128] * 6 + [256] * 8
    assert net.fc.shape == (256, 128)


def test_reader_refuses_a_file_that_is_not_dlibs_network(tmp_path):
    from training import dlib_weights

    bogus = tmp_path / "model.dat"
    bogus.write_bytes(b"\x01\x05con_4" + bytes(1000))
    with pytest.raises(ValueError, match="not dlib's face-recognition network"):
        dlib_weights.read(bogus)


def test_zero_pad_add_pads_the_smaller_tensor_like_dlib():
    """A stride-2 unit's 1x1x2 output beside its 2x2x1 shortcut: a 2x2x2 sum, the block at the
    top-left of the first channels, zeros elsewhere (dlib's tt::add on different sizes)."""
    from training.backbones.dlib_resnet import ZeroPadAdd

    block = np.array([[[[5.0, 7.0]]]], np.float32)  # (1, 1, 1, 2)
    shortcut = np.arange(4, dtype=np.float32).reshape(1, 2, 2, 1)
    out = np.asarray(ZeroPadAdd()([block, shortcut]))
    assert out.shape == (1, 2, 2, 2)
    assert out[0, :, :, 0].tolist() == [[5.0, 1.0], [2.0, 3.0]]
    assert out[0, :, :, 1].tolist() == [[7.0, 0.0], [0.0, 0.0]]


@needs_dlib
def test_our_chip_from_mtcnn_landmarks_is_close_to_dlibs_own_chip():
    """The fitted template cuts nearly the chip dlib cuts with its own landmarks: on held-apart
    LFW photos the crops differ by a few grey levels on average, not by a misplaced face."""
    import dlib
    import face_recognition_models as models

    from photoface.align import align_face
    from photoface.decode import decode_file
    from photoface.detection import FaceDetector, central_face

    root = data_dir("lfw", "images")
    hog = dlib.get_frontal_face_detector()
    shape = dlib.shape_predictor(models.pose_predictor_five_point_model_location())
    detector = FaceDetector()
    diffs = []
    for path in sorted(root.glob("*/*_0002.jpg"))[:12]:
        rgb = decode_file(path).pixels
        rects = hog(rgb, 1)
        face = central_face(detector.detect(rgb), rgb.shape[1], rgb.shape[0])
        if not rects or face is None:
            continue
        theirs = dlib.get_face_chip(rgb, shape(rgb, rects[0]), 150, 0.25).astype(float)
        ours = align_face(rgb, face.landmarks, 150, "dlib-chip").astype(float)
        diffs.append(np.abs(theirs - ours).mean())
        misplaced = np.abs(theirs - align_face(rgb, face.landmarks, 150, "arcface").astype(float)).mean()
        assert diffs[-1] < misplaced
    assert len(diffs) >= 8
    assert np.median(diffs) < 20


@needs_dlib
def test_template_fit_reproduces_the_shipped_template():
    from photoface.align import TEMPLATE_DLIB_150
    from training.fit_template import fit

    got = fit(photos=40, data_root=data_dir())
    assert got["photos"] >= 30
    assert np.abs(np.asarray(got["template"]) - TEMPLATE_DLIB_150).max() < 3.0
