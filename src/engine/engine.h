// Engine: one owner of the compute for every transcription that runs in the batched mode — one encoder,
// one decoder with its pools of audio windows and KV-cache sequences, one thread that steps them, and the
// queue of jobs. Each caller (a server request, a library context) finds its speech (VAD, on its own
// thread, as the audio is read), and hands the chunks over as they are found; the engine's loop
// (pipeline/batched_loop.h) takes the chunks of every live job into the same encoder calls and decoder steps,
// and a newly arrived job gets the next free slots (the job with the fewest chunks in flight first), so a
// 10-s request does not wait for an hour-long one.
//
//   Engine engine(model, {.threads = 2, .max_in_flight = 6});
//   auto job = engine.submit(std::move(samples), options, on_segment);   // callbacks on the engine's thread
//   Transcript t = job->wait();
//   auto streamed = engine.submit_stream([&](const audio::SampleSink& s) { audio::decode_file_blocks(path,
//   s); },
//                                        options);                        // read as it is transcribed
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "backend/buffer.h"
#include "backend/exec.h"
#include "model/whisper_model.h"
#include "pipeline/batched_loop.h"
#include "pipeline/transcribe_options.h"
#include "pipeline/transcriber.h"
#include "pipeline/transcript.h"

namespace wisp {
namespace vad {
class SileroVad;
}
class SpeechStream;
class Engine;

struct EngineOptions {
  int threads = 0;  // compute threads of the engine's loop (0: every core)
  // Chunks (30-s windows) in flight over all jobs. Each one's cross-attention keys and values (9.2 MB for
  // tiny.en, 18.4 for base) are read at every decoder step: past a few, the step no longer runs from the
  // last-level cache. Measured on a 2-core Xeon (AMX), bench/serve_load.py, 16 clients, tiny.en beam 5:
  // 4 / 6 / 8 / 16 in flight gave 157 / 158-162 / 152-153 / 144-147 audio s/s (clips' p95 1.86 / 1.91-2.03 /
  // 2.13 / 2.48-2.53 s); greedy and base no worse at 6 than at 16; the CLI's four long files at once 14 %
  // sooner (greedy).
  int max_in_flight = 6;
  int max_jobs = 64;  // jobs queued or running at once; submit() refuses more (EngineBusy)
  // Audio the engine holds at once, queued and running jobs together (their samples: 230 MB per hour);
  // submit() refuses a job that would go past it (EngineBusy). 0: no limit. submit_stream()'s jobs hold a
  // few chunks at a time and count what they have read.
  double max_audio_seconds = 6 * 3600.0;
  std::string vad_model;  // "" finds the bundled Silero model
};

// One transcription handed to the engine.
class EngineJob {
 public:
  // Waits for the end; the transcript (what came out before a stop or cancel included), or throws what
  // failed it (Error(Cancelled) once cancel() was called).
  Transcript wait();
  bool done() const;
  // Asks the engine to drop the job at its next step (a client that went away).
  void cancel() { cancelled_ = true; }
  bool cancelled() const { return cancelled_; }
  // Seconds of audio (read so far, while a stream is being read).
  double duration() const { return static_cast<double>(feed_.samples_seen()) / 16000.0; }
  StageTimings timings() const;  // complete once done

 private:
  friend class Engine;
  friend class EngineStream;
  std::vector<float> samples_;  // submit()'s, released once its speech is found
  size_t n_samples_ = 0;        // in the engine's held audio (a stream's: as read); the engine's lock
  ChunkFeed feed_;
  BatchedJob job_;
  StageTimings timings_;
  std::atomic<bool> cancelled_{false};
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::exception_ptr error_;
  std::function<bool()> extra_cancel_;
};

struct EngineStats {
  int queued_jobs = 0;            // handed over, not yet in the loop
  int running_jobs = 0;           // in the loop
  int chunks_in_flight = 0;       // windows being decoded
  double held_audio_seconds = 0;  // audio of the jobs queued or running
  uint64_t jobs_done = 0;
  StageTimings work;  // summed over the finished jobs (each job's share of shared encoder calls and steps)
  uint64_t decoder_steps = 0, decoder_rows = 0;  // steps, and passes advanced over all of them
  // Decoder steps by the passes they advanced: at most 1, 2, 4, 8, 16, 32, 64, more (Prometheus buckets).
  static constexpr int kRowBuckets[] = {1, 2, 4, 8, 16, 32, 64};
  uint64_t step_rows_le[8] = {};  // [i]: steps with rows <= kRowBuckets[i] (not cumulative); [7]: more

