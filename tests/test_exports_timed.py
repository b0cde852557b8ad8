"""WebVTT, SubRip, JSON and Markdown exports: format, cue order, no overlaps, escaping."""

from __future__ import annotations

import json
import re

import pytest

from tests.support.replay_helpers import make_spoken_session
from voice_coach.transcripts import exports
from voice_coach.transcripts.store import LoadedSession, SessionStore

_VTT_TIME = r"(\d{2}):([0-5]\d):([0-5]\d)\.(\d{3})"
_SRT_TIME = r"(\d{2}):([0-5]\d):([0-5]\d),(\d{3})"


def _secs(m: tuple[str, ...]) -> float:
    h, mi, s, ms = (int(x) for x in m)
    return h * 3600 + mi * 60 + s + ms / 1000


def validate_cues(text: str, kind: str) -> list[tuple[float, float, str]]:
    """Check a VTT or SRT file strictly enough for players; return (start, end, text) cues."""
    assert text.endswith("\n") and "\r" not in text
    blocks = text.strip("\n").split("\n\n")
    if kind == "vtt":
        assert blocks[0].splitlines()[0] == "WEBVTT"
        blocks = [b for b in blocks[1:] if not b.startswith("NOTE")]
        stamp = _VTT_TIME
    else:
        stamp = _SRT_TIME
    timing = re.compile(rf"^{stamp} --> {stamp}$")
    cues: list[tuple[float, float, str]] = []
    for n, block in enumerate(blocks, start=1):
        lines = block.split("\n")
        assert lines[0] == str(n), f"cue {n} numbered {lines[0]!r}"
        m = timing.match(lines[1])
        assert m, f"bad timing line {lines[1]!r}"
        start, end = _secs(m.groups()[:4]), _secs(m.groups()[4:])
        body = "\n".join(lines[2:])
        assert body.strip(), f"cue {n} is empty"
        assert "-->" not in body
        if kind == "vtt":
            # only the voice tag may open a tag; the rest of '<' and '&' are escaped
            assert re.fullmatch(r"<v [^<>]+>[^<>]*", body), body
        assert end > start, f"cue {n} ends before it starts"
        if cues:
            assert start >= cues[-1][1], f"cue {n} overlaps cue {n - 1}"
        cues.append((start, end, body))
    return cues


@pytest.fixture
def spoken() -> LoadedSession:
    made = make_spoken_session(speech=False)
    return SessionStore().load(made.id)


@pytest.mark.parametrize("kind", ["vtt", "srt"])
def test_spoken_session_cues_follow_the_timeline(spoken: LoadedSession, kind: str) -> None:
    text = exports.to_vtt(spoken) if kind == "vtt" else exports.to_srt(spoken)
    cues = validate_cues(text, kind)
    assert len(cues) == 6
    answers = spoken.answers()
    # the answers' cues start and end where the user spoke
    for (start, end, _), a in zip(cues[1::2], answers, strict=True):
        assert start == pytest.approx(a.start, abs=0.001)
        assert end == pytest.approx(a.end, abs=0.001)
    prompt = spoken.events[2]
    assert cues[0][0] == pytest.approx(prompt["speech_start"])
    if kind == "srt":
        assert cues[5][2].startswith("Jane: <script>")
    else:
        assert cues[5][2].startswith("<v Jane>&lt;script&gt;")
        assert "&amp; Python" in cues[5][2]


def test_untimed_text_session_gets_sequential_readable_cues() -> None:
    store = SessionStore()
    w = store.create("coffee-chat", "Jane", mode="demo-text", interviewer="Alex")
    for i in range(4):
        w.append({"type": "prompt", "kind": "main", "text": f"Question {i} --> with arrows",
                  "t": 0.001})
        w.append({"type": "answer", "text": "one two three four five six", "start": 0.001,
                  "end": 0.001})
    w.append({"type": "command", "command": "repeat", "text": "say again", "start": 0.002,
              "end": 0.002})
    w.end("completed")
    session = store.load(w.id)
    for kind, render in (("vtt", exports.to_vtt), ("srt", exports.to_srt)):
        cues = validate_cues(render(session), kind)
        assert len(cues) == 9
        assert all(end - start >= exports.MIN_CUE for start, end, _ in cues)
        assert cues[1][1] - cues[1][0] == pytest.approx(6 / 2.5, abs=0.01)


def test_cut_short_session_exports_complete_turns_and_says_so() -> None:
    made = make_spoken_session(speech=False, end=False)
    with made.writer.folder.joinpath("transcript.jsonl").open("ab") as f:
        f.write(b'{"type":"answer","text":"half a li')
    session = SessionStore().load(made.id)
    assert session.cut_short
    vtt = exports.to_vtt(session)
    assert "cut short" in vtt.split("\n\n")[1]
    assert len(validate_cues(vtt, "vtt")) == 6
    assert "cut short" in exports.to_markdown(session)
    assert "cut short" in exports.to_html(session)
    doc = json.loads(exports.to_json(session))
    assert doc["cut_short"] is True and doc["warnings"]


def test_json_export_round_trips_events(spoken: LoadedSession) -> None:
    doc = json.loads(exports.to_json(spoken))
    assert doc["format"] == "voice-coach-session" and doc["version"] == 1
    assert doc["events"] == spoken.events
    assert doc["id"] == spoken.id and doc["answers"] == 3
    assert "path" not in doc


def test_markdown_keeps_signature_and_escapes(spoken: LoadedSession) -> None:
    md = exports.to_markdown(spoken)
    assert "## Greeting and Introductions" in md and "## Informal Discussion" in md
    assert "&lt;script&gt;" in md and "<script>" not in md
    assert "**Jane** (0:01)" in md


def test_html_escapes_everything_said_and_embeds_audio(spoken: LoadedSession) -> None:
    audio = exports.embed_answer_audio(spoken)
    assert len(audio) == 3
    page = exports.to_html(spoken, feedback={"words_per_minute": 142.5, "fillers": 3},
                           audio=audio)
    assert "<script" not in page.lower().replace("&lt;script", "")
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert page.count("<audio ") == 3 and page.count("data:audio/flac;base64,") == 3
    assert '<section id="feedback">' in page and "words per minute" in page
    assert "142.5" in page
    assert "Content-Security-Policy" in page


def test_html_notes_missing_audio_and_refuses_escaping_paths() -> None:
    made = make_spoken_session(speech=False, missing_audio=1)
    with made.writer.folder.joinpath("transcript.jsonl").open("a") as f:
        f.write(json.dumps({"type": "answer", "text": "sneaky", "start": 30, "end": 31,
                            "audio": "../../etc/passwd"}) + "\n")
    session = SessionStore().load(made.id)
    audio = exports.embed_answer_audio(session)
    notes = sorted(v for v in audio.values() if isinstance(v, str))
    assert notes == ["audio answer-002.wav is missing", "audio path refused"]
    page = exports.to_html(session, audio=audio)
    assert page.count("<audio ") == 2 and "(audio answer-002.wav is missing)" in page
