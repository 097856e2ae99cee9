/* wisp — local speech-to-text with OpenAI Whisper models. Public C API.
 *
 * Handles:
 *   wisp_model    immutable once loaded; share one across threads and contexts.
 *   wisp_context  per stream (decoder state, scratch buffers); use one thread at a time.
 *   wisp_result   a finished transcript; read-only, free with wisp_result_free.
 * Every call returns a wisp_status; on failure wisp_last_error() (per thread) says what went wrong.
 * Params structs are passed by pointer and start with their own size, so they can grow without
 * breaking callers: always initialise them with the matching *_default() function.
 * No function aborts or throws; this header needs nothing but the C standard library.
 */
#ifndef WISP_WISP_H
#define WISP_WISP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define WISP_VERSION "0.1.0"

typedef enum wisp_status {
  WISP_OK = 0,
  WISP_ERR_INVALID_ARGUMENT = 1, /* a bad parameter value */
  WISP_ERR_IO = 2,               /* a file could not be opened or read */
  WISP_ERR_MODEL = 3,            /* the model is missing, truncated, corrupt or of the wrong shape */
  WISP_ERR_AUDIO = 4,            /* the audio could not be decoded */
  WISP_ERR_DECODE = 5,           /* decoding failed */
  WISP_ERR_CANCELLED = 6,        /* a callback asked to stop */
  WISP_ERR_INTERNAL = 7,         /* a bug in wisp: please report it */
  WISP_ERR_BUSY = 8 /* the engine has max_jobs calls or max_audio_seconds under way, or is stopping: retry */
} wisp_status;

typedef struct wisp_model wisp_model;
typedef struct wisp_context wisp_context;
typedef struct wisp_result wisp_result;
typedef struct wisp_engine wisp_engine;

/* The message of the last failed call on this thread ("" if none). Valid until the next call. */
const char* wisp_last_error(void);
const char* wisp_status_name(wisp_status status);
const char* wisp_version(void);

/* ---- model ---- */
/* The arithmetic a model runs in (as faster-whisper's compute_type). */
typedef enum wisp_compute_type {
  WISP_COMPUTE_AUTO = 0,     /* the fastest this CPU runs well (int8 today; see README, Performance) */
  WISP_COMPUTE_FLOAT32 = 1,  /* fp32 throughout: the reference accuracy */
  WISP_COMPUTE_BFLOAT16 = 2, /* bf16 weights and activations, fp32 accumulation */
  WISP_COMPUTE_INT8 = 3      /* int8 weights per output channel, activations per row (CTranslate2's scheme) */
} wisp_compute_type;

typedef struct wisp_model_params {
  size_t struct_size;             /* sizeof(wisp_model_params) */
  int n_threads;                  /* default compute threads of this model's contexts; 0 = all cores */
  wisp_compute_type compute_type; /* default WISP_COMPUTE_AUTO */
  const char* isa;                /* NULL: the best level this CPU has (or $WISP_ISA); "avx2", "avx512",
                                     "avx512_vnni", "avx512_bf16" or "amx" forces a level it supports */
} wisp_model_params;

wisp_model_params wisp_model_params_default(void);
/* path: a CTranslate2 Whisper model directory (model.bin, config.json, tokenizer.json). */
wisp_status wisp_model_load(const char* path, const wisp_model_params* params, wisp_model** out);
void wisp_model_free(wisp_model* model);
int wisp_model_is_multilingual(const wisp_model* model);
int wisp_model_n_mels(const wisp_model* model);
/* The compute type the model runs in (AUTO resolved). */
wisp_compute_type wisp_model_compute_type(const wisp_model* model);
/* What computes: e.g. "cpu amx int8". Valid while the model lives. */
const char* wisp_model_backend(const wisp_model* model);
/* Diagnostics for benchmarks: the machine's peak rate for the model's compute type and ISA level, measured
 * now on n_threads threads (0 = all cores) for about 0.2 s, in GOP/s (a multiply-add counted as 2). The
 * instruction measured is returned in *instruction when it is not NULL. 0 on error. */
double wisp_model_peak_gops(const wisp_model* model, int n_threads, const char** instruction);

/* A language code or English name in any case ("de", "DE", "German", "mandarin"), as openai/whisper
 * accepts --language -> its code ("de", "zh"); NULL when it names no language Whisper knows. Static string.
 */
const char* wisp_language_code(const char* code_or_name);
/* 1 when `model` can transcribe that language (English-only models: only English), else 0. */
int wisp_model_supports_language(const wisp_model* model, const char* code_or_name);

