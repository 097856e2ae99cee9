#!/usr/bin/env python3
"""Convert a CTranslate2 Whisper model directory into a whisper.cpp ggml model file.

Purpose: benchmarking whisper.cpp (whisper-cli / whisper-server) against wisp on the *same* weights.
wisp reads CTranslate2 directories (model.bin + config.json + vocabulary/tokenizer); whisper.cpp reads
its own single-file ggml format. This script rewrites the CTranslate2 weights in that format so both
engines run the identical network.

Usage:
    .venv/bin/python bench/ct2_to_ggml.py MODEL_DIR OUT.bin [--reference GGML_TEST_FILE]

    e.g. .venv/bin/python bench/ct2_to_ggml.py models/tiny.en ../whisper.cpp/models/ggml-tiny.en-ct2.bin

Output: ftype 1 (f16), laid out as whisper.cpp's models/convert-pt-to-ggml.py lays it out: weight
matrices and conv kernels in float16; biases, LayerNorm parameters, the conv biases and both positional
embeddings in float32. int8 CTranslate2 weights are dequantized (w = q / scale, one scale per row) and
float16/bfloat16/float32 ones widened to float before they are written as float16, so an int8 model
comes out as f16, not as its quantized values.

The mel filterbank (80 x 201) is not in a CTranslate2 directory: it is copied from one of whisper.cpp's
weightless test models (for-tests-ggml-tiny.en.bin for English-only models, for-tests-ggml-tiny.bin for
multilingual ones; default location ../shared/models beside the project). That file also fixes how many vocabulary
entries are written (the BPE tokens plus <|endoftext|>; whisper.cpp adds the other special and timestamp
tokens itself from n_vocab). Their bytes come from the model's own vocabulary.txt / vocabulary.json
(byte-level BPE strings, mapped back to raw bytes), because the test files' vocabularies hold U+FFFD in
place of the single-byte tokens that are not valid UTF-8 on their own (which would garble non-ASCII
output); every other entry is checked against the test file. Without a vocabulary file in the model
directory the test file's vocabulary is used as it is. Models with 128 mel bins (large-v3) are refused,
as those test files hold only the 80-bin filterbank.

Only numpy and the standard library are used.
"""

import argparse
import json
import os
import struct
import sys

import numpy as np

GGML_MAGIC = 0x67676D6C
# ../shared/models beside the project (see the project README).
DEFAULT_REFERENCE_DIR = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared",
                                                     "models"))

# CTranslate2 dtype ids (model_spec.py): float32, int8, int16, int32, float16, bfloat16.
CT2_DTYPES = {0: np.dtype("<f4"), 1: np.dtype("i1"), 2: np.dtype("<i2"), 3: np.dtype("<i4"),
              4: np.dtype("<f2"), 5: "bf16"}


def fail(msg):
    sys.exit("ct2_to_ggml: error: " + msg)


