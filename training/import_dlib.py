"""Import dlib's public-domain face-recognition ResNet as a Keras run (training time only).

    python -m training.import_dlib [--out runs/dlib] [--check]

Reads ``dlib_face_recognition_resnet_model_v1.dat`` from the ``face-recognition-models`` package
(``training.dlib_weights``), builds the same network in Keras (``training.backbones.dlib_resnet``)
and saves it as a run folder (``model.keras`` + ``config.json``) that ``training.export`` turns
into the app's model and that a fine-tune starts from (``--init-from``).

dlib's model files are in the public domain: "anyone can do whatever they want with these model
files" (dlib-models README). Davis King trained this network on about 3 million faces of 7,485
people chosen to avoid LFW's.

``--check`` compares the Keras network with dlib's own ``compute_face_descriptor`` on chips of
LFW photos (needs ``dlib``) and prints the largest difference.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

LINEAGE = {
    "network": "dlib_face_recognition_resnet_model_v1 (dlib's dnn_face_recognition_ex.cpp ResNet, "
               "29 convolutions, 128-d output)",
    "source": "face-recognition-models package (dlib-models), read by training.dlib_weights",
    "licence": "public domain (dlib-models README: anyone can do whatever they want with these model files)",
    "trained_by": "Davis King, on about 3 million faces of 7,485 people chosen to avoid LFW's",
}


def import_config(out_dir: Path) -> dict:
    """The run's config: what the model card's training section says of an imported network."""
    return {
        "name": "dlib-resnet",
        "backbone": "dlib_resnet",
        "input_size": 150,
        "template": "dlib-chip",
        "embedding_size": 128,
        "imported": LINEAGE,
        "out_dir": str(out_dir),
    }


def import_dlib(out_dir: Path, path: Path | None = None):
    from .backbones.dlib_resnet import dlib_resnet

    model = dlib_resnet(path)
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save(out_dir / "model.keras")
    (out_dir / "config.json").write_text(json.dumps(import_config(out_dir), indent=2) + "\n")
    return model


def lfw_chips(count: int = 20, data_root: Path | None = None) -> list[np.ndarray]:
    """dlib's own 150x150 chips (its HOG detector and 5-point shape) of ``count`` LFW photos."""
    import dlib
    import face_recognition_models as models

    from photoface.decode import decode_file

    from .data import default_data_root

    root = Path(data_root or default_data_root()) / "lfw" / "images"
    hog = dlib.get_frontal_face_detector()
    shape = dlib.shape_predictor(models.pose_predictor_five_point_model_location())
    chips = []
    for path in sorted(root.glob("*/*_0001.jpg"))[::37]:
        rgb = decode_file(path).pixels
        rects = hog(rgb, 1)
        if rects:
            chips.append(dlib.get_face_chip(rgb, shape(rgb, rects[0]), 150, 0.25))
        if len(chips) == count:
            break
    return chips


def max_difference_from_dlib(chips: list[np.ndarray], path: Path | None = None) -> float:
    """Largest |Keras - dlib| over the raw (unnormalised) 128-d descriptors of ``chips``."""
    import dlib
    import face_recognition_models as models

    from .backbones.dlib_resnet import dlib_resnet

    net = dlib.face_recognition_model_v1(str(path or models.face_recognition_model_location()))
    ref = np.asarray(net.compute_face_descriptor(chips), np.float32)
    ours = np.asarray(dlib_resnet(path, normalise=False)(np.stack(chips).astype(np.float32)))
    return float(np.abs(ours - ref).max())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("runs/dlib"))
    ap.add_argument("--check", action="store_true", help="compare with dlib's compute_face_descriptor")
    args = ap.parse_args(argv)
    import_dlib(args.out)
    print(f"saved {args.out / 'model.keras'}")
    if args.check:
        chips = lfw_chips()
        print(json.dumps({"chips": len(chips), "max_abs_difference": max_difference_from_dlib(chips)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
