#include "cli_options.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "messages.h"

namespace wisp_cli {
namespace fs = std::filesystem;

namespace {

void add_common(CLI::App* cmd, CommonOptions* c) {
  cmd->add_option(
         "-m,--model", c->model,
         "Model directory (CTranslate2 format, as faster-whisper uses), or the name of one installed "
         "by setup: tiny.en, base")
      ->capture_default_str();
  cmd->add_option("-t,--threads", c->threads, "Compute threads; 0 uses every core")
      ->check(CLI::Range(0, 256))
      ->capture_default_str();
  cmd->add_option("--compute-type", c->compute_type,
                  "Arithmetic: float32, bfloat16, int8, or auto (the fastest this CPU runs well)")
      ->check(CLI::IsMember({"auto", "float32", "bfloat16", "int8"}))
      ->capture_default_str();
  cmd->add_option(
         "--isa", c->isa,
         "Force a lower instruction-set level for the kernels: avx2, avx512, avx512_vnni, avx512_bf16, "
         "amx (default: the best this CPU has, or $WISP_ISA)")
      ->check(CLI::IsMember({"avx2", "avx512", "avx512_vnni", "avx512_bf16", "amx"}));
}

// A number CLI11 would accept for a float option, but finite (CLI11's Range lets NaN through and an empty
// string leaves the default in place) and within [lo, hi].
CLI::Validator finite_in(double lo, double hi) {
  return CLI::Validator(
      [lo, hi](std::string& s) -> std::string {
        double v = 0;
        if (s.empty() || !CLI::detail::lexical_cast(s, v)) return "'" + s + "' is not a number";
        if (!std::isfinite(v)) return "'" + s + "' is not a finite number";
        if (v < lo || v > hi)
          return "'" + s + "' is not in [" + CLI::detail::to_string(lo) + ", " + CLI::detail::to_string(hi) +
                 "]";
        return "";
      },
      "FLOAT in [" + CLI::detail::to_string(lo) + ", " + CLI::detail::to_string(hi) + "]");
}

// 0 disables fallback; below 0.01 the list of temperatures up to 1.0 would grow without bound.
CLI::Validator temperature_increment() {
  return CLI::Validator(
      [](std::string& s) -> std::string {
        double v = 0;
        if (s.empty() || !CLI::detail::lexical_cast(s, v) || !std::isfinite(v) || v < 0 || v > 1 ||
            (v > 0 && v < kMinTemperatureIncrement))
          return "'" + s + "' must be 0 (no fallback) or between 0.01 and 1";
        return "";
      },
      "0 or FLOAT in [0.01, 1]");
}

// Digits only (CLI11 would take "" as the default and "-1" would wrap), up to 2^32 - 1.
CLI::Validator seed_value() {
  return CLI::Validator(
      [](std::string& s) -> std::string {
        const bool digits = !s.empty() && s.size() <= 10 &&
                            std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
        if (!digits || std::stoull(s) > 0xffffffffull)
          return "'" + s + "' is not an integer in [0, 4294967295]";
        return "";
      },
      "UINT");
}

CLI::Validator language_name() {
  return CLI::Validator(
      [](std::string& s) -> std::string {
        if (s == "auto" || wisp_language_code(s.c_str())) return "";
        return "unknown language '" + s + "': give a code (en, de, fr, ...) or a name (English, German, ...)";
      },
      "LANG");
}

}  // namespace

wisp_compute_type compute_type_of(const std::string& name) {
  if (name == "float32") return WISP_COMPUTE_FLOAT32;
  if (name == "bfloat16") return WISP_COMPUTE_BFLOAT16;
  if (name == "int8") return WISP_COMPUTE_INT8;
  return WISP_COMPUTE_AUTO;
}

std::vector<float> fallback_temperatures(float start, float increment) {
  // As openai's np.arange(start, 1.0 + 1e-6, increment): start + i * increment, never an accumulated sum.
  if (!(increment > 0.0f)) return {start};
  std::vector<float> t;
  for (int i = 0;; ++i) {
    const double x = static_cast<double>(start) + i * static_cast<double>(increment);
    if (x > 1.0 + 1e-6) break;
    t.push_back(static_cast<float>(x));
  }
  if (t.empty()) t.push_back(start);
  return t;
}

std::vector<fs::path> model_roots(const char* argv0) {
  std::vector<fs::path> roots;
  if (const char* env = std::getenv("WISP_MODELS_DIR")) roots.emplace_back(env);
  std::error_code ec;
  fs::path exe = fs::canonical("/proc/self/exe", ec);
  if (ec) exe = fs::absolute(argv0, ec);
  for (fs::path p = exe.parent_path(); !p.empty() && p != p.root_path(); p = p.parent_path())
    roots.push_back(p / "models");
  if (const char* home = std::getenv("HOME")) roots.push_back(fs::path(home) / ".cache/wisp/models");
  return roots;
}

std::vector<std::string> installed_models(const char* argv0) {
  std::vector<std::string> names;
  for (const fs::path& root : model_roots(argv0)) {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(root, ec)) {
      const std::string name = entry.path().filename().string();
      const bool unfinished =
          name.size() > 8 && name.ends_with(".partial");  // an install under way or cut off
      if (!unfinished && fs::is_regular_file(entry.path() / "model.bin", ec) &&
          std::find(names.begin(), names.end(), name) == names.end())
        names.push_back(name);
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string resolve_model_path(const std::string& name, const char* argv0) {
  if (fs::is_directory(name) || name.find('/') != std::string::npos) return name;
  for (const auto& r : model_roots(argv0))
    if (fs::is_directory(r / name)) return (r / name).string();
  return name;  // let the loader report it as missing
}

int parse_command_line(int argc, char** argv, ParsedCommand* out) {
  CLI::App app{"wisp — fast local speech-to-text with OpenAI Whisper models"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("wisp ") + wisp_version());

  auto* tr = app.add_subcommand("transcribe", "Transcribe (or translate) audio files");
  auto& t = out->transcribe;
  add_common(tr, &out->common);
  tr->add_option("inputs", t.inputs,
                 "Audio or video files (wav, flac, mp3, ogg/opus, m4a, webm, ...); - reads stdin")
      ->required();
  tr->add_option("-l,--language", t.language,
                 "Spoken language: a code (en, de, ...) or a name (English, German, ...), or auto to detect "
                 "it (multilingual models)")
      ->check(language_name())
      ->capture_default_str();
  tr->add_option("--task", t.task, "transcribe, or translate into English")
      ->check(CLI::IsMember({"transcribe", "translate"}))
      ->capture_default_str();
  tr->add_option("-f,--output-format", t.output_format, "txt, srt, vtt, tsv, json, or all")
      ->check(CLI::IsMember({"txt", "srt", "vtt", "tsv", "json", "all"}))
      ->capture_default_str();
  tr->add_option("-o,--output-dir", t.output_dir,
                 "Write <input name>.<format> files here instead of printing to stdout");
  tr->add_option("--beam-size", t.beam_size, "Beams for beam search at temperature 0 (1 = greedy)")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  tr->add_option("--best-of", t.best_of, "Candidates sampled at temperatures above 0")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  tr->add_option("--patience", t.patience,
                 "Beam search patience: finish after beam-size x patience candidates")
      ->check(finite_in(0.01, 100))
      ->capture_default_str();
  tr->add_option("--length-penalty", t.length_penalty,
                 "Rank candidates by logprob / ((5+len)/6)^alpha; negative ranks by logprob / length")
      ->check(finite_in(-100, 100))
      ->capture_default_str();
  tr->add_option("--temperature", t.temperature, "First sampling temperature")
      ->check(finite_in(0, 10))
      ->capture_default_str();
  tr->add_option("--temperature-increment-on-fallback", t.temperature_increment,
                 "Raise the temperature by this on fallback, up to 1.0: 0 disables fallback, else 0.01 to 1")
      ->check(temperature_increment())
      ->capture_default_str();
  tr->add_option("--compression-ratio-threshold", t.compression_ratio_threshold,
                 "Fall back when the text's gzip compression ratio is above this (0 disables)")
      ->check(finite_in(0, 1e6))
      ->capture_default_str();
  tr->add_option("--logprob-threshold", t.logprob_threshold,
                 "Fall back when the average log-probability is below this")
      ->check(finite_in(-1e6, 1e6))
      ->capture_default_str();
  tr->add_option(
        "--no-speech-threshold", t.no_speech_threshold,
        "Skip a window when its no-speech probability is above this and its log-prob is low (0 disables)")
      ->check(finite_in(0, 1))
      ->capture_default_str();
  tr->add_option("--condition-on-previous-text", t.condition_on_previous_text,
                 "Prompt each window with the text before it (true/false)")
      ->capture_default_str();
  tr->add_option("--prompt", t.prompt,
                 "Initial prompt: vocabulary, spelling or style to steer the first window");
  tr->add_flag("--without-timestamps", t.without_timestamps, "Decode text only, no timestamp tokens");
  tr->add_option("--seed", t.seed, "Random seed for sampling at temperatures above 0")
      ->check(seed_value())
      ->capture_default_str();
  tr->add_option("--max-stdin-minutes", t.max_stdin_minutes,
                 "With --batch 0: most audio read from stdin (or a pipe), which is then kept whole in memory "
                 "(~230 MB per hour); more is an error. The batched mode streams any length")
      ->check(finite_in(0.01, 1e5))
      ->capture_default_str();
  const std::string kVadGroup = "VAD (with --vad or --batch)";  // these options need one of them (below)
  tr->add_flag("--vad", t.vad,
               "Sequential mode on the speech that Silero VAD finds (as faster-whisper's vad_filter; "
               "implies --batch 0 unless --batch is given); times stay those of the input");
  auto* batch =
      tr->add_option("--batch", t.batch,
                     "Windows in flight: the audio is cut at pauses (Silero VAD) into chunks of at most "
                     "30 s, up to N decoded at once, timestamps kept; 0: the sequential openai loop "
                     "over the whole input")
          ->check(CLI::Range(0, 64))
          ->capture_default_str();
  tr->add_flag(
      "--keep-levels", t.keep_levels,
      "With --vad or --batch: do not bring each stretch of speech to a common loudness before decoding");
  tr->add_option("--vad-model", t.vad_model,
                 "Silero VAD model in ggml format (default: the one wisp ships, or $WISP_VAD_MODEL)")
      ->group(kVadGroup);
  tr->add_option("--vad-threshold", t.vad_threshold,
                 "Speech probability at or above which a 32-ms frame is speech (silence: below it - 0.15)")
      ->check(finite_in(0, 1))
      ->capture_default_str()
      ->group(kVadGroup);
  tr->add_option("--vad-min-speech-ms", t.vad_min_speech_ms, "Drop speech spans this short or shorter")
      ->check(CLI::Range(0, 3600000))
      ->capture_default_str()
      ->group(kVadGroup);
  tr->add_option("--vad-min-silence-ms", t.vad_min_silence_ms, "Silence this long ends a speech span")
      ->check(CLI::Range(0, 3600000))
      ->capture_default_str()
      ->group(kVadGroup);
  tr->add_option("--vad-speech-pad-ms", t.vad_speech_pad_ms, "Audio kept on each side of a speech span")
      ->check(CLI::Range(0, 60000))
      ->capture_default_str()
      ->group(kVadGroup);
  tr->add_option("--vad-max-speech-s", t.vad_max_speech_s,
                 "Split speech spans longer than this at a pause (0: no limit)")
      ->check(finite_in(0, 1e6))
      ->capture_default_str()
      ->group(kVadGroup);
  auto* words = tr->add_flag(
      "--word-timestamps", t.word_timestamps,
      "Time every word (as openai/whisper's --word_timestamps): json gets each segment's words, srt and vtt "
      "cues are built from the words");
  tr->add_option(
        "--hallucination-silence-threshold", t.hallucination_silence_threshold,
        "Seconds: a segment that looks hallucinated between silences this long is dropped and decoded "
        "again from its start (openai's --hallucination_silence_threshold)")
      ->check(finite_in(0.01, 3600))
      ->needs(words);
  tr->add_option("--prepend-punctuations", t.prepend_punctuations, "These marks join the word after them")
      ->capture_default_str()
      ->needs(words);
  tr->add_option("--append-punctuations", t.append_punctuations, "These marks join the word before them")
      ->capture_default_str()
      ->needs(words);
  tr->add_option("--max-line-width", t.max_line_width, "srt/vtt: break lines after this many characters")
      ->check(CLI::Range(1, 100000))
      ->needs(words);
  tr->add_option("--max-line-count", t.max_line_count,
                 "srt/vtt: at most this many lines per cue, with --max-line-width")
      ->check(CLI::Range(1, 100000))
      ->needs(words);
  tr->add_option("--max-words-per-line", t.max_words_per_line,
                 "srt/vtt: at most this many words of a segment per cue (no effect with both of the above)")
      ->check(CLI::Range(1, 100000))
      ->needs(words);
  tr->add_flag("--highlight-words", t.highlight_words, "srt/vtt: one cue per word, the word underlined")
      ->needs(words);
  tr->add_flag("-q,--quiet", t.quiet, "No progress line and no per-file messages on stderr");
  tr->add_flag("-v,--verbose", t.verbose, "Print each segment on stderr as it is decoded");
  tr->add_flag(
      "--timings", t.timings,
      "Print a JSON line of stage timings per input on stderr (model load, audio, mel, encoder, decoder)");

  auto* be =
      app.add_subcommand("bench", "Time each stage (load, audio, mel, encoder, decoder) over repeated runs");
  auto& b = out->bench;
  add_common(be, &out->common);
  be->add_option("input", b.input, "Audio file to transcribe")->required();
  be->add_option("-r,--runs", b.runs, "Timed runs (after one warm-up); medians are printed")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  be->add_option("--beam-size", b.beam_size, "Beam size")->check(CLI::Range(1, 64))->capture_default_str();
  be->add_option("-l,--language", b.language, "Language code or name, or auto")
      ->check(language_name())
      ->capture_default_str();
  auto* bench_batch =
      be->add_option("--batch", b.batch, "Windows in flight in the batched mode (0: sequential)")
          ->check(CLI::Range(0, 64))
          ->capture_default_str();
  be->add_flag("--word-timestamps", b.word_timestamps,
               "Time every word too (its alignment pass is in the decoder time)");
  be->add_flag("--vad", b.vad,
               "Sequential mode on the speech Silero VAD finds (implies --batch 0 unless given)");

  auto* sv = app.add_subcommand(
      "serve",
      "Serve OpenAI's audio API over HTTP (/v1/audio/transcriptions, /translations, a web page at /)");
  auto& v = out->serve;
  add_common(sv, &out->common);
  sv->add_option("--host", v.host, "Address to listen on (0.0.0.0: every interface)")->capture_default_str();
  sv->add_option("--port", v.port, "Port (0: any free one)")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  sv->add_option("--api-key", v.api_key,
                 "Requests to /v1 need 'Authorization: Bearer KEY' (or $WISP_API_KEY)");
  sv->add_option("--beam-size", v.beam_size, "Beam size of requests that give none")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  sv->add_option("--batch", v.batch,
                 "Windows of one request in flight at most (a request's batch_size overrides)")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  sv->add_option("--max-in-flight", v.max_in_flight, "Windows in flight over all requests")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  sv->add_option("--max-jobs", v.max_jobs, "Transcriptions at once; more are answered 429 with Retry-After")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  sv->add_option("--max-upload-mb", v.max_upload_mb, "Largest upload (MiB); larger ones get 413")
      ->check(CLI::Range(1, 16384))
      ->capture_default_str();
  sv->add_option("--max-held-audio-minutes", v.max_held_audio_minutes,
                 "Audio of all requests under way at most (memory: ~230 MB per hour); more are answered 429")
      ->check(CLI::Range(1.0, 100.0 * 24 * 60))
      ->capture_default_str();
  sv->add_option("--max-audio-minutes", v.max_audio_minutes, "Longest audio of one request")
      ->check(CLI::Range(0.01, 24.0 * 60))
      ->capture_default_str();
  sv->add_option("--http-threads", v.http_threads, "Connections served at once")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    // Messages quote the offending value: it must not reach the terminal raw.
    std::cerr << terminal_safe(e.what()) << "\nRun with --help for more information.\n";
    return 2;
  }
  out->kind = tr->parsed()   ? ParsedCommand::Transcribe
              : sv->parsed() ? ParsedCommand::Serve
                             : ParsedCommand::Bench;
  if (t.vad && batch->count() == 0) t.batch = 0;  // --vad alone: faster-whisper's vad_filter, sequential
  if (b.vad && bench_batch->count() == 0) b.batch = 0;
  if (tr->parsed() && !t.vad && t.batch == 0) {
    for (const CLI::Option* opt : tr->get_options())
      if (opt->count() > 0 && (opt->get_group() == kVadGroup || opt->get_name() == "--keep-levels")) {
        std::cerr << opt->get_name() << " needs --vad or --batch\nRun with --help for more information.\n";
        return 2;
      }
  }
  return -1;
}

}  // namespace wisp_cli
