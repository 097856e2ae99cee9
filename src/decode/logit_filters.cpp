#include "decode/logit_filters.h"

#include "backend/cpu/elementwise.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace wisp::decode {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// row[from, to) = -inf, clipped to the row: the ids come from tokenizer.json, the row length from model.bin
// (the model checks that they agree at load; this keeps a mismatch from ever writing past the row).
void fill_neg_inf(float* row, int from, int to, int n_vocab) {
  for (int i = std::max(from, 0); i < std::min(to, n_vocab); ++i) row[i] = kNegInf;
}

// Forbids `ids` everywhere, or (only_first) at the first sampled position only.
class SuppressTokens final : public LogitFilter {
 public:
  SuppressTokens(std::vector<int> ids, bool only_first) : ids_(std::move(ids)), only_first_(only_first) {}
  void apply(const LogitBatch& b) const override {
    for (int s = 0; s < b.n_seq; ++s) {
      if (only_first_ && static_cast<int>((*b.tokens)[s].size()) != b.sample_begin) continue;
      float* row = b.logits + static_cast<size_t>(s) * b.n_vocab;
      for (int id : ids_)
        if (id >= 0 && id < b.n_vocab) row[id] = kNegInf;
    }
  }

 private:
  std::vector<int> ids_;
  bool only_first_;
};

class TimestampRules final : public LogitFilter {
 public:
  TimestampRules(int eot, int no_timestamps, int timestamp_begin, int max_initial)
      : eot_(eot), no_ts_(no_timestamps), ts_begin_(timestamp_begin), max_initial_(max_initial) {}

  void apply(const LogitBatch& b) const override {
    for (int s = 0; s < b.n_seq; ++s) {
      float* row = b.logits + static_cast<size_t>(s) * b.n_vocab;
      const std::vector<int>& seq = (*b.tokens)[s];
      const int n_sampled = static_cast<int>(seq.size()) - b.sample_begin;
      if (no_ts_ >= 0 && no_ts_ < b.n_vocab) row[no_ts_] = kNegInf;

      // Timestamps come in pairs, except directly before <|endoftext|>.
      const bool last_ts = n_sampled >= 1 && seq.back() >= ts_begin_;
      const bool penultimate_ts = n_sampled < 2 || seq[seq.size() - 2] >= ts_begin_;
      if (last_ts) {
        if (penultimate_ts)
          fill_neg_inf(row, ts_begin_, b.n_vocab, b.n_vocab);  // must be text now
        else
          fill_neg_inf(row, 0, eot_, b.n_vocab);  // must be a timestamp or <|endoftext|>
      }
      // Timestamps never decrease; after a closing timestamp, the next one must move forward.
      int last_timestamp = -1;
      for (int i = b.sample_begin; i < static_cast<int>(seq.size()); ++i)
        if (seq[i] >= ts_begin_) last_timestamp = seq[i];
      if (last_timestamp >= 0) {
        const int limit = (last_ts && !penultimate_ts) ? last_timestamp : last_timestamp + 1;
        fill_neg_inf(row, ts_begin_, limit, b.n_vocab);
      }
      if (n_sampled == 0) {
        // The first sampled token is a timestamp, no later than max_initial_timestamp.
        fill_neg_inf(row, 0, ts_begin_, b.n_vocab);
        if (max_initial_ >= 0) fill_neg_inf(row, ts_begin_ + max_initial_ + 1, b.n_vocab, b.n_vocab);
      }
      // If the timestamps are jointly more probable than any single text token, sample a timestamp.
      // (log Σ p(timestamps) > max log p(text) ⟺ logsumexp(timestamp logits) > max text logit: the
      // normaliser cancels.)
      const int ts = std::clamp(ts_begin_, 0, b.n_vocab);
      const float ts_lse = backend::cpu::log_sum_exp(row + ts, b.n_vocab - ts);
      const float max_text = backend::cpu::max_of(row, ts);
      if (ts_lse > max_text) fill_neg_inf(row, 0, ts_begin_, b.n_vocab);
    }
  }

 private:
  int eot_, no_ts_, ts_begin_, max_initial_;
};

}  // namespace

std::unique_ptr<LogitFilter> make_suppress_blank(std::vector<int> ids) {
  return std::make_unique<SuppressTokens>(std::move(ids), /*only_first=*/true);
}
std::unique_ptr<LogitFilter> make_suppress_tokens(std::vector<int> ids) {
  return std::make_unique<SuppressTokens>(std::move(ids), /*only_first=*/false);
}
std::unique_ptr<LogitFilter> make_timestamp_rules(int eot, int no_timestamps, int timestamp_begin,
                                                  int max_initial_timestamp_index) {
  return std::make_unique<TimestampRules>(eot, no_timestamps, timestamp_begin, max_initial_timestamp_index);
}

}  // namespace wisp::decode
