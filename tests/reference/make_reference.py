#!/usr/bin/env python3
"""Oracle data for the unit tests, from the Python reference implementations.

For every English clip in SHARED/audio/manifest.tsv, and for fleurs-de-000.ogg, writes into OUT:

  <clip>.audio.f32           16 kHz mono float audio as faster-whisper decodes it (decode_audio), shape (n,)
  <clip>.mel.f32             log-mel (80, 3000): an independent numpy transcription of openai/whisper's
                             audio.py log_mel_spectrogram on the audio padded with 480000 zeros (as
                             transcribe() calls it), first 3000 frames
  <clip>.window.f32          (extra) the first 30 s window exactly as transcribe() feeds it to the encoder,
                             in both openai/whisper and faster-whisper: mel[:, :content_frames] padded
                             with 0.0 (in log-mel space) up to 3000 frames; content_frames = n // 160
  English clips only, tiny.en (CTranslate2, cpu, float32):
  <clip>.enc.tiny.en.f32     encoder output on <clip>.mel.f32, shape (1, 1500, 384)
  <clip>.greedy.tiny.en.json greedy generate() on that encoder output, prompt [sot] (timestamps) and
                             [sot, no_timestamps]
  jfk.wav and fleurs-de-000.ogg, base (multilingual):
  <clip>.lang.base.json      detect_language() on <clip>.mel.f32 (and on <clip>.window.f32)
  manifest.json              every file written, with shapes; written last

.f32 format: b"WREF", uint32 rank, rank x int64 dims, float32 little-endian data in C order.

If manifest.json exists, lists files that all exist, and is newer than this script, the models and
the audio, nothing is redone.
"""

import argparse
import json
import os
import struct
import sys
import time

import numpy as np

SAMPLE_RATE = 16000
N_FFT = 400
HOP_LENGTH = 160
N_MELS = 80
N_SAMPLES = 30 * SAMPLE_RATE  # 480000
N_FRAMES = N_SAMPLES // HOP_LENGTH  # 3000

TINY = "tiny.en"
BASE = "base"
LANG_CLIPS = ["jfk.wav", "fleurs-de-000.ogg"]
EXTRA_CLIPS = ["fleurs-de-000.ogg"]  # besides every English clip

# tiny.en special tokens (English-only vocabulary).
TINY_SOT = 50257
TINY_NO_TIMESTAMPS = 50362

MANIFEST = "manifest.json"


# ---------------------------------------------------------------------------------------------
# .f32 files


def write_f32(path, array):
    array = np.ascontiguousarray(array, dtype="<f4")
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(b"WREF")
        f.write(struct.pack("<I", array.ndim))
        f.write(struct.pack("<%dq" % array.ndim, *array.shape))
        f.write(array.tobytes(order="C"))
    os.replace(tmp, path)


def read_f32(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"WREF":
        raise ValueError("%s: bad magic" % path)
    (rank,) = struct.unpack_from("<I", data, 4)
    shape = struct.unpack_from("<%dq" % rank, data, 8)
    return np.frombuffer(data, dtype="<f4", offset=8 + 8 * rank).reshape(shape)


def write_json(path, obj):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=1, ensure_ascii=False)
        f.write("\n")
    os.replace(tmp, path)


# ---------------------------------------------------------------------------------------------
# log-mel, after openai/whisper audio.py, in float64 numpy


def hz_to_mel_slaney(f):
    f = np.asanyarray(f, dtype=np.float64)
    f_sp = 200.0 / 3
    mels = f / f_sp
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = np.log(6.4) / 27.0
    return np.where(f >= min_log_hz, min_log_mel + np.log(np.maximum(f, 1e-300) / min_log_hz) / logstep, mels)


def mel_to_hz_slaney(m):
    m = np.asanyarray(m, dtype=np.float64)
    f_sp = 200.0 / 3
    freqs = f_sp * m
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = np.log(6.4) / 27.0
    return np.where(m >= min_log_mel, min_log_hz * np.exp(logstep * (m - min_log_mel)), freqs)


