"""Has the user finished their turn, judging by the sound? The smart-turn v3.2 audio model.

smart-turn (Daily, BSD-2-Clause) is a small Whisper-encoder classifier: Whisper log-mel
features of the last 8 s of the turn in, probability that the turn is complete out. Its ONNX
file ships inside the PyPI wheel ``pipecat-ai``; we use only that file (never the framework,
whose dependency tree is large): ``voice-coach models download smart-turn`` (and
``./bootstrap.sh``) extract it from the wheel into a models folder. Without it the endpointer
falls back to its transcript rules.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import importlib.util
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from voice_coach import config
from voice_coach.audio.format import SAMPLE_RATE, Pcm
from voice_coach.errors import CoachError, EngineUnavailable

_LOGGER = logging.getLogger(__name__)

MODEL_FILE = "smart-turn-v3.2-cpu.onnx"
MODEL_SHA256 = "2bb026316b14a660486a75b1733cd3fbab8c2fd0314dc9af7be49f8cca967e4f"
WHEEL_REQUIREMENT = "pipecat-ai==1.14.0"
WHEEL_MEMBER = f"pipecat/audio/turn/smart_turn/data/{MODEL_FILE}"
MODEL_ENV = "VOICE_COACH_SMART_TURN"
"""Path of the ONNX file, overriding the search."""
WINDOW_SECONDS = 8
"""The model looks at the last 8 s of the turn (zero-padded in front when shorter)."""


def candidate_paths() -> list[Path]:
    """Where the model file is looked for, in order."""
    paths: list[Path] = []
    env = os.environ.get(MODEL_ENV)
    if env:
        paths.append(Path(env).expanduser())
    paths.append(config.user_models_dir() / MODEL_FILE)
    paths.append(config.checkout_root() / "models" / MODEL_FILE)
    # An installed pipecat-ai (even with --no-deps) holds the file; find_spec on the top-level
    # name locates it without running any of pipecat's code.
    try:
        spec = importlib.util.find_spec("pipecat")
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.submodule_search_locations:
        for base in spec.submodule_search_locations:
            paths.append(Path(base, *WHEEL_MEMBER.split("/")[1:]))
    return paths


def find_model() -> Path | None:
    """The first smart-turn model file found, or None."""
    for path in candidate_paths():
        if path.is_file():
            return path
    return None


def extract_from_wheel(wheel: Path, dest_dir: Path) -> Path:
    """Copy the model out of a pipecat-ai wheel into ``dest_dir``, checking its SHA-256."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    target = dest_dir / MODEL_FILE
    try:
        with (
            zipfile.ZipFile(wheel) as zf,
            zf.open(WHEEL_MEMBER) as src,
            tempfile.NamedTemporaryFile(dir=dest_dir, prefix=".smart-turn-", delete=False) as tmp,
        ):
            shutil.copyfileobj(src, tmp)
            tmp_path = Path(tmp.name)
    except (KeyError, zipfile.BadZipFile) as exc:
        raise CoachError(f"{wheel.name} holds no {MODEL_FILE} ({exc})") from exc
    digest = hashlib.sha256(tmp_path.read_bytes()).hexdigest()
    if digest != MODEL_SHA256:
        tmp_path.unlink()
        raise CoachError(f"{MODEL_FILE} from {wheel.name} has an unexpected SHA-256 {digest}")
    tmp_path.replace(target)  # atomic: a failed fetch leaves nothing half-written
    return target


def download_model(dest_dir: Path | None = None) -> Path:
    """Fetch the pipecat-ai wheel with pip (no dependencies) and extract the model file.

    The one network use, only on an explicit ``voice-coach models download smart-turn``.
    """
    dest = dest_dir or config.user_models_dir()
    with tempfile.TemporaryDirectory(prefix="voice-coach-wheel-") as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
               "--only-binary=:all:", "--dest", tmp, WHEEL_REQUIREMENT]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        wheels = sorted(Path(tmp).glob("pipecat_ai-*.whl"))
        if proc.returncode != 0 or not wheels:
            last = (proc.stderr.strip().splitlines() or ["no wheel downloaded"])[-1]
            raise CoachError(f"could not download {WHEEL_REQUIREMENT} with pip: {last}")
        return extract_from_wheel(wheels[0], dest)


