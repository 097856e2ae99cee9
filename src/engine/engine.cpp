#include "engine/engine.h"

#include "backend/buffer.h"
#include "backend/cpu/threads.h"
#include "backend/exec.h"
#include "core/error.h"
#include "nn/decoder.h"
#include "nn/encoder.h"
#include "pipeline/speech_stream.h"
#include "pipeline/transcriber.h"
#include "vad/silero_vad.h"
#include "vad/vad_model_path.h"

namespace wisp {
namespace {

// A job's chunks in flight at most when its options leave it open (batch_size 0).
constexpr int kDefaultJobBatch = 8;
// Contexts transcribe_here keeps between calls.
constexpr size_t kIdleContexts = 2;
// Chunks found ahead of the loop for a recording submitted whole: its samples are in memory anyway, and
// submit() should return at once for most (16 min of speech), so that a caller who streams the segments
// (server-sent events) sees them as they come; a longer one waits for room, its chunks' copies bounded.
constexpr size_t kChunksAheadInMemory = 32;

}  // namespace

// The engine's side of the compute: its threads and scratch, encoder, decoder and loop.
struct Engine::Compute {
  Compute(const WhisperModel& m, int threads, int max_in_flight)
      : threads(threads),
        exec{threads, &workspace},
        encoder(m, exec),
        decoder(m, exec),
        loop(m, encoder, decoder, threads, max_in_flight) {}
  const int threads;  // all of them (exec.threads: those the next step may use)
  backend::Workspace workspace;
  backend::Exec exec;
  nn::Encoder encoder;
  nn::Decoder decoder;
  BatchedLoop loop;
};

EngineStats& EngineStats::operator+=(const EngineStats& o) {
  queued_jobs += o.queued_jobs;
  running_jobs += o.running_jobs;
  chunks_in_flight += o.chunks_in_flight;
  held_audio_seconds += o.held_audio_seconds;
  jobs_done += o.jobs_done;
  decoder_steps += o.decoder_steps;
  decoder_rows += o.decoder_rows;
  for (size_t b = 0; b < std::size(step_rows_le); ++b) step_rows_le[b] += o.step_rows_le[b];
  work += o.work;
  return *this;
}

Transcript EngineJob::wait() {
  std::unique_lock lk(mu_);
  cv_.wait(lk, [&] { return done_; });
  if (error_) std::rethrow_exception(error_);
  return job_.transcript;
}

StageTimings EngineJob::timings() const {
  std::lock_guard lk(mu_);
  return timings_;
}

bool EngineJob::done() const {
  std::lock_guard lk(mu_);
  return done_;
}

Engine::Engine(std::shared_ptr<const WhisperModel> model, const EngineOptions& options)
    : model_(std::move(model)), options_(options) {
  if (options_.threads < 0 || options_.threads > 1024)
    throw Error(ErrorKind::InvalidArgument, "engine thread count out of range");
  if (options_.max_in_flight < 1 || options_.max_in_flight > 256)
    throw Error(ErrorKind::InvalidArgument, "windows in flight must be between 1 and 256");
  if (options_.max_jobs < 1) throw Error(ErrorKind::InvalidArgument, "the job limit must be at least 1");
  if (!(options_.max_audio_seconds >= 0.0))
    throw Error(ErrorKind::InvalidArgument, "the audio limit must be 0 (none) or more seconds");
  const int threads = options_.threads == 0 ? backend::cpu::thread_budget() : options_.threads;
  compute_ = std::make_unique<Compute>(*model_, threads, options_.max_in_flight);
  vad();  // a missing or bad VAD model is reported now, not on the first request
  thread_ = std::thread([this] { run(); });
}

Engine::~Engine() {
  {
    std::lock_guard lk(mu_);
    accepting_ = false;
    quit_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

const vad::SileroVad& Engine::vad() {
  std::lock_guard lk(vad_mu_);
  if (!vad_)
    vad_ = std::make_unique<vad::SileroVad>(
        vad::load_silero_model(vad::resolve_vad_model(options_.vad_model)), model_->isa());
  return *vad_;
}

Engine::Admission::Admission(Engine& e, size_t samples) : engine(e), n(samples) {
  std::lock_guard lk(e.mu_);
  if (!e.accepting_) throw EngineStopping("the engine is shutting down");
  if (static_cast<int>(e.incoming_.size() + e.running_.size()) + e.preparing_ >= e.options_.max_jobs)
    throw EngineBusy("too many transcriptions at once (" + std::to_string(e.options_.max_jobs) + ")");
  const double budget = e.options_.max_audio_seconds * 16000.0;
  if (budget > 0 && static_cast<double>(e.held_samples_ + n) > budget)
    throw EngineBusy("too much audio under way (the engine holds at most " +
                     std::to_string(static_cast<int>(e.options_.max_audio_seconds / 60)) +
                     " minutes at once)");
  e.held_samples_ += n;
  ++e.preparing_;
}

Engine::Admission::~Admission() {
  std::lock_guard lk(engine.mu_);
  --engine.preparing_;
  if (!queued) engine.held_samples_ -= n;
}

Transcript Engine::transcribe_here(std::vector<float> samples, const TranscribeOptions& o,
                                   const std::function<bool(const Segment&)>& on_segment,
                                   const std::function<bool()>& cancelled) {
  if (o.batch_size > 0) throw Error(ErrorKind::InvalidArgument, "transcribe_here runs the sequential modes");
  validate_options(o, *model_);
  Admission admission(*this, samples.size());
  std::unique_ptr<Transcriber> context;
  {
    std::lock_guard lk(contexts_mu_);
    if (!idle_contexts_.empty()) {
      context = std::move(idle_contexts_.back());
      idle_contexts_.pop_back();
    }
  }
  if (!context) context = std::make_unique<Transcriber>(model_, options_.threads);
  bool stopped = false;
  const Transcript t = context->transcribe(samples.data(), samples.size(), o, [&](const Segment& s) {
    stopped = (cancelled && cancelled()) || (on_segment && !on_segment(s));
    return !stopped;
  });
  {  // kept for the next call, a few at most (each holds its encoder's and decoder's buffers)
    std::lock_guard lk(contexts_mu_);
    if (idle_contexts_.size() < kIdleContexts) idle_contexts_.push_back(std::move(context));
  }
  if (stopped && cancelled && cancelled()) throw Error(ErrorKind::Cancelled, "transcription cancelled");
  return t;
}

std::shared_ptr<EngineJob> Engine::submit(std::vector<float> samples, const TranscribeOptions& options,
                                          std::function<bool(const Segment&)> on_segment,
                                          std::function<void(double)> on_progress,
                                          std::function<bool()> cancelled) {
  return start(std::move(samples), {}, options, std::move(on_segment), std::move(on_progress),
               std::move(cancelled), kChunksAheadInMemory);
}

std::shared_ptr<EngineJob> Engine::submit_stream(const AudioProducer& produce,
                                                 const TranscribeOptions& options,
                                                 std::function<bool(const Segment&)> on_segment,
                                                 std::function<void(double)> on_progress,
                                                 std::function<bool()> cancelled, size_t chunks_ahead) {
  return start({}, produce, options, std::move(on_segment), std::move(on_progress), std::move(cancelled),
               chunks_ahead);
}

void Engine::wake() {
  {
    std::lock_guard lk(mu_);
    ++feed_events_;
  }
  cv_.notify_all();
}

// The job is queued first, then its audio (`samples`, or what `produce` hands over) goes through the
// stream on this thread.
std::shared_ptr<EngineJob> Engine::start(std::vector<float> samples, const AudioProducer& produce,
                                         const TranscribeOptions& options,
                                         std::function<bool(const Segment&)> on_segment,
                                         std::function<void(double)> on_progress,
                                         std::function<bool()> cancelled, size_t chunks_ahead) {
  const size_t n = samples.size();
  std::unique_ptr<EngineStream> stream =
      open(std::move(samples), options, std::move(on_segment), std::move(on_progress), std::move(cancelled),
           chunks_ahead, /*count_read=*/static_cast<bool>(produce), /*at_hand=*/true);
  audio::SampleSink sink;
  sink.length = [&](size_t len) { stream->expect(len); };
  sink.block = [&](const float* block, size_t len) { return stream->push(block, len); };
  (produce ? produce : samples_producer(stream->job_->samples_.data(), n))(sink);
  return stream->finish();  // unfinished (what `produce` threw), the stream cancels its job
}

std::unique_ptr<EngineStream> Engine::open_stream(const TranscribeOptions& options,
                                                  std::function<bool(const Segment&)> on_segment,
                                                  std::function<void(double)> on_progress,
                                                  std::function<bool()> cancelled, size_t chunks_ahead) {
  return open({}, options, std::move(on_segment), std::move(on_progress), std::move(cancelled), chunks_ahead,
              /*count_read=*/true, /*at_hand=*/false);
}

std::unique_ptr<EngineStream> Engine::open(std::vector<float> samples, const TranscribeOptions& options,
                                           std::function<bool(const Segment&)> on_segment,
                                           std::function<void(double)> on_progress,
                                           std::function<bool()> cancelled, size_t chunks_ahead,
                                           bool count_read, bool at_hand) {
  TranscribeOptions o = options;
  if (o.batch_size <= 0) o.batch_size = kDefaultJobBatch;
  o.vad_filter = false;
  validate_options(o, *model_);
  const size_t n = samples.size();
  Admission admission(*this, n);  // before the VAD's work: the job's place and its audio, taken now
  const vad::SileroVad& detector = vad();

  auto job = std::make_shared<EngineJob>();
  job->samples_ = std::move(samples);
  job->n_samples_ = n;
  job->feed_.set_listener([this] { wake(); });
  BatchedJob& b = job->job_;
  b.feed = &job->feed_;
  b.options = o;
  b.at_hand = at_hand;
  b.language = requested_language(o, *model_);
  b.timings = &job->timings_;
  b.on_segment = std::move(on_segment);
  b.on_progress = std::move(on_progress);
  EngineJob* j = job.get();
  job->extra_cancel_ = std::move(cancelled);
  b.cancelled = [j] {
    if (!j->cancelled_ && j->extra_cancel_ && j->extra_cancel_()) j->cancelled_ = true;
    return j->cancelled_.load();
  };
  b.on_done = [j] {
    std::lock_guard lk(j->mu_);
    j->done_ = true;
    if (j->cancelled_)
      j->error_ = std::make_exception_ptr(Error(ErrorKind::Cancelled, "transcription cancelled"));
    j->cv_.notify_all();
  };
  const size_t ahead =
      chunks_ahead > 0 ? chunks_ahead : kChunksAheadPerSlot * static_cast<size_t>(o.batch_size);
  std::unique_ptr<EngineStream> stream(new EngineStream(*this, job, o, detector, ahead, count_read));
  {
    std::lock_guard lk(mu_);
    if (!accepting_) throw EngineStopping("the engine is shutting down");
    incoming_.push_back(job);
    admission.queued = true;  // the engine gives its audio back when the job is done
  }
  cv_.notify_all();
  return stream;
}

// The speech is found on the caller's thread with one core (the engine's cores are busy decoding) — with
// the engine's threads while its loop has nothing to do but wait for chunks (a recording's first ones) —
// its time kept apart from the loop's (which writes the job's timings on its own thread) until the end.
// The VAD's results do not depend on its threads.
EngineStream::EngineStream(Engine& engine, std::shared_ptr<EngineJob> job, const TranscribeOptions& o,
                           const vad::SileroVad& vad, size_t ahead, bool count_read)
    : engine_(engine),
      job_(std::move(job)),
      ex_{1, &ws_},
      speech_(std::make_unique<SpeechStream>(vad, ex_, o, &found_)),
      ahead_(ahead),
      count_read_(count_read) {}

EngineStream::~EngineStream() {
  if (finished_) return;
  job_->cancel();  // the job leaves at the loop's next step
  job_->feed_.close(speech_->samples_seen());
}

void EngineStream::expect(size_t n_samples) { job_->feed_.expect(n_samples); }

bool EngineStream::push(const float* samples, size_t n) {
  if (finished_ || job_->feed_.abandoned()) return false;
  if (count_read_) {  // a stream's audio counts as it is read (and is given back with the job's)
    std::lock_guard lk(engine_.mu_);
    engine_.held_samples_ += n;
    job_->n_samples_ += n;
  }
  ex_.threads = engine_.starved_ ? engine_.compute_->threads : 1;
  speech_->push(samples, n);
  job_->feed_.put(speech_->take(), speech_->samples_seen());
  return job_->feed_.wait_for_room(ahead_);
}

std::shared_ptr<EngineJob> EngineStream::finish() {
  if (finished_) return job_;
  ex_.threads = engine_.starved_ ? engine_.compute_->threads : 1;
  speech_->finish();
  job_->feed_.put(speech_->take(), speech_->samples_seen());
  {
    std::lock_guard lk(job_->mu_);
    job_->timings_.vad_ms += found_.vad_ms;
    std::vector<float>().swap(job_->samples_);  // chunks hold their own audio
  }
  finished_ = true;
  job_->feed_.close(speech_->samples_seen());
  return job_;
}

void Engine::stop_accepting() {
  std::lock_guard lk(mu_);
  accepting_ = false;
}

void Engine::wait_idle() {
  std::unique_lock lk(mu_);
  idle_cv_.wait(lk, [&] { return incoming_.empty() && running_.empty(); });
}

EngineStats Engine::stats() const {
  std::lock_guard lk(mu_);
  EngineStats s = stats_;
  s.queued_jobs = static_cast<int>(incoming_.size());
  s.running_jobs = static_cast<int>(running_.size());
  s.held_audio_seconds = static_cast<double>(held_samples_) / 16000.0;
  return s;
}

void Engine::run() {
  BatchedLoop& loop = compute_->loop;
  // A core for each caller finding the speech of audio at hand (start(); not while it waits for room):
  // looked at before each step, and by the loop before each chunk's log-mel and window it encodes.
  // running_ changes on this thread only.
  auto reshare = [&] {
    int finding = 0;
    for (const auto& j : running_) finding += j->job_.at_hand && j->feed_.finder_busy() ? 1 : 0;
    const int share = std::max(1, compute_->threads - finding);
    compute_->exec.threads = share;
    loop.set_threads(share);
  };
  loop.set_reshare(reshare);
  std::unique_lock lk(mu_);
  bool idle = false;  // the last step found nothing to do: every job waits for chunks
  uint64_t seen = 0;  // feed_events_ before that step
  for (;;) {
    starved_ = idle && !running_.empty();
    cv_.wait(lk, [&] {
      return quit_ || !incoming_.empty() || (!running_.empty() && (!idle || feed_events_ != seen));
    });
    starved_ = false;
    seen = feed_events_;
    while (!incoming_.empty()) {  // new jobs join between steps
      running_.push_back(std::move(incoming_.front()));
      incoming_.pop_front();
      loop.add(&running_.back()->job_);
    }
    if (running_.empty()) {
      idle_cv_.notify_all();
      if (quit_) break;
      continue;
    }
    lk.unlock();
    try {
      reshare();
      idle = !loop.step();
    } catch (...) {  // the loop's state is lost: every job in it fails with the error
      const std::exception_ptr error = std::current_exception();
      for (BatchedJob* b : loop.drop_all())
        for (auto& j : running_)
          if (&j->job_ == b) {
            j->feed_.abandon();
            std::lock_guard jl(j->mu_);
            j->error_ = error;
            j->done_ = true;
            j->cv_.notify_all();
          }
    }
    lk.lock();
    if (const int rows = loop.last_step_rows(); rows > 0) {
      stats_.decoder_steps++;
      stats_.decoder_rows += static_cast<uint64_t>(rows);
      int b = 0;
      while (b < 7 && rows > EngineStats::kRowBuckets[b]) ++b;
      stats_.step_rows_le[b]++;
    }
    stats_.chunks_in_flight = loop.chunks_in_flight();
    for (auto& j : running_)
      if (j->done()) {
        stats_.jobs_done++;
        held_samples_ -= j->n_samples_;
        stats_.work += j->timings();
        j.reset();
      }
    running_.erase(std::remove(running_.begin(), running_.end(), nullptr), running_.end());
    if (running_.empty() && incoming_.empty()) idle_cv_.notify_all();
  }
  loop.set_reshare(nullptr);
}

}  // namespace wisp
