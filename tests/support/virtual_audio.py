"""A private PulseAudio daemon with a virtual microphone and speaker, for end-to-end tests.

Topology (one daemon in per-user mode, everything under a temporary folder):

    harness --paplay--> [va_micfeed] null sink --.monitor--> [va_mic] remap source = default input
    program --PortAudio--> [va_speaker] null sink --.monitor--> parecord (harness) = default output
    [va_silence] null source --loopback--> va_micfeed / va_speaker  (keeps the sinks' clocks tight)

PortAudio reads the device list at ``import sounddevice``: run the code under test in a
subprocess started with ``VirtualAudio.env`` after the daemon is up.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

_LOGGER = logging.getLogger(__name__)

SPEAKER = "va_speaker"
MIC_FEED = "va_micfeed"
MIC = "va_mic"


def pulseaudio_available() -> str | None:
    """None when the harness can run, else the reason it cannot."""
    missing = [t for t in ("pulseaudio", "pactl", "paplay", "parecord") if not shutil.which(t)]
    if missing:
        return (
            f"virtual audio needs {', '.join(missing)}: sudo apt-get install"
            " --no-install-recommends pulseaudio pulseaudio-utils libasound2-plugins"
        )
    return None


def _pid_alive(pid: int) -> bool:
    """True when the process exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


