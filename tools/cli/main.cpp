// wisp CLI: a thin user of the public C API (include/wisp/wisp.h).
//   wisp transcribe [options] FILE...   text (or srt/vtt/tsv/json) per input
//   wisp bench [options] FILE           per-stage timings over repeated runs
// Exit status: 0 only when every input was transcribed; 1 when any failed; 2 for bad usage.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "cli_options.h"
#include "input_pool.h"
#include "messages.h"
#include "output_files.h"
#include "serve_command.h"
#include "wisp/wisp.hpp"

namespace fs = std::filesystem;
using namespace wisp_cli;

namespace {

// Inputs transcribed at once in the batched mode (each read as it is transcribed: a few chunks of it held).
constexpr size_t kInputsAtOnce = 4;

struct ProgressState {
  std::string name;
  bool enabled = false;
};

// One line on stderr, "wisp: " first; user-supplied names in `text` cannot reach the terminal raw.
void say(const std::string& text) { std::cerr << "wisp: " << terminal_safe(text) << "\n"; }

void on_progress(double fraction, void* user) {
  auto* p = static_cast<ProgressState*>(user);
  if (!p->enabled) return;
  std::fprintf(stderr, "\r%s: %3d%%", p->name.c_str(), static_cast<int>(fraction * 100.0 + 0.5));
  std::fflush(stderr);
}

int on_segment_verbose(const wisp_segment* s, void*) {
  std::fprintf(stderr, "[%8.2f --> %8.2f]%s\n", s->start, s->end, terminal_safe(s->text).c_str());
  return 1;
}

std::vector<std::string> formats_of(const std::string& f) {
  if (f == "all") return {"txt", "srt", "vtt", "tsv", "json"};
  return {f};
}

int run_transcribe(const ParsedCommand& cmd, const char* argv0) {
  const TranscribeCommand& t = cmd.transcribe;
  const bool to_stdout = t.output_dir.empty();
  if (to_stdout && t.output_format == "all") {
    say("--output-format all needs --output-dir");
    return 2;
  }
  if (!to_stdout) {
    std::error_code ec;
    fs::create_directories(t.output_dir, ec);
    if (ec || !fs::is_directory(t.output_dir)) {
      say("cannot create output directory '" + t.output_dir + "': " + ec.message());
      return 1;
    }
  }
  if (std::count(t.inputs.begin(), t.inputs.end(), "-") > 1) {
    say("stdin (-) can be given only once");
    return 2;
  }

  wisp::Model model;
  const auto load_start = std::chrono::steady_clock::now();
  double load_ms = 0;
  try {
    model = wisp::Model(resolve_model_path(cmd.common.model, argv0), cmd.common.threads,
                        compute_type_of(cmd.common.compute_type),
                        cmd.common.isa.empty() ? nullptr : cmd.common.isa.c_str());
    load_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - load_start).count();
  } catch (const wisp::Exception& e) {
    say(std::string("cannot load model: ") + e.what());
    return e.status() == WISP_ERR_INVALID_ARGUMENT ? 2 : 1;  // e.g. --isa above what this CPU runs: usage
  }
  if (t.task == "translate" && !model.multilingual()) {
    say("model '" + cmd.common.model + "' is English-only and cannot translate; use a multilingual model");
    return 2;
  }
  if (t.language != "auto" && !wisp_model_supports_language(model.get(), t.language.c_str())) {
    say("model '" + cmd.common.model + "' " +
        (model.multilingual() ? "does not know language '" + t.language + "'"
                              : "is English-only and cannot transcribe '" + t.language +
                                    "'; use a multilingual model or -l en"));
    return 2;
  }
  wisp::Context ctx(model);

