#!/usr/bin/env python3
"""wisp vs faster-whisper on the same audio, weights, threads, beam size and temperature fallback.

    bench/compare_faster_whisper.py [--model models/tiny.en] [--threads 2] [--beam-size 5] [--rounds 3]
                                    [--compute-type auto] [--fw-compute-types int8,float32] [--files all|clips|long]

Input: the English clips of ../shared/audio, and one long-form file made of them all joined with 2 s of
silence (twice over, ~170 s). Each round runs every engine once, in turn (A B C A B C ...), so machine noise
hits all of them; an engine's time is the sum over the files of transcription wall time with model load
excluded (wisp: its own per-file total from --timings; faster-whisper: transcribe() plus consuming the
segments). Prints realtime factors (audio seconds / wall seconds, medians over rounds), wisp's speed ratio
to each faster-whisper compute type, WERs (normalised: lower-case, no punctuation) for the clips and the
long-form file, and model load times. --beam-size 1 is greedy. Needs faster-whisper (tests/requirements.txt).
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


def run_wisp(wisp, model, files, threads, beam, compute, out_dir):
    p = subprocess.run([wisp, "transcribe", "-q", "--timings", "-f", "json", "-o", out_dir, "-m", model, "-t",
                        str(threads), "--beam-size", str(beam), "--compute-type", compute, *files],
                       capture_output=True, text=True)
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
    ap.add_argument("--beam-size", type=int, default=5, help="1 = greedy")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--compute-type", default="auto", help="wisp's compute type (auto, float32, bfloat16, int8)")
    ap.add_argument("--fw-compute-types", default="int8,float32", help="faster-whisper compute types to compare")
    ap.add_argument("--files", default="all", choices=["all", "clips", "long"])
    args = ap.parse_args()

    from faster_whisper import WhisperModel
    from faster_whisper.audio import decode_audio

    rows = [(os.path.join(AUDIO, a), ref) for a, lang, ref in manifest() if lang == "en"]
    with tempfile.TemporaryDirectory() as tmp:
        long_wav = os.path.join(tmp, "long_form.wav")
        refs = {f: ref for f, ref in rows}
        refs[long_wav] = make_long_form(rows, long_wav)
        files = {"all": [f for f, _ in rows] + [long_wav], "clips": [f for f, _ in rows], "long": [long_wav]}[args.files]
        audio_s = sum(len(decode_audio(f)) / 16000.0 for f in files)

        engines = [("wisp " + args.compute_type, None)]
        loads = {}
        for ct in [c for c in args.fw_compute_types.split(",") if c]:
            t0 = time.perf_counter()
            fw = WhisperModel(args.model, device="cpu", compute_type=ct, cpu_threads=args.threads)
            loads["faster-whisper " + ct] = time.perf_counter() - t0
            run_fw(fw, files[:1], args.beam_size)  # warm-up
            engines.append(("faster-whisper " + ct, fw))

        times = {name: [] for name, _ in engines}
        texts = {}
        for r in range(args.rounds):
            line = []
            for name, fw in engines:
                if fw is None:
                    s, loads[name], texts[name] = run_wisp(args.wisp, args.model, files, args.threads, args.beam_size,
                                                           args.compute_type, tmp)
                else:
                    s, texts[name] = run_fw(fw, files, args.beam_size)
                times[name].append(s)
                line.append(f"{name} {s:.2f} s")
            print(f"round {r + 1}: " + ", ".join(line), flush=True)

    rtf = {name: audio_s / statistics.median(times[name]) for name, _ in engines}
    clips = [f for f in files if f != long_wav]
    longs = [f for f in files if f == long_wav]
    print(f"\n{len(files)} file(s), {audio_s:.1f} s of audio; model {os.path.basename(os.path.normpath(args.model))}, "
          f"{args.threads} threads, {'greedy' if args.beam_size == 1 else f'beam {args.beam_size}'}, "
          f"fallback 0.0-1.0; medians of {args.rounds} rounds, engines in turn")
    print("| engine                  | realtime factor | wisp speed ratio | WER, clips | WER, long form | model load |")
    print("|-------------------------|-----------------|------------------|------------|----------------|------------|")
    wisp_name = engines[0][0]
    for name, _ in engines:
        w_clips = f"{wer([(refs[f], texts[name][f]) for f in clips]) * 100:9.2f}%" if clips else "          -"
        w_long = f"{wer([(refs[f], texts[name][f]) for f in longs]) * 100:13.2f}%" if longs else "             -"
        ratio = "" if name == wisp_name else f"{rtf[wisp_name] / rtf[name]:.2f}"
        print(f"| {name:23} | {rtf[name]:14.1f}x | {ratio:>16} | {w_clips} | {w_long} | {loads[name]:8.2f} s |")
    for name, _ in engines[1:]:
        same = sum(texts[wisp_name][f].strip() == texts[name][f].strip() for f in files)
        print(f"identical transcripts with {name}: {same}/{len(files)}")


if __name__ == "__main__":
    main()
