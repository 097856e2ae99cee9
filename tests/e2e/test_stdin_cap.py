"""stdin in both ways the CLI reads it. The sequential mode (--batch 0) keeps its input whole in memory, so it is
capped: an endless stream on stdin (or a FIFO named as the input) ends with a clear message past
--max-stdin-minutes, while it is being decoded, in bounded memory — instead of buffering gigabytes and printing
nothing. The batched mode (the default) transcribes the stream as it reads it: no cap, and memory that does not
grow with the length (10 and 40 minutes of speech on stdin peak within a few MB of each other)."""
import json
import os
import resource
import struct
import subprocess
import tempfile
import threading
import time

from common import AUDIO, WISP, Checks, communicate

c = Checks("e2e stdin cap")
# A WAV header that promises 4 GB of 16 kHz mono s16, then silence for as long as anyone reads (at most 2 h).
HEADER = (b"RIFF" + struct.pack("<I", 0xFFFFFFFF) + b"WAVEfmt " + struct.pack("<IHHIIHH", 16, 1, 1, 16000, 32000, 2, 16)
          + b"data" + struct.pack("<I", 0xFFFFFFFF))
LIMIT_BYTES = 2 * 3600 * 32000


def write_all(stream, blocks):
    """HEADER and then each block to `stream` until a reader goes away; closes it. Returns the bytes sent."""
    sent = 0
    try:
        stream.write(HEADER)
        for block in blocks:
            stream.write(block)
            sent += len(block)
    except (BrokenPipeError, OSError, ValueError):
        pass
    finally:
        try:
            stream.close()
        except OSError:
            pass
    return sent


def feed(stream):
    chunk = bytes(1 << 16)
    return write_all(stream, (chunk for _ in range(LIMIT_BYTES // len(chunk))))


def check_capped(what, args, stdin_writer=None):
    t0 = time.time()
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # Our own pipe, not stdin=PIPE: communicate() would close that one under the writer.
    r, w = os.pipe() if stdin_writer else (subprocess.DEVNULL, None)
    proc = subprocess.Popen([WISP, "transcribe", "-q", "--batch", "0", "--max-stdin-minutes", "1", *args], stdin=r,
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
p = subprocess.run([WISP, "transcribe", "-q", "--batch", "0", "--max-stdin-minutes", "1", "-"], input=short,
                   capture_output=True, timeout=120)
c.check(p.returncode == 0, f"5 s on stdin under a 1-minute cap works (exit {p.returncode})")


# The batched mode: jfk.wav's speech and a second of silence, over and over, for `minutes`, behind a header that
# promises 4 GB (as a recorder writing to a pipe does); transcribed as it is read.
def streamed(minutes):
    with open(os.path.join(AUDIO, "jfk.wav"), "rb") as f:
        wav = f.read()
    pcm = wav[wav.index(b"data") + 8:] + bytes(32000)
    repeats = int(minutes * 60 * 32000 / len(pcm))

    def writer(stream):
        write_all(stream, (pcm for _ in range(repeats)))

    r, w = os.pipe()
    proc = subprocess.Popen([WISP, "transcribe", "-q", "-f", "json", "--beam-size", "1", "--max-stdin-minutes", "1",
                             "-"], stdin=r, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    os.close(r)
    t = threading.Thread(target=writer, args=(os.fdopen(w, "wb"),), daemon=True)
    t.start()
    out, err, code = communicate(proc, 600, "timeout")
    t.join()
    # ru_maxrss of the children is the largest so far: this run's own peak is measured in a child of its own.
    return code, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"), repeats


def peak_of(minutes):
    """Runs streamed(minutes) in a forked child, so that its peak RSS is its own."""
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(rfd)
        code, out, err, repeats = streamed(minutes)
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        try:
            j = json.loads(out)
            heard = sum(s["text"].lower().count("ask not what your country") for s in j["segments"])
            last = j["segments"][-1]["end"] if j["segments"] else 0.0
            duration = j["duration"]
        except (ValueError, KeyError):
            heard, last, duration = 0, 0.0, 0.0
        os.write(wfd, f"{code} {peak:.1f} {heard} {repeats} {duration:.1f} {last:.1f} {err[:200]!r}".encode())
        os._exit(0)
    os.close(wfd)
    with os.fdopen(rfd) as f:
        result = f.read()
    os.waitpid(pid, 0)
    code, peak, heard, repeats, duration, last, err = result.split(" ", 6)
    return int(code), float(peak), int(heard), int(repeats), float(duration), float(last), err


results = {m: peak_of(m) for m in (10, 40)}
for m, (code, peak, heard, repeats, duration, last, err) in results.items():
    c.check(code == 0, f"{m} min of speech on stdin past --max-stdin-minutes 1, batched: exit {code} {err}")
    # Read to the end and transcribed to the end (the sentence comes twice in most 30-s windows here, and
    # Whisper often writes it once: counted loosely).
    c.check(abs(duration - m * 60) < 15 and last > duration - 20,
            f"{m} min: all of it read ({duration:.0f} s) and transcribed (last segment ends at {last:.0f} s)")
    c.check(heard >= 0.4 * repeats, f"{m} min: the sentence heard {heard} times in {repeats} repeats")
growth = results[40][1] - results[10][1]
c.check(growth < 48, f"memory does not grow with the length: peak {results[10][1]:.0f} MB for 10 min, "
                     f"{results[40][1]:.0f} MB for 40 min (the samples alone would be {30 * 60 * 64 / 1000:.0f} MB "
                     f"more)")
c.finish()
