"""Moonshine's pure parts: tokenizer, word timing, ORT->ONNX conversion on a tiny graph."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from voice_coach.stt.moonshine_model import Tokenizer, drop_loop, spread_words, voiced_spans

SPACE = "\u2581".encode()


def _tokenizer_bytes(pieces: list[bytes]) -> bytes:
    return b"".join(bytes([len(p)]) + p for p in pieces)


def test_tokenizer_parses_and_decodes() -> None:
    pieces = [
        b"<unk>",
        b"<s>",
        b"</s>",
        b"\x00",
        SPACE + b"I",
        SPACE + b"don't",
        SPACE + b"\"'",
        b"know",
        b".",
    ]
    tok = Tokenizer(Tokenizer.parse(_tokenizer_bytes(pieces)))
    assert tok.pieces == pieces
    # special ids and ids past the vocabulary are skipped; quote marks nobody said are dropped
    assert tok.decode([1, 4, 5, 6, 7, 8, 2, 40000]) == "I don't know."
    assert tok.decode([]) == ""


def test_tokenizer_rejects_truncated_file() -> None:
    with pytest.raises(ValueError, match="truncated"):
        Tokenizer.parse(b"\x05ab")


def test_shipped_tokenizer_if_installed() -> None:
    from voice_coach.errors import EngineUnavailable
    from voice_coach.stt import moonshine_convert

    try:
        source = moonshine_convert.shipped_model()
    except EngineUnavailable:
        pytest.skip("moonshine-cpp is not installed")
    tok = Tokenizer.load(source / "tokenizer.bin")
    assert len(tok.pieces) == 32000
    assert (
        tok.decode([306, 3796, 408, 263, 7047, 22055, 29889]) == "I worked as a software engineer."
    )


def test_voiced_spans() -> None:
    assert voiced_spans([False, True, True, False, True], 0.03) == [
        (pytest.approx(0.03), pytest.approx(0.09)),
        (pytest.approx(0.12), pytest.approx(0.15)),
    ]
    assert voiced_spans([], 0.03) == []


def test_spread_words_keeps_pauses_and_order() -> None:
    spans = [(0.2, 1.0), (2.5, 3.5)]
    words = spread_words("I worked there for three years", spans, 4.0)
    assert [w.text for w in words] == "I worked there for three years".split()
    for w in words:
        assert w.start < w.end
        assert any(s - 1e-6 <= w.start <= e + 1e-6 for s, e in spans)  # starts inside speech
    starts = [w.start for w in words]
    assert starts == sorted(starts)
    assert words[0].start == pytest.approx(0.2)
    assert words[-1].end <= 3.5 + 1e-6
    # no word straddles the 1.5 s pause
    assert not any(w.start < 1.0 < w.end and w.end > 2.5 for w in words)


def test_spread_words_without_voice_uses_whole_clip() -> None:
    words = spread_words("hello there", [], 2.0)
    assert words[0].start == 0.0 and words[-1].end <= 2.0
    assert spread_words("", [(0.0, 1.0)], 1.0) == []


# -- ORT -> ONNX on a tiny graph shaped like Moonshine's -------------------------------------


def _tiny_model(tmp_path: Path) -> tuple[Path, Any]:
    """A MatMul on an int8 weight dequantised as float(q) * scale + offset, saved as .ort."""
    onnx = pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(1)
    q = rng.integers(-128, 128, (16, 8)).astype(np.int8)
    scale, offset = np.float32(0.01), np.float32(0.03)  # offset = 3 steps
    nodes = [
        helper.make_node("Cast", ["q"], ["qf"], to=TensorProto.FLOAT),
        helper.make_node("Mul", ["qf", "scale"], ["qs"]),
        helper.make_node("Add", ["qs", "offset"], ["w"]),
        helper.make_node("MatMul", ["x", "w"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 8])],
        [
            numpy_helper.from_array(q, "q"),
            numpy_helper.from_array(np.array([scale]), "scale"),
            numpy_helper.from_array(np.array([offset]), "offset"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])
    model.ir_version = 8
    plain = tmp_path / "tiny.onnx"
    onnx.save_model(model, str(plain))
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    options.optimized_model_filepath = str(tmp_path / "tiny.ort")
    options.add_session_config_entry("session.save_model_format", "ORT")
    ort.InferenceSession(str(plain), options, providers=["CPUExecutionProvider"])
    weight = (q.astype(np.float32) * scale + offset).astype(np.float32)
    return tmp_path / "tiny.ort", weight


def _run(model: Any, x: np.ndarray) -> np.ndarray:
    import onnxruntime as ort

    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return np.asarray(session.run(None, {"x": x})[0])


def test_ort_to_onnx_round_trip(tmp_path: Path) -> None:
    from voice_coach.stt.ort_convert import ort_to_onnx

    ort_file, weight = _tiny_model(tmp_path)
    model = ort_to_onnx(ort_file.read_bytes())
    assert [n.op_type for n in model.graph.node] == ["Cast", "Mul", "Add", "MatMul"]
    x = np.random.default_rng(2).standard_normal((3, 16)).astype(np.float32)
    np.testing.assert_allclose(_run(model, x), x @ weight, rtol=1e-5, atol=1e-5)


def test_ort_to_onnx_rejects_other_files() -> None:
    pytest.importorskip("onnx")
    from voice_coach.stt.ort_convert import ort_to_onnx

    with pytest.raises(ValueError, match="ORT-format"):
        ort_to_onnx(b"\x00" * 64)


def test_int8_matmuls_keep_weights_int8(tmp_path: Path) -> None:
    from onnx import TensorProto

    from voice_coach.stt.ort_convert import int8_matmuls, ort_to_onnx

    ort_file, weight = _tiny_model(tmp_path)
    model = ort_to_onnx(ort_file.read_bytes())
    assert int8_matmuls(model) == 1
    assert [n.op_type for n in model.graph.node] == ["DynamicQuantizeMatMul"]
    assert {t.data_type for t in model.graph.initializer} <= {TensorProto.INT8, TensorProto.FLOAT}
    assert not any(
        len(t.dims) == 2 and t.data_type == TensorProto.FLOAT for t in model.graph.initializer
    )
    x = np.random.default_rng(3).standard_normal((3, 16)).astype(np.float32)
    expected = x @ weight
    # activations are quantised to 8 bits on the fly: close, not equal
    np.testing.assert_allclose(_run(model, x), expected, atol=0.05 * np.abs(expected).max())


# -- the recognizer's streaming logic with a scripted model ----------------------------------


class _ScriptedModel:
    """Stands in for MoonshineModel: says how many seconds of audio it was given."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def transcribe(self, samples: np.ndarray) -> str:
        self.calls.append(len(samples) / 16000)
        return f"segment {len(self.calls)}"