  const std::vector<float> temps = fallback_temperatures(t.temperature, t.temperature_increment);
  wisp_transcribe_params p = wisp_transcribe_params_default();
  p.language = t.language == "auto" ? nullptr : t.language.c_str();
  p.task = t.task == "translate" ? WISP_TASK_TRANSLATE : WISP_TASK_TRANSCRIBE;
  p.beam_size = t.beam_size;
  p.best_of = t.best_of;
  p.patience = t.patience;
  p.length_penalty = t.length_penalty;
  p.temperatures = temps.data();
  p.n_temperatures = static_cast<int>(temps.size());
  p.compression_ratio_threshold = t.compression_ratio_threshold;
  p.logprob_threshold = t.logprob_threshold;
  p.no_speech_threshold = t.no_speech_threshold;
  p.condition_on_previous_text = t.condition_on_previous_text ? 1 : 0;
  p.initial_prompt = t.prompt.empty() ? nullptr : t.prompt.c_str();
  p.without_timestamps = t.without_timestamps ? 1 : 0;
  p.seed = t.seed;
  p.max_stream_seconds = t.max_stdin_minutes * 60.0;
  p.vad = t.vad ? 1 : 0;
  p.vad_model = t.vad_model.empty() ? nullptr : t.vad_model.c_str();
  p.vad_threshold = t.vad_threshold;
  p.vad_min_speech_ms = t.vad_min_speech_ms;
  p.vad_min_silence_ms = t.vad_min_silence_ms;
  p.vad_speech_pad_ms = t.vad_speech_pad_ms;
  p.vad_max_speech_s = static_cast<float>(t.vad_max_speech_s);
  p.batch_size = t.batch;
  p.level_loudness = t.keep_levels ? 0 : 1;
  p.word_timestamps = t.word_timestamps ? 1 : 0;
  p.hallucination_silence_threshold = t.hallucination_silence_threshold;
  p.prepend_punctuations = t.prepend_punctuations.c_str();
  p.append_punctuations = t.append_punctuations.c_str();
  wisp_format_params layout = wisp_format_params_default();
  layout.max_line_width = t.max_line_width;
  layout.max_line_count = t.max_line_count;
  layout.max_words_per_line = t.max_words_per_line;
  layout.highlight_words = t.highlight_words ? 1 : 0;
  ProgressState progress;
  progress.enabled = !t.quiet && !t.verbose && isatty(STDERR_FILENO);
  p.on_progress = on_progress;
  p.user_data = &progress;
  if (t.verbose && !t.quiet) p.on_segment = on_segment_verbose;

  // The batched mode (and no segment printed as it comes): inputs transcribed a few at a time on one engine,
  // whose encoder calls and decoder steps take windows of all of them, each read and its speech found on
  // a worker's thread while the engine transcribes what came before (one input alone: 3-4 % sooner than on
  // one thread, tiny.en on the dev long form); written in input order.
  std::optional<wisp::Engine> engine;
  std::optional<InputPool> pool;
  const bool single = t.inputs.size() == 1;
  if (t.batch > 0 && !t.verbose) {
    wisp_engine_params ep = wisp_engine_params_default();
    ep.n_threads = cmd.common.threads;
    ep.max_audio_seconds = 0;  // streamed: a few chunks of each input under way (kInputsAtOnce)
    ep.vad_model = t.vad_model.empty() ? nullptr : t.vad_model.c_str();
    wisp_transcribe_params pool_params = p;
    if (single) {  // its share done, as without the engine (on the engine's thread: the name is set now)
      progress.name = terminal_safe(t.inputs[0] == "-" ? "stdin" : fs::path(t.inputs[0]).filename().string());
    } else {  // per input; the count of inputs done is shown instead
      pool_params.on_progress = nullptr;
      pool_params.user_data = nullptr;
    }
    try {
      engine.emplace(model, ep);
      pool.emplace(model, *engine, t.inputs, pool_params,
                   static_cast<int>(std::min(t.inputs.size(), kInputsAtOnce)));
    } catch (const std::exception& e) {  // wisp::Exception, or threads that cannot start
      say(std::string("cannot start the engine: ") + e.what());
      return 1;
    }
  }

