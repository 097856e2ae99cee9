// The result of transcribing one input: segments as openai/whisper's transcribe() returns them.
#pragma once

#include <string>
#include <vector>

namespace wisp {

// One word with its time (word timestamps), as openai/whisper's segment["words"] entries.
struct Word {
  std::string text;               // with its leading space and merged punctuation, e.g. " Americans,"
  double start = 0.0, end = 0.0;  // seconds
  float probability = 0.0f;       // mean probability of its tokens
};

struct Segment {
  int id = 0;
  int seek = 0;        // window start, in mel frames (10 ms each), as openai/whisper reports it
  double start = 0.0;  // seconds
  double end = 0.0;    // seconds
  std::string text;    // decoded text, leading space kept as the model produced it
  std::vector<int> tokens;
  std::vector<float> token_logprobs;  // of each token, as chosen (log-softmax of the filtered logits)
  float avg_logprob = 0.0f;
  float compression_ratio = 0.0f;
  float no_speech_prob = 0.0f;
  float temperature = 0.0f;
  std::vector<Word> words;  // with word timestamps only

  // Its tokens' log-probabilities are known (one per token; segments made otherwise than by decoding may
  // have none).
  bool has_token_logprobs() const { return !tokens.empty() && token_logprobs.size() == tokens.size(); }
};

struct Transcript {
  std::vector<Segment> segments;
  std::string language;               // e.g. "en"
  float language_probability = 1.0f;  // 1 when the language was given, not detected
  double duration = 0.0;              // seconds of audio
  bool word_timestamps = false;       // segments carry words (possibly none each)

  // All segment texts joined, as openai/whisper's result["text"].
  std::string text() const {
    std::string out;
    for (const auto& s : segments) out += s.text;
    return out;
  }
};

}  // namespace wisp
