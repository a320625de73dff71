"""Running the speech models: Silero VAD (where speech is) and PocketSphinx (the words).

Both ship their weights in their wheels and nothing is downloaded:
``silero-vad`` (MIT) carries ``data/silero_vad.onnx``, read here with
onnxruntime (the package itself imports torch, so it is installed with
``--no-deps`` from requirements-models.txt and never imported);
``pocketsphinx`` (BSD, the ``audio`` extra) carries its US English acoustic
model, language model and dictionary.
"""

from __future__ import annotations

import importlib.util
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from veil.audio.transcript import Transcript, Word, speech_spans
from veil.detect.models import model_file
from veil.errors import VeilError

RATE = 16000  # both models take 16 kHz mono
_VAD_CHUNK = 512  # samples per score (32 ms); the model's fixed input
_VAD_CONTEXT = 64  # samples of the previous chunk the model also sees
_FRAMES_PER_SECOND = 100  # PocketSphinx's frame rate
# PocketSphinx at its defaults decoded 38 s of speech in 12.7 s of one core;
# fewer active HMMs a frame cut that to 11.1 s for the same words
_DECODER_OPTIONS = {"maxhmmpf": 5000}
_NOT_WORDS = {"<s>", "</s>", "<sil>", "[NOISE]", "<unk>"}
AUDIO_EXTRA = "pip install 'veil[audio]'"


def _package_dir(name: str, install: str) -> Path:
    """Where an installed package's files are, without importing it."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise VeilError(f"speech recognition needs the {name} package: {install}")
    return Path(next(iter(spec.submodule_search_locations)))


def check_installed() -> None:
    """One line naming the install command when a speech model is missing."""
    _package_dir("pocketsphinx", AUDIO_EXTRA)
    model_file("voice-activity")


class VoiceActivity:
    """Silero VAD: a speech probability for every 32 ms of 16 kHz mono sound."""

    hop = _VAD_CHUNK / RATE

    def __init__(self) -> None:
        import onnxruntime

        check_installed()
        path = model_file("voice-activity")
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = options.inter_op_num_threads = 1
        self.session = onnxruntime.InferenceSession(
            str(path), options, providers=["CPUExecutionProvider"]
        )

    def scores(self, samples: NDArray[np.float32]) -> NDArray[np.float32]:
        state = np.zeros((2, 1, 128), np.float32)
        context = np.zeros(_VAD_CONTEXT, np.float32)
        rate = np.array(RATE, np.int64)
        count = len(samples) // _VAD_CHUNK
        out = np.empty(count, np.float32)
        for i in range(count):
            chunk = samples[i * _VAD_CHUNK : (i + 1) * _VAD_CHUNK]
            x = np.concatenate([context, chunk])[None, :]
            prob, state = self.session.run(None, {"input": x, "state": state, "sr": rate})
            out[i] = prob[0, 0]
            context = chunk[-_VAD_CONTEXT:]
        return out


def _decoder(**options: Any) -> Any:
    from pocketsphinx import Decoder

    return Decoder(samprate=RATE, loglevel="FATAL", **options)


def _pcm16(samples: NDArray[np.float32]) -> bytes:
    return (np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes()


def _segments_words(decoder: Any, offset: float) -> list[Word]:
    words = []
    for seg in decoder.seg():
        text = seg.word.split("(")[0].strip()  # "two(2)": the 2nd pronunciation
        if text in _NOT_WORDS or text.startswith("+"):
            continue
        start = offset + seg.start_frame / _FRAMES_PER_SECOND
        end = offset + (seg.end_frame + 1) / _FRAMES_PER_SECOND
        words.append(Word(text, start, end, float(seg.prob)))
    return words


class Recognizer:
    """PocketSphinx with its US English language model: the words of speech stretches.

    Loading the model costs about 0.35 s of CPU, so each thread keeps its own
    decoder for every stretch it decodes.
    """

    def __init__(self) -> None:
        check_installed()
        self._local = threading.local()

    def _decoder(self) -> Any:
        if not hasattr(self._local, "decoder"):
            self._local.decoder = _decoder(**_DECODER_OPTIONS)
        return self._local.decoder

    def words(self, samples: NDArray[np.float32], offset: float) -> list[Word]:
        """The words heard in ``samples`` (16 kHz mono), timed from ``offset`` s."""
        decoder = self._decoder()
        decoder.start_utt()
        decoder.process_raw(_pcm16(samples), full_utt=True)
        decoder.end_utt()
        return _segments_words(decoder, offset)

    def known(self, word: str) -> bool:
        """True when the dictionary can say ``word``."""
        return self._decoder().lookup_word(word.lower()) is not None


def transcribe(
    samples: NDArray[np.float32],
    start: float = 0.0,
    threads: int = 2,
    vad: VoiceActivity | None = None,
    recognizer: Recognizer | None = None,
) -> Transcript:
    """Speech and words of 16 kHz mono ``samples`` whose first plays at ``start`` s.

    Speech stretches are decoded on ``threads`` threads (PocketSphinx lets go
    of Python's lock while it decodes).
    """
    vad = vad or VoiceActivity()
    recognizer = recognizer or Recognizer()
    spans = speech_spans(vad.scores(samples), vad.hop)
    pieces = [samples[round(s * RATE) : round(e * RATE)] for s, e in spans]
    with ThreadPoolExecutor(max(1, threads)) as pool:
        found = pool.map(recognizer.words, pieces, [start + s for s, _ in spans])
        words = [w for piece in found for w in piece]
    speech = tuple((start + s, start + e) for s, e in spans)
    return Transcript(len(samples) / RATE, speech, tuple(words))
