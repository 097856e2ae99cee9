#include "decode/token_decoder.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "backend/cpu/elementwise.h"
#include "core/error.h"

namespace wisp::decode {

namespace {

// Trims each finished sequence to its sampled part and appends eot (as openai's finalize pads).
std::vector<int> sampled_part(const std::vector<int>& seq, int sample_begin) {
  return std::vector<int>(seq.begin() + sample_begin, seq.end());
}

class GreedyDecoder final : public TokenDecoder {
 public:
  GreedyDecoder(float temperature, int eot, int group_size, std::mt19937* rng)
      : temperature_(temperature), eot_(eot), group_(group_size), rng_(rng) {}
  void reset() override {}

  bool update(std::vector<std::vector<int>>& tokens, std::vector<std::vector<float>>& token_logprobs,
              const float* logits, int n_vocab, std::vector<float>& sum_logprobs,
              std::vector<int>& source) override {
    source.resize(tokens.size());
    std::iota(source.begin(), source.end(), 0);
    bool all_done = true;
    for (size_t s = 0; s < tokens.size(); ++s) {
      const float* row = logits + s * n_vocab;
      int next;
      if (temperature_ == 0.0f) {
        next = backend::cpu::argmax(row, n_vocab);
      } else {
        // Categorical(logits / T): inverse-CDF sampling from the tempered softmax, in double (no allocation:
        // std::discrete_distribution would build its table every step).
        probs_.resize(n_vocab);
        const float mx = *std::max_element(row, row + n_vocab);
        double total = 0.0;
        for (int i = 0; i < n_vocab; ++i) total = probs_[i] = total + std::exp((row[i] - mx) / temperature_);
        const double u = std::uniform_real_distribution<double>(0.0, total)(*rng_);
        next = static_cast<int>(std::upper_bound(probs_.begin(), probs_.end(), u) - probs_.begin());
        next = std::min(next, n_vocab - 1);
        while (next > 0 && row[next] == -INFINITY) --next;  // never a masked token (u at the very top)
      }
      const bool finished = tokens[s].back() == eot_;
      float logprob = 0.0f;
      if (!finished) {  // greedy's token is the row's maximum: log-softmax without another pass for it
        const float lse = temperature_ == 0.0f ? backend::cpu::log_sum_exp(row, n_vocab, row[next])
                                               : backend::cpu::log_sum_exp(row, n_vocab);
        logprob = row[next] - lse;
        sum_logprobs[s] += logprob;
      }
      tokens[s].push_back(finished ? eot_ : next);
      token_logprobs[s].push_back(logprob);
      all_done = all_done && tokens[s].back() == eot_;
    }
    return all_done;
  }

  Candidates finalize(const std::vector<std::vector<int>>& tokens,
                      const std::vector<std::vector<float>>& token_logprobs,
                      const std::vector<float>& sum_logprobs, int sample_begin) override {
    Candidates c;
    const size_t n_audio = tokens.size() / group_;
    c.tokens.resize(n_audio);
    c.sum_logprobs.resize(n_audio);
    c.token_logprobs.resize(n_audio);
    for (size_t s = 0; s < tokens.size(); ++s) {
      std::vector<int> seq = sampled_part(tokens[s], sample_begin);
      seq.push_back(eot_);
      std::vector<float> lps = token_logprobs[s];
      lps.push_back(0.0f);
      c.tokens[s / group_].push_back(std::move(seq));
      c.sum_logprobs[s / group_].push_back(sum_logprobs[s]);
      c.token_logprobs[s / group_].push_back(std::move(lps));
    }
    return c;
  }

 private:
  float temperature_;
  int eot_, group_;
  std::mt19937* rng_;
  std::vector<double> probs_;
};

class BeamSearchDecoder final : public TokenDecoder {
 public:
  BeamSearchDecoder(int beam_size, int eot, float patience)
      : beam_(beam_size), eot_(eot), max_candidates_(static_cast<int>(std::lround(beam_size * patience))) {
    if (max_candidates_ <= 0) throw Error(ErrorKind::InvalidArgument, "patience must be positive");
  }
  void reset() override { finished_.clear(); }

