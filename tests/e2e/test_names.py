"""Names the CLI echoes are safe: file names holding escape codes or bytes that are not UTF-8 reach stderr
escaped (never a raw control character), and every --timings line is valid JSON whatever the name."""
import json
import os
import shutil
import subprocess
import tempfile

from common import AUDIO, Checks, WISP

c = Checks("e2e names")
JFK = os.path.join(AUDIO, "jfk.wav")
tmp = tempfile.mkdtemp().encode()
ESC_NAME = b"\x1b[31mred\x1b[0m.wav"
BAD_UTF8 = b"\xff\xfe.wav"


def run(*args, timeout=300):
    p = subprocess.run([WISP.encode(), *[a if isinstance(a, bytes) else a.encode() for a in args]],
                       capture_output=True, timeout=timeout)
    return p.returncode, p.stderr


def no_raw_controls(err):
    return all(b >= 0x20 or b == 0x0A for b in err)


for name in (ESC_NAME, BAD_UTF8):
    path = os.path.join(tmp, name)
    shutil.copy(JFK, path)
    out_dir = os.path.join(tmp, b"out")
    code, err = run("transcribe", "--beam-size", "1", "--timings", "-o", out_dir, path)
    c.check(code == 0, f"{name!r}: transcribed (exit {code})")
    c.check(no_raw_controls(err), f"{name!r}: no raw control byte on stderr: {err[:200]!r}")
    lines = [l for l in err.split(b"\n") if l.startswith(b"wisp-timings ")]
    try:
        j = json.loads(lines[0][13:].decode("utf-8")) if lines else None
    except (UnicodeDecodeError, ValueError) as e:
        j = None
        print("   ", e)
    expected = name.decode("utf-8", "replace")
    c.check(j is not None and j.get("input") == expected and j.get("decode_steps", 0) > 0,
            f"{name!r}: --timings line is JSON naming the input {j and j['input']!r}")
    c.check(b"wrote " in err and (b"\\x1b[31m" in err or b"\\xff\\xfe" in err), f"{name!r}: 'wrote' names it escaped")

# failures echo names too: an input that is not audio, a missing model, a bad language value
bad = os.path.join(tmp, b"\x1b]0;pwned\x07.wav")
with open(bad, "wb") as f:
    f.write(b"not audio at all\n" * 20)
code, err = run("transcribe", bad)
c.check(code == 1 and no_raw_controls(err) and b"\\x1b]0;pwned\\x07" in err, f"bad input named escaped: {err[:160]!r}")
code, err = run("transcribe", "-m", b"/nonexistent/\x1b[2J", JFK)
c.check(code == 1 and no_raw_controls(err) and b"\\x1b[2J" in err, f"bad model named escaped: {err[:160]!r}")
code, err = run("transcribe", "-l", b"\x1b[2J", JFK)
c.check(code == 2 and no_raw_controls(err), f"bad language value escaped: {err[:160]!r}")

shutil.rmtree(tmp)
c.finish()