def _loud(seconds: float) -> np.ndarray:
    return np.full(int(seconds * 16000), 8000, np.int16)


def test_recognizer_segments_speculates_and_finishes_async() -> None:
    from voice_coach.audio.format import FRAME_SAMPLES
    from voice_coach.stt.moonshine_engine import MoonshineRecognizer

    model = _ScriptedModel()
    rec = MoonshineRecognizer(model=model, is_speech=lambda f: bool(np.abs(f).max() > 1000))  # type: ignore[arg-type]
    changes: list[bool] = []
    rec.on_busy = changes.append
    audio = np.concatenate([_loud(2.0), np.zeros(8000, np.int16), _loud(1.0)])
    rec.start()
    for i in range(0, len(audio), FRAME_SAMPLES):
        rec.accept(audio[i : i + FRAME_SAMPLES])
    assert rec.prepare_tail()  # silence began after the second piece
    future = rec.finish_async()
    rec.start()  # a new utterance does not cancel the finished one
    result = future.result(timeout=10)
    assert result.text == "segment 1 segment 2"
    assert len(model.calls) == 2  # the speculation was reused, not decoded again
    first, second = result.words[:2], result.words[2:]
    assert first[-1].end <= 2.1 and second[0].start >= 2.4  # times follow the pause
    assert changes[0] is True and changes[-1] is False and not rec.busy
    rec.close()


