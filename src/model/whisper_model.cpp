#include "model/whisper_model.h"

#include <future>
#include <system_error>

#include "core/error.h"

namespace wisp {
namespace {

using Shape = std::vector<int64_t>;

// Binds the scope's weight (and bias) and packs it from the type the file stores; the table then releases
// the stored matrix (the packed form is all the kernels read).
class Binder {
 public:
  Binder(WeightTable& w, const backend::Backend& b) : w_(w), backend_(b) {}

  Linear linear(const std::string& scope, int out, int in, backend::LinearUse use) {
    return pack(scope + "/weight", Shape{out, in}, out, in,
                w_.has(scope + "/bias") ? w_.f32(scope + "/bias", Shape{out}) : nullptr, use);
  }
  // A Conv1d weight (out, in, 3) as a Linear (out, in · 3).
  Linear conv(const std::string& scope, int out, int in) {
    return pack(scope + "/weight", Shape{out, in, 3}, out, in * 3, w_.f32(scope + "/bias", Shape{out}),
                backend::LinearUse::ConvStem);
  }
  Norm norm(const std::string& scope, int d) {
    return {w_.f32(scope + "/gamma", Shape{d}), w_.f32(scope + "/beta", Shape{d})};
  }
  SelfAttentionWeights self_attention(const std::string& scope, int d, backend::LinearUse use) {
    return {norm(scope + "/layer_norm", d), linear(scope + "/linear_0", 3 * d, d, use),
            linear(scope + "/linear_1", d, d, use)};
  }
  MlpWeights mlp(const std::string& scope, int d, backend::LinearUse use) {
    const Tensor& up = w_.get(scope + "/linear_0/weight");
    if (up.shape.size() != 2)
      throw Error(ErrorKind::Model, w_.source() + ": variable '" + scope +
                                        "/linear_0/weight' has wrong shape " + shape_to_string(up.shape) +
                                        "; expected [F, " + std::to_string(d) + "]");
    const int f = static_cast<int>(up.shape[0]);
    return {norm(scope + "/layer_norm", d), linear(scope + "/linear_0", f, d, use),
            linear(scope + "/linear_1", d, f, use)};
  }
  // Packs `name` without releasing it (the tied projection shares the embeddings, which stay).
  Linear pack_kept(const std::string& name, int out, int in) {
    w_.get(name, Shape{out, in});  // shape check
    Linear l;
    l.packed = backend_.pack_linear(w_.view(name, out, in), nullptr, backend::LinearUse::AnyRows);
    l.out = out;
    l.in = in;
    return l;
  }

