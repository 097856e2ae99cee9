#include "messages.h"

#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

namespace wisp_cli {
namespace {

// Length of the well-formed UTF-8 sequence at s[i] (Unicode table 3-7), or 0.
size_t utf8_length(std::string_view s, size_t i) {
  const auto b = static_cast<unsigned char>(s[i]);
  if (b < 0x80) return 1;
  size_t need = 0;
  unsigned char lo = 0x80, hi = 0xBF;
  if (b >= 0xC2 && b <= 0xDF) {
    need = 1;
  } else if (b >= 0xE0 && b <= 0xEF) {
    need = 2, lo = b == 0xE0 ? 0xA0 : 0x80, hi = b == 0xED ? 0x9F : 0xBF;
  } else if (b >= 0xF0 && b <= 0xF4) {
    need = 3, lo = b == 0xF0 ? 0x90 : 0x80, hi = b == 0xF4 ? 0x8F : 0xBF;
  } else {
    return 0;
  }
  for (size_t k = 1; k <= need; ++k) {
    if (i + k >= s.size()) return 0;
    const auto c = static_cast<unsigned char>(s[i + k]);
    if (c < lo || c > hi) return 0;
    lo = 0x80, hi = 0xBF;
  }
  return need + 1;
}

void append_hex(std::string& out, unsigned char c) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "\\x%02x", c);
  out += buf;
}

}  // namespace

std::string terminal_safe(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    const size_t len = utf8_length(s, i);
    if (len == 0 || b < 0x20 || b == 0x7F) {  // not UTF-8, C0 control or DEL
      append_hex(out, b);
      ++i;
    } else if (len == 2 && b == 0xC2 && static_cast<unsigned char>(s[i + 1]) < 0xA0) {  // C1: U+0080..U+009F
      append_hex(out, b);
      append_hex(out, static_cast<unsigned char>(s[i + 1]));
      i += 2;
    } else {
      if (b == '\\') out += '\\';
      out.append(s.substr(i, len));
      i += len;
    }
  }
  return out;
}

std::string timings_line(const std::string& input_name, double duration_s, double load_ms,
                         const wisp_timings& t) {
  auto ms = [](double v) { return std::round(v * 10.0) / 10.0; };
  nlohmann::ordered_json j;
  j["input"] = input_name;
  j["duration_s"] = std::round(duration_s * 1000.0) / 1000.0;
  j["load_ms"] = ms(load_ms);
  j["audio_ms"] = ms(t.load_audio_ms);
  j["vad_ms"] = ms(t.vad_ms);
  j["mel_ms"] = ms(t.mel_ms);
  j["encoder_ms"] = ms(t.encoder_ms);
  j["decoder_ms"] = ms(t.decoder_ms);
  j["total_ms"] = ms(t.total_ms);
  j["windows"] = t.n_windows;
  j["tokens"] = t.n_tokens;
  j["decode_steps"] = t.n_decode_steps;
  j["decode_passes"] = t.n_decode_passes;
  // ensure_ascii keeps the line 7-bit (no raw escape byte reaches the terminal); replace: invalid UTF-8 in
  // the name becomes U+FFFD instead of an exception.
  return "wisp-timings " + j.dump(-1, ' ', /*ensure_ascii=*/true, nlohmann::json::error_handler_t::replace);
}

std::string failure_message(wisp_status status, const std::string& input_name, const std::string& model,
                            const std::string& message) {
  if (status == WISP_ERR_MODEL) return terminal_safe("model '" + model + "': " + message);
  return terminal_safe(input_name + ": " + message);
}

}  // namespace wisp_cli
