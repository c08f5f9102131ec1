"""Shared fixtures: the real data folder (skipped with a reason when absent) and small images."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("PHOTOFACE_DATA", ROOT.parent / "shared" / "data"))


def data_dir(*parts: str) -> Path:
    """A folder of the shared data set, or skip the test saying what is missing."""
    path = DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"needs the shared data set: {path} not found (set PHOTOFACE_DATA)")
    return path


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    """A real face shipped with scikit-image (512x512 RGB)."""
    from skimage import data

    return data.astronaut()


@pytest.fixture(scope="session")
def detector():
    from photoface.detection import FaceDetector

    return FaceDetector()


@pytest.fixture
def synthetic_card(monkeypatch):
    """Libraries opened without a model folder (the command line's too) get the card whose
    thresholds the synthetic embeddings of ``library_fixtures`` are spaced for."""
    from tests.library_fixtures import synthetic_models

    monkeypatch.setattr("photoface.library.models_dir", synthetic_models)