  EngineStats& operator+=(const EngineStats& o);  // of two engines
};

// Audio handed to the engine as it comes (Engine::open_stream: a microphone, a network stream): push()
// finds the speech in each block on the calling thread and hands the chunks over as they are found,
// waiting while enough of them wait for the engine; finish() ends the audio and gives the job to wait on.
// Destroyed unfinished, its job is cancelled. One thread at a time.
class EngineStream {
 public:
  ~EngineStream();
  EngineStream(const EngineStream&) = delete;
  EngineStream& operator=(const EngineStream&) = delete;

  // The next samples (16 kHz mono, finite, in [-1, 1]); false once the job has left (its on_segment
  // returned false, or it was cancelled): push no more.
  bool push(const float* samples, size_t n);
  void expect(size_t n_samples);        // the recording's length, if known (progress, shortest-first)
  std::shared_ptr<EngineJob> finish();  // the job, complete once its wait() returns
  const std::shared_ptr<EngineJob>& job() const { return job_; }

 private:
  friend class Engine;
  EngineStream(Engine& engine, std::shared_ptr<EngineJob> job, const TranscribeOptions& o,
               const vad::SileroVad& vad, size_t ahead, bool count_read);
  Engine& engine_;
  std::shared_ptr<EngineJob> job_;
  backend::Workspace ws_;
  backend::Exec ex_;
  StageTimings found_;  // the speech finding's time, given to the job at the end
  std::unique_ptr<SpeechStream> speech_;
  size_t ahead_;
  bool count_read_, finished_ = false;
};

class Engine {
 public:
  Engine(std::shared_ptr<const WhisperModel> model, const EngineOptions& options);
  ~Engine();  // finishes the jobs it has, then stops its thread
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  const WhisperModel& model() const { return *model_; }

  // Validates `o` (Error InvalidArgument), queues the job, and finds the speech on the calling thread,
  // handing its chunks over as they are found (a recording with more than ~16 min of speech waits for the
  // engine to take some before the call returns).
  // The batched mode is used whatever o.batch_size says (0 counts as 8: a job's chunks in flight at most).
  // Callbacks run on the engine's thread and must be quick; on_segment returning false stops the job.
  // `cancelled`, if given, is polled between steps (as is EngineJob::cancel). Throws EngineBusy when
  // max_jobs are queued or running or the audio would go past max_audio_seconds, EngineStopping once
  // stop_accepting() was called, Error for bad options or a VAD model that cannot be loaded.
  std::shared_ptr<EngineJob> submit(std::vector<float> samples, const TranscribeOptions& o,
                                    std::function<bool(const Segment&)> on_segment = {},
                                    std::function<void(double)> on_progress = {},
                                    std::function<bool()> cancelled = {});

  // The same for audio that arrives as it goes (audio::decode_file_blocks, an upload being decoded): the
  // job is queued at once, then `produce` runs on the calling thread, its speech found block by block and
  // handed to the engine as it is found; the call returns once the audio is all read (or the job stopped).
  // The engine transcribes meanwhile, and at most `chunks_ahead` chunks (0: two per chunk the job may have
  // in flight) wait for it: reading waits for room, so the audio held stays bounded whatever its length.
  // Its audio counts in the engine's held audio as it is read (the budget is checked at submission only).
  // What `produce` throws is thrown here after the job is cancelled.
  std::shared_ptr<EngineJob> submit_stream(const AudioProducer& produce, const TranscribeOptions& o,
                                           std::function<bool(const Segment&)> on_segment = {},
                                           std::function<void(double)> on_progress = {},
                                           std::function<bool()> cancelled = {}, size_t chunks_ahead = 0);

