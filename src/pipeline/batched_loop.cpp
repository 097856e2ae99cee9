#include "pipeline/batched_loop.h"

#include <algorithm>
#include <map>
#include <random>
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

// Frames of padding after a chunk's log-mel (1 s).
constexpr int kMelPadFrames = 100;
// Shortest remaining work first: a job with more than this many times the speech left of the job with the
// least waits (its chunks keep their state, and take no slot of the in-flight limit), so that a short
// request's steps are not slowed by a long one's rows and encoder calls — but never longer than
// kMaxPauseSeconds at a time. Chunks in flight, paused ones included, stay under twice the limit. A job
// down to its last chunk never waits: one window more in a step costs the short job little, and holding it
// back would only serialise short jobs (several clips at once decoded one after the other).
constexpr double kPauseRatio = 4.0;
constexpr double kMaxPauseSeconds = 5.0;

}  // namespace

// A job in the loop: its bookkeeping beside the caller's BatchedJob.
struct BatchedLoop::JobState {
  BatchedJob* job = nullptr;
  size_t next_chunk = 0;                            // chunks opened so far (the next one's index)
  int live = 0;                                     // chunks in flight
  size_t next_out = 0;                              // the next chunk whose segments go out
  std::map<size_t, std::vector<Segment>> finished;  // by chunk, until every earlier chunk is out
  std::vector<int> prompt_tokens;
  decode::DecodingOptions d;
  std::string language;
  std::mt19937 rng;
  align::WordOptions word_options;
  double done_speech = 0.0, progress = 0.0;
  bool keep_going = true;
  int round_tasks = 0;   // its passes in this round's decoder step
  bool paused = false;   // this round: a much shorter job runs first
  bool holding = false;  // this round: its passes wait for more of its chunks (BatchedJob::at_hand)
  Clock::time_point last_run = Clock::now();
  // Speech left: in the chunks found and not done, and the audio not read yet (taken for speech).
  double remaining() const { return job->feed->speech_put() - done_speech + job->feed->unread(); }
  // Chunks left, counting one more while the feed is open (a job's last chunk is never paused).
  size_t chunks_left() const {
    return job->feed->waiting() + static_cast<size_t>(live) + (job->feed->closed() ? 0 : 1);
  }
};

