#include "decode/decoding_task.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <set>

#include "backend/cpu/elementwise.h"
#include "backend/cpu/threads.h"
#include "core/error.h"
#include "decode/compression.h"
#include "decode/repetition.h"

namespace wisp::decode {

DecodingTask::DecodingTask(const WhisperModel& model, nn::Decoder& decoder, const DecodingOptions& o,
                           int window, std::mt19937* rng)
    : model_(model), decoder_(decoder), o_(o), window_(window) {
  const Tokenizer& tok = model_.tokenizer();
  if (o.beam_size < 1 || o.best_of < 1)
    throw Error(ErrorKind::InvalidArgument, "beam size and best-of must be >= 1");
  const bool sampling = o.temperature > 0.0f;
  group_ = sampling ? o.best_of : o.beam_size;
  init_ = initial_tokens(&sot_index_);
  sample_begin_ = static_cast<int>(init_.size());
  if (sample_begin_ >= model_.dims().n_text_ctx)
    throw Error(ErrorKind::InvalidArgument, "prompt does not fit in the text context");

  // Logit filters, in openai's order.
  if (o.suppress_blank) {
    std::vector<int> blank = model_.metadata().suppress_ids_begin;
    if (blank.empty()) blank = {tok.encode(" ").empty() ? tok.eot() : tok.encode(" ")[0], tok.eot()};
    filters_.push_back(make_suppress_blank(blank));
  }
  filters_.push_back(make_suppress_tokens(suppress_ids()));
  if (!o.without_timestamps) {
    // Negative: no limit; past 30 s the limit cannot bite (clamped, so the index cannot overflow).
    const float max_initial_s =
        std::isnan(o.max_initial_timestamp) ? 1.0f : std::clamp(o.max_initial_timestamp, -1.0f, 30.0f);
    const int max_initial = static_cast<int>(std::lround(max_initial_s / 0.02f));
    filters_.push_back(
        make_timestamp_rules(tok.eot(), tok.no_timestamps(), tok.timestamp_begin(), max_initial));
  }
  picker_ = (!sampling && group_ > 1) ? make_beam_search_decoder(group_, tok.eot(), o.patience)
                                      : make_greedy_decoder(o.temperature, tok.eot(), group_, rng);
  tokens_.assign(group_, init_);
  for (auto& t : tokens_) t.reserve(static_cast<size_t>(model_.dims().n_text_ctx) + 1);  // no reallocation
  token_logprobs_.assign(group_, {});
  for (auto& t : token_logprobs_) t.reserve(static_cast<size_t>(model_.dims().n_text_ctx) + 1);
  sum_logprobs_.assign(group_, 0.0f);
  if (o.sample_len <= 0) done_ = true;
}

DecodingTask::~DecodingTask() {
  for (int s : seqs_) decoder_.release_sequence(s);
}

// [<|startofprev|> prompt...] <|startoftranscript|> [<|lang|> <|task|>] [<|notimestamps|>]
std::vector<int> DecodingTask::initial_tokens(int* sot_index) const {
  const Tokenizer& tok = model_.tokenizer();
  std::vector<int> tokens;
  if (!o_.prompt.empty()) {
    const int max_prompt = model_.dims().n_text_ctx / 2 - 1;
    tokens.push_back(tok.sot_prev());
    const size_t start =
        o_.prompt.size() > static_cast<size_t>(max_prompt) ? o_.prompt.size() - max_prompt : 0;
    tokens.insert(tokens.end(), o_.prompt.begin() + static_cast<std::ptrdiff_t>(start), o_.prompt.end());
  }
  *sot_index = static_cast<int>(tokens.size());
  const std::vector<int> sot = tok.sot_sequence(o_.language, o_.translate);
  tokens.insert(tokens.end(), sot.begin(), sot.end());
  if (o_.without_timestamps) tokens.push_back(tok.no_timestamps());
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
bool DecodingTask::all_stuck_in_loops() const {
  const Tokenizer& tok = model_.tokenizer();
  for (const auto& seq : tokens_)
    if (seq.back() != tok.eot() && !stuck_in_loop(tok, seq, sample_begin_, *o_.stop_loops_above, loop_text_))
      return false;
  return true;
}

void DecodingTask::add_runs(std::vector<int>& tokens, std::vector<nn::Decoder::Run>& runs) {
  if (done_) return;
  if (!prompted_) {  // the prompt, once for the whole group
    if (seqs_.empty()) seqs_.push_back(decoder_.acquire_sequence());
    tokens.insert(tokens.end(), init_.begin(), init_.end());
    runs.push_back({seqs_[0], window_, 0, sample_begin_});
    return;
  }
  for (int r = 0; r < group_; ++r) {
    tokens.push_back(tokens_[r].back());
    runs.push_back({seqs_[r], window_, position_, 1});
  }
}

void DecodingTask::add_logit_rows(int first_row, std::vector<int>& rows) const {
  if (done_) return;
  if (!prompted_) {
    rows.push_back(first_row + sot_index_);  // no-speech probability at <|startoftranscript|>
    rows.push_back(first_row + sample_begin_ - 1);
    return;
  }
  for (int r = 0; r < group_; ++r) rows.push_back(first_row + r);
}

void DecodingTask::advance(float* logits) {
  if (done_) return;
  choose(begin_step(logits));
  end_step();
}

float* DecodingTask::begin_step(float* logits) {
  if (done_) return logits;
  const Tokenizer& tok = model_.tokenizer();
  const int V = model_.dims().n_vocab;
  ++steps_;
  if (prompted_) {
    position_ += 1;
    return logits;
  }
  // After the prompt pass: no-speech probability, then every row of the group starts from the prompt's
  // last logits and a copy of its cache.
  no_speech_ =
      tok.no_speech() >= 0 ? std::exp(logits[tok.no_speech()] - backend::cpu::log_sum_exp(logits, V)) : 0.0f;
  prompt_logits_.resize(static_cast<size_t>(group_) * V);
  for (int r = 0; r < group_; ++r)
    std::memcpy(prompt_logits_.data() + static_cast<size_t>(r) * V, logits + V, sizeof(float) * V);
  for (int r = 1; r < group_; ++r) {
    seqs_.push_back(decoder_.acquire_sequence());
    decoder_.copy_sequence(seqs_[0], seqs_[r], sample_begin_);
  }
  position_ = sample_begin_;
  prompted_ = true;
  return prompt_logits_.data();
}

void DecodingTask::choose(float* logits) {
  if (done_) return;
  const int V = model_.dims().n_vocab, n_ctx = model_.dims().n_text_ctx;
  LogitBatch batch{logits, group_, V, &tokens_, sample_begin_};
  for (const auto& f : filters_) f->apply(batch);
  const bool completed = picker_->update(tokens_, token_logprobs_, logits, V, sum_logprobs_, source_);
  ++updates_;
  finishing_ = completed || static_cast<int>(tokens_[0].size()) >= n_ctx || updates_ >= o_.sample_len;
  if (!finishing_ && o_.stop_loops_above && updates_ >= kLoopWindow && all_stuck_in_loops()) {
    ended_in_loop_ = true;
    finishing_ = true;
  }
}

void DecodingTask::end_step() {
  if (done_) return;
  reorder(source_);
  if (finishing_) {
    done_ = true;
    for (int s : seqs_) decoder_.release_sequence(s);
    seqs_.clear();
  }
}

void DecodingTask::reorder(const std::vector<int>& source) {
  // Beam search: new row b continues old row source[b]. The first row taking an old sequence gets its
  // cache; later ones (forks) get a copy, made while every source is still in place. Old sequences nobody
  // continues are released.
  bool identity = true;
  for (int b = 0; b < group_; ++b) identity = identity && source[b] == b;
  if (identity) return;
  std::vector<int> owner(group_, -1), next(group_, -1);
  for (int b = 0; b < group_; ++b)
    if (owner[source[b]] < 0) owner[source[b]] = b;
  for (int b = 0; b < group_; ++b)
    if (owner[source[b]] != b) {
      next[b] = decoder_.acquire_sequence();
      decoder_.copy_sequence(seqs_[source[b]], next[b], position_);
    }
  for (int b = 0; b < group_; ++b)
    if (owner[source[b]] == b) next[b] = seqs_[source[b]];
  for (int s = 0; s < group_; ++s)
    if (owner[s] < 0) decoder_.release_sequence(seqs_[s]);
  seqs_ = std::move(next);
}

DecodingResult DecodingTask::result() const {
  if (!done_) throw Error(ErrorKind::Internal, "decoding task: result before it is done");
  const Tokenizer& tok = model_.tokenizer();
  Candidates cands = picker_->finalize(tokens_, token_logprobs_, sum_logprobs_, sample_begin_);
  // Cut every candidate at its first <|endoftext|>.
  for (size_t i = 0; i < cands.tokens[0].size(); ++i) {
    std::vector<int>& seq = cands.tokens[0][i];
    const size_t end = static_cast<size_t>(std::find(seq.begin(), seq.end(), tok.eot()) - seq.begin());
    seq.resize(end);
    cands.token_logprobs[0][i].resize(end);
  }
  const int best = rank_candidates(cands.tokens[0], cands.sum_logprobs[0], o_.length_penalty);
  DecodingResult r;
  r.tokens = cands.tokens[0][best];
  r.token_logprobs = cands.token_logprobs[0][best];
  r.text = tok.decode(r.tokens);
  r.avg_logprob = cands.sum_logprobs[0][best] / static_cast<float>(r.tokens.size() + 1);
  r.no_speech_prob = no_speech_;
  r.temperature = o_.temperature;
  r.compression_ratio = compression_ratio(r.text);
  r.ended_in_loop = ended_in_loop_;
  return r;
}

void DecodingStepper::step(DecodingTask* const* tasks, int n_tasks) {
  const int V = model_.dims().n_vocab, D = model_.dims().n_text_state;
  tokens_.clear();
  runs_.clear();
  rows_.clear();
  first_row_.assign(n_tasks + 1, 0);
  task_row_.assign(n_tasks, 0);
  int row = 0;
  for (int t = 0; t < n_tasks; ++t) {
    const size_t before = runs_.size();
    tasks[t]->add_runs(tokens_, runs_);
    task_row_[t] = row;
    for (size_t r = before; r < runs_.size(); ++r) row += runs_[r].length;
  }
  if (runs_.empty()) return;
  const float* hidden = decoder_.forward(tokens_.data(), runs_.data(), static_cast<int>(runs_.size()));
  // The rows each task needs, gathered, then one projection for all of them.
  for (int t = 0; t < n_tasks; ++t) {
    first_row_[t] = static_cast<int>(rows_.size());
    tasks[t]->add_logit_rows(task_row_[t], rows_);
  }
  first_row_[n_tasks] = static_cast<int>(rows_.size());
  const int n = static_cast<int>(rows_.size());
  hidden_.resize(static_cast<size_t>(n) * D);
  for (int i = 0; i < n; ++i)
    std::memcpy(hidden_.data() + static_cast<size_t>(i) * D, hidden + static_cast<size_t>(rows_[i]) * D,
                sizeof(float) * D);
  logits_.resize(static_cast<size_t>(n) * V);
  decoder_.logits(hidden_.data(), n, logits_.data());
  // The tokens: each task's rows start (the sequence pool: in order), the tasks choose — those that do
  // not sample on the decoder's threads (filters, log-softmax and top-k over 51,864 logits per row: for
  // 8 windows of 5 beams a third of a step on one thread), the sampling ones in order (their rng may be
  // shared) — and the caches follow (in order).
  task_logits_.assign(n_tasks, nullptr);
  parallel_.clear();
  for (int t = 0; t < n_tasks; ++t)
    if (first_row_[t + 1] > first_row_[t] && !tasks[t]->done()) {
      task_logits_[t] = tasks[t]->begin_step(logits_.data() + static_cast<size_t>(first_row_[t]) * V);
      if (!tasks[t]->samples()) parallel_.push_back(t);
    }
  backend::cpu::parallel_for_rethrowing(decoder_.threads(), static_cast<int>(parallel_.size()), [&](int i) {
    tasks[parallel_[i]]->choose(task_logits_[parallel_[i]]);
  });
  for (int t = 0; t < n_tasks; ++t)
    if (task_logits_[t] && tasks[t]->samples()) tasks[t]->choose(task_logits_[t]);
  for (int t = 0; t < n_tasks; ++t)
    if (task_logits_[t]) tasks[t]->end_step();
}

DecodingResult decode_window(const WhisperModel& model, nn::Decoder& decoder, const DecodingOptions& options,
                             int window, std::mt19937* rng, int* steps) {
  DecodingTask task(model, decoder, options, window, rng);
  DecodingStepper stepper(model, decoder);
  DecodingTask* tasks[] = {&task};
  while (!task.done()) stepper.step(tasks, 1);
  if (steps) *steps = task.steps();
  return task.result();
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
