"""Word error rate on every English clip with tiny.en: ours within 0.3 percentage points of faster-whisper's
on the same weights, same beam size (5) and temperature fallback."""
import os
import tempfile

from common import AUDIO, MODELS, Checks, manifest, transcribe_json, wer

c = Checks("e2e wer")
rows = [(os.path.join(AUDIO, a), ref) for a, lang, ref in manifest() if lang == "en"]
files = [f for f, _ in rows]

with tempfile.TemporaryDirectory() as out:
    ours = transcribe_json(files, out, "-m", os.path.join(MODELS, "tiny.en"), "--beam-size", "5")
ours_wer = wer([(ref, ours[f]["text"]) for f, ref in rows])

from faster_whisper import WhisperModel  # noqa: E402  (the peer, from tests/requirements.txt)

fw = WhisperModel(os.path.join(MODELS, "tiny.en"), device="cpu", compute_type="float32", cpu_threads=2)
theirs = {}
for f, _ in rows:
    segments, _ = fw.transcribe(f, beam_size=5)
    theirs[f] = "".join(s.text for s in segments)
fw_wer = wer([(ref, theirs[f]) for f, ref in rows])

for f, ref in rows:
    same = ours[f]["text"].strip() == theirs[f].strip()
    print(f"  {'same' if same else 'DIFF'}  {os.path.basename(f)}\n        wisp: {ours[f]['text'].strip()}"
          + ("" if same else f"\n        fw:   {theirs[f].strip()}"))
print(f"  WER wisp {ours_wer * 100:.2f}%  faster-whisper {fw_wer * 100:.2f}%  ({len(rows)} clips, tiny.en, beam 5)")
c.check(abs(ours_wer - fw_wer) <= 0.003, f"WER within 0.3 pp of faster-whisper ({ours_wer*100:.2f}% vs {fw_wer*100:.2f}%)")
c.check(ours_wer < 0.15, "WER below 15%")
c.finish()
