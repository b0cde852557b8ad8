"""The pyttsx3/espeak-ng speaker: back-to-back lines must give complete, separate clips."""

from __future__ import annotations

import statistics
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from voice_coach.errors import EngineUnavailable, UsageError
from voice_coach.tts import espeak
from voice_coach.tts.espeak import VoiceInfo, find_voice, wav_is_complete

VOICES = [
    VoiceInfo("gmw/en", "English (Great Britain)"),
    VoiceInfo("gmw/en-us", "English (America)"),
    VoiceInfo("gmw/en-us-nyc", "English (America, New York City)"),
    VoiceInfo("roa/fr", "French"),
]
LINE_25 = (
    "Thanks for coming in here today. Tell me a little about yourself, what you have been "
    "working on lately, and what brought you to us."
)


def active(samples: np.ndarray) -> float:
    """Seconds of the clip above a low level (ignores leading and trailing silence)."""
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > 300)
    return 0.0 if len(loud) == 0 else (loud[-1] - loud[0]) / 22050


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("en-us", "gmw/en-us"),
        ("gmw/en-us", "gmw/en-us"),
        ("EN-US", "gmw/en-us"),
        ("english", "gmw/en"),
        ("new york", "gmw/en-us-nyc"),
        ("french", "roa/fr"),
    ],
)
def test_find_voice(query: str, expected: str) -> None:
    assert find_voice(query, VOICES).id == expected


def test_find_voice_unknown_lists_examples() -> None:
    with pytest.raises(UsageError, match=r"klingon.*en-us"):
        find_voice("klingon", VOICES)


def test_wav_is_complete(tmp_path: Path) -> None:
    from voice_coach.audio.format import write_wav

    path = tmp_path / "a.wav"
    write_wav(path, np.ones(1000, dtype=np.int16), 22050)
    assert wav_is_complete(path)
    data = path.read_bytes()
    (tmp_path / "cut.wav").write_bytes(data[:-10])
    assert not wav_is_complete(tmp_path / "cut.wav")
    (tmp_path / "empty.wav").write_bytes(b"")
    assert not wav_is_complete(tmp_path / "empty.wav")
    assert not wav_is_complete(tmp_path / "missing.wav")


def test_missing_espeak_is_engine_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    pyttsx3 = pytest.importorskip("pyttsx3")

    def no_library(*args: object, **kwargs: object) -> None:
        raise RuntimeError("This means you probably do not have eSpeak or eSpeak-ng installed!")

    monkeypatch.setattr(pyttsx3, "init", no_library)
    with pytest.raises(EngineUnavailable, match="apt-get install espeak-ng"):
        espeak._EspeakWorker()


@pytest.fixture(scope="module")
def speaker() -> espeak.EspeakSpeaker:
    pytest.importorskip("pyttsx3")
    try:
        return espeak.EspeakSpeaker(voice="en-us")
    except EngineUnavailable as exc:
        pytest.skip(str(exc))


@pytest.mark.slow
def test_twenty_lines_give_twenty_complete_distinct_clips(
    speaker: espeak.EspeakSpeaker, capfd: pytest.CaptureFixture[str]
) -> None:
    short = "Yes."
    texts = []
    for i in range(10):
        texts.append(short)
        texts.append(
            f"Question {i}: " + " ".join(["tell me more about that project"] * (1 + i % 3))
        )
    started = time.perf_counter()
    clips = [speaker.synth(t) for t in texts]
    elapsed = time.perf_counter() - started
    with capfd.disabled():
        print(f"20 clips in {elapsed:.3f} s")
    assert len(clips) == 20
    for clip in clips:
        assert clip.rate == 22050
        assert np.abs(clip.samples).max() > 1000, "clip is silent"
    # The short line, repeated between long ones, keeps its own length every time: a clip
    # carrying another line's audio (the pyttsx3 race) would be much longer.
    short_lengths = [c.seconds for c in clips[0::2]]
    assert max(short_lengths) - min(short_lengths) < 0.05
    # Long lines grow with their words, and the same text gives the same length.
    longs = clips[1::2]
    by_reps: dict[int, list[float]] = {}
    for i, clip in enumerate(longs):
        by_reps.setdefault(1 + i % 3, []).append(clip.seconds)
    means = {k: statistics.mean(v) for k, v in by_reps.items()}
    assert means[1] < means[2] < means[3]
    assert means[3] / means[1] > 2.0
    for lengths in by_reps.values():
        assert max(lengths) / min(lengths) < 1.15
    assert "Audio saved" not in capfd.readouterr().out


@pytest.mark.slow
def test_rate_change_between_lines(speaker: espeak.EspeakSpeaker) -> None:
    text = "The quick brown fox jumps over the lazy dog."
    try:
        speaker.set_rate(100)
        slow = speaker.synth(text)
        speaker.set_rate(300)
        fast = speaker.synth(text)
        speaker.set_rate(100)
        slow_again = speaker.synth(text)
    finally:
        speaker.set_rate(175)
    assert active(slow.samples) > 2.0 * active(fast.samples)
    assert abs(slow.seconds - slow_again.seconds) < 0.1


@pytest.mark.slow
def test_first_sentence_latency(speaker: espeak.EspeakSpeaker) -> None:
    assert len(LINE_25.split()) == 25
    timings = []
    for _ in range(5):
        started = time.perf_counter()
        first = next(iter(speaker.synth_sentences(LINE_25)))
        timings.append(time.perf_counter() - started)
        assert first.seconds > 0.5
    latency = statistics.median(timings)
    print(f"espeak first-audio latency: {latency * 1000:.1f} ms")
    assert latency < 0.25  # target 50 ms; generous for a loaded test machine


@pytest.mark.slow
def test_concurrent_callers_get_their_own_clips(speaker: espeak.EspeakSpeaker) -> None:
    other = espeak.EspeakSpeaker(voice="en-us")
    texts = {"short": "Okay.", "long": "That is a really interesting answer, tell me more."}
    expected = {k: speaker.synth(v).seconds for k, v in texts.items()}
    results: dict[str, list[float]] = {"short": [], "long": []}

    def run(kind: str, who: espeak.EspeakSpeaker) -> None:
        for _ in range(5):
            results[kind].append(who.synth(texts[kind]).seconds)

    threads = [
        threading.Thread(target=run, args=("short", speaker)),
        threading.Thread(target=run, args=("long", other)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for kind, lengths in results.items():
        assert len(lengths) == 5
        assert all(abs(s - expected[kind]) < 0.1 for s in lengths)


@pytest.mark.slow
def test_voices_and_empty_text(speaker: espeak.EspeakSpeaker) -> None:
    voices = speaker.list_voices()
    assert any(v.id == "gmw/en-us" for v in voices)
    assert speaker.voice_id == "gmw/en-us"
    assert len(speaker.synth("   ").samples) == 0
    with pytest.raises(UsageError):
        espeak.EspeakSpeaker(voice="no-such-voice-xyz")
