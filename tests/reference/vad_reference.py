#!/usr/bin/env python3
"""Oracle data for the VAD tests: faster-whisper's own Silero VAD (its ONNX model, silero_vad_v6.onnx, run by
onnxruntime) on every clip of SHARED/audio/manifest.tsv and on a long-form mix of them (tests/e2e/common.py's
make_long_form: every clip followed by 2 s of silence, twice over).

Writes into OUT (one set per input):
  <name>.audio.f32   the 16 kHz samples as faster-whisper decodes them (decode_audio): the C++ side runs its
                     VAD on exactly these
  <name>.probs.f32   faster_whisper.vad.get_vad_model()(audio padded as get_speech_timestamps pads it): one
                     speech probability per 512-sample window
  <name>.spans.json  get_speech_timestamps(audio, VadOptions(...)) for each option set in OPTION_SETS
  faster-whisper-silero-v6-ggml.bin
                     faster-whisper's ONNX weights in the ggml layout wisp reads (silero_onnx_to_ggml.py): wisp's
                     network on them must give faster-whisper's probabilities (the shipped v6.2.0 file holds
                     other weights)
  manifest.json      every input, written last

Nothing is redone when manifest.json is newer than this script and the audio.
"""

import argparse
import json
import os
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
from make_reference import write_f32, write_json  # noqa: E402
from silero_onnx_to_ggml import convert  # noqa: E402

WINDOW = 512
LONG_FORM = "long-form-mix.wav"
FW_GGML = "faster-whisper-silero-v6-ggml.bin"

# wisp's defaults first (the issue's: min speech 250 ms), then faster-whisper 1.2.1's own VadOptions() (min speech
# 0), then settings that make many short spans, the splitting of long spans, and a higher threshold.
OPTION_SETS = {
    "wisp_defaults": dict(threshold=0.5, min_speech_duration_ms=250, min_silence_duration_ms=2000, speech_pad_ms=400),
    "faster_whisper_defaults": dict(),
    "short_silences": dict(min_speech_duration_ms=100, min_silence_duration_ms=100, speech_pad_ms=30),
    "max_speech_3s": dict(max_speech_duration_s=3.0, min_silence_duration_ms=300, speech_pad_ms=100),
    "threshold_075": dict(threshold=0.75, min_silence_duration_ms=500, speech_pad_ms=200),
}


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--shared", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    from faster_whisper.audio import decode_audio
    from faster_whisper.utils import get_assets_path
    from faster_whisper.vad import VadOptions, get_speech_timestamps, get_vad_model

    from common import make_long_form

    audio_dir = os.path.join(args.shared, "audio")
    with open(os.path.join(audio_dir, "manifest.tsv"), encoding="utf-8") as f:
        rows = [line.rstrip("\n").split("\t") for line in f][1:]
    clips = [r[0] for r in rows]

    out = args.out
    os.makedirs(out, exist_ok=True)
    manifest_path = os.path.join(out, "manifest.json")
    inputs_mtime = max([os.path.getmtime(__file__)] + [os.path.getmtime(os.path.join(audio_dir, c)) for c in clips])
    if os.path.exists(manifest_path) and os.path.getmtime(manifest_path) > inputs_mtime:
        print("vad_reference: up to date (%s)" % manifest_path)
        return 0

    t0 = time.time()
    convert(os.path.join(get_assets_path(), "silero_vad_v6.onnx"), os.path.join(out, FW_GGML))
    model = get_vad_model()
    written = []
    with tempfile.TemporaryDirectory() as tmp:
        long_path = os.path.join(tmp, LONG_FORM)
        make_long_form([(os.path.join(audio_dir, c), "") for c in clips], long_path)
        for name, path in [(c, os.path.join(audio_dir, c)) for c in clips] + [(LONG_FORM, long_path)]:
            audio = decode_audio(path, sampling_rate=16000)
            padded = np.pad(audio, (0, WINDOW - audio.shape[0] % WINDOW))  # as get_speech_timestamps pads
            probs = np.asarray(model(padded), dtype=np.float32).reshape(-1)
            runs = []
            for key, kwargs in OPTION_SETS.items():
                options = VadOptions(**kwargs)
                spans = get_speech_timestamps(audio, options)
                o = vars(options).copy()
                if o["max_speech_duration_s"] == float("inf"):
                    o["max_speech_duration_s"] = None
                runs.append({"name": key, "options": o, "spans": [[int(s["start"]), int(s["end"])] for s in spans]})
            write_f32(os.path.join(out, name + ".audio.f32"), audio)
            write_f32(os.path.join(out, name + ".probs.f32"), probs)
            write_json(os.path.join(out, name + ".spans.json"), {"input": name, "n_samples": int(audio.shape[0]),
                                                                   "runs": runs})
            written.append(name)
            print("  %-22s %7.2f s, %5d windows, %d spans (wisp defaults)"
                  % (name, audio.shape[0] / 16000, probs.shape[0], len(runs[0]["spans"])))
    write_json(manifest_path, {"inputs": written, "window": WINDOW, "faster_whisper_ggml": FW_GGML,
                               "model": "faster_whisper/assets/silero_vad_v6.onnx (onnxruntime, 1 thread)"})
    print("vad_reference: %d inputs in %.1f s" % (len(written), time.time() - t0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
