"""One timeline: captured frames keep the time they were spoken, however late they are read.

Pure clock logic (CaptureClock), the Microphone's stamps (fake sounddevice), and the session's
use of them: stale frames are no answer's, the no-speech timeout counts from the end of the
question, and an answer read late is stored where it was spoken.
"""

from __future__ import annotations

import concurrent.futures
import threading
import time

import numpy as np
import pytest

from tests.support.fake_sounddevice import FakeSoundDevice, device
from tests.test_voice_session import QUICK, RecordingUI, ScriptedRecognizer, ToneSpeaker, quiet
from tests.test_voice_session import voiced as voiced_pcm
from voice_coach.audio import capture, devices
from voice_coach.audio.capture import Microphone, block_lag
from voice_coach.audio.format import FRAME_SAMPLES, SAMPLE_RATE, AudioChunk, Pcm, frames
from voice_coach.audio.playback import NullPlayer
from voice_coach.audio.timeline import CaptureClock
from voice_coach.interview.scenario import load_scenario_file
from voice_coach.listening.endpointer import EndpointConfig
from voice_coach.session.recorder import Recorder
from voice_coach.session.voice import VoiceOptions, VoiceSession
from voice_coach.transcripts.store import SessionStore

FRAME_S = FRAME_SAMPLES / SAMPLE_RATE


# --- CaptureClock ---------------------------------------------------------------------------

def test_late_callbacks_do_not_move_the_clock() -> None:
    clock = CaptureClock()
    rng = np.random.default_rng(3)
    for k in range(200):
        late = 0.0 if k % 50 == 7 else float(rng.uniform(0.0, 0.08))  # scheduling delays
        clock.stamp(k * FRAME_S, 100.0 + k * FRAME_S + late)
    assert clock.time_of(0.0) == pytest.approx(100.0)
    assert clock.time_of(6.0) == pytest.approx(106.0)


def test_a_device_clock_that_drifts_is_followed() -> None:
    clock = CaptureClock(window=5.0)
    for k in range(4000):  # 120 s of a device running 0.1 % slow
        clock.stamp(k * FRAME_S, 50.0 + k * FRAME_S * 1.001)
    t = 3999 * FRAME_S
    assert clock.time_of(t) == pytest.approx(50.0 + t * 1.001, abs=0.006)


def test_lost_samples_are_caught_up_by_the_window_or_at_once_when_flagged() -> None:
    clock = CaptureClock(window=2.0)
    for k in range(100):
        clock.stamp(k * FRAME_S, 10.0 + k * FRAME_S)
    # 0.5 s of samples never counted: the stream clock is 0.5 s behind from now on.
    for k in range(100, 200):
        clock.stamp(k * FRAME_S, 10.5 + k * FRAME_S)
    assert clock.time_of(199 * FRAME_S) == pytest.approx(10.5 + 199 * FRAME_S)
    clock.reanchor()
    clock.stamp(200 * FRAME_S, 11.5 + 200 * FRAME_S)
    assert clock.time_of(200 * FRAME_S) == pytest.approx(11.5 + 200 * FRAME_S)


def test_an_early_late_stamp_is_corrected_by_the_next_on_time_one() -> None:
    clock = CaptureClock()
    clock.stamp(0.0, 20.1)  # the stream's first callback came 100 ms late
    assert clock.time_of(0.0) == pytest.approx(20.1)
    clock.stamp(FRAME_S, 20.0 + FRAME_S)  # on time: frames are dated right from now on
    assert clock.time_of(2 * FRAME_S) == pytest.approx(20.0 + 2 * FRAME_S)


def test_block_lag_uses_the_adc_time_only_when_it_is_plausible() -> None:
    class Info:
        def __init__(self, current: float, adc: float) -> None:
            self.currentTime, self.inputBufferAdcTime = current, adc

    assert block_lag(480, 16000, None) == pytest.approx(0.03)
    assert block_lag(480, 16000, Info(1e9 + 5.0, 1e9 + 4.9)) == pytest.approx(0.1)
    assert block_lag(480, 16000, Info(5.0, 0.0)) == pytest.approx(0.03)  # no ADC time
    assert block_lag(480, 16000, Info(5.0, 4.99)) == pytest.approx(0.03)  # never under a block


