// GPT-2 byte-level BPE as Whisper uses it. See tokenizer.h for the contract; the comments here say why
// the code is shaped the way it is.
#include "decode/tokenizer.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <queue>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "core/error.h"
#include "core/regular_file.h"
#include "decode/tokenizer_json.h"

namespace wisp::decode {
namespace {

// GPT-2's pre-tokenizer regex, as HF's ByteLevel (use_regex=true) has it:
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// but with \s spelled out as Unicode's White_Space, which is what HF's Oniguruma matches: PCRE2's UCP
// \s also takes U+180E (MONGOLIAN VOWEL SEPARATOR, no longer a space since Unicode 6.3), which would
// split " \u180e" differently. (Known remaining gap: letters/digits new in Unicode 15+ are unassigned
// in PCRE2 10.42's tables, so HF may group them differently; no Whisper language's script is affected.)
#define WISP_WS \
  "\\t-\\r \\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}"
constexpr const char* kGpt2Pattern = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^" WISP_WS
                                     "\\p{L}\\p{N}]+"
                                     "|[" WISP_WS "]+(?![^" WISP_WS "])|[" WISP_WS "]+";
#undef WISP_WS

// Hash/equality that let an unordered_map<std::string, ...> be searched with a string_view without
// building a std::string for every probe (encode probes added tokens at many positions).
struct SvHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};
using StringIdMap = std::unordered_map<std::string, int, SvHash, std::equal_to<>>;

// Copies `in`, replacing each ill-formed sequence with U+FFFD exactly like Python's
// bytes.decode("utf-8", errors="replace") and Rust's from_utf8_lossy (which HF uses): one U+FFFD per
// "maximal subpart", i.e. a valid lead byte plus the continuation bytes that were still acceptable.
std::string to_valid_utf8(std::string_view in) {
  static constexpr std::string_view kReplacement = "\xEF\xBF\xBD";
  std::string out;
  out.reserve(in.size());
  size_t i = 0;
  while (i < in.size()) {
    const auto b = static_cast<unsigned char>(in[i]);
    if (b < 0x80) {
      out += static_cast<char>(b);
      ++i;
      continue;
    }
    // Continuation bytes needed and the allowed range of the first one (the ranges exclude overlong
    // forms, surrogates and code points above U+10FFFF, as the Unicode table 3-7 says).
    int need = 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (b >= 0xC2 && b <= 0xDF) {
      need = 1;
    } else if (b >= 0xE0 && b <= 0xEF) {
      need = 2, lo = b == 0xE0 ? 0xA0 : 0x80, hi = b == 0xED ? 0x9F : 0xBF;
    } else if (b >= 0xF0 && b <= 0xF4) {
      need = 3, lo = b == 0xF0 ? 0x90 : 0x80, hi = b == 0xF4 ? 0x8F : 0xBF;
    } else {  // a stray continuation byte or a byte that never starts a sequence
      out += kReplacement;
      ++i;
      continue;
    }
    size_t j = i + 1;
    int got = 0;
    while (got < need && j < in.size()) {
      const auto c = static_cast<unsigned char>(in[j]);
      if (c < lo || c > hi) break;
      lo = 0x80, hi = 0xBF;
      ++got, ++j;
    }
    if (got == need) {
      out.append(in.substr(i, j - i));
    } else {
      out += kReplacement;  // the offending byte (if any) is looked at again as a new start
    }
    i = j;
  }
  return out;
}

// GPT-2's bytes_to_unicode(): every byte gets a printable code point so BPE tokens are printable
// strings. Printable Latin-1 bytes map to themselves, the other 68 to U+0100 onwards in byte order.
struct ByteLevelTable {
  std::array<std::string, 256> byte_to_utf8;  // byte -> UTF-8 of its code point
  std::array<int, 512> cp_to_byte;            // code point -> byte, -1 if not a byte-level char

