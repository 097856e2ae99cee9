#!/usr/bin/env python3
"""Oracle data for tests/unit/test_tokenizer.cpp, made with HF `tokenizers` (what faster-whisper uses).

For each model directory (tiny.en: English-only, base: multilingual) it records:
  texts          every manifest reference text, the same with a leading space, extra strings
                 (numbers, emoji, CJK, whitespace runs, contractions, combining marks, ...) and
                 random strings mixing character classes (seeded, so the file is reproducible):
                 HF encode(text, add_special_tokens=False).ids and the decode of those ids
  special_texts  strings that spell added tokens ("<|endoftext|>", "<|0.00|>"): HF splits them out
                 as single ids, so only the encoding is compared
  random_ids     random ordinary ids, many of them single-byte tokens so that the bytes are often
                 invalid UTF-8, with HF's (lossy, U+FFFD) decode
  special        ids of the special tokens, languages (code, id) in id order, vocab size

Usage: tokenizer_reference.py --models DIR --shared DIR --out FILE
"""
import argparse
import csv
import json
import os
import random
import sys
import tempfile

import tokenizers
from tokenizers import Tokenizer

MODELS = ["tiny.en", "base"]

SPECIAL_NAMES = [
    "<|endoftext|>", "<|startoftranscript|>", "<|translate|>", "<|transcribe|>", "<|startoflm|>",
    "<|startofprev|>", "<|nospeech|>", "<|nocaptions|>", "<|notimestamps|>",
]

EXTRA_TEXTS = [
    "Hello world!", " Hello world!", "25 to 30", " 25 to 30", "3.14159 and 1,000,000", "🙂", " 🙂",
    "👨‍👩‍👧 family", "你好世界", "こんにちは世界、東京タワー。", "안녕하세요", "Привет, мир!",
    "  multiple   spaces\n\nnewlines", "trailing spaces   ", "\ttab\tseparated\t", " ", "", "x",
    "it's we'll they'd", "I'M YOU'RE WE'VE", "don't 's 't", "“quotes” and ‘single’ «guillemets»",
    "e\u0301 combining", "a\u00a0b\u3000c\u2009d", "mongolian \u180e! \u180e", "١٢٣ ١٢٣ १२३", "Ünïcödé straße", "ß", "naïve café",
    "supercalifragilisticexpialidocious" * 4, "!!!???...", "a" * 300, "<|notatoken|> <|", "$12.50 @home #tag",
]

# Pools for random strings that stress the pre-tokenizer regex: letter/number/other/space classes
# meeting in every order, contractions, non-ASCII spaces and digits, marks, emoji, CJK.
RANDOM_POOLS = [
    "abcxyzABCXYZ", "0123456789", " ", "  \t\n\r", "'", "sStTreREvVmMlLdD", ".,!?;:-_()[]{}\"/\\@#$%^&*+=<>|~`",
    "äöüßéèêçñøåœ", "«»“”‘’—–…", "\u00a0\u2009\u3000\u2028\u0085\u180e\u200b", "١٢٣४५६½²", "\u0301\u0308\u0327",
    "🙂👍🏽🎉", "你好世界東京", "こんにちはカタカナ", "한국어", "Привет", "עבריתالعربية",
]
SPECIAL_TEXTS = [
    "<|endoftext|>", "hello<|endoftext|>world", " <|startoftranscript|><|en|><|transcribe|> hi",
    "<|0.00|> x <|1.08|>", "<|endoftext|<|endoftext|>>",
]


def bytes_to_unicode():
    """GPT-2's byte -> printable character table (as in openai/whisper and HF)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


BYTE_DECODER = {c: b for b, c in bytes_to_unicode().items()}  # printable character -> byte


def manifest_texts(shared):
    with open(os.path.join(shared, "audio", "manifest.tsv"), encoding="utf-8", newline="") as f:
        return [row["reference"] for row in csv.DictReader(f, delimiter="\t")]


def model_reference(tok_path, manifest):
    tok = Tokenizer.from_file(tok_path)
    special = {name: tok.token_to_id(name) for name in SPECIAL_NAMES if tok.token_to_id(name) is not None}
    eot, sot, translate = special["<|endoftext|>"], special["<|startoftranscript|>"], special["<|translate|>"]
    languages = [[tok.id_to_token(i)[2:-2], i] for i in range(sot + 1, translate)]

    texts = []
    rng = random.Random(4321)
    random_texts = []
    for _ in range(300):
        pools = rng.sample(RANDOM_POOLS, rng.randint(1, 4))
        random_texts.append("".join(rng.choice(rng.choice(pools)) for _ in range(rng.randint(1, 40))))
    for text in manifest + [" " + t for t in manifest] + EXTRA_TEXTS + random_texts:
        ids = tok.encode(text, add_special_tokens=False).ids
        decoded = tok.decode(ids)
        assert decoded == text, (tok_path, text, decoded)  # byte-level BPE is lossless
        texts.append({"text": text, "ids": ids, "decoded": decoded})

    special_texts = [{"text": t, "ids": tok.encode(t, add_special_tokens=False).ids} for t in SPECIAL_TEXTS]

    # Random ordinary ids: mostly lone bytes >= 0x80 so the joined bytes are often ill-formed UTF-8.
    byte_ids = {b: tok.token_to_id(c) for b, c in bytes_to_unicode().items()}
    random_ids = []
    for _ in range(400):
        ids = []
        for _ in range(rng.randint(1, 8)):
            ids.append(byte_ids[rng.randint(0x80, 0xFF)] if rng.random() < 0.7 else rng.randrange(eot))
        decoded = tok.decode(ids)
        raw = b"".join(bytes(BYTE_DECODER[c] for c in tok.id_to_token(i)) for i in ids)
        assert decoded == raw.decode("utf-8", errors="replace"), (ids, decoded)  # HF == Python semantics
        random_ids.append({"ids": ids, "decoded": decoded})

    return {
        "vocab_size": tok.get_vocab_size(with_added_tokens=True),
        "special": special,
        "languages": languages,
        "texts": texts,
        "special_texts": special_texts,
        "random_ids": random_ids,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", required=True, help="directory holding tiny.en/ and base/")
    ap.add_argument("--shared", required=True, help="shared/ directory (audio/manifest.tsv)")
    ap.add_argument("--out", required=True, help="JSON file to write")
    args = ap.parse_args()

    manifest = manifest_texts(args.shared)
    out = {"generator": f"tokenizers {tokenizers.__version__}", "models": {}}
    for name in MODELS:
        path = os.path.join(args.models, name, "tokenizer.json")
        if not os.path.exists(path):
            print(f"tokenizer_reference: skipping {name}: {path} missing", file=sys.stderr)
            continue
        out["models"][name] = model_reference(path, manifest)
    if not out["models"]:
        sys.exit(f"tokenizer_reference: no tokenizer.json under {args.models}")

    # Write atomically: several test processes may generate the file at the same time.
    out_dir = os.path.dirname(os.path.abspath(args.out))
    os.makedirs(out_dir, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out_dir, prefix=".tokenizer-", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False)
    os.chmod(tmp, 0o644)  # mkstemp makes it owner-only
    os.replace(tmp, args.out)
    print(f"tokenizer_reference: wrote {args.out} ({', '.join(out['models'])})")


if __name__ == "__main__":
    main()
