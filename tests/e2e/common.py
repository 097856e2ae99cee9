"""Shared helpers for the end-to-end tests: run the CLI, read the manifest, normalise text, word error rate."""
import json
import os
import re
import subprocess
import sys
import unicodedata

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
