"""Clustering quality measures for the benchmarks; one implementation, in training/eval/clustering.py
(the operating points of the model card use them too)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from training.eval.clustering import adjusted_rand, bcubed_prf, f_score, pairwise_prf, summary  # noqa: E402,F401