  int failures = 0;
  std::set<std::string>
      used_stems;  // two inputs named alike (a/x.wav, b/x.mp3) must not overwrite each other
  for (size_t index = 0; index < t.inputs.size(); ++index) {
    const std::string& input = t.inputs[index];
    std::string stem = input == "-" ? "stdin" : fs::path(input).stem().string();
    for (int k = 1; used_stems.count(stem); ++k)
      stem = fs::path(input).stem().string() + "-" + std::to_string(k);
    used_stems.insert(stem);
    const std::string display = input == "-" ? "stdin" : input;
    if (!pool || !single)
      progress.name = terminal_safe(input == "-" ? "stdin" : fs::path(input).filename().string());
    try {
      if (pool && !single && progress.enabled)
        std::fprintf(stderr, "\r%zu of %zu inputs done", pool->done(), t.inputs.size());
      wisp::Result result = pool ? pool->take(index) : ctx.transcribe_file(input, p);
      if (progress.enabled) std::fprintf(stderr, "\r\033[K");
      if (t.timings)
        std::cerr << timings_line(input == "-" ? "stdin" : fs::path(input).filename().string(),
                                  result.duration(), load_ms, result.timings())
                  << "\n";
      bool written = true;
      for (const std::string& f : formats_of(t.output_format)) {
        const std::string text = result.format(f, &layout);
        if (to_stdout) {
          const std::string err = write_stdout(text);
          if (!err.empty()) {  // nothing later can reach stdout either: stop here
            say("cannot write to stdout: " + err);
            return 1;
          }
        } else {
          const std::string out = (fs::path(t.output_dir) / (stem + "." + f)).string();
          const std::string err = write_file(out, text);
          if (!err.empty()) {
            say("cannot write '" + out + "': " + err);
            written = false;
          } else if (!t.quiet) {
            say("wrote " + out);
          }
        }
      }
      if (!written) ++failures;
    } catch (const wisp::Exception& e) {
      if (progress.enabled) std::fprintf(stderr, "\r\033[K");
      std::cerr << "wisp: " << failure_message(e.status(), display, cmd.common.model, e.what()) << "\n";
      ++failures;
      if (e.status() == WISP_ERR_MODEL) return 1;  // the model is at fault: no other input can do better
    }
  }
  return failures == 0 ? 0 : 1;
}

// "model name" from /proc/cpuinfo and the core count, for the bench header.
std::string machine_description() {
  std::ifstream in("/proc/cpuinfo");
  std::string line, model = "unknown CPU";
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) {
      model = line.substr(line.find(':') + 2);
      break;
    }
  return model + ", " + std::to_string(std::thread::hardware_concurrency()) + " logical cores";
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

