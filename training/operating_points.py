"""The app's grouping threshold: how strict to be when grouping unnamed faces.

The model card's ``same_person_threshold`` is the best-accuracy threshold for one balanced pair
("are these two the same person?"). A library is not a balanced pair: every face meets every
other person's faces, so the false accepts of a pair threshold add up into merged groups and
wrong names. Grouping therefore runs at a stricter threshold, ``group_threshold``, read off the
false accept rate (FAR 3%) among all frontal photos of the 50 held-out CFP people (never trained
on; not LFW, so that LFW stays a clean benchmark and the threshold is not tuned to it). Average
linkage compares the *mean* distance between groups, so it tolerates single close impostors.

Why 3%: a family album holds tens of people. On albums of 30 LFW test people with 4+ or 8+
photos (``benchmarks/album.py --subsets``) FAR 3% grouped with BCubed precision 0.95-0.97 and
recall 0.79-0.82, FAR 2% with 0.96-0.98 and 0.68-0.70, the pair threshold with 0.84-0.86 and
0.91-0.92. With 1,711 people in one library every threshold does worse (README).

Recognition keeps the pair threshold: a stricter one (FAR 0.3%: 0.37 for the bundled model)
left the named people of ``album-mini`` unrecognised (their test faces lie 0.43-0.84 from their
named faces, strangers 1.0 and more), and its k-NN majority vote already adds caution.

    python -m training.operating_points --model resources/models [--write]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

GROUP_FAR = 0.03
CHOSEN_ON = "all frontal photo pairs of the 50 held-out CFP people (never trained on)"


def threshold_at_far(embeddings: np.ndarray, identities, far: float) -> tuple[float, float, int, int]:
    """(threshold, true accept rate at it, same pairs, different pairs) over all pairs of rows:
    the largest squared-L2 threshold whose false accept rate is at most ``far``."""
    e = np.asarray(embeddings, np.float64)
    ids = np.asarray(identities)
    upper = np.triu_indices(len(e), 1)
    d = np.maximum(2 - 2 * (e @ e.T), 0)[upper]
    same = (ids[:, None] == ids[None, :])[upper]
    impostor = np.sort(d[~same])
    if not len(impostor) or not same.any():
        raise ValueError("need both same-person and different-person pairs")
    allowed = int(np.floor(far * len(impostor)))  # false accepts allowed: distances below the cut
    threshold = float(impostor[allowed]) if allowed < len(impostor) else float(impostor[-1]) + 1e-6
    return threshold, float(np.mean(d[same] < threshold)), int(same.sum()), int(len(impostor))


def operating_points(embeddings: np.ndarray, identities) -> dict:
    out = {}
    for key, far in (("group_threshold", GROUP_FAR),):
        t, tar, n_same, n_diff = threshold_at_far(embeddings, identities, far)
        out[key] = {"value": t, "far": far, "tar": tar, "same_pairs": n_same, "different_pairs": n_diff,
                    "chosen_on": CHOSEN_ON}
    return out


def is_held_out_frontal(data_root: Path):
    """A test of CFP images: a frontal photo of one of the 50 held-out people?"""
    from .evaluate import HOLDOUT_CFP
    from .train import holdout_cfp_people

    held = holdout_cfp_people(data_root, HOLDOUT_CFP)
    return lambda im: im.identity in held and im.pose == "frontal"


def held_out_frontal(emb_by_path: dict, data_root: Path) -> tuple[np.ndarray, list[str]]:
    """The embeddings (from ``emb_by_path``) and identities of the held-out CFP frontal photos."""
    from .data import list_source

    wanted = is_held_out_frontal(data_root)
    rows = [(emb_by_path[im.path], im.identity) for im in list_source("cfp", data_root)
            if wanted(im) and im.path in emb_by_path]
    return np.stack([r[0] for r in rows]), [r[1] for r in rows]


def write_card(model_dir: Path, points: dict) -> dict:
    path = Path(model_dir) / "model_card.json"
    card = json.loads(path.read_text())
    for key, p in points.items():
        card["embedding"][key] = p["value"]
    card["operating_points"] = points
    path.write_text(json.dumps(card, indent=2) + "\n")
    return card


def main(argv=None) -> int:
    from photoface.embedder import Embedder

    from .data import default_data_root
    from .evaluate import embed_source
    from .prepare import default_cache_dir

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, default=Path("resources/models"))
    ap.add_argument("--data", type=Path, default=default_data_root())
    ap.add_argument("--cache", type=Path, default=default_cache_dir())
    ap.add_argument("--from-photos", action="store_true", help="detect and align the photos again (no cache)")
    ap.add_argument("--write", action="store_true", help="record the thresholds in the model card")
    args = ap.parse_args(argv)
    embedder = Embedder(args.model, verify=False)
    emb = embed_source(embedder, "cfp", args.data, args.cache, args.from_photos,
                       keep=is_held_out_frontal(args.data))
    points = operating_points(*held_out_frontal(emb, args.data))
    print(f"pair threshold (model card): {embedder.card.threshold:.4f}")
    for key, p in points.items():
        print(f"{key}: {p['value']:.4f} at FAR {p['far']:g} (true accepts {p['tar']:.3f}; "
              f"{p['same_pairs']} same / {p['different_pairs']} different pairs)")
    if args.write:
        write_card(args.model, points)
        print(f"written to {args.model / 'model_card.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
