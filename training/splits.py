"""Which people training never sees: LFW's evaluation people and 50 held-out CFP people, under
every name they have in the data.

Kept apart from ``train.py`` so that preparation and evaluation can ask without importing Keras.
"""

from __future__ import annotations

import random
from pathlib import Path

from .config import TrainConfig
from .data import list_source
from .duplicates import has_duplicate, with_duplicates


def excluded_people(cfg: TrainConfig, data_root: Path) -> set[str]:
    """Source-prefixed identities that must not be trained on."""
    from .eval.lfw import read_pairs, read_people, view2_fold_people

    protocol = data_root / "lfw" / "protocol"
    out: set[str] = set()
    if cfg.exclude == "view1":
        out |= {f"lfw:{n}" for n in read_people(protocol / "peopleDevTest.txt")}
    elif cfg.exclude.startswith("view2-fold-"):
        fold = int(cfg.exclude.rsplit("-", 1)[1])
        out |= {f"lfw:{n}" for n in view2_fold_people(read_pairs(protocol / "pairs.txt"))[fold]}
    elif cfg.exclude != "none":
        raise ValueError(f"unknown exclude {cfg.exclude!r}")
    # The same people under their other names too (training/duplicates.py): "Nancy Peloci" in
    # CFP is LFW's DevTest Nancy_Pelosi; held-out CFP "George Bush" is LFW's George_W_Bush.
    out |= holdout_cfp_people(data_root, cfg.holdout_cfp_people)
    return with_duplicates(out) if cfg.exclude_other_names else out


def clean_holdout_cfp_people(data_root: Path, count: int) -> set[str]:
    """The held-out CFP people found nowhere else in the data: never trained on by any model,
    also by one whose config did not exclude their other names. Held-out figures are measured
    on these."""
    return holdout_cfp_people(data_root, count) - has_duplicate()


def holdout_cfp_people(data_root: Path, count: int) -> set[str]:
    """The CFP people kept out of every training (a cross-domain check), fixed by seed."""
    if count <= 0:
        return set()
    people = sorted({im.identity for im in list_source("cfp", data_root)})
    return set(random.Random(7).sample(people, min(count, len(people))))