  ByteLevelTable() {
    cp_to_byte.fill(-1);
    uint32_t next = 256;
    for (uint32_t b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      const uint32_t cp = printable ? b : next++;  // all below U+0144: one or two UTF-8 bytes
      if (cp < 0x80) {
        byte_to_utf8[b] = std::string(1, static_cast<char>(cp));
      } else {
        byte_to_utf8[b] = {static_cast<char>(0xC0 | (cp >> 6)), static_cast<char>(0x80 | (cp & 0x3F))};
      }
      cp_to_byte[cp] = static_cast<int>(b);
    }
  }
};

const ByteLevelTable& byte_level() {
  static const ByteLevelTable table;
  return table;
}

// Byte-level token text (valid UTF-8 from the JSON) -> raw bytes; false if a char is not byte-level.
bool byte_level_to_bytes(std::string_view text, std::string& out) {
  const auto& table = byte_level();
  for (size_t i = 0; i < text.size();) {
    const auto b = static_cast<unsigned char>(text[i]);
    uint32_t cp = 0;
    size_t len = 1;
    if (b < 0x80) {
      cp = b;
    } else if ((b & 0xE0) == 0xC0 && i + 1 < text.size()) {
      cp = ((b & 0x1Fu) << 6) | (static_cast<unsigned char>(text[i + 1]) & 0x3Fu), len = 2;
    } else {
      return false;  // byte-level chars are all below U+0800
    }
    if (cp >= table.cp_to_byte.size() || table.cp_to_byte[cp] < 0) return false;
    out += static_cast<char>(table.cp_to_byte[cp]);
    i += len;
  }
  return true;
}

// Added tokens ("<|endoftext|>", "<|0.00|>", ...) that encode() must split out of the text before BPE,
// as HF's AddedVocabulary does: leftmost match, longest at that position.
struct AddedTokenSet {
  StringIdMap by_text;
  std::array<bool, 256> first_byte{};  // cheap filter: only positions starting with one of these bytes
  size_t min_len = SIZE_MAX, max_len = 0;

  void add(const std::string& text, int id) {
    if (text.empty()) return;
    by_text.emplace(text, id);
    first_byte[static_cast<unsigned char>(text[0])] = true;
    min_len = std::min(min_len, text.size());
    max_len = std::max(max_len, text.size());
  }

  // Cuts the leftmost-longest added tokens out of s, appending their ids; on_text gets the text
  // before, between and after them (possibly empty).
  template <class OnText>
  void split(std::string_view s, std::vector<int>& ids, OnText&& on_text) const {
    size_t from = 0;
    for (size_t p = 0; !by_text.empty() && p + min_len <= s.size(); ++p) {
      if (!first_byte[static_cast<unsigned char>(s[p])]) continue;
      for (size_t len = std::min(max_len, s.size() - p); len >= min_len; --len) {
        auto it = by_text.find(s.substr(p, len));
        if (it == by_text.end()) continue;
        on_text(s.substr(from, p - from));
        ids.push_back(it->second);
        from = p + len;
        p = from - 1;  // continue after the token
        break;
      }
    }
    on_text(s.substr(from));
  }
};

struct Pcre2CodeDeleter {
  void operator()(pcre2_code* code) const { pcre2_code_free(code); }
};
struct Pcre2MatchDataDeleter {
  void operator()(pcre2_match_data* md) const { pcre2_match_data_free(md); }
};

uint64_t pair_key(int left, int right) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
}

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw Error(ErrorKind::Model, "tokenizer file " + path + ": " + what);
}

}  // namespace

struct Tokenizer::Tables {
  std::vector<std::string> id_bytes;  // raw bytes of each model.vocab id ("" for gaps)
  std::array<int, 256> byte_token{};  // id of the single-byte token for each byte
  struct Merge {
    int rank;
    int id;  // the merged token
  };
  std::unordered_map<uint64_t, Merge> merges;           // (left id, right id) -> merge
  AddedTokenSet special_added, other_added;             // HF splits on special ones first, then the others
  std::unordered_map<int, std::string> added_text;      // id -> "<|...|>"
  std::vector<std::pair<int, std::string>> languages;   // (id, code) in id order
  std::unordered_map<std::string, int> language_ids;    // code -> id
  std::unique_ptr<pcre2_code, Pcre2CodeDeleter> regex;  // shared read-only across threads
  int vocab_size = 0;

