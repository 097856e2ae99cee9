// The CLI's stderr: names with escape codes or bytes that are not UTF-8 never reach the terminal raw, the
// --timings line is JSON for any name, and a model defect is reported against the model, not the audio.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "messages.h"

namespace wisp_cli {
namespace {

TEST(CliMessages, TerminalSafeEscapesControlsAndBadBytes) {
  EXPECT_EQ(terminal_safe("plain name.wav"), "plain name.wav");
  EXPECT_EQ(terminal_safe("caf\xc3\xa9 \xe6\x97\xa5.wav"), "caf\xc3\xa9 \xe6\x97\xa5.wav");  // UTF-8 stays
  EXPECT_EQ(terminal_safe("\x1b[31mred\x1b[0m.wav"), "\\x1b[31mred\\x1b[0m.wav");
  EXPECT_EQ(terminal_safe("a\rb\nc\td\x7f"), "a\\x0db\\x0ac\\x09d\\x7f");
  EXPECT_EQ(terminal_safe("\xff\xfe.wav"), "\\xff\\xfe.wav");
  EXPECT_EQ(terminal_safe("\xc2\x9b"
                          "31m"),
            "\\xc2\\x9b31m");                            // C1 CSI
  EXPECT_EQ(terminal_safe("\xe6\x97"), "\\xe6\\x97");    // truncated sequence
  EXPECT_EQ(terminal_safe("back\\x1b"), "back\\\\x1b");  // a literal backslash cannot forge one
  for (int c = 0; c < 256; ++c) {
    const std::string out = terminal_safe(std::string(1, static_cast<char>(c)));
    for (unsigned char o : out) EXPECT_TRUE(o >= 0x20 && o != 0x7f) << c;
  }
}

TEST(CliMessages, TimingsLineIsJsonForAnyName) {
  wisp_timings t{};
  t.n_decode_steps = 29;
  for (const std::string name : {"jfk.wav", "\x1b[31m.wav", "\xff\xfe.wav", "quote\"back\\slash"}) {
    const std::string line = timings_line(name, 11.0, 137.7, t);
    ASSERT_EQ(line.rfind("wisp-timings ", 0), 0u);
    for (unsigned char c : line)
      EXPECT_TRUE(c >= 0x20 && c < 0x7f) << "raw byte " << int(c) << " in " << line;
    nlohmann::json j;
    ASSERT_NO_THROW(j = nlohmann::json::parse(line.substr(13))) << line;
    EXPECT_EQ(j["decode_steps"], 29);
    EXPECT_DOUBLE_EQ(j["duration_s"].get<double>(), 11.0);
    if (name == "\xff\xfe.wav") {
      EXPECT_EQ(j["input"], "\xef\xbf\xbd\xef\xbf\xbd.wav");  // U+FFFD twice
    } else {
      EXPECT_EQ(j["input"], name);
    }
  }
}

TEST(CliMessages, ModelDefectsNameTheModel) {
  EXPECT_EQ(failure_message(WISP_ERR_MODEL, "talk.wav", "models/odd", "lang_ids are wrong"),
            "model 'models/odd': lang_ids are wrong");
  EXPECT_EQ(failure_message(WISP_ERR_AUDIO, "talk.wav", "models/odd", "corrupt"), "talk.wav: corrupt");
  EXPECT_EQ(failure_message(WISP_ERR_AUDIO, "\x1b[2J.wav", "m", "x"), "\\x1b[2J.wav: x");
}

}  // namespace
}  // namespace wisp_cli
