#include "pipeline/transcriber.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <functional>
#include <limits>
#include <thread>
#include <tuple>

#include "align/word_timestamps.h"
#include "audio/loudness.h"
#include "audio/mel.h"
#include "backend/cpu/threads.h"
#include "core/error.h"
#include "core/stopwatch.h"
#include "decode/decoding_task.h"
#include "decode/language_detection.h"
#include "decode/languages.h"
#include "pipeline/batched_loop.h"
#include "pipeline/chunk_feed.h"
#include "pipeline/find_speech.h"
#include "pipeline/speech_stream.h"
#include "pipeline/window_result.h"
#include "vad/timestamp_map.h"
#include "vad/vad_model_path.h"
#include "vad/word_clamp.h"

namespace wisp {
namespace {

// Bounds of the VAD durations (an hour of silence or speech; a minute of padding).
constexpr int kMaxVadMs = 3600 * 1000;
constexpr int kMaxVadPadMs = 60 * 1000;
// Windows in flight in the batched mode, at most.
constexpr int kMaxBatch = 64;

}  // namespace

std::string requested_language(const TranscribeOptions& o, const WhisperModel& m) {
  auto bad = [](const std::string& msg) { throw Error(ErrorKind::InvalidArgument, msg); };
  if (o.language.empty() || o.language == "auto") return "";
  const char* code = decode::resolve_language(o.language);
  if (!code) bad("unknown language '" + o.language + "' (a code such as en or de, or a name such as German)");
  if (!m.multilingual() && std::string(code) != "en")
    bad("an English-only model only transcribes English (language '" + o.language + "' requested)");
  if (m.multilingual() && m.tokenizer().language_token(code) < 0)
    bad("this model does not know language '" + o.language + "'");
  return code;
}

void validate_options(const TranscribeOptions& o, const WhisperModel& m) {
  auto bad = [](const std::string& msg) { throw Error(ErrorKind::InvalidArgument, msg); };
  auto finite = [](const std::optional<float>& v) { return !v || std::isfinite(*v); };
  if (o.beam_size < 1 || o.beam_size > 64) bad("beam size must be between 1 and 64");
  if (o.best_of < 1 || o.best_of > 64) bad("best-of must be between 1 and 64");
  if (!(o.patience > 0.0f && o.patience <= 100.0f)) bad("patience must be above 0 and at most 100");
  if (!finite(o.length_penalty)) bad("length penalty must be a finite number");
  if (o.temperatures.empty()) bad("at least one temperature is needed");
  if (o.temperatures.size() > kMaxTemperatures)
    bad("at most " + std::to_string(kMaxTemperatures) + " fallback temperatures");
  for (float t : o.temperatures)
    if (!(t >= 0.0f && t <= 10.0f)) bad("temperatures must be between 0 and 10");
  if (!finite(o.compression_ratio_threshold) || o.compression_ratio_threshold.value_or(0.0f) < 0.0f)
    bad("compression ratio threshold must be a finite number >= 0");
  if (!finite(o.logprob_threshold)) bad("log-prob threshold must be a finite number");
  if (o.no_speech_threshold && !(*o.no_speech_threshold >= 0.0f && *o.no_speech_threshold <= 1.0f))
    bad("no-speech threshold must be between 0 and 1");
  if (!std::isfinite(o.max_initial_timestamp)) bad("max initial timestamp must be a finite number");
  const vad::VadOptions& v = o.vad;
  if (!(v.threshold >= 0.0f && v.threshold <= 1.0f)) bad("VAD threshold must be between 0 and 1");
  if (!(v.neg_threshold <= 1.0f)) bad("VAD silence threshold must be at most 1 (negative: threshold - 0.15)");
  if (v.min_speech_duration_ms < 0 || v.min_speech_duration_ms > kMaxVadMs)
    bad("VAD minimum speech duration must be between 0 and " + std::to_string(kMaxVadMs) + " ms");
  if (v.min_silence_duration_ms < 0 || v.min_silence_duration_ms > kMaxVadMs)
    bad("VAD minimum silence duration must be between 0 and " + std::to_string(kMaxVadMs) + " ms");
  if (v.speech_pad_ms < 0 || v.speech_pad_ms > kMaxVadPadMs)
    bad("VAD speech padding must be between 0 and " + std::to_string(kMaxVadPadMs) + " ms");
  if (!(v.max_speech_duration_s > 0.0)) bad("VAD maximum speech duration must be above 0 s (or infinite)");
  if (o.batch_size < 0 || o.batch_size > kMaxBatch)
    bad("batch size must be between 0 (sequential) and " + std::to_string(kMaxBatch));
  if (o.hallucination_silence_threshold &&
      !(*o.hallucination_silence_threshold > 0.0f && *o.hallucination_silence_threshold <= 3600.0f))
    bad("hallucination silence threshold must be above 0 and at most 3600 s");
  if (o.hallucination_silence_threshold && !o.word_timestamps)
    bad("the hallucination silence threshold needs word timestamps");
  if (o.word_timestamps && m.metadata().alignment_heads.empty())
    bad("word timestamps need the model's alignment_heads (config.json), which this model lacks");
  if (o.translate && !m.multilingual())
    bad("an English-only model cannot translate; use a multilingual model");
  requested_language(o, m);
}

Transcriber::Transcriber(std::shared_ptr<const WhisperModel> model, int threads)
    : model_(std::move(model)), exec_{1, &workspace_}, encoder_(*model_, exec_), decoder_(*model_, exec_) {
  set_threads(threads);
}

void Transcriber::set_threads(int threads) {
  if (threads < 0 || threads > 1024) throw Error(ErrorKind::InvalidArgument, "thread count out of range");
  exec_.threads = threads == 0 ? backend::cpu::thread_budget() : threads;
}

void Transcriber::prepare(const TranscribeOptions& o) {
  if (!o.vad_filter && o.batch_size <= 0) return;
  const std::string path = vad::resolve_vad_model(o.vad_model);
  if (vad_ && path == vad_path_) return;
  vad_ = std::make_unique<vad::SileroVad>(vad::load_silero_model(path), model_->isa());
  vad_path_ = path;
}

Transcript Transcriber::transcribe_speech(const float* samples, size_t n_samples, const TranscribeOptions& o,
                                          const SegmentCallback& on_segment,
                                          const ProgressCallback& on_progress, StageTimings* timings) {
  const Speech found =
      find_speech(*vad_, exec_, samples, n_samples, o.vad, o.normalize_loudness, o.word_timestamps, timings);
  const std::vector<vad::SpeechSpan>& spans = found.spans;
  std::vector<float> speech;  // the spans end to end, levelled as they are copied
  for (const vad::SpeechSpan& span : spans)
    audio::append_levelled(samples, span.start, std::min<int64_t>(span.end, static_cast<int64_t>(n_samples)),
                           found.gains, speech);

  const vad::TimestampMap map(spans);
  auto to_original = [&](Segment s) {  // faster-whisper's restore_speech_timestamps, joins kept apart
    std::tie(s.start, s.end) = map.original_segment(s.start, s.end);
    if (!s.words.empty()) {  // each word within one span and held to the speech; the segment spans its words
      for (Word& w : s.words) std::tie(w.start, w.end) = map.original_segment(w.start, w.end);
      vad::clamp_words_to_speech(s, found.stretches);
    }
    return s;
  };
  SegmentCallback mapped_callback;
  if (on_segment) mapped_callback = [&](const Segment& s) { return on_segment(to_original(s)); };
  TranscribeOptions speech_only = o;
  speech_only.vad_filter = false;
  Transcript out =
      transcribe(speech.data(), speech.size(), speech_only, mapped_callback, on_progress, timings);
  for (Segment& s : out.segments) s = to_original(std::move(s));
  out.duration = static_cast<double>(n_samples) / 16000.0;
  return out;
}

AudioProducer samples_producer(const float* samples, size_t n) {
  return [samples, n](const audio::SampleSink& sink) {
    if (sink.length) sink.length(n);
    for (size_t at = 0; at < n; at += audio::kStreamBlock)
      if (!sink.block(samples + at, std::min(audio::kStreamBlock, n - at))) return;
  };
}

// The loop runs whenever enough chunks wait to fill its slots.
struct Transcriber::Stream::State {
  // `own_finder`: the speech is found on a thread of its own, with one compute thread and its own scratch
  // (Stream::run).
  State(Transcriber& t, const TranscribeOptions& o, StageTimings* timings, bool live, bool own_finder)
      : finder_exec{1, &finder_workspace},
        speech(*t.vad_, own_finder ? finder_exec : t.exec_, o, timings),
        loop(*t.model_, t.encoder_, t.decoder_, t.exec_.threads, o.batch_size),
        ahead(live ? 1 : kChunksAheadPerSlot * static_cast<size_t>(o.batch_size)),
        live(live) {}
  backend::Workspace finder_workspace;
  backend::Exec finder_exec;
  // The loop waits for chunks (Stream::run): meanwhile the finder may use every thread (the VAD's results
  // do not depend on them), to hand the first chunks over sooner.
  std::atomic<bool> loop_waiting{false};
  SpeechStream speech;
  ChunkFeed feed;
  BatchedJob job;
  BatchedLoop loop;  // declared after the job and its feed: destroyed (dropping the job) before them
  size_t ahead;
  bool live;
  bool finished = false;
};

std::unique_ptr<Transcriber::Stream> Transcriber::open_stream(const TranscribeOptions& o,
                                                              const SegmentCallback& on_segment,
                                                              const ProgressCallback& on_progress,
                                                              StageTimings* timings, bool live) {
  return make_stream(o, on_segment, on_progress, timings, live, false);
}

std::unique_ptr<Transcriber::Stream> Transcriber::make_stream(const TranscribeOptions& o,
                                                              const SegmentCallback& on_segment,
                                                              const ProgressCallback& on_progress,
                                                              StageTimings* timings, bool live,
                                                              bool own_finder) {
  validate_options(o, *model_);
  if (o.batch_size <= 0) throw Error(ErrorKind::InvalidArgument, "streamed audio needs the batched mode");
  prepare(o);
  auto s = std::make_unique<Stream::State>(*this, o, timings, live, own_finder);
  BatchedJob& job = s->job;
  job.feed = &s->feed;
  job.options = o;
  job.language = requested_language(o, *model_);
  job.on_segment = on_segment;
  job.on_progress = on_progress;
  job.timings = timings;
  s->loop.add(&job);
  return std::unique_ptr<Stream>(new Stream(std::move(s)));
}

Transcript Transcriber::transcribe_stream(const AudioProducer& produce, const TranscribeOptions& o,
                                          const SegmentCallback& on_segment,
                                          const ProgressCallback& on_progress, StageTimings* timings) {
  if (exec_.threads >= 2)  // the speech found on a thread of its own (Stream::run)
    return make_stream(o, on_segment, on_progress, timings, false, true)->run(produce, exec_);
  std::unique_ptr<Stream> stream = open_stream(o, on_segment, on_progress, timings);
  audio::SampleSink sink;
  sink.length = [&](size_t n) { stream->expect(n); };
  sink.block = [&](const float* samples, size_t n) { return stream->push(samples, n); };
  produce(sink);
  return stream->finish();
}

Transcriber::Stream::Stream(std::unique_ptr<State> s) : s_(std::move(s)) {}
Transcriber::Stream::~Stream() = default;

void Transcriber::Stream::expect(size_t n_samples) { s_->feed.expect(n_samples); }

bool Transcriber::Stream::push(const float* samples, size_t n) {
  State& s = *s_;
  if (s.finished || s.loop.empty()) return false;
  s.speech.push(samples, n);
  s.feed.put(s.speech.take(), s.speech.samples_seen());
  if (s.live) {  // everything found, through
    while (!s.loop.empty() && s.loop.step()) {
    }
  } else {
    while (!s.loop.empty() && s.feed.waiting() >= s.ahead) s.loop.step();
  }
  return !s.loop.empty();
}

Transcript Transcriber::Stream::finish() {
  State& s = *s_;
  if (!s.finished) {
    s.finished = true;
    s.speech.finish();
    s.feed.put(s.speech.take(), s.speech.samples_seen());
    s.feed.close(s.speech.samples_seen());
    while (!s.loop.empty()) s.loop.step();
  }
  return s.job.transcript;
}

// Silero VAD's recurrence takes one window after another, so a second thread adds little to the speech
// finding (wisp_vad_bench, 2-core Xeon: 1.27 → 1.00 s per hour of audio): the finder gets one core to itself
// and the loop the rest, on which it encodes the chunks found so far (and decodes, once its slots are full)
// until the recording is read; then the loop has every thread. While the loop has nothing to do but wait
// for chunks (before the first), the finder takes every thread: what the second one adds is better than
// an idle core. The chunks, and so the transcript, are the same.
Transcript Transcriber::Stream::run(const AudioProducer& produce, backend::Exec& exec) {
  State& s = *s_;
  const int threads = exec.threads;
  auto share = [&](int n) {
    exec.threads = n;
    s.loop.set_threads(n);
  };
  // While the finder runs, its core is the loop's only when it waits: looked at again before each step,
  // each chunk's log-mel and each window encoded (the loop's hook), so the loop takes the finder's core the
  // window after the recording is read rather than after a batch of windows.
  auto reshare = [&] { share(s.feed.finder_busy() ? threads - 1 : threads); };
  s.loop.set_reshare(reshare);
  struct Restore {  // every thread again on the way out
    ~Restore() { f(); }
    std::function<void()> f;
  } restore{[&] {
    s.loop.set_reshare(nullptr);
    share(threads);
  }};

  std::exception_ptr error;
  std::thread finder([&] {
    try {
      audio::SampleSink sink;
      sink.length = [&](size_t n) { s.feed.expect(n); };
      sink.block = [&](const float* samples, size_t n) {
        s.finder_exec.threads = s.loop_waiting ? threads : 1;
        s.speech.push(samples, n);
        s.feed.put(s.speech.take(), s.speech.samples_seen());
        return s.feed.wait_for_room(s.ahead);  // false once the loop has let the job go
      };
      produce(sink);
      if (!s.feed.abandoned()) {
        s.finder_exec.threads = s.loop_waiting ? threads : 1;
        s.speech.finish();
        s.feed.put(s.speech.take(), s.speech.samples_seen());
      }
    } catch (...) {
      error = std::current_exception();
    }
    s.feed.close(s.speech.samples_seen());
  });
  try {
    while (!s.loop.empty() && !s.feed.closed()) {
      reshare();
      const size_t waiting = s.feed.waiting();
      if (s.loop.has_room() && waiting > 0 && s.loop.fill() > 0) continue;
      if (!s.loop.has_room())
        s.loop.step();  // every slot taken: decode on the loop's share of the threads
      else {
        s.loop_waiting = true;
        s.feed.wait_for_more(waiting);
        s.loop_waiting = false;
      }
    }
  } catch (...) {
    s.feed.abandon();  // the finder stops at its next block
    finder.join();
    throw;
  }
  finder.join();
  if (error) std::rethrow_exception(error);
  s.loop.set_reshare(nullptr);
  share(threads);
  s.finished = true;
  while (!s.loop.empty()) s.loop.step();
  return s.job.transcript;
}

decode::DecodingResult Transcriber::decode_with_fallback(const TranscribeOptions& o,
                                                         decode::DecodingOptions d, StageTimings* t) {
  decode::DecodingResult result;
  int steps = 0;
  for (size_t t_index = 0;; ++t_index) {
    d.temperature = o.temperatures[t_index];
    const auto t0 = Clock::now();
    int pass_steps = 0;
    result = decode::decode_window(*model_, decoder_, d, 0, &rng_, &pass_steps);
    steps += pass_steps;
    if (t) {
      t->decoder_ms += ms_since(t0);
      t->n_decode_steps += pass_steps;
      t->n_decode_passes++;
    }
    if (!retry_at_next_temperature(o, result, t_index, steps, d.sample_len)) break;
  }
  return result;
}

Transcript Transcriber::transcribe(const float* samples, size_t n_samples, const TranscribeOptions& o,
                                   const SegmentCallback& on_segment, const ProgressCallback& on_progress,
                                   StageTimings* timings) {
  validate_options(o, *model_);
  prepare(o);
  if (o.batch_size > 0)
    return transcribe_stream(samples_producer(samples, n_samples), o, on_segment, on_progress, timings);
  if (o.vad_filter) return transcribe_speech(samples, n_samples, o, on_segment, on_progress, timings);
  rng_.seed(o.seed);
  const WhisperModel& m = *model_;
  const decode::Tokenizer& tok = m.tokenizer();
  const int n_mels = m.dims().n_mels, D = m.dims().n_audio_state, T = m.dims().n_audio_ctx;

  auto t0 = Clock::now();
  const audio::LogMel mel =
      audio::log_mel_spectrogram(samples, n_samples, n_mels, audio::kChunkSamples, exec_.threads);
  if (timings) timings->mel_ms += ms_since(t0);
  const int content_frames = mel.n_frames - audio::kChunkFrames;

  Transcript out;
  out.duration = static_cast<double>(n_samples) / 16000.0;
  out.word_timestamps = o.word_timestamps;
  window_mel_.resize(static_cast<size_t>(n_mels) * audio::kChunkFrames);
  audio_features_.resize(static_cast<size_t>(T) * D);

  // The window at seek (audio::mel_window), encoded.
  auto encode_window = [&](int seek, int size) {
    audio::mel_window(mel, seek, size, window_mel_.data());
    const auto te = Clock::now();
    const double before = decoder_.flops();
    encoder_.encode(window_mel_.data(), audio_features_.data());
    decoder_.set_audio(audio_features_.data(), 1);  // cross-attention keys/values: timed with the encoder
    if (timings) {
      timings->encoder_ms += ms_since(te);
      timings->n_windows++;
      const double cross = decoder_.flops() - before;
      timings->encoder_gflop += (nn::Encoder::flops_per_window(m.dims()) + cross) / 1e9;
      timings->decoder_gflop -= cross / 1e9;  // taken back out of the decoder's count below
    }
  };
  const double decoder_flops_start = decoder_.flops();

  // Language: given, or detected on the first window.
  std::string language = requested_language(o, m);
  if (!m.multilingual()) language = "en";
  int encoded_seek = -1;
  if (language.empty()) {
    encode_window(0, std::min(audio::kChunkFrames, content_frames));
    encoded_seek = 0;
    const auto tl = Clock::now();
    auto langs = decode::detect_language(m, decoder_, 0);
    if (timings) timings->decoder_ms += ms_since(tl);
    language = langs.front().code;
    out.language_probability = langs.front().probability;
  }
  out.language = language;

  decode::DecodingOptions d = decoding_options(o, m.dims().n_text_ctx);
  d.language = language;

  std::vector<int> all_tokens = initial_prompt_tokens(o, tok);
  size_t prompt_reset_since = 0;

  const align::WordOptions word_options{o.prepend_punctuations, o.append_punctuations};
  double last_speech_timestamp = 0.0;  // word timestamps: where the speech before this window ended

  int seek = 0;
  while (seek < content_frames) {
    const double time_offset = seek * kFrameSeconds;
    const int segment_size = std::min(audio::kChunkFrames, content_frames - seek);
    if (seek != encoded_seek) encode_window(seek, segment_size);
    encoded_seek = seek;

    d.prompt.assign(all_tokens.begin() + static_cast<std::ptrdiff_t>(prompt_reset_since), all_tokens.end());
    const decode::DecodingResult result = decode_with_fallback(o, d, timings);

    if (is_silence(o, result)) {
      seek += segment_size;  // silence: skip the whole window
      if (on_progress) on_progress(std::min(1.0, static_cast<double>(seek) / content_frames));
      continue;
    }
    WindowSegments window = window_segments(tok, result, seek, segment_size, time_offset);
    std::vector<Segment>& current = window.segments;
    if (o.word_timestamps) {
      const auto t_words = Clock::now();
      align::add_word_timestamps(m, decoder_, 0, tok.sot_sequence(language, o.translate), language, current,
                                 time_offset, segment_size, last_speech_timestamp, word_options);
      if (timings) timings->decoder_ms += ms_since(t_words);
      const bool skipped =
          seek_after_words(window, seek, segment_size, time_offset, last_speech_timestamp,
                           o.hallucination_silence_threshold, content_frames, kOpenaiPunctuation);
      if (skipped) {  // up to a hallucination after a silence: nothing of this window is kept
        seek = window.next_seek;
        if (on_progress) on_progress(std::min(1.0, static_cast<double>(seek) / std::max(content_frames, 1)));
        continue;
      }
    }
    seek = window.next_seek;

    bool keep_going = true;
    for (Segment& s : current) {
      if (!keeps(s)) continue;
      all_tokens.insert(all_tokens.end(), s.tokens.begin(), s.tokens.end());
      s.id = static_cast<int>(out.segments.size());
      if (timings) timings->n_tokens += static_cast<int>(s.tokens.size());
      out.segments.push_back(s);
      if (on_segment && !on_segment(out.segments.back())) {
        keep_going = false;  // told to stop: no more segments, not even the rest of this window's
        break;
      }
    }
    if (!o.condition_on_previous_text || result.temperature > 0.5f) prompt_reset_since = all_tokens.size();
    if (on_progress) on_progress(std::min(1.0, static_cast<double>(seek) / std::max(content_frames, 1)));
    if (!keep_going) break;
  }
  if (timings) timings->decoder_gflop += (decoder_.flops() - decoder_flops_start) / 1e9;
  return out;
}

}  // namespace wisp
