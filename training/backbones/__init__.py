"""Embedding networks: a compact CNN mapping an aligned face to a 128-d unit vector."""

from .dlib_resnet import build_dlib_resnet  # noqa: F401 (also registers its layers for loading)
from .resnet import build_resnet

BACKBONES = {"resnet": build_resnet}


def build_backbone(name: str, **kwargs):
    try:
        return BACKBONES[name](**kwargs)
    except KeyError:
        raise ValueError(f"unknown backbone {name!r}; choose from {sorted(BACKBONES)}") from None