 private:
  Linear pack(const std::string& name, const Shape& shape, int out, int in, const float* bias,
              backend::LinearUse use) {
    w_.get(name, shape);  // shape check
    Linear l;
    l.packed = backend_.pack_linear(w_.view(name, out, in), bias, use);
    l.out = out;
    l.in = in;
    w_.release(name);
    return l;
  }
  WeightTable& w_;
  const backend::Backend& backend_;
};

int count_layers(const WeightTable& w, const std::string& prefix) {
  int n = 0;
  while (w.has(prefix + std::to_string(n) + "/ffn/linear_0/weight")) ++n;
  return n;
}

}  // namespace

std::shared_ptr<const WhisperModel> WhisperModel::load(const std::string& path, const ModelOptions& options) {
  std::shared_ptr<WhisperModel> m(new WhisperModel());
  const std::string isa_error = backend::cpu::default_isa_error();
  if (!isa_error.empty()) throw Error(ErrorKind::InvalidArgument, isa_error);
  const backend::cpu::CpuInfo& cpu = backend::cpu::cpu_info();
  if (!cpu.avx2 || !cpu.fma || !cpu.f16c)
    throw Error(ErrorKind::InvalidArgument, "this CPU lacks AVX2, FMA or F16C, which wisp needs (x86-64-v3)");
  const backend::cpu::Isa isa = options.isa.value_or(backend::cpu::default_isa());
  m->isa_ = isa;
  m->backend_ = options.reference_backend ? backend::make_reference_backend()
                                          : backend::make_cpu_backend(options.compute_type, isa);
  // The tokenizer (~35 ms of JSON and hash tables) is read on a thread of its own while the weights are
  // read, checked and packed. An error of the model's files still comes first: the tokenizer's is taken only
  // once they have loaded (a failed load waits for that thread and drops what it read).
  const std::string dir = model_directory(path);
  std::future<decode::Tokenizer> early;
  if (!dir.empty()) {
    try {
      early = std::async(std::launch::async, [dir] { return decode::Tokenizer::from_model_dir(dir, false); });
    } catch (const std::system_error&) {  // no thread to be had: read it below, in turn
    }
  }
  LoadedModel files = load_model_files(path);
  m->path_ = path;
  m->weights_ = std::move(files.weights);
  m->metadata_ = std::move(files.metadata);
  m->bind();
  decode::Tokenizer tok = early.valid() && files.directory == dir
                              ? early.get()
                              : decode::Tokenizer::from_model_dir(files.directory, false);
  m->tokenizer_ = std::make_unique<decode::Tokenizer>(tok.with_multilingual(m->multilingual()));
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
  // (Checked once the tokenizer is known to fit: a tokenizer of another model is the clearer message.)
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
  if (enc_pos.shape[1] != D)
    throw Error(ErrorKind::Model, src + ": encoder position encodings have the wrong width");

  Binder b(w, *backend_);
  using backend::LinearUse;
  encoder_.conv1 = b.conv("encoder/conv1", D, dims_.n_mels);
  encoder_.conv2 = b.conv("encoder/conv2", D, D);
  encoder_.pos = w.f32("encoder/position_encodings/encodings", Shape{dims_.n_audio_ctx, D});
  for (int i = 0; i < dims_.n_audio_layer; ++i) {
    const std::string s = "encoder/layer_" + std::to_string(i);
    EncoderLayer l;
    l.attn = b.self_attention(s + "/self_attention", D, LinearUse::ManyRows);
    l.mlp = b.mlp(s + "/ffn", D, LinearUse::ManyRows);
    encoder_.layers.push_back(std::move(l));
  }
  encoder_.ln_post = b.norm("encoder/layer_norm", D);

  decoder_.pos = w.f32("decoder/position_encodings/encodings", Shape{dims_.n_text_ctx, Dt});
  for (int i = 0; i < dims_.n_text_layer; ++i) {
    const std::string s = "decoder/layer_" + std::to_string(i);
    DecoderLayer l;
    l.self_attn = b.self_attention(s + "/self_attention", Dt, LinearUse::AnyRows);
    l.cross_ln = b.norm(s + "/attention/layer_norm", Dt);
    l.cross_q = b.linear(s + "/attention/linear_0", Dt, Dt, LinearUse::AnyRows);
    l.cross_kv = b.linear(s + "/attention/linear_1", 2 * Dt, Dt, LinearUse::ManyRows);
    l.cross_out = b.linear(s + "/attention/linear_2", Dt, Dt, LinearUse::AnyRows);
    l.mlp = b.mlp(s + "/ffn", Dt, LinearUse::AnyRows);
    decoder_.layers.push_back(std::move(l));
  }
  decoder_.ln = b.norm("decoder/layer_norm", Dt);
  const bool tied = !w.has("decoder/projection/weight") ||
                    &w.get("decoder/projection/weight") == &w.get("decoder/embeddings/weight");
  decoder_.proj = tied ? b.pack_kept("decoder/embeddings/weight", dims_.n_vocab, Dt)
                       : b.linear("decoder/projection", dims_.n_vocab, Dt, LinearUse::AnyRows);
  decoder_.embed = w.view("decoder/embeddings/weight", dims_.n_vocab, Dt);  // read a row per token, as stored
  // Language ids come from config.json: each must name a token of this model.
  for (int id : metadata_.lang_ids)
    if (id < 0 || id >= dims_.n_vocab)
      throw Error(ErrorKind::Model, path_ + "/config.json: lang_ids holds " + std::to_string(id) +
                                        ", outside the vocabulary of " + std::to_string(dims_.n_vocab));
}

}  // namespace wisp
