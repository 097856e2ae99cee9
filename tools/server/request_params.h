// The parameters of an OpenAI-style transcription or translation request (multipart form fields), checked
// and turned into TranscribeOptions. Independent of the HTTP library: the fields come in as name/value
// pairs, so that the parsing is unit-tested and fuzzed on its own.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "pipeline/transcribe_options.h"

namespace wisp_server {

enum class ResponseFormat { Json, Text, Srt, Vtt, VerboseJson };

struct RequestDefaults {
  int beam_size = 5;   // the server's --beam-size
  int batch_size = 8;  // chunks of one request in flight at most
};

struct TranscriptionRequest {
  std::string model;  // as asked ("whisper-1" when absent)
  wisp::TranscribeOptions options;
  ResponseFormat format = ResponseFormat::Json;
  bool stream = false;
  bool segment_timestamps =
      true;  // verbose_json: segments (timestamp_granularities[] has "segment", or none given)
  bool word_timestamps = false;  // verbose_json: words (timestamp_granularities[] has "word")
  bool logprobs = false;         // include[] has "logprobs": each text token's log-probability
};

// A parameter that is not acceptable: 400 with OpenAI's error body naming `param`.
struct BadParameter : std::runtime_error {
  BadParameter(std::string p, const std::string& message)
      : std::runtime_error(message), param(std::move(p)) {}
  std::string param;
};

// `fields`: every form field but the file, in order (repeated names allowed: timestamp_granularities[]).
// `translate`: the /translations endpoint (no language; the task is translation). Unknown fields are
// ignored, as OpenAI's API ignores fields of newer versions. Throws BadParameter.
TranscriptionRequest parse_request(const std::vector<std::pair<std::string, std::string>>& fields,
                                   bool translate, const RequestDefaults& defaults);

}  // namespace wisp_server
