"""Word error rate on every English clip with tiny.en: ours within 0.3 percentage points of faster-whisper's
on the same weights, same beam size (5) and temperature fallback, in float32 against its float32 and in int8
against its int8; and our int8 and bfloat16 within 0.5 points of our float32. The sequential openai loop
(--batch 0), as faster-whisper's transcribe() runs it."""
import os
import tempfile

from common import AUDIO, MODELS, Checks, manifest, transcribe_json, wer

c = Checks("e2e wer")
rows = [(os.path.join(AUDIO, a), ref) for a, lang, ref in manifest() if lang == "en"]
files = [f for f, _ in rows]

from faster_whisper import WhisperModel  # noqa: E402  (the peer, from tests/requirements.txt)

results = {}
for compute in ("float32", "int8", "bfloat16"):
    with tempfile.TemporaryDirectory() as out:
        ours = transcribe_json(files, out, "-m", os.path.join(MODELS, "tiny.en"), "--beam-size", "5",
                               "--batch", "0", "--compute-type", compute)
    ours_wer = wer([(ref, ours[f]["text"]) for f, ref in rows])
    results[compute] = ours_wer
    if compute == "bfloat16":  # faster-whisper has no bfloat16 on most CPUs
        print(f"  WER wisp bfloat16 {ours_wer * 100:.2f}%")
        continue
    fw = WhisperModel(os.path.join(MODELS, "tiny.en"), device="cpu", compute_type=compute, cpu_threads=2)
    theirs = {}
    for f, _ in rows:
        segments, _ = fw.transcribe(f, beam_size=5)
        theirs[f] = "".join(s.text for s in segments)
    fw_wer = wer([(ref, theirs[f]) for f, ref in rows])
    identical = 0
    for f, ref in rows:
        same = ours[f]["text"].strip() == theirs[f].strip()
        identical += same
        print(f"  {'same' if same else 'DIFF'}  {os.path.basename(f)}\n        wisp: {ours[f]['text'].strip()}"
              + ("" if same else f"\n        fw:   {theirs[f].strip()}"))
    print(f"  {compute}: WER wisp {ours_wer * 100:.2f}%  faster-whisper {fw_wer * 100:.2f}%  ({len(rows)} clips, "
          f"tiny.en, beam 5, {identical} identical transcripts)")
    c.check(abs(ours_wer - fw_wer) <= 0.003,
            f"{compute}: WER within 0.3 pp of faster-whisper ({ours_wer*100:.2f}% vs {fw_wer*100:.2f}%)")
    c.check(ours_wer < 0.15, f"{compute}: WER below 15%")
for compute in ("int8", "bfloat16"):
    c.check(results[compute] <= results["float32"] + 0.005,
            f"{compute} WER within 0.5 pp of float32 ({results[compute]*100:.2f}% vs {results['float32']*100:.2f}%)")
c.finish()
