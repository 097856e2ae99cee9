#include "request_params.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <optional>

#include <nlohmann/json.hpp>

#include "cli_options.h"

namespace wisp_server {
namespace {

// Form values longer than this are refused (a prompt is at most a few hundred tokens).
constexpr size_t kMaxFieldBytes = 64 * 1024;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

int to_int(const std::string& name, const std::string& v, int lo, int hi) {
  int x = 0;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
  if (ec != std::errc() || end != v.data() + v.size() || x < lo || x > hi)
    throw BadParameter(name,
                       name + " must be an integer from " + std::to_string(lo) + " to " + std::to_string(hi));
  return x;
}

float to_float(const std::string& name, const std::string& v, float lo, float hi) {
  char* end = nullptr;
  const float x = v.empty() ? NAN : std::strtof(v.c_str(), &end);
  if (v.empty() || end != v.c_str() + v.size() || !std::isfinite(x) || x < lo || x > hi)
    throw BadParameter(name, name + " must be a number from " + std::to_string(lo).substr(0, 4) + " to " +
                                 std::to_string(hi).substr(0, 4));
  return x;
}

bool to_bool(const std::string& name, const std::string& v) {
  const std::string s = lower(v);
  if (s == "true" || s == "1") return true;
  if (s == "false" || s == "0") return false;
  throw BadParameter(name, name + " must be true or false");
}

// One field of OpenAI's chunking_strategy object ({"type": "server_vad", ...}) into wisp's VAD options:
// threshold, prefix_padding_ms (speech kept before each span; wisp pads both sides alike) and
// silence_duration_ms (silence that ends a span).
void chunking_field(const std::string& key, const std::string& value, wisp::TranscribeOptions& o) {
  const std::string name = "chunking_strategy";
  if (key == "type") {
    if (value != "server_vad") throw BadParameter(name, "chunking_strategy's type must be server_vad");
  } else if (key == "threshold") {
    o.vad.threshold = to_float(name + ".threshold", value, 0.0f, 1.0f);
  } else if (key == "prefix_padding_ms") {
    o.vad.speech_pad_ms = to_int(name + ".prefix_padding_ms", value, 0, 60000);
  } else if (key == "silence_duration_ms") {
    o.vad.min_silence_duration_ms = to_int(name + ".silence_duration_ms", value, 0, 3600000);
  } else {
    throw BadParameter(name, "chunking_strategy has no field '" + key +
                                 "' (type, threshold, prefix_padding_ms, silence_duration_ms)");
  }
}

// chunking_strategy as a form value: "auto" (wisp's own VAD chunking, its defaults) or the object as JSON.
void chunking_value(const std::string& value, wisp::TranscribeOptions& o) {
  if (lower(value) == "auto") return;
  const auto j = nlohmann::json::parse(value, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("type"))
    throw BadParameter("chunking_strategy", "chunking_strategy must be auto or a server_vad object");
  for (const auto& [key, v] : j.items()) {
    if (v.is_string())
      chunking_field(key, v.get<std::string>(), o);
    else if (v.is_number_integer())
      chunking_field(key, std::to_string(v.get<int64_t>()), o);
    else if (v.is_number())
      chunking_field(key, std::to_string(v.get<double>()), o);
    else
      throw BadParameter("chunking_strategy", "chunking_strategy's " + key + " must be a string or a number");
  }
}

}  // namespace

TranscriptionRequest parse_request(const std::vector<std::pair<std::string, std::string>>& fields,
                                   bool translate, const RequestDefaults& defaults) {
  TranscriptionRequest r;
  r.model = "whisper-1";
  wisp::TranscribeOptions& o = r.options;
  o.translate = translate;
  o.beam_size = defaults.beam_size;
  o.batch_size = defaults.batch_size;
  bool granularities = false, segment = false, word = false, chunking = false;
  std::optional<bool> vad;
  for (const auto& [name, value] : fields) {
    if (value.size() > kMaxFieldBytes) throw BadParameter(name, name + " is too long");
    if (name == "model") {
      r.model = value;
    } else if (name == "language") {
      if (translate) throw BadParameter(name, "translations take no language: the output is English");
      o.language = value;  // checked against the model by the engine (wisp::validate_options)
    } else if (name == "prompt") {
      o.initial_prompt = value;
    } else if (name == "response_format") {
      const std::string f = lower(value);
      if (f == "json")
        r.format = ResponseFormat::Json;
      else if (f == "text")
        r.format = ResponseFormat::Text;
      else if (f == "srt")
        r.format = ResponseFormat::Srt;
      else if (f == "vtt")
        r.format = ResponseFormat::Vtt;
      else if (f == "verbose_json")
        r.format = ResponseFormat::VerboseJson;
      else
        throw BadParameter(name, "response_format must be json, text, srt, vtt or verbose_json");
    } else if (name == "temperature") {
      // The first temperature; openai's fallback goes on from it in steps of 0.2.
      o.temperatures = wisp_cli::fallback_temperatures(to_float(name, value, 0.0f, 1.0f), 0.2f);
    } else if (name == "timestamp_granularities[]" || name == "timestamp_granularities") {
      granularities = true;
      const std::string g = lower(value);
      if (g == "segment")
        segment = true;
      else if (g == "word")
        word = true;
      else
        throw BadParameter(name, "timestamp_granularities[] must be segment or word");
    } else if (name == "include[]" || name == "include") {
      if (lower(value) != "logprobs") throw BadParameter(name, "include[] takes logprobs only");
      r.logprobs = true;
    } else if (name == "stream") {
      r.stream = to_bool(name, value);
    } else if (name == "beam_size") {
      o.beam_size = to_int(name, value, 1, 64);
    } else if (name == "best_of") {
      o.best_of = to_int(name, value, 1, 64);
    } else if (name == "batch_size") {  // 0: openai's sequential loop
      o.batch_size = to_int(name, value, 0, 64);
    } else if (name ==
               "vad") {  // with batch_size 0: faster-whisper's vad_filter (the batched mode always has it)
      vad = to_bool(name, value);
    } else if (name == "condition_on_previous_text") {
      o.condition_on_previous_text = to_bool(name, value);
    } else if (name == "no_speech_threshold") {
      o.no_speech_threshold = to_float(name, value, 0.0f, 1.0f);
    } else if (name == "vad_threshold") {
      o.vad.threshold = to_float(name, value, 0.0f, 1.0f);
    } else if (name == "keep_levels") {
      o.normalize_loudness = !to_bool(name, value);
    } else if (name == "chunking_strategy") {
      chunking = true;
      chunking_value(value, o);
    } else if (name.rfind("chunking_strategy[", 0) == 0 && name.size() > 19 && name.back() == ']') {
      chunking = true;  // the openai clients send the object as chunking_strategy[key] fields
      chunking_field(name.substr(18, name.size() - 19), value, o);
    } else if (name == "seed") {
      o.seed = static_cast<uint32_t>(to_int(name, value, 0, 2147483647));
    }
  }
  if (granularities) {
    if (r.format != ResponseFormat::VerboseJson)
      throw BadParameter("timestamp_granularities[]",
                         "timestamp_granularities[] needs response_format verbose_json");
    r.segment_timestamps = segment;
    r.word_timestamps = word;
  }
  o.word_timestamps = r.word_timestamps;
  if (r.logprobs && r.format != ResponseFormat::Json && r.format != ResponseFormat::VerboseJson)
    throw BadParameter("include[]", "include[]=logprobs needs response_format json or verbose_json");
  if (vad) {
    if (o.batch_size > 0 && !*vad)
      throw BadParameter("vad",
                         "the batched mode always finds the speech first; batch_size=0 runs without VAD");
    o.vad_filter = o.batch_size == 0 && *vad;
  }
  if (chunking && o.batch_size == 0) {  // the sequential loop cuts at the speech only with VAD
    if (vad && !*vad)
      throw BadParameter("chunking_strategy", "chunking_strategy needs VAD: vad=false turns it off");
    o.vad_filter = true;
  }
  return r;
}

}  // namespace wisp_server