/* ---- context ---- */
/* A context starts with the model's n_threads. */
wisp_status wisp_context_create(const wisp_model* model, wisp_context** out);
/* Compute threads of this context, honoured on whatever thread calls it; 0 = every core. Contexts that
 * compute at the same time share the cores (no oversubscription beyond one thread per caller). */
wisp_status wisp_context_set_threads(wisp_context* ctx, int n_threads);
void wisp_context_free(wisp_context* ctx);

/* ---- engine: one compute loop for the batched transcriptions of many contexts ---- */
/* Contexts attached to an engine hand their batched-mode transcriptions (batch_size > 0) to it: its one
 * thread puts the 30-s windows of every such call into the same encoder calls and decoder steps, and a call
 * that arrives while a long one runs gets the next free slots (shortest remaining work first), so a short
 * request does not wait for a long one. The calling thread still blocks until its result is ready (it finds
 * the speech, with one thread, meanwhile); callbacks then run on the engine's thread. The sequential and
 * vad-only modes stay on the context. */
typedef struct wisp_engine_params {
  size_t struct_size;       /* sizeof(wisp_engine_params) */
  int n_threads;            /* compute threads of the engine (0: every core) */
  int max_in_flight;        /* 30-s windows in flight over all calls, 1 to 256 (default 6) */
  int max_jobs;             /* calls at once; more fail with WISP_ERR_BUSY (default 64) */
  double max_audio_seconds; /* audio of the calls under way at most, a call past it fails with
                               WISP_ERR_BUSY; default 6 h (~1.4 GB of samples); 0: no limit */
  const char* vad_model;    /* Silero ggml file; NULL: the bundled one (or $WISP_VAD_MODEL) */
} wisp_engine_params;
wisp_engine_params wisp_engine_params_default(void);
wisp_status wisp_engine_create(const wisp_model* model, const wisp_engine_params* params, wisp_engine** out);
/* Contexts still attached keep the engine running until they are freed or detached. */
void wisp_engine_free(wisp_engine* engine);
/* Attaches ctx to engine (of the same model), or detaches it (engine NULL). */
wisp_status wisp_context_set_engine(wisp_context* ctx, wisp_engine* engine);

/* ---- transcription ---- */
typedef enum wisp_task { WISP_TASK_TRANSCRIBE = 0, WISP_TASK_TRANSLATE = 1 } wisp_task;

/* One word of a segment (word timestamps). */
typedef struct wisp_word {
  const char* text;  /* UTF-8, with its leading space and merged punctuation (" Americans,") */
  double start, end; /* seconds */
  float probability; /* mean probability of its tokens */
} wisp_word;

typedef struct wisp_segment {
  int id;
  int seek;          /* window start in 10-ms mel frames */
  double start, end; /* seconds */
  const char* text;  /* UTF-8 */
  const int* tokens;
  int n_tokens;
  float avg_logprob, compression_ratio, no_speech_prob, temperature;
  const wisp_word* words; /* word_timestamps: its words (NULL when n_words is 0), valid as the segment */
  int n_words;
  /* n_tokens log-probabilities, one per token as it was decoded (log-softmax of the logits after the
   * suppression and timestamp rules; at a temperature above 0, of the untempered logits, as avg_logprob);
   * NULL when not known. Added last: code built against an older wisp.h reads the fields above unchanged. */
  const float* token_logprobs;
} wisp_segment;

/* Called for each segment as soon as it is decoded; return 0 to stop (the call then returns
 * WISP_ERR_CANCELLED and no result). The segment is valid only during the call. */
typedef int (*wisp_segment_callback)(const wisp_segment* segment, void* user_data);
/* Called after each window with the fraction of audio done, 0..1. */
typedef void (*wisp_progress_callback)(double fraction, void* user_data);

