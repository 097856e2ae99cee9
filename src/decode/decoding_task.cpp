#include "decode/decoding_task.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "backend/cpu/elementwise.h"
#include "core/error.h"
#include "decode/compression.h"
#include "decode/repetition.h"

namespace wisp::decode {

DecodingTask::DecodingTask(const WhisperModel& model, nn::Decoder& decoder, std::mt19937& rng)
    : model_(model), decoder_(decoder), rng_(rng) {}

// [<|startofprev|> prompt...] <|startoftranscript|> [<|lang|> <|task|>] [<|notimestamps|>]
std::vector<int> DecodingTask::initial_tokens(const DecodingOptions& o, int* sot_index) const {
  const Tokenizer& tok = model_.tokenizer();
  std::vector<int> tokens;
  if (!o.prompt.empty()) {
    const int max_prompt = model_.dims().n_text_ctx / 2 - 1;
    tokens.push_back(tok.sot_prev());
    const size_t start = o.prompt.size() > static_cast<size_t>(max_prompt) ? o.prompt.size() - max_prompt : 0;
    tokens.insert(tokens.end(), o.prompt.begin() + static_cast<std::ptrdiff_t>(start), o.prompt.end());
  }
  *sot_index = static_cast<int>(tokens.size());
  const std::vector<int> sot = tok.sot_sequence(o.language, o.translate);
  tokens.insert(tokens.end(), sot.begin(), sot.end());
  if (o.without_timestamps) tokens.push_back(tok.no_timestamps());
  return tokens;
}

// openai's suppress_tokens="-1": the non-speech symbols (config.json's suppress_ids) plus the task and
// special tokens, which must never be sampled.
std::vector<int> DecodingTask::suppress_ids() const {
  const Tokenizer& tok = model_.tokenizer();
  std::set<int> ids(model_.metadata().suppress_ids.begin(), model_.metadata().suppress_ids.end());
  for (int id : {tok.translate(), tok.transcribe(), tok.sot(), tok.sot_prev(), tok.sot_lm(), tok.no_speech()})
    if (id >= 0) ids.insert(id);
  return {ids.begin(), ids.end()};
}

// Every sequence still running (not ended by <|endoftext|>) is stuck in a repetition loop.
bool DecodingTask::all_stuck_in_loops(const std::vector<std::vector<int>>& tokens, int sample_begin,
                                      float threshold) const {
  const Tokenizer& tok = model_.tokenizer();
  for (const auto& seq : tokens)
    if (seq.back() != tok.eot() && !stuck_in_loop(tok, seq, sample_begin, threshold, loop_text_))
      return false;
  return true;
}

std::vector<DecodingResult> DecodingTask::run(int n_windows, const DecodingOptions& o) {
  const Tokenizer& tok = model_.tokenizer();
  const int V = model_.dims().n_vocab, n_ctx = model_.dims().n_text_ctx;
  const bool sampling = o.temperature > 0.0f;
  const int group = sampling ? std::max(1, o.best_of) : std::max(1, o.beam_size);
  if (o.beam_size < 1 || o.best_of < 1)
    throw Error(ErrorKind::InvalidArgument, "beam size and best-of must be >= 1");

  int sot_index = 0;
  const std::vector<int> init = initial_tokens(o, &sot_index);
  const int sample_begin = static_cast<int>(init.size());
  if (sample_begin >= n_ctx)
    throw Error(ErrorKind::InvalidArgument, "prompt does not fit in the text context");

  // Logit filters, in openai's order.
  std::vector<std::unique_ptr<LogitFilter>> filters;
  if (o.suppress_blank) {
    std::vector<int> blank = model_.metadata().suppress_ids_begin;
    if (blank.empty()) blank = {tok.encode(" ").empty() ? tok.eot() : tok.encode(" ")[0], tok.eot()};
    filters.push_back(make_suppress_blank(blank));
  }
  filters.push_back(make_suppress_tokens(suppress_ids()));
  if (!o.without_timestamps) {
    // Negative: no limit; past 30 s the limit cannot bite (clamped, so the index cannot overflow).
    const float max_initial_s =
        std::isnan(o.max_initial_timestamp) ? 1.0f : std::clamp(o.max_initial_timestamp, -1.0f, 30.0f);
    const int max_initial = static_cast<int>(std::lround(max_initial_s / 0.02f));
    filters.push_back(
        make_timestamp_rules(tok.eot(), tok.no_timestamps(), tok.timestamp_begin(), max_initial));
  }
  std::unique_ptr<TokenDecoder> picker = (!sampling && group > 1)
                                             ? make_beam_search_decoder(group, tok.eot(), o.patience)
                                             : make_greedy_decoder(o.temperature, tok.eot(), group, &rng_);

  // All sequences: window w owns rows [w·group, (w+1)·group).
  const int n_seq = n_windows * group;
  std::vector<std::vector<int>> tokens(n_seq, init);
  for (auto& t : tokens) t.reserve(static_cast<size_t>(n_ctx) + 1);  // steps append without reallocating
  std::vector<int> seq_window(n_seq);
  for (int s = 0; s < n_seq; ++s) seq_window[s] = s / group;
  std::vector<float> sum_logprobs(n_seq, 0.0f), no_speech(n_windows, 0.0f);
  std::vector<int> source, step_tokens;
  const int D = model_.dims().n_text_state;
  logits_.resize(static_cast<size_t>(n_seq) * V);
  last_hidden_.resize(static_cast<size_t>(n_seq) * D);

  // Prompt step: every sequence of a window starts from the same tokens, so the prompt runs once per window
  // (n_windows rows, not n_windows × group) and its cache rows and logits are then copied to the group.
  {
    std::vector<int> window_ids(n_windows);
    step_tokens.clear();
    for (int w = 0; w < n_windows; ++w) {
      window_ids[w] = w;
      step_tokens.insert(step_tokens.end(), init.begin(), init.end());
    }
    decoder_.reset(n_windows);
    const float* hidden = decoder_.forward(step_tokens.data(), sample_begin, 0, window_ids.data());
    for (int w = 0; w < n_windows; ++w) {
      // no-speech probability from the logits at <|startoftranscript|>
      decoder_.logits(hidden + (static_cast<size_t>(w) * sample_begin + sot_index) * D, 1, logits_.data());
      no_speech[w] = tok.no_speech() >= 0
                         ? std::exp(logits_[tok.no_speech()] - backend::cpu::log_sum_exp(logits_.data(), V))
                         : 0.0f;
      std::copy_n(hidden + (static_cast<size_t>(w) * sample_begin + sample_begin - 1) * D, D,
                  last_hidden_.begin() + static_cast<std::ptrdiff_t>(w) * D);
    }
    decoder_.logits(last_hidden_.data(), n_windows, logits_.data());
    for (int s = n_seq - 1; s >= 0; --s)  // window w's logits to rows w·group ... (downwards: no overlap)
      std::copy_n(logits_.begin() + static_cast<std::ptrdiff_t>(s / group) * V, V,
                  logits_.begin() + static_cast<std::ptrdiff_t>(s) * V);
    decoder_.expand(group, sample_begin);
  }

  int offset = sample_begin;
  steps_ = 1;
  bool ended_in_loop = false;
  for (int i = 0; i < o.sample_len; ++i) {
    if (i > 0) {
      // One new token per sequence; one GEMM for all of them, so the (V, D) projection is read once per step.
      step_tokens.resize(n_seq);
      for (int s = 0; s < n_seq; ++s) step_tokens[s] = tokens[s].back();
      const float* hidden = decoder_.forward(step_tokens.data(), 1, offset, seq_window.data());
      decoder_.logits(hidden, n_seq, logits_.data());
      offset += 1;
      ++steps_;
    }

    LogitBatch batch{logits_.data(), n_seq, V, &tokens, sample_begin};
    for (const auto& f : filters) f->apply(batch);
    const bool completed = picker->update(tokens, logits_.data(), V, sum_logprobs, source);
    bool reordered = false;
    for (int s = 0; s < n_seq; ++s) reordered = reordered || source[s] != s;
    if (reordered) decoder_.reorder_cache(source, offset);
    if (completed || static_cast<int>(tokens[0].size()) >= n_ctx) break;
    if (o.stop_loops_above && i + 1 >= kLoopWindow &&
        all_stuck_in_loops(tokens, sample_begin, *o.stop_loops_above)) {
      ended_in_loop = true;
      break;
    }
  }

  Candidates cands = picker->finalize(tokens, sum_logprobs, sample_begin);
  std::vector<DecodingResult> results(n_windows);
  for (int w = 0; w < n_windows; ++w) {
    // Cut every candidate at its first <|endoftext|>.
    for (auto& seq : cands.tokens[w]) seq.erase(std::find(seq.begin(), seq.end(), tok.eot()), seq.end());
    const int best = rank_candidates(cands.tokens[w], cands.sum_logprobs[w], o.length_penalty);
    DecodingResult& r = results[w];
    r.tokens = cands.tokens[w][best];
    r.text = tok.decode(r.tokens);
    r.avg_logprob = cands.sum_logprobs[w][best] / static_cast<float>(r.tokens.size() + 1);
    r.no_speech_prob = no_speech[w];
    r.temperature = o.temperature;
    r.compression_ratio = compression_ratio(r.text);
    r.ended_in_loop = ended_in_loop;
  }
  return results;
}

int rank_candidates(const std::vector<std::vector<int>>& tokens, const std::vector<float>& sum_logprobs,
                    const std::optional<float>& length_penalty) {
  int best = 0;
  double best_score = -INFINITY;
  for (size_t i = 0; i < tokens.size(); ++i) {
    const double len = static_cast<double>(tokens[i].size());
    const double penalty = length_penalty ? std::pow((5.0 + len) / 6.0, *length_penalty) : len;
    const double score = sum_logprobs[i] / std::max(penalty, 1e-9);
    if (score > best_score) {
      best_score = score;
      best = static_cast<int>(i);
    }
  }
  return best;
}

}  // namespace wisp::decode
