"""Hostile model directories: a tokenizer.json that does not fit model.bin, FIFOs and devices in place of the
model's files, a model.bin with non-finite weights. Each is refused quickly with exit 1 and a message that
names the file, never a crash, a hang or unbounded memory."""
import json
import os
import shutil
import struct
import tempfile

from common import AUDIO, MODELS, Checks, run_wisp

c = Checks("e2e model files")
JFK = os.path.join(AUDIO, "jfk.wav")
TINY = os.path.join(MODELS, "tiny.en")
tmp = tempfile.mkdtemp()


def model_dir(name, tokenizer=None):
    """A model directory linking tiny.en's files, with `tokenizer` (a dict) as its tokenizer.json if given."""
    d = os.path.join(tmp, name)
    os.makedirs(d)
    for f in ("model.bin", "config.json", "tokenizer.json"):
        if f == "tokenizer.json" and tokenizer is not None:
            with open(os.path.join(d, f), "w", encoding="utf-8") as fh:
                json.dump(tokenizer, fh)
        else:
            os.symlink(os.path.join(TINY, f), os.path.join(d, f))
    return d


def expect_refused(what, model, needles, timeout=60):
    try:
        p = run_wisp("transcribe", "-m", model, JFK, timeout=timeout)
    except Exception as e:  # a hang ends in TimeoutExpired
        c.check(False, f"{what}: {type(e).__name__}")
        return
    ok = p.returncode == 1 and all(n in p.stderr for n in needles) and p.stdout == ""
    c.check(ok, f"{what}: exit {p.returncode}, stderr {p.stderr.strip()[:200]!r}")


# tokenizer.json that does not fit the model
with open(os.path.join(TINY, "tokenizer.json"), encoding="utf-8") as f:
    tiny_tok = json.load(f)
doctored = json.loads(json.dumps(tiny_tok))
for t in doctored["added_tokens"]:
    if t["content"] == "<|notimestamps|>":
        t["id"] = 52000
    if t["content"] == "<|endoftext|>":
        t["id"] = 53000
expect_refused("special ids past the vocabulary", model_dir("past", doctored), ["tokenizer.json", "does not fit"])
with open(os.path.join(MODELS, "base", "tokenizer.json"), encoding="utf-8") as f:
    expect_refused("base's tokenizer with tiny.en", model_dir("foreign", json.load(f)),
                   ["tokenizer.json", "another model"])

# A model defect is the model's: config.json lang_ids that are not language tokens failed language detection
# on every input, each failure blamed on the audio ("wisp: a.wav: language id 220 ...").
d = os.path.join(tmp, "bad-lang-ids")
os.makedirs(d)
for f in ("model.bin", "tokenizer.json"):
    os.symlink(os.path.join(MODELS, "base", f), os.path.join(d, f))
with open(os.path.join(MODELS, "base", "config.json"), encoding="utf-8") as f:
    config = json.load(f)
config["lang_ids"] = config.get("lang_ids", [50259])[:5] + [220]
with open(os.path.join(d, "config.json"), "w", encoding="utf-8") as f:
    json.dump(config, f)
p = run_wisp("transcribe", "-m", d, JFK, os.path.join(AUDIO, "librivox-0870.wav"), timeout=120)
c.check(p.returncode == 1 and "config.json" in p.stderr and "220" in p.stderr and "jfk.wav" not in p.stderr,
        f"lang_ids defect named against the model: exit {p.returncode}, {p.stderr.strip()[:200]!r}")

# FIFOs and devices in place of each file: refused at once (a FIFO hung open(), /dev/zero grew without bound)
for name in ("model.bin", "config.json", "tokenizer.json"):
    for kind in ("fifo", "/dev/zero"):
        d = model_dir(f"{kind.strip('/').replace('/', '-')}-{name}")
        os.unlink(os.path.join(d, name))
        if kind == "fifo":
            os.mkfifo(os.path.join(d, name))
        else:
            os.symlink(kind, os.path.join(d, name))
        expect_refused(f"{kind} as {name}", d, [name, "not a regular file"], timeout=20)



def variable_offsets(path):
    """{name: (offset of its data, dtype id, byte count)} from a CTranslate2 model.bin header."""
    out = {}
    with open(path, "rb") as f:
        def u(fmt):
            return struct.unpack("<" + fmt, f.read(struct.calcsize("<" + fmt)))[0]

        def s():
            return f.read(u("H"))[:-1].decode()
        u("I"), s(), u("I")
        for _ in range(u("I")):
            name = s()
            f.read(4 * u("B"))
            dtype, n_bytes = u("B"), u("I")
            out[name] = (f.tell(), dtype, n_bytes)
            f.seek(n_bytes, 1)
    return out


# A NaN in one weight of the real model: refused at load, naming the variable (it reached a NaN -> int
# conversion before, UB).
d = os.path.join(tmp, "nan-weight")
os.makedirs(d)
for f in ("config.json", "tokenizer.json"):
    os.symlink(os.path.join(TINY, f), os.path.join(d, f))
shutil.copy(os.path.join(TINY, "model.bin"), os.path.join(d, "model.bin"))
victim = "decoder/layer_1/ffn/linear_0/weight"
offset, dtype, _ = variable_offsets(os.path.join(d, "model.bin"))[victim]
with open(os.path.join(d, "model.bin"), "r+b") as f:
    f.seek(offset + 2 * 1000 if dtype == 4 else offset + 4 * 1000)
    f.write(struct.pack("<H", 0x7E00) if dtype == 4 else struct.pack("<f", float("nan")))
expect_refused("NaN in a weight", d, ["model.bin", victim, "non-finite"])

shutil.rmtree(tmp)
c.finish()