# --------------------------------------------------------------------------------------------------
# CTranslate2 model.bin
#   u32 version | str spec | u32 revision | u32 n_vars |
#   n_vars x { str name | u8 rank | rank x u32 dim | u8 dtype | u32 n_bytes | data } |
#   u32 n_aliases x { str alias | str target }
#   str = u16 length (counting a trailing NUL) + bytes
# --------------------------------------------------------------------------------------------------
class Ct2Model:
    def __init__(self, path):
        self.path = path
        with open(path, "rb") as f:
            self.buf = memoryview(f.read())
        self.pos = 0
        self.vars = {}
        self.aliases = {}
        self._parse()

    def _unpack(self, fmt):
        vals = struct.unpack_from("<" + fmt, self.buf, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return vals if len(vals) > 1 else vals[0]

    def _string(self):
        n = self._unpack("H")
        s = bytes(self.buf[self.pos:self.pos + n]).rstrip(b"\0").decode("utf-8")
        self.pos += n
        return s

    def _parse(self):
        version = self._unpack("I")
        if not 3 <= version <= 6:
            fail(f"{self.path}: unsupported CTranslate2 binary version {version}")
        spec = self._string()
        if spec != "WhisperSpec":
            fail(f"{self.path}: spec is '{spec}', not WhisperSpec")
        self._unpack("I")  # spec revision
        n_vars = self._unpack("I")
        for _ in range(n_vars):
            name = self._string()
            rank = self._unpack("B")
            shape = tuple(self._unpack("I") for _ in range(rank))
            dt_id = self._unpack("B")
            n_bytes = self._unpack("I")
            if dt_id not in CT2_DTYPES:
                fail(f"{self.path}: variable '{name}' has unknown dtype id {dt_id}")
            raw = self.buf[self.pos:self.pos + n_bytes]
            if len(raw) != n_bytes:
                fail(f"{self.path}: truncated in variable '{name}'")
            self.pos += n_bytes
            dt = CT2_DTYPES[dt_id]
            if dt == "bf16":  # widen bfloat16 to float32 right away
                arr = (np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16).view(np.float32)
            else:
                arr = np.frombuffer(raw, dtype=dt)
            count = int(np.prod(shape)) if shape else 1
            if arr.size != count:
                fail(f"{self.path}: variable '{name}' {shape} declares {n_bytes} bytes")
            self.vars[name] = arr.reshape(shape)
        n_alias = self._unpack("I")
        for _ in range(n_alias):
            alias = self._string()
            self.aliases[alias] = self._string()
        if self.pos != len(self.buf):
            fail(f"{self.path}: {len(self.buf) - self.pos} trailing bytes after the alias table")

    def resolve(self, name):
        seen = set()
        while name in self.aliases and name not in seen:
            seen.add(name)
            name = self.aliases[name]
        return name

    def has(self, name):
        return self.resolve(name) in self.vars

    def raw(self, name):
        key = self.resolve(name)
        if key not in self.vars:
            fail(f"{self.path}: variable '{name}' is missing")
        return self.vars[key]

    def f32(self, name, shape=None):
        """The variable as float32; int8 matrices are dequantized with their per-row '_scale'."""
        key = self.resolve(name)
        a = self.raw(key)
        if a.dtype == np.int8 and a.ndim >= 1:
            if key + "_scale" not in self.vars:
                fail(f"{self.path}: int8 variable '{key}' has no '{key}_scale'")
            scale = self.vars[key + "_scale"].astype(np.float32).reshape(-1)
            if scale.size != a.shape[0]:
                fail(f"{self.path}: '{key}_scale' has {scale.size} values for {a.shape[0]} rows")
            out = a.astype(np.float32) / scale.reshape((-1,) + (1,) * (a.ndim - 1))
        else:
            out = a.astype(np.float32)
        if shape is not None and tuple(out.shape) != tuple(shape):
            fail(f"{self.path}: variable '{name}' has shape {tuple(out.shape)}, expected {tuple(shape)}")
        if not np.all(np.isfinite(out)):
            fail(f"{self.path}: variable '{name}' holds non-finite values")
        return out

    def scalar(self, name, default):
        if not self.has(name):
            return default
        a = self.raw(name)
        return a.reshape(-1)[0].item() if a.size else default


# --------------------------------------------------------------------------------------------------
# whisper.cpp reference file: magic, 11 x i32 hparams, i32 n_mel, i32 n_fft, n_mel*n_fft f32 filters,
# i32 n_tokens, n_tokens x { i32 len, bytes }, then tensors (none in the test files).
# --------------------------------------------------------------------------------------------------
def read_reference(path):
    with open(path, "rb") as f:
        b = f.read()
    magic = struct.unpack_from("<I", b, 0)[0]
    if magic != GGML_MAGIC:
        fail(f"{path}: not a ggml whisper file (magic {magic:#x})")
    hparams = struct.unpack_from("<11i", b, 4)
    pos = 48
    n_mel, n_fft = struct.unpack_from("<2i", b, pos)
    filters_start = pos
    pos += 8 + 4 * n_mel * n_fft
    vocab_start = pos
    n_tokens = struct.unpack_from("<i", b, pos)[0]
    pos += 4
    for _ in range(n_tokens):
        pos += 4 + struct.unpack_from("<i", b, pos)[0]
    if pos > len(b):
        fail(f"{path}: truncated vocabulary")
    tokens = []
    p = vocab_start + 4
    for _ in range(n_tokens):
        n = struct.unpack_from("<i", b, p)[0]
        tokens.append(b[p + 4:p + 4 + n])
        p += 4 + n
    return {"n_vocab": hparams[0], "n_mel": n_mel, "n_fft": n_fft, "n_tokens": n_tokens,
            "filters": b[filters_start:vocab_start], "vocab": b[vocab_start:pos], "tokens": tokens}


def byte_decoder():
    """The inverse of GPT-2's byte-to-unicode table (byte-level BPE strings -> raw bytes)."""
    printable = (list(range(ord("!"), ord("~") + 1)) + list(range(ord("\u00a1"), ord("\u00ac") + 1)) +
                 list(range(ord("\u00ae"), ord("\u00ff") + 1)))
    table, extra = {}, 0
    for byte in range(256):
        if byte in printable:
            table[chr(byte)] = byte
        else:
            table[chr(256 + extra)] = byte
            extra += 1
    return table


def model_vocabulary(model_dir):
    """The CTranslate2 directory's token strings, or None when it has no vocabulary file."""
    txt, js = os.path.join(model_dir, "vocabulary.txt"), os.path.join(model_dir, "vocabulary.json")
    if os.path.exists(txt):
        with open(txt, encoding="utf-8") as f:
            return f.read().split("\n")
    if os.path.exists(js):
        with open(js, encoding="utf-8") as f:
            return json.load(f)
    return None


def vocabulary_bytes(model_dir, ref):
    """The vocabulary section (count + length-prefixed tokens) to write."""
    words = model_vocabulary(model_dir)
    if words is None:
        print(f"no vocabulary file in {model_dir}: using the reference file's vocabulary as is")
        return ref["vocab"]
    n = ref["n_tokens"]
    if len(words) < n:
        fail(f"{model_dir} vocabulary has {len(words)} entries, fewer than {n}")
    dec = byte_decoder()
    out = [struct.pack("<i", n)]
    replaced = 0
    for i in range(n):
        try:
            tok = bytes(dec[c] for c in words[i])
        except KeyError:
            fail(f"vocabulary entry {i} {words[i]!r} is not a byte-level BPE string")
        want = ref["tokens"][i]
        if tok != want:
            if b"\xef\xbf\xbd" not in want:  # only the lossy U+FFFD entries may differ
                fail(f"vocabulary entry {i}: model has {tok!r}, reference has {want!r}; wrong reference file?")
            replaced += 1
        out.append(struct.pack("<i", len(tok)) + tok)
    print(f"vocabulary: {n} tokens from {model_dir} ({replaced} byte tokens the reference file had as U+FFFD)")
    return b"".join(out)


# --------------------------------------------------------------------------------------------------
# ggml writer
# --------------------------------------------------------------------------------------------------
class GgmlWriter:
    def __init__(self, f):
        self.f = f
        self.count = 0
        self.bytes = 0

    def tensor(self, name, arr, as_f16):
        arr = np.ascontiguousarray(arr, dtype=np.float32)
        if as_f16:
            big = float(np.max(np.abs(arr))) if arr.size else 0.0
            if big > 65504.0:
                fail(f"tensor '{name}' has a value {big} beyond the float16 range")
            data = arr.astype("<f2")
        else:
            data = arr.astype("<f4")
        enc = name.encode("utf-8")
        # ggml lists dimensions innermost first: the reverse of the numpy (row-major) shape.
        self.f.write(struct.pack("<iii", data.ndim, len(enc), 1 if as_f16 else 0))
        self.f.write(struct.pack("<" + "i" * data.ndim, *reversed(data.shape)))
        self.f.write(enc)
        self.f.write(data.tobytes())
        self.count += 1
        self.bytes += data.nbytes

    def matrix(self, name, arr):  # weight matrices / conv kernels: f16
        self.tensor(name, arr, True)

    def vector(self, name, arr):  # biases, norms, positional embeddings: f32
        self.tensor(name, arr, False)


def count_layers(m, prefix):
    n = 0
    while m.has(f"{prefix}{n}/ffn/linear_0/weight"):
        n += 1
    return n


def convert(model_dir, out_path, reference):
    m = Ct2Model(os.path.join(model_dir, "model.bin"))

    conv1 = m.raw("encoder/conv1/weight")
    embed = m.raw("decoder/embeddings/weight")
    enc_pos = m.raw("encoder/position_encodings/encodings")
    dec_pos = m.raw("decoder/position_encodings/encodings")
    if conv1.ndim != 3 or conv1.shape[2] != 3:
        fail(f"encoder/conv1/weight has shape {conv1.shape}, expected [D, n_mels, 3]")
    D, n_mels = conv1.shape[0], conv1.shape[1]
    n_vocab, Dt = embed.shape
    n_audio_ctx, n_text_ctx = enc_pos.shape[0], dec_pos.shape[0]
    n_audio_layer = count_layers(m, "encoder/layer_")
    n_text_layer = count_layers(m, "decoder/layer_")
    n_audio_head = int(m.scalar("encoder/num_heads", D // 64))
    n_text_head = int(m.scalar("decoder/num_heads", Dt // 64))
    if D != Dt:
        fail(f"encoder width {D} differs from decoder width {Dt}; whisper.cpp needs them equal")
    if n_mels != 80:
        fail(f"{n_mels} mel bins: only 80-bin models are supported (the reference filterbank is 80 x 201)")
    if n_audio_ctx != 1500:
        fail(f"encoder has {n_audio_ctx} positions, expected 1500")
    if n_audio_layer == 0 or n_text_layer == 0:
        fail("no encoder or decoder layers found")
    if D % n_audio_head or Dt % n_text_head:
        fail(f"head counts {n_audio_head}/{n_text_head} do not divide width {D}")
    ffn = m.raw("encoder/layer_0/ffn/linear_0/weight").shape[0]
    if ffn != 4 * D:
        fail(f"FFN width {ffn} is not 4 x {D}, which whisper.cpp assumes")
    if m.scalar("decoder/scale_embeddings", 0) or m.scalar("decoder/alibi", 0) or not m.scalar("decoder/pre_norm", 1):
        fail("decoder flags (scale_embeddings / alibi / pre_norm) are not Whisper's; cannot express in ggml")
    if m.has("decoder/projection/weight") and m.resolve("decoder/projection/weight") != m.resolve(
            "decoder/embeddings/weight"):
        proj = m.f32("decoder/projection/weight")
        if not np.array_equal(proj, m.f32("decoder/embeddings/weight")):
            fail("decoder/projection/weight is not tied to the token embeddings; whisper.cpp ties them")

    if reference is None:
        reference = os.path.join(DEFAULT_REFERENCE_DIR, "for-tests-ggml-tiny.en.bin" if n_vocab == 51864
                                 else "for-tests-ggml-tiny.bin")
    ref = read_reference(reference)
    multilingual = n_vocab >= 51865
    if (ref["n_vocab"] >= 51865) != multilingual:
        fail(f"{reference} is {'a multilingual' if ref['n_vocab'] >= 51865 else 'an English-only'} model's "
             f"vocabulary, but the model has n_vocab {n_vocab}")
    if ref["n_mel"] != n_mels:
        fail(f"{reference} holds {ref['n_mel']} mel filters, the model needs {n_mels}")
    if ref["n_tokens"] > n_vocab:
        fail(f"{reference} holds {ref['n_tokens']} tokens, more than the model's {n_vocab}")

    vocab = vocabulary_bytes(model_dir, ref)
    hparams = [n_vocab, n_audio_ctx, D, n_audio_head, n_audio_layer, n_text_ctx, Dt, n_text_head,
               n_text_layer, n_mels, 1]
    print(f"hparams: n_vocab={n_vocab} n_audio_ctx={n_audio_ctx} n_audio_state={D} n_audio_head={n_audio_head} "
          f"n_audio_layer={n_audio_layer} n_text_ctx={n_text_ctx} n_text_state={Dt} n_text_head={n_text_head} "
          f"n_text_layer={n_text_layer} n_mels={n_mels} ftype=1 (f16)")
    print(f"mel filters from {reference}")

    tmp = out_path + ".part"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<I", GGML_MAGIC))
        f.write(struct.pack("<11i", *hparams))
        f.write(ref["filters"])
        f.write(vocab)
        w = GgmlWriter(f)

        def ln(src, dst, d):
            w.vector(dst + ".weight", m.f32(src + "/gamma", (d,)))
            w.vector(dst + ".bias", m.f32(src + "/beta", (d,)))

        def linear(src, dst, rows, cols, bias=True):
            w.matrix(dst + ".weight", m.f32(src + "/weight", (rows, cols)))
            if bias:
                w.vector(dst + ".bias", m.f32(src + "/bias", (rows,)))

        def split_qkv(src, prefix, d, parts):
            """Split a fused [parts*d, d] projection into whisper.cpp's query/key/value tensors."""
            wt = m.f32(src + "/weight", (len(parts) * d, d))
            b = m.f32(src + "/bias", (len(parts) * d,))
            for i, part in enumerate(parts):
                w.matrix(f"{prefix}.{part}.weight", wt[i * d:(i + 1) * d])
                if part != "key":  # whisper's key projections have no bias (CTranslate2 stores zeros)
                    w.vector(f"{prefix}.{part}.bias", b[i * d:(i + 1) * d])
                elif np.any(b[i * d:(i + 1) * d] != 0):
                    fail(f"{src}/bias has a non-zero key part, which whisper.cpp cannot represent")

        def self_attention(s, t, d):
            ln(s + "/self_attention/layer_norm", t + ".attn_ln", d)
            split_qkv(s + "/self_attention/linear_0", t + ".attn", d, ("query", "key", "value"))
            linear(s + "/self_attention/linear_1", t + ".attn.out", d, d)

        def mlp(s, t, d):
            ln(s + "/ffn/layer_norm", t + ".mlp_ln", d)
            linear(s + "/ffn/linear_0", t + ".mlp.0", 4 * d, d)
            linear(s + "/ffn/linear_1", t + ".mlp.2", d, 4 * d)

        # encoder
        w.vector("encoder.positional_embedding", m.f32("encoder/position_encodings/encodings", (n_audio_ctx, D)))
        w.matrix("encoder.conv1.weight", m.f32("encoder/conv1/weight", (D, n_mels, 3)))
        w.vector("encoder.conv1.bias", m.f32("encoder/conv1/bias", (D,)).reshape(D, 1))
        w.matrix("encoder.conv2.weight", m.f32("encoder/conv2/weight", (D, D, 3)))
        w.vector("encoder.conv2.bias", m.f32("encoder/conv2/bias", (D,)).reshape(D, 1))
        for i in range(n_audio_layer):
            s, t = f"encoder/layer_{i}", f"encoder.blocks.{i}"
            self_attention(s, t, D)
            mlp(s, t, D)
        ln("encoder/layer_norm", "encoder.ln_post", D)

        # decoder
        w.vector("decoder.positional_embedding", m.f32("decoder/position_encodings/encodings", (n_text_ctx, Dt)))
        w.matrix("decoder.token_embedding.weight", m.f32("decoder/embeddings/weight", (n_vocab, Dt)))
        for i in range(n_text_layer):
            s, t = f"decoder/layer_{i}", f"decoder.blocks.{i}"
            self_attention(s, t, Dt)
            ln(s + "/attention/layer_norm", t + ".cross_attn_ln", Dt)
            linear(s + "/attention/linear_0", t + ".cross_attn.query", Dt, Dt)
            split_qkv(s + "/attention/linear_1", t + ".cross_attn", Dt, ("key", "value"))
            linear(s + "/attention/linear_2", t + ".cross_attn.out", Dt, Dt)
            mlp(s, t, Dt)
        ln("decoder/layer_norm", "decoder.ln", Dt)

    expected = 11 + 15 * n_audio_layer + 24 * n_text_layer  # the tensors whisper_model_load creates
    if w.count != expected:
        os.remove(tmp)
        fail(f"wrote {w.count} tensors, whisper.cpp expects {expected}")
    os.replace(tmp, out_path)
    print(f"wrote {out_path}: {w.count} tensors, {w.bytes / 1e6:.1f} MB of weights")


def main():
    ap = argparse.ArgumentParser(description="Convert a CTranslate2 Whisper model to whisper.cpp ggml (f16).")
    ap.add_argument("model_dir", help="CTranslate2 model directory (holding model.bin)")
    ap.add_argument("output", help="ggml file to write")
    ap.add_argument("--reference", help="whisper.cpp ggml file to take the mel filters (and vocabulary size) from "
                    f"(default: {DEFAULT_REFERENCE_DIR}/for-tests-ggml-tiny[.en].bin by n_vocab)")
    args = ap.parse_args()
    convert(args.model_dir, args.output, args.reference)


if __name__ == "__main__":
    main()
