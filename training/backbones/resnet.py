"""A small ResNet (basic blocks, PReLU, BN) with a BN-FC-BN embedding head, as in ArcFace's
IResNet family but narrower and shallower so it trains on a 2-core CPU.

The network takes RGB pixels in [0, 255] (the normalisation is its first layer, so the app feeds
the aligned crop as it is) and outputs an L2-normalised embedding.
"""

from __future__ import annotations

import keras
from keras import layers


def _conv_bn_act(x, filters, kernel, strides, name):
    x = layers.Conv2D(filters, kernel, strides=strides, padding="same", use_bias=False, name=f"{name}_conv")(x)
    x = layers.BatchNormalization(name=f"{name}_bn")(x)
    return layers.PReLU(shared_axes=[1, 2], name=f"{name}_prelu")(x)


def _basic_block(x, filters, strides, name):
    shortcut = x
    y = layers.BatchNormalization(name=f"{name}_bn0")(x)
    y = layers.Conv2D(filters, 3, strides=1, padding="same", use_bias=False, name=f"{name}_conv1")(y)
    y = layers.BatchNormalization(name=f"{name}_bn1")(y)
    y = layers.PReLU(shared_axes=[1, 2], name=f"{name}_prelu")(y)
    y = layers.Conv2D(filters, 3, strides=strides, padding="same", use_bias=False, name=f"{name}_conv2")(y)
    y = layers.BatchNormalization(name=f"{name}_bn2")(y)
    if strides != 1 or shortcut.shape[-1] != filters:
        shortcut = layers.Conv2D(filters, 1, strides=strides, use_bias=False, name=f"{name}_down")(shortcut)
        shortcut = layers.BatchNormalization(name=f"{name}_down_bn")(shortcut)
    return layers.Add(name=f"{name}_add")([y, shortcut])


def build_resnet(
    input_size: int = 96,
    embedding_size: int = 128,
    widths: tuple[int, ...] = (32, 64, 128, 256),
    blocks: tuple[int, ...] = (1, 2, 3, 1),
    dropout: float = 0.0,
) -> keras.Model:
    """Stem (stride 2) then one stage per width, each starting with a stride-2 block."""
    inputs = keras.Input((input_size, input_size, 3), name="face")
    x = layers.Rescaling(1.0 / 128.0, offset=-127.5 / 128.0, name="normalise")(inputs)
    x = _conv_bn_act(x, widths[0], 3, 2, "stem")
    for stage, (filters, count) in enumerate(zip(widths, blocks)):
        for i in range(count):
            x = _basic_block(x, filters, 2 if i == 0 else 1, f"s{stage}b{i}")
    x = layers.BatchNormalization(name="head_bn0")(x)
    x = layers.PReLU(shared_axes=[1, 2], name="head_prelu")(x)
    # Flatten keeps where each feature is on the face (global pooling would discard it).
    x = layers.Flatten(name="head_flatten")(x)
    if dropout:
        x = layers.Dropout(dropout, name="head_dropout")(x)
    x = layers.Dense(embedding_size, name="head_fc")(x)
    x = layers.BatchNormalization(name="head_bn1")(x)
    x = layers.UnitNormalization(name="embedding")(x)
    return keras.Model(inputs, x, name="photoface_resnet")
