"""Export a trained embedding network as the app's model: ``.tflite`` plus its model card.

    python -m training.export --run runs/distill [--out resources/models] [--report report.json]
    python -m training.export --run runs/a --run runs/b ...   # one model averaging several networks

The card records what the app reads (input size and preprocessing, embedding size, distance,
same-person threshold, the model file's SHA-256) and what a reader wants to know (figures
measured, training data and recipe, date). ``--report`` is the JSON written by
``python -m training.evaluate``; its threshold (chosen on validation pairs) and figures go into
the card.

Several ``--run``s make one ensemble model: the input goes through every network and the
embedding is the L2-normalised mean of theirs. This is meaningful because every network of the
distillation recipe regresses onto the same (centred) teacher space, so their embeddings share
axes; independently trained networks make different errors, which the mean averages out.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "resources" / "models"
MODEL_FILE = "embedder.tflite"
TEACHER = ("dlib's face-recognition ResNet (dlib_face_recognition_resnet_model_v1 from the "
           "face-recognition-models package; public domain; trained on 7,485 identities "
           "chosen to avoid LFW's)")


def to_tflite(model, weights: str = "float32") -> bytes:
    """Convert a Keras embedding model (dynamic batch) to TFLite, weights frozen in; ``weights``
    "float16" or "int8" (dynamic range) store them smaller (``benchmarks/embedder_precision.py``)."""
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    size = model.input_shape[1]
    spec = tf.TensorSpec((None, size, size, 3), tf.float32, name="face")
    fn = tf.function(lambda x: model(x, training=False))
    frozen = convert_variables_to_constants_v2(fn.get_concrete_function(spec))
    converter = tf.lite.TFLiteConverter.from_concrete_functions([frozen])
    if weights != "float32":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if weights == "float16":
        converter.target_spec.supported_types = [tf.float16]
    return converter.convert()


class Averaged:
    """Several embedding networks as one: the L2-normalised mean of their embeddings."""

    def __init__(self, models):
        shapes = {(m.input_shape, m.output_shape) for m in models}
        if len(shapes) != 1:
            raise SystemExit(f"an ensemble needs networks of one input and output shape, got {sorted(shapes)}")
        self.models = list(models)
        self.input_shape, self.output_shape = shapes.pop()

    def __call__(self, x, training=False):
        from keras import ops

        total = self.models[0](x, training=training)
        for m in self.models[1:]:
            total = total + m(x, training=training)
        return total / ops.maximum(ops.sqrt(ops.sum(total * total, axis=-1, keepdims=True)), 1e-12)


def recipe_of(run_dir: Path) -> dict:
    """A run's config, with the recipe of the run it started from (``init_from``) nested in as
    ``started_from``: a fine-tuned network's card then says how its starting point was trained."""
    config = json.loads((Path(run_dir) / "config.json").read_text())
    parent = config.get("init_from")
    if parent and (Path(parent) / "config.json").exists():
        config["started_from"] = recipe_of(Path(parent))
    return config


def members_of(recipe: dict) -> list[dict]:
    """The recipes of an ensemble's networks, or the one recipe."""
    return recipe.get("members", [recipe])


def teacher_of(recipe: dict) -> str | None:
    """Which teacher the recipe's networks learnt from, and on what (None: none did)."""
    members = members_of(recipe)
    if not any(m.get("distill_weight", 0) for m in members):
        return None
    views = max(m.get("teacher_views", 0) for m in members)
    return (TEACHER + ": its embedding of every training face, cached once"
            + (f", and of {views} degraded views of each (training.views)" if views else ""))


def data_of(recipe: dict) -> str:
    members = members_of(recipe)
    sources = sorted({s for m in members for s in m.get("sources", [])})
    never = []
    if not any("lfw" in m.get("sources", ()) for m in members):
        never.append("any LFW person (View 1 and every View 2 fold)")
    elif all(m.get("exclude") == "view1" for m in members):  # every network: one that saw them, saw them
        never.append("LFW's 1,711 View 1 DevTest people")
    held = min(m.get("holdout_cfp_people", 0) for m in members)
    if held:
        never.append(f"{held} CFP people held out for the cross-domain check")
    text = f"{', '.join(sources)} (every photo through the app's detector and aligner)"
    if not never:
        return text
    text += f"; never trained on: {' and '.join(never)}"
    if all(_lineage_excludes_other_names(m) for m in members):
        return text + ", nor their other identities in the data"
    return text + ("; some of these people are in the data under another name too and were trained on"
                   " under it (training/duplicates.py): held-out figures leave them out")


