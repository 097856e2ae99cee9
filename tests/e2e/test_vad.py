"""--vad (faster-whisper's vad_filter): three clips separated by 20 s of digital silence transcribe with every
segment inside the span of one clip (± 0.5 s) in original time (json and srt), each clip's words in its own
span, no text in the silences, the duration that of the whole file. (faster-whisper itself stretches a segment
over a join: on such a file tiny.en gives it [19.95 -> 51.11] for jfk.wav; see TimestampMap::original_segment.)
Silence alone gives no text; the VAD options are validated like the others (exit 2, before any work) and a
missing or corrupt VAD model is a clear error (exit 1)."""
import json
import os
import re
import shutil
import subprocess
import tempfile
import wave

from common import AUDIO, Checks, normalize, run_wisp

c = Checks("e2e vad")
RATE = 16000
GAP = 20.0
# Clips tiny.en hears whole after a join (it misses fleurs-en-003 and -004 there, as faster-whisper does).
CLIPS = [("jfk.wav", "country"), ("librivox-0880.wav", "young man"), ("fleurs-en-001.ogg", "capital")]


def pcm16(path):
    """The clip as 16 kHz mono s16le bytes (the ffmpeg CLI)."""
    return subprocess.run(["ffmpeg", "-v", "error", "-i", path, "-ar", str(RATE), "-ac", "1", "-f", "s16le", "-"],
                          check=True, capture_output=True).stdout


def write_wav(path, data):
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(data)


def srt_times(text):
    """(start, end) seconds of every cue of an srt file."""
    cues = re.findall(r"(\d+):(\d+):(\d+),(\d+) --> (\d+):(\d+):(\d+),(\d+)", text)
    to_s = lambda h, m, s, ms: int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000
    return [(to_s(*cue[:4]), to_s(*cue[4:])) for cue in cues]


