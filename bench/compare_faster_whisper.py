#!/usr/bin/env python3
"""wisp vs faster-whisper on the same audio, weights, threads, beam size and temperature fallback.

    bench/compare_faster_whisper.py [--model models/tiny.en] [--threads 2] [--beam-size 5] [--rounds 3]

Input: the English clips of ../shared/audio, and one long-form file made of them all joined with 2 s of
silence (twice over). Runs alternate wisp, faster-whisper, wisp, faster-whisper ... (A B A B) so machine noise
hits both; each side's time is the sum over the files of transcription wall time with model load excluded
(wisp: its own per-file total from --timings; faster-whisper: transcribe() plus consuming the segments).
Prints both realtime factors (audio seconds / wall seconds, medians over rounds), their ratio, both WERs
(normalised: lower-case, no punctuation) and model load times. Needs faster-whisper (tests/requirements.txt).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))
from common import AUDIO, make_long_form, manifest, wer  # noqa: E402


def run_wisp(wisp, model, files, threads, beam, out_dir):
    p = subprocess.run([wisp, "transcribe", "-q", "--timings", "-f", "json", "-o", out_dir, "-m", model, "-t",
                        str(threads), "--beam-size", str(beam), *files], capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"wisp failed: {p.stderr}")
    timings = [json.loads(line.split(" ", 1)[1]) for line in p.stderr.splitlines() if line.startswith("wisp-timings ")]
    texts = {}
    for f in files:
        with open(os.path.join(out_dir, os.path.splitext(os.path.basename(f))[0] + ".json"), encoding="utf-8") as fh:
            texts[f] = json.load(fh)["text"]
    return sum(t["total_ms"] for t in timings) / 1000.0, timings[0]["load_ms"] / 1000.0, texts


def run_fw(model, files, beam):
    seconds, texts = 0.0, {}
    for f in files:
        t0 = time.perf_counter()
        segments, _ = model.transcribe(f, beam_size=beam)
        texts[f] = "".join(s.text for s in segments)
        seconds += time.perf_counter() - t0
    return seconds, texts


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=os.path.join(HERE, "..", "models", "tiny.en"))
    ap.add_argument("--wisp", default=os.path.join(HERE, "..", "build", "wisp"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--beam-size", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--compute-type", default="float32", help="faster-whisper compute type (wisp computes in fp32)")
    args = ap.parse_args()

    from faster_whisper import WhisperModel
    from faster_whisper.audio import decode_audio

    rows = [(os.path.join(AUDIO, a), ref) for a, lang, ref in manifest() if lang == "en"]
    with tempfile.TemporaryDirectory() as tmp:
        long_wav = os.path.join(tmp, "long_form.wav")
        refs = {f: ref for f, ref in rows}
        refs[long_wav] = make_long_form(rows, long_wav)
        files = [f for f, _ in rows] + [long_wav]
        audio_s = sum(len(decode_audio(f)) / 16000.0 for f in files)

        t0 = time.perf_counter()
        fw = WhisperModel(args.model, device="cpu", compute_type=args.compute_type, cpu_threads=args.threads)
        fw_load = time.perf_counter() - t0
        run_fw(fw, files[:1], args.beam_size)  # warm-up

        ours, theirs = [], []
        for r in range(args.rounds):
            s, wisp_load, wisp_texts = run_wisp(args.wisp, args.model, files, args.threads, args.beam_size, tmp)
            ours.append(s)
            s, fw_texts = run_fw(fw, files, args.beam_size)
            theirs.append(s)
            print(f"round {r + 1}: wisp {ours[-1]:.2f} s, faster-whisper {theirs[-1]:.2f} s", flush=True)

    ours_rtf = audio_s / statistics.median(ours)
    fw_rtf = audio_s / statistics.median(theirs)
    clips, long_form = files[:-1], files[-1:]
    ours_wer = [wer([(refs[f], wisp_texts[f]) for f in fs]) for fs in (clips, long_form)]
    fw_wer = [wer([(refs[f], fw_texts[f]) for f in fs]) for fs in (clips, long_form)]
    same = sum(wisp_texts[f].strip() == fw_texts[f].strip() for f in files)
    print(f"\n{len(files)} files, {audio_s:.1f} s of audio; model {os.path.basename(os.path.normpath(args.model))}, "
          f"{args.threads} threads, beam {args.beam_size}, fallback 0.0-1.0; faster-whisper compute {args.compute_type}")
    print("| engine         | realtime factor | WER, 9 clips | WER, long form | model load |")
    print("|----------------|-----------------|--------------|----------------|------------|")
    for name, rtf, w, load in (("wisp", ours_rtf, ours_wer, wisp_load), ("faster-whisper", fw_rtf, fw_wer, fw_load)):
        print(f"| {name:14} | {rtf:14.1f}x | {w[0] * 100:11.2f}% | {w[1] * 100:13.2f}% | {load:8.2f} s |")
    print(f"speed ratio wisp / faster-whisper: {ours_rtf / fw_rtf:.2f} (medians of {args.rounds} rounds, A B A B)")
    print(f"identical transcripts: {same}/{len(files)}")
    for f in files:
        if wisp_texts[f].strip() != fw_texts[f].strip():
            print(f"  differs: {os.path.basename(f)}\n    wisp:           {wisp_texts[f].strip()}\n"
                  f"    faster-whisper: {fw_texts[f].strip()}")


if __name__ == "__main__":
    main()