def _lineage_excludes_other_names(recipe: dict) -> bool:
    """Whether this network, and every run it was fine-tuned from, kept out the held-out
    people's other identities (a config without ``exclude_other_names`` did not)."""
    if "imported" in recipe:  # weights from elsewhere: none of our data
        return True
    parent = recipe.get("started_from")
    return recipe.get("exclude_other_names", False) and (parent is None or _lineage_excludes_other_names(parent))


def load_networks(run_dirs):
    """The network of one run, or the ``Averaged`` ensemble of several, and the recipe for the card."""
    import keras

    from . import backbones  # noqa: F401 (registers the custom layers saved models use)

    run_dirs = [Path(r) for r in ([run_dirs] if isinstance(run_dirs, (str, Path)) else run_dirs)]
    models = [keras.models.load_model(r / "model.keras", compile=False) for r in run_dirs]
    configs = [recipe_of(r) for r in run_dirs]
    if len(models) == 1:
        return models[0], configs[0]
    name = "-".join(dict.fromkeys(c.get("name", "model") for c in configs)) + f"-x{len(models)}"
    return Averaged(models), {"name": name, "ensemble_of": [str(r) for r in run_dirs], "members": configs}


WEIGHTS_TEXT = {
    "float32": "float32",
    "float16": "float16 (computed in float32)",
    "int8": "int8 (TFLite dynamic-range quantisation)",
}


def build_card(config: dict, sha256: str, size: int, embedding: int, report: dict | None,
               flip_average: bool = True, weights: str = "float32") -> dict:
    report = report or {}
    today = dt.date.today().isoformat()
    tag = "" if weights == "float32" else f"-{weights}"
    return {
        "model_file": MODEL_FILE,
        "sha256": sha256,
        "version": f"{config.get('name', 'model')}-{today}-{sha256[:8]}{tag}" + ("-flip" if flip_average else ""),
        "date": today,
        "weights": WEIGHTS_TEXT[weights],
        "input": input_section(config, size),
        "embedding": {
            "size": embedding,
            "normalised": "L2",
            "distance": "squared_l2",
            # Embed each face and its mirror image and average: a face is nearly symmetric, the
            # network's errors are not (--flip-average off, then training.evaluate, measures it).
            "flip_average": flip_average,
            "same_person_threshold": float(report.get("threshold", {}).get("value", 1.0)),
            "threshold_chosen_on": report.get("threshold", {}).get("chosen_on", "not evaluated"),
            **{key: p["value"] for key, p in report.get("operating_points", {}).items()},
        },
        **({"operating_points": report["operating_points"]} if "operating_points" in report else {}),
        "figures": report.get("figures", {}),
        "training": training_section(config),
    }


def input_section(config: dict, size: int) -> dict:
    """What the app feeds the network: the crop's geometry and the pixels' range."""
    template = members_of(config)[0].get("template", "arcface")
    if template == "dlib-chip":
        return {
            "size": size, "channels": "RGB", "dtype": "float32", "template": template,
            "range": "0..255 (the model normalises: (x - dlib's channel means 122.782, 117.001, 104.298) / 256)",
            "alignment": "photoface.align.align_face: 5-point similarity (MTCNN's eye centres, nose tip and "
            f"mouth corners) to the points of dlib's face chip (150x150, padding 0.25) scaled to {size}x{size}",
        }
    return {
        "size": size, "channels": "RGB", "dtype": "float32", "template": template,
        "range": "0..255 (the model normalises: (x - 127.5) / 128)",
        "alignment": f"photoface.align.align_face: 5-point similarity to the ArcFace template scaled to {size}x{size}",
    }


