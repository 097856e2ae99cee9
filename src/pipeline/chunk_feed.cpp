#include "pipeline/chunk_feed.h"

#include <algorithm>

namespace wisp {

void ChunkFeed::notify() {
  more_.notify_all();
  if (listener_) listener_();
}

void ChunkFeed::put(std::vector<ReadyChunk> chunks, size_t samples_seen) {
  {
    std::lock_guard lk(mu_);
    samples_seen_ = samples_seen;
    if (abandoned_ || chunks.empty()) return;
    for (ReadyChunk& c : chunks) {
      speech_put_ += static_cast<double>(c.chunk.samples());
      chunks_.push_back(std::move(c));
    }
  }
  notify();
}

void ChunkFeed::close(size_t n_samples) {
  {
    std::lock_guard lk(mu_);
    samples_seen_ = n_samples;
    closed_ = true;
  }
  notify();
}

void ChunkFeed::expect(size_t n_samples) {
  std::lock_guard lk(mu_);
  expected_ = n_samples;
}

double ChunkFeed::unread() const {
  std::lock_guard lk(mu_);
  if (closed_) return 0.0;
  if (expected_ == 0) return 3600.0 * 16000.0;
  return expected_ > samples_seen_ ? static_cast<double>(expected_ - samples_seen_) : 0.0;
}

double ChunkFeed::read_fraction() const {
  std::lock_guard lk(mu_);
  if (closed_) return 1.0;
  if (expected_ == 0) return 0.0;
  return std::min(1.0, static_cast<double>(samples_seen_) / static_cast<double>(expected_));
}

bool ChunkFeed::wait_for_room(size_t max_waiting) {
  std::unique_lock lk(mu_);
  waiting_for_room_ = true;
  room_.wait(lk, [&] { return abandoned_ || chunks_.size() < max_waiting; });
  waiting_for_room_ = false;
  return !abandoned_;
}

bool ChunkFeed::finder_busy() const {
  std::lock_guard lk(mu_);
  return !closed_ && !abandoned_ && !waiting_for_room_;
}

void ChunkFeed::wait_for_more(size_t than) {
  std::unique_lock lk(mu_);
  more_.wait(lk, [&] { return chunks_.size() > than || closed_ || abandoned_; });
}

bool ChunkFeed::pop(ReadyChunk& out) {
  {
    std::lock_guard lk(mu_);
    if (chunks_.empty()) return false;
    out = std::move(chunks_.front());
    chunks_.pop_front();
  }
  room_.notify_all();
  return true;
}

size_t ChunkFeed::waiting() const {
  std::lock_guard lk(mu_);
  return chunks_.size();
}

bool ChunkFeed::closed() const {
  std::lock_guard lk(mu_);
  return closed_;
}

bool ChunkFeed::drained() const {
  std::lock_guard lk(mu_);
  return closed_ && chunks_.empty();
}

size_t ChunkFeed::samples_seen() const {
  std::lock_guard lk(mu_);
  return samples_seen_;
}

double ChunkFeed::speech_put() const {
  std::lock_guard lk(mu_);
  return speech_put_;
}

bool ChunkFeed::abandoned() const {
  std::lock_guard lk(mu_);
  return abandoned_;
}

void ChunkFeed::abandon() {
  {
    std::lock_guard lk(mu_);
    abandoned_ = true;
    chunks_.clear();
  }
  room_.notify_all();
  more_.notify_all();
}

}  // namespace wisp