  // BPE of one pre-token (raw bytes), appending ids. Like HF's Word::merge_all: always merge the
  // lowest-ranked adjacent pair, leftmost on ties, using a heap of candidate pairs with lazy removal
  // of stale ones, so a long run without spaces costs O(n log n) rather than O(n^2).
  void bpe(std::string_view piece, std::vector<int>& out) const {
    if (piece.size() <= 1) {  // the common case of punctuation and single letters
      if (!piece.empty()) out.push_back(byte_token[static_cast<unsigned char>(piece[0])]);
      return;
    }
    struct Symbol {
      int id;          // -1 once merged into its left neighbour
      int prev, next;  // neighbours' indices, -1 at the ends
    };
    struct Candidate {
      int rank, pos, id;
      bool operator>(const Candidate& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
    };
    const int n = static_cast<int>(piece.size());
    std::vector<Symbol> syms;
    syms.reserve(piece.size());
    for (int i = 0; i < n; ++i)
      syms.push_back({byte_token[static_cast<unsigned char>(piece[i])], i - 1, i + 1 < n ? i + 1 : -1});
    auto merge_at = [&](int pos) -> const Merge* {  // the merge of the pair starting at pos, if any
      const Symbol& s = syms[pos];
      if (s.id < 0 || s.next < 0) return nullptr;
      auto it = merges.find(pair_key(s.id, syms[s.next].id));
      return it == merges.end() ? nullptr : &it->second;
    };
    std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> heap;
    auto push = [&](int pos) {
      if (const Merge* m = merge_at(pos)) heap.push({m->rank, pos, m->id});
    };
    for (int i = 0; i + 1 < n; ++i) push(i);
    while (!heap.empty()) {
      const Candidate c = heap.top();
      heap.pop();
      // Ranks are unique per pair, so an unchanged rank means the pair at pos is still the same one.
      const Merge* m = merge_at(c.pos);
      if (!m || m->rank != c.rank) continue;
      Symbol& s = syms[c.pos];
      Symbol& right = syms[s.next];
      s.id = c.id;
      s.next = right.next;
      if (s.next >= 0) syms[s.next].prev = c.pos;
      right.id = -1;
      if (s.prev >= 0) push(s.prev);
      push(c.pos);
    }
    for (int i = 0; i >= 0; i = syms[i].next) out.push_back(syms[i].id);
  }

  // Text without added tokens: split with GPT-2's regex, BPE each piece. `text` is valid UTF-8.
  void encode_ordinary(std::string_view text, std::vector<int>& out) const {
    if (text.empty()) return;
    std::unique_ptr<pcre2_match_data, Pcre2MatchDataDeleter> md(
        pcre2_match_data_create_from_pattern(regex.get(), nullptr));
    if (!md) throw Error(ErrorKind::Internal, "tokenizer: out of memory for regex match data");
    const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
    size_t offset = 0;
    while (offset < text.size()) {
      // The caller checked the UTF-8 once; without NO_UTF_CHECK PCRE2 would re-check every call.
      const int rc =
          pcre2_match(regex.get(), subject, text.size(), offset, PCRE2_NO_UTF_CHECK, md.get(), nullptr);
      if (rc == PCRE2_ERROR_NOMATCH) {
        bpe(text.substr(offset), out);  // HF keeps unmatched text as a piece (cannot happen with this regex)
        return;
      }
      if (rc < 0)
        throw Error(ErrorKind::Internal,
                    "tokenizer: regex match failed (PCRE2 error " + std::to_string(rc) + ")");
      const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md.get());
      if (ov[1] <= ov[0]) throw Error(ErrorKind::Internal, "tokenizer: empty regex match");
      if (ov[0] > offset) bpe(text.substr(offset, ov[0] - offset), out);
      bpe(text.substr(ov[0], ov[1] - ov[0]), out);
      offset = ov[1];
    }
  }
};