int run_bench(const ParsedCommand& cmd, const char* argv0) {
  const BenchCommand& b = cmd.bench;
  const std::string path = resolve_model_path(cmd.common.model, argv0);
  using Clock = std::chrono::steady_clock;
  std::vector<double> load, audio, vad, mel, enc, dec, total, rtf, ms_per_token, ms_per_step, enc_gflops,
      dec_gflops;
  int tokens = 0, windows = 0, steps = 0, passes = 0;
  double duration = 0;
  std::string backend;
  double peak = 0;
  const char* peak_instruction = "";
  try {
    for (int run = 0; run <= b.runs; ++run) {  // run 0 is a warm-up, not counted
      const auto t0 = Clock::now();
      wisp::Model model(path, cmd.common.threads, compute_type_of(cmd.common.compute_type),
                        cmd.common.isa.empty() ? nullptr : cmd.common.isa.c_str());
      backend = model.backend();
      const double load_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
      wisp::Context ctx(model);
      wisp_transcribe_params p = wisp_transcribe_params_default();
      p.beam_size = b.beam_size;
      p.language = b.language == "auto" ? nullptr : b.language.c_str();
      p.batch_size = b.batch;
      p.vad = b.vad ? 1 : 0;
      p.word_timestamps = b.word_timestamps ? 1 : 0;
      wisp::Result r = ctx.transcribe_file(b.input, p);
      const wisp_timings tm = r.timings();
      if (run == 0) continue;
      load.push_back(load_ms);
      audio.push_back(tm.load_audio_ms);
      vad.push_back(tm.vad_ms);
      mel.push_back(tm.mel_ms);
      enc.push_back(tm.encoder_ms);
      dec.push_back(tm.decoder_ms);
      total.push_back(tm.total_ms);
      duration = r.duration();
      rtf.push_back(duration / (tm.total_ms / 1000.0));
      tokens = tm.n_tokens;
      windows = tm.n_windows;
      steps = tm.n_decode_steps;
      passes = tm.n_decode_passes;
      ms_per_token.push_back(tm.n_tokens ? tm.decoder_ms / tm.n_tokens : 0.0);
      ms_per_step.push_back(tm.n_decode_steps ? tm.decoder_ms / tm.n_decode_steps : 0.0);
      enc_gflops.push_back(tm.encoder_ms > 0 ? tm.encoder_gflop / (tm.encoder_ms / 1000.0) : 0.0);
      dec_gflops.push_back(tm.decoder_ms > 0 ? tm.decoder_gflop / (tm.decoder_ms / 1000.0) : 0.0);
      if (run == b.runs) peak = wisp_model_peak_gops(model.get(), cmd.common.threads, &peak_instruction);
    }
  } catch (const wisp::Exception& e) {
    std::cerr << "wisp bench: " << terminal_safe(e.what()) << "\n";
    return 1;
  }
  std::printf("wisp %s bench: %s, model %s, %d thread(s), beam %d, %s%s, %d runs (+1 warm-up), medians\n",
              wisp_version(), b.input.c_str(), path.c_str(), cmd.common.threads, b.beam_size,
              b.batch > 0 ? ("batched, " + std::to_string(b.batch) + " windows in flight").c_str()
                          : (b.vad ? "sequential with VAD" : "sequential"),
              b.word_timestamps ? ", word timestamps" : "", b.runs);
  std::printf("machine: %s\n", machine_description().c_str());
  std::printf("compute: %s\n", backend.c_str());
  std::printf(
      "audio: %.2f s, %d window(s) encoded, %d decoding pass(es) with fallbacks, %d decoder steps, "
      "%d output tokens\n\n",
      duration, windows, passes, steps, tokens);
  const auto share = [&](double gflops) { return peak > 0 ? 100.0 * gflops / peak : 0.0; };
  std::printf("| stage          | median ms |  GFLOP/s | %% of peak |\n");
  std::printf("|----------------|-----------|----------|-----------|\n");
  std::printf("| model load     | %9.1f |          |           |\n", median(load));
  std::printf("| audio decode   | %9.1f |          |           |\n", median(audio));
  std::printf("| speech (VAD)   | %9.1f |          |           |\n", median(vad));
  std::printf("| mel            | %9.1f |          |           |\n", median(mel));
  std::printf("| encoder        | %9.1f | %8.1f | %8.1f%% |\n", median(enc), median(enc_gflops),
              share(median(enc_gflops)));
  std::printf("| decoder        | %9.1f | %8.1f | %8.1f%% |\n", median(dec), median(dec_gflops),
              share(median(dec_gflops)));
  std::printf("| ms per token   | %9.2f |  (decoder ms / output tokens)\n", median(ms_per_token));
  std::printf("| ms per step    | %9.2f |  (decoder ms / forward passes of all beams)\n",
              median(ms_per_step));
  std::printf("| total (no load)| %9.1f |\n", median(total));
  std::printf("\nrealtime factor (audio s / total s, load excluded): %.1fx\n", median(rtf));
  std::printf(
      "peak of the compute type (measured now, %s, same threads): %.1f GOP/s; encoder GFLOP/s include\n"
      "attention, layer norms and the cross-attention keys/values; the decoder is bound by memory traffic\n",
      peak_instruction, peak);
  if (b.batch > 0)
    std::printf(
        "stages overlap in the batched mode on 2 threads or more: the speech is found (audio decode,\n"
        "VAD) on a thread of its own while the chunks found so far go through the mel and the encoder,\n"
        "so the stage times add up to more than the total\n");
  return 0;
}

// What is still buffered for stdout (help, version, the bench table) must get there too: a success whose
// output was lost is a failure.
int flushed(int code) {
  std::cout.flush();
  const std::string err = write_stdout("");
  if (err.empty() && std::cout) return code;
  say("cannot write to stdout: " + (err.empty() ? std::string("write error") : err));
  return code == 0 ? 1 : code;
}

int run(int argc, char** argv) {
  ParsedCommand cmd;
  const int code = parse_command_line(argc, argv, &cmd);
  if (code >= 0) return code;
  try {
    switch (cmd.kind) {
      case ParsedCommand::Transcribe:
        return run_transcribe(cmd, argv[0]);
      case ParsedCommand::Serve:
        return wisp_server::run_serve(
            cmd.serve, resolve_model_path(cmd.common.model, argv[0]),
            std::filesystem::path(cmd.common.model).filename().string(), cmd.common.threads,
            cmd.common.compute_type, cmd.common.isa,
            {[argv] { return installed_models(argv[0]); },
             [argv](const std::string& name) { return resolve_model_path(name, argv[0]); }});
      default:
        return run_bench(cmd, argv[0]);
    }
  } catch (const std::exception& e) {
    say(e.what());
    return 1;
  }
}

}  // namespace

int main(int argc, char** argv) { return flushed(run(argc, argv)); }