  // openai's update, without building a dict of token tuples: a candidate is (source row, token), and two
  // candidates are the same sequence when their tokens match and their source rows hold equal prefixes
  // (beams are identical right after the prompt). As in the dict, the later one's score and source win,
  // the earlier one's place is kept, and the sort is stable. Buffers are members: no allocation per step
  // once they have grown.
  bool update(std::vector<std::vector<int>>& tokens, std::vector<std::vector<float>>& token_logprobs,
              const float* logits, int n_vocab, std::vector<float>& sum_logprobs,
              std::vector<int>& source) override {
    if (tokens.size() % beam_ != 0)
      throw Error(ErrorKind::Internal, "batch is not a multiple of the beam size");
    const size_t n_audio = tokens.size() / beam_;
    if (finished_.empty()) finished_.resize(n_audio);
    next_tokens_.resize(tokens.size());
    next_token_logprobs_.resize(tokens.size());
    next_logprobs_.resize(tokens.size());
    source.assign(tokens.size(), 0);
    size_t out = 0;
    for (size_t a = 0; a < n_audio; ++a) {
      const size_t row0 = a * beam_;
      // Which beams of this window share a prefix (same_[j] = the first beam equal to j).
      same_.assign(beam_, 0);
      for (int j = 0; j < beam_; ++j) {
        same_[j] = j;
        for (int i = 0; i < j; ++i)
          if (same_[i] == i && tokens[row0 + i] == tokens[row0 + j]) {
            same_[j] = i;
            break;
          }
      }
      // Step 1: every beam's top (beam_size + 1) continuations with their cumulative log-probs.
      cands_.clear();
      for (int j = 0; j < beam_; ++j) {
        const size_t row = row0 + j;
        const float* lg = logits + row * n_vocab;
        // The best tokens by logit are the best by log-prob; the first is the row's maximum.
        backend::cpu::top_k(lg, n_vocab, beam_ + 1, order_);
        const float lse = backend::cpu::log_sum_exp(lg, n_vocab, lg[order_[0]]);
        for (int k = 0; k < beam_ + 1; ++k) {
          const float logprob = lg[order_[k]] - lse;
          const Candidate c{static_cast<int>(row), same_[j], order_[k], sum_logprobs[row] + logprob, logprob};
          bool merged = false;
          for (Candidate& e : cands_)
            if (e.prefix == c.prefix && e.token == c.token) {
              e.logprob = c.logprob;
              e.token_logprob = c.token_logprob;
              e.row = c.row;
              merged = true;
              break;
            }
          if (!merged) cands_.push_back(c);
        }
      }
      // Step 2: keep the best beam_size unfinished ones; finished ones become candidates.
      std::stable_sort(cands_.begin(), cands_.end(),
                       [](const Candidate& x, const Candidate& y) { return x.logprob > y.logprob; });
      int saved = 0;
      for (const Candidate& c : cands_) {
        if (c.token == eot_) {
          if (static_cast<int>(finished_[a].size()) < max_candidates_) {  // else the candidate list is full
            Finished f{tokens[c.row], token_logprobs[c.row], c.logprob};
            f.tokens.push_back(c.token);
            f.token_logprobs.push_back(c.token_logprob);
            finished_[a].push_back(std::move(f));
          }
        } else {
          next_tokens_[out].assign(tokens[c.row].begin(), tokens[c.row].end());
          next_tokens_[out].push_back(c.token);
          next_token_logprobs_[out].assign(token_logprobs[c.row].begin(), token_logprobs[c.row].end());
          next_token_logprobs_[out].push_back(c.token_logprob);
          next_logprobs_[out] = c.logprob;
          source[out] = c.row;
          ++out;
          if (++saved == beam_) break;
        }
      }
    }
    tokens.swap(next_tokens_);
    token_logprobs.swap(next_token_logprobs_);
    sum_logprobs.swap(next_logprobs_);
    for (const auto& f : finished_)
      if (static_cast<int>(f.size()) < max_candidates_) return false;
    return true;
  }

  Candidates finalize(const std::vector<std::vector<int>>& tokens,
                      const std::vector<std::vector<float>>& token_logprobs,
                      const std::vector<float>& sum_logprobs, int sample_begin) override {
    const size_t n_audio = tokens.size() / beam_;
    if (finished_.empty()) finished_.resize(n_audio);
    Candidates c;
    c.tokens.resize(n_audio);
    c.sum_logprobs.resize(n_audio);
    c.token_logprobs.resize(n_audio);
    for (size_t a = 0; a < n_audio; ++a) {
      auto& fin = finished_[a];
      if (static_cast<int>(fin.size()) < beam_) {
        // Not enough finished: add the unfinished beams, best first, closed with eot.
        std::vector<int> idx(beam_);
        std::iota(idx.begin(), idx.end(), 0);
        std::stable_sort(idx.begin(), idx.end(), [&](int x, int y) {
          return sum_logprobs[a * beam_ + x] > sum_logprobs[a * beam_ + y];
        });
        for (int j : idx) {
          Finished f{tokens[a * beam_ + j], token_logprobs[a * beam_ + j], sum_logprobs[a * beam_ + j]};
          f.tokens.push_back(eot_);
          f.token_logprobs.push_back(0.0f);
          fin.push_back(std::move(f));
          if (static_cast<int>(fin.size()) >= beam_) break;
        }
      }
      for (Finished& f : fin) {
        c.tokens[a].push_back(sampled_part(f.tokens, sample_begin));
        c.sum_logprobs[a].push_back(f.sum_logprob);
        c.token_logprobs[a].push_back(f.token_logprobs);
      }
    }
    return c;
  }

 private:
  struct Candidate {
    int row;     // source row
    int prefix;  // first beam of the window whose tokens equal the source row's
    int token;
    float logprob;        // of the sequence
    float token_logprob;  // of the token
  };
  struct Finished {
    std::vector<int> tokens;  // prompt included, eot last
    std::vector<float> token_logprobs;
    float sum_logprob;
  };

  int beam_, eot_, max_candidates_;
  std::vector<std::vector<Finished>> finished_;
  std::vector<int> order_, same_;
  std::vector<Candidate> cands_;
  std::vector<std::vector<int>> next_tokens_;
  std::vector<std::vector<float>> next_token_logprobs_;
  std::vector<float> next_logprobs_;
};

}  // namespace

std::unique_ptr<TokenDecoder> make_greedy_decoder(float temperature, int eot, int group_size,
                                                  std::mt19937* rng) {
  return std::make_unique<GreedyDecoder>(temperature, eot, group_size, rng);
}
std::unique_ptr<TokenDecoder> make_beam_search_decoder(int beam_size, int eot, float patience) {
  return std::make_unique<BeamSearchDecoder>(beam_size, eot, patience);
}

}  // namespace wisp::decode
