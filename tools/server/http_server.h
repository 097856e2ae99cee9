// `wisp serve`: OpenAI's audio API over HTTP (cpp-httplib), every transcription of a model going through
// that model's one Engine, so that the windows of all requests share encoder calls and decoder steps.
//   POST /v1/audio/transcriptions, /v1/audio/translations   multipart: file, model, language, prompt,
//        response_format, temperature, timestamp_granularities[], stream (+ wisp's: request_params.h)
//   GET  /v1/models, /health, /metrics, and / (a page to try it in a browser)
// Errors are OpenAI's error JSON: 400 bad parameter or audio, 401 wrong key, 404 unknown model, 413 upload
// too large, 429 (Retry-After) too many transcriptions at once, 503 shutting down.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <string>

#include "metrics.h"
#include "model_registry.h"
#include "request_params.h"

namespace httplib {
class Server;
}

namespace wisp_server {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;      // 0: any free port (port() says which)
  std::string api_key;  // non-empty: requests to /v1 need "Authorization: Bearer <key>"
  size_t max_upload_bytes = size_t{512} << 20;
  double max_audio_seconds = 3 * 3600.0;
  int http_threads = 64;  // connections served at once
  RequestDefaults defaults;
};

class Server {
 public:
  Server(ModelRegistry& models, const ServerOptions& options);
  ~Server();

  // Binds; false (with a message) when the address cannot be used.
  bool bind(std::string* error);
  int port() const { return port_; }
  // Serves until stop(); returns once the requests that were accepted are answered. cpp-httplib stops
  // listening when accept() fails with anything but EMFILE (Linux passes a connection's network errors
  // to accept); the server then listens again on its address. False (with a message) if it cannot.
  bool serve(std::string* error);
  // Stops accepting connections; requests under way are answered (safe from another thread).
  void stop();

 private:
  void routes();
  bool authorized(const std::string& authorization) const;

  ModelRegistry& models_;
  ServerOptions options_;
  Metrics metrics_;
  std::unique_ptr<httplib::Server> http_;
  std::atomic<bool> stopping_{false};
  int port_ = 0;
};

}  // namespace wisp_server
