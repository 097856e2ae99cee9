// The engine: jobs of different recordings decoded together give what each gives alone (the batched
// mode of a Transcriber), a short job that arrives while a long one runs finishes first, cancel and the
// job limit work, and a stopped engine refuses new work but finishes what it took.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "audio/audio_decoder.h"
#include "core/error.h"
#include "engine/engine.h"
#include "pipeline/transcriber.h"
#include "unit/test_paths.h"

namespace wisp {
namespace {

std::shared_ptr<const WhisperModel> tiny_en() {
  static auto m = WhisperModel::load(test::models_dir() + "/tiny.en", ModelOptions{});
  return m;
}

std::vector<float> clip(const char* name) { return audio::decode_file(test::audio_path(name)); }

// Three clips end to end with 2-s pauses: a recording of several chunks.
std::vector<float> long_recording() {
  std::vector<float> out;
  for (const char* name : {"jfk.wav", "librivox-0870.wav", "fleurs-en-003.ogg"}) {
    const std::vector<float> c = clip(name);
    out.insert(out.end(), c.begin(), c.end());
    out.insert(out.end(), 32000, 0.0f);
  }
  return out;
}

EngineOptions engine_options(int threads, int max_in_flight, int max_jobs = 64) {
  EngineOptions o;
  o.threads = threads;
  o.max_in_flight = max_in_flight;
  o.max_jobs = max_jobs;
  return o;
}

TranscribeOptions greedy() {
  TranscribeOptions o;
  o.beam_size = 1;
  o.batch_size = 8;
  return o;
}

std::vector<std::string> texts(const Transcript& t) {
  std::vector<std::string> out;
  for (const Segment& s : t.segments) out.push_back(s.text);
  return out;
}

TEST(Engine, JobsTogetherGiveWhatEachGivesAlone) {
  const std::vector<float> a = long_recording(), b = clip("jfk.wav");
  Transcriber alone(tiny_en(), 2);
  const Transcript ta = alone.transcribe(a.data(), a.size(), greedy());
  const Transcript tb = alone.transcribe(b.data(), b.size(), greedy());
  ASSERT_GE(ta.segments.size(), 3u);

  Engine engine(tiny_en(), engine_options(2, 16));
  std::atomic<int> segments_a{0};
  auto ja = engine.submit(a, greedy(), [&](const Segment&) { return ++segments_a, true; });
  auto jb = engine.submit(b, greedy());
  const Transcript ea = ja->wait(), eb = jb->wait();
  EXPECT_EQ(texts(ea), texts(ta));
  EXPECT_EQ(texts(eb), texts(tb));
  EXPECT_EQ(segments_a.load(), static_cast<int>(ea.segments.size()));
  for (size_t i = 0; i < ea.segments.size(); ++i)
    EXPECT_DOUBLE_EQ(ea.segments[i].start, ta.segments[i].start);
  EXPECT_GT(ja->timings().n_windows, 0);
  engine.wait_idle();  // the engine counts a job after waking its waiter
  EXPECT_EQ(engine.stats().jobs_done, 2u);
}

TEST(Engine, AShortJobDoesNotWaitForALongOne) {
  std::vector<float> long_audio;
  const std::vector<float> one = long_recording();
  for (int i = 0; i < 6; ++i) long_audio.insert(long_audio.end(), one.begin(), one.end());
  Engine engine(tiny_en(), engine_options(2, 8));
  TranscribeOptions o = greedy();
  o.batch_size = 4;  // the long job leaves slots for others
  auto long_job = engine.submit(long_audio, o);
  auto short_job = engine.submit(clip("jfk.wav"), o);
  const Transcript s = short_job->wait();
  EXPECT_FALSE(long_job->done()) << "the short job finished only after the long one";
  EXPECT_NE(s.text().find("ask not what your country"), std::string::npos);
  long_job->cancel();
  EXPECT_THROW(
      {
        try {
          long_job->wait();
        } catch (const Error& e) {
          EXPECT_EQ(e.kind(), ErrorKind::Cancelled);
          throw;
        }
      },
      Error);
}

TEST(Engine, RefusesJobsOverItsLimitAndAfterStop) {
  Engine engine(tiny_en(), engine_options(2, 4, 1));
  std::atomic<bool> release{false};
  auto first = engine.submit(long_recording(), greedy(), {}, {}, [&] { return release.load(); });
  EXPECT_THROW(engine.submit(clip("jfk.wav"), greedy()), EngineBusy);
  release = true;  // the first job is cancelled through its poll
  EXPECT_THROW(first->wait(), Error);
  engine.wait_idle();
  auto second = engine.submit(clip("jfk.wav"), greedy());
  engine.stop_accepting();
  EXPECT_THROW(engine.submit(clip("jfk.wav"), greedy()), EngineStopping);
  EXPECT_FALSE(second->wait().segments.empty());  // accepted before the stop: finished
}

TEST(Engine, RefusesAudioOverItsBudget) {
  EngineOptions eo = engine_options(2, 4);
  eo.max_audio_seconds = 35;
  Engine engine(tiny_en(), eo);
  std::atomic<bool> release{false};
  auto first = engine.submit(long_recording(), greedy(), {}, {}, [&] { return release.load(); });  // 30 s
  EXPECT_THROW(engine.submit(clip("jfk.wav"), greedy()), EngineBusy);  // 11 s more: over 35
  EXPECT_NEAR(engine.stats().held_audio_seconds, first->duration(), 0.01);
  release = true;
  EXPECT_THROW(first->wait(), Error);
  engine.wait_idle();
  EXPECT_EQ(engine.stats().held_audio_seconds, 0.0);
  EXPECT_FALSE(engine.submit(clip("jfk.wav"), greedy())->wait().segments.empty());
}

TEST(Engine, BadOptionsAreRefusedBeforeAnyWork) {
  Engine engine(tiny_en(), engine_options(1, 16));
  TranscribeOptions o = greedy();
  o.language = "de";  // tiny.en only transcribes English
  EXPECT_THROW(engine.submit(clip("jfk.wav"), o), Error);
  o = greedy();
  o.beam_size = 0;
  EXPECT_THROW(engine.submit(clip("jfk.wav"), o), Error);
  EXPECT_THROW(Engine(tiny_en(), engine_options(1, 0)), Error);
}

}  // namespace
}  // namespace wisp