def test_recognizer_cuts_long_speech_without_pauses() -> None:
    from voice_coach.audio.format import FRAME_SAMPLES
    from voice_coach.stt.moonshine_engine import MoonshineRecognizer, MoonshineSettings

    model = _ScriptedModel()
    settings = MoonshineSettings(max_segment_s=3.0)
    rec = MoonshineRecognizer(settings=settings, model=model, is_speech=lambda f: True)  # type: ignore[arg-type]
    audio = _loud(7.5)
    rec.start()
    for i in range(0, len(audio), FRAME_SAMPLES):
        rec.accept(audio[i : i + FRAME_SAMPLES])
    rec.finish()
    assert len(model.calls) == 3 and max(model.calls) <= 3.0 + 0.2
    rec.close()


def test_base_finish_async_is_a_done_future() -> None:
    from voice_coach.stt.base import Recognizer, Transcript

    class Counting(Recognizer):
        def transcribe(self, samples: np.ndarray) -> Transcript:  # type: ignore[override]
            return self.from_words([], text=f"{len(samples)} samples")

    rec = Counting()
    rec.start()
    rec.accept(np.zeros(480, np.int16))
    future = rec.finish_async()
    assert future.done() and future.result().text == "480 samples"


def _feed(rec: Any, audio: np.ndarray) -> None:
    from voice_coach.audio.format import FRAME_SAMPLES

    for i in range(0, len(audio), FRAME_SAMPLES):
        rec.accept(audio[i : i + FRAME_SAMPLES])


def _loud_test(f: np.ndarray) -> bool:
    return bool(np.abs(f).max() > 1000)


def test_speculation_waits_for_a_gap_then_becomes_a_segment_when_the_user_goes_on() -> None:
    from voice_coach.stt.moonshine_engine import MoonshineRecognizer

    model = _ScriptedModel()
    rec = MoonshineRecognizer(model=model, is_speech=_loud_test)  # type: ignore[arg-type]
    rec.start()
    _feed(rec, np.concatenate([_loud(1.2), np.zeros(480, np.int16)]))  # 30 ms of silence
    assert rec.prepare_tail()  # asked at silence start: armed, not started yet
    assert not rec.speculating
    _feed(rec, np.zeros(int(0.12 * 16000), np.int16))  # a gap between words
    assert rec.speculating
    spec = rec._spec
    assert spec is not None
    spec.job.future.result(timeout=10)  # the worker has decoded it
    _feed(rec, _loud(1.0))  # the user goes on: the decode is kept, not thrown away
    _feed(rec, np.zeros(int(0.2 * 16000), np.int16))
    result = rec.finish()
    assert result.text == "segment 1 segment 2"
    assert len(model.calls) == 2 and model.calls[0] < 1.6  # the first 1.2 s once, no re-decode
    assert rec.last_tail["wasted_s"] == 0.0
    rec.close()


def test_a_speculation_not_started_yet_is_cancelled_when_the_user_goes_on() -> None:
    import threading

    from voice_coach.stt.moonshine_engine import MoonshineRecognizer

    model = _ScriptedModel()
    gate = threading.Event()
    rec = MoonshineRecognizer(model=model, is_speech=_loud_test)  # type: ignore[arg-type]
    rec._worker.submit(gate.wait)  # the worker is busy: the speculation queues
    rec.start()
    _feed(rec, np.concatenate([_loud(1.2), np.zeros(int(0.15 * 16000), np.int16)]))
    assert rec.prepare_tail() and rec.speculating
    _feed(rec, _loud(1.0))  # goes on before the speculation ran: it is dropped
    gate.set()
    assert rec.finish().text == "segment 1"
    assert len(model.calls) == 1 and model.calls[0] > 2.2  # the whole answer, decoded once
    rec.close()


def test_long_speech_is_cut_at_short_gaps_while_the_user_speaks() -> None:
    from voice_coach.stt.moonshine_engine import MoonshineRecognizer

    model = _ScriptedModel()
    rec = MoonshineRecognizer(model=model, is_speech=_loud_test)  # type: ignore[arg-type]
    gap = np.zeros(int(0.06 * 16000), np.int16)  # a comma's gap, as the VAD leaves it
    rec.start()
    _feed(rec, np.concatenate([_loud(1.8), gap, _loud(1.8), gap, _loud(1.0)]))
    # the 60 ms gap at 1.8 s is too short for a young segment; the one at 3.7 s cuts it
    result = rec.finish()
    assert result.text == "segment 1 segment 2"
    assert len(model.calls) == 2 and 3.5 < model.calls[0] < 4.0
    rec.close()


