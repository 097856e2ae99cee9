"""Long-form audio (all clips joined with silence, > 90 s) in the sequential openai loop (--batch 0): monotonic,
non-overlapping timestamps, no repeated-phrase loops, segments covering the audio, and a word error rate no worse
than faster-whisper's on the same file and weights in float32 (the openai algorithm, exactly). (tiny.en drops
some of the quiet FLEURS clips in this mix; faster-whisper drops the same.) int8's long-form WER is reported
beside it: which quiet clips survive moves with small numeric differences in both engines (the batched mode,
the CLI's default, keeps them all: see test_long_form_mix.py)."""
import os
import tempfile

from common import AUDIO, MODELS, Checks, make_long_form, manifest, normalize, transcribe_json, word_errors

c = Checks("e2e long form")
rows = [(os.path.join(AUDIO, a), ref) for a, lang, ref in manifest() if lang == "en"]

with tempfile.TemporaryDirectory() as tmp:
    long_wav = os.path.join(tmp, "long.wav")
    reference = make_long_form(rows, long_wav)
    res = transcribe_json([long_wav], tmp, "-m", os.path.join(MODELS, "tiny.en"), "--compute-type", "float32",
                          "--batch", "0")[long_wav]
    res_int8 = transcribe_json([long_wav], tmp, "-m", os.path.join(MODELS, "tiny.en"), "--compute-type", "int8",
                               "--batch", "0")[long_wav]
    from faster_whisper import WhisperModel  # the peer, from tests/requirements.txt

    fw = WhisperModel(os.path.join(MODELS, "tiny.en"), device="cpu", compute_type="float32", cpu_threads=2)
    fw_text = "".join(s.text for s in fw.transcribe(long_wav, beam_size=5)[0])

duration = res["duration"]
segs = res["segments"]
print(f"  {duration:.1f} s of audio, {len(segs)} segments")
c.check(duration >= 90, f"input is at least 90 s ({duration:.1f})")
c.check(len(segs) >= 10, "many segments")
ok_order = all(s["start"] <= s["end"] for s in segs) and all(a["end"] <= b["start"] + 1e-6 for a, b in zip(segs, segs[1:]))
c.check(ok_order, "timestamps monotonic and non-overlapping")
c.check(segs[-1]["end"] <= duration + 1.0, f"last segment ends within the audio ({segs[-1]['end']:.1f})")
c.check(segs[-1]["end"] >= duration - 10, "segments reach the end of the audio")

# Loops: no phrase of 4+ words repeated 3 times in a row, and no segment text repeated 3 times in a row.
words = normalize(res["text"]).split()
loop = any(words[i:i + k] == words[i + k:i + 2 * k] == words[i + 2 * k:i + 3 * k]
           for k in range(4, 12) for i in range(len(words) - 3 * k))
c.check(not loop, "no repeated-phrase loops")
texts = [s["text"].strip() for s in segs]
c.check(not any(texts[i] == texts[i + 1] == texts[i + 2] for i in range(len(texts) - 2)), "no repeated segments")

errors, total = word_errors(reference, res["text"])
fw_errors, _ = word_errors(reference, fw_text)
c.check(errors <= fw_errors * 1.05 + 2, f"long-form WER {errors / total * 100:.1f}% ({errors}/{total} words), "
                                        f"faster-whisper {fw_errors / total * 100:.1f}%")
int8_errors, _ = word_errors(reference, res_int8["text"])
int8_segs = res_int8["segments"]
c.check(all(a["end"] <= b["start"] + 1e-6 for a, b in zip(int8_segs, int8_segs[1:])), "int8: timestamps monotonic")
c.check(int8_errors / total < 0.6, f"int8 long-form WER {int8_errors / total * 100:.1f}% (below 60%)")
c.finish()