/* Every float below must be finite (NaN or infinity: WISP_ERR_INVALID_ARGUMENT). */
typedef struct wisp_transcribe_params {
  size_t struct_size; /* sizeof(wisp_transcribe_params) */
  const char*
      language;   /* "en", "de", ... or a name ("German"); NULL or "auto" detects (multilingual models) */
  wisp_task task; /* WISP_TASK_TRANSCRIBE or WISP_TASK_TRANSLATE; anything else is refused */
  int beam_size;  /* beams at temperature 0; 1 = greedy (default 5) */
  int best_of;    /* samples at temperature > 0 (default 5) */
  float patience; /* beam search patience (default 1) */
  float length_penalty;              /* < 0: rank by log-prob / length (default); else ((5+len)/6)^alpha */
  const float* temperatures;         /* fallback temperatures, each in [0, 10]; NULL = 0, 0.2, ... 1.0 */
  int n_temperatures;                /* 1 to 256 */
  float compression_ratio_threshold; /* default 2.4; <= 0 disables */
  float logprob_threshold;           /* default -1.0; <= -1e9 disables */
  float no_speech_threshold;         /* default 0.6, at most 1; <= 0 disables */
  int condition_on_previous_text;    /* default 1 */
  const char* initial_prompt;        /* NULL for none */
  int suppress_blank;                /* default 1 */
  int without_timestamps;            /* default 0 */
  float max_initial_timestamp;       /* seconds, default 1.0; negative: no limit */
  uint32_t seed;                     /* sampling seed */
  double max_stream_seconds;         /* In the sequential modes (batch_size 0), stdin ("-"), pipes and
                                        wisp_transcribe_memory are decoded whole into memory (~230 MB per hour): past
                                        this much audio the call fails (WISP_ERR_AUDIO) instead of growing without
                                        bound. Default 10800 (3 h); must be > 0. The batched mode decodes files and
                                        memory block by block as it transcribes them, in bounded memory, and takes
                                        input of any length. */
  wisp_segment_callback on_segment;
  wisp_progress_callback on_progress;
  void* user_data;
  /* Voice activity detection, as faster-whisper's vad_filter: Silero VAD v6 finds the speech, only that is
     transcribed, and segment times are those of the original audio. */
  int vad;                /* 1 enables it (default 0) */
  const char* vad_model;  /* Silero ggml file; NULL: the bundled one (or $WISP_VAD_MODEL) */
  float vad_threshold;    /* P(speech) at or above: speech, 0 to 1 (default 0.5; below it - 0.15: silence) */
  int vad_min_speech_ms;  /* shorter speech is dropped, 0 to 3600000 (default 250) */
  int vad_min_silence_ms; /* silence this long ends a span, 0 to 3600000 (default 2000) */
  int vad_speech_pad_ms;  /* added on each side of a span, 0 to 60000 (default 400) */
  float vad_max_speech_s; /* longer spans are split; <= 0: no limit (default) */
  /* Batched long-form mode: > 0 cuts the audio at VAD pauses (the vad_* options above apply, spans of at
     most 30 s) into chunks and decodes up to this many at once, each with timestamps, fallback and its own
     earlier text; segments still come in time order. 0 (default): the sequential openai loop. 0 to 64. */
  int batch_size;
  /* With vad or batch_size: each speech span brought to the same loudness before the log-mel, so that a
     quiet speaker next to a loud one is heard (default 1; 0 keeps the samples as they are). */
  int level_loudness;
  /* Word timestamps, as openai/whisper's word_timestamps: each segment gets its words with their times. */
  int word_timestamps;              /* 1 enables them (default 0) */
  const char* prepend_punctuations; /* marks joined to the word after them; NULL: openai's  " ' “ ¿ ( [ { - */
  const char* append_punctuations; /* marks joined to the word before; NULL: openai's  " ' . 。 , ， ! ！ ? ？
                                      : ： ” ) ] } 、 */
  /* openai's hallucination_silence_threshold, with word_timestamps: a segment that looks hallucinated
   * between silences longer than this many seconds is dropped and decoded again from its start; <= 0: off
   * (default). At most 3600. */
  float hallucination_silence_threshold;
} wisp_transcribe_params;

wisp_transcribe_params wisp_transcribe_params_default(void);

/* Any audio FFmpeg reads (wav, flac, mp3, ogg/opus, m4a, webm...); "-" reads stdin. In the batched mode
   (batch_size > 0) the audio is read, its speech found and transcribed as it goes: segments come out while
   later audio is still being read, and memory does not grow with the length. */
wisp_status wisp_transcribe_file(wisp_context* ctx, const char* path, const wisp_transcribe_params* params,
                                 wisp_result** out);
/* Encoded audio bytes in memory (a whole file's contents). */
wisp_status wisp_transcribe_memory(wisp_context* ctx, const void* data, size_t size,
                                   const wisp_transcribe_params* params, wisp_result** out);
/* 16 kHz mono float samples; values outside [-1, 1] are clamped (as decoded audio is), NaN or infinity is
 * refused (WISP_ERR_INVALID_ARGUMENT). */
wisp_status wisp_transcribe_pcm(wisp_context* ctx, const float* samples, size_t n_samples,
                                const wisp_transcribe_params* params, wisp_result** out);

