#include "metrics.h"

#include <cstdio>

namespace wisp_server {
namespace {

std::string number(double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", x);
  return buf;
}

}  // namespace

void Metrics::request(const std::string& endpoint, int status) {
  std::lock_guard lk(mu_);
  requests_[{endpoint, status}]++;
}

void Metrics::transcribed(double audio_seconds, double latency_seconds) {
  std::lock_guard lk(mu_);
  audio_seconds_ += audio_seconds;
  Histogram& h = latency_[audio_seconds <= kShortAudioSeconds ? 0 : 1];
  size_t b = 0;
  while (b < kLatencyBuckets.size() && latency_seconds > kLatencyBuckets[b]) ++b;
  h.counts[b]++;
  h.sum += latency_seconds;
  h.n++;
}

std::string Metrics::render(const wisp::EngineStats& e) const {
  std::lock_guard lk(mu_);
  std::string out;
  out +=
      "# HELP wisp_requests_total HTTP requests by endpoint and status.\n# TYPE wisp_requests_total "
      "counter\n";
  for (const auto& [key, n] : requests_)
    out += "wisp_requests_total{endpoint=\"" + key.first + "\",status=\"" + std::to_string(key.second) +
           "\"} " + std::to_string(n) + "\n";
  out +=
      "# HELP wisp_audio_seconds_total Seconds of audio transcribed.\n# TYPE wisp_audio_seconds_total "
      "counter\n";
  out += "wisp_audio_seconds_total " + number(audio_seconds_) + "\n";
  out +=
      "# HELP wisp_request_duration_seconds Time from request to answer, by audio length (short: <= 30 s).\n";
  out += "# TYPE wisp_request_duration_seconds histogram\n";
  const char* sizes[2] = {"short", "long"};
  for (int s = 0; s < 2; ++s) {
    const Histogram& h = latency_[s];
    uint64_t cumulative = 0;
    for (size_t b = 0; b < kLatencyBuckets.size(); ++b) {
      cumulative += h.counts[b];
      out += std::string("wisp_request_duration_seconds_bucket{audio=\"") + sizes[s] + "\",le=\"" +
             number(kLatencyBuckets[b]) + "\"} " + std::to_string(cumulative) + "\n";
    }
    out += std::string("wisp_request_duration_seconds_bucket{audio=\"") + sizes[s] + "\",le=\"+Inf\"} " +
           std::to_string(h.n) + "\n";
    out +=
        std::string("wisp_request_duration_seconds_sum{audio=\"") + sizes[s] + "\"} " + number(h.sum) + "\n";
    out += std::string("wisp_request_duration_seconds_count{audio=\"") + sizes[s] + "\"} " +
           std::to_string(h.n) + "\n";
  }
  out += "# HELP wisp_queue_depth Transcriptions waiting for the engine.\n# TYPE wisp_queue_depth gauge\n";
  out += "wisp_queue_depth " + std::to_string(e.queued_jobs) + "\n";
  out += "# HELP wisp_held_audio_seconds Audio of the transcriptions queued or running.\n";
  out += "# TYPE wisp_held_audio_seconds gauge\n";
  out += "wisp_held_audio_seconds " + number(e.held_audio_seconds) + "\n";
  out += "# HELP wisp_running_jobs Transcriptions in the engine's loop.\n# TYPE wisp_running_jobs gauge\n";
  out += "wisp_running_jobs " + std::to_string(e.running_jobs) + "\n";
  out += "# HELP wisp_windows_in_flight 30-s windows being decoded.\n# TYPE wisp_windows_in_flight gauge\n";
  out += "wisp_windows_in_flight " + std::to_string(e.chunks_in_flight) + "\n";
  out += "# HELP wisp_decoder_step_rows Decoding passes advanced by one decoder step (the batch size).\n";
  out += "# TYPE wisp_decoder_step_rows histogram\n";
  uint64_t cumulative = 0;
  for (int b = 0; b < 7; ++b) {
    cumulative += e.step_rows_le[b];
    out += "wisp_decoder_step_rows_bucket{le=\"" + std::to_string(wisp::EngineStats::kRowBuckets[b]) +
           "\"} " + std::to_string(cumulative) + "\n";
  }
  out += "wisp_decoder_step_rows_bucket{le=\"+Inf\"} " + std::to_string(e.decoder_steps) + "\n";
  out += "wisp_decoder_step_rows_sum " + std::to_string(e.decoder_rows) + "\n";
  out += "wisp_decoder_step_rows_count " + std::to_string(e.decoder_steps) + "\n";
  out +=
      "# HELP wisp_jobs_done_total Transcriptions the engine finished.\n# TYPE wisp_jobs_done_total "
      "counter\n";
  out += "wisp_jobs_done_total " + std::to_string(e.jobs_done) + "\n";
  out += "# HELP wisp_stage_seconds_total Compute time of the finished transcriptions by stage.\n";
  out += "# TYPE wisp_stage_seconds_total counter\n";
  const std::pair<const char*, double> stages[] = {{"vad", e.work.vad_ms},
                                                   {"mel", e.work.mel_ms},
                                                   {"encoder", e.work.encoder_ms},
                                                   {"decoder", e.work.decoder_ms}};
  for (const auto& [stage, ms] : stages)
    out += std::string("wisp_stage_seconds_total{stage=\"") + stage + "\"} " + number(ms / 1000.0) + "\n";
  out +=
      "# HELP wisp_windows_encoded_total 30-s windows through the encoder.\n# TYPE "
      "wisp_windows_encoded_total counter\n";
  out += "wisp_windows_encoded_total " + std::to_string(e.work.n_windows) + "\n";
  out += "# HELP wisp_decoding_passes_total Window decodings, fallbacks included.\n";
  out += "# TYPE wisp_decoding_passes_total counter\n";
  out += "wisp_decoding_passes_total " + std::to_string(e.work.n_decode_passes) + "\n";
  return out;
}

}  // namespace wisp_server
