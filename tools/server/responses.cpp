#include "responses.h"

#include <nlohmann/json.hpp>

#include "decode/languages.h"
#include "output/writers.h"

namespace wisp_server {
namespace {

using nlohmann::json;

// Invalid UTF-8 (a token cut in the middle of a character) becomes U+FFFD rather than an exception.
std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string text_of(const wisp::Transcript& t) { return wisp::output::strip_whitespace(t.text()); }

json usage(const wisp::Transcript& t) { return {{"type", "duration"}, {"seconds", t.duration}}; }

// OpenAI's logprobs entries for the text tokens of `s`, appended to `out`.
void add_logprobs(const wisp::Segment& s, const wisp::decode::Tokenizer& tok, json& out) {
  if (!s.has_token_logprobs()) return;
  for (size_t i = 0; i < s.tokens.size(); ++i) {
    if (s.tokens[i] >= tok.eot()) continue;  // timestamps and special tokens: not text
    const std::string bytes = tok.token_bytes(s.tokens[i]);
    json b = json::array();
    for (unsigned char c : bytes) b.push_back(static_cast<int>(c));
    out.push_back({{"token", bytes}, {"logprob", s.token_logprobs[i]}, {"bytes", std::move(b)}});
  }
}

json logprobs_of(const wisp::Transcript& t, const wisp::decode::Tokenizer& tok) {
  json out = json::array();
  for (const wisp::Segment& s : t.segments) add_logprobs(s, tok, out);
  return out;
}

}  // namespace

std::string language_name(const std::string& code) {
  for (const auto& l : wisp::decode::whisper_languages())
    if (code == l.code) return l.name;
  return code;
}

Body render(const wisp::Transcript& t, const TranscriptionRequest& r, const wisp::decode::Tokenizer* tok) {
  using wisp::output::Format;
  switch (r.format) {
    case ResponseFormat::Text:
      return {"text/plain; charset=utf-8", text_of(t) + "\n"};
    case ResponseFormat::Srt:
      return {"text/plain; charset=utf-8", wisp::output::format_transcript(t, Format::Srt)};
    case ResponseFormat::Vtt:
      return {"text/vtt; charset=utf-8", wisp::output::format_transcript(t, Format::Vtt)};
    case ResponseFormat::Json: {
      json j = {{"text", text_of(t)}};
      if (tok) j["logprobs"] = logprobs_of(t, *tok);
      j["usage"] = usage(t);
      return {"application/json", dump(j)};
    }
    case ResponseFormat::VerboseJson:
      break;
  }
  json j = {{"task", r.options.translate ? "translate" : "transcribe"},
            {"language", language_name(t.language)},
            {"duration", t.duration},
            {"text", text_of(t)}};
  if (r.segment_timestamps) {
    json segments = json::array();
    for (const wisp::Segment& s : t.segments)
      segments.push_back({{"id", s.id},
                          {"seek", s.seek},
                          {"start", s.start},
                          {"end", s.end},
                          {"text", s.text},
                          {"tokens", s.tokens},
                          {"temperature", s.temperature},
                          {"avg_logprob", s.avg_logprob},
                          {"compression_ratio", s.compression_ratio},
                          {"no_speech_prob", s.no_speech_prob}});
    j["segments"] = std::move(segments);
  }
  if (r.word_timestamps) {
    json words = json::array();
    for (const wisp::Segment& s : t.segments)
      for (const wisp::Word& w : s.words)
        words.push_back({{"word", wisp::output::strip_whitespace(w.text)},
                         {"start", w.start},
                         {"end", w.end},
                         {"probability", w.probability}});
    j["words"] = std::move(words);
  }
  if (tok) j["logprobs"] = logprobs_of(t, *tok);
  j["usage"] = usage(t);
  return {"application/json", dump(j)};
}

std::string delta_event(const wisp::Segment& s, const wisp::decode::Tokenizer* tok) {
  json j = {{"type", "transcript.text.delta"},
            {"delta", s.text},
            {"segment", {{"id", s.id}, {"start", s.start}, {"end", s.end}, {"text", s.text}}}};
  if (tok) {
    json lp = json::array();
    add_logprobs(s, *tok, lp);
    j["logprobs"] = std::move(lp);
  }
  return "data: " + dump(j) + "\n\n";
}

std::string done_event(const wisp::Transcript& t, const wisp::decode::Tokenizer* tok) {
  json j = {{"type", "transcript.text.done"}, {"text", text_of(t)}};
  if (tok) j["logprobs"] = logprobs_of(t, *tok);
  j["usage"] = usage(t);
  return "data: " + dump(j) + "\n\n";
}

std::string error_event(const std::string& message) {
  return "data: " + dump({{"type", "error"}, {"error", {{"message", message}, {"type", "server_error"}}}}) +
         "\n\n";
}

std::string error_json(const std::string& message, const std::string& type, const std::string& param,
                       const std::string& code) {
  const json j = {{"error",
                   {{"message", message},
                    {"type", type},
                    {"param", param.empty() ? json(nullptr) : json(param)},
                    {"code", code.empty() ? json(nullptr) : json(code)}}}};
  return dump(j);
}

}  // namespace wisp_server
