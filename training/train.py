"""Train the embedding network: triplet loss (+ optional dlib teacher), resumable.

    python -m training.train --preset distill [--out runs/distill] [--epochs N] [--resume]
    python -m training.train --config runs/distill/config.json --resume

Reads the aligned crops (and teacher embeddings) cached by ``python -m training.prepare``.
Writes into the output folder, after every epoch: ``config.json`` (the experiment),
``checkpoint.weights.h5`` + ``state.json`` (epoch, history; enough to resume), and at the end
``model.keras`` (the embedding network alone, for ``training.export``) and ``loss.png``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import ops  # noqa: E402

from .config import PRESETS, TrainConfig  # noqa: E402
from .data import default_data_root, list_source  # noqa: E402
from .dataset import Augment, IdentitySampler, OfflineTripletSampler, augment_crop, lookalike_identities  # noqa: E402
from .prepare import cache_paths, default_cache_dir  # noqa: E402
from .splits import excluded_people, holdout_cfp_people  # noqa: E402,F401 (re-exported)
from .views import load_views  # noqa: E402



@dataclass
class TrainingSet:
    crops: np.ndarray  # (n, s, s, 3) uint8
    labels: np.ndarray  # (n,) int identity index
    teacher: np.ndarray  # (n, 128) float32, zeros where missing
    has_teacher: np.ndarray  # (n,) bool
    identities: list[str]
    paths: list[str]
    # Consistent teaching (``cfg.teacher_views``): degraded crops and their own teacher targets.
    views: np.ndarray | None = None  # (n, v, s, s, 3) uint8
    view_teacher: np.ndarray | None = None  # (n, v, 128) float32, targets like ``teacher``
    has_view: np.ndarray | None = None  # (n, v) bool


def load_training_set(cfg: TrainConfig) -> TrainingSet:
    data_root = Path(cfg.data_root) if cfg.data_root else default_data_root()
    cache_dir = Path(cfg.cache_dir) if cfg.cache_dir else default_cache_dir()
    excluded = excluded_people(cfg, data_root)
    crops, teacher, identities, paths = [], [], [], []
    views, view_teacher, has_view = [], [], []
    for source in cfg.sources:
        images = list_source(source, data_root)
        cp = cache_paths(cache_dir, source, cfg.input_size)
        if not cp["crops"].exists():
            raise SystemExit(
                f"no aligned crops at {cp['crops']}: run python -m training.prepare "
                f"--sources {source} --size {cfg.input_size}"
            )
        c = np.load(cp["crops"], mmap_mode="r")
        t = np.load(cp["teacher"]) if cp["teacher"].exists() else np.full((len(images), 128), np.nan, np.float32)
        keep = np.array([im.identity not in excluded for im in images])
        crops.append(np.asarray(c[keep]))
        teacher.append(t[keep])
        if cfg.teacher_views:
            v, vt, vh = load_views(cache_dir, source, cfg.input_size, cfg.teacher_views, len(images))
            missing = int((~vh[keep]).sum())
            if missing > 0.01 * vh[keep].size:
                raise SystemExit(
                    f"{missing} of {vh[keep].size} {source} views are not cached: run python -m "
                    f"training.views --views {cfg.teacher_views} --size {cfg.input_size}"
                )
            views.append(v[keep])
            view_teacher.append(vt[keep])
            has_view.append(vh[keep])
        identities += [im.identity for im, k in zip(images, keep) if k]
        paths += [f"{source}/{im.path}" for im, k in zip(images, keep) if k]
    names, labels = np.unique(np.array(identities), return_inverse=True)
    teacher_all = np.concatenate(teacher).astype(np.float32)
    has_teacher = np.isfinite(teacher_all).all(axis=1)
    teacher_all[~has_teacher] = 0.0
    data = TrainingSet(
        np.concatenate(crops), labels.astype(np.int32),
        teacher_targets(teacher_all, has_teacher, cfg.teacher_target), has_teacher, list(names), paths,
    )
    if cfg.teacher_views:
        data.views, data.has_view = np.concatenate(views), np.concatenate(has_view)
        flat = np.concatenate(view_teacher).reshape(-1, 128)
        # Centred on the clean faces' mean, so a view's target sits where the clean one's does.
        data.view_teacher = teacher_targets(
            flat, data.has_view.reshape(-1), cfg.teacher_target, center=teacher_all[has_teacher].mean(axis=0)
        ).reshape(data.has_view.shape + (128,))
    return data


def teacher_targets(teacher: np.ndarray, has_teacher: np.ndarray, mode: str, center: np.ndarray | None = None) -> np.ndarray:
    """The distillation targets: the teacher's embeddings as they are, or centred and
    re-normalised (on ``center``, by default the mean over the faces that have one)."""
    if mode == "raw" or not has_teacher.any():
        return teacher
    if mode != "centered":
        raise ValueError(f"unknown teacher_target {mode!r}")
    out = teacher - (teacher[has_teacher].mean(axis=0) if center is None else center)
    out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
    out[~has_teacher] = 0.0
    return out.astype(np.float32)


def make_batches(cfg: TrainConfig, data: TrainingSet):
    """A keras PyDataset of augmented batches; its RNG follows (seed, epoch, step)."""
    augment = {"real": Augment(), "basic": Augment.basic(), "clean": Augment.clean()}[cfg.augment]
    geometric = Augment.geometric()
    with_views = cfg.teacher_views > 0 and data.views is not None

    class Batches(keras.utils.PyDataset):
        def __init__(self):
            super().__init__()
            self.epoch = 0
            if cfg.miner == "offline":
                triplets = cfg.batch_size // 3
                self.sampler = OfflineTripletSampler(data.labels, cfg.num_same, cfg.num_diff, triplets, cfg.seed)
            elif cfg.miner == "semihard":
                lookalikes = (lookalike_identities(data.labels, data.teacher, data.has_teacher, 2 * cfg.people_per_batch + 1)
                              if cfg.lookalike_batches > 0 else None)
                self.sampler = IdentitySampler(data.labels, cfg.people_per_batch, cfg.images_per_person, cfg.seed,
                                               lookalikes, cfg.lookalike_batches)
            else:
                raise ValueError(f"unknown miner {cfg.miner!r}")

        def __len__(self):
            return cfg.steps_per_epoch

        def __getitem__(self, step):
            rng = np.random.default_rng((cfg.seed, self.epoch, step))
            self.sampler.rng = rng
            idx = self.sampler.batch_indices()
            teacher, has_teacher = data.teacher[idx], data.has_teacher[idx]
            if with_views:
                view = rng.integers(0, data.views.shape[1], len(idx))
                use = (rng.random(len(idx)) < cfg.view_share) & data.has_view[idx, view]
                x = np.stack([
                    augment_crop(data.views[i, v], geometric, rng) if u else augment_crop(data.crops[i], augment, rng)
                    for i, v, u in zip(idx, view, use)
                ]).astype(np.float32)
                teacher = np.where(use[:, None], data.view_teacher[idx, view], teacher)
                has_teacher = has_teacher | use
            else:
                x = np.stack([augment_crop(data.crops[i], augment, rng) for i in idx]).astype(np.float32)
            y = {"labels": data.labels[idx], "teacher": teacher, "has_teacher": has_teacher.astype(np.float32)}
            return x, y

        def on_epoch_end(self):
            self.epoch += 1

    return Batches()


def build_trainer(cfg: TrainConfig):
    from .losses import (
        distill_regression_loss,
        distill_relational_loss,
        triplet_loss,
        triplet_semihard_loss,
    )

    class Trainer(keras.Model):
        """The embedding network plus the loss: triplet (+ teacher terms)."""

        def __init__(self, backbone):
            super().__init__()
            self.backbone = backbone
            self.triplet_tracker = keras.metrics.Mean(name="triplet")
            self.distill_tracker = keras.metrics.Mean(name="distill")

        def call(self, x, training=False):
            return self.backbone(x, training=training)

        def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
            y_pred = ops.cast(y_pred, "float32")  # under mixed precision the losses stay float32
            if cfg.miner == "offline":
                # Offline batches are [anchors, positives, negatives], a third each.
                third = cfg.batch_size // 3
                a, p, n = y_pred[:third], y_pred[third : 2 * third], y_pred[2 * third :]
                trip = triplet_loss(a, p, n, cfg.alpha)
            else:
                trip = triplet_semihard_loss(y_pred, y["labels"], cfg.alpha)
            loss = trip
            self.triplet_tracker.update_state(trip)
            if cfg.distill_weight or cfg.relational_weight:
                w = y["has_teacher"]
                distill = cfg.distill_weight * distill_regression_loss(y_pred, y["teacher"], w)
                distill = distill + cfg.relational_weight * distill_relational_loss(y_pred, y["teacher"], w)
                self.distill_tracker.update_state(distill)
                loss = loss + distill
            return loss

        @property
        def metrics(self):
            return super().metrics + [self.triplet_tracker, self.distill_tracker]

    trainer = Trainer(build_network(cfg))
    total = cfg.epochs * cfg.steps_per_epoch
    warmup = cfg.warmup_epochs * cfg.steps_per_epoch
    schedule = keras.optimizers.schedules.CosineDecay(
        cfg.learning_rate * 0.05, max(total - warmup, 1), alpha=0.01,
        warmup_target=cfg.learning_rate, warmup_steps=warmup,
    )
    trainer.compile(optimizer=keras.optimizers.AdamW(schedule, weight_decay=cfg.weight_decay))
    trainer.build((None, cfg.input_size, cfg.input_size, 3))
    return trainer


def float32_network(cfg: TrainConfig, backbone):
    """The trained network with float32 layers (a mixed-precision run's layers compute in
    bfloat16; export and evaluation want the float32 graph)."""
    if cfg.precision == "float32":
        return backbone
    net = build_network(cfg)
    net.set_weights(backbone.get_weights())
    return net


def build_network(cfg: TrainConfig):
    """The embedding network ``cfg`` describes (its layers take the current dtype policy)."""
    from .backbones import build_backbone

    return build_backbone(
        cfg.backbone, input_size=cfg.input_size, embedding_size=cfg.embedding_size,
        widths=tuple(cfg.widths), blocks=tuple(cfg.blocks), dropout=cfg.dropout,
    )


def init_weights(backbone, run: Path, cfg: TrainConfig | None = None) -> None:
    """Start from the network a finished run saved (its model.keras); the shapes must match, and
    the run must have kept out the people ``cfg`` keeps out (else they are learnt all the same)."""
    parent = run / "config.json"
    if cfg is not None and parent.exists():
        theirs_cfg = json.loads(parent.read_text())
        for key in ("exclude", "holdout_cfp_people"):
            if theirs_cfg.get(key) != getattr(cfg, key):
                raise ValueError(f"{run} was trained with {key} {theirs_cfg.get(key)!r}, this config has "
                                 f"{getattr(cfg, key)!r}: its network has seen people this run must not")
    source = keras.models.load_model(run / "model.keras", compile=False)
    theirs, ours = source.get_weights(), backbone.get_weights()
    if [w.shape for w in theirs] != [w.shape for w in ours]:
        raise ValueError(f"{run}: its network differs from this config's; cannot start from it")
    backbone.set_weights(theirs)
    print(f"started from the network of {run}", flush=True)


class Progress(keras.callbacks.Callback):
    """Checkpoint and history after every epoch, and the time left for the whole run."""

    def __init__(self, cfg: TrainConfig, out: Path, history: list, start_epoch: int):
        super().__init__()
        self.cfg, self.out, self.history, self.start_epoch = cfg, out, history, start_epoch
        self.t0 = time.time()

    def on_epoch_end(self, epoch, logs=None):
        row = {"epoch": epoch + 1, **{k: float(v) for k, v in (logs or {}).items()}}
        self.history.append(row)
        self.model.save_weights(self.out / "checkpoint.weights.h5")
        state = {"epoch": epoch + 1, "history": self.history}
        (self.out / "state.json").write_text(json.dumps(state, indent=2))
        done = epoch + 1 - self.start_epoch
        left = (time.time() - self.t0) / max(done, 1) * (self.cfg.epochs - epoch - 1)
        print(
            f"epoch {epoch + 1}/{self.cfg.epochs}: loss {row.get('loss', 0):.4f} "
            f"triplet {row.get('triplet', 0):.4f} distill {row.get('distill', 0):.4f}; "
            f"about {left / 60:.0f} min left",
            flush=True,
        )


def train(cfg: TrainConfig, resume: bool = False, verbose: int = 1, data: TrainingSet | None = None) -> Path:
    """Train (or resume) the run described by ``cfg``; ``data`` defaults to the crop cache."""
    keras.utils.set_random_seed(cfg.seed)
    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    cfg.save(out / "config.json")
    data = data if data is not None else load_training_set(cfg)
    print(
        f"training on {len(data.labels)} faces of {len(data.identities)} people "
        f"({int(data.has_teacher.sum())} with teacher embeddings)",
        flush=True,
    )
    keras.mixed_precision.set_global_policy(cfg.precision)
    try:
        trainer = build_trainer(cfg)
    finally:
        keras.mixed_precision.set_global_policy("float32")  # layers keep theirs; nothing else inherits it
    if cfg.init_from:
        init_weights(trainer.backbone, Path(cfg.init_from), cfg)
    history, start = [], 0
    state_file = out / "state.json"
    if resume and state_file.exists():
        state = json.loads(state_file.read_text())
        # Build the optimizer first: unbuilt, it has no slots to load into, and Keras then
        # silently drops the saved Adam moments and restarts them from zero.
        trainer.optimizer.build(trainer.trainable_variables)
        trainer.load_weights(out / "checkpoint.weights.h5")
        history, start = state["history"], state["epoch"]
        trainer.optimizer.iterations.assign(start * cfg.steps_per_epoch)
        print(f"resumed after epoch {start}", flush=True)
    batches = make_batches(cfg, data)
    batches.epoch = start
    if start < cfg.epochs:
        # Each batch is drawn from (seed, epoch, step) already; Keras's own shuffle of the step
        # order would follow its global RNG, which a resumed run cannot restore.
        trainer.fit(
            batches, epochs=cfg.epochs, initial_epoch=start, verbose=verbose, shuffle=False,
            callbacks=[Progress(cfg, out, history, start)],
        )
    float32_network(cfg, trainer.backbone).save(out / "model.keras")
    try:
        from .eval.plots import plot_loss

        if history:
            plot_loss(history, out / "loss.png")
    except ImportError:
        pass
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", choices=sorted(PRESETS), default="distill")
    ap.add_argument("--config", type=Path, help="a saved config.json (overrides --preset)")
    ap.add_argument("--out", help="output folder")
    ap.add_argument("--epochs", type=int)
    ap.add_argument("--steps", type=int, help="steps per epoch")
    ap.add_argument("--exclude", help='"view1", "view2-fold-N" or "none"')
    ap.add_argument("--lr", type=float, help="peak learning rate")
    ap.add_argument("--seed", type=int)
    ap.add_argument("--init-from", help="a finished run folder whose network starts this run")
    ap.add_argument("--precision", choices=["float32", "mixed_bfloat16"], help="compute precision while training")
    ap.add_argument("--lookalike-batches", type=float, help="share of batches made of look-alike identities (0-1)")
    ap.add_argument("--resume", action="store_true")
    args = ap.parse_args(argv)
    cfg = TrainConfig.load(args.config) if args.config else PRESETS[args.preset]
    changes = {
        k: v for k, v in
        {
            "out_dir": args.out, "epochs": args.epochs, "steps_per_epoch": args.steps,
            "exclude": args.exclude, "learning_rate": args.lr, "seed": args.seed,
            "init_from": args.init_from, "precision": args.precision, "lookalike_batches": args.lookalike_batches,
        }.items()
        if v is not None
    }
    cfg = cfg.replace(**changes)
    out = train(cfg, resume=args.resume, verbose=1 if sys.stdout.isatty() else 2)
    print(f"saved {out / 'model.keras'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