// One chunk on its way through the openai loop.
struct BatchedLoop::Chunk {
  Chunk(JobState& j, ReadyChunk& c)
      : job(&j),
        to_recording_time(c.chunk.pieces),
        speech(static_cast<double>(c.chunk.samples())),
        stretches(std::move(c.stretches)) {}
  JobState* job;
  size_t index = 0;                     // of the chunk in its job
  vad::TimestampMap to_recording_time;  // chunk time (its pieces end to end) → recording time
  double speech;                        // samples
  std::vector<vad::SpeechSpan> stretches;
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

struct BatchedLoop::Scratch {
  Scratch(const WhisperModel& m, nn::Decoder& d) : stepper(m, d) {}
  decode::DecodingStepper stepper;
  std::vector<decode::DecodingTask*> tasks;
  std::vector<Chunk*> to_encode;
};

namespace {

// A segment of a chunk (chunk time) in the recording's time (the time map keeps it within one piece and
// ends it with the chunk: Whisper's last timestamp can overshoot its audio), words held to the speech.
void to_recording(Segment& seg, const vad::TimestampMap& map, const std::vector<vad::SpeechSpan>& stretches) {
  std::tie(seg.start, seg.end) = map.original_segment(seg.start, seg.end);
  if (seg.words.empty()) return;
  for (Word& w : seg.words) std::tie(w.start, w.end) = map.original_segment(w.start, w.end);
  vad::clamp_words_to_speech(seg, stretches);
}

}  // namespace

BatchedLoop::BatchedLoop(const WhisperModel& model, nn::Encoder& encoder, nn::Decoder& decoder, int threads,
                         int max_in_flight)
    : model_(model),
      encoder_(encoder),
      decoder_(decoder),
      threads_(threads),
      max_in_flight_(std::max(1, max_in_flight)),
      scratch_(std::make_unique<Scratch>(model, decoder)) {}

BatchedLoop::~BatchedLoop() { drop_all(); }

void BatchedLoop::add(BatchedJob* job) {
  auto j = std::make_unique<JobState>();
  j->job = job;
  const BatchedJob& b = *job;
  const TranscribeOptions& o = b.options;
  j->prompt_tokens = initial_prompt_tokens(o, model_.tokenizer());
  j->d = decoding_options(o, model_.dims().n_text_ctx);
  j->language = model_.multilingual() ? b.language : "en";
  j->rng.seed(o.seed);
  j->word_options = {o.prepend_punctuations, o.append_punctuations};
  job->transcript = Transcript{};
  job->transcript.word_timestamps = o.word_timestamps;
  jobs_.push_back(std::move(j));
}

std::unique_ptr<BatchedLoop::Chunk> BatchedLoop::open_chunk(JobState& j, ReadyChunk& c) {
  const BatchedJob& b = *j.job;
  auto s = std::make_unique<Chunk>(j, c);
  s->index = j.next_chunk++;
  ++j.live;
  const auto t0 = Clock::now();
  // Padded by 1 s, not 30: the frames past the content are never read (audio::mel_window zero-fills
  // them), and those up to its end see the same zeros after them.
  s->mel = audio::log_mel_spectrogram(c.audio.data(), c.audio.size(), model_.dims().n_mels,
                                      kMelPadFrames * audio::kHopLength, threads_);
  std::vector<float>().swap(c.audio);  // the log-mel is all the loop needs of it
  s->content_frames = s->mel.n_frames - kMelPadFrames;
  s->all_tokens = j.prompt_tokens;
  if (b.timings) b.timings->mel_ms += ms_since(t0);
  return s;
}

// One window per encoder call: the encoder takes windows one after another anyway, so a batch would only
// grow its buffers (~3 MB per tiny window). The caller's thread share is looked at again by the encoder,
// before each window's conv stem and each layer (reshare_ as its hook).
void BatchedLoop::encode_new_windows() {
  const WhisperModel& m = model_;
  const int n_mels = m.dims().n_mels, D = m.dims().n_audio_state, T = m.dims().n_audio_ctx;
  const size_t window_floats = static_cast<size_t>(n_mels) * audio::kChunkFrames;
  std::vector<Chunk*>& to_encode = scratch_->to_encode;
  to_encode.clear();
  for (auto& s : live_)
    if (s->window < 0 && !s->job->paused) to_encode.push_back(s.get());
  mels_.resize(sizeof(float) * window_floats);
  features_.resize(sizeof(float) * static_cast<size_t>(T) * D);
  for (Chunk* c : to_encode) {
    Chunk& s = *c;
    audio::mel_window(s.mel, s.seek, std::min(audio::kChunkFrames, s.content_frames - s.seek),
                      mels_.as<float>());
    const auto te = Clock::now();
    const double before = decoder_.flops();
    encoder_.encode(mels_.as<float>(), features_.as<float>(), 1, &reshare_);
    decoder_.add_windows(features_.as<float>(), 1, &s.window);
    if (StageTimings* t = s.job->job->timings) {
      t->encoder_ms += ms_since(te);
      t->n_windows++;
      t->encoder_gflop += (nn::Encoder::flops_per_window(m.dims()) + (decoder_.flops() - before)) / 1e9;
    }
  }
}

void BatchedLoop::finish_pass(Chunk& s) {
  JobState& j = *s.job;
  const TranscribeOptions& o = j.job->options;
  const decode::Tokenizer& tok = model_.tokenizer();
  const decode::DecodingResult r = s.task->result();
  s.fallback_steps += s.task->steps();
  s.task.reset();
  if (j.job->timings) j.job->timings->n_decode_passes++;
  if (retry_at_next_temperature(o, r, s.temperature, s.fallback_steps, j.d.sample_len)) {
    ++s.temperature;
    return;
  }
  s.temperature = 0;
  s.fallback_steps = 0;
  const int segment_size = std::min(audio::kChunkFrames, s.content_frames - s.seek);
  if (is_silence(o, r)) {
    s.seek += segment_size;
  } else {
    const double time_offset = s.seek * kFrameSeconds;  // in the chunk
    WindowSegments ws = window_segments(tok, r, s.seek, segment_size, time_offset);
    if (o.word_timestamps) {  // while the decoder still holds the window's audio
      align::add_word_timestamps(model_, decoder_, s.window, tok.sot_sequence(j.language, o.translate),
                                 j.language, ws.segments, time_offset, segment_size, s.last_speech,
                                 j.word_options);
      if (seek_after_words(ws, s.seek, segment_size, time_offset, s.last_speech,
                           o.hallucination_silence_threshold, s.content_frames, kOpenaiPunctuation)) {
        s.seek = ws.next_seek;  // skipped up to a hallucination after a silence: nothing kept
        decoder_.release_window(s.window);
        s.window = -1;
        return;
      }
    }
    s.seek = ws.next_seek;
    for (Segment& seg : ws.segments) {
      if (!keeps(seg)) continue;
      s.all_tokens.insert(s.all_tokens.end(), seg.tokens.begin(), seg.tokens.end());
      to_recording(seg, s.to_recording_time, s.stretches);
      s.segments.push_back(std::move(seg));
    }
    if (!o.condition_on_previous_text || r.temperature > 0.5f) s.prompt_reset_since = s.all_tokens.size();
  }
  decoder_.release_window(s.window);
  s.window = -1;
}

// Segments of the chunks that are through, in order, as far as every earlier chunk is out.
void BatchedLoop::emit(JobState& j) {
  BatchedJob& b = *j.job;
  Transcript& out = b.transcript;
  for (auto it = j.finished.find(j.next_out); it != j.finished.end() && j.keep_going;
       it = j.finished.find(j.next_out)) {
    for (Segment& seg : it->second) {
      seg.id = static_cast<int>(out.segments.size());
      if (b.timings) b.timings->n_tokens += static_cast<int>(seg.tokens.size());
      out.segments.push_back(std::move(seg));
      if (b.on_segment && !b.on_segment(out.segments.back())) {
        j.keep_going = false;  // told to stop: no more segments, not even the rest of this chunk's
        break;
      }
    }
    j.finished.erase(it);
    ++j.next_out;
  }
  // The share of the speech found so far that is done, times the share of the recording read (known once
  // it is all read, or from its header); never going back.
  const double found = b.feed->speech_put();
  const double share = found > 0 ? j.done_speech / found * b.feed->read_fraction() : 0.0;
  if (b.on_progress && share > j.progress) {
    j.progress = std::min(1.0, share);
    b.on_progress(j.progress);
  }
}

// The job's chunks still in flight give their decoder windows back; the job leaves.
void BatchedLoop::leave(JobState& j) {
  for (auto& s : live_) {
    if (!s || s->job != &j) continue;
    s->task.reset();
    if (s->window >= 0) decoder_.release_window(s->window);
    s.reset();
  }
  live_.erase(std::remove(live_.begin(), live_.end(), nullptr), live_.end());
  j.job->transcript.language = j.language.empty() ? "en" : j.language;  // no speech to detect it on: English
  j.job->transcript.duration = static_cast<double>(j.job->feed->samples_seen()) / 16000.0;
  j.job->feed->abandon();  // a finder still reading stops
}

int BatchedLoop::fill() {
  // Cancelled jobs leave before any work is spent on them.
  for (auto& j : jobs_)
    if (j->job->cancelled && j->job->cancelled()) j->keep_going = false;
  retire_jobs();

  // Which jobs wait this round (shortest remaining work first), measured against the jobs that have work
  // now: one whose chunks are still being found holds no one back.
  const auto now = Clock::now();
  double least = -1.0;
  for (auto& j : jobs_)
    if ((j->live > 0 || j->job->feed->waiting() > 0) && (least < 0 || j->remaining() < least))
      least = j->remaining();
  int paused_chunks = 0;
  for (auto& j : jobs_) {
    j->paused = least >= 0 && j->chunks_left() > 1 && j->remaining() > kPauseRatio * least &&
                std::chrono::duration<double>(now - j->last_run).count() < kMaxPauseSeconds;
    if (j->paused)
      paused_chunks += j->live;
    else
      j->last_run = now;
  }

  // Free slots to the running jobs with the fewest chunks in flight (the oldest first among equals).
  int opened = 0;
  while (static_cast<int>(live_.size()) - paused_chunks < max_in_flight_ &&
         static_cast<int>(live_.size()) < 2 * max_in_flight_) {
    JobState* best = nullptr;
    for (auto& j : jobs_) {
      const int cap = std::max(1, j->job->options.batch_size);
      if (j->keep_going && !j->paused && j->live < cap && j->job->feed->waiting() > 0 &&
          (!best || j->live < best->live))
        best = j.get();
    }
    if (!best || !best->job->feed->pop(ready_)) break;
    if (reshare_) reshare_();
    live_.push_back(open_chunk(*best, ready_));
    ++opened;
  }
  if (live_.empty()) {  // every job waits for chunks (or none is left)
    retire_jobs();
    return 0;
  }
  const bool room = static_cast<int>(live_.size()) - paused_chunks < max_in_flight_;
  for (auto& j : jobs_)
    j->holding = j->job->at_hand && room && j->live < std::max(1, j->job->options.batch_size) &&
                 !j->job->feed->closed();
  encode_new_windows();
  return opened;
}

bool BatchedLoop::step() {
  last_step_rows_ = 0;
  const int opened = fill();
  if (live_.empty()) return false;

  const auto td = Clock::now();
  const double flops_before = decoder_.flops();
  for (auto& j : jobs_) {
    j->round_tasks = 0;
    if (!j->language.empty() || !j->keep_going || j->paused) continue;
    for (auto& s : live_)  // detected on the job's first chunk's first window
      if (s->job == j.get() && s->window >= 0) {
        const auto langs = decode::detect_language(model_, decoder_, s->window);
        j->language = langs.front().code;
        j->job->transcript.language_probability = langs.front().probability;
        break;
      }
  }

  // Start a pass where none runs, then one decoder step for all of them.
  std::vector<decode::DecodingTask*>& tasks = scratch_->tasks;
  tasks.clear();
  for (auto& s : live_) {
    JobState& j = *s->job;
    if (!j.keep_going || j.paused || j.holding || s->window < 0) continue;
    if (!s->task) {
      j.d.language = j.language;
      j.d.temperature = j.job->options.temperatures[s->temperature];
      j.d.prompt.assign(s->all_tokens.begin() + static_cast<std::ptrdiff_t>(s->prompt_reset_since),
                        s->all_tokens.end());
      s->task = std::make_unique<decode::DecodingTask>(model_, decoder_, j.d, s->window, &j.rng);
    }
    tasks.push_back(s->task.get());
    ++j.round_tasks;
  }
  if (!tasks.empty()) scratch_->stepper.step(tasks.data(), static_cast<int>(tasks.size()));
  last_step_rows_ = static_cast<int>(tasks.size());

  // Finished passes: retry at the next temperature, or take the result and move the chunk's seek.
  for (auto& s : live_)
    if (s->task && s->task->done()) finish_pass(*s);

  // This round's decoder time and work, shared by the jobs in proportion to their passes.
  const double ms = ms_since(td), flops = decoder_.flops() - flops_before;
  for (auto& j : jobs_)
    if (StageTimings* t = j->job->timings; t && j->round_tasks > 0) {
      const double share = static_cast<double>(j->round_tasks) / static_cast<double>(tasks.size());
      t->decoder_ms += ms * share;
      t->decoder_gflop += flops * share / 1e9;
      t->n_decode_steps++;
    }

  // Chunks that are through leave; their segments go out once every earlier chunk's have.
  for (auto& s : live_)
    if (s->seek >= s->content_frames) {
      JobState& j = *s->job;
      j.done_speech += s->speech;
      j.finished[s->index] = std::move(s->segments);
      --j.live;
      s.reset();
    }
  live_.erase(std::remove(live_.begin(), live_.end(), nullptr), live_.end());

  for (auto& j : jobs_)
    if (j->keep_going) emit(*j);
  retire_jobs();
  return opened > 0 || !tasks.empty();
}

// Jobs that are through, stopped or cancelled leave.
void BatchedLoop::retire_jobs() {
  for (auto& j : jobs_) {
    if (j->keep_going && (!j->job->feed->drained() || j->live > 0 || !j->finished.empty())) continue;
    leave(*j);
    BatchedJob* done = j->job;
    j.reset();
    if (done->on_done) done->on_done();
  }
  jobs_.erase(std::remove(jobs_.begin(), jobs_.end(), nullptr), jobs_.end());
}

std::vector<BatchedJob*> BatchedLoop::drop_all() {
  std::vector<BatchedJob*> out;
  for (auto& j : jobs_) {
    leave(*j);
    out.push_back(j->job);
  }
  jobs_.clear();
  live_.clear();
  return out;
}

}  // namespace wisp
