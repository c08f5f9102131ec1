"""Seconds per training step of a recipe, in float32 and in mixed bfloat16 (``--precision``).

Random crops and teacher embeddings (the step's cost does not depend on the pixels), the
recipe's batch (P x K images) and network; 3 warm-up steps, then the mean of ``--steps``. Each
precision runs in a fresh process (Keras's dtype policy is global).

    .venv/bin/python benchmarks/train_step.py [--preset distill | --config runs/NAME/config.json] [--steps 8]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent)]
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def seconds_per_step(preset: str, precision: str, steps: int, config: str | None = None) -> float:
    import keras
    import numpy as np

    from training.config import PRESETS, TrainConfig
    from training.train import build_trainer

    base = TrainConfig.load(Path(config)) if config else PRESETS[preset]
    cfg = base.replace(precision=precision)
    keras.mixed_precision.set_global_policy(precision)
    trainer = build_trainer(cfg)
    rng = np.random.default_rng(0)
    n = cfg.people_per_batch * cfg.images_per_person
    x = rng.uniform(0, 255, (n, cfg.input_size, cfg.input_size, 3)).astype(np.float32)
    teacher = rng.normal(size=(n, cfg.embedding_size)).astype(np.float32)
    teacher /= np.linalg.norm(teacher, axis=1, keepdims=True)
    y = {"labels": np.repeat(np.arange(cfg.people_per_batch), cfg.images_per_person), "teacher": teacher,
         "has_teacher": np.ones(n, np.float32)}
    for _ in range(3):
        trainer.train_on_batch(x, y)
    t = time.perf_counter()
    for _ in range(steps):
        trainer.train_on_batch(x, y)
    return (time.perf_counter() - t) / steps


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="distill")
    ap.add_argument("--config", help="a run's config.json instead of a preset (its network and batch)")
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--precision", help="measure only this one (in this process)")
    args = ap.parse_args(argv)
    if args.precision:
        print(f"{seconds_per_step(args.preset, args.precision, args.steps, args.config):.4f}")
        return 0
    times = {}
    name = args.config or args.preset
    source = ["--config", args.config] if args.config else ["--preset", args.preset]
    for precision in ("float32", "mixed_bfloat16"):
        out = subprocess.run([sys.executable, __file__, *source, "--steps", str(args.steps),
                              "--precision", precision], capture_output=True, text=True, check=True)
        times[precision] = float(out.stdout.strip().splitlines()[-1])
        print(f"{name} {precision}: {times[precision]:.3f} s per step", flush=True)
    print(f"mixed_bfloat16 / float32: {times['mixed_bfloat16'] / times['float32']:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
