"""Option values: every float must be finite and in range, the seed a non-negative integer, the fallback
increment 0 or at least 0.01 (smaller ones made the temperature list endless), and the language a code or a
name in any case. Bad values are usage errors (exit 2) found before any work: before the model loads, or for
a language the model cannot transcribe right after it loads and before any input is read."""
import json
import os
import subprocess
import time

from common import AUDIO, MODELS, WISP, Checks, communicate, run_wisp

c = Checks("e2e options")
JFK = os.path.join(AUDIO, "jfk.wav")
NO_MODEL = "/nonexistent/model"  # usage errors must be found before the model is even looked for

bad_values = [
    ("--temperature-increment-on-fallback", "5e-8"), ("--temperature-increment-on-fallback", "0.009"),
    ("--temperature-increment-on-fallback", "-0.2"), ("--temperature-increment-on-fallback", "nan"),
    ("--temperature-increment-on-fallback", ""), ("--temperature", "nan"), ("--temperature", "inf"),
    ("--temperature", "-1"), ("--compression-ratio-threshold", "nan"), ("--compression-ratio-threshold", "inf"),
    ("--compression-ratio-threshold", "-1"), ("--compression-ratio-threshold", ""), ("--logprob-threshold", "nan"),
    ("--logprob-threshold", "-inf"), ("--logprob-threshold", ""), ("--no-speech-threshold", "nan"),
    ("--no-speech-threshold", "-0.5"), ("--no-speech-threshold", "1.5"), ("--no-speech-threshold", ""),
    ("--length-penalty", "nan"), ("--length-penalty", "inf"), ("--length-penalty", ""), ("--patience", "nan"),
    ("--patience", "inf"), ("--seed", "-1"), ("--seed", ""), ("--seed", "nan"), ("--seed", "1.5"),
    ("--seed", "4294967296"), ("-l", "xx"), ("-l", ""), ("-l", "Klingon"), ("--patience", ""),
    ("--patience", "0"), ("--temperature", ""), ("--max-stdin-minutes", "0"), ("--max-stdin-minutes", "nan"),
    ("--max-stdin-minutes", ""), ("--beam-size", ""), ("--best-of", "nan"), ("--threads", ""),
]
for flag, value in bad_values:
    t0 = time.time()
    p = run_wisp("transcribe", "-m", NO_MODEL, flag, value, JFK, timeout=60)
    c.check(p.returncode == 2 and flag.lstrip("-")[:10] in p.stderr and time.time() - t0 < 10,
            f"{flag} {value!r}: exit {p.returncode}, {p.stderr.strip().splitlines()[0] if p.stderr.strip() else ''!r}")

# Good values at the edges are accepted.
p = run_wisp("transcribe", "--beam-size", "1", "--temperature-increment-on-fallback", "0.01", "--seed", "4294967295",
             "--no-speech-threshold", "1", "--compression-ratio-threshold", "0", JFK)
c.check(p.returncode == 0 and "country" in p.stdout, f"0.01 increment (101 temperatures) works: exit {p.returncode}")
for lang in ("en", "EN", "English", "english", "ENGLISH"):
    p = run_wisp("transcribe", "--beam-size", "1", "-l", lang, JFK)
    c.check(p.returncode == 0 and "country" in p.stdout, f"-l {lang} on tiny.en: exit {p.returncode}")
base = os.path.join(MODELS, "base")
p = run_wisp("transcribe", "-m", base, "--beam-size", "1", "-l", "German", "-f", "json",
             os.path.join(AUDIO, "fleurs-de-000.ogg"))
c.check(p.returncode == 0 and json.loads(p.stdout)["language"] == "de", f"-l German on base is de: exit {p.returncode}")

# A non-English language on an English-only model: exit 2 right after the load, before stdin is read
# (stdin here is a pipe that is never written nor closed: reading it would hang).
for lang in ("de", "German", "castilian"):
    proc = subprocess.Popen([WISP, "transcribe", "-l", lang, "-"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        out, err, code = communicate(proc, 30, "hang")
    finally:
        proc.stdin.close() if proc.stdin and not proc.stdin.closed else None
    c.check(code == 2 and b"English-only" in err, f"-l {lang} on tiny.en: exit {code} before reading input")
c.finish()
