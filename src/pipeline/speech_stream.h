// SpeechStream: the batched mode's speech finding for audio that arrives as it goes (a pipe, a file being
// decoded, an upload): samples are pushed in order, and the chunks of speech (at most 30 s, cut at pauses)
// come out as soon as they are final, each with its audio — levelled, ready for the log-mel — and the
// stretches of speech about it. The audio is released as it is used, so a recording of any length is held
// only a chunk or so at a time.
//
// Whatever the pieces the samples come in, the chunks, their audio and stretches are those of
// find_speech() + vad::speech_chunks() over the whole recording: the detection copy's gain
// (audio::DetectionLeveller), Silero VAD's state (SileroVad::State), the spans (vad::SpanTracker) and the
// packing (vad::ChunkPacker) each carry on from one push to the next.
//
//   SpeechStream s(vad, exec, options, &timings);
//   while (read(block)) { s.push(block.data(), block.size()); for (ReadyChunk& c : s.take()) use(c); }
//   s.finish(); for (ReadyChunk& c : s.take()) use(c);
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <vector>

#include "audio/loudness.h"
#include "backend/exec.h"
#include "pipeline/transcribe_options.h"
#include "vad/silero_vad.h"
#include "vad/speech_chunks.h"
#include "vad/speech_segments.h"

namespace wisp {

// A chunk of speech with what the batched loop needs of it.
struct ReadyChunk {
  vad::SpeechChunk chunk;                  // where it lies in the recording
  std::vector<float> audio;                // its pieces end to end, each sample times its stretch's gain
  std::vector<vad::SpeechSpan> stretches;  // the stretches of speech that overlap it (words are held to them)
};

class SpeechStream {
 public:
  // `o`: the VAD options (max speech duration held to 30 s), normalize_loudness and word_timestamps.
  // The VAD runs on `ex`'s threads; its time goes to timings->vad_ms.
  SpeechStream(const vad::SileroVad& vad, backend::Exec& ex, const TranscribeOptions& o,
               StageTimings* timings);

  void push(const float* samples, size_t n);  // the next samples (16 kHz mono)
  void finish();                              // the end of the audio; push no more after it
  std::vector<ReadyChunk> take();             // chunks final since the last take, in order

  size_t samples_seen() const { return received_; }
  // Samples held now (the recording, the detection copy, chunks not yet taken): what bounds its memory.
  size_t held_samples() const;

 private:
  void detect(bool at_end);
  void drain_spans();
  void build_chunks(bool at_end);
  void release();

  const vad::SileroVad& vad_;
  backend::Exec& ex_;
  StageTimings* timings_;
  bool level_, want_stretches_;
  vad::SpanTracker spans_, stretch_spans_;
  vad::ChunkPacker packer_;
  audio::DetectionLeveller leveller_;
  vad::SileroVad::State state_;

  std::vector<float> raw_;  // the recording from raw_begin_ on
  size_t raw_begin_ = 0, received_ = 0;
  std::vector<float> det_;  // the detection copy from det_begin_ on
  size_t det_begin_ = 0;
  size_t next_window_ = 0;  // the next VAD window
  std::vector<float> probs_;
  bool finished_ = false;

  std::deque<vad::SpeechChunk> waiting_;    // complete, waiting for the stretches about them
  std::vector<vad::SpeechSpan> stretches_;  // final, not yet behind every chunk
  std::vector<audio::Gain> gains_;          // theirs (with levelling)
  std::vector<ReadyChunk> ready_;
};

}  // namespace wisp
