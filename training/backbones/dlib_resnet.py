"""dlib's face-recognition ResNet (``dlib_face_recognition_resnet_model_v1``) in Keras 3.

The network of dlib's ``dnn_face_recognition_ex.cpp``, layer for layer: a 7x7/2 convolution and
3x3/2 max pooling on a 150x150 RGB chip, then residual stages of 32 (x3), 64 (x4), 128 (x3),
256 (x3) and 256 (x1) filters (each stage after the first opens with a stride-2 block whose
shortcut is a 2x2 average pool), average pooling over everything and a 128-wide linear layer
without bias. Details that matter for equality with dlib:

* dlib's stride-2 convolutions and poolings pad nothing ("valid"); its stride-1 3x3 ones pad 1;
* batch normalisation was folded into per-channel affine layers (gamma * x + beta);
* a residual sum of two tensors of different sizes (a stride-2 block's 3x3 output beside its
  shortcut's 4x4, or 64 channels beside 32) pads each with zeros at the bottom, right and in the
  last channels to the larger size, as dlib's ``tt::add`` does.

The input is pixels in 0..255; the network subtracts dlib's channel means and divides by 256.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers, ops

CHIP_SIZE = 150

# Filters per residual unit, input to output: 3 units of 32, then per stage a stride-2 unit and
# its stride-1 followers.
STAGES = ((32, 3, False), (64, 4, True), (128, 3, True), (256, 3, True), (256, 1, True))


@keras.saving.register_keras_serializable(package="photoface")
class ChannelAffine(layers.Layer):
    """gamma * x + beta per channel: dlib's inference form of batch normalisation."""

    def build(self, input_shape):
        k = input_shape[-1]
        self.gamma = self.add_weight(shape=(k,), initializer="ones", name="gamma")
        self.beta = self.add_weight(shape=(k,), initializer="zeros", name="beta")

    def call(self, x):
        return x * self.gamma + self.beta


@keras.saving.register_keras_serializable(package="photoface")
class ZeroPadAdd(layers.Layer):
    """The sum of two feature maps, each zero-padded (bottom, right, last channels) to the
    larger size of the two: dlib's ``add_prev`` on tensors of different sizes."""

    def compute_output_shape(self, shapes):
        a, b = shapes
        return (a[0],) + tuple(max(x, y) for x, y in zip(a[1:], b[1:]))

    def call(self, inputs):
        a, b = inputs
        target = [max(x, y) for x, y in zip(a.shape[1:], b.shape[1:])]

        def pad(t):
            extra = [(0, 0)] + [(0, n - m) for n, m in zip(target, t.shape[1:])]
            return ops.pad(t, extra) if any(e[1] for e in extra) else t

        return pad(a) + pad(b)


def _conv(x, filters, stride, name, kernel=3):
    padding = "same" if stride == 1 else "valid"  # kernel 3, stride 1: "same" pads 1, as dlib
    return layers.Conv2D(filters, kernel, strides=stride, padding=padding, name=name)(x)


def _unit(x, filters, down, name):
    y = _conv(x, filters, 2 if down else 1, f"{name}_conv1")
    y = ChannelAffine(name=f"{name}_affine1")(y)
    y = layers.ReLU(name=f"{name}_relu1")(y)
    y = _conv(y, filters, 1, f"{name}_conv2")
    y = ChannelAffine(name=f"{name}_affine2")(y)
    shortcut = layers.AveragePooling2D(2, 2, padding="valid", name=f"{name}_pool")(x) if down else x
    y = ZeroPadAdd(name=f"{name}_add")([y, shortcut])
    return layers.ReLU(name=f"{name}_relu")(y)


def units() -> list[tuple[str, int, bool]]:
    """The residual units, input to output: (name ``s{stage}u{unit}``, filters, stride 2?)."""
    return [(f"s{s}u{u}", filters, down and u == 0)
            for s, (filters, count, down) in enumerate(STAGES) for u in range(count)]


def unit_names() -> list[str]:
    return [name for name, _, _ in units()]


def _top(x, first_unit: str | None, normalise: bool):
    """The units from ``first_unit`` on (None: all), pooling and the linear layer."""
    names = unit_names()
    start = 0 if first_unit is None else names.index(first_unit)
    for name, filters, down in units()[start:]:
        x = _unit(x, filters, down, name)
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    x = layers.Dense(128, use_bias=False, name="fc")(x)
    return layers.UnitNormalization(name="embedding")(x) if normalise else x


def build_dlib_resnet(normalise: bool = True, mean=(122.782, 117.001, 104.298)) -> keras.Model:
    """The network with freshly initialised weights (``load_dlib_weights`` fills them)."""
    inputs = keras.Input((CHIP_SIZE, CHIP_SIZE, 3), name="face")
    m = np.asarray(mean, np.float32)
    x = layers.Rescaling(1.0 / 256.0, offset=-m / 256.0, name="normalise")(inputs)
    x = _conv(x, 32, 2, "stem_conv", kernel=7)
    x = ChannelAffine(name="stem_affine")(x)
    x = layers.ReLU(name="stem_relu")(x)
    x = layers.MaxPooling2D(3, 2, padding="valid", name="stem_pool")(x)
    return keras.Model(inputs, _top(x, None, normalise), name="dlib_resnet")


def split(model: keras.Model, first_unit: str) -> tuple[keras.Model, keras.Model]:
    """(trunk, head) of a built network: the trunk maps a chip to the feature map entering
    ``first_unit``, the head maps that feature map to the embedding. The head has its own copies
    of the weights, by layer name (``copy_head`` puts them back)."""
    names = unit_names()
    start = names.index(first_unit)
    entry = "stem_pool" if start == 0 else f"{names[start - 1]}_relu"
    trunk = keras.Model(model.input, model.get_layer(entry).output, name="trunk")
    features = keras.Input(tuple(trunk.output.shape[1:]), name="features")
    head = keras.Model(features, _top(features, first_unit, "embedding" in [l.name for l in model.layers]), name="head")
    copy_head(model, head)
    return trunk, head


def copy_head(source: keras.Model, target: keras.Model) -> None:
    """Copy the weights of every layer ``target`` shares by name with ``source``."""
    have = {layer.name: layer for layer in source.layers}
    for layer in target.layers:
        if layer.weights and layer.name in have:
            layer.set_weights(have[layer.name].get_weights())


def load_dlib_weights(model: keras.Model, net) -> keras.Model:
    """Copy ``training.dlib_weights.read()``'s weights into ``model`` (layers in dlib's order)."""
    convs = ["stem_conv"] + [f"{u}_conv{i}" for u in unit_names() for i in (1, 2)]
    affines = ["stem_affine"] + [f"{u}_affine{i}" for u in unit_names() for i in (1, 2)]
    for name, conv in zip(convs, net.convs, strict=True):
        model.get_layer(name).set_weights([conv.kernel, conv.bias])
    for name, affine in zip(affines, net.affines, strict=True):
        model.get_layer(name).set_weights([affine.gamma, affine.beta])
    model.get_layer("fc").set_weights([net.fc])
    return model


def dlib_resnet(path=None, normalise: bool = True) -> keras.Model:
    """dlib's network with its own weights (read from the face-recognition-models package)."""
    from .. import dlib_weights

    net = dlib_weights.read(path)
    return load_dlib_weights(build_dlib_resnet(normalise=normalise, mean=net.input_mean), net)
