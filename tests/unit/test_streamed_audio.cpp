// Audio handed over block by block as it is read (Transcriber::transcribe_stream, Engine::submit_stream,
// the C API's file input in the batched mode) gives the transcript of the whole recording handed over at
// once, whatever the blocks; a job that stops stops the reading; a reader that fails fails the call and
// leaves the engine serving others. With two threads or more, a Transcriber finds the speech on a thread of
// its own while it encodes what was found, and an engine job's passes wait until its audio is read.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <stdexcept>
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

// Three clips with pauses (one of them 35 s long: nothing held across it), several times over.
std::vector<float> recording(int times = 1) {
  std::vector<float> one;
  for (const char* name : {"jfk.wav", "librivox-0870.wav", "fleurs-en-003.ogg"}) {
    const std::vector<float> c = audio::decode_file(test::audio_path(name));
    one.insert(one.end(), c.begin(), c.end());
    one.insert(one.end(), name[0] == 'l' ? 35 * 16000 : 32000, 0.0f);
  }
  std::vector<float> out;
  for (int i = 0; i < times; ++i) out.insert(out.end(), one.begin(), one.end());
  return out;
}

EngineOptions engine_options(int max_in_flight) {
  EngineOptions o;
  o.threads = 2;
  o.max_in_flight = max_in_flight;
  return o;
}

TranscribeOptions greedy(int batch = 8) {
  TranscribeOptions o;
  o.beam_size = 1;
  o.batch_size = batch;
  return o;
}

// Hands `x` over in blocks of `block` samples; counts them.
AudioProducer blocks_of(const std::vector<float>& x, size_t block, std::atomic<int>* handed = nullptr) {
  return [&x, block, handed](const audio::SampleSink& sink) {
    for (size_t at = 0; at < x.size(); at += block) {
      if (handed) ++*handed;
      if (!sink.block(x.data() + at, std::min(block, x.size() - at))) return;
    }
  };
}

void expect_same(const Transcript& a, const Transcript& b) {
  ASSERT_EQ(a.segments.size(), b.segments.size());
  for (size_t i = 0; i < a.segments.size(); ++i) {
    EXPECT_EQ(a.segments[i].text, b.segments[i].text);
    EXPECT_DOUBLE_EQ(a.segments[i].start, b.segments[i].start);
    EXPECT_DOUBLE_EQ(a.segments[i].end, b.segments[i].end);
  }
  EXPECT_DOUBLE_EQ(a.duration, b.duration);
}

TEST(StreamedAudio, AnyBlocksGiveTheTranscriptOfTheWhole) {
  const std::vector<float> x = recording();
  Transcriber t(tiny_en(), 2);
  const Transcript whole = t.transcribe(x.data(), x.size(), greedy());
  ASSERT_GE(whole.segments.size(), 4u);
  for (size_t block : {size_t{3001}, size_t{16000 * 7}}) {
    SCOPED_TRACE(block);
    expect_same(t.transcribe_stream(blocks_of(x, block), greedy()), whole);
  }
  EXPECT_THROW(t.transcribe_stream(blocks_of(x, 16000), greedy(0)),
               Error);  // the sequential mode needs it all
}

TEST(StreamedAudio, ProgressGoesUpToOne) {
  const std::vector<float> x = recording(3);
  Transcriber t(tiny_en(), 2);
  for (bool told_length : {true, false}) {
    std::vector<double> seen;
    const AudioProducer produce = [&](const audio::SampleSink& sink) {
      if (told_length && sink.length) sink.length(x.size());
      for (size_t at = 0; at < x.size(); at += 16000 * 5)
        if (!sink.block(x.data() + at, std::min<size_t>(16000 * 5, x.size() - at))) return;
    };
    t.transcribe_stream(produce, greedy(1), {}, [&](double f) { seen.push_back(f); });
    SCOPED_TRACE(told_length);
    ASSERT_FALSE(seen.empty());
    EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
    EXPECT_DOUBLE_EQ(seen.back(), 1.0);
    // With the length told, it moves before the end of the reading; without, only once all is read.
    if (told_length) {
      EXPECT_GT(seen.size(), 2u);
      EXPECT_LT(seen.front(), 0.5);
    }
  }
}

