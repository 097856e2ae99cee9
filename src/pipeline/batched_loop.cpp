#include "pipeline/batched_loop.h"

#include <algorithm>
#include <map>
#include <tuple>

#include "align/word_timestamps.h"
#include "audio/mel.h"
#include "core/stopwatch.h"
#include "decode/decoding_task.h"
#include "decode/language_detection.h"
#include "pipeline/window_result.h"
#include "vad/timestamp_map.h"
#include "vad/word_clamp.h"

namespace wisp {
namespace {

// Windows the encoder takes per call, at most (its buffers grow with them: ~30 MB per tiny window).
constexpr int kMaxEncoderBatch = 8;
// Frames of padding after a chunk's log-mel (1 s).
constexpr int kMelPadFrames = 100;

// One chunk on its way through the openai loop.
struct Stream {
  explicit Stream(const vad::SpeechChunk& c) : to_recording_time(c.pieces) {}
  size_t index = 0;                     // of the chunk
  vad::TimestampMap to_recording_time;  // chunk time (its pieces end to end) → recording time
  audio::LogMel mel;
  int content_frames = 0;
  int seek = 0;
  int window = -1;         // the decoder window holding the audio at seek; -1: not encoded yet
  size_t temperature = 0;  // index into the fallback temperatures
  int fallback_steps = 0;
  std::unique_ptr<decode::DecodingTask> task;
  std::vector<int> all_tokens;
  size_t prompt_reset_since = 0;
  std::vector<Segment> segments;
  double last_speech = 0.0;  // word timestamps: end of the chunk's speech so far (chunk time)
};

// A segment of a chunk (chunk time) in the recording's time (the time map keeps it within one piece and
// ends it with the chunk: Whisper's last timestamp can overshoot its audio), words held to the speech.
void to_recording(Segment& seg, const Stream& s, const std::vector<vad::SpeechSpan>& stretches) {
  std::tie(seg.start, seg.end) = s.to_recording_time.original_segment(seg.start, seg.end);
  if (seg.words.empty()) return;
  for (Word& w : seg.words) std::tie(w.start, w.end) = s.to_recording_time.original_segment(w.start, w.end);
  vad::clamp_words_to_speech(seg, stretches);
}

}  // namespace

Transcript BatchedLoop::run(const float* samples, size_t n_samples,
                            const std::vector<vad::SpeechChunk>& chunks,
                            const std::vector<audio::Gain>& gains,
                            const std::vector<vad::SpeechSpan>& stretches, const TranscribeOptions& o,
                            const std::string& requested_language,
                            const std::function<bool(const Segment&)>& on_segment,
                            const std::function<void(double)>& on_progress, StageTimings* timings) {
  const WhisperModel& m = model_;
  const decode::Tokenizer& tok = m.tokenizer();
  const int n_mels = m.dims().n_mels, D = m.dims().n_audio_state, T = m.dims().n_audio_ctx;
  const size_t window_floats = static_cast<size_t>(n_mels) * audio::kChunkFrames;
  const int batch = std::max(1, o.batch_size);
  Transcript out;
  out.duration = static_cast<double>(n_samples) / 16000.0;
  std::string language = m.multilingual() ? requested_language : "en";

  const std::vector<int> prompt_tokens = initial_prompt_tokens(o, tok);

  double total_speech = 0.0, done_speech = 0.0;
  for (const auto& c : chunks) total_speech += static_cast<double>(c.samples());
  std::vector<float> chunk_audio;
  auto open_stream = [&](size_t index) {
    const vad::SpeechChunk& c = chunks[index];
    auto s = std::make_unique<Stream>(c);
    s->index = index;
    const auto t0 = Clock::now();
    chunk_audio.clear();
    for (const vad::SpeechSpan& p : c.pieces)
      audio::append_levelled(samples, p.start, p.end, gains, chunk_audio);
    // Padded by 1 s, not 30: the frames past the content are never read (audio::mel_window zero-fills
    // them), and those up to its end see the same zeros after them.
    s->mel = audio::log_mel_spectrogram(chunk_audio.data(), chunk_audio.size(), n_mels,
                                        kMelPadFrames * audio::kHopLength, threads_);
    s->content_frames = s->mel.n_frames - kMelPadFrames;
    s->all_tokens = prompt_tokens;
    if (timings) timings->mel_ms += ms_since(t0);
    return s;
  };

  decode::DecodingOptions d = decoding_options(o, m.dims().n_text_ctx);

  const align::WordOptions word_options{o.prepend_punctuations, o.append_punctuations};
  out.word_timestamps = o.word_timestamps;
  decode::DecodingStepper stepper(m, decoder_);
  std::vector<std::unique_ptr<Stream>> live;
  std::map<size_t, std::vector<Segment>> finished;  // by chunk, until every earlier chunk is out
  std::vector<decode::DecodingTask*> tasks;
  std::vector<Stream*> to_encode;
  size_t next_chunk = 0, next_out = 0;
  bool keep_going = true;
  const double decoder_flops_start = decoder_.flops();

  while (keep_going) {
    while (static_cast<int>(live.size()) < batch && next_chunk < chunks.size())
      live.push_back(open_stream(next_chunk++));
    if (live.empty()) break;

    // Encode the windows that are needed, several per encoder call.
    to_encode.clear();
    for (auto& s : live)
      if (s->window < 0) to_encode.push_back(s.get());
    for (size_t b0 = 0; b0 < to_encode.size(); b0 += kMaxEncoderBatch) {
      const int n = static_cast<int>(std::min<size_t>(kMaxEncoderBatch, to_encode.size() - b0));
      mels_.resize(window_floats * n);
      features_.resize(static_cast<size_t>(n) * T * D);
      for (int i = 0; i < n; ++i) {
        const Stream& s = *to_encode[b0 + i];
        audio::mel_window(s.mel, s.seek, std::min(audio::kChunkFrames, s.content_frames - s.seek),
                          mels_.data() + window_floats * i);
      }
      const auto te = Clock::now();
      const double before = decoder_.flops();
      encoder_.encode(mels_.data(), features_.data(), n);
      std::vector<int> ids(n);
      decoder_.add_windows(features_.data(), n, ids.data());
      for (int i = 0; i < n; ++i) to_encode[b0 + i]->window = ids[i];
      if (timings) {
        timings->encoder_ms += ms_since(te);
        timings->n_windows += n;
        const double cross = decoder_.flops() - before;
        timings->encoder_gflop += (n * nn::Encoder::flops_per_window(m.dims()) + cross) / 1e9;
        timings->decoder_gflop -= cross / 1e9;  // taken back out of the decoder's count below
      }
    }

    const auto td = Clock::now();
    if (language.empty()) {  // detected on the first chunk's first window
      const auto langs = decode::detect_language(m, decoder_, live.front()->window);
      language = langs.front().code;
      out.language_probability = langs.front().probability;
    }
    d.language = language;

    // Start a pass where none runs, then one decoder step for all of them.
    tasks.clear();
    for (auto& s : live) {
      if (!s->task) {
        d.temperature = o.temperatures[s->temperature];
        d.prompt.assign(s->all_tokens.begin() + static_cast<std::ptrdiff_t>(s->prompt_reset_since),
                        s->all_tokens.end());
        s->task = std::make_unique<decode::DecodingTask>(m, decoder_, d, s->window, &rng_);
      }
      tasks.push_back(s->task.get());
    }
    stepper.step(tasks.data(), static_cast<int>(tasks.size()));
    if (timings) timings->n_decode_steps++;

    // Finished passes: retry at the next temperature, or take the result and move the chunk's seek.
    for (auto& s : live) {
      if (!s->task->done()) continue;
      const decode::DecodingResult r = s->task->result();
      s->fallback_steps += s->task->steps();
      s->task.reset();
      if (timings) timings->n_decode_passes++;
      if (retry_at_next_temperature(o, r, s->temperature, s->fallback_steps, d.sample_len)) {
        ++s->temperature;
        continue;
      }
      s->temperature = 0;
      s->fallback_steps = 0;
      const int segment_size = std::min(audio::kChunkFrames, s->content_frames - s->seek);
      if (is_silence(o, r)) {
        s->seek += segment_size;
      } else {
        const double time_offset = s->seek * kFrameSeconds;  // in the chunk
        WindowSegments ws = window_segments(tok, r, s->seek, segment_size, time_offset);
        if (o.word_timestamps) {  // while the decoder still holds the window's audio
          align::add_word_timestamps(m, decoder_, s->window, tok.sot_sequence(language, o.translate),
                                     language, ws.segments, time_offset, segment_size, s->last_speech,
                                     word_options);
          seek_after_words(ws, s->seek, segment_size, time_offset, s->last_speech);
        }
        s->seek = ws.next_seek;
        for (Segment& seg : ws.segments) {
          if (!keeps(seg)) continue;
          s->all_tokens.insert(s->all_tokens.end(), seg.tokens.begin(), seg.tokens.end());
          to_recording(seg, *s, stretches);
          s->segments.push_back(std::move(seg));
        }
        if (!o.condition_on_previous_text || r.temperature > 0.5f)
          s->prompt_reset_since = s->all_tokens.size();
      }
      decoder_.release_window(s->window);
      s->window = -1;
    }
    if (timings) timings->decoder_ms += ms_since(td);

    // Chunks that are through leave; their segments go out once every earlier chunk's have.
    for (auto& s : live)
      if (s->seek >= s->content_frames) {
        done_speech += static_cast<double>(chunks[s->index].samples());
        finished[s->index] = std::move(s->segments);
        s.reset();
      }
    live.erase(std::remove(live.begin(), live.end(), nullptr), live.end());
    for (auto it = finished.find(next_out); it != finished.end() && keep_going;
         it = finished.find(next_out)) {
      for (Segment& seg : it->second) {
        seg.id = static_cast<int>(out.segments.size());
        if (timings) timings->n_tokens += static_cast<int>(seg.tokens.size());
        out.segments.push_back(std::move(seg));
        if (on_segment && !on_segment(out.segments.back())) {
          keep_going = false;  // told to stop: no more segments, not even the rest of this chunk's
          break;
        }
      }
      finished.erase(it);
      ++next_out;
    }
    if (on_progress && total_speech > 0) on_progress(std::min(1.0, done_speech / total_speech));
  }
  // Stopped early: whatever is still in flight gives its decoder windows back.
  for (auto& s : live) {
    s->task.reset();
    if (s->window >= 0) decoder_.release_window(s->window);
  }
  out.language = language.empty() ? "en" : language;  // no speech to detect it on: English
  if (timings) timings->decoder_gflop += (decoder_.flops() - decoder_flops_start) / 1e9;
  return out;
}

}  // namespace wisp
