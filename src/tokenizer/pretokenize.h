// Pre-tokenization: cutting text into words with a list of regexes before
// BPE runs on each word, as llama.cpp does for byte-level BPE vocabularies.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "tokenizer/vocab.h"

namespace nomoat {

// What llama.cpp does for one tokenizer.ggml.pre name. The regexes are the
// ones llama.cpp applies, rewritten where needed so that PCRE2 cuts exactly
// where llama.cpp's std::regex or hand-written splitters cut (see
// pretokenize.cpp). pre_tokenizer_regexes() (vocab.h) returns just the list.
struct PreTokenizerInfo {
  std::vector<std::string> regexes;  // applied in order (see RegexSplitter)
  bool ignore_merges = false;        // a pre-token that is already a token is taken whole
  bool byte_level = true;            // false: BPE over raw UTF-8 (Gemma 4 style), not GPT-2 bytes
};
// Throws Error naming 'tokenizer.ggml.pre' and the value for unknown names.
PreTokenizerInfo pre_tokenizer_info(const std::string& pre);
bool pre_tokenizer_ignores_merges(const std::string& pre);

// Cuts text into pieces with an ordered list of regexes: each regex splits
// every piece left by the previous one, and both its matches and the
// unmatched gaps between them become pieces (llama.cpp's unicode_regex_split).
// Empty pieces are dropped. The regexes are compiled once with PCRE2 in UTF +
// UCP mode (JIT when available); lookarounds never see past a piece.
//
// Invalid UTF-8: the text is decoded the way llama.cpp decodes it (each byte
// that does not start a well-formed sequence becomes U+FFFD; overlong forms
// become their code point) and the pieces are cut from that re-encoded text,
// so the tokens match llama.cpp's. U+180E and surrogate code points are
// matched as an ordinary "other" character (llama.cpp's view of them) but
// kept as they were in the pieces.
//
// A splitter is immutable after construction and safe to share across threads.
class RegexSplitter {
 public:
  // Throws Error naming the regex and PCRE2's message when one does not compile.
  explicit RegexSplitter(const std::vector<std::string>& regexes);
  ~RegexSplitter();
  RegexSplitter(RegexSplitter&&) noexcept;
  RegexSplitter& operator=(RegexSplitter&&) noexcept;

  size_t regex_count() const;

  // Calls on_piece(std::string_view) for each piece of `text`, in order. The
  // pieces point into `text`, or into `storage` when the text had to be
  // repaired; they stay valid while both are unchanged.
  template <typename OnPiece>
  void for_each_piece(std::string_view text, std::string& storage, OnPiece&& on_piece) const {
    split_with_callback(text, storage, &on_piece, [](void* context, std::string_view piece) {
      (*static_cast<std::remove_reference_t<OnPiece>*>(context))(piece);
    });
  }

  // Convenience: the pieces as strings.
  std::vector<std::string> split(std::string_view text) const;

  struct Compiled;  // one PCRE2 program (defined in pretokenize.cpp)

 private:
  using PieceFunction = void (*)(void* context, std::string_view piece);
  void split_with_callback(std::string_view text, std::string& storage, void* context, PieceFunction fn) const;

  std::vector<std::unique_ptr<Compiled>> regexes_;
};

// The bytes llama.cpp tokenizes for `text`: unchanged when it is valid UTF-8,
// otherwise re-encoded from its lenient decoding (see RegexSplitter).
std::string repair_utf8_like_llama(std::string_view text);

}  // namespace nomoat
