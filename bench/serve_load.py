"""Load on `wisp serve` (a program, not a test): 1, 4 and 16 concurrent clients posting a mix of short clips and
long files, against the same requests sent one at a time. Prints throughput (audio seconds per wall second) and
p50/p95 latency per request size. Start the server first, e.g.
    build/wisp serve -m tiny.en --port 8080 &
    .venv/bin/python bench/serve_load.py --url http://127.0.0.1:8080 --requests 48
With --api whisper.cpp the same load goes to whisper.cpp's whisper-server (started on weights converted by
bench/ct2_to_ggml.py). The mix: every English clip of ../shared/audio (3-11 s) and, one request in eight, the
dev long form (the clips twice with 2-s pauses, ~170 s)."""
import argparse
import concurrent.futures
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "e2e"))
import httpx2 as httpx  # noqa: E402  (the openai package's HTTP client)

from common import AUDIO, make_long_form, manifest  # noqa: E402


def duration(path):
    import subprocess
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", path],
                         capture_output=True, text=True, check=True).stdout
    return float(out)


# Where each server takes a transcription request: wisp's OpenAI route, or whisper.cpp's whisper-server.
ROUTES = {"openai": "/v1/audio/transcriptions", "whisper.cpp": "/inference"}
ROUTE = ROUTES["openai"]


def post(url, path, fields):
    t0 = time.monotonic()
    with open(path, "rb") as f:
        r = httpx.post(url + ROUTE, files={"file": (os.path.basename(path), f)}, data=fields, timeout=3600)
    r.raise_for_status()
    return time.monotonic() - t0


def run(url, jobs, clients, fields):
    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        latencies = list(pool.map(lambda j: post(url, j[0], fields), jobs))
    return time.monotonic() - t0, latencies


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
        post(a.url, files[0], fields)  # warm-up
        print(f"{len(jobs)} requests, {audio:.0f} s of audio ({sum(d > 60 for _, d in jobs)} long), fields {fields}")
        print("| clients | wall s | audio s / s | vs 1 client | short p50 s | short p95 s | long p50 s | long p95 s |")
        print("|---|---|---|---|---|---|---|---|")
        base = None
        for n in [int(x) for x in a.clients.split(",")]:
            wall, lat = run(a.url, jobs, n, fields)
            short = [l for l, (_, d) in zip(lat, jobs) if d <= 60]
            long_ = [l for l, (_, d) in zip(lat, jobs) if d > 60]
            tput = audio / wall
            base = base or tput
            print(f"| {n} | {wall:.1f} | {tput:.1f} | {tput / base:.2f}x | {statistics.median(short):.2f} | "
                  f"{pct(short, 95):.2f} | {statistics.median(long_) if long_ else 0:.2f} | "
                  f"{pct(long_, 95) if long_ else 0:.2f} |", flush=True)


if __name__ == "__main__":
    main()
