"""Model listing and download against a local HTTP server: verify, unpack safely, no leftovers."""

from __future__ import annotations

import hashlib
import http.server
import io
import socket
import stat
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from voice_coach.errors import CoachError, EngineUnavailable, UsageError
from voice_coach.stt import models
from voice_coach.stt.models import CATALOGUE, CatalogueEntry, download_model, list_models

ARCHIVE = CATALOGUE["small-en"].archive


def _model_zip(extra: dict[str, bytes] | None = None, symlink: str | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("vosk-model-small-en-us-0.15/am/final.mdl", b"acoustic")
        z.writestr("vosk-model-small-en-us-0.15/conf/model.conf", b"--x=1\n")
        z.writestr("vosk-model-small-en-us-0.15/graph/HCLr.fst", b"graph" * 1000)
        for name, data in (extra or {}).items():
            z.writestr(name, data)
        if symlink:
            info = zipfile.ZipInfo("vosk-model-small-en-us-0.15/link")
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            z.writestr(info, symlink)
    return buf.getvalue()


class _Server:
    """Serves a dict of path -> (body, declared length) on 127.0.0.1."""

    def __init__(self) -> None:
        self.files: dict[str, tuple[bytes, int]] = {}
        files = self.files

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                name = self.path.rsplit("/", 1)[-1]
                if name not in files:
                    self.send_error(404)
                    return
                body, length = files[name]
                self.send_response(200)
                self.send_header("Content-Length", str(length))
                self.end_headers()
                self.wfile.write(body)
                self.close_connection = True

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/models/"
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()

    def put(self, name: str, body: bytes, length: int | None = None) -> None:
        self.files[name] = (body, len(body) if length is None else length)


@pytest.fixture
def server() -> Iterator[_Server]:
    s = _Server()
    yield s
    s.httpd.shutdown()
    s.httpd.server_close()


@pytest.fixture
def entry(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Point the small-en catalogue entry at the test archive's size and checksum."""
    body = _model_zip()
    monkeypatch.setitem(
        CATALOGUE,
        "small-en",
        CatalogueEntry("small-en", ARCHIVE, len(body), hashlib.sha256(body).hexdigest(), "test"),
    )
    yield


def _leftovers(dest: Path) -> list[str]:
    return sorted(p.name for p in dest.iterdir()) if dest.exists() else []


def test_good_download(server: _Server, entry: None, tmp_path: Path) -> None:
    server.put(ARCHIVE, _model_zip())
    seen: list[tuple[int, int | None]] = []
    path = download_model(
        "small-en", tmp_path, server.url, progress=lambda d, t: seen.append((d, t))
    )
    assert path == tmp_path / "small-en"
    assert (path / "am" / "final.mdl").read_bytes() == b"acoustic"
    assert _leftovers(tmp_path) == ["small-en"]
    assert seen[-1][0] == seen[-1][1]
    with pytest.raises(UsageError, match="already exists"):
        download_model("small-en", tmp_path, server.url)


def test_env_base_url(
    server: _Server, entry: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.put(ARCHIVE, _model_zip())
    monkeypatch.setenv("VOICE_COACH_HOME", str(tmp_path))
    monkeypatch.setenv(models.URL_ENV, server.url.rstrip("/"))
    assert download_model("small-en") == tmp_path / "models" / "small-en"


def test_truncated_download(server: _Server, entry: None, tmp_path: Path) -> None:
    body = _model_zip()
    server.put(ARCHIVE, body[: len(body) // 2], length=len(body))
    with pytest.raises(CoachError, match="incomplete"):
        download_model("small-en", tmp_path, server.url)
    assert _leftovers(tmp_path) == []


def test_bad_checksum(server: _Server, entry: None, tmp_path: Path) -> None:
    good = _model_zip()
    bad = bytearray(good)
    bad[-30] ^= 0xFF  # same length, different bytes
    server.put(ARCHIVE, bytes(bad))
    with pytest.raises(CoachError, match="checksum"):
        download_model("small-en", tmp_path, server.url)
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize(
    "member", ["../evil.txt", "/abs/evil.txt", "vosk-model-small-en-us-0.15/../../evil.txt"]
)
def test_path_traversal_refused(server: _Server, tmp_path: Path, member: str) -> None:
    body = _model_zip({member: b"gotcha"})
    server.put(ARCHIVE, body)
    dest = tmp_path / "models"
    with pytest.raises(CoachError, match="escapes"):
        download_model("small-en", dest, server.url, sha256=hashlib.sha256(body).hexdigest())
    assert _leftovers(dest) == []
    assert not (tmp_path / "evil.txt").exists()


def test_symlink_refused(server: _Server, tmp_path: Path) -> None:
    body = _model_zip(symlink="/etc/passwd")
    server.put(ARCHIVE, body)
    with pytest.raises(CoachError, match="symlink"):
        download_model("small-en", tmp_path, server.url, sha256=hashlib.sha256(body).hexdigest())
    assert _leftovers(tmp_path) == []


def test_not_a_zip(server: _Server, tmp_path: Path) -> None:
    body = b"<html>not found</html>"
    server.put(ARCHIVE, body)
    with pytest.raises(CoachError, match="not a valid zip"):
        download_model("small-en", tmp_path, server.url, sha256=hashlib.sha256(body).hexdigest())
    assert _leftovers(tmp_path) == []


def test_http_error(server: _Server, tmp_path: Path) -> None:
    with pytest.raises(CoachError, match="HTTP 404"):
        download_model("lgraph-en", tmp_path, server.url)
    assert _leftovers(tmp_path) == []


def test_offline_message(tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(EngineUnavailable) as err:
        download_model("small-en", tmp_path, f"http://127.0.0.1:{port}/", timeout=2)
    message = str(err.value)
    assert message.startswith("cannot reach http://127.0.0.1")
    assert "offline?" in message and "VOICE_COACH_VOSK_MODEL" in message
    assert "\n" not in message
    assert _leftovers(tmp_path) == []


def test_unknown_model(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="small-en, lgraph-en"):
        download_model("huge", tmp_path)


def test_list_models_shows_engines_and_found_models(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VOICE_COACH_HOME", str(tmp_path))
    monkeypatch.delenv("VOICE_COACH_VOSK_MODEL", raising=False)
    infos = list_models()
    assert {i.name for i in infos if i.kind == "engine"} == {
        "moonshine",
        "vosk",
        "whisper",
        "sphinx",
    }
    moonshine = next(i for i in infos if i.name == "moonshine")
    if moonshine.available:  # no vosk model yet: the embedded default
        assert next(i for i in infos if i.auto).name == "moonshine"
        assert "moonshine-base-en-" in moonshine.detail  # where it is or will be converted
    model = tmp_path / "models" / "small-en"
    (model / "am").mkdir(parents=True)
    infos = list_models()
    found = [i for i in infos if i.kind == "vosk-model"]
    assert [i.name for i in found][:1] == ["small-en"]
    if any(i.name == "vosk" and i.detail.startswith("model") for i in infos):
        # A vosk model the user installed wins over the embedded default.
        assert next(i for i in infos if i.auto).name == "vosk"
