// The batched long-form loop (`--batch N`): the audio is cut at VAD pauses into chunks of at most 30 s,
// and every chunk runs openai/whisper's loop on its own (seek within the chunk, temperature fallback,
// conditioning on the chunk's earlier text), while many of them are in flight at once: their windows go
// through the encoder together, and one decoder step advances every live sequence of every chunk (ragged:
// each at its own position and temperature; finished ones leave and new chunks join between steps).
// Segments keep their timestamps (chunk offset + timestamp tokens) and come out in time order.
//
// The chunks in flight may belong to many recordings ("jobs", each with its own options): the engine
// (engine/engine.h) feeds every stream of a server through one loop, so that a short request's windows
// share encoder calls and decoder steps with a long one's instead of waiting behind it.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "backend/buffer.h"

#include "model/whisper_model.h"
#include "nn/decoder.h"
#include "nn/encoder.h"
#include "pipeline/chunk_feed.h"
#include "pipeline/transcribe_options.h"
#include "pipeline/transcript.h"

namespace wisp {

// One recording's work: where its chunks of speech come from, what to do with them, where its segments
// go. Filled in by the caller (options validated), then handed to BatchedLoop::add; it must outlive its
// time in the loop, and so must its feed.
struct BatchedJob {
  ChunkFeed* feed = nullptr;  // its chunks, with their audio, as they are found (pipeline/speech_stream.h)
  TranscribeOptions options;  // batch_size: chunks of this job in flight at most
  std::string language;       // a code, or "" to detect it on the first chunk
  // Called on the loop's thread: segments in time order (false stops the job), the share of speech done,
  // and once when the job leaves the loop (finished, stopped or cancelled).
  std::function<bool(const Segment&)> on_segment;
  std::function<void(double)> on_progress;
  std::function<void()> on_done;
  // Polled between steps; true drops the job (its result ends with what came out so far).
  std::function<bool()> cancelled;
  // Its audio is all at hand (a file, an upload), so its speech is found faster than it is transcribed:
  // its chunks are encoded as they come, but its passes wait until its chunks fill its slots (or the
  // loop's) or its feed closes — its windows then start together and share every decoder step, instead
  // of the first ones taking steps of their own. Not for audio pushed as it is recorded.
  bool at_hand = false;
  StageTimings* timings = nullptr;  // this job's share of the work (encoder calls and steps it took part in)

  Transcript transcript;  // the result, complete once on_done is called
};

class BatchedLoop {
 public:
  // `threads`: for the log-mel of each chunk (the encoder and decoder have their context's).
  // `max_in_flight`: chunks in flight over all jobs.
  BatchedLoop(const WhisperModel& model, nn::Encoder& encoder, nn::Decoder& decoder, int threads,
              int max_in_flight);
  ~BatchedLoop();

  void add(BatchedJob* job);  // between steps
  bool empty() const { return jobs_.empty(); }
  int chunks_in_flight() const { return static_cast<int>(live_.size()); }

  // One round: free slots get new chunks (the job with the fewest in flight first, so a new job joins at
  // once), the windows that need it are encoded, every live pass advances one decoder step, finished passes
  // move their chunk's seek, and segments go out. Jobs that are through (their feed closed and drained)
  // leave (on_done), and their feeds are abandoned. After an exception the loop's jobs can only be dropped
  // (drop_all). False when there was nothing to do: every job waits for chunks, or holds
  // (BatchedJob::at_hand).
  bool step();

  // step() without its decoder step: jobs cancelled leave, free slots get new chunks and their windows are
  // encoded. Returns the chunks it opened. For a caller that finds the speech on another thread: the
  // chunks found so far are encoded while the rest is still being found (Transcriber::transcribe_stream).
  int fill();
  bool has_room() const { return static_cast<int>(live_.size()) < max_in_flight_; }
  // Threads for the log-mel of the chunks opened from now on.
  void set_threads(int threads) { threads_ = threads; }
  // Called before each chunk's log-mel and each layer of each window the encoder takes (a window takes tens
  // of ms on one thread): a caller whose share of the threads changes meanwhile (a speech finder done)
  // passes it on there — through set_threads and its encoder's and decoder's Exec — rather than at the
  // next step.
  void set_reshare(std::function<void()> reshare) { reshare_ = std::move(reshare); }

  // Takes every job out (their decoder windows released), unfinished; returns them.
  std::vector<BatchedJob*> drop_all();

  // Rows (sequences) in the last decoder step (0: none this round).
  int last_step_rows() const { return last_step_rows_; }

 private:
  struct Chunk;
  struct JobState;
  std::unique_ptr<Chunk> open_chunk(JobState& j, ReadyChunk& c);
  void encode_new_windows();
  void finish_pass(Chunk& c);
  void emit(JobState& j);
  void leave(JobState& j);
  void retire_jobs();

  const WhisperModel& model_;
  nn::Encoder& encoder_;
  nn::Decoder& decoder_;
  int threads_;
  std::function<void()> reshare_;
  const int max_in_flight_;
  std::vector<std::unique_ptr<JobState>> jobs_;  // in the order they came
  std::vector<std::unique_ptr<Chunk>> live_;
  backend::Buffer mels_, features_;  // the windows of an encoder call and their features (fp32)
  ReadyChunk ready_;                 // the chunk being opened
  uint64_t next_job_id_ = 0;
  int last_step_rows_ = 0;
  struct Scratch;
  std::unique_ptr<Scratch> scratch_;
};

}  // namespace wisp
