#include "cli_options.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <filesystem>
#include <iostream>

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

}  // namespace

wisp_compute_type compute_type_of(const std::string& name) {
  if (name == "float32") return WISP_COMPUTE_FLOAT32;
  if (name == "bfloat16") return WISP_COMPUTE_BFLOAT16;
  if (name == "int8") return WISP_COMPUTE_INT8;
  return WISP_COMPUTE_AUTO;
}

std::vector<float> fallback_temperatures(float start, float increment) {
  std::vector<float> t;
  if (increment <= 0.0f) return {start};
  for (float x = start; x <= 1.0f + 1e-6f; x += increment) t.push_back(x);
  if (t.empty()) t.push_back(start);
  return t;
}

std::string resolve_model_path(const std::string& name, const char* argv0) {
  if (fs::is_directory(name) || name.find('/') != std::string::npos) return name;
  std::vector<fs::path> roots;
  if (const char* env = std::getenv("WISP_MODELS_DIR")) roots.emplace_back(env);
  std::error_code ec;
  fs::path exe = fs::canonical("/proc/self/exe", ec);
  if (ec) exe = fs::absolute(argv0, ec);
  for (fs::path p = exe.parent_path(); !p.empty() && p != p.root_path(); p = p.parent_path())
    roots.push_back(p / "models");
  if (const char* home = std::getenv("HOME")) roots.push_back(fs::path(home) / ".cache/wisp/models");
  for (const auto& r : roots)
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
                 "Spoken language code (en, de, fr, ...), or auto to detect it (multilingual models)")
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
      ->check(CLI::Range(0.01f, 100.0f))
      ->capture_default_str();
  tr->add_option("--length-penalty", t.length_penalty,
                 "Rank candidates by logprob / ((5+len)/6)^alpha; negative ranks by logprob / length")
      ->capture_default_str();
  tr->add_option("--temperature", t.temperature, "First sampling temperature")
      ->check(CLI::Range(0.0f, 10.0f))
      ->capture_default_str();
  tr->add_option("--temperature-increment-on-fallback", t.temperature_increment,
                 "Raise the temperature by this on fallback, up to 1.0 (0 disables fallback)")
      ->check(CLI::Range(0.0f, 1.0f))
      ->capture_default_str();
  tr->add_option("--compression-ratio-threshold", t.compression_ratio_threshold,
                 "Fall back when the text's gzip compression ratio is above this (0 disables)")
      ->capture_default_str();
  tr->add_option("--logprob-threshold", t.logprob_threshold,
                 "Fall back when the average log-probability is below this")
      ->capture_default_str();
  tr->add_option(
        "--no-speech-threshold", t.no_speech_threshold,
        "Skip a window when its no-speech probability is above this and its log-prob is low (0 disables)")
      ->capture_default_str();
  tr->add_option("--condition-on-previous-text", t.condition_on_previous_text,
                 "Prompt each window with the text before it (true/false)")
      ->capture_default_str();
  tr->add_option("--prompt", t.prompt,
                 "Initial prompt: vocabulary, spelling or style to steer the first window");
  tr->add_flag("--without-timestamps", t.without_timestamps, "Decode text only, no timestamp tokens");
  tr->add_option("--seed", t.seed, "Random seed for sampling at temperatures above 0")->capture_default_str();
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
  be->add_option("-l,--language", b.language, "Language code or auto")->capture_default_str();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  out->kind = tr->parsed() ? ParsedCommand::Transcribe : ParsedCommand::Bench;
  return -1;
}

}  // namespace wisp_cli