TEST(StreamedAudio, TheEngineTakesStreamsBesideWholeRecordings) {
  const std::vector<float> x = recording();
  Engine engine(tiny_en(), engine_options(8));
  const Transcript whole = engine.submit(x, greedy())->wait();
  auto streamed = engine.submit_stream(blocks_of(x, 5000), greedy(2));
  auto beside = engine.submit(audio::decode_file(test::audio_path("jfk.wav")), greedy());
  expect_same(streamed->wait(), whole);
  EXPECT_NE(beside->wait().text().find("ask not what your country"), std::string::npos);
  engine.wait_idle();  // the engine gives a job's audio back after waking its waiter
  EXPECT_EQ(engine.stats().held_audio_seconds, 0.0);  // a stream's, counted as read, given back too
}

TEST(StreamedAudio, AStoppedJobStopsTheReading) {
  const std::vector<float> x = recording(10);  // ~10 min
  Engine engine(tiny_en(), engine_options(4));
  std::atomic<int> handed{0};
  const size_t block = 16000;
  // One chunk in flight, two found ahead (about 3 min of this audio): the reader waits for the loop, which
  // stops at the first segment.
  auto job =
      engine.submit_stream(blocks_of(x, block, &handed), greedy(1), [](const Segment&) { return false; });
  EXPECT_EQ(job->wait().segments.size(), 1u);
  EXPECT_LT(static_cast<size_t>(handed.load()), x.size() / block / 2);
}

TEST(StreamedAudio, AReaderThatFailsFailsTheCallAndNothingElse) {
  const std::vector<float> x = recording();
  Engine engine(tiny_en(), engine_options(8));
  auto failing = [&x](const audio::SampleSink& sink) {
    sink.block(x.data(), 16000 * 20);
    throw Error(ErrorKind::Audio, "the input broke off");
  };
  EXPECT_THROW(engine.submit_stream(failing, greedy()), Error);
  engine.wait_idle();
  EXPECT_NE(
      engine.submit(audio::decode_file(test::audio_path("jfk.wav")), greedy())->wait().text().find("country"),
      std::string::npos);
}

TEST(StreamedAudio, SpeechFoundOnItsOwnThreadGivesTheSameTranscript) {
  const std::vector<float> x = recording(2);
  Transcriber one(tiny_en(), 1), two(tiny_en(), 2);
  const Transcript alone = one.transcribe_stream(blocks_of(x, 16000), greedy());
  std::vector<std::string> seen;
  const Transcript found_aside = two.transcribe_stream(blocks_of(x, 16000), greedy(), [&](const Segment& s) {
    seen.push_back(s.text);
    return true;
  });
  expect_same(found_aside, alone);
  ASSERT_EQ(seen.size(), alone.segments.size());  // every segment through the callback, in order
  for (size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], alone.segments[i].text);
  EXPECT_EQ(two.threads(), 2);  // all of them again afterwards

  // A reader that fails fails the call; one stopped by the callback stops; the context serves on.
  auto failing = [&x](const audio::SampleSink& sink) {
    sink.block(x.data(), 16000 * 40);
    throw Error(ErrorKind::Audio, "the input broke off");
  };
  EXPECT_THROW(two.transcribe_stream(failing, greedy()), Error);
  std::atomic<int> handed{0};
  const std::vector<float> longer = recording(10);
  EXPECT_EQ(two.transcribe_stream(blocks_of(longer, 16000, &handed), greedy(1),
                                  [](const Segment&) { return false; })
                .segments.size(),
            1u);
  EXPECT_LT(static_cast<size_t>(handed.load()), longer.size() / 16000 / 2);
  EXPECT_EQ(two.threads(), 2);
  expect_same(two.transcribe_stream(blocks_of(x, 5000), greedy()), alone);
}

TEST(StreamedAudio, AnEngineJobDecodesOnlyOnceItsAudioIsRead) {
  const std::vector<float> x = recording(2);
  Transcriber alone(tiny_en(), 1);
  const Transcript expected = alone.transcribe(x.data(), x.size(), greedy());
  Engine engine(tiny_en(), engine_options(8));
  std::atomic<bool> release{false};
  const size_t held_back = 16000;  // the last second, until released
  std::shared_ptr<EngineJob> job;
  std::thread caller([&] {
    job = engine.submit_stream(
        [&](const audio::SampleSink& sink) {
          if (!sink.block(x.data(), x.size() - held_back)) return;
          while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(1));
          sink.block(x.data() + x.size() - held_back, held_back);
        },
        greedy());
  });
  // Chunks found so far are taken in (and encoded), but no decoder step runs while the audio is read.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (engine.stats().chunks_in_flight == 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_GT(engine.stats().chunks_in_flight, 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(engine.stats().decoder_steps, 0u);
  release = true;
  caller.join();
  expect_same(job->wait(), expected);
  EXPECT_GT(engine.stats().decoder_steps, 0u);
}

}  // namespace
}  // namespace wisp
