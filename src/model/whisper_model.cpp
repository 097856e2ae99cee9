#include "model/whisper_model.h"

#include "core/error.h"

namespace wisp {
namespace {

using Shape = std::vector<int64_t>;

// keep_f16: the decoder's weights are read once per token, so their fp16 copy is kept for the
// bandwidth-bound kernels; elsewhere the copy is dropped to save memory.
Linear linear(WeightTable& w, const std::string& scope, int out, int in, bool keep_f16) {
  Linear l;
  Tensor& t = w.get_mutable(scope + "/weight");
  l.w = w.get(scope + "/weight", Shape{out, in}).data.data();
  if (!keep_f16) std::vector<uint16_t>().swap(t.f16);
  l.w16 = t.f16.empty() ? nullptr : t.f16.data();
  l.b = w.has(scope + "/bias") ? w.get(scope + "/bias", Shape{out}).data.data() : nullptr;
  l.out = out;
  l.in = in;
  return l;
}

Norm norm(const WeightTable& w, const std::string& scope, int d) {
  return {w.get(scope + "/gamma", Shape{d}).data.data(), w.get(scope + "/beta", Shape{d}).data.data()};
}

SelfAttentionWeights self_attention(WeightTable& w, const std::string& scope, int d, bool keep_f16) {
  return {norm(w, scope + "/layer_norm", d), linear(w, scope + "/linear_0", 3 * d, d, keep_f16),
          linear(w, scope + "/linear_1", d, d, keep_f16)};
}

MlpWeights mlp(WeightTable& w, const std::string& scope, int d, bool keep_f16) {
  const Tensor& up = w.get(scope + "/linear_0/weight");
  if (up.shape.size() != 2)
    throw Error(ErrorKind::Model, w.source() + ": variable '" + scope + "/linear_0/weight' has wrong shape " +
                                      shape_to_string(up.shape) + "; expected [F, " + std::to_string(d) +
                                      "]");
  const int f = static_cast<int>(up.shape[0]);
  return {norm(w, scope + "/layer_norm", d), linear(w, scope + "/linear_0", f, d, keep_f16),
          linear(w, scope + "/linear_1", d, f, keep_f16)};
}

int count_layers(const WeightTable& w, const std::string& prefix) {
  int n = 0;
  while (w.has(prefix + std::to_string(n) + "/ffn/linear_0/weight")) ++n;
  return n;
}

}  // namespace

std::shared_ptr<const WhisperModel> WhisperModel::load(const std::string& path) {
  std::shared_ptr<WhisperModel> m(new WhisperModel());
  LoadedModel files = load_model_files(path);
  m->path_ = path;
  m->weights_ = std::move(files.weights);
  m->metadata_ = std::move(files.metadata);
  m->bind();
  m->tokenizer_ = std::make_unique<decode::Tokenizer>(
      decode::Tokenizer::from_model_dir(files.directory, m->multilingual()));
  m->check_tokenizer(files.directory + "/tokenizer.json");
  return m;
}

// Every id the decoder writes into a logit row must be a row of the output projection, and the timestamp
// ids must be where Whisper puts them: the 1501 tokens <|0.00|> ... <|30.00|> right after <|notimestamps|>
// end the vocabulary (tiny.en 50363 + 1501 = 51864, base 50364 + 1501 = 51865, large-v3 50365 + 1501 =
// 51866). A tokenizer.json of another model, or a doctored one, is refused here rather than decoding garbage
// or writing past a logit row.
void WhisperModel::check_tokenizer(const std::string& file) const {
  const decode::Tokenizer& tok = *tokenizer_;
  const int n_vocab = dims_.n_vocab;
  auto fail = [&](const std::string& what) {
    throw Error(ErrorKind::Model, file + " does not fit " + path_ + "/model.bin (" + std::to_string(n_vocab) +
                                      " tokens): " + what + "; is it the tokenizer of another model?");
  };
  if (tok.vocab_size() > n_vocab)
    fail("it has " + std::to_string(tok.vocab_size()) + " tokens, more than the model");
  const int ts_begin = tok.timestamp_begin();
  const std::pair<const char*, int> specials[] = {
      {"<|endoftext|>", tok.eot()},       {"<|startoftranscript|>", tok.sot()},
      {"<|translate|>", tok.translate()}, {"<|transcribe|>", tok.transcribe()},
      {"<|startoflm|>", tok.sot_lm()},    {"<|startofprev|>", tok.sot_prev()},
      {"<|nospeech|>", tok.no_speech()},  {"<|notimestamps|>", tok.no_timestamps()}};
  for (const auto& [name, id] : specials)
    if (id < 0 || id >= ts_begin || id >= n_vocab)
      fail(std::string(name) + " is id " + std::to_string(id) + ", outside [0, " +
           std::to_string(std::min(ts_begin, n_vocab)) + ")");
  for (const std::string& code : tok.language_codes()) {
    const int id = tok.language_token(code);
    if (id < 0 || id >= ts_begin || id >= n_vocab)
      fail("<|" + code + "|> is id " + std::to_string(id) + ", outside the vocabulary");
  }
  if (ts_begin + kTimestampTokens != n_vocab)
    fail("its timestamp tokens start at " + std::to_string(ts_begin) + " (after <|notimestamps|>), so the " +
         std::to_string(kTimestampTokens) + " of them would end at " +
         std::to_string(ts_begin + kTimestampTokens) + ", not at the model's " + std::to_string(n_vocab));
  // config.json's lang_ids (checked against the vocabulary in bind()) must name language tokens: language
  // detection reads them, and a defect there must surface here, not as a failure blamed on some audio.
  for (int id : metadata_.lang_ids)
    if (tok.language_code(id).empty())
      throw Error(ErrorKind::Model, path_ + "/config.json: lang_ids holds " + std::to_string(id) +
                                        ", which is not a language token of " + file);
}

// Derive the dimensions from the tensor shapes, then bind every weight with a shape check.
void WhisperModel::bind() {
  WeightTable& w = *weights_;
  const std::string& src = w.source();
  const Tensor& conv1 = w.get("encoder/conv1/weight");
  const Tensor& embed = w.get("decoder/embeddings/weight");
  if (conv1.shape.size() != 3 || conv1.shape[2] != 3)
    throw Error(ErrorKind::Model, src + ": 'encoder/conv1/weight' has wrong shape " +
                                      shape_to_string(conv1.shape) + "; expected [D, n_mels, 3]");
  if (embed.shape.size() != 2)
    throw Error(ErrorKind::Model, src + ": 'decoder/embeddings/weight' must be 2-D");
  const Tensor& enc_pos = w.get("encoder/position_encodings/encodings");
  const Tensor& dec_pos = w.get("decoder/position_encodings/encodings");
  if (enc_pos.shape.size() != 2 || dec_pos.shape.size() != 2)
    throw Error(ErrorKind::Model, src + ": position encodings must be 2-D");
  // Every size below becomes an int and is multiplied (3 * D, n_vocab * rows): a zero-sized variable holds
  // no data, so its shape could claim anything.
  for (const auto& [name, dim] : {std::pair{"encoder/conv1/weight", conv1.shape[0]},
                                  {"encoder/conv1/weight", conv1.shape[1]},
                                  {"decoder/embeddings/weight", embed.shape[0]},
                                  {"decoder/embeddings/weight", embed.shape[1]},
                                  {"encoder/position_encodings/encodings", enc_pos.shape[0]},
                                  {"decoder/position_encodings/encodings", dec_pos.shape[0]}})
    if (dim < 1 || dim > (1 << 20))
      throw Error(ErrorKind::Model,
                  src + ": variable '" + name + "' has an implausible dimension " + std::to_string(dim));
  dims_.n_audio_state = static_cast<int>(conv1.shape[0]);
  dims_.n_mels = static_cast<int>(conv1.shape[1]);
  dims_.n_vocab = static_cast<int>(embed.shape[0]);
  dims_.n_text_state = static_cast<int>(embed.shape[1]);
  dims_.n_audio_layer = count_layers(w, "encoder/layer_");
  dims_.n_text_layer = count_layers(w, "decoder/layer_");
  auto heads = [&](const char* name, int width) {  // a float in the file: checked before it becomes an int
    const float h = w.scalar(name, static_cast<float>(width / 64));
    if (!(h >= 1.0f && h <= 1024.0f))
      throw Error(ErrorKind::Model,
                  src + ": variable '" + name + "' is " + std::to_string(h) + ", not a head count");
    return static_cast<int>(h);
  };
  dims_.n_audio_head = heads("encoder/num_heads", dims_.n_audio_state);
  dims_.n_text_head = heads("decoder/num_heads", dims_.n_text_state);
  dims_.n_audio_ctx = static_cast<int>(enc_pos.shape[0]);
  dims_.n_text_ctx = static_cast<int>(dec_pos.shape[0]);

  const int D = dims_.n_audio_state, Dt = dims_.n_text_state;
  if (dims_.n_mels != 80 && dims_.n_mels != 128)
    throw Error(ErrorKind::Model, src + ": unsupported number of mel bins " + std::to_string(dims_.n_mels));
  if (dims_.n_audio_layer == 0 || dims_.n_text_layer == 0)
    throw Error(ErrorKind::Model, src + ": no encoder or decoder layers found");
  if (dims_.n_audio_head <= 0 || D % dims_.n_audio_head != 0 || dims_.n_text_head <= 0 ||
      Dt % dims_.n_text_head != 0 || D != Dt)
    throw Error(ErrorKind::Model, src + ": inconsistent widths/heads");
  if (dims_.n_audio_ctx != 1500)
    throw Error(ErrorKind::Model,
                src + ": encoder positions " + std::to_string(dims_.n_audio_ctx) + ", expected 1500");

  encoder_.conv1_w = w.get("encoder/conv1/weight", Shape{D, dims_.n_mels, 3}).data.data();
  encoder_.conv1_b = w.get("encoder/conv1/bias", Shape{D}).data.data();
  encoder_.conv2_w = w.get("encoder/conv2/weight", Shape{D, D, 3}).data.data();
  encoder_.conv2_b = w.get("encoder/conv2/bias", Shape{D}).data.data();
  encoder_.pos = enc_pos.data.data();
  for (int i = 0; i < dims_.n_audio_layer; ++i) {
    const std::string s = "encoder/layer_" + std::to_string(i);
    EncoderLayer l;
    l.attn = self_attention(w, s + "/self_attention", D, false);
    l.mlp = mlp(w, s + "/ffn", D, false);
    encoder_.layers.push_back(l);
  }
  encoder_.ln_post = norm(w, "encoder/layer_norm", D);

  decoder_.embed = embed.data.data();
  decoder_.pos = w.get("decoder/position_encodings/encodings", Shape{dims_.n_text_ctx, Dt}).data.data();
  for (int i = 0; i < dims_.n_text_layer; ++i) {
    const std::string s = "decoder/layer_" + std::to_string(i);
    DecoderLayer l;
    l.self_attn = self_attention(w, s + "/self_attention", Dt, true);
    l.cross_ln = norm(w, s + "/attention/layer_norm", Dt);
    l.cross_q = linear(w, s + "/attention/linear_0", Dt, Dt, true);
    l.cross_kv = linear(w, s + "/attention/linear_1", 2 * Dt, Dt, true);
    l.cross_out = linear(w, s + "/attention/linear_2", Dt, Dt, true);
    l.mlp = mlp(w, s + "/ffn", Dt, true);
    decoder_.layers.push_back(l);
  }
  decoder_.ln = norm(w, "decoder/layer_norm", Dt);
  const std::string proj_name =
      w.has("decoder/projection/weight") ? "decoder/projection/weight" : "decoder/embeddings/weight";
  const Tensor& proj = w.get(proj_name, embed.shape);
  decoder_.proj.w = proj.data.data();
  decoder_.proj.w16 = proj.f16.empty() ? nullptr : proj.f16.data();
  decoder_.proj.out = dims_.n_vocab;
  decoder_.proj.in = Dt;
  // Language ids come from config.json: each must name a token of this model.
  for (int id : metadata_.lang_ids)
    if (id < 0 || id >= dims_.n_vocab)
      throw Error(ErrorKind::Model, path_ + "/config.json: lang_ids holds " + std::to_string(id) +
                                        ", outside the vocabulary of " + std::to_string(dims_.n_vocab));
  // Every other fp16 copy (conv, positions, norms, encoder) is never read: free it.
  for (auto& [name, t] : w.all())
    if (name.rfind("decoder/layer_", 0) != 0 && &t != &proj)
      std::vector<uint16_t>().swap(w.get_mutable(name).f16);
}

}  // namespace wisp