def _fine_tune_text(recipe: dict) -> str:
    """training.finetune's losses (and training.blend's share), as the card says them."""
    text = (f"units from {recipe['train_from']} on, triplet loss (semi-hard, P x K, "
            f"{recipe['lookalike_batches']:.0%} of batches of look-alike people) + "
            f"{recipe['stay_weight']} x squared distance to the imported network's embedding")
    if recipe.get("fairface_per_race"):
        text += (f" + {recipe['fair_weight']} x max({recipe['fair_margin']} - squared distance, 0) over pairs of "
                 f"different FairFace faces of one race group, {recipe['fairface_batch']} faces of each of its 7 "
                 "groups per step")
        if recipe.get("fairface_children"):
            text += (f" (each group's {recipe['fairface_per_race']} adults joined by up to "
                     f"{recipe['fairface_children']} of its children, babies first)")
        if recipe.get("stay_on_fairface"):
            text += ", the squared-distance term holding them too"
    if recipe.get("blend"):
        share = recipe["blend"]["share"]
        text += f"; then every weight blended, {share:g} x fine-tuned + {1 - share:g} x imported (training.blend)"
    return text


def training_section(recipe: dict) -> dict:
    if "imported" in recipe:  # an imported network, as it came
        return {"recipe": recipe, "lineage": recipe["imported"],
                "data": "none of ours: the imported weights as they are (no fine-tune)"}
    if "imported_from" in recipe:  # training.finetune: an imported network, fine-tuned
        return {"recipe": recipe, "lineage": recipe["imported_from"]["imported"],
                "fine_tune": _fine_tune_text(recipe), "data": data_of(recipe) + (
                    f"; within-group negatives: {recipe['fairface_per_race']} adult faces of each race group "
                    + (f"and up to {recipe['fairface_children']} of its children " if recipe.get("fairface_children") else "")
                    + "of FairFace train (Karkkainen & Joo, WACV 2021; CC BY 4.0), none of them in the "
                    "fairness calibration sample" if recipe.get("fairface_per_race") else "")}
    teacher = teacher_of(recipe)
    return {"recipe": recipe, **({"teacher": teacher} if teacher else {}), "data": data_of(recipe)}


def export(run_dir, out_dir: Path, report: dict | None = None, samples: np.ndarray | None = None,
           flip_average: bool = True, weights: str = "float32") -> dict:
    """Write the .tflite and its card (``run_dir``: one run folder, or a list of them for an
    ensemble); with ``samples`` (uint8 crops), also record how far the .tflite's embeddings are
    from the Keras model's on them. ``weights``: see ``to_tflite``."""
    model, config = load_networks(run_dir)
    data = to_tflite(model, weights)
    out_dir.mkdir(parents=True, exist_ok=True)
    previous = history_of(out_dir / "model_card.json")
    (out_dir / MODEL_FILE).write_bytes(data)
    card = build_card(
        config, hashlib.sha256(data).hexdigest(), model.input_shape[1], model.output_shape[-1], report,
        flip_average, weights,
    )
    if previous:
        card["history"] = previous
    if samples is not None:
        card["tflite_vs_keras_max_abs_difference"] = {
            "value": max_difference(model, out_dir / MODEL_FILE, samples),
            "faces": int(len(samples)),
        }
    (out_dir / "model_card.json").write_text(json.dumps(card, indent=2) + "\n")
    return card


def history_of(card_path: Path) -> list[dict]:
    """The models a new export replaces in that folder, newest first: each one's version, crop,
    recipe name and figures (and the ones it replaced), so the card keeps what came before."""
    if not card_path.exists():
        return []
    old = json.loads(card_path.read_text())
    recipe = old.get("training", {}).get("recipe", {})
    entry = {"version": old.get("version"), "date": old.get("date"), "recipe": recipe.get("name"),
             "input": {k: old.get("input", {}).get(k) for k in ("size", "template", "alignment")},
             "figures": old.get("figures", {})}
    return [entry] + old.get("history", [])


def sample_faces(size: int, count: int = 64, template: str = "arcface") -> np.ndarray | None:
    """Cached LFW crops of the View 1 test people (the first ``count``), if the cache exists."""
    from .prepare import cache_paths, default_cache_dir

    paths = cache_paths(default_cache_dir(), "lfw", size, template)
    if not paths["crops"].exists():
        return None
    return np.asarray(np.load(paths["crops"], mmap_mode="r")[:count])


