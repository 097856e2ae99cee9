#include "http_server.h"

#include <httplib.h>
#include <malloc.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "audio/audio_decoder.h"
#include "connection_probe.h"
#include "core/error.h"
#include "core/stopwatch.h"
#include "responses.h"
#include "web_page.h"

namespace wisp_server {
namespace {

using wisp::Clock;

void send_error(httplib::Response& res, int status, const std::string& message, const std::string& param = "",
                const std::string& code = "") {
  const char* type = status == 401   ? "authentication_error"
                     : status == 429 ? "rate_limit_error"
                     : status >= 500 ? "server_error"
                                     : "invalid_request_error";
  res.status = status;
  res.set_content(error_json(message, type, param, code), "application/json");
}

// Events of a streamed transcription, from the engine's thread to the connection's.
struct EventQueue {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::string> events;
  void push(std::string e) {
    {
      std::lock_guard lk(mu);
      events.push_back(std::move(e));
    }
    cv.notify_all();
  }
};

}  // namespace

Server::Server(ModelRegistry& models, const ServerOptions& options)
    : models_(models), options_(options), http_(std::make_unique<httplib::Server>()) {
  const int threads = options_.http_threads;
  http_->new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  http_->set_payload_max_length(options_.max_upload_bytes);
  http_->set_read_timeout(60, 0);
  http_->set_write_timeout(60, 0);
  routes();
}

Server::~Server() = default;

bool Server::authorized(const std::string& authorization) const {
  return options_.api_key.empty() || authorization == "Bearer " + options_.api_key;
}

bool Server::bind(std::string* error) {
  if (options_.port == 0) {
    port_ = http_->bind_to_any_port(options_.host);
    if (port_ > 0) return true;
  } else if (http_->bind_to_port(options_.host, options_.port)) {
    port_ = options_.port;
    return true;
  }
  *error = "cannot listen on " + options_.host + ":" + std::to_string(options_.port) +
           " (in use, or not an address of this machine)";
  return false;
}

bool Server::serve(std::string* error) {
  for (;;) {
    http_->listen_after_bind();
    if (stopping_) return true;
    const int accept_errno = errno;
    int tries = 0;
    while (!stopping_ && !http_->bind_to_port(options_.host, port_)) {
      if (++tries == 50) {
        *error = "stopped listening (accept: " + std::string(std::strerror(accept_errno)) +
                 ") and cannot listen again on " + options_.host + ":" + std::to_string(port_);
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    std::fprintf(stderr, "wisp serve: accept failed (%s); listening again\n", std::strerror(accept_errno));
  }
}

void Server::stop() {
  stopping_ = true;
  http_->stop();
}

void Server::routes() {
  httplib::Server& s = *http_;

  // Statuses httplib sets itself (413 payload too large, 404 no such route, 400 malformed request) get
  // OpenAI's error body too.
  s.set_error_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (res.body.empty()) {
      const std::string message = res.status == 413
                                      ? "the upload is larger than the server takes (" +
                                            std::to_string(options_.max_upload_bytes >> 20) + " MiB)"
                                  : res.status == 404 ? "no such endpoint: " + req.method + " " + req.path
                                                      : "bad request";
      send_error(res, res.status, message);
      metrics_.request(req.path.rfind("/v1/audio/", 0) == 0 ? req.path.substr(10) : "other", res.status);
    }
  });

  s.Get("/health", [this](const httplib::Request&, httplib::Response& res) {
    if (stopping_) {
      res.status = 503;
      res.set_content(R"({"status":"shutting down"})", "application/json");
    } else {
      res.set_content(R"({"status":"ok"})", "application/json");
    }
  });

  s.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics_.render(models_.stats()), "text/plain; version=0.0.4");
  });

  s.Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(web_page(), "text/html; charset=utf-8");
  });

  s.Get("/v1/models", [this](const httplib::Request& req, httplib::Response& res) {
    if (!authorized(req.get_header_value("Authorization")))
      return send_error(res, 401, "incorrect API key", "", "invalid_api_key");
    nlohmann::json data = nlohmann::json::array();
    for (const std::string& id : models_.names())
      data.push_back({{"id", id}, {"object", "model"}, {"created", 0}, {"owned_by", "wisp"}});
    res.set_content(nlohmann::json({{"object", "list"}, {"data", data}}).dump(), "application/json");
  });

  auto transcription = [this](bool translate) {
    return [this, translate](const httplib::Request& req, httplib::Response& res) {
      const char* endpoint = translate ? "translations" : "transcriptions";
      const auto t0 = Clock::now();
      auto fail = [&](int status, const std::string& message, const std::string& param = "",
                      const std::string& code = "") {
        send_error(res, status, message, param, code);
        metrics_.request(endpoint, status);
      };
      if (!authorized(req.get_header_value("Authorization")))
        return fail(401, "incorrect API key provided", "", "invalid_api_key");
      if (stopping_) return fail(503, "the server is shutting down");
      if (!req.is_multipart_form_data() || !req.has_file("file"))
        return fail(400, "send the audio as multipart/form-data with a 'file' field", "file");
      std::vector<std::pair<std::string, std::string>> fields;
      for (const auto& [name, part] : req.files)
        if (name != "file") fields.emplace_back(name, part.content);
      TranscriptionRequest r;
      try {
        r = parse_request(fields, translate, options_.defaults);
      } catch (const BadParameter& e) {
        return fail(400, e.what(), e.param);
      }
      wisp::Engine* engine = nullptr;
      try {
        engine = models_.engine(r.model);
      } catch (const std::exception& e) {
        return fail(500, "the model '" + r.model + "' cannot be loaded: " + e.what(), "model");
      }
      if (!engine)
        return fail(404, "the model '" + r.model + "' is not installed here (GET /v1/models lists them)",
                    "model", "model_not_found");

      const httplib::MultipartFormData& file = req.files.find("file")->second;  // not copied
      const size_t max_samples = static_cast<size_t>(options_.max_audio_seconds * 16000.0);
      auto too_long = [&] {
        return fail(413,
                    "the audio is longer than the server takes (" +
                        std::to_string(static_cast<int>(options_.max_audio_seconds / 60)) + " minutes)",
                    "file");
      };
      auto not_audio = [&](const std::exception& e) {
        return fail(400, std::string("the file is not audio wisp can read: ") + e.what(), "file");
      };
      // The batched mode reads the upload as it transcribes it (no float copy of the whole); the sequential
      // one needs it whole.
      const bool streamed = r.options.batch_size != 0;
      std::vector<float> samples;
      if (!streamed) {
        try {
          samples = wisp::audio::decode_memory(file.content.data(), file.content.size(), file.filename,
                                               max_samples);
        } catch (const std::exception& e) {
          // The decoder's cap on audio kept in memory ("... holds more than N min of audio ..."): too long
          // here.
          if (std::string(e.what()).find("holds more than") != std::string::npos) return too_long();
          return not_audio(e);
        }
      }
      double audio_seconds = static_cast<double>(samples.size()) / 16000.0;
      // The upload through the decoder block by block, cut short (AudioTooLong) past the limit: at once
      // when the header says so, else once that much is read.
      struct AudioTooLong {};
      const wisp::AudioProducer upload = [&](const wisp::audio::SampleSink& sink) {
        size_t read = 0;
        wisp::audio::SampleSink capped;
        capped.length = [&](size_t n) {
          if (max_samples && n > max_samples) throw AudioTooLong{};
          if (sink.length) sink.length(n);
        };
        capped.block = [&](const float* b, size_t n) {
          if (max_samples && (read += n) > max_samples) throw AudioTooLong{};
          return sink.block(b, n);
        };
        wisp::audio::decode_memory_blocks(file.content.data(), file.content.size(), file.filename, capped);
      };

      // The client that asked is polled between decoder steps: gone, its work stops.
      auto probe = std::make_shared<ConnectionProbe>(req.remote_addr, req.remote_port, req.local_port);
      // Admission and option errors of the engine, as statuses; false when the request was answered so.
      auto accepted = [&](auto&& start) {
        try {
          start();
          return true;
        } catch (const AudioTooLong&) {
          too_long();
        } catch (const wisp::EngineBusy& e) {
          res.set_header("Retry-After", "1");
          fail(429, std::string(e.what()) + "; retry later");
        } catch (const wisp::EngineStopping& e) {
          fail(503, e.what());
        } catch (const wisp::Error& e) {
          if (e.kind() == wisp::ErrorKind::Cancelled) {
            fail(499, "the client closed the connection");
          } else if (e.kind() == wisp::ErrorKind::Audio || e.kind() == wisp::ErrorKind::Io) {
            not_audio(e);
          } else if (e.kind() == wisp::ErrorKind::InvalidArgument) {
            fail(400, e.what(),
                 std::string(e.what()).find("language") != std::string::npos ? "language" : "");
          } else {
            fail(500, e.what());
          }
        }
        return false;
      };
      auto client_gone = [probe] { return probe->client_gone(); };
      // A whole transcript as the answer.
      // The tokenizer that gives the logprobs' token bytes; null when the request asks for none.
      const wisp::decode::Tokenizer* tok = r.logprobs ? &engine->model().tokenizer() : nullptr;
      auto answer = [&](const wisp::Transcript& t) {
        malloc_trim(0);  // the request's audio goes back to the system, not to a free list
        const Body body = render(t, r, tok);
        res.set_content(body.text, body.content_type);
        metrics_.request(endpoint, 200);
        metrics_.transcribed(audio_seconds, wisp::ms_since(t0) / 1000.0);
      };

      if (r.options.batch_size == 0 && !r.stream) {  // openai's sequential loop, on this thread
        wisp::Transcript t;
        if (!accepted([&] { t = engine->transcribe_here(std::move(samples), r.options, {}, client_gone); }))
          return;
        return answer(t);
      }
      if (r.options.batch_size == 0) {  // the same, its segments streamed as they are decoded
        metrics_.request(endpoint, 200);
        auto audio = std::make_shared<std::vector<float>>(std::move(samples));
        res.set_chunked_content_provider("text/event-stream", [this, engine, audio, r, t0, audio_seconds,
                                                               tok](size_t, httplib::DataSink& sink) {
          bool gone = false;
          std::string last;
          try {
            const wisp::Transcript t =
                engine->transcribe_here(std::move(*audio), r.options, [&](const wisp::Segment& seg) {
                  const std::string e = delta_event(seg, tok);
                  gone = !sink.write(e.data(), e.size());
                  return !gone;
                });
            last = done_event(t, tok);
            metrics_.transcribed(audio_seconds, wisp::ms_since(t0) / 1000.0);
          } catch (const std::exception& e) {
            last = error_event(e.what());
          }
          if (gone) return false;
          sink.write(last.data(), last.size());
          sink.done();
          return true;
        });
        return;
      }

      auto events = r.stream ? std::make_shared<EventQueue>() : nullptr;
      std::shared_ptr<wisp::EngineJob> job;
      std::function<bool(const wisp::Segment&)> on_segment;
      if (events)
        on_segment = [events, tok](const wisp::Segment& seg) {
          return events->push(delta_event(seg, tok)), true;
        };
      // Up to 32 chunks found ahead of the engine (the upload is in memory anyway): the call returns at once
      // for most uploads, so streamed segments start as they come.
      constexpr size_t kUploadChunksAhead = 32;
      if (!accepted([&] {
            job = engine->submit_stream(upload, r.options, on_segment, {}, client_gone, kUploadChunksAhead);
          }))
        return;
      audio_seconds = job->duration();

      if (!events) {
        wisp::Transcript t;
        if (!accepted([&] {
              t = job->wait();
              job.reset();
            }))
          return;
        return answer(t);
      }
      metrics_.request(endpoint, 200);
      res.set_chunked_content_provider(
          "text/event-stream",
          [this, job, events, t0, audio_seconds, tok](size_t, httplib::DataSink& sink) {
            std::unique_lock lk(events->mu);
            for (;;) {
              while (!events->events.empty()) {
                const std::string e = std::move(events->events.front());
                events->events.pop_front();
                lk.unlock();
                const bool written = sink.write(e.data(), e.size());
                lk.lock();
                if (!written) {  // the client went away
                  job->cancel();
                  return false;
                }
              }
              if (job->done()) break;
              events->cv.wait_for(lk, std::chrono::milliseconds(50));
            }
            lk.unlock();
            std::string last;
            try {
              const wisp::Transcript t = job->wait();
              last = done_event(t, tok);
              metrics_.transcribed(audio_seconds, wisp::ms_since(t0) / 1000.0);
            } catch (const std::exception& e) {
              last = error_event(e.what());
            }
            sink.write(last.data(), last.size());
            sink.done();
            return true;
          },
          [job](bool success) {
            if (!success) job->cancel();
          });
    };
  };
  s.Post("/v1/audio/transcriptions", transcription(false));
  s.Post("/v1/audio/translations", transcription(true));
}

}  // namespace wisp_server
