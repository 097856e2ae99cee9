// Fuzzes the server's request parameters: arbitrary form fields (name=value lines, the first byte choosing
// transcription or translation) must either parse or be refused with BadParameter, and a parsed request's
// response must render (a transcript of one segment in the format asked, its tokens, any ids, taken from
// the bytes, with logprobs when asked).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "request_params.h"
#include "responses.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const wisp::decode::Tokenizer tok = wisp::decode::Tokenizer::from_model_dir(
      std::string(std::getenv("WISP_MODELS_DIR") ? std::getenv("WISP_MODELS_DIR") : "models") + "/tiny.en",
      false);
  if (size == 0) return 0;
  const bool translate = data[0] & 1;
  const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  std::vector<std::pair<std::string, std::string>> fields;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(start, end - start);
    const size_t eq = line.find('=');
    fields.emplace_back(line.substr(0, eq), eq == std::string::npos ? "" : line.substr(eq + 1));
    start = end + 1;
  }
  try {
    const wisp_server::TranscriptionRequest r = wisp_server::parse_request(fields, translate, {});
    wisp::Transcript t;
    wisp::Segment s;
    s.text = r.options.initial_prompt;  // arbitrary bytes through every writer
    for (size_t i = 0; i + 1 < size && s.tokens.size() < 64; i += 2) {
      s.tokens.push_back(data[i] | (data[i + 1] << 8));
      s.token_logprobs.push_back(-static_cast<float>(data[i]) / 16.0f);
    }
    t.segments.push_back(s);
    const wisp::decode::Tokenizer* logprobs = r.logprobs ? &tok : nullptr;
    (void)wisp_server::render(t, r, logprobs);
    (void)wisp_server::delta_event(s, logprobs);
    (void)wisp_server::done_event(t, logprobs);
    (void)wisp_server::error_json(r.options.language, "invalid_request_error", r.model);
  } catch (const wisp_server::BadParameter&) {
  }
  return 0;
}
