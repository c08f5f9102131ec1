"""Fine-tune the imported dlib network with the triplet loss, kept near where it started.

    python -m training.finetune [--preset dlib-ft|dlib-fair|dlib-fair-kids|...] [--config runs/NAME/config.json] [--out DIR] [--resume]

dlib's weights carry what about 3 million faces taught; our 20,000 training faces (LFW DevTrain
people, CFP training people with their profiles, CelebA) can adjust them, not replace them. So:

* The early units stay frozen (``FinetuneConfig.train_from``: the first unit that learns). Their
  output for every training face is computed once, for the clean crop, its mirror image and
  ``augment_passes`` photo-like degraded views (``training.dataset.augment_crop``), and cached in
  the run folder; a training step then runs only the units that learn, so an epoch takes
  seconds on 2 cores instead of an hour.
* The loss is FaceNet's triplet loss with semi-hard negatives on P x K batches
  (``training.losses``), part of the batches made of look-alike people (each person's nearest
  people by the imported network's mean embedding: the strangers a library confuses), plus
  ``stay_weight`` x the squared distance between a face's new embedding and the imported
  network's embedding of the same view. Without that term a few thousand people would pull the
  space towards themselves and undo what the 7,485 taught.
* With ``fairface_per_race`` (preset ``dlib-fair``), FairFace train faces join every step, the
  same number from each of its seven race groups: every two of one group are different people,
  and ``fair_weight`` x max(``fair_margin`` - their squared distance, 0) pushes the close ones
  apart (``training.losses.spread_loss``). The imported network packs some groups' faces closer
  than others (NIST's demographic differentials); this evens that out where it matters, among
  the closest strangers, while the stay term (holding FairFace's faces too) keeps the rest.

Every choice is one field of ``FinetuneConfig``, saved beside the run; the run writes the head's
weights, the optimizer's state and the history after every epoch (``--resume`` goes on from
there, with the same batches an unbroken run draws) and at the end ``model.keras``: the whole
network, imported trunk and fine-tuned head, for ``training.export``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402


@dataclass
class FinetuneConfig:
    name: str = "dlib-ft"
    seed: int = 0
    init_from: str = "runs/dlib"  # training.import_dlib's run folder
    data_root: str = ""
    cache_dir: str = ""
    sources: tuple[str, ...] = ("lfw", "cfp", "celeba")
    exclude: str = "view1"  # as TrainConfig: LFW people never trained on
    holdout_cfp_people: int = 50
    exclude_other_names: bool = True
    input_size: int = 150
    template: str = "dlib-chip"
    train_from: str = "s3u1"  # the first residual unit that learns; those before it stay frozen
    augment_passes: int = 2  # degraded views cached per face, besides the clean crop and its mirror
    alpha: float = 0.2
    people_per_batch: int = 32
    images_per_person: int = 4
    lookalike_batches: float = 0.5
    stay_weight: float = 1.0
    epochs: int = 8
    steps_per_epoch: int = 200
    # Adam moves every weight by about the learning rate per step, and dlib's weights are of the
    # order of 1e-3: larger rates wreck the imported network within a few steps.
    learning_rate: float = 2e-5
    # Fairness (training.fairface): FairFace train faces of each race group (0: none) and how
    # many of each group a step sees. Every pair of them within a group is two different people,
    # pushed at least fair_margin (squared distance) apart with weight fair_weight. The faces
    # never include the fairness cap's calibration sample (training.operating_points).
    fairface_per_race: int = 0
    fairface_batch: int = 16
    fair_margin: float = 0.5
    fair_weight: float = 1.0
    # The stay term holds FairFace's faces too: only the pairs inside the margin move, instead
    # of every face of the kind of photo FairFace holds.
    stay_on_fairface: bool = False
    # Children (babies first, then 3-9) of each race group joining its adults among those
    # negatives (0: adults only): spreading adults alone drew babies' faces together.
    fairface_children: int = 0
    # Every person with profile photos (CFP's) shows half its images of a batch as profiles:
    # its triplets' positives then pair a frontal face with a profile.
    profile_pairs: bool = False
    out_dir: str = "runs/dlib-ft"

    def save(self, path: Path) -> None:
        Path(path).write_text(json.dumps(asdict(self), indent=2) + "\n")

    @classmethod
    def load(cls, path: Path) -> "FinetuneConfig":
        raw = json.loads(Path(path).read_text())
        unknown = set(raw) - {f.name for f in fields(cls)} - {"backbone", "embedding_size", "imported_from"}
        if unknown:
            raise ValueError(f"{path}: unknown config keys {sorted(unknown)}")
        raw = {k: v for k, v in raw.items() if k in {f.name for f in fields(cls)}}
        raw["sources"] = tuple(raw.get("sources", cls.sources))
        return cls(**raw)


PRESETS = {
    "dlib-ft": FinetuneConfig(),
    # FairFace's within-group negatives join the triplets, and the stay term holds FairFace's
    # faces too. No LFW person is trained on, so View 1 and every View 2 fold measure people the
    # network never saw. The bundled model blends this run with the imported one (training.blend).
    "dlib-fair": FinetuneConfig(name="dlib-fair", sources=("cfp", "celeba"), fairface_per_race=1000,
                                stay_on_fairface=True, out_dir="runs/dlib-fair"),
    # The same with 300 children of each group among FairFace's negatives.
    "dlib-fair-kids": FinetuneConfig(name="dlib-fair-kids", sources=("cfp", "celeba"), fairface_per_race=1000,
                                     stay_on_fairface=True, fairface_children=300, out_dir="runs/dlib-fair-kids"),
    # The same, each CFP person's batch images half profiles.
    "dlib-fair-kids-pp": FinetuneConfig(name="dlib-fair-kids-pp", sources=("cfp", "celeba"), fairface_per_race=1000,
                                        stay_on_fairface=True, fairface_children=300, profile_pairs=True,
                                        out_dir="runs/dlib-fair-kids-pp"),
    # Tiny settings for tests: a few steps on a few dozen faces.
    "smoke": FinetuneConfig(name="smoke", train_from="s4u0", augment_passes=1, people_per_batch=4,
                            images_per_person=2, epochs=2, steps_per_epoch=3, learning_rate=1e-4,
                            exclude="none", holdout_cfp_people=0, out_dir="runs/smoke-ft"),
}


def load_faces(cfg: FinetuneConfig) -> tuple[np.ndarray, np.ndarray, list[str], np.ndarray]:
    """(crops, labels, identities, whether each face is a profile) of every face the config may
    train on."""
    from .data import default_data_root, list_source
    from .prepare import cache_paths, default_cache_dir
    from .splits import excluded_people

    root = Path(cfg.data_root) if cfg.data_root else default_data_root()
    cache = Path(cfg.cache_dir) if cfg.cache_dir else default_cache_dir()
    excluded = excluded_people(cfg, root)
    crops, identities, profiles = [], [], []
    for source in cfg.sources:
        images = list_source(source, root)
        path = cache_paths(cache, source, cfg.input_size, cfg.template)["crops"]
        if not path.exists():
            raise SystemExit(f"no aligned crops at {path}: run python -m training.prepare --sources {source} "
                             f"--size {cfg.input_size} --template {cfg.template}")
        keep = np.array([im.identity not in excluded for im in images])
        crops.append(np.asarray(np.load(path, mmap_mode="r")[keep]))
        identities += [im.identity for im, k in zip(images, keep) if k]
        profiles += [im.pose == "profile" for im, k in zip(images, keep) if k]
    names, labels = np.unique(np.array(identities), return_inverse=True)
    return np.concatenate(crops), labels.astype(np.int32), list(names), np.array(profiles, bool)


def load_fairface(cfg: FinetuneConfig, root: Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(crops, race group index) of ``cfg.fairface_per_race`` adult FairFace train faces of each
    race group, none of them in the fairness cap's calibration sample; faces the detector misses
    are left out."""
    from . import fairface
    from .operating_points import FAIR_PER_RACE

    root = root or fairface.default_root()
    faces = fairface.read_labels(root, "train")
    calibration = {f.file for f in fairface.balanced(faces, FAIR_PER_RACE, seed=0)}
    rest = [f for f in faces if f.file not in calibration and f.adult]
    chosen = fairface.balanced(rest, cfg.fairface_per_race, seed=cfg.seed + 2)
    if cfg.fairface_children:
        chosen += children(faces, calibration, cfg.fairface_children, cfg.seed + 3)
    crops, found = fairface.crops(root, chosen, cfg.input_size, cfg.template)
    groups = np.array([fairface.RACES.index(f.race) for f in chosen], np.int32)
    return crops[found], groups[found]


