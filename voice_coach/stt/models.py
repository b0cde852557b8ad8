"""Speech models: what is installed, and the one command that downloads a vosk model."""

from __future__ import annotations

import hashlib
import http.client
import logging
import os
import shutil
import stat
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from voice_coach import config
from voice_coach.errors import CoachError, EngineUnavailable, UsageError

_LOGGER = logging.getLogger(__name__)

BASE_URL = "https://alphacephei.com/vosk/models/"
URL_ENV = "VOICE_COACH_MODEL_URL"
"""Environment variable overriding the base URL models are downloaded from."""

Progress = Callable[[int, int | None], None]
"""Called with (bytes so far, total bytes or None)."""


@dataclass(frozen=True)
class CatalogueEntry:
    """One downloadable vosk model."""

    name: str
    archive: str
    """File name of the zip on the server (without the base URL)."""
    size: int | None
    """Bytes of the zip, or None to trust Content-Length."""
    sha256: str | None
    """Hex digest of the zip, or None when no published value was found."""
    description: str


CATALOGUE: dict[str, CatalogueEntry] = {
    "small-en": CatalogueEntry(
        "small-en",
        "vosk-model-small-en-us-0.15.zip",
        41_205_931,
        "30f26242c4eb449f948e42cb302dd7a686cb29a3423a8367f99ff41780942498",
        "small US English model (40 MB, fast, WER 9.85 on LibriSpeech test-clean)",
    ),
    "lgraph-en": CatalogueEntry(
        "lgraph-en",
        "vosk-model-en-us-0.22-lgraph.zip",
        None,  # no published size/sha256 found offline: checked against Content-Length only
        None,
        "larger US English model with a dynamic graph (128 MB, more accurate)",
    ),
}
"""Official English vosk models by short name; the folder is named after the short name."""


@dataclass(frozen=True)
class ModelInfo:
    """One line of ``models list``: an engine or model and whether it is usable."""

    kind: str
    """"engine" or "vosk-model"."""
    name: str
    available: bool
    detail: str
    path: str | None = None
    auto: bool = False
    """True for the engine ``auto`` picks."""


def list_models() -> list[ModelInfo]:
    """Installed engines, vosk models found on disk, and which engine auto picks and why."""
    from voice_coach.stt import registry, vosk_engine

    try:
        chosen, reason = registry.auto_choice()
    except CoachError as exc:
        chosen, reason = "", str(exc)
    infos = [
        ModelInfo(
            "engine",
            s.name,
            s.ready,
            f"{s.detail}; auto picks it: {reason}" if s.name == chosen else s.detail,
            auto=s.name == chosen,
        )
        for s in registry.available_engines()
    ]
    seen: set[Path] = set()
    env_model = os.environ.get(vosk_engine.MODEL_ENV)
    folders = vosk_engine.model_dirs()
    candidates = [Path(env_model).expanduser()] if env_model else []
    for folder in folders:
        if folder.is_dir():
            candidates.extend(sorted(p for p in folder.iterdir() if p.is_dir()))
    for path in candidates:
        if path.resolve() in seen or not vosk_engine.looks_like_vosk_model(path):
            continue
        seen.add(path.resolve())
        infos.append(ModelInfo("vosk-model", path.name, True, "vosk model folder", str(path)))
    return infos


def _base_url(base_url: str | None) -> str:
    """Base URL from the argument, $VOICE_COACH_MODEL_URL, or the vosk project."""
    url = base_url or os.environ.get(URL_ENV) or BASE_URL
    return url if url.endswith("/") else url + "/"