def test_speech_parts_split_at_long_silences_and_trim_the_lead() -> None:
    from voice_coach.stt.moonshine_engine import speech_parts

    v = [False] * 40 + [True] * 5 + [False] * 5 + [True] * 4 + [False] * 30 + [True] * 20
    # 40 frames of silence trimmed to 6 before the speech; a 5-frame gap is no split; a
    # 30-frame one after a scrap (14 frames long) is (the scrap keeps 6 frames after it).
    assert speech_parts(v, keep=6, gap=26, scrap=15) == [(34, 60), (78, 104)]
    # After real speech (20 voiced frames), the same pause keeps its context.
    v = [True] * 20 + [False] * 30 + [True] * 20
    assert speech_parts(v, keep=6, gap=26, scrap=15) == [(0, 70)]
    assert speech_parts([False] * 10, keep=6, gap=26, scrap=15) == [(0, 10)]  # no speech
    assert speech_parts([True] * 10 + [False] * 3, keep=6, gap=26, scrap=15) == [(0, 13)]


def test_speech_after_a_scrap_and_a_long_pause_is_decoded_on_its_own() -> None:
    """A segment that begins with the end of a word, then a 2 s pause, then a sentence:
    the model is given the sentence from just before it, and the scrap apart."""
    from voice_coach.stt.moonshine_engine import MoonshineRecognizer

    model = _ScriptedModel()
    rec = MoonshineRecognizer(model=model, is_speech=lambda f: bool(np.abs(f).max() > 1000))  # type: ignore[arg-type]
    audio = np.concatenate([_loud(0.15), np.zeros(32000, np.int16), _loud(3.0)])
    words = rec._decode(audio, 10.0)
    assert len(model.calls) == 2
    assert model.calls[1] == pytest.approx(3.0 + 0.2, abs=0.05)  # 0.2 s of lead, not 2 s
    assert words[-1].start >= 10.0 + 2.1  # the sentence's words are placed after the pause
    rec.close()


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("It was the season of light it was the season of light it was",
         "It was the season of light"),
        ("It was the season of light it was the season of light it",
         "It was the season of light"),
        ("It was a season of light it was a season of light",
         "It was a season of light"),  # as stored live
        ("So, we shipped it. And short and short and short and",
         "So, we shipped it. And short"),
        ("the the the", "the"),
        ("I I", "I I"),  # a stammer, not a loop
        ("Thank you. Thank you.", "Thank you. Thank you."),  # said twice: short phrases
        # need three copies
        ("We had everything before us, we had nothing before us.",
         "We had everything before us, we had nothing before us."),
        ("a b c a b", "a b c a b"),  # one copy and a half: not known to loop
        ("", ""),
    ],
)
def test_drop_loop_keeps_a_repeated_phrase_once(text: str, kept: str) -> None:
    assert drop_loop(text) == kept


class _CountingDecoder:
    """What MoonshineModel.transcribe needs: token ids for some audio, and a tokenizer."""

    def __init__(self, ids: list[int]) -> None:
        words = (b"It", b"was", b"the", b"light")
        pieces = [b"<unk>", b"<s>", b"</s>"] + [SPACE + w for w in words]
        self.tokenizer = Tokenizer(pieces)
        self.ids = ids

    def decode(self, samples: np.ndarray) -> list[int]:
        return self.ids


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(1.0, "It was the light"),  # 8 tokens, past the bound for 1 s (6): a loop, kept once
     (1.4, "It was the light It was the light")],  # within the bound (9): kept as decoded
)
def test_transcribe_drops_a_loop_only_at_the_token_bound(seconds: float, text: str) -> None:
    from voice_coach.stt.moonshine_model import MoonshineModel

    fake = _CountingDecoder([3, 4, 5, 6, 3, 4, 5, 6])
    samples = np.zeros(int(seconds * 16000), np.int16)
    assert MoonshineModel.transcribe(fake, samples) == text  # type: ignore[arg-type]
