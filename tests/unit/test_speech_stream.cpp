// Speech found as the audio arrives (pipeline/speech_stream.h and the pieces it carries from block to
// block: vad::SpanTracker, vad::ChunkPacker, audio::DetectionLeveller, SileroVad::State) against the same
// computed over the whole recording at once: equal, bit for bit, whatever the blocks; and the audio held
// stays bounded.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

#include "audio/audio_decoder.h"
#include "audio/loudness.h"
#include "audio/mel.h"
#include "backend/cpu/isa.h"
#include "pipeline/find_speech.h"
#include "pipeline/speech_stream.h"
#include "unit/test_paths.h"
#include "vad/silero_vad.h"
#include "vad/silero_vad_ref.h"
#include "vad/speech_chunks.h"
#include "vad/speech_segments.h"
#include "vad/vad_model_path.h"

namespace wisp {
namespace {

bool operator==(const vad::SpeechSpan& a, const vad::SpeechSpan& b) {
  return a.start == b.start && a.end == b.end;
}

// Pieces of random length (1 to max_piece) covering [0, n).
std::vector<size_t> random_cuts(size_t n, size_t max_piece, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<size_t> cuts;
  for (size_t at = 0; at < n;) {
    at = std::min(n, at + 1 + rng() % max_piece);
    cuts.push_back(at);
  }
  return cuts;
}

// Probabilities in runs of speech and silence of random lengths, with noise around the thresholds.
std::vector<float> random_track(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  std::vector<float> p;
  bool speech = false;
  while (p.size() < n) {
    const size_t run = 1 + rng() % (rng() % 4 == 0 ? 2000 : 120);
    for (size_t i = 0; i < run && p.size() < n; ++i)
      p.push_back(speech ? 0.3f + 0.7f * u(rng) : 0.45f * u(rng));
    speech = !speech;
  }
  return p;
}

TEST(SpanTracker, AnyPiecesGiveTheSpansOfTheWhole) {
  vad::VadOptions capped;
  capped.max_speech_duration_s = 30.0;
  vad::VadOptions fine = stretch_vad_options(capped);
  vad::VadOptions close;
  close.min_silence_duration_ms = 100;
  close.speech_pad_ms = 30;
  close.min_speech_duration_ms = 0;
  for (const vad::VadOptions& o : {vad::VadOptions{}, capped, fine, close})
    for (uint32_t seed = 1; seed <= 20; ++seed) {
      const std::vector<float> p = random_track(20000, seed);
      const int64_t n_samples = static_cast<int64_t>(p.size()) * 512 - 300;
      const std::vector<vad::SpeechSpan> whole = vad::speech_spans(p, n_samples, o);
      vad::SpanTracker t(o);
      std::vector<vad::SpeechSpan> got;
      size_t from = 0;
      for (size_t cut : random_cuts(p.size(), seed % 2 ? 7 : 700, seed)) {
        t.push(p.data() + from, cut - from);
        from = cut;
        const int64_t needed = t.needed_from();
        for (const vad::SpeechSpan& s : t.take()) got.push_back(s);
        // Nothing given out later starts before what it said it still needs.
        for (size_t i = got.size(); i < whole.size(); ++i) ASSERT_GE(whole[i].start, needed);
      }
      t.finish(n_samples);
      for (const vad::SpeechSpan& s : t.take()) got.push_back(s);
      ASSERT_EQ(got.size(), whole.size()) << "seed " << seed;
      for (size_t i = 0; i < got.size(); ++i)
        EXPECT_TRUE(got[i] == whole[i]) << "seed " << seed << " span " << i;
    }
}

TEST(ChunkPacker, SpanBySpanGivesTheChunksOfTheWhole) {
  vad::VadOptions capped;
  capped.max_speech_duration_s = 30.0;
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    const std::vector<float> p = random_track(20000, seed);
    const std::vector<vad::SpeechSpan> spans =
        vad::speech_spans(p, static_cast<int64_t>(p.size()) * 512, capped);
    const auto whole = vad::speech_chunks(spans, audio::kChunkSamples, 16000);
    vad::ChunkPacker packer(audio::kChunkSamples, 16000);
    std::vector<vad::SpeechChunk> got;
    for (const vad::SpeechSpan& s : spans) {
      packer.add(s);
      for (auto& c : packer.take()) got.push_back(c);
      if (packer.open_from() >= 0) {
        EXPECT_LE(packer.open_from(), s.start);
      }
    }
    packer.finish();
    for (auto& c : packer.take()) got.push_back(c);
    ASSERT_EQ(got.size(), whole.size());
    for (size_t i = 0; i < got.size(); ++i) {
      ASSERT_EQ(got[i].pieces.size(), whole[i].pieces.size());
      for (size_t k = 0; k < got[i].pieces.size(); ++k) EXPECT_TRUE(got[i].pieces[k] == whole[i].pieces[k]);
    }
  }
}

// Speech at three levels (one 40 dB down) with silences between: the levelling has work to do.
std::vector<float> mix() {
  static const std::vector<float> m = [] {
    const std::vector<float> jfk = audio::decode_file(test::audio_path("jfk.wav"));
    const std::vector<float> en = audio::decode_file(test::audio_path("fleurs-en-000.ogg"));
    std::vector<float> out(16000 * 3, 0.0f);
    auto add = [&](const std::vector<float>& clip, float gain, size_t silence) {
      for (float x : clip) out.push_back(x * gain);
      out.insert(out.end(), silence, 0.0f);
    };
    add(jfk, 1.0f, 16000 / 2);
    add(en, 0.01f, 16000 * 4);
    add(jfk, 0.5f, 123);
    add(en, 1.0f, 16000 * 35);  // a long silence: nothing is held across it
    add(jfk, 0.02f, 5000);
    return out;
  }();
  return m;
}

TEST(DetectionLeveller, AnyPiecesGiveTheCopyOfTheWhole) {
  const std::vector<float> x = mix();
  const std::vector<float> whole = audio::levelled_for_detection(x.data(), x.size(), 2);
  for (size_t max_piece : {size_t{1000}, size_t{16000}, size_t{100000}, x.size()}) {
    audio::DetectionLeveller l;
    std::vector<float> got;
    size_t from = 0;
    for (size_t cut : random_cuts(x.size(), max_piece, static_cast<uint32_t>(max_piece))) {
      l.push(x.data() + from, cut - from, got);
      from = cut;
    }
    l.finish(got);
    ASSERT_EQ(got.size(), whole.size());
    EXPECT_TRUE(got == whole) << "pieces up to " << max_piece;
  }
}

const vad::SileroVad& silero() {
  static const vad::SileroVad v(vad::load_silero_model(vad::resolve_vad_model("")),
                                backend::cpu::default_isa());
  return v;
}

TEST(SileroVadState, WindowsInPiecesGiveTheProbabilitiesOfTheWhole) {
  const std::vector<float> x = mix();
  backend::Workspace ws;
  backend::Exec ex{2, &ws};
  const std::vector<float> whole = silero().speech_probabilities(ex, x.data(), x.size());
  vad::SileroVad::State state;
  std::vector<float> got(whole.size());
  size_t w = 0;
  for (size_t cut : random_cuts(whole.size(), 700, 5)) {
    silero().probabilities(ex, x.data(), 0, x.size(), w, cut, state, got.data() + w);
    w = cut;
  }
  EXPECT_TRUE(got == whole);
}

// The batched mode's chunks as it found them before streaming: the VAD over the whole recording, then
// the chunks' audio copied with the stretches' gains.
std::vector<ReadyChunk> chunks_of_whole(const std::vector<float>& x, const TranscribeOptions& o) {
  backend::Workspace ws;
  backend::Exec ex{2, &ws};
  const Speech found = find_speech(silero(), ex, x.data(), x.size(), chunk_vad_options(o),
                                   o.normalize_loudness, o.word_timestamps, nullptr);
  std::vector<ReadyChunk> out;
  for (const vad::SpeechChunk& c :
       vad::speech_chunks(found.spans, audio::kChunkSamples, kChunkPauseMs * 16)) {
    ReadyChunk r;
    r.chunk = c;
    for (const vad::SpeechSpan& p : c.pieces)
      audio::append_levelled(x.data(), p.start, p.end, found.gains, r.audio);
    for (const vad::SpeechSpan& s : found.stretches)
      if (s.end > c.start() && s.start < c.end()) r.stretches.push_back(s);
    out.push_back(std::move(r));
  }
  return out;
}

TEST(SpeechStream, AnyBlocksGiveTheChunksOfTheWholeRecording) {
  const std::vector<float> x = mix();
  for (bool level : {true, false})
    for (bool words : {false, true}) {
      TranscribeOptions o;
      o.normalize_loudness = level;
      o.word_timestamps = words;
      const std::vector<ReadyChunk> whole = chunks_of_whole(x, o);
      ASSERT_GE(whole.size(), 3u);
      for (size_t max_block : {size_t{5000}, audio::kStreamBlock, x.size()}) {
        backend::Workspace ws;
        backend::Exec ex{2, &ws};
        SpeechStream s(silero(), ex, o, nullptr);
        std::vector<ReadyChunk> got;
        size_t from = 0;
        for (size_t cut : random_cuts(x.size(), max_block, 3)) {
          s.push(x.data() + from, cut - from);
          from = cut;
          for (ReadyChunk& c : s.take()) got.push_back(std::move(c));
        }
        s.finish();
        for (ReadyChunk& c : s.take()) got.push_back(std::move(c));
        SCOPED_TRACE(testing::Message()
                     << "level " << level << " words " << words << " blocks " << max_block);
        ASSERT_EQ(got.size(), whole.size());
        for (size_t i = 0; i < got.size(); ++i) {
          ASSERT_EQ(got[i].chunk.pieces.size(), whole[i].chunk.pieces.size()) << i;
          for (size_t k = 0; k < got[i].chunk.pieces.size(); ++k)
            EXPECT_TRUE(got[i].chunk.pieces[k] == whole[i].chunk.pieces[k]) << i;
          EXPECT_TRUE(got[i].audio == whole[i].audio) << i;
          EXPECT_EQ(got[i].stretches.size(), whole[i].stretches.size()) << i;
        }
      }
    }
}

TEST(SpeechStream, HoldsABoundedPartOfALongRecording) {
  const std::vector<float> m = mix();
  std::vector<float> x;
  for (int i = 0; i < 6; ++i) x.insert(x.end(), m.begin(), m.end());  // ~10 minutes
  TranscribeOptions o;
  o.word_timestamps = true;
  backend::Workspace ws;
  backend::Exec ex{2, &ws};
  SpeechStream s(silero(), ex, o, nullptr);
  size_t most_held = 0, chunks = 0;
  for (size_t at = 0; at < x.size(); at += audio::kStreamBlock) {
    s.push(x.data() + at, std::min(audio::kStreamBlock, x.size() - at));
    most_held = std::max(most_held, s.held_samples());
    chunks += s.take().size();
  }
  s.finish();
  chunks += s.take().size();
  EXPECT_GE(chunks, 18u);
  // The recording, its detection copy and the chunks found: two minutes at most, of ten.
  EXPECT_LT(most_held, 4 * audio::kChunkSamples);
  EXPECT_GT(x.size(), 4 * most_held);
}

}  // namespace
}  // namespace wisp