def children(faces: list, calibration: set, per_race: int, seed: int) -> list:
    """Up to ``per_race`` children of each race group outside the calibration sample: every
    baby (0-2) of the group up to that number, then children of 3-9, seeded."""
    from . import fairface

    rng = np.random.default_rng(seed)
    out = []
    for race in fairface.RACES:
        need = per_race
        for band in ("0-2", "3-9"):
            pool = [f for f in faces if f.race == race and f.age == band and f.file not in calibration]
            take = min(need, len(pool))
            out += [pool[i] for i in sorted(rng.choice(len(pool), take, replace=False))]
            need -= take
    return out


def views_of(crop: np.ndarray, index: int, cfg: FinetuneConfig, passes: int) -> list[np.ndarray]:
    """The cached views of one face: clean, mirrored, then ``passes`` degraded ones (seeded by face)."""
    from .dataset import Augment, augment_crop

    rng = np.random.default_rng([cfg.seed, index])
    out = [crop, np.ascontiguousarray(crop[:, ::-1])]
    out += [augment_crop(crop, Augment(), rng) for _ in range(passes)]
    return out


def cache_features(cfg: FinetuneConfig, trunk, crops: np.ndarray, out: Path, chunk: int = 512,
                   passes: int | None = None) -> np.ndarray:
    """The frozen trunk's output for every view of every face, (n, views, h, w, c) float16;
    computed chunk by chunk into ``out`` so an interrupted run resumes where it stopped."""
    passes = cfg.augment_passes if passes is None else passes
    n, v = len(crops), 2 + passes
    shape = (n, v) + tuple(trunk.output.shape[1:])
    out.mkdir(parents=True, exist_ok=True)
    done = out / "features.done.json"
    state = json.loads(done.read_text()) if done.exists() else {}
    if state.get("shape") != list(shape) or state.get("train_from") != cfg.train_from:
        state = {"shape": list(shape), "train_from": cfg.train_from, "chunks": []}
    mode = "r+" if (out / "features.npy").exists() and state["chunks"] else "w+"
    feats = np.lib.format.open_memmap(out / "features.npy", mode=mode, dtype=np.float16, shape=shape)
    t0 = time.time()
    for start in range(0, n, chunk):
        if start in state["chunks"]:
            continue
        stop = min(start + chunk, n)
        views = np.stack([np.stack(views_of(crops[i], i, cfg, passes)) for i in range(start, stop)])
        flat = views.reshape((-1,) + views.shape[2:]).astype(np.float32)
        feats[start:stop] = np.asarray(trunk.predict(flat, batch_size=64, verbose=0)).reshape(
            (stop - start, v) + shape[2:]).astype(np.float16)
        feats.flush()
        state["chunks"].append(start)
        done.write_text(json.dumps(state))
        print(f"  features: {stop}/{n} ({time.time() - t0:.0f} s)", file=sys.stderr, flush=True)
    return np.load(out / "features.npy", mmap_mode="r")