def log_mel(pcm: Pcm) -> np.ndarray:
    """Whisper log-mel features (80 x 800, float32) of the last 8 s, as smart-turn expects."""
    from faster_whisper.feature_extractor import FeatureExtractor

    n = WINDOW_SECONDS * SAMPLE_RATE
    x = pcm[-n:].astype(np.float32) / 32768.0
    if len(x) < n:
        x = np.pad(x, (n - len(x), 0))  # silence in front, like the model's training data
    # Zero-mean unit-variance waveform first (transformers' do_normalize=True).
    x = (x - x.mean()) / np.sqrt(x.var() + 1e-7)
    features = _extractor(FeatureExtractor)(x, padding=0)
    return np.asarray(features[:, : n // 160], dtype=np.float32)


_EXTRACTORS: dict[str, Any] = {}


def _extractor(cls: Any) -> Any:
    if "fe" not in _EXTRACTORS:
        _EXTRACTORS["fe"] = cls(chunk_length=WINDOW_SECONDS)
    return _EXTRACTORS["fe"]


class TurnModel:
    """smart-turn v3.2, loaded on first use; ``probability(pcm)`` -> P(turn is complete)."""

    name = "smart-turn-v3.2"

    def __init__(self, path: Path | None = None, threads: int = 1) -> None:
        self.path = path or find_model()
        if self.path is None:
            raise EngineUnavailable(
                f"the smart-turn model ({MODEL_FILE}) is not installed: "
                "run 'voice-coach models download smart-turn'"
            )
        self.threads = threads
        self._session: Any = None
        self._lock = threading.Lock()

    def load(self) -> None:
        """Load the ONNX session now (0.1 s) instead of at the first check."""
        with self._lock:
            if self._session is not None:
                return
            try:
                import onnxruntime as ort
            except ImportError as exc:
                raise EngineUnavailable(
                    "onnxruntime is not installed: pip install 'voice-coach[whisper]'"
                ) from exc
            opts = ort.SessionOptions()
            opts.inter_op_num_threads = 1
            opts.intra_op_num_threads = self.threads  # one core: the recognizer needs the other
            opts.log_severity_level = 3
            try:
                self._session = ort.InferenceSession(
                    str(self.path), sess_options=opts, providers=["CPUExecutionProvider"]
                )
            except Exception as exc:  # onnxruntime raises its own types for a bad file
                raise EngineUnavailable(f"cannot load {self.path}: {exc}") from exc
            _LOGGER.debug("smart-turn loaded from %s", self.path)

    def probability(self, pcm: Pcm) -> float:
        """Probability (0..1) that the speech in ``pcm`` (16 kHz int16, the turn so far) is done."""
        self.load()
        features = log_mel(pcm)[np.newaxis]
        with self._lock:
            out = self._session.run(None, {"input_features": features})
        return float(np.asarray(out[0]).reshape(-1)[0])


def load_turn_model(path: Path | None = None) -> TurnModel | None:
    """The turn model, or None (with one log line) when it is not installed."""
    try:
        model = TurnModel(path)
        model.load()
    except EngineUnavailable as exc:
        _LOGGER.info("no audio end-of-turn model, endpointing by pauses and words: %s", exc)
        return None
    return model


class TurnChecker:
    """Asks the turn model off the listening thread when the endpointer says TURN_CHECK.

    The verdict goes back into the endpointer on a later frame (``handle`` is called every
    frame); a verdict for a pause that already ended (speech resumed) is dropped.
    """

    def __init__(self, model: TurnModel | None) -> None:
        self.model = model
        self._future: concurrent.futures.Future[float] | None = None
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None
        if model is not None:
            self._pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="turn")
            self._pool.submit(self._warm_up)

    @property
    def enabled(self) -> bool:
        """True when there is a model to ask."""
        return self.model is not None

    def _warm_up(self) -> None:
        # The first call imports the feature code (~0.4 s): not at the first real pause.
        assert self.model is not None
        try:
            self.model.probability(np.zeros(SAMPLE_RATE // 2, dtype=np.int16))
        except Exception as exc:  # a broken model file: the checks will fail the same way
            _LOGGER.warning("smart-turn does not run (%s): endpointing without it", exc)
            self.model = None

    def handle(self, endpointer: Any, events: list[Any]) -> None:
        """React to this frame's events and hand over a finished verdict."""
        from voice_coach.listening.endpointer import EventKind

        if self._pool is None or self.model is None:
            return
        for event in events:
            if event.kind is EventKind.TURN_CHECK:
                self._future = self._pool.submit(self.model.probability, endpointer.utterance())
            elif event.kind in (EventKind.SPEECH_RESUME, EventKind.BARGE_IN,
                                EventKind.ENDPOINT):
                self._future = None
        if self._future is not None and self._future.done():
            future, self._future = self._future, None
            try:
                endpointer.set_turn_probability(future.result())
            except Exception as exc:
                _LOGGER.warning("smart-turn check failed: %s", exc)

    def close(self) -> None:
        """Stop the worker thread."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
