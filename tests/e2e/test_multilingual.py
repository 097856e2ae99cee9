"""Multilingual base model: de/fr/es clips detected as such and transcribed in their language; translation
into English; WER in each language not worse than faster-whisper's on the same weights by more than 2 pp (the
sequential openai loop, --batch 0, as faster-whisper's transcribe())."""
import os
import tempfile

from common import AUDIO, MODELS, Checks, manifest, transcribe_json, wer

c = Checks("e2e multilingual")
BASE = os.path.join(MODELS, "base")
rows = [(os.path.join(AUDIO, a), lang, ref) for a, lang, ref in manifest() if lang in ("de", "fr", "es")]

with tempfile.TemporaryDirectory() as out:
    ours = transcribe_json([f for f, _, _ in rows], out, "-m", BASE, "-l", "auto", "--batch", "0")
for f, lang, _ in rows:
    r = ours[f]
    c.check(r["language"] == lang, f"{os.path.basename(f)}: detected {r['language']} "
                                   f"(p={r['language_probability']:.2f}), expected {lang}: {r['text'].strip()[:70]}")

from faster_whisper import WhisperModel  # noqa: E402

fw = WhisperModel(BASE, device="cpu", compute_type="float32", cpu_threads=2)
for lang in ("de", "fr", "es"):
    sub = [(f, ref) for f, lg, ref in rows if lg == lang]
    ours_wer = wer([(ref, ours[f]["text"]) for f, ref in sub])
    theirs = {f: "".join(s.text for s in fw.transcribe(f, beam_size=5)[0]) for f, _ in sub}
    fw_wer = wer([(ref, theirs[f]) for f, ref in sub])
    c.check(ours_wer <= fw_wer + 0.02 and ours_wer < 0.5,
            f"{lang}: WER wisp {ours_wer * 100:.1f}% vs faster-whisper {fw_wer * 100:.1f}%")

# translation: German speech into English text
de = [f for f, lg, _ in rows if lg == "de"][0]
with tempfile.TemporaryDirectory() as out:
    tr = transcribe_json([de], out, "-m", BASE, "--task", "translate")[de]
text = tr["text"].lower()
c.check(tr["language"] == "de" and any(w in text.split() for w in ("the", "to", "you", "of")),
        f"translate gives English: {tr['text'].strip()[:80]}")
c.finish()
