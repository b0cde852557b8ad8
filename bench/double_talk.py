"""A continuation spoken over the reply's echo: which words reach the stored answer?

Offline and repeatable (no devices): the candidate's first part ends (the endpoint), the
reply plays, its echo comes back 120 ms late at -15.6 dB (the end-to-end test's 55 %
loopback), and the candidate goes on over it, ``--onsets`` seconds into the reply. The
frames go through the session's parts - Silero VAD, the echo gate (delay and coupling as
measured live), the endpointer - the reply stops at the barge-in (its echo 0.15 s after),
and whisper recognises the joined answer, as the session does.

Per case: interviewer words in the answer (words of the reply the candidate never says),
and seconds of the candidate's speech stored as silence. ``--pre-roll 99`` keeps all the
echo before the barge-in (the behaviour before the echo was silenced).

    python bench/double_talk.py [--pre-roll 0.06] [--onsets 0.2,0.5,...]

Prints one line per case, then a ``summary`` line.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import tempfile
import wave
from pathlib import Path

import numpy as np
from _common import machine

from voice_coach.audio.format import FRAME_SAMPLES, SAMPLE_RATE, Pcm, frames, resample
from voice_coach.listening.echo import EchoGate
from voice_coach.listening.endpointer import EndpointConfig, Endpointer, EventKind
from voice_coach.listening.vad import Vad, create_vad
from voice_coach.stt.base import Recognizer
from voice_coach.stt.registry import create_recognizer

FIRST = "Hi Alex, nice to meet you too. I'm Jane, and I recently moved to Berlin."
GOING_ON = ("Before that I lived in Lisbon for five years, working for a small bank.",
            "After that I worked in Madrid as an analyst for three years.")
REPLIES = ("Interesting. What do you like to do outside of work?",
           "That's great. Let me tell you a little about the role: We build dashboards for "
           "customers.")
ECHO_GAIN = 0.166
"""PulseAudio's 55 % volume (cubic): -15.6 dB."""
DELAY = 0.12
COUPLING_DB = -3.65
"""The gate's bound as measured live on the greeting (95th percentile)."""
_WORD = re.compile(r"[a-z']+")
_FRAME_S = FRAME_SAMPLES / SAMPLE_RATE


def espeak(folder: Path, text: str, *args: str) -> Pcm:
    """``text`` by espeak-ng at 16 kHz."""
    path = folder / f"{abs(hash((text, args)))}.wav"
    subprocess.run(["espeak-ng", "-w", str(path), *args, text], check=True, timeout=30)
    with wave.open(str(path)) as w:
        pcm = np.frombuffer(w.readframes(w.getnframes()), np.int16)
        return resample(pcm, w.getframerate())


