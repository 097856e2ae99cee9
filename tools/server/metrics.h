// The server's counters in Prometheus' text format (GET /metrics): requests by endpoint and status, audio
// seconds transcribed, request latency by audio length, and the engine's queue and batch sizes.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "engine/engine.h"

namespace wisp_server {

class Metrics {
 public:
  void request(const std::string& endpoint, int status);
  // A transcription that was answered: its audio and the seconds from request to answer.
  void transcribed(double audio_seconds, double latency_seconds);
  std::string render(const wisp::EngineStats& engine) const;

  // Latency histogram bounds (seconds) and the audio length that splits "short" from "long" requests.
  static constexpr std::array<double, 12> kLatencyBuckets = {0.1, 0.25, 0.5, 1,   2,   5,
                                                             10,  20,   60,  120, 300, 600};
  static constexpr double kShortAudioSeconds = 30.0;

 private:
  struct Histogram {
    std::array<uint64_t, kLatencyBuckets.size() + 1> counts{};  // the last: above every bound
    double sum = 0;
    uint64_t n = 0;
  };
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;
  double audio_seconds_ = 0;
  Histogram latency_[2];  // short, long
};

}  // namespace wisp_server