def _safe_members(archive: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    """Members of a zip, refusing absolute paths, '..' and symlinks."""
    members = archive.infolist()
    for info in members:
        path = PurePosixPath(info.filename.replace("\\", "/"))
        if path.is_absolute() or ".." in path.parts or (path.parts and ":" in path.parts[0]):
            raise CoachError(f"refusing model archive: member {info.filename!r} escapes the folder")
        if stat.S_ISLNK(info.external_attr >> 16):
            raise CoachError(f"refusing model archive: member {info.filename!r} is a symlink")
    return members


def _extract(zip_path: Path, target: Path) -> None:
    """Extract a model zip into ``target``, lifting a single top-level folder."""
    with zipfile.ZipFile(zip_path) as archive:
        members = _safe_members(archive)
        bad = archive.testzip()
        if bad is not None:
            raise CoachError(f"model archive is corrupt at {bad}")
        archive.extractall(target, members)
    entries = list(target.iterdir())
    if len(entries) == 1 and entries[0].is_dir():
        # vosk zips hold one folder named after the model: use its content as the model.
        inner = entries[0]
        for child in inner.iterdir():
            child.rename(target / child.name)
        inner.rmdir()


def download_model(
    name: str,
    dest_dir: Path | None = None,
    base_url: str | None = None,
    progress: Progress | None = None,
    sha256: str | None = None,
    timeout: float = 30.0,
) -> Path:
    """Download, verify and unpack a catalogued vosk model; returns its folder.

    Writes only to temporary names inside ``dest_dir`` and renames the finished folder into
    place, so a failure leaves nothing behind.
    """
    from voice_coach.stt.vosk_engine import MODEL_ENV, looks_like_vosk_model

    entry = CATALOGUE.get(name)
    if entry is None:
        raise UsageError(f"unknown model {name!r}: choose one of {', '.join(CATALOGUE)}")
    dest = Path(dest_dir) if dest_dir else config.user_models_dir()
    target = dest / name
    if target.exists():
        raise UsageError(f"{target} already exists: remove it first to download again")
    from voice_coach.fileio import make_private_dirs

    make_private_dirs(dest)  # 0700 whatever the umask; existing folders stay as they are
    url = _base_url(base_url) + entry.archive
    expected_sha = (sha256 or entry.sha256 or "").lower() or None
    fd, tmp_name = tempfile.mkstemp(prefix=f".{name}.", suffix=".zip.part", dir=dest)
    os.close(fd)
    tmp_zip = Path(tmp_name)
    tmp_dir: Path | None = None
    try:
        digest = hashlib.sha256()
        done = 0
        total: int | None = entry.size
        _LOGGER.info("downloading %s", url)
        with tmp_zip.open("wb") as out:
            try:
                with urllib.request.urlopen(url, timeout=timeout) as response:
                    header = response.headers.get("Content-Length")
                    total = int(header) if header else entry.size
                    while chunk := response.read(1 << 16):
                        out.write(chunk)
                        digest.update(chunk)
                        done += len(chunk)
                        if progress:
                            progress(done, total)
            except urllib.error.HTTPError as exc:
                raise CoachError(f"cannot download {url}: HTTP {exc.code}") from exc
            except http.client.IncompleteRead as exc:
                raise CoachError(f"download of {url} is incomplete: connection closed") from exc
            except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
                raise EngineUnavailable(
                    f"cannot reach {url}: offline? put a vosk model folder in "
                    f"{config.user_models_dir()} or set {MODEL_ENV}"
                ) from exc
        # A sha256 override means another archive than the catalogued one: trust its length.
        expected_size = total if sha256 or entry.size is None else entry.size
        if expected_size is not None and done != expected_size:
            raise CoachError(f"download of {url} is incomplete: {done} of {expected_size} bytes")
        if expected_sha and digest.hexdigest() != expected_sha:
            raise CoachError(f"checksum mismatch for {url}: got sha256 {digest.hexdigest()}")
        if not expected_sha:
            _LOGGER.warning("no known sha256 for %s; got %s", entry.archive, digest.hexdigest())
        tmp_dir = Path(tempfile.mkdtemp(prefix=f".{name}.", suffix=".part", dir=dest))
        try:
            _extract(tmp_zip, tmp_dir)
        except zipfile.BadZipFile as exc:
            raise CoachError(f"model archive from {url} is not a valid zip: {exc}") from exc
        if not looks_like_vosk_model(tmp_dir):
            raise CoachError(f"archive from {url} does not hold a vosk model")
        os.replace(tmp_dir, target)
        tmp_dir = None
        return target
    finally:
        tmp_zip.unlink(missing_ok=True)
        if tmp_dir is not None:
            shutil.rmtree(tmp_dir, ignore_errors=True)