# --- Microphone stamps ----------------------------------------------------------------------

@pytest.fixture
def fake_sd(monkeypatch: pytest.MonkeyPatch) -> FakeSoundDevice:
    sd = FakeSoundDevice(devices=[device(0, "mic", 1, 2, 48000.0)], default=(0, 0))
    monkeypatch.setattr(devices, "load_sounddevice", lambda: sd)
    monkeypatch.setattr(capture, "load_sounddevice", lambda: sd)
    return sd


def test_frames_read_late_keep_their_capture_time(fake_sd: FakeSoundDevice) -> None:
    with Microphone() as mic:
        stream = fake_sd.streams[0]
        pushed = []
        for _ in range(10):  # the device delivers a block every 30 ms ...
            stream.push(np.zeros(480, np.int16))
            pushed.append(time.monotonic())
            time.sleep(FRAME_S)
        time.sleep(0.4)  # ... while the consumer is busy (a slow decode)
        chunks = [mic.read(timeout=0.1) for _ in range(10)]
        ats = [c.at for c in chunks if c is not None and c.at is not None]
        assert len(ats) == 10
        # Each frame is dated by its block's callback (captured the 30 ms before it), not by
        # when it was read; sleeps can only overshoot, so the dates run a little early.
        assert ats[0] + FRAME_S == pytest.approx(pushed[0], abs=0.01)
        assert all(at + FRAME_S <= p + 0.002 for at, p in zip(ats, pushed, strict=True))
        assert ats[-1] + FRAME_S == pytest.approx(pushed[-1], abs=0.1)
        assert np.diff(ats) == pytest.approx([FRAME_S] * 9)
        assert mic.started_at == pytest.approx(ats[0])


def test_blocks_dropped_on_a_full_queue_leave_a_gap_on_the_stream_clock(
        fake_sd: FakeSoundDevice) -> None:
    with Microphone(queue_seconds=0.06) as mic:  # room for two blocks
        stream = fake_sd.streams[0]
        for _ in range(4):  # a block every 30 ms, and nobody reads
            stream.push(np.full(480, 100, np.int16))
            time.sleep(FRAME_S)
        assert mic.overflows == 2
        got = [mic.read(timeout=0.1) for _ in range(2)]
        stream.push(np.full(480, 100, np.int16))
        late = mic.read(timeout=0.1)
        assert [c.start for c in got if c] == pytest.approx([0.0, FRAME_S])
        assert late is not None and late.start == pytest.approx(4 * FRAME_S)  # not 2 frames
        assert late.at is not None and got[0] is not None and got[0].at is not None
        assert late.at - got[0].at == pytest.approx(4 * FRAME_S, abs=0.02)


# --- the session on one timeline ------------------------------------------------------------

class StampedSource:
    """A microphone read late: frames with capture times chosen by the test."""

    realtime = True

    def __init__(self, audio: Pcm, first_at: float) -> None:
        self.chunks = [AudioChunk(f, i * FRAME_S, first_at + i * FRAME_S)
                       for i, f in enumerate(frames(audio, pad=True))]
        self.finished = False

    def read(self, timeout: float | None = None) -> AudioChunk | None:
        if not self.chunks:
            self.finished = True
            return None
        return self.chunks.pop(0)

    def mute(self) -> None:
        """Nothing to mute."""

    def unmute(self, tail: float = 0.25) -> None:
        """Nothing to unmute."""

    def flush(self) -> None:
        """Nothing to flush."""

    def close(self) -> None:
        """Nothing to close."""


def _listening_session(source: StampedSource, texts: list[str],
                       endpoint: EndpointConfig) -> VoiceSession:
    session = VoiceSession(
        load_scenario_file(QUICK), source, NullPlayer(), ToneSpeaker(),
        ScriptedRecognizer(texts), SessionStore(), RecordingUI(),
        VoiceOptions(name="Jo", seed=1, vad="energy", headphones=True,
                     endpoint=endpoint))
    writer = session.store.create(session.scenario.id, "Jo")
    session.recorder = Recorder(writer)
    return session