def mel_filters(sr=SAMPLE_RATE, n_fft=N_FFT, n_mels=N_MELS):
    """librosa.filters.mel(sr, n_fft, n_mels, fmin=0, fmax=sr/2, htk=False, norm="slaney")."""
    fftfreqs = np.fft.rfftfreq(n=n_fft, d=1.0 / sr)
    mels = np.linspace(hz_to_mel_slaney(0.0), hz_to_mel_slaney(sr / 2.0), n_mels + 2)
    mel_f = mel_to_hz_slaney(mels)
    fdiff = np.diff(mel_f)
    ramps = np.subtract.outer(mel_f, fftfreqs)
    weights = np.zeros((n_mels, len(fftfreqs)), dtype=np.float64)
    for i in range(n_mels):
        lower = -ramps[i] / fdiff[i]
        upper = ramps[i + 2] / fdiff[i + 1]
        weights[i] = np.maximum(0.0, np.minimum(lower, upper))
    enorm = 2.0 / (mel_f[2 : n_mels + 2] - mel_f[:n_mels])
    weights *= enorm[:, None]
    return weights


def log_mel_spectrogram(audio, filters, padding=N_SAMPLES):
    """openai/whisper log_mel_spectrogram(audio, padding=padding), all frames."""
    x = np.asarray(audio, dtype=np.float64)
    if padding > 0:
        x = np.pad(x, (0, padding))
    # torch.stft(center=True, pad_mode="reflect", window=hann_window(400) (periodic)).
    x = np.pad(x, (N_FFT // 2, N_FFT // 2), mode="reflect")
    n_frames = 1 + (len(x) - N_FFT) // HOP_LENGTH
    frames = np.lib.stride_tricks.as_strided(
        x, shape=(n_frames, N_FFT), strides=(x.strides[0] * HOP_LENGTH, x.strides[0]), writeable=False
    )
    window = 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(N_FFT) / N_FFT)
    spec = np.fft.rfft(frames * window, axis=-1)  # (n_frames, 201)
    power = (spec.real**2 + spec.imag**2)[:-1].T  # drop the last frame -> (201, n_frames - 1)
    mel = filters @ power
    log_spec = np.log10(np.maximum(mel, 1e-10))
    log_spec = np.maximum(log_spec, log_spec.max() - 8.0)
    return (log_spec + 4.0) / 4.0


def first_window(mel_all, n_samples):
    """transcribe()'s first window: mel[:, :min(3000, content_frames)], zero-padded to 3000 frames."""
    content_frames = mel_all.shape[-1] - N_FRAMES  # == n_samples // HOP_LENGTH
    assert content_frames == n_samples // HOP_LENGTH, (content_frames, n_samples)
    size = min(N_FRAMES, content_frames)
    window = np.zeros((mel_all.shape[0], N_FRAMES), dtype=np.float64)
    window[:, :size] = mel_all[:, :size]
    return window, content_frames


def ggml_mel_filters(path):
    """The mel filters stored in a whisper.cpp ggml model file (None if not readable)."""
    try:
        with open(path, "rb") as f:
            head = f.read(4 + 11 * 4 + 8)
            (magic,) = struct.unpack_from("<I", head, 0)
            if magic != 0x67676D6C:
                return None
            n_mel, n_fft = struct.unpack_from("<ii", head, 4 + 11 * 4)
            data = np.frombuffer(f.read(4 * n_mel * n_fft), dtype="<f4")
            return data.reshape(n_mel, n_fft)
    except (OSError, ValueError, struct.error):
        return None


# ---------------------------------------------------------------------------------------------


def parse_manifest(shared):
    clips = []
    with open(os.path.join(shared, "audio", "manifest.tsv"), encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        i_audio, i_lang = header.index("audio"), header.index("language")
        for line in f:
            cols = line.rstrip("\n").split("\t")
            if len(cols) <= max(i_audio, i_lang) or not cols[i_audio]:
                continue
            clips.append((cols[i_audio], cols[i_lang]))
    return clips


def up_to_date(out, inputs):
    path = os.path.join(out, MANIFEST)
    try:
        with open(path, encoding="utf-8") as f:
            manifest = json.load(f)
        files = [os.path.join(out, name) for name in manifest["files"]]
        if not files:
            return False
        oldest = min(os.path.getmtime(p) for p in files + [path])
        newest_input = max(os.path.getmtime(p) for p in inputs)
        return oldest > newest_input
    except (OSError, ValueError, KeyError, TypeError):
        return False


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", required=True, help="the shared/ folder (audio/manifest.tsv and the clips)")
    ap.add_argument("--models", required=True, help="folder with the tiny.en and base CTranslate2 models")
    ap.add_argument("--out", required=True, help="output folder (created)")
    ap.add_argument("--threads", type=int, default=2, help="CTranslate2 intra_threads")
    ap.add_argument("--force", action="store_true", help="redo everything")
    args = ap.parse_args()

    t0 = time.time()
    out = args.out
    os.makedirs(out, exist_ok=True)
    audio_dir = os.path.join(args.shared, "audio")
    all_clips = parse_manifest(args.shared)
    english = [name for name, lang in all_clips if lang == "en"]
    clips = english + [c for c in EXTRA_CLIPS if c not in english]
    tiny_dir = os.path.join(args.models, TINY)
    base_dir = os.path.join(args.models, BASE)

    inputs = [os.path.abspath(__file__), os.path.join(audio_dir, "manifest.tsv")]
    inputs += [os.path.join(audio_dir, c) for c in clips]
    inputs += [os.path.join(d, "model.bin") for d in (tiny_dir, base_dir)]
    missing = [p for p in inputs if not os.path.exists(p)]
    if missing:
        print("make_reference: missing inputs:\n  " + "\n  ".join(missing), file=sys.stderr)
        return 1
    if not args.force and up_to_date(out, inputs):
        print("make_reference: %s is up to date, nothing to do" % out)
        return 0

    # Imported late so that the up-to-date path stays fast.
    import ctranslate2
    import faster_whisper
    import tokenizers
    from faster_whisper.audio import pad_or_trim
    from faster_whisper.feature_extractor import FeatureExtractor

    print(
        "make_reference: faster-whisper %s, ctranslate2 %s, numpy %s -> %s"
        % (faster_whisper.__version__, ctranslate2.__version__, np.__version__, out)
    )
    manifest = {
        "format": "WREF: magic, uint32 rank, int64 dims[rank], float32 LE data (C order)",
        "versions": {
            "faster_whisper": faster_whisper.__version__,
            "ctranslate2": ctranslate2.__version__,
            "numpy": np.__version__,
        },
        "clips": {},
        "files": {},
    }

    def record(clip, name, info):
        manifest["files"][name] = info
        manifest["clips"].setdefault(clip, []).append(name)

    # Mel filters, checked against whisper.cpp's copy of openai's filters where available.
    filters = mel_filters()
    ggml = ggml_mel_filters(os.path.join(args.shared, "models", "for-tests-ggml-tiny.en.bin"))
    if ggml is not None and ggml.shape == filters.shape:
        print("  mel filters: max |numpy - whisper.cpp| = %.3g" % np.abs(filters - ggml).max())
    fw_fe = FeatureExtractor(feature_size=N_MELS)
    print("  mel filters: max |numpy - faster-whisper| = %.3g" % np.abs(filters - fw_fe.mel_filters).max())

    tiny = ctranslate2.models.Whisper(tiny_dir, device="cpu", compute_type="float32", intra_threads=args.threads)
    tiny_tok = tokenizers.Tokenizer.from_file(os.path.join(tiny_dir, "tokenizer.json"))
    eot = tiny_tok.token_to_id("<|endoftext|>")
    assert tiny_tok.token_to_id("<|startoftranscript|>") == TINY_SOT
    assert tiny_tok.token_to_id("<|notimestamps|>") == TINY_NO_TIMESTAMPS
    base = None

    max_mel_diff = 0.0
    max_window_diff = 0.0
    for clip in clips:
        tc = time.time()
        path = os.path.join(audio_dir, clip)
        audio = faster_whisper.decode_audio(path, sampling_rate=SAMPLE_RATE)
        n = int(audio.shape[0])
        write_f32(os.path.join(out, clip + ".audio.f32"), audio)
        record(clip, clip + ".audio.f32", {"shape": [n], "what": "faster_whisper.decode_audio, 16 kHz mono"})

        mel_all = log_mel_spectrogram(audio, filters, padding=N_SAMPLES)
        mel = mel_all[:, :N_FRAMES].astype(np.float32)
        window64, content_frames = first_window(mel_all, n)
        window = window64.astype(np.float32)
        write_f32(os.path.join(out, clip + ".mel.f32"), mel)
        record(
            clip,
            clip + ".mel.f32",
            {"shape": list(mel.shape), "what": "openai log_mel_spectrogram(padding=480000)[:, :3000]"},
        )
        write_f32(os.path.join(out, clip + ".window.f32"), window)
        record(
            clip,
            clip + ".window.f32",
            {
                "shape": list(window.shape),
                "content_frames": content_frames,
                "what": "transcribe()'s first window: mel[:, :content_frames] zero-padded to 3000",
            },
        )

        # faster-whisper's own features: as its transcribe() computes them (padding=160, then the
        # first window pad_or_trim'ed to 3000 with zeros), and with openai's 480000 padding.
        fw_features = fw_fe(audio)
        fw_window = pad_or_trim(fw_features[:, : min(N_FRAMES, fw_features.shape[-1] - 1)])
        fw_mel = fw_fe(audio, padding=N_SAMPLES)[:, :N_FRAMES]
        d_window = float(np.abs(window - fw_window).max())
        d_mel = float(np.abs(mel - fw_mel).max())
        d_window_vs_mel = float(np.abs(window - mel).max())
        max_mel_diff = max(max_mel_diff, d_mel)
        max_window_diff = max(max_window_diff, d_window)

        line = "  %-20s %7d samples, %4d content frames; |mel - fw(pad 480000)| %.2g, |window - fw window| %.2g" % (
            clip,
            n,
            content_frames,
            d_mel,
            d_window,
        )
        line += " (|mel - window| %.2g)" % d_window_vs_mel

        if clip in english:
            enc = tiny.encode(ctranslate2.StorageView.from_array(mel[None]), to_cpu=True)
            enc_np = np.array(enc)
            write_f32(os.path.join(out, clip + ".enc.tiny.en.f32"), enc_np)
            record(
                clip,
                clip + ".enc.tiny.en.f32",
                {"shape": list(enc_np.shape), "what": "CTranslate2 tiny.en encode(<clip>.mel.f32), cpu float32"},
            )
            if clip == "jfk.wav":
                enc2 = np.array(tiny.encode(ctranslate2.StorageView.from_array(mel[None]), to_cpu=True))
                manifest["encode_deterministic_jfk"] = bool(np.array_equal(enc_np, enc2))
                print(
                    "  encode twice on jfk.wav: identical=%s, max |diff| %.3g"
                    % (np.array_equal(enc_np, enc2), float(np.abs(enc_np - enc2).max()))
                )

            options = dict(
                beam_size=1,
                max_length=448,
                suppress_blank=True,
                suppress_tokens=[-1],
                return_scores=True,
                return_no_speech_prob=True,
            )
            greedy = {
                "model": TINY,
                "input": clip + ".enc.tiny.en.f32",
                "options": dict(options),
                "note": "tokens exclude the prompt and the final <|endoftext|>; faster-whisper takes "
                "avg_logprob = scores[0] * len(tokens)**length_penalty / (len(tokens) + 1)",
            }
            enc_sv = ctranslate2.StorageView.from_array(enc_np)
            for key, prompt in (
                ("timestamps", [TINY_SOT]),
                ("no_timestamps", [TINY_SOT, TINY_NO_TIMESTAMPS]),
            ):
                res = tiny.generate(enc_sv, [prompt], **options)[0]
                tokens = [int(t) for t in res.sequences_ids[0]]
                greedy[key] = {
                    "prompt": prompt,
                    "tokens": tokens,
                    "scores": [float(s) for s in res.scores],
                    "no_speech_prob": float(res.no_speech_prob),
                    "text": tiny_tok.decode([t for t in tokens if t < eot]),
                }
            write_json(os.path.join(out, clip + ".greedy.tiny.en.json"), greedy)
            record(clip, clip + ".greedy.tiny.en.json", {"what": "CTranslate2 tiny.en greedy generate"})
            line += "; tiny.en: %r" % greedy["no_timestamps"]["text"]

        if clip in LANG_CLIPS:
            if base is None:
                base = ctranslate2.models.Whisper(
                    base_dir, device="cpu", compute_type="float32", intra_threads=args.threads
                )
            lang = {"model": BASE}
            for key, feats in (("mel", mel), ("window", window)):
                res = base.detect_language(ctranslate2.StorageView.from_array(feats[None]))[0]
                lang[key] = {"input": clip + "." + key + ".f32", "results": [[tok, float(p)] for tok, p in res]}
            write_json(os.path.join(out, clip + ".lang.base.json"), lang)
            record(clip, clip + ".lang.base.json", {"what": "CTranslate2 base detect_language, all languages"})
            top = lang["mel"]["results"][0]
            line += "; base lang %s %.3f" % (top[0], top[1])

        print(line + " [%.1fs]" % (time.time() - tc))

    manifest["max_abs_diff_mel_vs_faster_whisper_pad480000"] = max_mel_diff
    manifest["max_abs_diff_window_vs_faster_whisper_window"] = max_window_diff
    write_json(os.path.join(out, MANIFEST), manifest)
    print(
        "make_reference: %d clips, %d files, max |numpy mel - faster-whisper| %.3g (window %.3g), %.1fs"
        % (len(clips), len(manifest["files"]), max_mel_diff, max_window_diff, time.time() - t0)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
