#!/usr/bin/env python3
"""wisp vs faster-whisper on the same audio, weights, threads, beam size and temperature fallback.

    bench/compare_faster_whisper.py [--model models/tiny.en] [--threads 2] [--beam-size 5] [--rounds 3]
                                    [--compute-type auto] [--fw-compute-types int8,float32]
                                    [--modes sequential] [--fw-modes sequential] [--batch-size 8]
                                    [--files all|clips|long|mix]

Input: the English clips of ../shared/audio, and long-form files made of them: `long` joins them all with 2 s of
silence (twice over, ~170 s, as recorded: some FLEURS clips sit 40 dB below the others), `mix` is the test mix
(common.make_long_form_mix: one speech level, three clips 35 dB quieter, pauses and long silences, ~103 s).
Modes, for either engine: `sequential` (the openai loop), `vad` (faster-whisper's vad_filter; wisp --vad),
`batch` (wisp --batch N; faster-whisper's BatchedInferencePipeline with batch_size N).

Each round runs every engine once, in turn (A B C A B C ...), so machine noise hits all of them; an engine's
time is the sum over the files of transcription wall time with model load excluded (wisp: its own per-file
total from --timings, or, for several files in the batched mode, which wisp transcribes at once, the process's
wall time less the model load; faster-whisper: transcribe() plus consuming the segments). Prints realtime factors
(audio seconds / wall seconds, medians over rounds), the speed ratio of each wisp mode to each faster-whisper
engine, WERs (normalised: lower-case, no punctuation) for the clips and the long-form files, and model load
times. --beam-size 1 is greedy; --word-timestamps times words on both sides. Every file is English (-l en on
both sides: no language detection). Needs faster-whisper (tests/requirements.txt).
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
from common import AUDIO, MIX_ORDER, make_long_form, make_long_form_mix, manifest, wer  # noqa: E402

MODES = ("sequential", "vad", "batch")


def mode_flags(mode, batch):
    return {"sequential": ["--batch", "0"], "vad": ["--vad"], "batch": ["--batch", str(batch)]}[mode]


def run_wisp(wisp, model, files, threads, beam, compute, flags, out_dir):
    t0 = time.perf_counter()
    p = subprocess.run([wisp, "transcribe", "-q", "--timings", "-f", "json", "-o", out_dir, "-m", model, "-t",
                        str(threads), "--beam-size", str(beam), "--compute-type", compute, "-l", "en", *flags,
                        *files],
                       capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"wisp failed: {p.stderr}")
    timings = [json.loads(line.split(" ", 1)[1]) for line in p.stderr.splitlines() if line.startswith("wisp-timings ")]
    texts = {}
    for f in files:
        with open(os.path.join(out_dir, os.path.splitext(os.path.basename(f))[0] + ".json"), encoding="utf-8") as fh:
            texts[f] = json.load(fh)["text"]
    load = timings[0]["load_ms"] / 1000.0
    if len(files) > 1 and "--batch" in flags and flags[flags.index("--batch") + 1] != "0":
        # Several files in the batched mode run at once (their times overlap): the process's wall time, less
        # the model load (process start-up and exit count against wisp).
        return time.perf_counter() - t0 - load, load, texts
    return sum(t["total_ms"] for t in timings) / 1000.0, load, texts


def run_fw(model, files, beam, mode, batch, words):
    seconds, texts = 0.0, {}
    for f in files:
        t0 = time.perf_counter()
        if mode == "batch":
            segments, _ = model.transcribe(f, beam_size=beam, batch_size=batch, word_timestamps=words, language="en")
        else:
            segments, _ = model.transcribe(f, beam_size=beam, vad_filter=mode == "vad", word_timestamps=words,
                                           language="en")
        texts[f] = "".join(s.text for s in segments)
        seconds += time.perf_counter() - t0
    return seconds, texts


def modes(text):
    out = [m for m in text.split(",") if m]
    for m in out:
        if m not in MODES:
            sys.exit(f"unknown mode {m!r} (one of {', '.join(MODES)})")
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=os.path.join(HERE, "..", "models", "tiny.en"))
    ap.add_argument("--wisp", default=os.path.join(HERE, "..", "build", "wisp"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--beam-size", type=int, default=5, help="1 = greedy")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--compute-type", default="auto", help="wisp's compute type (auto, float32, bfloat16, int8)")
    ap.add_argument("--fw-compute-types", default="int8,float32", help="faster-whisper compute types to compare")
    ap.add_argument("--modes", default="sequential", help="wisp modes: sequential, vad, batch (comma-separated)")
    ap.add_argument("--fw-modes", default="sequential", help="faster-whisper modes, as --modes")
    ap.add_argument("--batch-size", type=int, default=8, help="windows in flight in the batch modes")
    ap.add_argument("--files", default="all", choices=["all", "clips", "long", "mix"])
    ap.add_argument("--word-timestamps", action="store_true", help="both engines time every word too")
    args = ap.parse_args()

    from faster_whisper import BatchedInferencePipeline, WhisperModel
    from faster_whisper.audio import decode_audio

    rows = [(os.path.join(AUDIO, a), ref) for a, lang, ref in manifest() if lang == "en"]
    with tempfile.TemporaryDirectory() as tmp:
        long_wav, mix_wav = os.path.join(tmp, "long_form.wav"), os.path.join(tmp, "long_form_mix.wav")
        refs = {f: ref for f, ref in rows}
        if args.files in ("all", "long"):
            refs[long_wav] = make_long_form(rows, long_wav)
        if args.files == "mix":
            make_long_form_mix(mix_wav)
            by_clip = {os.path.basename(f): ref for f, ref in rows}
            refs[mix_wav] = " ".join(by_clip[a] for a in MIX_ORDER)
        files = {"all": [f for f, _ in rows] + [long_wav], "clips": [f for f, _ in rows], "long": [long_wav],
                 "mix": [mix_wav]}[args.files]
        audio_s = sum(len(decode_audio(f)) / 16000.0 for f in files)

        engines = [(f"wisp {args.compute_type} {m}", "wisp", m, None) for m in modes(args.modes)]
        loads = {}
        for ct in [c for c in args.fw_compute_types.split(",") if c]:
            t0 = time.perf_counter()
            fw = WhisperModel(args.model, device="cpu", compute_type=ct, cpu_threads=args.threads)
            load = time.perf_counter() - t0
            for m in modes(args.fw_modes):
                name = f"faster-whisper {ct} {m}"
                model = BatchedInferencePipeline(model=fw) if m == "batch" else fw
                loads[name] = load
                run_fw(model, files[:1], args.beam_size, m, args.batch_size, args.word_timestamps)  # warm-up
                engines.append((name, "fw", m, model))

        times = {e[0]: [] for e in engines}
        texts = {}
        for r in range(args.rounds):
            line = []
            for name, kind, mode, model in engines:
                if kind == "wisp":
                    flags = mode_flags(mode, args.batch_size) + (["--word-timestamps"] if args.word_timestamps else [])
                    s, loads[name], texts[name] = run_wisp(args.wisp, args.model, files, args.threads, args.beam_size,
                                                           args.compute_type, flags, tmp)
                else:
                    s, texts[name] = run_fw(model, files, args.beam_size, mode, args.batch_size, args.word_timestamps)
                times[name].append(s)
                line.append(f"{name} {s:.2f} s")
            print(f"round {r + 1}: " + ", ".join(line), flush=True)

    rtf = {e[0]: audio_s / statistics.median(times[e[0]]) for e in engines}
    clips = [f for f in files if f in dict(rows)]
    longs = [f for f in files if f not in dict(rows)]
    print(f"\n{len(files)} file(s), {audio_s:.1f} s of audio; model {os.path.basename(os.path.normpath(args.model))}, "
          f"{args.threads} threads, {'greedy' if args.beam_size == 1 else f'beam {args.beam_size}'}, "
          f"fallback 0.0-1.0, batch {args.batch_size}{', word timestamps' if args.word_timestamps else ''}; "
          f"medians of {args.rounds} rounds, engines in turn")
    print("| engine                           | realtime factor | WER, clips | WER, long form | model load |")
    print("|----------------------------------|-----------------|------------|----------------|------------|")
    for name, *_ in engines:
        w_clips = f"{wer([(refs[f], texts[name][f]) for f in clips]) * 100:9.2f}%" if clips else "          -"
        w_long = f"{wer([(refs[f], texts[name][f]) for f in longs]) * 100:13.2f}%" if longs else "             -"
        print(f"| {name:32} | {rtf[name]:14.1f}x | {w_clips} | {w_long} | {loads[name]:8.2f} s |")
    fws = [e[0] for e in engines if e[1] == "fw"]
    if fws:
        print("\nspeed ratio (wisp mode / faster-whisper engine):")
        print("| wisp \\ faster-whisper | " + " | ".join(f"{n[len('faster-whisper '):]:>14}" for n in fws) + " |")
        print("|---|" + "---|" * len(fws))
        for name, kind, *_ in engines:
            if kind == "wisp":
                print(f"| {name[len('wisp '):]:21} | " + " | ".join(f"{rtf[name] / rtf[n]:14.2f}" for n in fws) + " |")


if __name__ == "__main__":
    main()
