"""Spoken commands vs short answers: how often the session hears each as a command; prints JSON.

Every command phrasing of issue 11 and short genuine answers ("Yes.", "Paris.", "Not really."),
said by piper's voice (at 150 words a minute and its own rate, three takes each: piper varies
run to run) and by six espeak-ng voices, with a little noise (the room floor and pink noise
30 dB below the speech), are decoded as the session does: Moonshine first, then the second
look (session/second_look.py) for a short utterance that was no command, once with the
recogniser's margins only (``before``) and once with whisper tiny.en told the command words
(``after``). A few non-speech sounds (a breath, a knock) count as answers too.

Usage: python bench/commands.py [--quick] [--noise-db -30]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
from _common import machine, stats
from _speech import active_rms, cache_dir, floor_noise, pink_noise, trim

from voice_coach.audio.format import SAMPLE_RATE, Pcm, read_audio, resample
from voice_coach.interview.language import parse_command
from voice_coach.session.second_look import (
    SecondLook,
    load_prompted,
    needs_second_look,
)

COMMANDS = ("Sorry, could you repeat that?", "Pause.", "Resume!", "Resume.", "Slower, please.",
            "End the interview.", "Let's continue.", "I'd like to end the interview now.",
            "Repeat that.", "Continue.", "Faster, please.")
ANSWERS = ("Yes.", "Sure.", "Paris.", "Pretty good.", "Not really.", "Python.", "No.", "Jane.",
           "Berlin.", "Fine, thanks.", "Maybe.", "Of course.", "Two years.", "Java.",
           "Absolutely.", "London.", "Nothing much.", "Coffee.", "Pasta.", "Bus.", "Horses.",
           "Please.", "Process.", "Reason.", "Hmm.")
ESPEAK = (("en-us+m3", 150), ("en-us", 160), ("en-gb", 170), ("en-us+f3", 150),
          ("en-gb-x-rp", 140), ("en-us+m7", 175))
PIPER = ((150, 3), (None, 3))
"""Piper rates (None: the voice's own) and takes of each."""
LEAD, TAIL = 0.3, 0.6
"""Silence around the speech in the utterance the session hears (the endpointer keeps some)."""


def _cached(key: str, make: object) -> Pcm:
    path = cache_dir() / f"cmd-{hashlib.sha1(key.encode()).hexdigest()[:16]}.npy"
    if path.is_file():
        return np.load(path)
    pcm = trim(make())  # type: ignore[operator]
    np.save(path, pcm)
    return pcm


def voices(quick: bool) -> list[str]:
    """Voice labels: ``piper<rate>-<take>`` and ``espeak-<voice>-<rate>``."""
    out = [f"piper{rate or ''}-{take}" for rate, takes in PIPER for take in range(takes)]
    out += [f"espeak-{v}-{r}" for v, r in ESPEAK]
    return [v for v in out if v.endswith("-0") or v.startswith("espeak")] if quick else out


def synth(text: str, voice: str) -> Pcm:
    """``text`` in ``voice``, trimmed, 16 kHz (cached between runs)."""
    def piper() -> Pcm:
        from voice_coach.tts.piper_engine import PiperSpeaker

        rate = voice.removeprefix("piper").split("-")[0]
        clip = PiperSpeaker(rate_wpm=int(rate) if rate else None).synth(text)
        return resample(clip.samples, clip.rate)

    def espeak() -> Pcm:
        name, rate = voice.removeprefix("espeak-").rsplit("-", 1)
        with tempfile.NamedTemporaryFile(suffix=".wav") as f:
            subprocess.run(["espeak-ng", "-w", f.name, "-v", name, "-s", rate, text],
                           check=True, capture_output=True)
            return read_audio(f.name)

    return _cached(f"{voice}|{text}", piper if voice.startswith("piper") else espeak)


def noises() -> list[tuple[str, Pcm]]:
    """Non-speech sounds a microphone picks up: a breath (noise burst), a knock, a click."""
    rng = np.random.default_rng(7)
    breath = (pink_noise(SAMPLE_RATE // 2, 3) * 1500 * np.hanning(SAMPLE_RATE // 2))
    knock = np.zeros(SAMPLE_RATE // 3)
    knock[:800] = rng.standard_normal(800) * 8000 * np.exp(-np.arange(800) / 150)
    hum = np.sin(np.arange(int(0.6 * SAMPLE_RATE)) * 2 * np.pi * 120 / SAMPLE_RATE) * 3000
    return [(name, np.clip(x, -32768, 32767).astype(np.int16))
            for name, x in (("breath", breath), ("knock", knock), ("hum", hum))]


def condition(pcm: Pcm, seed: int, noise_db: float) -> Pcm:
    """The utterance as heard: silence around it, the room floor and pink noise."""
    x = np.concatenate([np.zeros(int(LEAD * SAMPLE_RATE)), pcm.astype(np.float64),
                        np.zeros(int(TAIL * SAMPLE_RATE))])
    x += floor_noise(len(x), seed)
    level = active_rms(pcm) or 1000.0
    x += pink_noise(len(x), seed) * level * 10 ** (noise_db / 20)
    return np.clip(x, -32768, 32767).astype(np.int16)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one piper take per rate")
    parser.add_argument("--noise-db", type=float, default=-30.0)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from voice_coach.stt.moonshine_engine import MoonshineRecognizer

    recognizer = MoonshineRecognizer()
    prompted = load_prompted()
    decodes: dict[tuple[int, int], tuple[str, float]] = {}
    current = [0]
    spent = [0.0]

    def transcribe(clip: Pcm) -> str:
        """Moonshine, remembered per item and clip length (both looks ask the same)."""
        key = (current[0], len(clip))
        if key not in decodes:
            began = time.perf_counter()
            decodes[key] = (recognizer.transcribe(clip).text, time.perf_counter() - began)
        spent[0] += decodes[key][1]
        return decodes[key][0]

    before = SecondLook(transcribe)
    after = SecondLook(transcribe, prompted)
    items = [(t, v, synth(t, v), parse_command(t)) for t in COMMANDS + ANSWERS
             for v in voices(args.quick)]
    items += [(name, "noise", pcm, None) for name, pcm in noises()]
    rows = []
    for i, (text, voice, pcm, want) in enumerate(items):
        current[0] = i
        audio = condition(pcm, i, args.noise_db)
        first_text = recognizer.transcribe(audio).text
        row: dict[str, object] = {"text": text, "voice": voice, "want": want,
                                  "first": first_text, "seconds": round(len(pcm) / SAMPLE_RATE, 2)}
        heard = {"before": parse_command(first_text), "after": parse_command(first_text)}
        lo, hi = round(LEAD * SAMPLE_RATE), round(LEAD * SAMPLE_RATE) + len(pcm)
        seconds = len(pcm) / SAMPLE_RATE
        if needs_second_look(first_text, seconds, after.max_words):
            verdict = after.look(audio, lo, hi, heard=first_text)
            row["after_look"] = dict(after.last)
            heard["after"] = verdict.command if verdict else None
        if needs_second_look(first_text, seconds, before.max_words):
            spent[0] = 0.0
            verdict = before.look(audio, lo, hi)  # its decode times: measured once, summed
            row["before_look"] = {"margins": before.last["margins"], "seconds": round(spent[0], 3)}
            heard["before"] = verdict.command if verdict else None
        row.update(heard)
        rows.append(row)
        print(json.dumps(row), file=sys.stderr, flush=True)
    recognizer.close()
    print(json.dumps(summary(rows, prompted is not None), indent=1))


def summary(rows: list[dict[str, object]], whisper: bool) -> dict[str, object]:
    """Hit rate per command phrasing, false-command rate over answers, second-look latency."""
    out: dict[str, object] = {"bench": "commands", "machine": machine(), "whisper": whisper}
    for phase in ("before", "after"):
        per: dict[str, dict[str, int]] = {}
        for r in rows:
            if r["want"] is None:
                continue
            p = per.setdefault(str(r["text"]), {"n": 0, "hit": 0})
            p["n"] += 1
            p["hit"] += r[phase] == r["want"]
        answers = [r for r in rows if r["want"] is None]
        false = [f"{r['text']} ({r['voice']}) -> {r[phase]}" for r in answers if r[phase]]
        commands = [r for r in rows if r["want"] is not None]
        hits = sum(r[phase] == r["want"] for r in commands)
        key = f"{phase}_look" if phase == "after" else "before_look"
        looks = [float(r[key]["seconds"]) for r in rows if key in r]  # type: ignore[index]
        out[phase] = {
            "hit_rate": round(hits / len(commands), 3), "commands": len(commands),
            "false_command_rate": round(len(false) / len(answers), 3), "answers": len(answers),
            "false_commands": false,
            "per_phrase": {t: f"{p['hit']}/{p['n']}" for t, p in per.items()},
            "second_look_s": stats(looks),
        }
    return out


if __name__ == "__main__":
    main()
