// Text <-> token ids for every vocabulary kind, with special-token parsing,
// BOS/EOS handling and streaming-safe decoding.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/vocab.h"

namespace nomoat {

// One tokenization algorithm (SPM, BPE, WPM). Sees only plain text: special
// tokens have already been cut out by Tokenizer.
class TokenizerAlgorithm {
 public:
  virtual ~TokenizerAlgorithm() = default;
  // Appends the ids of `text`. `first` is true when the text starts the
  // input or follows a special token (SPM adds its space prefix only then).
  virtual void encode(std::string_view text, bool first, std::vector<TokenId>& out) const = 0;
  // The bytes a token stands for in output text (byte tokens -> that byte,
  // "▁" -> " ", byte-level chars -> their bytes). Control tokens give "".
  virtual std::string token_bytes(TokenId id) const = 0;
};

std::unique_ptr<TokenizerAlgorithm> make_spm_tokenizer(const Vocab& vocab);  // spm.cpp
std::unique_ptr<TokenizerAlgorithm> make_bpe_tokenizer(const Vocab& vocab);  // bpe.cpp
std::unique_ptr<TokenizerAlgorithm> make_wpm_tokenizer(const Vocab& vocab);  // wordpiece.cpp

struct EncodeOptions {
  bool add_special = true;    // BOS/EOS per the vocabulary's add_bos/add_eos
  bool parse_special = true;  // match control-token text in the input as single tokens
};

class Tokenizer {
 public:
  explicit Tokenizer(Vocab vocab);
  ~Tokenizer();
  Tokenizer(Tokenizer&&) noexcept;

  const Vocab& vocab() const { return vocab_; }

  std::vector<TokenId> encode(std::string_view text, const EncodeOptions& options = {}) const;
  // Whole-sequence decode; control tokens are dropped unless `keep_special`.
  std::string decode(const std::vector<TokenId>& ids, bool keep_special = false) const;
  // The text piece of one token as `tokenize` prints it (bytes, may be partial UTF-8).
  std::string token_bytes(TokenId id) const;

  // Incremental decoding for streaming: returns only complete UTF-8, holding
  // back a partial multi-byte sequence until the next token completes it;
  // bytes that cannot form valid UTF-8 come out as U+FFFD.
  class StreamDecoder {
   public:
    // `at_start`: the text begins here, so a SentencePiece vocabulary's
    // prepended space is dropped; false when continuing a prompt.
    explicit StreamDecoder(const Tokenizer& tokenizer, bool keep_special = false, bool at_start = true);
    std::string push(TokenId id);
    std::string flush();  // whatever is held back (invalid bytes become U+FFFD)

   private:
    const Tokenizer& tokenizer_;
    bool keep_special_;
    bool first_ = true;
    std::string pending_;
  };

 private:
  Vocab vocab_;
  std::unique_ptr<TokenizerAlgorithm> algorithm_;
  std::vector<TokenId> special_tokens_;  // matched in input text, longest first
  std::string piece_for_decode(TokenId id, bool keep_special, bool first) const;
};

}  // namespace nomoat
