// ChunkFeed: one recording's chunks of speech on their way from whoever finds them (a SpeechStream fed by
// the audio decoder, on the caller's thread) to the batched loop that transcribes them (on the engine's
// thread, or the same one). The finder puts chunks as they are found and may wait for room, so that no
// more than a few chunks' audio waits; the loop pops them as it has slots, and abandons the feed when the
// job leaves early (stopped, cancelled), which ends any wait.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <vector>

#include "pipeline/speech_stream.h"

namespace wisp {

// Chunks found ahead of the loop, per chunk a job may have in flight: enough to fill its slots as they free.
constexpr size_t kChunksAheadPerSlot = 2;

class ChunkFeed {
 public:
  // Called after each put() and close(), with no lock held (the engine wakes its loop with it).
  void set_listener(std::function<void()> f) { listener_ = std::move(f); }

  // The finder's side. `samples_seen`: audio read so far. Dropped once abandoned.
  void put(std::vector<ReadyChunk> chunks, size_t samples_seen);
  void close(size_t n_samples);   // no more chunks; the recording was n_samples long
  void expect(size_t n_samples);  // the recording's length, if known ahead (a file's header)
  // Waits while `max_waiting` chunks or more wait; false once the loop has abandoned the feed.
  bool wait_for_room(size_t max_waiting);
  // The finder is at work: the feed is open and its finder not waiting for room (a loop on the same cores
  // leaves it one).
  bool finder_busy() const;

  // The loop's side.
  bool pop(ReadyChunk& out);  // false when none waits now
  // Waits until more than `than` chunks wait, or the feed is closed or abandoned (a loop on its own
  // thread with nothing to do until the finder puts more).
  void wait_for_more(size_t than);
  size_t waiting() const;
  bool closed() const;
  bool drained() const;  // closed, and nothing waits
  size_t samples_seen() const;
  double speech_put() const;  // samples of speech in every chunk put so far
  // Samples still to be read: 0 once closed, what expect() said less what was read, or an hour's worth
  // when nothing was said (the shortest-first rule takes such a job for a long one).
  double unread() const;
  // The share of the recording read: 1 once closed, else as far as expect() allows telling (0 without).
  double read_fraction() const;
  void abandon();
  bool abandoned() const;

 private:
  void notify();
  mutable std::mutex mu_;
  std::condition_variable room_, more_;
  std::deque<ReadyChunk> chunks_;
  size_t samples_seen_ = 0, expected_ = 0;
  double speech_put_ = 0.0;
  bool closed_ = false, abandoned_ = false, waiting_for_room_ = false;
  std::function<void()> listener_;
};

}  // namespace wisp