Tokenizer Tokenizer::from_model_dir(const std::string& dir, bool multilingual) {
  const std::string path = dir + "/tokenizer.json";
  // Only a regular file of sane size: a FIFO would block, /dev/zero never end. The error names the file.
  std::string file_text = *read_regular_file(path, kMaxJsonBytes, ErrorKind::Model);

  auto tables = std::make_shared<Tables>();
  Tokenizer tok;
  tok.multilingual_ = multilingual;
  StringIdMap added_ids;  // every added token's text -> id, for the special-token lookups below
  {
    TokenizerJson json = read_tokenizer_json(file_text, path);
    std::string().swap(file_text);
    if (!json.model_type.empty() && json.model_type != "BPE") fail(path, "model.type is not BPE");

    // Vocab: byte-level text -> id (a token given twice: its last id, as a JSON object reads). Kept as text
    // only until the merges are resolved to ids.
    StringIdMap vocab;
    vocab.reserve(json.vocab.size());
    int max_id = -1;
    for (auto& [text, id] : json.vocab) {
      vocab.insert_or_assign(std::move(text), id);
      max_id = std::max(max_id, id);
    }
    std::vector<std::pair<std::string, int>>().swap(json.vocab);
    tables->id_bytes.resize(static_cast<size_t>(max_id + 1));
    for (const auto& [text, id] : vocab) {
      std::string& bytes = tables->id_bytes[static_cast<size_t>(id)];
      if (!bytes.empty()) fail(path, "vocab id used twice: " + std::to_string(id));
      if (!byte_level_to_bytes(text, bytes)) fail(path, "vocab token is not byte-level text: " + text);
    }
    for (int b = 0; b < 256; ++b) {
      auto it = vocab.find(byte_level().byte_to_utf8[static_cast<size_t>(b)]);
      if (it == vocab.end()) fail(path, "vocab lacks the token for byte " + std::to_string(b));
      tables->byte_token[static_cast<size_t>(b)] = it->second;
    }

    // Merges in rank order (newer files write ["a", "b"], older ones "a b": both read as pairs).
    tables->merges.reserve(json.merges.size());
    int rank = 0;
    std::string joined;
    for (const auto& [left, right] : json.merges) {
      joined.assign(left).append(right);
      auto l = vocab.find(left), r = vocab.find(right), merged = vocab.find(joined);
      if (l == vocab.end() || r == vocab.end() || merged == vocab.end()) {
        fail(path, "merge names a token missing from the vocab: " + left + " " + right);
      }
      // A repeated pair keeps its first (lowest) rank, as HF does.
      tables->merges.emplace(pair_key(l->second, r->second), Tables::Merge{rank++, merged->second});
    }

    for (const TokenizerJson::Added& t : json.added_tokens) {
      max_id = std::max(max_id, t.id);
      added_ids.emplace(t.content, t.id);
      tables->added_text.emplace(t.id, t.content);
      (t.special ? tables->special_added : tables->other_added).add(t.content, t.id);
    }
    tables->vocab_size = max_id + 1;
  }

  auto special = [&](std::string_view text, std::string_view alt = {}) {
    auto it = added_ids.find(text);
    if (it == added_ids.end() && !alt.empty()) it = added_ids.find(alt);
    if (it == added_ids.end()) fail(path, "added_tokens lacks " + std::string(text));
    return it->second;
  };
  tok.eot_ = special("<|endoftext|>");
  tok.sot_ = special("<|startoftranscript|>");
  tok.translate_ = special("<|translate|>");
  tok.transcribe_ = special("<|transcribe|>");
  tok.sot_lm_ = special("<|startoflm|>");
  tok.sot_prev_ = special("<|startofprev|>");
  tok.no_speech_ = special("<|nospeech|>", "<|nocaptions|>");
  tok.no_timestamps_ = special("<|notimestamps|>");
  // decode() treats every id below eot as ordinary text; a vocab id above it would be silently lost.
  if (tables->id_bytes.size() > static_cast<size_t>(tok.eot_) + 1)
    fail(path, "model.vocab has ids above <|endoftext|>");

  // openai/whisper numbers languages sot+1, sot+2, ... up to translate-1; that is what we rely on.
  for (const auto& [id, text] : tables->added_text) {
    if (id > tok.sot_ && id < tok.translate_ && text.size() > 4 && text.starts_with("<|") &&
        text.ends_with("|>")) {
      tables->languages.emplace_back(id, text.substr(2, text.size() - 4));
    }
  }
  std::sort(tables->languages.begin(), tables->languages.end());
  for (const auto& [id, code] : tables->languages) tables->language_ids.emplace(code, id);

  int err = 0;
  PCRE2_SIZE err_offset = 0;
  tables->regex.reset(pcre2_compile(reinterpret_cast<PCRE2_SPTR>(kGpt2Pattern), PCRE2_ZERO_TERMINATED,
                                    PCRE2_UTF | PCRE2_UCP, &err, &err_offset, nullptr));
  if (!tables->regex)
    throw Error(ErrorKind::Internal,
                "tokenizer: GPT-2 regex does not compile (PCRE2 " + std::to_string(err) + ")");
  // JIT is only a speed-up: pcre2_match falls back to the interpreter when it is not available.
  pcre2_jit_compile(tables->regex.get(), PCRE2_JIT_COMPLETE);

  tok.tables_ = std::move(tables);
  return tok;
}

