// Command-line options of the wisp CLI and their parsing (CLI11).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "serve_command.h"
#include "wisp/wisp.h"

namespace wisp_cli {

struct CommonOptions {
  std::string model = "tiny.en";  // a model directory, or the name of one under the models folder
  int threads = 0;                // 0 = all cores
  std::string compute_type = "auto";
  std::string isa;  // empty: the best the CPU has (or $WISP_ISA)
};

// The C API's compute type for a CLI name (validated by the parser).
wisp_compute_type compute_type_of(const std::string& name);

// The CLI's mode: batched, 8 windows in flight. On the dev long form it keeps every clip where the sequential
// openai loop drops the quiet ones (tiny.en WER 7.4 % against 52.9 %, greedy) and it is the fastest mode; on
// single clips it matches the sequential loop (tiny.en 6.5 % against 7.7 %). --batch 0 is the openai loop.
constexpr int kDefaultBatch = 8;

struct TranscribeCommand {
  std::vector<std::string> inputs;
  std::string language = "auto";
  std::string task = "transcribe";
  std::string output_format = "txt";  // txt, srt, vtt, tsv, json or all
  std::string output_dir;             // empty: write to stdout
  int beam_size = 5;
  int best_of = 5;
  float patience = 1.0f;
  float length_penalty = -1.0f;
  float temperature = 0.0f;
  float temperature_increment = 0.2f;
  float compression_ratio_threshold = 2.4f;
  float logprob_threshold = -1.0f;
  float no_speech_threshold = 0.6f;
  bool condition_on_previous_text = true;
  std::string prompt;
  bool without_timestamps = false;
  unsigned seed = 0;
  double max_stdin_minutes = 180;  // stdin is kept whole in memory: refuse more audio than this
  bool vad = false;       // transcribe only the speech Silero VAD finds (faster-whisper's vad_filter)
  std::string vad_model;  // empty: the bundled model
  float vad_threshold = 0.5f;
  int vad_min_speech_ms = 250;
  int vad_min_silence_ms = 2000;
  int vad_speech_pad_ms = 400;
  double vad_max_speech_s = 0;  // 0: no limit
  int batch = kDefaultBatch;    // > 0: batched long-form mode with this many windows in flight; 0: sequential
  bool keep_levels = false;     // no loudness levelling of the speech spans (with --vad or --batch)
  bool word_timestamps = false;  // words with their times (json words; srt/vtt cues built from words)
  float hallucination_silence_threshold = 0;  // seconds; 0: off; needs word_timestamps
  std::string prepend_punctuations = "\"'“¿([{-";
  std::string append_punctuations = "\"'.。,，!！?？:：”)]}、";
  int max_line_width = 0;        // srt/vtt: characters per line (0: none); needs word_timestamps
  int max_line_count = 0;        // srt/vtt: lines per cue (0: none); needs word_timestamps
  int max_words_per_line = 0;    // srt/vtt: words of a segment per cue (0: none); needs word_timestamps
  bool highlight_words = false;  // srt/vtt: a cue per word, underlined; needs word_timestamps
  bool quiet = false;
  bool verbose = false;
  bool timings = false;  // one JSON line of stage timings per input on stderr (for scripts)
};

struct BenchCommand {
  std::string input;
  int runs = 5;
  int beam_size = 5;
  std::string language = "auto";
  int batch = kDefaultBatch;
  bool vad = false;
  bool word_timestamps = false;
};

struct ParsedCommand {
  enum Kind { None, Transcribe, Bench, Serve } kind = None;
  CommonOptions common;
  TranscribeCommand transcribe;
  BenchCommand bench;
  wisp_server::ServeCommand serve;
};

// Parses argv. Returns -1 to go on, or the exit status to end with (0 after --help, 2 for bad usage).
int parse_command_line(int argc, char** argv, ParsedCommand* out);

// Resolves a model name ("tiny.en", "base") or directory to a directory, searching $WISP_MODELS_DIR,
// the models folder next to the executable's project, and ~/.cache/wisp/models.
std::string resolve_model_path(const std::string& name_or_path, const char* argv0);

// The folders searched for models by name, in that order.
std::vector<std::filesystem::path> model_roots(const char* argv0);
// The names of the models installed there (folders with a model.bin), sorted.
std::vector<std::string> installed_models(const char* argv0);

// The smallest fallback increment (0.01: 101 temperatures from 0 to 1); 0 disables fallback.
constexpr double kMinTemperatureIncrement = 0.01;

// The fallback temperatures: start + i * increment for i = 0, 1, ... up to 1.0 (a single one when
// increment <= 0), as openai/whisper's np.arange(start, 1.0 + 1e-6, increment).
std::vector<float> fallback_temperatures(float start, float increment);

}  // namespace wisp_cli
