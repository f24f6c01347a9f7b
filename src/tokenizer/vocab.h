// A tokenizer vocabulary as one in-memory model, whether it came from GGUF
// metadata (tokenizer.ggml.*) or a Hugging Face tokenizer.json.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace nomoat {

class GgufFile;
class GgufWriter;

using TokenId = int32_t;
inline constexpr TokenId kNoToken = -1;

// Which algorithm turns text into ids.
enum class TokenizerKind {
  kSpm,   // SentencePiece-style BPE over scores, with byte fallback (GGUF "llama")
  kBpe,   // byte-level BPE over merge ranks (GGUF "gpt2")
  kWpm,   // WordPiece (GGUF "bert")
};

// tokenizer.ggml.token_type values.
enum class TokenType : int32_t {
  kUndefined = 0,
  kNormal = 1,
  kUnknown = 2,
  kControl = 3,
  kUserDefined = 4,
  kUnused = 5,
  kByte = 6,
};

struct Vocab {
  TokenizerKind kind = TokenizerKind::kSpm;
  std::string model;  // tokenizer.ggml.model: "llama", "gpt2", "bert"
  std::string pre;    // tokenizer.ggml.pre: pre-tokenizer name ("default", "llama3", "qwen2", ...)
  // Pre-tokenizer regexes applied in order (each splits the pieces of the
  // previous one); resolved from `pre` for GGUF or read from tokenizer.json.
  std::vector<std::string> pre_regexes;

  std::vector<std::string> tokens;  // id -> text as stored (SPM: "▁" for space; BPE: byte-level chars)
  std::vector<float> scores;        // id -> score (SPM); empty if the source had none
  std::vector<TokenType> types;     // id -> type
  std::vector<std::string> merges;  // BPE merges "left right", rank = index
  // Per token (or empty): added tokens that swallow the whitespace beside them
  // when matched in text, as Hugging Face's lstrip/rstrip flags say.
  std::vector<uint8_t> strip;
  static constexpr uint8_t kStripLeft = 1;
  static constexpr uint8_t kStripRight = 2;

  TokenId bos = kNoToken, eos = kNoToken, unk = kNoToken, pad = kNoToken, sep = kNoToken,
          cls = kNoToken, mask = kNoToken, eot = kNoToken;
  std::vector<TokenId> eog;  // every token that ends generation (eos, eot, <|im_end|>, ...)
  bool add_bos = false;
  bool add_eos = false;
  bool add_space_prefix = false;       // SPM/WPM: a space is prepended to the text
  bool remove_extra_whitespaces = false;
  bool ignore_merges = false;          // BPE: a word that is already a token is not split (Llama 3)
  bool clean_spaces = false;           // decoding: remove spaces before punctuation (BERT-style)
  bool lowercase = false;              // WPM: lower-case input
  std::string normalization;           // "", "NFC", "NFKC", "NFD"
  std::string chat_template;           // tokenizer.chat_template ("" if none)
  // Further named templates (HF's list form; GGUF tokenizer.chat_template.<name>
  // listed in tokenizer.chat_templates), e.g. {"tool_use", ...}, "default" excluded.
  std::vector<std::pair<std::string, std::string>> named_chat_templates;

  // Derived lookups, filled by finalize().
  std::unordered_map<std::string, TokenId> token_to_id;
  std::unordered_map<std::string, int32_t> merge_rank;  // "left right" -> rank
  size_t max_token_length = 0;

  size_t size() const { return tokens.size(); }
  TokenType type_of(TokenId id) const { return types.empty() ? TokenType::kNormal : types[static_cast<size_t>(id)]; }
  bool is_control(TokenId id) const { return type_of(id) == TokenType::kControl; }
  uint8_t strip_of(TokenId id) const { return strip.empty() ? 0 : strip[static_cast<size_t>(id)]; }
  TokenId find(const std::string& text) const {
    const auto it = token_to_id.find(text);
    return it == token_to_id.end() ? kNoToken : it->second;
  }

  // Checks consistency (array lengths, ids in range, merges referring to
  // tokens) and builds the lookups. Throws Error naming `source` and the key.
  void finalize(const std::string& source);
};

// Reads tokenizer.ggml.* from a GGUF file. Throws Error naming the file and key.
Vocab load_vocab_gguf(const GgufFile& file);
// Writes tokenizer.ggml.* (and tokenizer.chat_template) keys.
void write_vocab_gguf(const Vocab& vocab, GgufWriter& writer);
// Reads a Hugging Face folder's tokenizer.json (+ tokenizer_config.json when present).
Vocab load_vocab_hf(const std::string& dir);
// GGUF file or HF folder, by what `path` is.
Vocab load_vocab(const std::string& path);

// The regex list for a tokenizer.ggml.pre name; throws Error for unknown names.
std::vector<std::string> pre_tokenizer_regexes(const std::string& pre);

}  // namespace nomoat