def one_case(first: Pcm, going_on: Pcm, reply: Pcm, onset: float, pre_roll: float,
             vad: Vad, recognizer: Recognizer) -> tuple[str, float, float] | None:
    """(the answer's text, how late the barge-in came, candidate seconds silenced)."""
    ep = Endpointer(EndpointConfig(barge_in_pre_roll=pre_roll))
    gate = EchoGate()
    gate.delay, gate.coupling_db, gate.typical_db = DELAY, COUPLING_DB, 20 * np.log10(ECHO_GAIN)
    vad.reset()
    ep.set_hint(FIRST)
    t0 = 100.0
    lead = np.concatenate([np.zeros(FRAME_SAMPLES * 5, np.int16), first,
                           np.zeros(int(1.4 * SAMPLE_RATE), np.int16)])
    for i in range(0, len(lead) // FRAME_SAMPLES * FRAME_SAMPLES, FRAME_SAMPLES):
        ep.process(lead[i : i + FRAME_SAMPLES], vad.is_speech(lead[i : i + FRAME_SAMPLES]))
    assert ep.end_time is not None, "no endpoint after the first part"
    now = t0 + ep.now
    reply_at = now + 0.6
    user_at = reply_at + onset
    gate.start_reply(reply_at)
    gate.add_reference(reply_at, reply)
    stop: float | None = None
    barge_at: float | None = None
    total = 0.6 + onset + len(going_on) / SAMPLE_RATE + 1.5
    for k in range(int(total / _FRAME_S)):
        at = now + k * _FRAME_S
        times = at + np.arange(FRAME_SAMPLES) / SAMPLE_RATE
        mix = np.zeros(FRAME_SAMPLES)
        i = ((times - reply_at - DELAY) * SAMPLE_RATE).astype(int)
        on = (i >= 0) & (i < len(reply))
        if stop is not None:
            on &= times < stop + 0.15 + DELAY
        mix[on] += reply[i[on]] * ECHO_GAIN
        j = ((times - user_at) * SAMPLE_RATE).astype(int)
        on = (j >= 0) & (j < len(going_on))
        mix[on] += going_on[j[on]]
        frame = np.clip(mix, -32768, 32767).astype(np.int16)
        voiced = vad.is_speech(frame)
        excess = gate.excess_db(frame, at) if barge_at is None else None
        if voiced and barge_at is None:
            voiced = gate.is_user(frame, at)
        if any(e.kind is EventKind.BARGE_IN for e in ep.process(frame, voiced, excess)):
            barge_at, stop = at, at + 0.03
            gate.stop_reference(stop)
    if barge_at is None:
        return None
    audio = ep.utterance()
    recognizer.start()
    for f in frames(audio, pad=False):
        recognizer.accept(f)
    text = recognizer.finish().text
    silenced = 0.0
    for k in range(len(audio) // FRAME_SAMPLES):
        j = int((t0 + k * _FRAME_S - user_at) * SAMPLE_RATE)
        said = going_on[max(0, j) : j + FRAME_SAMPLES] if j + FRAME_SAMPLES > 0 else going_on[:0]
        if len(said) and not audio[k * FRAME_SAMPLES : (k + 1) * FRAME_SAMPLES].any() and (
                np.abs(said.astype(float)).mean() > 300):
            silenced += _FRAME_S
    return text, barge_at - user_at, silenced


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pre-roll", type=float, default=EndpointConfig().barge_in_pre_roll)
    parser.add_argument("--onsets", default="0.2,0.5,0.8,1.0,1.2,1.4,1.6,2.0")
    args = parser.parse_args()
    onsets = [float(x) for x in args.onsets.split(",")]
    recognizer, vad = create_recognizer("whisper"), create_vad("auto")
    cases = leaked = cut = unheard = 0
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        loud = ("-v", "en-us+m3", "-s", "165", "-a", "180")  # close to the microphone
        first = espeak(folder, FIRST, *loud)
        for said in GOING_ON:
            going_on = espeak(folder, said, *loud)
            candidate = set(_WORD.findall(f"{FIRST} {said}".lower()))
            for line in REPLIES:
                reply = espeak(folder, line, "-s", "200")
                interviewer = set(_WORD.findall(line.lower())) - candidate
                for onset in onsets:
                    out = one_case(first, going_on, reply, onset, args.pre_roll, vad, recognizer)
                    if out is None:
                        unheard += 1  # the gate never heard the candidate over this reply
                        continue
                    text, late, silenced = out
                    words = set(_WORD.findall(text.lower()))
                    cases += 1
                    leaked += bool(words & interviewer)
                    cut += silenced > 0
                    print(f"onset {onset:.1f} s, barge-in {late:.2f} s later, "
                          f"silenced {silenced:.2f} s, interviewer words "
                          f"{sorted(words & interviewer)}: {text}", flush=True)
    print(f"summary: pre-roll {args.pre_roll} s: {cases} continuations, {leaked} with "
          f"interviewer words, {cut} with candidate speech silenced ({unheard} never barged "
          f"in); {machine()}")


if __name__ == "__main__":
    main()
