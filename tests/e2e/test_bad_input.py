"""Bad input never crashes: each case gets a clear message on stderr and a non-zero exit status."""
import os
import random
import shutil
import tempfile

from common import AUDIO, MODELS, Checks, run_wisp

c = Checks("e2e bad input")
JFK = os.path.join(AUDIO, "jfk.wav")
tmp = tempfile.mkdtemp()


def expect_failure(what, args, code=None, needle=None, input_bytes=None):
    p = run_wisp(*args, input_bytes=input_bytes)
    ok = p.returncode > 0 and (code is None or p.returncode == code)  # > 0: not killed by a signal
    ok = ok and p.stderr.strip() != "" and (needle is None or needle in p.stderr)
    c.check(ok, f"{what}: exit {p.returncode}, stderr {p.stderr.strip()[:140]!r}")


def write(name, data):
    path = os.path.join(tmp, name)
    with open(path, "wb") as f:
        f.write(data)
    return path


jfk_bytes = open(JFK, "rb").read()
rng = random.Random(5)
expect_failure("missing file", ["transcribe", "/nonexistent/a.wav"], 1, "a.wav")
expect_failure("empty file", ["transcribe", write("empty.wav", b"")], 1, "empty.wav")
expect_failure("text file", ["transcribe", write("notes.txt", b"hello, this is not audio\n" * 50)], 1, "notes.txt")
expect_failure("random bytes", ["transcribe", write("noise.bin", bytes(rng.randrange(256) for _ in range(20000)))], 1)
expect_failure("truncated wav header", ["transcribe", write("trunc.wav", jfk_bytes[:20])], 1, "trunc.wav")
expect_failure("a directory", ["transcribe", tmp], 1)
expect_failure("empty stdin", ["transcribe", "-"], 1, input_bytes=b"")

# flags
expect_failure("unknown option", ["transcribe", "--no-such-flag", JFK], 2)
expect_failure("beam size 0", ["transcribe", "--beam-size", "0", JFK], 2)
expect_failure("bad format", ["transcribe", "-f", "docx", JFK], 2)
expect_failure("non-numeric threads", ["transcribe", "-t", "many", JFK], 2)
expect_failure("no input", ["transcribe"], 2)
expect_failure("no subcommand", [], 2)
expect_failure("translate with English-only model", ["transcribe", "--task", "translate", JFK], 2, "English-only")
expect_failure("unknown language", ["transcribe", "-m", os.path.join(MODELS, "base"), "-l", "xx", JFK], 2, "xx")
expect_failure("-f all without -o", ["transcribe", "-f", "all", JFK], 2)

# models
expect_failure("missing model dir", ["transcribe", "-m", "/nonexistent/model", JFK], 1, "/nonexistent/model")
bad_model = os.path.join(tmp, "model")
os.makedirs(bad_model)
for f in ("config.json", "tokenizer.json"):
    shutil.copy(os.path.join(MODELS, "tiny.en", f), bad_model)
with open(os.path.join(MODELS, "tiny.en", "model.bin"), "rb") as f:
    head = f.read(3_000_000)
write("model/model.bin", head)
expect_failure("truncated model.bin", ["transcribe", "-m", bad_model, JFK], 1, "truncated")
write("model/model.bin", b"\x07\x00\x00\x00" + head[4:])
expect_failure("wrong-version model.bin", ["transcribe", "-m", bad_model, JFK], 1, "version")
write("model/model.bin", b"garbage")
expect_failure("garbage model.bin", ["transcribe", "-m", bad_model, JFK], 1, "model.bin")

shutil.rmtree(tmp)
c.finish()