/* ---- results ---- */
int wisp_result_n_segments(const wisp_result* result);
const wisp_segment* wisp_result_segment(const wisp_result* result, int i); /* NULL if out of range */
const char* wisp_result_text(const wisp_result* result);
const char* wisp_result_language(const wisp_result* result);
float wisp_result_language_probability(const wisp_result* result);
double wisp_result_duration(const wisp_result* result); /* seconds of audio */
/* Word timestamps: the words of segment `segment` (0 without word_timestamps or out of range), and word i
 * of them (NULL if out of range); valid until wisp_result_free. */
int wisp_result_n_words(const wisp_result* result, int segment);
const wisp_word* wisp_result_word(const wisp_result* result, int segment, int i);

/* Audio pushed as it comes (a microphone, a network stream), in the batched mode (params->batch_size > 0;
   0 is refused): 16 kHz mono float PCM in blocks of any size. The speech is found as it arrives, and each
   chunk of it (at most 30 s, cut at pauses) is transcribed once found: its segments come through
   params->on_segment, in time order, while later audio is still being pushed. Memory does not grow with the
   length. The context serves nothing else until the stream is finished or freed; with an engine set
   (wisp_context_set_engine) the chunks go to the engine, and the callbacks run on its thread. params, its
   strings and user_data must outlive the stream. One thread at a time per stream. */
typedef struct wisp_stream wisp_stream;
wisp_status wisp_stream_begin(wisp_context* ctx, const wisp_transcribe_params* params, wisp_stream** out);
/* Samples must be finite (NaN or infinity: WISP_ERR_INVALID_ARGUMENT); they are clamped to [-1, 1].
   WISP_ERR_CANCELLED once on_segment returned 0: push no more (finish still gives what came out). */
wisp_status wisp_stream_push(wisp_stream* stream, const float* samples, size_t n_samples);
/* The end of the audio: the rest is transcribed and the whole result given, as wisp_transcribe_pcm gives it
   (WISP_ERR_CANCELLED when on_segment stopped it). The stream is freed, whatever the status. */
wisp_status wisp_stream_finish(wisp_stream* stream, wisp_result** out);
/* Frees a stream that is not finished; its work is dropped. NULL is fine. */
void wisp_stream_free(wisp_stream* stream);

typedef struct wisp_timings {
  double load_audio_ms, mel_ms, encoder_ms, decoder_ms, total_ms;
  int n_windows;                       /* encoder runs */
  int n_tokens;                        /* tokens in the final segments */
  int n_decode_steps;                  /* decoder forward passes, every sequence of the batch at once */
  int n_decode_passes;                 /* window decodings, temperature fallbacks included */
  double encoder_gflop, decoder_gflop; /* arithmetic done (a multiply-add counted as 2), for GFLOP/s */
  double vad_ms; /* speech detection (Silero VAD) and levelling: the batched mode and vad_filter */
} wisp_timings;
wisp_timings wisp_result_timings(const wisp_result* result);

typedef enum wisp_format {
  WISP_FORMAT_TXT,
  WISP_FORMAT_SRT,
  WISP_FORMAT_VTT,
  WISP_FORMAT_TSV,
  WISP_FORMAT_JSON
} wisp_format;
/* "txt", "srt", "vtt", "tsv", "json" → format; returns 0 if unknown. */
int wisp_format_from_name(const char* name, wisp_format* out);
/* The transcript rendered in `format`; the string belongs to the result (valid until wisp_result_free). */
wisp_status wisp_result_format(wisp_result* result, wisp_format format, const char** out);

/* Subtitle layout for srt and vtt, as openai/whisper's --max_line_width, --max_line_count,
 * --max_words_per_line and --highlight_words; each needs a result with word timestamps (else
 * WISP_ERR_INVALID_ARGUMENT). */
typedef struct wisp_format_params {
  size_t struct_size;  /* sizeof(wisp_format_params) */
  int max_line_width;  /* characters per line before a break, 1 to 100000; 0: none (default) */
  int max_line_count;  /* lines per subtitle, 1 to 100000, with max_line_width; 0: a subtitle per segment */
  int highlight_words; /* 1: a cue per word, the word underlined (<u>) in its line (default 0) */
  int max_words_per_line; /* a segment's words in cues of at most this many, 1 to 100000; 0: none (default);
                             no effect with both max_line_width and max_line_count (as openai) */
} wisp_format_params;

wisp_format_params wisp_format_params_default(void);
/* wisp_result_format with a subtitle layout (params NULL: the default, as wisp_result_format). */
wisp_status wisp_result_format_with(wisp_result* result, wisp_format format, const wisp_format_params* params,
                                    const char** out);

void wisp_result_free(wisp_result* result);

#ifdef __cplusplus
}
#endif

#endif /* WISP_WISP_H */
