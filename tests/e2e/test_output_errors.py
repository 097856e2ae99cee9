"""Output that was not written is never reported as written: stdout on /dev/full or closed, and -o on a
"full disk" (a file-size limit: writes past it fail with EFBIG, as ENOSPC would) all exit 1, name what could
not be written, and leave no truncated file behind."""
import os
import resource
import signal
import subprocess
import tempfile

from common import AUDIO, WISP, Checks

c = Checks("e2e output errors")
JFK = os.path.join(AUDIO, "jfk.wav")
ARGS = [WISP, "transcribe", "--beam-size", "1", JFK]


def run(args, **kw):
    p = subprocess.run(args, capture_output="stdout" not in kw, timeout=300, **kw)
    err = p.stderr.decode("utf-8", "replace") if p.stderr is not None else ""
    return p.returncode, err


# stdout is /dev/full: every write fails with ENOSPC
with open("/dev/full", "wb") as full:
    code, err = run(ARGS, stdout=full, stderr=subprocess.PIPE)
c.check(code == 1 and "stdout" in err and "No space left" in err, f"stdout on /dev/full: exit {code}, {err.strip()!r}")

with open("/dev/full", "wb") as full:
    code, err = run([WISP, "transcribe", "--help"], stdout=full, stderr=subprocess.PIPE)
c.check(code == 1 and "stdout" in err, f"--help on /dev/full: exit {code}, {err.strip()!r}")

# stdout closed (a shell's >&-): EBADF
code, err = run(ARGS, stdout=None, stderr=subprocess.PIPE, preexec_fn=lambda: os.close(1))
c.check(code == 1 and "stdout" in err, f"closed stdout: exit {code}, {err.strip()!r}")


def small_disk():
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the write fails with EFBIG instead of killing the process
    resource.setrlimit(resource.RLIMIT_FSIZE, (150, 150))


# -f all -o DIR on a "full disk": jfk's srt, vtt and json exceed 150 bytes, its txt and tsv fit
with tempfile.TemporaryDirectory() as full, tempfile.TemporaryDirectory() as out:
    cmd = [WISP, "transcribe", "-q", "--beam-size", "1", "-f", "all", "-o"]
    code, err = run(cmd + [full, JFK])
    whole = {f: open(os.path.join(full, f), "rb").read() for f in os.listdir(full)}
    c.check(code == 0 and len(whole) == 5, f"-f all writes five files ({sorted(whole)})")
    code, err = run([WISP, "transcribe", "--beam-size", "1", "-f", "all", "-o", out, JFK], preexec_fn=small_disk)
    c.check(code == 1, f"-f all on a full disk exits 1 (got {code})")
    too_big = sorted(f for f, b in whole.items() if len(b) > 150)
    c.check(too_big and all(f"cannot write '{os.path.join(out, f)}': File too large" in err for f in too_big),
            f"the unwritten files {too_big} are named: {err.strip()[:400]!r}")
    c.check(not any("wrote " + os.path.join(out, f) in err for f in too_big), "no 'wrote' for an unwritten file")
    left = {f: open(os.path.join(out, f), "rb").read() for f in os.listdir(out)}
    c.check(all(left[f] == whole[f] for f in left), f"no empty or truncated file is left: {sorted(left)}")
    c.check(sorted(left) == sorted(set(whole) - set(too_big)), "the files that fit are there, whole")

# -o in a directory that cannot be written
if os.geteuid() != 0:
    with tempfile.TemporaryDirectory() as out:
        os.chmod(out, 0o500)
        code, err = run([WISP, "transcribe", "--beam-size", "1", "-o", out, JFK])
        c.check(code == 1 and "cannot write" in err, f"read-only output directory: exit {code}")
c.finish()
