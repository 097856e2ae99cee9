"""Long form that keeps every word: the nine English clips placed in one file with short pauses (0.6-2 s), long
silences (12 and 15 s), every clip brought to the same speech level (-20 dBFS: as recorded they range from -14
to -64) and then three of them made 35 dB quieter than the others (a far-away speaker in a meeting):
common.make_long_form_mix. Because the test knows where each clip is, it checks for the batched mode
(--batch 8) and the VAD sequential mode (--vad), with tiny.en and base: with word timestamps, every word lies
inside the span of a clip (± 0.5 s), every clip is found in its own span (its words there have a WER below
50 %), nothing is repeated (the transcript has at most 10 % more words than the references); without them,
the long-form WER is within 2 points of the same clips' WER one by one (same model and beam size, the
sequential openai loop). The WER with word timestamps is printed too."""
import os
import tempfile

from common import AUDIO, MIX_ORDER as ORDER, MIX_QUIET as QUIET, MODELS, Checks, make_long_form_mix, manifest, \
    normalize, transcribe_json, word_errors

c = Checks("e2e long form mix")
MARGIN = 0.5
refs = {a: ref for a, lang, ref in manifest() if lang == "en"}
with tempfile.TemporaryDirectory() as tmp:
    mix = os.path.join(tmp, "mix.wav")
    spans = make_long_form_mix(mix)
    print(f"  mix: {spans[-1][2] + 1:.1f} s, clips at " + ", ".join(f"{s:.1f}" for _, s, _ in spans))
    clip_files = [os.path.join(AUDIO, a) for a in ORDER]
    total_ref_words = sum(len(normalize(refs[a]).split()) for a in ORDER)
    for model in ("tiny.en", "base"):
        mdir = os.path.join(MODELS, model)
        lang = ["-l", "en"]
        alone = transcribe_json(clip_files, tmp, "-m", mdir, *lang, "--batch", "0")
        e = n = 0
        for f, a in zip(clip_files, ORDER):
            ei, ni = word_errors(refs[a], alone[f]["text"])
            e, n = e + ei, n + ni
        clip_wer = e / n
        print(f"  {model}: clips one by one WER {clip_wer * 100:.1f}%")
        for mode in (["--batch", "8"], ["--vad"]):
            name = f"{model} {' '.join(mode)}"
            plain = transcribe_json([mix], tmp, "-m", mdir, *lang, *mode)[mix]
            errors, total = word_errors(" ".join(refs[a] for a in ORDER), plain["text"])
            lf_wer = errors / total
            c.check(lf_wer <= clip_wer + 0.02,
                    f"{name}: long-form WER {lf_wer * 100:.1f}% within 2 points of the clips' {clip_wer * 100:.1f}%")
            # With word timestamps (the next window then starts after the last word, so the text may differ).
            res = transcribe_json([mix], tmp, "-m", mdir, *lang, "--word-timestamps", *mode)[mix]
            segs = res["segments"]
            errors, total = word_errors(" ".join(refs[a] for a in ORDER), res["text"])
            print(f"  {name} --word-timestamps: long-form WER {errors / total * 100:.1f}%")
            # Each word belongs to the clip whose span (± MARGIN) holds it.
            per_clip = {a: [] for a in ORDER}
            stray = []
            for s in segs:
                for w in s["words"]:
                    owner = [a for a, t0, t1 in spans if t0 - MARGIN <= w["start"] and w["end"] <= t1 + MARGIN]
                    (per_clip[owner[0]] if owner else stray).append(w)
            c.check(not stray, f"{name}: every word inside a clip's span ± {MARGIN} s "
                               f"({[(w['word'], w['start'], w['end']) for w in stray[:3]]})")
            for a in ORDER:
                ce, cn = word_errors(refs[a], "".join(w["word"] for w in per_clip[a]))
                c.check(ce / cn < 0.5, f"{name}: {a}{' (-35 dB)' if a in QUIET else ''} found in its span "
                                       f"(WER of its words there {ce / cn * 100:.0f}%)")
            hyp_words = len(normalize(res["text"]).split())
            c.check(hyp_words <= 1.1 * total_ref_words,
                    f"{name}: nothing repeated ({hyp_words} words for {total_ref_words} in the references)")
            ordered = all(a["end"] <= b["start"] + 1e-6 for a, b in zip(segs, segs[1:])) and all(
                s["start"] <= s["end"] for s in segs)
            c.check(ordered, f"{name}: segments in time order, not overlapping")
c.finish()
