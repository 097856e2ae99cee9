"""Shared helpers for the end-to-end tests: run the CLI, read the manifest, normalise text, word error rate."""
import json
import os
import re
import subprocess
import sys
import unicodedata
import wave

WISP = os.environ.get("WISP_BIN", os.path.join(os.path.dirname(__file__), "..", "..", "build", "wisp"))
SHARED = os.environ.get("WISP_SHARED_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared"))
MODELS = os.environ.get("WISP_MODELS_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "models"))
AUDIO = os.path.join(SHARED, "audio")


def run_wisp(*args, input_bytes=None, timeout=600, env=None):
    """Runs the CLI (with `env` added to the environment); returns CompletedProcess with text stdout/stderr."""
    p = subprocess.run([WISP, *args], input=input_bytes, capture_output=True, timeout=timeout,
                       env=None if env is None else {**os.environ, **env})
    p.stdout = p.stdout.decode("utf-8", "replace")
    p.stderr = p.stderr.decode("utf-8", "replace")
    return p


def communicate(proc, timeout, timed_out):
    """proc.communicate() for at most `timeout` seconds; a process still running then is killed. Returns
    (stdout, stderr, exit status), the status being `timed_out` for a killed process."""
    try:
        out, err = proc.communicate(timeout=timeout)
        return out, err, proc.returncode
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        return out, err, timed_out


def manifest():
    rows = []
    with open(os.path.join(AUDIO, "manifest.tsv"), encoding="utf-8") as f:
        next(f)
        for line in f:
            audio, lang, ref = line.rstrip("\n").split("\t")
            rows.append((audio, lang, ref))
    return rows


def normalize(text):
    """Lower-case, punctuation removed, white space collapsed (the normaliser DEVELOPERS.md names)."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = "".join(" " if unicodedata.category(c).startswith("P") or c in "«»" else c for c in text)
    return re.sub(r"\s+", " ", text).strip()


def word_errors(ref, hyp):
    """(edit distance in words, reference length) after normalisation."""
    r, h = normalize(ref).split(), normalize(hyp).split()
    prev = list(range(len(h) + 1))
    for i in range(1, len(r) + 1):
        cur = [i] + [0] * len(h)
        for j in range(1, len(h) + 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r[i - 1] != h[j - 1]))
        prev = cur
    return prev[len(h)], len(r)


def wer(pairs):
    """Corpus word error rate over (reference, hypothesis) pairs."""
    errors = total = 0
    for ref, hyp in pairs:
        e, n = word_errors(ref, hyp)
        errors += e
        total += n
    return errors / max(total, 1)


def make_long_form(rows, path):
    """Joins the clips of `rows` ((file, reference) pairs), each followed by 2 s of silence, twice over, into a
    16 kHz mono wav at `path` (with the ffmpeg CLI). Returns the joined reference text."""
    inputs, filters = [], []
    for i, (f, _) in enumerate(rows * 2):
        inputs += ["-i", f]
        filters.append(f"[{i}:a]aresample=16000,aformat=channel_layouts=mono,apad=pad_dur=2[a{i}]")
    n = len(rows) * 2
    graph = ";".join(filters) + ";" + "".join(f"[a{i}]" for i in range(n)) + f"concat=n={n}:v=0:a=1[out]"
    subprocess.run(["ffmpeg", "-v", "error", "-y", *inputs, "-filter_complex", graph, "-map", "[out]", path],
                   check=True)
    return " ".join(ref for _, ref in rows * 2)


MIX_ORDER = ["jfk.wav", "librivox-0870.wav", "fleurs-en-002.ogg", "librivox-0880.wav", "fleurs-en-000.ogg",
             "librivox-0890.wav", "fleurs-en-001.ogg", "fleurs-en-003.ogg", "fleurs-en-004.ogg"]
MIX_PAUSES = [0.7, 1.0, 12.0, 0.8, 2.0, 15.0, 0.6, 1.5]  # after each clip but the last
MIX_QUIET = {"librivox-0870.wav", "fleurs-en-000.ogg", "fleurs-en-003.ogg"}  # -35 dB
MIX_SPEECH_DB = -20.0


def _samples(path):
    import numpy as np

    pcm = subprocess.run(["ffmpeg", "-v", "error", "-i", path, "-ar", "16000", "-ac", "1", "-f", "s16le", "-"],
                         check=True, capture_output=True).stdout
    return np.frombuffer(pcm, dtype=np.int16).astype(np.float32) / 32768.0


def _speech_db(x):
    """Level of the louder half of the 20-ms frames (the words, not the pauses), dBFS."""
    import numpy as np

    e = np.sort((x[: len(x) // 320 * 320].reshape(-1, 320) ** 2).mean(axis=1))
    return 10 * np.log10(e[len(e) // 2:].mean() + 1e-20)


def make_long_form_mix(path):
    """The long-form mix of test_long_form_mix.py: the nine English clips at one speech level (-20 dBFS), three of
    them then 35 dB quieter, with pauses of 0.6-2 s and silences of 12 and 15 s, as a 16 kHz wav at `path`
    (numpy and the ffmpeg CLI). Returns [(clip, start s, end s)]."""
    import numpy as np

    parts, spans, t = [np.zeros(16000, np.float32)], [], 1.0
    for i, clip in enumerate(MIX_ORDER):
        x = _samples(os.path.join(AUDIO, clip))
        x = x * 10 ** ((MIX_SPEECH_DB - _speech_db(x) - (35 if clip in MIX_QUIET else 0)) / 20)
        spans.append((clip, t, t + len(x) / 16000))
        parts.append(x)
        t += len(x) / 16000
        pause = MIX_PAUSES[i] if i < len(MIX_PAUSES) else 1.0
        parts.append(np.zeros(int(pause * 16000), np.float32))
        t += pause
    pcm = (np.clip(np.concatenate(parts), -1, 1) * 32767).astype(np.int16)
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(pcm.tobytes())
    return spans


def transcribe_json(files, out_dir, *extra):
    """Transcribes `files` in one CLI run, returns {file: parsed json}."""
    p = run_wisp("transcribe", "-q", "-f", "json", "-o", out_dir, *extra, *files)
    if p.returncode != 0:
        raise AssertionError(f"wisp failed ({p.returncode}): {p.stderr}")
    results = {}
    for f in files:
        stem = os.path.splitext(os.path.basename(f))[0]
        with open(os.path.join(out_dir, stem + ".json"), encoding="utf-8") as fh:
            results[f] = json.load(fh)
    return results


class Checks:
    """Tiny assertion collector: every failed check is reported, the exit status says if any failed."""

    def __init__(self, name):
        self.name, self.failed, self.passed = name, 0, 0

    def check(self, cond, what):
        if cond:
            self.passed += 1
            print(f"  ok    {what}")
        else:
            self.failed += 1
            print(f"  FAIL  {what}")

    def finish(self):
        print(f"{self.name}: {self.passed} passed, {self.failed} failed")
        sys.exit(1 if self.failed else 0)