def max_difference(model, tflite_path: Path, samples: np.ndarray) -> float:
    """Largest |keras - tflite| over the embeddings of ``samples`` (uint8 crops)."""
    from photoface.runtime import LiteModel

    x = samples.astype(np.float32)
    ref = np.asarray(model(x, training=False))
    (lite,) = LiteModel(tflite_path, num_threads=1).run_batched(x)
    return float(np.abs(ref - lite).max())


def update_card(model_dir: Path, report: dict | None = None, flip_average: bool | None = None,
                keep_thresholds: bool = False) -> dict:
    """Change an exported model's card without converting the model again: switch mirror-image
    averaging (a new version, so that libraries re-embed their faces), or take the thresholds and
    figures of an evaluation report (made with the card as it is now; ``keep_thresholds``: its
    figures only). The training section is rebuilt from the runs when they are still here."""
    path = Path(model_dir) / "model_card.json"
    card = json.loads(path.read_text())
    emb = card["embedding"]
    if flip_average is not None and flip_average != bool(emb.get("flip_average", False)):
        emb["flip_average"] = flip_average
        base = card["version"].removesuffix("-flip")
        card["version"] = base + ("-flip" if flip_average else "")
        # Thresholds and figures were measured the other way: they wait for a new report.
        card["figures"] = {"note": "re-evaluate: python -m training.evaluate, then --update-card --report"}
    if report is not None:
        if report.get("version") != card["version"]:
            raise SystemExit(f"the report is of {report.get('version')}, the card is {card['version']}")
        fresh = build_card({}, card["sha256"], card["input"]["size"], emb["size"], report,
                           bool(emb.get("flip_average", False)))
        card["figures"] = fresh["figures"]
        if not keep_thresholds:
            card["embedding"] = {**emb, **fresh["embedding"]}
        if "operating_points" in fresh and not keep_thresholds:
            card["operating_points"] = fresh["operating_points"]
    # The recipe as the runs now tell it (a fine-tune's starting point, the teacher, the data),
    # when the runs are still here.
    recipe = card["training"]["recipe"]
    members = members_of(recipe)
    if all(m.get("out_dir") and (Path(m["out_dir"]) / "config.json").exists() for m in members):
        members = [recipe_of(Path(m["out_dir"])) for m in members]
        recipe = {**recipe, "members": members} if "members" in recipe else members[0]
    card["training"] = training_section(recipe)
    path.write_text(json.dumps(card, indent=2) + "\n")
    return card


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", type=Path, action="append",
                    help="training output folder; repeat it for one model averaging several networks")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--report", type=Path, help="evaluation report JSON")
    ap.add_argument("--update-card", type=Path, metavar="MODEL_DIR",
                    help="only rewrite this exported model's card: its training recipe as the runs now "
                         "tell it, and --report's figures and thresholds, --flip-average's switch")
    ap.add_argument("--flip-average", choices=["on", "off"], help="embed faces and their mirror images (default on)")
    ap.add_argument("--weights", choices=sorted(WEIGHTS_TEXT), default="float32",
                    help="the .tflite's weights (benchmarks/embedder_precision.py measures them; default float32)")
    ap.add_argument("--keep-thresholds", action="store_true",
                    help="with --update-card --report: take the report's figures, keep the card's thresholds")
    args = ap.parse_args(argv)
    report = json.loads(args.report.read_text()) if args.report else None
    flip = None if args.flip_average is None else args.flip_average == "on"
    if args.update_card:
        card = update_card(args.update_card, report, flip, keep_thresholds=args.keep_thresholds)
        print(json.dumps({k: card[k] for k in ("version", "embedding")}, indent=2))
        return 0
    if args.run is None:
        ap.error("--run is required (or --update-card)")
    config = json.loads((args.run[0] / "config.json").read_text())  # size and crop: the same for all (Averaged)
    samples = sample_faces(config["input_size"], template=config.get("template", "arcface"))
    card = export(args.run, args.out, report, samples, flip_average=flip is not False, weights=args.weights)
    print(json.dumps({k: card[k] for k in ("version", "sha256", "input", "embedding")}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
