"""wisp serve, as a client sees it: the official openai Python client (and plain HTTP) against a server started
here. Every response format, word and segment granularities, streaming (server-sent events), translation (base),
the web page; each error status (400 bad parameter and not audio, 401 wrong key, 404 unknown model, 413 upload
too large, 429 with Retry-After when the job limit is reached); 16 concurrent clients all answered with what
one client alone gets; a 10-s clip's latency while a long file is being transcribed within 2x of its latency
on an idle server; a client that disconnects cancels its job; memory bounded under repeated requests; SIGTERM
finishes the request under way and exits 0."""
import concurrent.futures
import json
import os
import re
import signal
import subprocess
import tempfile
import threading
import time
import urllib.request

import httpx2 as httpx  # the HTTP client the openai package uses
import openai

from common import AUDIO, MODELS, WISP, Checks, make_long_form, manifest, run_wisp

c = Checks("e2e server")
JFK = os.path.join(AUDIO, "jfk.wav")


class Server:
    def __init__(self, *args, model="tiny.en"):
        self.proc = subprocess.Popen([WISP, "serve", "--port", "0", "-t", "2", "-m", os.path.join(MODELS, model),
                                      *args], stderr=subprocess.PIPE, text=True)
        line = self.proc.stderr.readline()
        m = re.search(r"http://[^:]+:(\d+)/", line)
        if not m:
            raise RuntimeError("server did not start: " + line + self.proc.stderr.read())
        self.url = f"http://127.0.0.1:{m.group(1)}"
        self.client = openai.OpenAI(base_url=self.url + "/v1", api_key="x", max_retries=0, timeout=600)
        self.log = []  # the server's stderr, shown if it dies
        threading.Thread(target=lambda: self.log.extend(self.proc.stderr), daemon=True).start()

    def post(self, path="/v1/audio/transcriptions", file=JFK, data=None, headers=None, timeout=600):
        if self.proc.poll() is not None:
            raise RuntimeError(f"the server exited ({self.proc.returncode}): " + "".join(self.log[-20:]))
        with open(file, "rb") as f:
            return httpx.post(self.url + path, files={"file": (os.path.basename(file), f)}, data=data or {},
                              headers=headers or {}, timeout=timeout)

    def rss_mb(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1)) / 1024

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=120)


def timed(fn):
    t0 = time.monotonic()
    out = fn()
    return out, time.monotonic() - t0


