"""Blend a fine-tuned network's weights with those of the network it started from.

    python -m training.blend --run runs/dlib-fair --share 0.5 [--out runs/dlib-fair-b05]

Every weight becomes ``share`` x the fine-tuned value + (1 - share) x the starting value (the
run's ``init_from``): weight-space ensembling (Wortsman et al., "Robust fine-tuning of zero-shot
models", CVPR 2022). A fine-tune and its start lie in one basin, so the blend is a network in its
own right, and a share below 1 keeps more of what the starting weights knew while keeping much of
what the fine-tune added. The result is a run folder like any other, for ``training.export``.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def blend(run: Path, share: float, out: Path, start: Path | None = None) -> Path:
    import keras

    from . import backbones  # noqa: F401 (registers the imported network's layers)

    if not 0.0 <= share <= 1.0:
        raise SystemExit(f"--share must lie in [0, 1], got {share}")
    config = json.loads((Path(run) / "config.json").read_text())
    start = Path(start or config["init_from"])
    tuned = keras.models.load_model(Path(run) / "model.keras", compile=False)
    base = keras.models.load_model(start / "model.keras", compile=False)
    names = [layer.name for layer in tuned.layers]
    if names != [layer.name for layer in base.layers]:
        raise SystemExit(f"{run} and {start} are not the same network")
    for a, b in zip(tuned.layers, base.layers):
        if a.get_weights():
            a.set_weights([share * x + (1.0 - share) * y for x, y in zip(a.get_weights(), b.get_weights())])
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    tuned.save(out / "model.keras")
    config.update(name=f"{config.get('name', 'model')}-blend{share:g}", out_dir=str(out),
                  blend={"share": share, "fine_tuned": str(run), "start": str(start)})
    (out / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", type=Path, required=True, help="the fine-tuned run folder")
    ap.add_argument("--share", type=float, required=True, help="the fine-tune's share of every weight, 0..1")
    ap.add_argument("--start", type=Path, help="the starting run (default: the run's init_from)")
    ap.add_argument("--out", type=Path, help="output folder (default: RUN-bSHARE)")
    args = ap.parse_args(argv)
    out = args.out or Path(f"{args.run}-b{round(args.share * 100):02d}")
    print(f"saved {blend(args.run, args.share, out, args.start) / 'model.keras'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