def test_frames_from_before_the_question_ended_are_no_answer() -> None:
    now = time.monotonic()
    # Speech captured before the question ended (read late), then silence after it.
    audio = np.concatenate([voiced_pcm(1.0), quiet(1.0), quiet(1.5)])
    source = StampedSource(audio, now - 4.0)
    session = _listening_session(source, ["phantom"], EndpointConfig(no_speech_timeout=1.0))
    session._listen_from = now - 2.0  # the question (and its echo) ended here
    heard = session._listen()
    assert heard is not None and heard.text == ""  # the stale speech is not an answer
    # The no-speech timeout counted from the end of the question, not from the stale frames.
    ended = session._session_time(now - 2.0) + 1.0
    assert heard.end == pytest.approx(ended, abs=0.05)


def test_an_answer_read_late_is_stored_where_it_was_spoken() -> None:
    now = time.monotonic()
    audio = np.concatenate([quiet(0.3), voiced_pcm(1.0), quiet(3.0)])
    source = StampedSource(audio, now - 4.5)  # the whole answer is 4.5 s old when read
    fast = EndpointConfig(end_silence=0.6, finished_silence=0.6, thinking_silence=0.6,
                          cold_start_silence=0.0)
    session = _listening_session(source, ["I build dashboards"], fast)
    session._listen_from = now - 5.0
    heard = session._listen()
    assert heard is not None and heard.text == "I build dashboards"
    spoken = session._session_time(now - 4.5 + 0.3)
    assert heard.start == pytest.approx(spoken, abs=0.1)
    assert heard.last_voice_mono == pytest.approx(now - 4.5 + 1.3, abs=0.1)
    assert session.recorder is not None
    assert heard.end < session.recorder.now() - 2.0  # ended where the pause ended, long ago


def _ended_session(source: StampedSource) -> VoiceSession:
    """A session whose endpointer just ended an answer (the reply is about to play)."""
    fast = EndpointConfig(end_silence=0.6, finished_silence=0.6, thinking_silence=0.6,
                          cold_start_silence=0.0)
    session = _listening_session(source, [], fast)
    session._ready()  # the VAD and the rest load in the background from the first line
    ep = session.endpointer
    for f in frames(np.concatenate([voiced_pcm(1.0), quiet(1.5)]), pad=True):
        ep.process(f, bool(np.abs(f).max() > 1000))
        if ep.state.value == "ended":
            break
    assert ep.state.value == "ended"
    return session


def test_speech_over_the_reply_read_after_it_ended_is_still_a_barge_in() -> None:
    now = time.monotonic()
    # The reply has ended (a null player), but the frames of the user going on over it are
    # read only now: they are judged where they were spoken, inside the reply.
    source = StampedSource(np.concatenate([quiet(0.3), voiced_pcm(1.0)]), now - 1.5)
    session = _ended_session(source)
    assert session._watch_tail() is True
    assert session.endpointer.barge_ins == 1


def test_the_first_frame_after_the_echo_is_kept_for_the_answer() -> None:
    now = time.monotonic()
    source = StampedSource(quiet(2.0), now - 0.5)  # the last 1.5 s come after the echo tail
    session = _ended_session(source)
    assert session._watch_tail() is False
    assert session.endpointer.barge_ins == 0
    held = list(session._held)
    assert len(held) == 1 and held[0].at is not None
    assert held[0].at >= session._listen_from > held[0].at - FRAME_S - 0.01


def test_no_speech_timeout_waits_for_a_slow_load() -> None:
    """Told "loading the speech model...", the user waits: silence then is no non-answer."""
    now = time.monotonic()
    audio = np.concatenate([quiet(3.0), voiced_pcm(1.0), quiet(2.0)])
    source = StampedSource(audio, now - 3.0)
    loading: concurrent.futures.Future[ScriptedRecognizer] = concurrent.futures.Future()
    session = _listening_session(source, [], EndpointConfig(no_speech_timeout=1.0))
    session._recognizer = loading
    session._listen_from = now - 3.0  # the question ended 3 s ago; the load is still running
    threading.Timer(0.4, loading.set_result, [ScriptedRecognizer(["hello there"])]).start()
    heard = session._listen()
    assert heard is not None and heard.text == "hello there"