def train(cfg: FinetuneConfig, resume: bool = False, faces=None, fair_faces=None) -> Path:
    """Run (or ``resume``) the fine-tune; ``faces`` = (crops, labels, identities[, profile flags])
    instead of ``load_faces(cfg)`` and ``fair_faces`` = (crops, groups) instead of
    ``load_fairface(cfg)`` (tests)."""
    import keras
    import tensorflow as tf

    from .backbones.dlib_resnet import copy_head, split
    from .dataset import IdentitySampler, lookalike_identities
    from .losses import spread_loss, triplet_semihard_loss

    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    cfg.save(out / "config.json")
    keras.utils.set_random_seed(cfg.seed)
    from . import backbones  # noqa: F401 (registers the imported network's layers)

    start_model = keras.models.load_model(Path(cfg.init_from) / "model.keras", compile=False)
    trunk, head = split(start_model, cfg.train_from)
    _, frozen_head = split(start_model, cfg.train_from)  # the imported network's head, for the stay term
    crops, labels, identities, *poses = faces if faces is not None else load_faces(cfg)
    profiles = poses[0] if cfg.profile_pairs and poses else None
    print(f"{len(crops)} faces of {len(identities)} people; training from {cfg.train_from}", file=sys.stderr)
    feats = cache_features(cfg, trunk, crops, out)
    views = feats.shape[1]
    # The imported network's embedding of every cached view: where each face starts.
    def start_embeddings(feats):
        return np.concatenate([
            np.asarray(frozen_head.predict(np.asarray(feats[i:i + 512], np.float32).reshape((-1,) + feats.shape[2:]),
                                           batch_size=512, verbose=0)).reshape(-1, feats.shape[1], 128)
            for i in range(0, len(feats), 512)])

    start_emb = start_embeddings(feats)
    fair = None
    if cfg.fairface_per_race:
        fair_crops, fair_groups = fair_faces if fair_faces is not None else load_fairface(cfg)
        print(f"{len(fair_crops)} FairFace faces as within-group negatives", file=sys.stderr)
        # Clean and mirrored views only: they are negatives, not identities to hold together.
        fair_feats = cache_features(cfg, trunk, fair_crops, out / "fairface", passes=0)
        fair = (fair_feats, fair_groups, start_embeddings(fair_feats) if cfg.stay_on_fairface else None)
    lookalikes = lookalike_identities(labels, start_emb[:, 0], np.ones(len(labels), bool), 2 * cfg.people_per_batch + 1)

    optimizer = keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(
        cfg.learning_rate, cfg.epochs * cfg.steps_per_epoch, alpha=0.05))
    optimizer.build(head.trainable_variables)
    state = {"epoch": 0, "history": []}
    if resume and (out / "state.json").exists():
        state = json.loads((out / "state.json").read_text())
        head.load_weights(out / "head.weights.h5")
        with np.load(out / "optimizer.npz") as saved:
            for var, key in zip(optimizer.variables, sorted(saved.files, key=int)):
                var.assign(saved[key])
        print(f"resumed after epoch {state['epoch']}", file=sys.stderr)

    @tf.function(reduce_retracing=True)
    def step(x, y, target, fx, fg):
        with tf.GradientTape() as tape:
            emb = head(tf.concat([x, fx], 0), training=True)
            labelled = emb[:tf.shape(x)[0]]
            triplet = triplet_semihard_loss(labelled, y, cfg.alpha)
            held = emb[:tf.shape(target)[0]]  # the labelled faces, and FairFace's with stay_on_fairface
            stay = tf.reduce_mean(tf.reduce_sum(tf.square(held - target), axis=1))
            spread = spread_loss(emb[tf.shape(x)[0]:], fg, cfg.fair_margin) if cfg.fairface_per_race else 0.0
            loss = triplet + cfg.stay_weight * stay + cfg.fair_weight * spread
        grads = tape.gradient(loss, head.trainable_variables)
        optimizer.apply_gradients(zip(grads, head.trainable_variables))
        return triplet, stay, spread

    for epoch in range(state["epoch"], cfg.epochs):
        sampler = IdentitySampler(labels, cfg.people_per_batch, cfg.images_per_person, seed=cfg.seed * 1000 + epoch,
                                  lookalikes=lookalikes, lookalike_share=cfg.lookalike_batches, profiles=profiles)
        rng = np.random.default_rng([cfg.seed, epoch])
        t0, sums = time.time(), np.zeros(3)
        for _ in range(cfg.steps_per_epoch):
            idx = sampler.batch_indices()
            view = rng.integers(0, views, len(idx))
            x = _rows(feats, idx)[np.arange(len(idx)), view]
            fx, fg, target = x[:0], labels[:0], start_emb[idx, view]
            if fair is not None:
                fidx = _balanced_rows(fair[1], cfg.fairface_batch, rng)
                fview = rng.integers(0, fair[0].shape[1], len(fidx))
                fx, fg = _rows(fair[0], fidx)[np.arange(len(fidx)), fview], fair[1][fidx]
                if fair[2] is not None:
                    target = np.concatenate([target, fair[2][fidx, fview]])
            sums += [float(v) for v in step(x, labels[idx], target, fx, fg)]
        mean = sums / cfg.steps_per_epoch
        state["epoch"] = epoch + 1
        state["history"].append({"epoch": epoch + 1, "triplet": mean[0], "stay": mean[1],
                                 **({"spread": mean[2]} if fair is not None else {}),
                                 "seconds": round(time.time() - t0, 1)})
        print(json.dumps(state["history"][-1]), file=sys.stderr, flush=True)
        head.save_weights(out / "head.weights.h5")
        np.savez(out / "optimizer.npz", **{str(i): np.asarray(v) for i, v in enumerate(optimizer.variables)})
        (out / "state.json").write_text(json.dumps(state, indent=2))

    copy_head(head, start_model)
    start_model.save(out / "model.keras")
    recipe = json.loads((Path(cfg.init_from) / "config.json").read_text())
    (out / "config.json").write_text(json.dumps({**asdict(cfg), "backbone": "dlib_resnet", "embedding_size": 128,
                                                 "imported_from": recipe}, indent=2) + "\n")
    return out


