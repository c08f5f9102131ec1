"""dlib's face-recognition network on its own chips and on ours (LFW View 1 DevTest).

The bundled embedder is dlib's ResNet fed with the app's crop: MTCNN's five points mapped onto
the points of dlib's chip (``photoface.align.TEMPLATE_DLIB_150``). This measures what that crop
costs or buys against dlib's own pipeline (its HOG detector, its 5-point shape predictor and
``get_face_chip``), both through dlib's own ``compute_face_descriptor`` in one run:

* ``dlib chips``: dlib's detector on the photo (upsampled once; where it finds no face, our box
  mapped onto dlib's convention, as ``training/teacher.py`` does), its landmarks, its chip;
* ``our chips``: the app's detector and ``align_face(..., 150, "dlib-chip")``;
* either way, with and without averaging each face with its mirror image.

Accuracy is 10-fold cross-validation over the 1,000 DevTest pairs (each fold's threshold chosen
on the other nine), on the raw descriptors L2-normalised.

    .venv/bin/python benchmarks/dlib_chips.py [--json out.json]

Needs ``../shared/data/lfw`` and the ``teacher`` extra (dlib, face-recognition-models).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from training.data import default_data_root  # noqa: E402
from training.eval import metrics  # noqa: E402
from training.eval.lfw import read_pairs  # noqa: E402
from training.teacher import central_rect, to_dlib_box  # noqa: E402


def chips_for(paths, root: Path):
    import dlib
    import face_recognition_models as models

    from photoface.align import align_face
    from photoface.decode import decode_file
    from photoface.detection import FaceDetector, central_face

    hog = dlib.get_frontal_face_detector()
    shape = dlib.shape_predictor(models.pose_predictor_five_point_model_location())
    ours = FaceDetector()
    theirs_chips, our_chips, fallbacks = {}, {}, 0
    for path in paths:
        rgb = decode_file(root / path).pixels
        h, w = rgb.shape[:2]
        face = central_face(ours.detect(rgb), w, h)
        rects = hog(rgb, 1)
        if rects:
            rect = central_rect(rects, w, h)
        elif face is not None:
            rect, fallbacks = dlib.rectangle(*to_dlib_box(face.box)), fallbacks + 1
        else:
            rect, fallbacks = dlib.rectangle(w // 4, h // 4, 3 * w // 4, 3 * h // 4), fallbacks + 1
        theirs_chips[path] = dlib.get_face_chip(rgb, shape(rgb, rect), 150, 0.25)
        if face is not None:
            our_chips[path] = align_face(rgb, face.landmarks, 150, "dlib-chip")
        else:  # as the app would have no face, fall back to dlib's chip for the pair to count
            our_chips[path] = theirs_chips[path]
    return theirs_chips, our_chips, fallbacks


def describe(net, chips: dict, flip: bool) -> dict:
    keys = list(chips)
    batch = [chips[k] for k in keys]
    emb = np.asarray(net.compute_face_descriptor(batch), np.float32)
    if flip:
        emb = emb + np.asarray(net.compute_face_descriptor([np.ascontiguousarray(c[:, ::-1]) for c in batch]), np.float32)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    return dict(zip(keys, emb))


def accuracy(emb: dict, pairs) -> dict:
    dist = np.array([np.sum((emb[p.path1] - emb[p.path2]) ** 2) for p in pairs])
    same = np.array([p.same for p in pairs])
    folds = np.arange(len(pairs)) % 10
    k = metrics.kfold_accuracy(dist, same, folds)
    return {"accuracy": round(k["mean"], 4), "sd": round(k["std"], 4), "auc": round(metrics.roc_auc(dist, same), 5)}


def main(argv=None) -> int:
    import dlib
    import face_recognition_models as models

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=default_data_root())
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    pairs = read_pairs(args.data / "lfw" / "protocol" / "pairsDevTest.txt")
    paths = sorted({p for pair in pairs for p in (pair.path1, pair.path2)})
    t0 = time.time()
    theirs, ours, fallbacks = chips_for(paths, args.data / "lfw" / "images")
    net = dlib.face_recognition_model_v1(models.face_recognition_model_location())
    out = {"pairs": len(pairs), "photos": len(paths), "dlib_detector_missed": fallbacks}
    for name, chips in (("dlib chips", theirs), ("our chips", ours)):
        for flip in (False, True):
            out[name + (" + mirror" if flip else "")] = accuracy(describe(net, chips, flip), pairs)
    out["seconds"] = round(time.time() - t0, 1)
    print(json.dumps(out, indent=2))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
