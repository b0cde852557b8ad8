#!/usr/bin/env bash
# Set up voice-coach on Debian/Ubuntu and run the demo or the tests. Safe to run again.
#   ./bootstrap.sh demo [demo options]   system packages + .venv + package, then the spoken demo
#   ./bootstrap.sh test [pytest options] the same plus test tools, then the whole test suite
set -euo pipefail
cd "$(dirname "$0")"

what=${1:-demo}
[ $# -gt 0 ] && shift
case "$what" in
  demo|test) ;;
  *) echo "usage: ./bootstrap.sh demo|test [options]" >&2; exit 2 ;;
esac

say() { printf '\033[1m[bootstrap]\033[0m %s\n' "$*" >&2; }

# --- system packages (only the missing ones) ---------------------------------------------
pkgs=(python3 python3-venv espeak-ng libespeak-ng1 libportaudio2 libsndfile1)
if [ "$what" = test ]; then
  # Virtual microphone and speaker for the end-to-end tests, and a browser for the HTML export.
  pkgs+=(pulseaudio pulseaudio-utils libasound2-plugins alsa-utils sox chromium)
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if ! command -v apt-get >/dev/null; then
    say "missing system packages: ${missing[*]} (install them with your package manager)"; exit 1
  fi
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  say "installing system packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- Python >= 3.11 and a virtualenv -------------------------------------------------------
py=""
for cand in python3 python3.13 python3.12 python3.11; do
  if command -v "$cand" >/dev/null && "$cand" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    py=$cand; break
  fi
done
[ -n "$py" ] || { say "voice-coach needs Python 3.11 or newer"; exit 1; }
if [ ! -x .venv/bin/python ]; then
  say "creating .venv with $($py --version)"
  "$py" -m venv .venv
fi

extras="whisper,moonshine,piper"
[ "$what" = test ] && extras="whisper,moonshine,dev"
stamp=".venv/.voice-coach-$extras-$(sha256sum pyproject.toml | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  say "installing voice-coach[$extras] into .venv"
  # Some machines' pip configs name index folders that do not exist: that warning is noise.
  pip_install() {
    .venv/bin/python -m pip install -q "$@" 2> >(grep -v "is ignored: it is neither" >&2)
  }
  pip_install --upgrade pip
  pip_install -e ".[$extras]"
  touch "$stamp"
fi
# Convert Moonshine's shipped weights once now (a few seconds) rather than at the first answer.
.venv/bin/python -m voice_coach.stt.moonshine_convert || say "Moonshine not prepared: it converts on first use"
# An editable install compiles none of the package: compile it now, not before the first greeting.
.venv/bin/python -m compileall -q voice_coach >/dev/null || true

# The audio end-of-turn model (smart-turn v3.2, BSD-2) ships inside the pipecat-ai wheel: take
# only that file (pip download --no-deps), never the framework. Without it answers still end,
# by pauses and words only.
if [ ! -f models/smart-turn-v3.2-cpu.onnx ]; then
  say "extracting the smart-turn end-of-turn model from the pipecat-ai wheel"
  .venv/bin/python -c 'from pathlib import Path; from voice_coach.listening.turn_model import download_model; download_model(Path("models"))' \
    || say "could not get smart-turn: answers will end by pauses and words only"
fi

if [ "$what" = demo ]; then
  exec .venv/bin/voice-coach demo "$@"
fi
exec .venv/bin/python -m pytest "$@"
