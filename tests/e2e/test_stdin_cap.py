"""Input that is kept whole in memory is capped: an endless stream on stdin (or a FIFO named as the input) ends
with a clear message past --max-stdin-minutes, while it is being decoded, in bounded memory — instead of
buffering gigabytes and printing nothing."""
import os
import resource
import struct
import subprocess
import tempfile
import threading
import time

from common import WISP, Checks, communicate

c = Checks("e2e stdin cap")
# A WAV header that promises 4 GB of 16 kHz mono s16, then silence for as long as anyone reads (at most 2 h).
HEADER = (b"RIFF" + struct.pack("<I", 0xFFFFFFFF) + b"WAVEfmt " + struct.pack("<IHHIIHH", 16, 1, 1, 16000, 32000, 2, 16)
          + b"data" + struct.pack("<I", 0xFFFFFFFF))
LIMIT_BYTES = 2 * 3600 * 32000


def feed(stream):
    sent = 0
    chunk = bytes(1 << 16)
    try:
        stream.write(HEADER)
        while sent < LIMIT_BYTES:
            stream.write(chunk)
            sent += len(chunk)
    except (BrokenPipeError, OSError, ValueError):
        pass
    finally:
        try:
            stream.close()
        except OSError:
            pass
    return sent


def check_capped(what, args, stdin_writer=None):
    t0 = time.time()
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # Our own pipe, not stdin=PIPE: communicate() would close that one under the writer.
    r, w = os.pipe() if stdin_writer else (subprocess.DEVNULL, None)
    proc = subprocess.Popen([WISP, "transcribe", "-q", "--max-stdin-minutes", "1", *args], stdin=r,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    writer = None
    if stdin_writer:
        os.close(r)
        writer = threading.Thread(target=stdin_writer, args=(os.fdopen(w, "wb"),), daemon=True)
        writer.start()
    out, err, code = communicate(proc, 120, "timeout")
    if writer:
        writer.join()
    seconds = time.time() - t0
    rss_mb = max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
    err = err.decode("utf-8", "replace").strip()
    c.check(code == 1 and "more than 1 min" in err and "pass a file" in err,
            f"{what}: exit {code}, {err[:200]!r}")
    c.check(seconds < 60, f"{what}: ends quickly ({seconds:.1f} s)")
    c.check(rss_mb < 1024, f"{what}: bounded memory (peak {rss_mb:.0f} MB)")


# stdin: the endless pipe
check_capped("endless stdin", ["-"], stdin_writer=feed)

# a FIFO given as the input file is as endless as stdin
with tempfile.TemporaryDirectory() as d:
    fifo = os.path.join(d, "stream.wav")
    os.mkfifo(fifo)

    def fifo_writer(_):
        with open(fifo, "wb") as f:
            feed(f)

    t = threading.Thread(target=fifo_writer, args=(None,), daemon=True)
    t.start()
    check_capped("endless FIFO input", [fifo])
    t.join(timeout=30)

# a finite stream under the cap still works, and the flag itself is checked
p = subprocess.run([WISP, "transcribe", "-q", "--max-stdin-minutes", "0", "-"], input=b"", capture_output=True,
                   timeout=60)
c.check(p.returncode == 2, f"--max-stdin-minutes 0 is a usage error (exit {p.returncode})")
short = HEADER[:4] + struct.pack("<I", 36 + 32000 * 5) + HEADER[8:40] + struct.pack("<I", 32000 * 5) + bytes(32000 * 5)
p = subprocess.run([WISP, "transcribe", "-q", "--max-stdin-minutes", "1", "-"], input=short, capture_output=True,
                   timeout=120)
c.check(p.returncode == 0, f"5 s on stdin under a 1-minute cap works (exit {p.returncode})")
c.finish()