refs = {a: ref for a, lang, ref in manifest() if lang == "en"}
with tempfile.TemporaryDirectory() as tmp:
    long_wav = os.path.join(tmp, "long.wav")  # the English clips with 2-s pauses, twice: ~170 s
    make_long_form([(os.path.join(AUDIO, a), r) for a, r in refs.items()], long_wav)
    longer = os.path.join(tmp, "longer.wav")  # four times that: seconds of work
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-stream_loop", "3", "-i", long_wav, longer], check=True)
    big = os.path.join(tmp, "big.wav")  # 2 MiB of audio for the upload limit
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", long_wav, "-t", "70", big], check=True)

    s = Server()
    try:
        # --- the openai client, every format
        t = s.client.audio.transcriptions.create(model="whisper-1", file=open(JFK, "rb"))
        c.check("ask not what your country can do for you" in t.text.lower().replace(",", ""),
                f"openai client, json: {t.text!r}")
        c.check(t.usage is not None and abs(t.usage.seconds - 11.0) < 0.1, "json usage: 11 s of audio")
        text = s.client.audio.transcriptions.create(model="tiny.en", file=open(JFK, "rb"), response_format="text")
        c.check(isinstance(text, str) and text.strip() == t.text, "text = json's text (model named by its name)")
        srt = s.client.audio.transcriptions.create(model="whisper-1", file=open(JFK, "rb"), response_format="srt")
        c.check(srt.startswith("1\n00:00:00,000 --> ") and "ask what you can do" in srt, "srt")
        vtt = s.client.audio.transcriptions.create(model="whisper-1", file=open(JFK, "rb"), response_format="vtt")
        c.check(vtt.startswith("WEBVTT") and "00:00.000 --> " in vtt, "vtt")
        v = s.client.audio.transcriptions.create(model="whisper-1", file=open(JFK, "rb"),
                                                 response_format="verbose_json",
                                                 timestamp_granularities=["word", "segment"])
        c.check(v.language == "english" and abs(v.duration - 11.0) < 0.1 and len(v.segments) >= 1,
                f"verbose_json: language {v.language}, {len(v.segments)} segments")
        c.check(len(v.words) >= 20 and all(w.start <= w.end for w in v.words) and v.words[-1].end <= 11.5,
                f"verbose_json words: {len(v.words)}, times in order, within the audio")
        seg_only = s.client.audio.transcriptions.create(model="whisper-1", file=open(JFK, "rb"),
                                                        response_format="verbose_json")
        c.check(seg_only.segments and not getattr(seg_only, "words", None), "verbose_json default: segments only")
        # chunking_strategy: "auto" is wisp's own VAD chunking; a server_vad object sets its parameters (the
        # client sends it as chunking_strategy[key] fields; a JSON value works too)
        auto = s.client.audio.transcriptions.create(model="whisper-1", file=open(JFK, "rb"), chunking_strategy="auto")
        c.check(auto.text == t.text, "chunking_strategy auto: the default's text")
        tuned = s.client.audio.transcriptions.create(
            model="whisper-1", file=open(JFK, "rb"),
            chunking_strategy={"type": "server_vad", "threshold": 0.6, "prefix_padding_ms": 300,
                               "silence_duration_ms": 500})
        c.check("ask what you can do for your country" in tuned.text.lower().replace(",", ""),
                f"chunking_strategy server_vad: {tuned.text!r}")
        r = s.post(data={"chunking_strategy": '{"type": "server_vad", "threshold": 0.4}'})
        c.check(r.status_code == 200 and "country" in r.json()["text"], "chunking_strategy as a JSON value")

        # --- streaming
        events = list(s.client.audio.transcriptions.create(model="whisper-1", file=open(JFK, "rb"), stream=True))
        deltas = [e for e in events if e.type == "transcript.text.delta"]
        done = [e for e in events if e.type == "transcript.text.done"]
        c.check(len(deltas) >= 1 and len(done) == 1 and done[0].text == t.text
                and "".join(d.delta for d in deltas).strip() == t.text,
                f"stream: {len(deltas)} delta events, then done with the whole text")

        # --- include[]=logprobs: each text token's log-probability, as OpenAI's gpt-4o-transcribe gives them
        # (json and verbose_json; the stream's events carry them too)
        lp = s.client.audio.transcriptions.create(model="whisper-1", file=open(JFK, "rb"), include=["logprobs"])
        tokens = lp.logprobs or []
        c.check(lp.text == t.text and len(tokens) >= 20
                and "".join(x.token for x in tokens).strip() == t.text
                and all(x.logprob <= 0 and bytes(int(b) for b in x.bytes).decode() == x.token for x in tokens)
                and sum(x.logprob for x in tokens) / len(tokens) > -1.0,
                f"include logprobs: {len(tokens)} tokens whose text is the transcript, log-probs <= 0")
        c.check(not getattr(t, "logprobs", None), "no logprobs unless asked")
        r = s.post(data={"include[]": "logprobs", "response_format": "verbose_json", "batch_size": "0"})
        c.check(r.status_code == 200 and len(r.json().get("logprobs", [])) >= 20
                and "".join(x["token"] for x in r.json()["logprobs"]).strip() == r.json()["text"],
                "include[]=logprobs with verbose_json, sequential loop: the tokens of its text")
        events = list(s.client.audio.transcriptions.create(model="whisper-1", file=open(JFK, "rb"), stream=True,
                                                           include=["logprobs"]))
        streamed = [x for e in events if e.type == "transcript.text.delta" for x in (e.logprobs or [])]
        c.check([x.token for x in streamed] == [x.token for x in tokens]
                and [x.token for x in (events[-1].logprobs or [])] == [x.token for x in tokens],
                "streamed logprobs: the deltas' and the done event's tokens are the json's")
        r = s.post(data={"include[]": "logprobs", "response_format": "srt"})
        c.check(r.status_code == 400 and r.json()["error"]["param"] == "include[]",
                "include[]=logprobs with srt: 400")
        r = s.post(data={"include[]": "segments"})
        c.check(r.status_code == 400 and r.json()["error"]["param"] == "include[]", "include[] of another kind: 400")

        # --- wisp's modes: batch_size=0 is openai's sequential loop (as `wisp transcribe --batch 0`), vad=true
        # with it faster-whisper's vad_filter; streamed too
        seq = s.post(data={"batch_size": "0"}).json()["text"]
        cli = run_wisp("transcribe", "-q", "--batch", "0", "-m", os.path.join(MODELS, "tiny.en"), JFK).stdout
        c.check(seq == " ".join(cli.split()), f"batch_size=0 = wisp transcribe --batch 0: {seq[:40]!r}...")
        r = s.post(data={"batch_size": "0", "vad": "true"})
        c.check(r.status_code == 200 and "ask not" in r.json()["text"], "batch_size=0 with vad=true")
        events = list(s.client.audio.transcriptions.create(model="whisper-1", file=open(JFK, "rb"), stream=True,
                                                           extra_body={"batch_size": 0}))
        c.check(events and events[-1].type == "transcript.text.done" and events[-1].text == seq,
                f"batch_size=0 streamed: {len(events) - 1} deltas, then the same text")

        # --- plain HTTP: models, health, metrics, page
        models = httpx.get(s.url + "/v1/models").json()
        c.check({"whisper-1", "tiny.en", "base"} <= {m["id"] for m in models["data"]}, "GET /v1/models")
        # another installed model, named by a request: loaded on first use, with an engine of its own
        b = s.client.audio.transcriptions.create(model="base", file=open(os.path.join(AUDIO, "fleurs-de-000.ogg"), "rb"),
                                                 response_format="verbose_json")
        c.check(b.language == "german" and "Hongkong" in b.text, f"model=base on the same server: {b.text[:50]!r}...")
        r = s.post(data={"model": "../models/base"})
        c.check(r.status_code == 404, "a path as model: 404 (only installed names load)")
        c.check(httpx.get(s.url + "/health").json() == {"status": "ok"}, "GET /health")
        page = httpx.get(s.url + "/")
        c.check(page.status_code == 200 and "text/html" in page.headers["content-type"] and "<script>" in page.text,
                "GET / serves the page")

        # --- errors
        def error_of(r):
            try:
                return r.json()["error"]
            except Exception:
                return {}
        r = s.post(data={"response_format": "xml"})
        c.check(r.status_code == 400 and error_of(r).get("param") == "response_format", "400 bad response_format")
        r = s.post(data={"vad": "false"})
        c.check(r.status_code == 400 and error_of(r).get("param") == "vad", "400 vad=false in the batched mode")
        r = s.post(data={"chunking_strategy": "manual"})
        c.check(r.status_code == 400 and error_of(r).get("param") == "chunking_strategy", "400 chunking_strategy")
        r = s.post(data={"chunking_strategy[type]": "server_vad", "chunking_strategy[threshold]": "2"})
        c.check(r.status_code == 400 and "threshold" in error_of(r).get("message", ""),
                "400 chunking_strategy threshold out of range")
        r = s.post(data={"temperature": "2"})
        c.check(r.status_code == 400 and error_of(r).get("param") == "temperature", "400 temperature out of range")
        r = s.post(data={"language": "de"})
        c.check(r.status_code == 400 and "English" in error_of(r).get("message", ""), "400 German on tiny.en")
        r = s.post(data={"response_format": "json", "timestamp_granularities[]": "word"})
        c.check(r.status_code == 400, "400 word granularity without verbose_json")
        r = s.post(file="/etc/hostname")
        c.check(r.status_code == 400 and error_of(r).get("param") == "file", "400 not audio")
        r = httpx.post(s.url + "/v1/audio/transcriptions", data={"model": "whisper-1"})
        c.check(r.status_code == 400 and error_of(r).get("param") == "file", "400 no file")
        r = s.post(data={"model": "whisper-9"})
        c.check(r.status_code == 404 and error_of(r).get("code") == "model_not_found", "404 unknown model")
        r = s.post("/v1/audio/translations")
        c.check(r.status_code == 400, "400 translation on an English-only model")
        c.check(httpx.get(s.url + "/v1/nothing").status_code == 404, "404 unknown endpoint")

        # --- 16 concurrent clients get what one gets
        clips = [os.path.join(AUDIO, a) for a in sorted(refs)][:8] * 2
        alone = {f: s.post(file=f).json()["text"] for f in set(clips)}
        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            together = list(pool.map(lambda f: s.post(file=f), clips))
        c.check(all(r.status_code == 200 and r.json()["text"] == alone[f] for f, r in zip(clips, together)),
                "16 concurrent clients: every answer as when alone")

        # --- a short request beside a long one
        idle = sorted(timed(lambda: s.post())[1] for _ in range(5))[2]
        long_result = {}
        th = threading.Thread(target=lambda: long_result.update(r=s.post(file=long_wav)))
        th.start()
        time.sleep(0.5)
        loaded = sorted(timed(lambda: s.post())[1] for _ in range(5))[2]
        th.join()
        c.check(long_result["r"].status_code == 200, "the long file is answered too")
        c.check(loaded <= 2 * idle + 0.05,
                f"10-s clip beside a long file: {loaded:.3f} s against {idle:.3f} s idle (medians; at most 2x)")
        metrics = httpx.get(s.url + "/metrics").text
        c.check('wisp_requests_total{endpoint="transcriptions",status="200"}' in metrics
                and "wisp_decoder_step_rows_bucket" in metrics and "wisp_request_duration_seconds_bucket" in metrics,
                "GET /metrics: requests, step sizes, latency histograms")

        # --- a client that goes away cancels its work
        try:
            s.post(file=longer, timeout=0.5)
        except httpx.TimeoutException:
            pass
        t0 = time.monotonic()
        while time.monotonic() - t0 < 10:
            m = re.search(r"^wisp_running_jobs (\d+)", httpx.get(s.url + "/metrics").text, re.M)
            if m and m.group(1) == "0":
                break
            time.sleep(0.05)
        gone = time.monotonic() - t0
        c.check(gone < 1.0, f"disconnected client's job (680 s of audio) dropped {gone:.2f} s after it left")

        # --- memory under repeated load
        for _ in range(6):
            s.post(file=long_wav)
        before = s.rss_mb()
        for _ in range(6):
            s.post(file=long_wav)
        after = s.rss_mb()
        c.check(after - before < 50, f"memory after 6 and 12 long requests: {before:.0f} / {after:.0f} MB")

        # --- SIGTERM: the request under way is answered, then exit 0
        res = {}
        th = threading.Thread(target=lambda: res.update(r=s.post(file=long_wav)))
        th.start()
        time.sleep(0.3)
        code = s.stop()
        th.join()
        c.check(res["r"].status_code == 200 and len(res["r"].json()["text"]) > 500 and code == 0,
                f"SIGTERM: the request under way answered ({res['r'].status_code}), exit {code}")
    finally:
        if s.proc.poll() is None:
            s.proc.kill()

    # --- limits: API key, upload size, job limit
    s = Server("--api-key", "sesame", "--max-upload-mb", "1", "--max-jobs", "1", "--max-audio-minutes", "12")
    try:
        r = s.post()
        c.check(r.status_code == 401 and r.json()["error"]["code"] == "invalid_api_key", "401 without the key")
        bad = openai.OpenAI(base_url=s.url + "/v1", api_key="wrong", max_retries=0)
        try:
            bad.audio.transcriptions.create(model="whisper-1", file=open(JFK, "rb"))
            c.check(False, "401 through the openai client")
        except openai.AuthenticationError:
            c.check(True, "401 through the openai client (AuthenticationError)")
        key = {"Authorization": "Bearer sesame"}
        c.check(s.post(headers=key).status_code == 200, "200 with the key")
        r = s.post(file=big, headers=key)
        c.check(r.status_code == 413 and "error" in r.json(), f"413 for a {os.path.getsize(big) >> 20}-MiB upload")
        opus = os.path.join(tmp, "longer.ogg")  # 680 s in 0.6 MB
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", longer, "-c:a", "libopus", "-b:a", "8k", opus], check=True)
        s13 = os.path.join(tmp, "thirteen.ogg")  # 13 minutes: past --max-audio-minutes 12
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-stream_loop", "1", "-i", opus, "-t", "780", "-c:a", "libopus",
                        "-b:a", "8k", s13], check=True)
        r = s.post(file=s13, headers=key)
        c.check(r.status_code == 413 and "12 minutes" in r.json()["error"]["message"],
                "413 for 13 minutes of audio past --max-audio-minutes 12")
        # The one allowed job: the 680-s file as 8-kbit/s Opus (under the 1-MiB limit, seconds of work); once the
        # engine holds it, another request is refused.
        first = {}
        th = threading.Thread(target=lambda: first.update(r=s.post(file=opus, headers=key)))
        th.start()
        t0 = time.monotonic()
        while time.monotonic() - t0 < 30 and not re.search(r"^wisp_held_audio_seconds [1-9]",
                                                           httpx.get(s.url + "/metrics").text, re.M):
            time.sleep(0.02)
        r = s.post(headers=key)
        th.join()
        c.check(r.status_code == 429 and r.headers.get("retry-after") == "1" and first["r"].status_code == 200,
                f"429 with Retry-After while the one allowed job runs ({r.status_code})")
    finally:
        s.stop()

    # --- translation and language, on base
    s = Server(model="base")
    try:
        de = os.path.join(AUDIO, "fleurs-de-000.ogg")
        tr = s.client.audio.translations.create(model="whisper-1", file=open(de, "rb"))
        tx = s.client.audio.transcriptions.create(model="whisper-1", file=open(de, "rb"), language="de",
                                                  response_format="verbose_json")
        c.check(tx.language == "german" and tr.text and tr.text != tx.text,
                f"base: German transcribed ({tx.text[:40]!r}...) and translated ({tr.text[:40]!r}...)")
    finally:
        s.stop()
c.finish()
