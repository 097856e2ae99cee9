"""Load on `wisp serve` (a program, not a test): 1, 4 and 16 concurrent clients posting a mix of short clips and
long files, against the same requests sent one at a time. Prints throughput (audio seconds per wall second) and
p50/p95 latency per request size. Start the server first, e.g.
    build/wisp serve -m tiny.en --port 8080 &
    .venv/bin/python bench/serve_load.py --url http://127.0.0.1:8080 --requests 48
With --api whisper.cpp the same load goes to whisper.cpp's whisper-server (started on weights converted by
bench/ct2_to_ggml.py). The mix: every English clip of ../shared/audio (3-11 s) and, one request in eight, the
dev long form (the clips twice with 2-s pauses, ~170 s).

The load generator runs beside the server on the same cores, so it is kept light: each file's multipart body
is built once and posted with http.client (building it per request with httpx took 1.3-1.8 s of CPU over 48
requests, an eighth of a 2-core machine's time under 16 clients). Each row gives the client's CPU time and,
with --server-pid, the server's: their sum against wall time x cores says how busy the machine was."""
import argparse
import concurrent.futures
import http.client
import os
import resource
import statistics
import sys
import tempfile
import time
import urllib.parse
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "e2e"))
from common import AUDIO, make_long_form, manifest  # noqa: E402


def duration(path):
    import subprocess
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", path],
                         capture_output=True, text=True, check=True).stdout
    return float(out)


# Where each server takes a transcription request: wisp's OpenAI route, or whisper.cpp's whisper-server.
ROUTES = {"openai": "/v1/audio/transcriptions", "whisper.cpp": "/inference"}
ROUTE = ROUTES["openai"]


def multipart(path, fields):
    """The request's body (the fields, then the file) and its content type."""
    boundary = uuid.uuid4().hex
    parts = []
    for k, v in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode())
    with open(path, "rb") as f:
        data = f.read()
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                 f'filename="{os.path.basename(path)}"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode())
    parts.append(data)
    parts.append(f"\r\n--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def post(url, body):
    """One request on its own connection; its latency in seconds."""
    u = urllib.parse.urlsplit(url)
    t0 = time.monotonic()
    conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=3600)
    try:
        conn.request("POST", ROUTE, body=body[0], headers={"Content-Type": body[1]})
        r = conn.getresponse()
        text = r.read()
        if r.status != 200:
            raise RuntimeError(f"HTTP {r.status}: {text[:300]!r}")
    finally:
        conn.close()
    return time.monotonic() - t0


def cpu_seconds(pid):
    """User + system CPU seconds of a process (Linux /proc), or None."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def run(url, jobs, clients, bodies, server_pid):
    """Wall time, latencies, and the CPU seconds the client and the server (None: unknown) took."""
    r0, s0, t0 = resource.getrusage(resource.RUSAGE_SELF), cpu_seconds(server_pid), time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        latencies = list(pool.map(lambda j: post(url, bodies[j[0]]), jobs))
    wall, r1, s1 = time.monotonic() - t0, resource.getrusage(resource.RUSAGE_SELF), cpu_seconds(server_pid)
    client = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    server = s1 - s0 if s0 is not None and s1 is not None else None
    return wall, latencies, client, server


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", default="http://127.0.0.1:8080")
    ap.add_argument("--requests", type=int, default=48)
    ap.add_argument("--clients", default="1,4,16")
    ap.add_argument("--beam-size", type=int, default=None, help="beam_size field of every request")
    ap.add_argument("--api", choices=sorted(ROUTES), default="openai",
                    help="openai (wisp serve, POST /v1/audio/transcriptions) or whisper.cpp (whisper-server, POST "
                         "/inference, json responses, its own defaults otherwise)")
    ap.add_argument("--server-pid", type=int, default=None,
                    help="the server's process id (same machine): its CPU seconds per row, from /proc")
    a = ap.parse_args()
    global ROUTE
    ROUTE = ROUTES[a.api]
    # whisper-server: segment times only, as wisp gives by default (its token_timestamps default is on)
    fields = {"model": "whisper-1"} if a.api == "openai" else {"response_format": "json", "token_timestamps": "false"}
    if a.beam_size:
        fields["beam_size"] = str(a.beam_size)
    clips = [(os.path.join(AUDIO, f), ref) for f, lang, ref in manifest() if lang == "en"]
    with tempfile.TemporaryDirectory() as tmp:
        long_wav = os.path.join(tmp, "long.wav")
        make_long_form(clips, long_wav)
        files = [c for c, _ in clips]
        jobs = []
        for i in range(a.requests):
            path = long_wav if i % 8 == 7 else files[i % len(files)]
            jobs.append((path, duration(path)))
        audio = sum(d for _, d in jobs)
        bodies = {path: multipart(path, fields) for path, _ in jobs}  # built once: the client stays light
        post(a.url, bodies[files[0]])  # warm-up
        print(f"{len(jobs)} requests, {audio:.0f} s of audio ({sum(d > 60 for _, d in jobs)} long), fields {fields}")
        print("| clients | wall s | audio s / s | vs 1 client | short p50 s | short p95 s | long p50 s | long p95 s "
              "| client CPU s | server CPU s |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        base = None
        for n in [int(x) for x in a.clients.split(",")]:
            wall, lat, client_cpu, server_cpu = run(a.url, jobs, n, bodies, a.server_pid)
            short = [l for l, (_, d) in zip(lat, jobs) if d <= 60]
            long_ = [l for l, (_, d) in zip(lat, jobs) if d > 60]
            tput = audio / wall
            base = base or tput
            server = f"{server_cpu:.2f}" if server_cpu is not None else "-"
            print(f"| {n} | {wall:.1f} | {tput:.1f} | {tput / base:.2f}x | {statistics.median(short):.2f} | "
                  f"{pct(short, 95):.2f} | {statistics.median(long_) if long_ else 0:.2f} | "
                  f"{pct(long_, 95) if long_ else 0:.2f} | {client_cpu:.2f} | {server} |", flush=True)


if __name__ == "__main__":
    main()
