"""Export the MTCNN detector (P-Net, R-Net, O-Net) to LiteRT ``.tflite`` files.

The trained weights and the Keras network definitions ship inside the ``mtcnn`` package (MIT
licence, Ivan de Paz Centeno). This script builds the three networks from that package, loads its
weights, and converts each network so that the app can run them with LiteRT and never import
TensorFlow (docs/architecture.md). Run it with::

    python -m training.export_detector [--out resources/models]

P-Net is exported with a dynamic height and width (the app resizes its input per pyramid level);
R-Net and O-Net take a dynamic batch of 24x24 and 48x48 crops.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
from pathlib import Path


# Each network: (mtcnn module, class, weights file, input shape without batch).
NETWORKS = {
    "pnet": ("mtcnn.network.pnet", "PNet", "pnet.lz4", (None, None, 3)),
    "rnet": ("mtcnn.network.rnet", "RNet", "rnet.lz4", (24, 24, 3)),
    "onet": ("mtcnn.network.onet", "ONet", "onet.lz4", (48, 48, 3)),
}

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "resources" / "models"

NOTICE = """\
MTCNN face detector models (pnet.tflite, rnet.tflite, onet.tflite)
==================================================================

These files are converted, unchanged in their weights, from the `mtcnn` Python package
version {version} (https://pypi.org/project/mtcnn/, files mtcnn/assets/weights/*.lz4 and the
Keras network definitions in mtcnn/network/) by `python -m training.export_detector`.

The network architecture is that of K. Zhang, Z. Zhang, Z. Li and Y. Qiao, "Joint Face Detection
and Alignment Using Multitask Cascaded Convolutional Networks", IEEE Signal Processing Letters 23(10),
2016.

The mtcnn package is distributed under the MIT licence:

{license}
"""


def build_network(name: str):
    """Build one MTCNN network from the mtcnn package with its trained weights loaded."""
    import importlib

    from mtcnn.utils.tensorflow import load_weights

    module_name, class_name, weights, input_shape = NETWORKS[name]
    model = getattr(importlib.import_module(module_name), class_name)()
    model.build((None, *input_shape))
    model.set_weights(load_weights(weights))
    return model


def convert(model, input_shape) -> bytes:
    """Convert a Keras model with a dynamic batch (and, for P-Net, dynamic size) to TFLite.

    The concrete function is frozen first: converting the subclassed models directly leaves
    their weights as uninitialised resource variables (the converted nets output NaN).
    """
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import (
        convert_variables_to_constants_v2,
    )

    spec = tf.TensorSpec((None, *input_shape), tf.float32, name="image")
    fn = tf.function(lambda x: model(x, training=False))
    frozen = convert_variables_to_constants_v2(fn.get_concrete_function(spec))
    converter = tf.lite.TFLiteConverter.from_concrete_functions([frozen])
    return converter.convert()


def mtcnn_license_text() -> str:
    from importlib import metadata

    dist = metadata.distribution("mtcnn")
    for f in dist.files or []:
        if f.name.upper().startswith("LICENSE"):
            return Path(dist.locate_file(f)).read_text()
    return "MIT License (text not found in the installed distribution)"


def export(out_dir: Path) -> dict[str, str]:
    """Write pnet/rnet/onet .tflite and NOTICE.mtcnn into ``out_dir``; return file SHA-256s."""
    from importlib import metadata

    out_dir.mkdir(parents=True, exist_ok=True)
    digests = {}
    for name, (_, _, _, input_shape) in NETWORKS.items():
        model = build_network(name)
        data = convert(model, input_shape)
        path = out_dir / f"{name}.tflite"
        path.write_bytes(data)
        digests[path.name] = hashlib.sha256(data).hexdigest()
        print(f"wrote {path} ({len(data) / 1024:.0f} KiB)")
    version = metadata.version("mtcnn")
    (out_dir / "NOTICE.mtcnn").write_text(
        NOTICE.format(version=version, license=mtcnn_license_text())
    )
    (out_dir / "detector.json").write_text(
        json.dumps({"source": f"mtcnn=={version}", "sha256": digests}, indent=2) + "\n"
    )
    return digests


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    export(args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