with tempfile.TemporaryDirectory() as tmp:
    silence = b"\0\0" * int(GAP * RATE)
    data, spans = silence, []
    for clip, _ in CLIPS:
        pcm = pcm16(os.path.join(AUDIO, clip))
        start = len(data) / 2 / RATE
        data += pcm
        spans.append((start, len(data) / 2 / RATE))
        data += silence
    mix = os.path.join(tmp, "gaps.wav")
    write_wav(mix, data)
    total = len(data) / 2 / RATE
    print("  clips at " + ", ".join(f"{a:.2f}-{b:.2f} s" for a, b in spans) + f" of {total:.2f} s")

    p = run_wisp("transcribe", "-q", "--vad", "-f", "json", mix)
    c.check(p.returncode == 0, f"--vad transcribes: exit {p.returncode} {p.stderr.strip()[:200]}")
    res = json.loads(p.stdout) if p.returncode == 0 else {"segments": [], "duration": 0, "text": ""}
    segs = res["segments"]
    for s in segs:
        print(f"  [{s['start']:7.2f} -> {s['end']:7.2f}] {s['text']}")
    c.check(abs(res["duration"] - total) < 0.01, f"duration is the whole file's ({res['duration']:.2f} s)")
    c.check(len(segs) >= len(CLIPS), f"{len(segs)} segments")

    def clip_of(s):
        for i, (a, b) in enumerate(spans):
            if a - 0.5 <= s["start"] <= s["end"] <= b + 0.5:
                return i
        return None

    outside = [s for s in segs if clip_of(s) is None]
    c.check(not outside, "every segment inside one clip's span ± 0.5 s (none in the silences)"
            + (f": {[(s['start'], s['end'], s['text']) for s in outside]}" if outside else ""))
    for i, (clip, word) in enumerate(CLIPS):
        text = normalize(" ".join(s["text"] for s in segs if clip_of(s) == i))
        c.check(word in text, f"{clip}: '{word}' in its span {spans[i][0]:.2f}-{spans[i][1]:.2f} s ({text[:60]!r}...)")
    c.check(all(a["end"] <= b["start"] + 1e-6 for a, b in zip(segs, segs[1:])), "timestamps monotonic")

    p = run_wisp("transcribe", "-q", "--vad", "-f", "srt", mix)
    times = srt_times(p.stdout)
    c.check(p.returncode == 0 and len(times) == len(segs) and
            all(abs(a - s["start"]) < 0.002 and abs(b - s["end"]) < 0.002 for (a, b), s in zip(times, segs)),
            f"srt times are the json's original times (first {times[:1]})")

    quiet = os.path.join(tmp, "silence.wav")
    write_wav(quiet, b"\0\0" * (30 * RATE))
    p = run_wisp("transcribe", "-q", "--vad", "-f", "json", quiet)
    c.check(p.returncode == 0 and json.loads(p.stdout)["segments"] == [],
            f"30 s of silence: exit {p.returncode}, no segments")

    # Options: bad values are usage errors found before the model is looked for.
    for flag, value in [("--vad-threshold", "1.5"), ("--vad-threshold", "nan"), ("--vad-threshold", ""),
                        ("--vad-min-silence-ms", "-1"), ("--vad-min-silence-ms", "1.5"),
                        ("--vad-speech-pad-ms", "60001"), ("--vad-min-speech-ms", "x"),
                        ("--vad-max-speech-s", "-1"), ("--vad-max-speech-s", "inf")]:
        p = run_wisp("transcribe", "-m", "/nonexistent/model", "--vad", flag, value, mix, timeout=60)
        c.check(p.returncode == 2 and flag.lstrip("-") in p.stderr, f"{flag} {value!r}: exit {p.returncode}")
    p = run_wisp("transcribe", "-m", "/nonexistent/model", "--batch", "0", "--vad-threshold", "0.6", mix, timeout=60)
    c.check(p.returncode == 2 and "--vad" in p.stderr, f"--vad-threshold with --batch 0, without --vad: exit {p.returncode}")
    p = run_wisp("transcribe", "-q", "--vad", "--vad-threshold", "0.6", "--vad-min-silence-ms", "500",
                 "--vad-speech-pad-ms", "200", "--vad-min-speech-ms", "0", "--vad-max-speech-s", "5", "-f", "json", mix)
    ok = p.returncode == 0 and "country" in json.loads(p.stdout)["text"]
    c.check(ok, f"other VAD settings work: exit {p.returncode}")

    # The VAD model: missing, corrupt, or given explicitly.
    p = run_wisp("transcribe", "-q", "--vad", "--vad-model", "/nonexistent/silero.bin", mix)
    c.check(p.returncode == 1 and "/nonexistent/silero.bin" in p.stderr, f"missing VAD model: exit {p.returncode}, "
            f"{p.stderr.strip()[:160]!r}")
    from_repo = os.path.join(os.path.dirname(__file__), "..", "..", "assets", "vad", "silero-v6.2.0-ggml.bin")
    bad = os.path.join(tmp, "cut.bin")
    with open(from_repo, "rb") as f, open(bad, "wb") as g:
        g.write(f.read()[:100000])
    p = run_wisp("transcribe", "-q", "--vad", "--vad-model", bad, mix)
    c.check(p.returncode == 1 and "truncated" in p.stderr, f"truncated VAD model: exit {p.returncode}, "
            f"{p.stderr.strip()[:160]!r}")
    p = run_wisp("transcribe", "-q", "--vad", "-f", "txt", mix, env={"WISP_VAD_MODEL": bad})
    c.check(p.returncode == 1 and "truncated" in p.stderr, f"$WISP_VAD_MODEL is used: exit {p.returncode}")
    copy = os.path.join(tmp, "copy.bin")
    shutil.copy(from_repo, copy)
    p = run_wisp("transcribe", "-q", "--vad", "--vad-model", copy, "-f", "txt", mix)
    c.check(p.returncode == 0 and "country" in p.stdout, f"--vad-model PATH: exit {p.returncode}")
c.finish()
