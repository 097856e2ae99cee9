#include "decode/language_detection.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace wisp::decode {

std::vector<LanguageProbability> detect_language(const WhisperModel& model, nn::Decoder& decoder,
                                                 int window) {
  const Tokenizer& tok = model.tokenizer();
  if (!model.multilingual()) return {{"en", 1.0f}};
  std::vector<int> lang_ids = model.metadata().lang_ids;
  if (lang_ids.empty())
    for (const auto& code : tok.language_codes()) lang_ids.push_back(tok.language_token(code));

  const int sot = tok.sot();
  const nn::Decoder::ScopedSequence sequence(decoder);
  const nn::Decoder::Run run{sequence.id(), window, 0, 1};
  std::vector<float> logits(model.dims().n_vocab);
  decoder.logits(decoder.forward(&sot, &run, 1), 1, logits.data());

  float mx = -INFINITY;
  for (int id : lang_ids) mx = std::max(mx, logits[id]);
  double sum = 0.0;
  for (int id : lang_ids) sum += std::exp(static_cast<double>(logits[id]) - mx);
  std::vector<LanguageProbability> out;
  for (int id : lang_ids) {
    const std::string code = tok.language_code(id);
    if (code.empty())
      throw Error(ErrorKind::Model, "language id " + std::to_string(id) + " is not a language token");
    out.push_back({code, static_cast<float>(std::exp(static_cast<double>(logits[id]) - mx) / sum)});
  }
  std::stable_sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.probability > b.probability; });
  return out;
}

}  // namespace wisp::decode