std::vector<int> Tokenizer::encode(const std::string& input) const {
  const std::string text = to_valid_utf8(input);
  std::vector<int> out;
  // Like HF: special added tokens are split out first, then non-special ones (the multilingual file's
  // timestamps) from the text between them; BPE sees only what is left.
  tables_->special_added.split(text, out, [&](std::string_view piece) {
    tables_->other_added.split(piece, out,
                               [&](std::string_view rest) { tables_->encode_ordinary(rest, out); });
  });
  return out;
}

std::string Tokenizer::token_bytes(int id) const {
  if (id < 0 || id >= eot_ || static_cast<size_t>(id) >= tables_->id_bytes.size()) return {};
  return tables_->id_bytes[static_cast<size_t>(id)];
}

std::string Tokenizer::decode(const std::vector<int>& ids) const {
  std::string bytes;
  for (int id : ids) {
    if (id >= 0 && id < eot_ && static_cast<size_t>(id) < tables_->id_bytes.size()) {
      bytes += tables_->id_bytes[static_cast<size_t>(id)];
    }
  }
  return to_valid_utf8(bytes);
}

std::string Tokenizer::decode_with_timestamps(const std::vector<int>& ids) const {
  std::string bytes;
  for (int id : ids) {
    if (id >= timestamp_begin()) {
      // Same double arithmetic and "%.2f" rounding as Python's f"{(token - timestamp_begin) * 0.02:.2f}".
      char buf[32];
      std::snprintf(buf, sizeof buf, "<|%.2f|>", (id - timestamp_begin()) * 0.02);
      bytes += buf;
    } else if (id >= eot_) {
      auto it = tables_->added_text.find(id);
      if (it != tables_->added_text.end()) bytes += it->second;
    } else {
      bytes += token_bytes(id);
    }
  }
  return to_valid_utf8(bytes);  // tiktoken also joins all bytes before decoding with errors="replace"
}

int Tokenizer::vocab_size() const { return tables_->vocab_size; }

int Tokenizer::language_token(const std::string& code) const {
  auto it = tables_->language_ids.find(code);
  return it == tables_->language_ids.end() ? -1 : it->second;
}

std::string Tokenizer::language_code(int token) const {
  auto it = std::lower_bound(tables_->languages.begin(), tables_->languages.end(),
                             std::make_pair(token, std::string()));
  return it != tables_->languages.end() && it->first == token ? it->second : std::string();
}

std::vector<std::string> Tokenizer::language_codes() const {
  std::vector<std::string> codes;
  codes.reserve(tables_->languages.size());
  for (const auto& [id, code] : tables_->languages) codes.push_back(code);
  return codes;
}

std::vector<int> Tokenizer::sot_sequence(const std::string& language, bool translate) const {
  std::vector<int> seq{sot_};
  if (!multilingual_) return seq;
  if (!language.empty()) {
    const int lang = language_token(language);
    if (lang < 0) throw Error(ErrorKind::InvalidArgument, "unknown language code: " + language);
    seq.push_back(lang);
  }
  seq.push_back(translate ? translate_ : transcribe_);
  return seq;
}

}  // namespace wisp::decode