class VirtualAudio:
    """Start and stop a private PulseAudio daemon with a virtual mic and speaker."""

    def __init__(self, base: Path | None = None, rate: int = 48000) -> None:
        self._own_tmp = base is None
        self.dir = Path(base) if base is not None else Path(tempfile.mkdtemp(prefix="va-"))
        self.rate = rate
        self.socket = self.dir / "pulse.sock"
        self.pidfile = self.dir / "run" / "pulse" / "pid"
        self.pid: int | None = None
        self.start_seconds = 0.0
        """How long ``start`` took until both virtual devices delivered data."""
        self._recorders: dict[str, subprocess.Popen[bytes]] = {}

    @property
    def env(self) -> dict[str, str]:
        """Environment for a client process (the program under test, paplay, pactl)."""
        env = dict(os.environ)
        env.update(
            PULSE_SERVER=f"unix:{self.socket}",
            PULSE_COOKIE=str(self.dir / "cookie"),
            PULSE_RUNTIME_PATH=str(self.dir / "run" / "pulse"),
            ALSA_CONFIG_PATH=f"/usr/share/alsa/alsa.conf:{self.dir / 'asound.conf'}",
        )
        return env

    def _script(self) -> str:
        d, r = self.dir, self.rate
        return f"""\
.fail
load-module module-native-protocol-unix socket={self.socket} auth-anonymous=1 auth-cookie={d}/cookie
load-module module-null-sink sink_name={SPEAKER} rate={r} sink_properties=device.description=Virtual_Speaker
load-module module-null-sink sink_name={MIC_FEED} rate={r} sink_properties=device.description=Virtual_Mic_Feed
load-module module-remap-source master={MIC_FEED}.monitor source_name={MIC} source_properties=device.description=Virtual_Microphone
load-module module-null-source source_name=va_silence rate={r}
load-module module-loopback source=va_silence sink={MIC_FEED} latency_msec=100 source_dont_move=true sink_dont_move=true
load-module module-loopback source=va_silence sink={SPEAKER} latency_msec=100 source_dont_move=true sink_dont_move=true
set-default-sink {SPEAKER}
set-default-source {MIC}
suspend-sink {MIC_FEED} 1
suspend-sink {MIC_FEED} 0
suspend-sink {SPEAKER} 1
suspend-sink {SPEAKER} 0
"""  # noqa: E501
        # The suspend/resume lines restart the null sinks' clocks: without them a new stream
        # gets no data for ~2 s because an idle null sink renders 2 s ahead.

    def start(self, timeout: float = 12.0) -> VirtualAudio:
        """Start the daemon and wait until both virtual devices deliver real-time data."""
        reason = pulseaudio_available()
        if reason:
            raise RuntimeError(reason)
        t0 = time.monotonic()
        (self.dir / "run").mkdir(parents=True, exist_ok=True)
        (self.dir / "home").mkdir(exist_ok=True)
        os.chmod(self.dir / "run", 0o700)
        self.pidfile.unlink(missing_ok=True)
        self.socket.unlink(missing_ok=True)
        (self.dir / "asound.conf").write_text(
            'pcm.!default { type pulse hint { show on description "PulseAudio virtual audio" } }\n'
            "ctl.!default { type pulse }\n"
        )
        script = self.dir / "va.pa"
        script.write_text(self._script())
        daemon_env = dict(
            os.environ, HOME=str(self.dir / "home"), XDG_RUNTIME_DIR=str(self.dir / "run")
        )
        for key in ("PULSE_SERVER", "PULSE_RUNTIME_PATH", "PULSE_COOKIE"):
            daemon_env.pop(key, None)
        subprocess.run(
            [
                "pulseaudio",
                "--daemonize=yes",
                "--system=no",
                "-n",
                "-F",
                str(script),
                "--exit-idle-time=-1",
                "--realtime=no",
                "--high-priority=no",
                "--use-pid-file=yes",
                f"--log-target=file:{self.dir / 'pulse.log'}",
                "--log-level=notice",
            ],
            env=daemon_env,
            check=True,
            capture_output=True,
            timeout=timeout,
        )
        self.pid = int(self.pidfile.read_text().split()[0])
        deadline = t0 + timeout
        while time.monotonic() < deadline:
            if self._probe(MIC) >= 4800 and self._probe(f"{SPEAKER}.monitor") >= 4800:
                self.start_seconds = time.monotonic() - t0
                _LOGGER.info("virtual audio ready in %.2f s (pid %s)", self.start_seconds, self.pid)
                return self
        log = (self.dir / "pulse.log").read_text(errors="replace")[-2000:]
        self.stop()
        raise RuntimeError(f"virtual audio not ready after {timeout} s:\n{log}")

    def _probe(self, device: str) -> int:
        """Bytes a 0.3 s recording from ``device`` yields (9600 when data flows in real time)."""
        proc = subprocess.Popen(
            [
                "parec",
                f"--device={device}",
                "--raw",
                "--format=s16le",
                "--rate=16000",
                "--channels=1",
                "--latency-msec=20",
            ],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        try:
            out, _ = proc.communicate(timeout=0.3)
        except subprocess.TimeoutExpired:
            proc.terminate()
            out, _ = proc.communicate()
        return len(out)

    def _pactl(self, *args: str) -> str:
        return subprocess.run(
            ["pactl", *args], env=self.env, check=True, capture_output=True, text=True, timeout=10
        ).stdout

    def _index(self, kind: str, name: str) -> str | None:
        for line in self._pactl("list", "short", kind).splitlines():
            cols = line.split("\t")
            if len(cols) > 1 and cols[1] == name:
                return cols[0]
        return None

    def _wait_stream(
        self, kind: str, name: str, streams: str, timeout: float, settle: float
    ) -> None:
        idx = self._index(kind, name)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self._pactl("list", "short", streams).splitlines():
                cols = line.split("\t")
                if len(cols) > 3 and cols[1] == idx and cols[3] == "protocol-native.c":
                    # ALSA's pulse plugin makes one stream at open() and a new one at start().
                    time.sleep(settle)
                    return
            time.sleep(0.05)
        raise TimeoutError(f"no client on {name} after {timeout} s")

    def wait_recording(self, timeout: float = 10.0, settle: float = 0.3) -> None:
        """Block until some client records from the virtual microphone."""
        self._wait_stream("sources", MIC, "source-outputs", timeout, settle)

    def wait_playing(self, timeout: float = 10.0, settle: float = 0.0) -> None:
        """Block until some client plays to the virtual speaker."""
        self._wait_stream("sinks", SPEAKER, "sink-inputs", timeout, settle)

    def route_speaker_to_mic(self, latency_ms: int = 120, volume: str = "55%") -> str:
        """Route the virtual speaker back into the microphone, delayed and quieter (a room
        with loudspeakers: the echo); returns the loopback module's index."""
        module = self._pactl("load-module", "module-loopback", f"source={SPEAKER}.monitor",
                             f"sink={MIC_FEED}", f"latency_msec={latency_ms}",
                             "source_dont_move=true", "sink_dont_move=true").strip()
        micfeed = self._index("sinks", MIC_FEED)
        time.sleep(0.5)
        for line in self._pactl("list", "short", "sink-inputs").splitlines():
            cols = line.split("\t")
            if len(cols) > 1 and cols[1] == micfeed:
                self._pactl("set-sink-input-volume", cols[0], volume)
        return module

    def play_into_mic(self, wav: Path | str) -> None:
        """Play a WAV file into the virtual microphone; returns when it has played."""
        subprocess.run(
            ["paplay", f"--device={MIC_FEED}", str(wav)], env=self.env, check=True, timeout=60
        )

    def record_speaker(self, out_wav: Path | str) -> None:
        """Record the virtual speaker to a 16 kHz mono WAV until ``stop_recording``."""
        self._recorders[str(out_wav)] = subprocess.Popen(
            [
                "parecord",
                f"--device={SPEAKER}.monitor",
                "--file-format=wav",
                "--rate=16000",
                "--channels=1",
                "--format=s16le",
                str(out_wav),
            ],
            env=self.env,
            stderr=subprocess.DEVNULL,
        )

    def stop_recording(self, out_wav: Path | str) -> Path:
        """Stop a ``record_speaker`` recording and return its path once the file is complete."""
        proc = self._recorders.pop(str(out_wav))
        proc.send_signal(signal.SIGINT)  # parecord finalises the WAV header on SIGINT
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        return Path(out_wav)

    def stop(self) -> None:
        """Stop recordings and the daemon, and remove the temporary folder this created."""
        for path in list(self._recorders):
            self.stop_recording(path)
        pid = self.pid
        if pid is not None and _pid_alive(pid):
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 5
            while _pid_alive(pid) and time.monotonic() < deadline:
                time.sleep(0.05)
            if _pid_alive(pid):
                os.kill(pid, signal.SIGKILL)
        self.pid = None
        self.socket.unlink(missing_ok=True)
        if self._own_tmp:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> VirtualAudio:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
