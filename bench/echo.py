"""Echo handling on the virtual echo path: the residual-energy gate, Speex AEC, PulseAudio's AEC.

A private PulseAudio daemon (tests/support/virtual_audio.py) routes the virtual speaker back
into the virtual microphone, delayed (120 ms) and quieter (55 %), as the end-to-end echo test
does. Interviewer lines (espeak-ng) are played through the Player while the Microphone
captures, both on the session's one timeline; during the last line a candidate talks over it
(double talk). Then, per method:

- ``gate``: the session's EchoGate (delay measured on the first line, as the session does):
  echo frames the VAD calls speech and the gate lets through (they would start barge-ins or
  answers), and candidate frames it keeps (barge-in detection).
- ``speex``: libspeexdsp's echo canceller (Debian ``libspeexdsp1``, BSD; called through ctypes,
  the same calls as PyPI ``speexdsp-aec``), 10 ms frames, with the played audio placed on the
  microphone's timeline as the reference, then the gate on what is left. Echo return loss
  enhancement (ERLE) on echo-only frames, CPU per 10 ms frame.
- ``pulse``: PulseAudio's ``module-echo-cancel`` (WebRTC AEC) between the same devices: the
  line is played to its sink and captured from its source (a second run of the same lines).

Words: the echo-only residual of each line is transcribed (whisper tiny.en): interviewer words
that would reach an answer if nothing else stopped them.

    python bench/echo.py [--no-pulse] [--no-words]

Prints one JSON object, then a ``summary`` line.
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from _common import ROOT, machine

from tests.support.virtual_audio import MIC_FEED, SPEAKER, VirtualAudio

LINES = (
    "Hello, it's great to meet you. Tell me a little about yourself and your last job.",
    "That's great. Let me tell you about the role: we build dashboards for customers.",
    "Thanks for sharing that. What questions do you have for me about the team?",
)
CANDIDATE = "Before that I lived in Lisbon for five years, working for a small bank."
_WORD = re.compile(r"[a-z']+")


def espeak(path: Path, text: str, voice: str = "en-us", amp: int = 100) -> Path:
    """A WAV of ``text`` by espeak-ng."""
    subprocess.run(["espeak-ng", "-w", str(path), "-v", voice, "-s", "175", "-a", str(amp),
                    text], check=True, timeout=30)
    return path


class SpeexEcho:
    """libspeexdsp's echo canceller through ctypes (10 ms frames of 16 kHz int16)."""

    def __init__(self, frame: int = 160, tail: int = 4000, suppress: bool = False) -> None:
        name = ctypes.util.find_library("speexdsp") or "libspeexdsp.so.1"
        lib = ctypes.CDLL(name)
        lib.speex_echo_state_init.restype = ctypes.c_void_p
        lib.speex_echo_state_init.argtypes = [ctypes.c_int, ctypes.c_int]
        ptr = ctypes.POINTER(ctypes.c_int16)
        lib.speex_echo_cancellation.argtypes = [ctypes.c_void_p, ptr, ptr, ptr]
        lib.speex_echo_ctl.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p]
        lib.speex_echo_state_destroy.argtypes = [ctypes.c_void_p]
        lib.speex_preprocess_state_init.restype = ctypes.c_void_p
        lib.speex_preprocess_state_init.argtypes = [ctypes.c_int, ctypes.c_int]
        lib.speex_preprocess_ctl.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p]
        lib.speex_preprocess_run.argtypes = [ctypes.c_void_p, ptr]
        lib.speex_preprocess_state_destroy.argtypes = [ctypes.c_void_p]
        self._lib, self._ptr, self.frame = lib, ptr, frame
        self._state = lib.speex_echo_state_init(frame, tail)
        rate = ctypes.c_int(16000)
        lib.speex_echo_ctl(self._state, 24, ctypes.byref(rate))  # SPEEX_ECHO_SET_SAMPLING_RATE
        self._pre = None
        if suppress:
            # The preprocessor's residual echo suppression, fed the canceller's state
            # (SPEEX_PREPROCESS_SET_ECHO_STATE = 24); its noise suppression off (0 = DENOISE).
            self._pre = lib.speex_preprocess_state_init(frame, 16000)
            lib.speex_preprocess_ctl(self._pre, 24, ctypes.c_void_p(self._state))
            off = ctypes.c_int(0)
            lib.speex_preprocess_ctl(self._pre, 0, ctypes.byref(off))

    def process(self, near: np.ndarray, far: np.ndarray) -> np.ndarray:
        """Cancel ``far`` (what was played) from ``near`` (the microphone), frame by frame."""
        out = np.zeros(len(near) // self.frame * self.frame, dtype=np.int16)
        for i in range(0, len(out), self.frame):
            n = np.ascontiguousarray(near[i : i + self.frame], dtype=np.int16)
            f = np.ascontiguousarray(far[i : i + self.frame], dtype=np.int16)
            o = out[i : i + self.frame]
            self._lib.speex_echo_cancellation(self._state, n.ctypes.data_as(self._ptr),
                                              f.ctypes.data_as(self._ptr),
                                              o.ctypes.data_as(self._ptr))
            if self._pre is not None:
                self._lib.speex_preprocess_run(self._pre, o.ctypes.data_as(self._ptr))
        return out

    def close(self) -> None:
        """Free the canceller."""
        self._lib.speex_echo_state_destroy(self._state)
        if self._pre is not None:
            self._lib.speex_preprocess_state_destroy(self._pre)


def capture_run(wavs: list[Path], candidate: Path, va: VirtualAudio,
                sink: str | None = None, source: str | None = None) -> dict[str, Any]:
    """Play the lines (the candidate over the last one) while capturing; a child process."""
    env = dict(va.env)
    env["PYTHONPATH"] = str(ROOT)
    if sink:
        env["PULSE_SINK"] = sink
    if source:
        env["PULSE_SOURCE"] = source
    out = Path(tempfile.mkdtemp(prefix="echo-bench-"))
    code = f"""
import json, sys, threading, time
import numpy as np
from voice_coach.audio.capture import Microphone
from voice_coach.audio.format import read_audio, resample
from voice_coach.audio.playback import Player
wavs = {[str(w) for w in wavs]!r}
frames, ats = [], []
with Microphone() as mic, Player() as player:
    stop = False
    def reader():
        while not stop:
            c = mic.read(timeout=0.1)
            if c is not None and c.at is not None:
                frames.append(c.samples); ats.append(c.at)
    th = threading.Thread(target=reader); th.start()
    time.sleep(1.0)
    played = []
    for i, w in enumerate(wavs):
        pcm = read_audio(w)
        pb = player.play(pcm, 16000)
        if i == len(wavs) - 1:
            while pb.audible_at is None: time.sleep(0.005)
            time.sleep(0.8)
            print("CANDIDATE", time.monotonic(), flush=True)
        player.wait()
        played.append((pb.audible_at, w))
        time.sleep(1.5)
    stop = True; th.join()
np.save({str(out / 'mic.npy')!r}, np.concatenate(frames))
json.dump({{"t0": ats[0], "played": played}}, open({str(out / 'meta.json')!r}, "w"))
"""
    proc = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    candidate_at = None
    for line in proc.stdout:
        if line.startswith("CANDIDATE"):
            candidate_at = float(line.split()[1])
            subprocess.Popen(["paplay", f"--device={MIC_FEED}", str(candidate)], env=va.env)
    proc.wait(timeout=120)
    meta: dict[str, Any] = json.loads((out / "meta.json").read_text())
    meta["mic"] = np.load(out / "mic.npy")
    meta["candidate_at"] = candidate_at
    return meta


def timeline(run: dict[str, Any], candidate: np.ndarray) -> dict[str, Any]:
    """The played reference and the candidate's audio placed on the microphone's samples."""
    from voice_coach.audio.format import read_audio

    mic = run["mic"]
    t0 = run["t0"]
    ref = np.zeros(len(mic), np.int16)
    spans = []
    for at, wav in run["played"]:
        pcm = read_audio(wav)
        i = round((at - t0) * 16000)
        n = min(len(pcm), len(ref) - i)
        ref[i : i + n] = pcm[:n]
        spans.append((i, i + n))
    cand = np.zeros(len(mic), bool)
    if run["candidate_at"] is not None:
        # paplay starts ~0.1 s after it is asked; a generous window around the candidate
        c0 = int((run["candidate_at"] - t0) * 16000)
        cand[c0 : c0 + len(candidate) + 8000] = True
    return {"ref": ref, "spans": spans, "candidate": cand}


def energy_db(x: np.ndarray) -> float:
    """Mean energy in dBFS."""
    return float(10 * np.log10(np.mean(x.astype(np.float64) ** 2) / 32768**2 + 1e-12))


def judge(signal: np.ndarray, ref: np.ndarray, t0: float, spans: list[tuple[int, int]],
          cand: np.ndarray, learn_until: int) -> dict[str, Any]:
    """Run VAD + EchoGate as the session does; count echo let through and candidate kept."""
    from voice_coach.audio.format import FRAME_SAMPLES
    from voice_coach.listening.echo import EchoGate
    from voice_coach.listening.vad import create_vad

    vad = create_vad("auto")
    gate = EchoGate()
    fs = FRAME_SAMPLES
    n = len(signal) // fs
    echo_frames = echo_voiced = echo_through = cand_voiced = cand_kept = 0
    pending = list(spans)
    for k in range(n):
        t = t0 + k * fs / 16000
        i = k * fs
        frame = signal[i : i + fs]
        while pending and pending[0][0] < i + fs:
            s0, s1 = pending.pop(0)  # a line starts: the gate hears of it as the session's does
            gate.start_reply(t0 + s0 / 16000)
            gate.add_reference(t0 + s0 / 16000, ref[s0:s1])
        in_line = any(s0 <= i < s1 + 4000 for s0, s1 in spans)
        if not in_line:
            continue
        voiced = vad.is_speech(frame)
        if i < learn_until:
            gate.observe(frame, t)
            if i + fs >= learn_until:
                gate.estimate_delay()
            user = False
        else:
            user = voiced and gate.is_user(frame, t)
        if cand[i]:
            cand_voiced += voiced
            cand_kept += user
        elif i >= learn_until:
            echo_frames += 1
            echo_voiced += voiced
            echo_through += user
    return {"echo_frames": echo_frames, "echo_voiced_frames": echo_voiced,
            "echo_let_through": echo_through,
            "echo_let_through_rate": round(echo_through / max(1, echo_frames), 4),
            "candidate_voiced_frames": cand_voiced, "candidate_kept": cand_kept,
            "candidate_kept_rate": round(cand_kept / max(1, cand_voiced), 3),
            "delay_ms": None if gate.delay is None else round(gate.delay * 1000),
            "coupling_db": None if gate.coupling_db is None else round(gate.coupling_db, 1)}


def words_in(signal: np.ndarray, spans: list[tuple[int, int]], cand: np.ndarray,
             recognizer: Any) -> list[str]:
    """Words recognised in the echo-only parts of the lines (no candidate there)."""
    words: list[str] = []
    for s0, s1 in spans:
        seg = signal[s0 : s1 + 4000]
        if cand[s0 : s1 + 4000].any():
            seg = signal[s0 : s0 + int(np.argmax(cand[s0 : s1 + 4000]))]
        if len(seg) > 8000:
            words += _WORD.findall(recognizer.transcribe(seg).text.lower())
    return words


def erle(mic: np.ndarray, out: np.ndarray, spans: list[tuple[int, int]],
         cand: np.ndarray) -> float:
    """Echo return loss enhancement (dB) over the echo-only parts of the lines."""
    mask = np.zeros(len(out), bool)
    for s0, s1 in spans:
        mask[s0 : min(len(out), s1 + 4000)] = True
    mask &= ~cand[: len(out)]
    mask[: 16000 * 2] = False  # let an adaptive filter converge on the first two seconds
    return round(energy_db(mic[: len(out)][mask]) - energy_db(out[mask]), 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-pulse", action="store_true", help="skip module-echo-cancel")
    parser.add_argument("--no-words", action="store_true", help="skip the recogniser")
    args = parser.parse_args()
    from voice_coach.audio.format import read_audio, write_wav

    work = Path(tempfile.mkdtemp(prefix="echo-bench-"))
    wavs = []
    for i, text in enumerate(LINES):
        raw = espeak(work / f"raw{i}.wav", text)
        write_wav(work / f"line{i}.wav", read_audio(raw))  # 16 kHz: the reference as played
        wavs.append(work / f"line{i}.wav")
    cand_wav = espeak(work / "cand.wav", CANDIDATE, voice="en-us+m3", amp=180)
    cand_pcm = read_audio(cand_wav)
    result: dict[str, Any] = {"machine": machine(), "lines": len(LINES)}
    recognizer = None
    if not args.no_words:
        from voice_coach.stt.registry import create_recognizer
        recognizer = create_recognizer("whisper")
    with VirtualAudio() as va:
        va.route_speaker_to_mic(120, "55%")
        cpu0 = _proc_cpu(va.pid)
        run = capture_run(wavs, cand_wav, va)
        result["raw_daemon_cpu_s"] = round(_proc_cpu(va.pid) - cpu0, 2)
        tl = timeline(run, cand_pcm)
        mic, ref, spans, cand = run["mic"], tl["ref"], tl["spans"], tl["candidate"]
        learn = spans[0][1] + 4000  # the first line measures the echo path, as in a session
        result["gate"] = judge(mic, ref, run["t0"], spans, cand, learn)
        if recognizer is not None:
            result["gate"]["echo_words"] = words_in(mic, spans, cand, recognizer)
        # Speex with the reference on the microphone's timeline, shifted by the measured delay.
        delay = (result["gate"]["delay_ms"] or 140) / 1000
        for name, filter_ms, lead_ms, suppress in (("speex", 250, 40, False),
                                                   ("speex_500ms", 500, 200, False),
                                                   ("speex_suppress", 250, 40, True)):
            shift = max(0, int((delay - lead_ms / 1000) * 16000))
            far = np.concatenate([np.zeros(shift, np.int16), ref[: len(ref) - shift]])
            aec = SpeexEcho(160, 16 * filter_ms, suppress)
            began = time.process_time()
            out = aec.process(mic, far)
            cpu = time.process_time() - began
            aec.close()
            padded = np.concatenate([out, np.zeros(len(mic) - len(out), np.int16)])
            speex = {"erle_db": erle(mic, out, spans, cand),
                     "cpu_ms_per_10ms": round(cpu / (len(out) / 160) * 1000, 4),
                     "filter_ms": filter_ms, "reference_shift_ms": round(shift / 16),
                     "residual_suppression": suppress,
                     **judge(padded, ref, run["t0"], spans, cand, learn)}
            if recognizer is not None:
                speex["echo_words"] = words_in(out, spans, cand, recognizer)
            result[name] = speex
        if not args.no_pulse:
            module = va._pactl("load-module", "module-echo-cancel", "aec_method=webrtc",
                               f"source_master={'va_mic'}", f"sink_master={SPEAKER}",
                               "source_name=ec_src", "sink_name=ec_sink", "use_master_format=1")
            time.sleep(0.5)
            pid = va.pid
            cpu0 = _proc_cpu(pid)
            t_run = time.monotonic()
            prun = capture_run(wavs, cand_wav, va, sink="ec_sink", source="ec_src")
            pulse_cpu = _proc_cpu(pid) - cpu0
            wall = time.monotonic() - t_run
            ptl = timeline(prun, cand_pcm)
            pmic = prun["mic"]
            pulse = {**judge(pmic, ptl["ref"], prun["t0"], ptl["spans"],
                                                    ptl["candidate"], ptl["spans"][0][1] + 4000),
                     "daemon_cpu_s": round(pulse_cpu, 2), "wall_s": round(wall, 1)}
            # ERLE against the raw run: the same lines, the same echo path.
            pulse["erle_db_vs_raw_run"] = round(
                _echo_only_db(mic, spans, cand) - _echo_only_db(pmic, ptl["spans"],
                                                                ptl["candidate"]), 1)
            if recognizer is not None:
                pulse["echo_words"] = words_in(pmic, ptl["spans"], ptl["candidate"], recognizer)
            result["pulse"] = pulse
            va._pactl("unload-module", module.strip())
    result["raw_echo_db"] = round(_echo_only_db(mic, spans, cand), 1)
    print(json.dumps(result, indent=1))
    g, s = result["gate"], max((v for k, v in result.items() if k.startswith("speex")),
                               key=lambda v: v["erle_db"])
    summary = (f"summary: echo {result['raw_echo_db']} dBFS; gate lets through "
               f"{g['echo_let_through']}/{g['echo_frames']} echo frames, keeps "
               f"{g['candidate_kept_rate']:.0%} of the candidate; best speex ERLE "
               f"{s['erle_db']} dB, "
               f"{s['cpu_ms_per_10ms']} ms CPU / 10 ms, gate after it lets through "
               f"{s['echo_let_through']}, keeps {s['candidate_kept_rate']:.0%}")
    if "pulse" in result:
        p = result["pulse"]
        summary += (f"; pulse webrtc ERLE {p['erle_db_vs_raw_run']} dB, gate after it lets "
                    f"through {p['echo_let_through']}, keeps {p['candidate_kept_rate']:.0%}")
    print(summary)


def _echo_only_db(mic: np.ndarray, spans: list[tuple[int, int]], cand: np.ndarray) -> float:
    mask = np.zeros(len(mic), bool)
    for s0, s1 in spans:
        mask[s0 : min(len(mic), s1 + 4000)] = True
    mask &= ~cand[: len(mic)]
    mask[: 16000 * 2] = False
    return energy_db(mic[mask])


def _proc_cpu(pid: int | None) -> float:
    """User + system CPU seconds of a process."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


if __name__ == "__main__":
    main()
