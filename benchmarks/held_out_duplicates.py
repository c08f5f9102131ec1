"""How much did training on held-out people under their other names inflate the held-out figures?

The 50 held-out CFP people split into the 17 who are in LFW or CelebA under another name (trained
on there by a model whose config did not exclude other names) and the 33 who are nowhere else.
CFP pair accuracy on each group (mean and sd over 10 draws of folds and different-person pairs),
for a model and for the dlib teacher (which none of our training touched: how hard each group is
in itself). A model that gains on the 17 against the teacher learnt them.

    .venv/bin/python benchmarks/held_out_duplicates.py [--model resources/models]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent)]
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def main(argv=None) -> int:
    from photoface.embedder import Embedder
    from training.data import default_data_root
    from training.duplicates import has_duplicate
    from training.evaluate import HOLDOUT_CFP, embed_source, evaluate_cfp_draws, teacher_embeddings
    from training.prepare import default_cache_dir
    from training.splits import holdout_cfp_people

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, default=Path("resources/models"))
    ap.add_argument("--data", type=Path, default=default_data_root())
    ap.add_argument("--cache", type=Path, default=default_cache_dir())
    args = ap.parse_args(argv)
    if not (args.data / "cfp").is_dir():
        print(f"no CFP data at {args.data / 'cfp'}: nothing to measure")
        return 2
    held = holdout_cfp_people(args.data, HOLDOUT_CFP)
    groups = {"in another source too": held & has_duplicate(), "nowhere else": held - has_duplicate()}
    embedder = Embedder(args.model, verify=False)
    model = embed_source(embedder, "cfp", args.data, args.cache)
    teacher = teacher_embeddings("cfp", args.data, args.cache)
    out = {"model": embedder.card.version}
    for name, people in groups.items():
        row = {"people": len(people)}
        for who, emb in (("model", model), ("teacher", teacher)):
            if emb is None:
                continue
            r = evaluate_cfp_draws(emb, people, args.data)
            row[who] = {k: [round(r[k]["accuracy"], 4), round(r[k]["sd_over_draws"], 4)]
                        for k in ("frontal-frontal", "frontal-profile")}
        out[name] = row
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