def _rows(feats: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """feats[idx] as float32, read from the memory map in ascending order."""
    return np.asarray(feats[np.sort(idx)], np.float32)[np.argsort(np.argsort(idx))]


def _balanced_rows(groups: np.ndarray, per_group: int, rng) -> np.ndarray:
    """``per_group`` distinct rows of every group (all of a smaller one)."""
    return np.concatenate([rng.choice(np.flatnonzero(groups == g), min(per_group, int((groups == g).sum())),
                                      replace=False) for g in np.unique(groups)])


def _parse(kind: type, value: str):
    """A --set value as the config field's type."""
    if kind is tuple:
        return tuple(value.split(","))
    if kind is bool:
        return value.lower() in ("1", "true", "yes")
    return kind(value)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", choices=sorted(PRESETS), default="dlib-ft")
    ap.add_argument("--config", type=Path, help="a saved config.json (instead of --preset)")
    ap.add_argument("--out", help="output folder (default: the config's)")
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="override config fields")
    args = ap.parse_args(argv)
    cfg = FinetuneConfig.load(args.config) if args.config else PRESETS[args.preset]
    changes = {}
    for item in args.set:
        key, value = item.split("=", 1)
        changes[key] = _parse(type(getattr(cfg, key)), value)
    if args.out:
        changes["out_dir"] = args.out
    cfg = FinetuneConfig(**{**asdict(cfg), **changes})
    print(f"saved {train(cfg, resume=args.resume) / 'model.keras'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