  // A job fed by the caller (EngineStream), admitted and queued at once; throws as submit() does.
  // `chunks_ahead` as submit_stream's. Its audio counts in the held audio as it is pushed.
  std::unique_ptr<EngineStream> open_stream(const TranscribeOptions& o,
                                            std::function<bool(const Segment&)> on_segment = {},
                                            std::function<void(double)> on_progress = {},
                                            std::function<bool()> cancelled = {}, size_t chunks_ahead = 0);

  // The sequential modes (o.batch_size 0: openai's loop; with o.vad_filter faster-whisper's) on the calling
  // thread, with a context of the engine's (kept for the next such call); counted against max_jobs and the
  // audio budget like a batched job. on_segment returning false stops it; `cancelled` is polled at each
  // segment (throws Error(Cancelled) then). Throws as submit() does.
  Transcript transcribe_here(std::vector<float> samples, const TranscribeOptions& o,
                             const std::function<bool(const Segment&)>& on_segment = {},
                             const std::function<bool()>& cancelled = {});

  // Refuses new jobs from now on; those accepted still finish. wait_idle() returns once none is left.
  void stop_accepting();
  void wait_idle();

  EngineStats stats() const;

 private:
  // A job's place in max_jobs and its audio in the budget while it is prepared (or runs here); refuses
  // with EngineBusy / EngineStopping. `queued`: the engine's loop gives the audio back when it is done.
  struct Admission {
    Admission(Engine& e, size_t samples);
    ~Admission();
    Engine& engine;
    size_t n;
    bool queued = false;
  };
  friend class EngineStream;
  void run();
  const vad::SileroVad& vad();
  std::unique_ptr<EngineStream> open(std::vector<float> samples, const TranscribeOptions& o,
                                     std::function<bool(const Segment&)> on_segment,
                                     std::function<void(double)> on_progress, std::function<bool()> cancelled,
                                     size_t chunks_ahead, bool count_read, bool at_hand);
  std::shared_ptr<EngineJob> start(std::vector<float> samples, const AudioProducer& produce,
                                   const TranscribeOptions& o, std::function<bool(const Segment&)> on_segment,
                                   std::function<void(double)> on_progress, std::function<bool()> cancelled,
                                   size_t chunks_ahead);
  void wake();  // a job's feed has new chunks (or closed)

  std::shared_ptr<const WhisperModel> model_;
  EngineOptions options_;
  struct Compute;
  std::unique_ptr<Compute> compute_;
  std::mutex vad_mu_, contexts_mu_;
  std::vector<std::unique_ptr<Transcriber>> idle_contexts_;  // for transcribe_here, a few kept
  std::unique_ptr<vad::SileroVad> vad_;

  mutable std::mutex mu_;
  std::condition_variable cv_, idle_cv_;
  std::deque<std::shared_ptr<EngineJob>> incoming_;
  std::vector<std::shared_ptr<EngineJob>> running_;
  bool accepting_ = true, quit_ = false;
  size_t held_samples_ = 0;  // of the jobs queued or running (the budget of max_audio_seconds)
  int preparing_ = 0;        // jobs admitted but not queued: their speech being found, or running on a caller
  uint64_t feed_events_ = 0;  // chunks put or feeds closed, ever (the loop sleeps until the next)
  // The loop sleeps until a finder puts chunks (every running job waits for its next): the finders may
  // use the engine's threads meanwhile (EngineStream::push), to hand the first chunks over sooner.
  std::atomic<bool> starved_{false};
  EngineStats stats_;
  std::thread thread_;
};

// Thrown by Engine::submit.
struct EngineBusy : std::runtime_error {
  using std::runtime_error::runtime_error;
};
struct EngineStopping : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace wisp
