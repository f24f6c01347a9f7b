// Hugging Face tokenizer folders (tokenizer.json, tokenizer_config.json and,
// when present, chat_template.jinja and generation_config.json) read into
// the same Vocab that GGUF metadata fills.
//
// Supported shapes, as real models ship them:
//   BPE + ByteLevel pre-tokenizer (GPT-2, Llama 3, Qwen, DeepSeek V3)  -> kBpe
//   BPE + byte_fallback / "▁" normalizer or Metaspace (Llama 2, Gemma) -> kSpm
//   WordPiece (BERT)                                                   -> kWpm
// Anything else is refused with an Error naming the file and the field, so
// that a model is never tokenized by a pipeline it does not describe.
#include <algorithm>
#include <cctype>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <unordered_map>

#include "base/error.h"
#include "tokenizer/vocab.h"

namespace nomoat {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

const std::string kSpace = "\xE2\x96\x81";  // "▁", SentencePiece's visible space

// The GPT-2 split that a ByteLevel pre-tokenizer with use_regex applies.
const char* const kGpt2Regex = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

// Matches a whole piece: stands for "no split" where a regex list is required.
const char* const kWholeTextRegex = "[\\s\\S]+";

// Ids beyond this are treated as corrupt rather than allocated.
constexpr int64_t kMaxTokenId = 1 << 24;
// Unnamed ids (gaps) are filled, but a few ids far beyond the rest are corrupt.
size_t id_limit(size_t named_ids) { return 2 * named_ids + 4096; }

// A parsed JSON file. Errors name the file and the dotted path of the field.
struct JsonDoc {
  std::string path;
  Json root;

  [[noreturn]] void bad(const std::string& field, const std::string& problem) const {
    fail(path, ": field '", field, "' ", problem);
  }
};

std::string field_path(const std::string& parent, const std::string& key) {
  return parent.empty() ? key : parent + "." + key;
}

std::string index_path(const std::string& parent, size_t i) { return parent + "[" + std::to_string(i) + "]"; }

std::string quoted(const std::string& s) { return "'" + s + "'"; }

JsonDoc read_json(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) fail(file.string(), ": cannot open (", fs::exists(file) ? "unreadable" : "no such file", ")");
  std::stringstream text;
  text << in.rdbuf();
  JsonDoc doc{file.string(), {}};
  try {
    doc.root = Json::parse(text.str());
  } catch (const Json::parse_error& e) {
    fail(doc.path, ": invalid JSON at byte ", static_cast<uint64_t>(e.byte), " (", std::string(e.what()).substr(0, 200),
         ")");
  }
  if (!doc.root.is_object()) fail(doc.path, ": the top level must be a JSON object");
  return doc;
}

// `obj[key]`, or nullptr when absent or null.
const Json* find_field(const JsonDoc& doc, const Json& obj, const std::string& parent, const char* key) {
  if (!obj.is_object()) doc.bad(parent, "must be an object");
  const auto it = obj.find(key);
  return it == obj.end() || it->is_null() ? nullptr : &*it;
}

const Json& need_field(const JsonDoc& doc, const Json& obj, const std::string& parent, const char* key) {
  const Json* value = find_field(doc, obj, parent, key);
  if (value == nullptr) doc.bad(field_path(parent, key), "is missing");
  return *value;
}

std::string string_field(const JsonDoc& doc, const Json& obj, const std::string& parent, const char* key,
                         const std::string& fallback = "") {
  const Json* value = find_field(doc, obj, parent, key);
  if (value == nullptr) return fallback;
  if (!value->is_string()) doc.bad(field_path(parent, key), "must be a string");
  return value->get<std::string>();
}

bool bool_field(const JsonDoc& doc, const Json& obj, const std::string& parent, const char* key, bool fallback) {
  const Json* value = find_field(doc, obj, parent, key);
  if (value == nullptr) return fallback;
  if (!value->is_boolean()) doc.bad(field_path(parent, key), "must be true or false");
  return value->get<bool>();
}

const Json& array_field(const JsonDoc& doc, const Json& obj, const std::string& parent, const char* key) {
  const Json& value = need_field(doc, obj, parent, key);
  if (!value.is_array()) doc.bad(field_path(parent, key), "must be an array");
  return value;
}

// tokenizer_config.json spells a token as "text", {"content": "text", ...} or null.
std::string token_text_field(const JsonDoc& doc, const Json& obj, const char* key) {
  const Json* value = find_field(doc, obj, "", key);
  if (value == nullptr) return "";
  if (value->is_string()) return value->get<std::string>();
  if (value->is_object()) return string_field(doc, *value, key, "content");
  doc.bad(key, "must be a string or an object with 'content'");
}

// ---------------------------------------------------------------- vocabulary

// Fills tokens from model.vocab ({"text": id}), sized to the largest id.
void read_model_vocab(const JsonDoc& doc, const Json& model, size_t added_count, Vocab& v, std::vector<bool>& filled) {
  const Json& vocab = need_field(doc, model, "model", "vocab");
  if (!vocab.is_object()) {
    doc.bad("model.vocab", vocab.is_array() ? "is a list of [piece, score] pairs (a Unigram vocabulary)"
                                            : "must be an object mapping token text to id");
  }
  if (vocab.empty()) doc.bad("model.vocab", "is empty");
  const int64_t limit = static_cast<int64_t>(id_limit(vocab.size() + added_count));
  for (const auto& [text, id_value] : vocab.items()) {
    if (!id_value.is_number_integer()) doc.bad("model.vocab", "entry " + quoted(text) + " has a non-integer id");
    const int64_t id = id_value.get<int64_t>();
    if (id < 0 || id >= limit)
      doc.bad("model.vocab", "entry " + quoted(text) + " has id " + std::to_string(id) + " out of range");
    const auto index = static_cast<size_t>(id);
    if (index >= v.tokens.size()) {
      v.tokens.resize(index + 1);
      filled.resize(index + 1, false);
    }
    if (filled[index]) doc.bad("model.vocab", "gives id " + std::to_string(id) + " to two tokens");
    v.tokens[index] = text;
    filled[index] = true;
  }
}

struct AddedToken {
  TokenId id;
  std::string content;
  bool special;
  uint8_t strip;  // Vocab::kStripLeft / kStripRight from lstrip / rstrip
};

std::vector<AddedToken> read_added_tokens(const JsonDoc& doc) {
  std::vector<AddedToken> added;
  const Json* list = find_field(doc, doc.root, "", "added_tokens");
  if (list == nullptr) return added;
  if (!list->is_array()) doc.bad("added_tokens", "must be an array");
  for (size_t i = 0; i < list->size(); ++i) {
    const Json& entry = (*list)[i];
    const std::string where = index_path("added_tokens", i);
    const Json& id_value = need_field(doc, entry, where, "id");
    if (!id_value.is_number_integer() || id_value.get<int64_t>() < 0 || id_value.get<int64_t>() >= kMaxTokenId) {
      doc.bad(where + ".id", "must be a token id");
    }
    const std::string content = string_field(doc, entry, where, "content");
    if (content.empty()) doc.bad(where + ".content", "is missing or empty");
    const uint8_t strip = (bool_field(doc, entry, where, "lstrip", false) ? Vocab::kStripLeft : 0) |
                          (bool_field(doc, entry, where, "rstrip", false) ? Vocab::kStripRight : 0);
    added.push_back({static_cast<TokenId>(id_value.get<int64_t>()), content,
                     bool_field(doc, entry, where, "special", false), strip});
  }
  return added;
}

// Added tokens take their ids (overlaying model.vocab where both name one);
// ids that nothing names become unused placeholders.
void place_added_tokens(const JsonDoc& doc, const std::vector<AddedToken>& added, Vocab& v, std::vector<bool>& filled) {
  const size_t limit = id_limit(v.tokens.size() + added.size());
  for (const AddedToken& t : added) {
    const auto index = static_cast<size_t>(t.id);
    if (index >= limit)
      doc.bad("added_tokens", "gives " + quoted(t.content) + " id " + std::to_string(t.id) + ", out of range");
    if (index >= v.tokens.size()) {
      v.tokens.resize(index + 1);
      filled.resize(index + 1, false);
    }
  }
  v.types.assign(v.tokens.size(), TokenType::kNormal);
  for (const AddedToken& t : added) {
    const auto index = static_cast<size_t>(t.id);
    v.tokens[index] = t.content;
    filled[index] = true;
    v.types[index] = t.special ? TokenType::kControl : TokenType::kUserDefined;
    if (t.strip != 0) {
      v.strip.resize(v.tokens.size(), 0);
      v.strip[index] = t.strip;
    }
  }
  for (size_t i = 0; i < v.tokens.size(); ++i) {
    if (!filled[i]) {
      v.tokens[i] = "[PAD" + std::to_string(i) + "]";
      v.types[i] = TokenType::kUnused;
    }
  }
}

// merges as "left right" strings (tokenizers < 0.20) or [left, right] pairs.
std::vector<std::pair<std::string, std::string>> read_merges(const JsonDoc& doc, const Json& model) {
  const Json& list = array_field(doc, model, "model", "merges");
  std::vector<std::pair<std::string, std::string>> merges;
  merges.reserve(list.size());
  for (size_t i = 0; i < list.size(); ++i) {
    const Json& m = list[i];
    if (m.is_string()) {
      const std::string s = m.get<std::string>();
      const size_t space = s.find(' ', 1);
      if (space == std::string::npos) doc.bad(index_path("model.merges", i), "is not \"left right\"");
      merges.emplace_back(s.substr(0, space), s.substr(space + 1));
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      merges.emplace_back(m[0].get<std::string>(), m[1].get<std::string>());
    } else {
      doc.bad(index_path("model.merges", i), "must be \"left right\" or [left, right]");
    }
  }
  return merges;
}

// ---------------------------------------------------------------- pipelines

// The pre_tokenizer as a flat list (a Sequence's members, or the one step).
std::vector<std::pair<const Json*, std::string>> pre_tokenizer_steps(const JsonDoc& doc) {
  std::vector<std::pair<const Json*, std::string>> steps;
  const Json* pre = find_field(doc, doc.root, "", "pre_tokenizer");
  if (pre == nullptr) return steps;
  if (string_field(doc, *pre, "pre_tokenizer", "type") == "Sequence") {
    const Json& list = array_field(doc, *pre, "pre_tokenizer", "pretokenizers");
    for (size_t i = 0; i < list.size(); ++i) steps.emplace_back(&list[i], index_path("pre_tokenizer.pretokenizers", i));
  } else {
    steps.emplace_back(pre, "pre_tokenizer");
  }
  return steps;
}

std::vector<std::pair<const Json*, std::string>> normalizer_steps(const JsonDoc& doc) {
  std::vector<std::pair<const Json*, std::string>> steps;
  const Json* norm = find_field(doc, doc.root, "", "normalizer");
  if (norm == nullptr) return steps;
  if (string_field(doc, *norm, "normalizer", "type") == "Sequence") {
    const Json& list = array_field(doc, *norm, "normalizer", "normalizers");
    for (size_t i = 0; i < list.size(); ++i) steps.emplace_back(&list[i], index_path("normalizer.normalizers", i));
  } else {
    steps.emplace_back(norm, "normalizer");
  }
  return steps;
}

// A Split/Replace pattern: {"Regex": "..."} or {"String": "..."} (literal).
struct Pattern {
  bool is_regex = false;
  std::string text;
};

Pattern read_pattern(const JsonDoc& doc, const Json& step, const std::string& where) {
  const Json& pattern = need_field(doc, step, where, "pattern");
  const std::string path = where + ".pattern";
  if (find_field(doc, pattern, path, "Regex") != nullptr) return {true, string_field(doc, pattern, path, "Regex")};
  if (find_field(doc, pattern, path, "String") != nullptr) return {false, string_field(doc, pattern, path, "String")};
  doc.bad(path, "must hold 'Regex' or 'String'");
}

// A literal as a PCRE2 pattern.
std::string escape_regex(const std::string& literal) {
  std::string out;
  for (char c : literal) {
    if (std::string_view("\\^$.|?*+()[]{}-/#&~").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

// Hugging Face writes the contraction group with a case-insensitive flag.
// Under Unicode case folding "'s" would also match "'ſ" (U+017F); llama.cpp's
// tables and the JavaScript port spell the cases out, and so do we, so that
// all three split alike.
std::string spell_out_contractions(std::string regex) {
  const std::string folded = "(?i:'s|'t|'re|'ve|'m|'ll|'d)";
  const std::string spelled = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])";
  for (size_t pos = 0; (pos = regex.find(folded, pos)) != std::string::npos; pos += spelled.size()) {
    regex.replace(pos, folded.size(), spelled);
  }
  return regex;
}

// tokenizer.ggml.pre names whose regex lists may equal what a tokenizer.json
// describes; the first whose list is identical names the vocabulary.
const char* const kKnownPreNames[] = {
    "llama-bpe",      "llama3",    "qwen2",     "deepseek-v3", "gpt-2",   "default",   "deepseek-llm",
    "deepseek-coder", "falcon",    "starcoder", "refact",      "mpt",     "gpt-4o",    "tekken",
    "smollm",         "command-r", "llama4",    "qwen35",      "kimi-k2", "olmo",      "dbrx",
    "stablelm2",      "bloom",     "jais",      "poro-chat",   "viking",  "smaug-bpe", "chatglm-bpe",
};

std::string matching_pre_name(const std::vector<std::string>& regexes) {
  for (const char* name : kKnownPreNames) {
    std::vector<std::string> known;
    try {
      known = pre_tokenizer_regexes(name);
    } catch (const Error&) {
      continue;  // not a name this build knows
    }
    for (std::string& r : known) r = spell_out_contractions(r);
    if (known == regexes) return name;
  }
  return "hf-custom";
}

// Byte-level BPE: Split(Regex, Isolated) and Digits steps, then ByteLevel.
void configure_byte_level(const JsonDoc& doc, Vocab& v) {
  v.kind = TokenizerKind::kBpe;
  v.model = "gpt2";
  bool byte_level = false;
  for (const auto& [step, where] : pre_tokenizer_steps(doc)) {
    const std::string type = string_field(doc, *step, where, "type");
    if (byte_level) doc.bad(where + ".type", "is " + quoted(type) + " after ByteLevel; ByteLevel must come last");
    if (type == "Split") {
      const Pattern pattern = read_pattern(doc, *step, where);
      const std::string behavior = string_field(doc, *step, where, "behavior", "Isolated");
      if (behavior != "Isolated")
        doc.bad(where + ".behavior", "is " + quoted(behavior) + "; only 'Isolated' is supported");
      if (bool_field(doc, *step, where, "invert", false)) doc.bad(where + ".invert", "true is not supported");
      v.pre_regexes.push_back(pattern.is_regex ? spell_out_contractions(pattern.text) : escape_regex(pattern.text));
    } else if (type == "Digits") {
      v.pre_regexes.push_back(bool_field(doc, *step, where, "individual_digits", false) ? "\\p{N}" : "\\p{N}+");
    } else if (type == "ByteLevel") {
      if (bool_field(doc, *step, where, "add_prefix_space", false)) {
        doc.bad(where + ".add_prefix_space", "true is not supported for byte-level BPE");
      }
      if (bool_field(doc, *step, where, "use_regex", true)) v.pre_regexes.push_back(kGpt2Regex);
      byte_level = true;
    } else {
      doc.bad(where + ".type", "is " + quoted(type) + "; byte-level BPE supports Split, Digits and ByteLevel");
    }
  }
  if (!byte_level) doc.bad("pre_tokenizer", "has no ByteLevel step (needed by BPE without byte_fallback)");
  for (const auto& [step, where] : normalizer_steps(doc)) {
    const std::string type = string_field(doc, *step, where, "type");
    if (type != "NFC" && type != "NFD" && type != "NFKC") {
      doc.bad(where + ".type", "is " + quoted(type) + "; byte-level BPE supports NFC, NFD and NFKC normalizers");
    }
    if (!v.normalization.empty()) doc.bad(where, "is a second Unicode normalization");
    v.normalization = type;
  }
  v.pre = matching_pre_name(v.pre_regexes);
  if (v.pre_regexes.empty()) v.pre_regexes.push_back(kWholeTextRegex);
}

// Scores for SentencePiece-style merging (highest score first) that give
// the order of the merge list: a token scores -(rank of the first merge
// producing it); tokens no merge produces score below every merge.
std::vector<float> scores_from_merge_ranks(const Vocab& v,
                                           const std::vector<std::pair<std::string, std::string>>& merges) {
  std::unordered_map<std::string, TokenId> ids;
  ids.reserve(v.tokens.size());
  for (size_t i = 0; i < v.tokens.size(); ++i) ids.emplace(v.tokens[i], static_cast<TokenId>(i));
  const float never = -static_cast<float>(merges.size()) - 1.0f;
  std::vector<float> scores(v.tokens.size(), never);
  std::vector<bool> scored(v.tokens.size(), false);
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const auto it = ids.find(merges[rank].first + merges[rank].second);
    if (it == ids.end() || scored[static_cast<size_t>(it->second)]) continue;
    scores[static_cast<size_t>(it->second)] = -static_cast<float>(rank);
    scored[static_cast<size_t>(it->second)] = true;
  }
  return scores;
}

bool is_byte_token(const std::string& t) {
  return t.size() == 6 && t.compare(0, 3, "<0x") == 0 && t[5] == '>' &&
         std::isxdigit(static_cast<unsigned char>(t[3])) && std::isxdigit(static_cast<unsigned char>(t[4]));
}

// BPE over "▁"-escaped text with byte fallback, as SentencePiece models are
// converted (Llama 2, Mistral, Gemma).
void configure_sentencepiece(const JsonDoc& doc, const Json& model, Vocab& v) {
  v.kind = TokenizerKind::kSpm;
  v.model = "llama";
  v.pre = "default";
  bool spaces_escaped = false;
  for (const auto& [step, where] : normalizer_steps(doc)) {
    const std::string type = string_field(doc, *step, where, "type");
    if (type == "Prepend") {
      if (string_field(doc, *step, where, "prepend") != kSpace) doc.bad(where + ".prepend", "must be \"▁\"");
      v.add_space_prefix = true;
    } else if (type == "Replace") {
      const Pattern pattern = read_pattern(doc, *step, where);
      if (pattern.is_regex || pattern.text != " " || string_field(doc, *step, where, "content") != kSpace) {
        doc.bad(where, "must replace \" \" with \"▁\"");
      }
      spaces_escaped = true;
    } else if (type == "NFC" || type == "NFKC" || type == "NFD") {
      v.normalization = type;
    } else {
      doc.bad(where + ".type",
              "is " + quoted(type) + "; SentencePiece-style BPE supports Prepend, Replace and NFC/NFKC/NFD");
    }
  }
  for (const auto& [step, where] : pre_tokenizer_steps(doc)) {
    const std::string type = string_field(doc, *step, where, "type");
    if (type == "Metaspace") {
      if (string_field(doc, *step, where, "replacement", kSpace) != kSpace)
        doc.bad(where + ".replacement", "must be \"▁\"");
      if (bool_field(doc, *step, where, "split", true))
        doc.bad(where + ".split", "true (splitting into words at \"▁\") is not supported");
      const std::string scheme =
          string_field(doc, *step, where, "prepend_scheme",
                       bool_field(doc, *step, where, "add_prefix_space", true) ? "always" : "never");
      // "first" prepends only before the start of the input, not after
      // special tokens; nomoat prepends at both, like the Prepend normalizer.
      v.add_space_prefix = scheme != "never";
      spaces_escaped = true;
    } else if (type == "Split" && spaces_escaped) {
      // Splitting on " " after spaces became "▁" finds nothing (Gemma 3).
      const Pattern pattern = read_pattern(doc, *step, where);
      if (pattern.is_regex || pattern.text != " ") doc.bad(where + ".pattern", "must be the string \" \"");
    } else {
      doc.bad(where + ".type", "is " + quoted(type) + "; SentencePiece-style BPE supports Metaspace only");
    }
  }
  if (!spaces_escaped)
    doc.bad("normalizer", "does not replace spaces with \"▁\" (no Replace normalizer or Metaspace pre-tokenizer)");
  const bool byte_fallback = bool_field(doc, model, "model", "byte_fallback", false);
  const auto merges = read_merges(doc, model);
  v.scores = scores_from_merge_ranks(v, merges);
  for (size_t i = 0; i < v.tokens.size(); ++i) {
    if (byte_fallback && v.types[i] == TokenType::kNormal && is_byte_token(v.tokens[i])) v.types[i] = TokenType::kByte;
    // User-defined tokens are matched in, and decoded to, raw text, so they
    // hold real spaces (Gemma's "▁▁" runs), as llama.cpp's converter writes them.
    if (v.types[i] == TokenType::kUserDefined) {
      std::string& t = v.tokens[i];
      for (size_t pos = 0; (pos = t.find(kSpace, pos)) != std::string::npos; ++pos) t.replace(pos, kSpace.size(), " ");
    }
  }
}

// WordPiece, with tokens renamed to GGUF "bert" conventions: a word-initial
// piece gains a leading "▁", a continuation piece loses its "##".
void configure_wordpiece(const JsonDoc& doc, const Json& model, Vocab& v) {
  v.kind = TokenizerKind::kWpm;
  v.model = "bert";
  v.pre = "default";
  v.add_space_prefix = true;
  v.clean_spaces = true;
  const std::string prefix = string_field(doc, model, "model", "continuing_subword_prefix", "##");
  for (size_t i = 0; i < v.tokens.size(); ++i) {
    std::string& t = v.tokens[i];
    if (v.types[i] != TokenType::kNormal || (t.size() >= 2 && t.front() == '[' && t.back() == ']')) continue;
    t = !prefix.empty() && t.compare(0, prefix.size(), prefix) == 0 ? t.substr(prefix.size()) : kSpace + t;
  }
  for (const auto& [step, where] : normalizer_steps(doc)) {
    const std::string type = string_field(doc, *step, where, "type");
    if (type == "BertNormalizer") {
      v.lowercase = bool_field(doc, *step, where, "lowercase", true);
    } else if (type == "Lowercase") {
      v.lowercase = true;
    } else if (type != "NFD" && type != "StripAccents") {
      doc.bad(where + ".type",
              "is " + quoted(type) + "; WordPiece supports BertNormalizer, Lowercase, NFD and StripAccents");
    }
  }
  for (const auto& [step, where] : pre_tokenizer_steps(doc)) {
    const std::string type = string_field(doc, *step, where, "type");
    if (type != "BertPreTokenizer" && type != "Whitespace" && type != "WhitespaceSplit" && type != "Punctuation") {
      doc.bad(where + ".type", "is " + quoted(type) + "; WordPiece supports BertPreTokenizer");
    }
  }
}

// --------------------------------------------------------- special tokens

TokenId id_of(const Vocab& v, const std::string& text) {
  if (text.empty()) return kNoToken;
  for (size_t i = 0; i < v.tokens.size(); ++i) {
    if (v.tokens[i] == text) return static_cast<TokenId>(i);
  }
  return kNoToken;
}

// The special tokens a post_processor puts before and after a sequence.
struct TemplateEnds {
  std::string first, last;
};

void scan_post_processor(const JsonDoc& doc, const Json& pp, const std::string& where, TemplateEnds& ends) {
  const std::string type = string_field(doc, pp, where, "type");
  if (type == "Sequence") {
    const Json& list = array_field(doc, pp, where, "processors");
    for (size_t i = 0; i < list.size(); ++i)
      scan_post_processor(doc, list[i], index_path(where + ".processors", i), ends);
  } else if (type == "TemplateProcessing") {
    const Json& single = array_field(doc, pp, where, "single");
    auto special_id = [&](const Json& piece, size_t i) -> std::string {
      const Json* special = find_field(doc, piece, index_path(where + ".single", i), "SpecialToken");
      return special == nullptr ? ""
                                : string_field(doc, *special, index_path(where + ".single", i) + ".SpecialToken", "id");
    };
    if (!single.empty()) {
      ends.first = special_id(single.front(), 0);
      if (single.size() > 1) ends.last = special_id(single.back(), single.size() - 1);
    }
  } else if (type == "BertProcessing" || type == "RobertaProcessing") {
    for (const char* key : {"cls", "sep"}) {
      const Json& pair = need_field(doc, pp, where, key);
      if (!pair.is_array() || pair.empty() || !pair[0].is_string())
        doc.bad(field_path(where, key), "must be [text, id]");
      (std::string(key) == "cls" ? ends.first : ends.last) = pair[0].get<std::string>();
    }
  }
}

// eos_token_id in generation_config.json: an id or a list of ids.
std::vector<TokenId> generation_eos_ids(const fs::path& dir, size_t vocab_size) {
  std::vector<TokenId> ids;
  const fs::path file = dir / "generation_config.json";
  if (!fs::exists(file)) return ids;
  const JsonDoc doc = read_json(file);
  const Json* eos = find_field(doc, doc.root, "", "eos_token_id");
  if (eos == nullptr) return ids;
  const Json list = eos->is_array() ? *eos : Json::array({*eos});
  for (const Json& id : list) {
    // Only a hint for stopping: ids outside the vocabulary are left out.
    if (id.is_number_integer() && id.get<int64_t>() >= 0 && static_cast<size_t>(id.get<int64_t>()) < vocab_size) {
      ids.push_back(static_cast<TokenId>(id.get<int64_t>()));
    }
  }
  return ids;
}

void apply_special_tokens(const JsonDoc& doc, const JsonDoc* config, const Json& model, Vocab& v) {
  TemplateEnds ends;
  if (const Json* pp = find_field(doc, doc.root, "", "post_processor"))
    scan_post_processor(doc, *pp, "post_processor", ends);
  auto config_token = [&](const char* key) {
    return config ? token_text_field(*config, config->root, key) : std::string();
  };
  auto config_flag = [&](const char* key, bool fallback) {
    return config ? bool_field(*config, config->root, "", key, fallback) : fallback;
  };
  const std::string bos_text = config_token("bos_token");
  const std::string eos_text = config_token("eos_token");
  v.bos = id_of(v, bos_text.empty() ? ends.first : bos_text);
  v.eos = id_of(v, eos_text.empty() ? ends.last : eos_text);
  // An explicit add_bos_token/add_eos_token wins (transformers rebuilds the
  // post-processor from it); otherwise the post-processor decides.
  v.add_bos = config_flag("add_bos_token", !ends.first.empty()) && v.bos != kNoToken;
  v.add_eos = config_flag("add_eos_token", !ends.last.empty()) && v.eos != kNoToken;
  std::string unk_text = config_token("unk_token");
  if (unk_text.empty()) unk_text = string_field(doc, model, "model", "unk_token");
  v.unk = id_of(v, unk_text);
  // GGUF marks SentencePiece's and BPE's unknown token as such; llama.cpp's
  // BERT conversions keep [UNK] a control token.
  if (v.unk != kNoToken && v.kind != TokenizerKind::kWpm) v.types[static_cast<size_t>(v.unk)] = TokenType::kUnknown;
  v.pad = id_of(v, config_token("pad_token"));
  v.mask = id_of(v, config_token("mask_token"));
  v.sep = id_of(v, config_token("sep_token"));
  v.cls = id_of(v, config_token("cls_token"));
  if (v.kind == TokenizerKind::kWpm) {
    if (v.cls == kNoToken) v.cls = id_of(v, ends.first.empty() ? "[CLS]" : ends.first);
    if (v.sep == kNoToken) v.sep = id_of(v, ends.last.empty() ? "[SEP]" : ends.last);
    if (v.bos == kNoToken) v.bos = v.cls;
    if (v.eos == kNoToken) v.eos = v.sep;
    v.add_bos = config_flag("add_bos_token", true) && v.cls != kNoToken;
    v.add_eos = config_flag("add_eos_token", true) && v.sep != kNoToken;
  }
}

// chat_template: a string, or a list of {name, template} ("default" wins,
// else the first; the others are kept by name, as transformers picks
// "tool_use" when tools are given); newer repositories keep it in
// chat_template.jinja instead.
std::string read_chat_template(const JsonDoc* config, const fs::path& dir,
                               std::vector<std::pair<std::string, std::string>>& named) {
  if (config != nullptr) {
    if (const Json* t = find_field(*config, config->root, "", "chat_template")) {
      if (t->is_string()) return t->get<std::string>();
      if (!t->is_array()) config->bad("chat_template", "must be a string or a list of {name, template}");
      std::vector<std::pair<std::string, std::string>> all;
      for (size_t i = 0; i < t->size(); ++i) {
        const std::string where = index_path("chat_template", i);
        all.emplace_back(string_field(*config, (*t)[i], where, "name"),
                         string_field(*config, (*t)[i], where, "template"));
      }
      if (all.empty()) return "";
      size_t chosen = 0;
      for (size_t i = 0; i < all.size(); ++i) {
        if (all[i].first == "default") chosen = i;
      }
      for (size_t i = 0; i < all.size(); ++i) {
        if (i != chosen) named.push_back(all[i]);
      }
      return all[chosen].second;
    }
  }
  const fs::path jinja = dir / "chat_template.jinja";
  if (!fs::exists(jinja)) return "";
  std::ifstream in(jinja, std::ios::binary);
  if (!in) fail(jinja.string(), ": cannot open");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Which pipeline a BPE model runs: SentencePiece-style when it falls back
// to bytes or escapes spaces as "▁".
bool is_sentencepiece_style(const JsonDoc& doc, const Json& model) {
  if (bool_field(doc, model, "model", "byte_fallback", false)) return true;
  for (const auto& [step, where] : pre_tokenizer_steps(doc)) {
    if (string_field(doc, *step, where, "type") == "Metaspace") return true;
  }
  for (const auto& [step, where] : normalizer_steps(doc)) {
    if (string_field(doc, *step, where, "type") == "Replace" && string_field(doc, *step, where, "content") == kSpace)
      return true;
  }
  return false;
}

// model.type, or for files written without it, the type its fields imply.
std::string model_type(const JsonDoc& doc, const Json& model) {
  std::string type = string_field(doc, model, "model", "type");
  if (!type.empty()) return type;
  if (find_field(doc, model, "model", "merges") != nullptr) return "BPE";
  const Json* vocab = find_field(doc, model, "model", "vocab");
  if (vocab != nullptr && vocab->is_array()) return "Unigram";
  if (find_field(doc, model, "model", "continuing_subword_prefix") != nullptr) return "WordPiece";
  doc.bad("model.type", "is missing and the model's fields do not imply one");
}

}  // namespace

Vocab load_vocab_hf(const std::string& path) {
  fs::path dir = path;
  if (fs::is_regular_file(dir) && dir.extension() == ".json") dir = dir.parent_path();
  const JsonDoc doc = read_json(dir / "tokenizer.json");
  std::unique_ptr<JsonDoc> config;
  if (fs::exists(dir / "tokenizer_config.json"))
    config = std::make_unique<JsonDoc>(read_json(dir / "tokenizer_config.json"));

  const Json& model = need_field(doc, doc.root, "", "model");
  const std::string type = model_type(doc, model);
  if (type != "BPE" && type != "WordPiece") {
    doc.bad("model.type", "is " + quoted(type) + "; supported models are 'BPE' and 'WordPiece'");
  }
  if (type == "BPE") {
    for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
      if (!string_field(doc, model, "model", key).empty()) doc.bad(field_path("model", key), "is not supported");
    }
  }

  Vocab v;
  std::vector<bool> filled;
  const std::vector<AddedToken> added = read_added_tokens(doc);
  read_model_vocab(doc, model, added.size(), v, filled);
  place_added_tokens(doc, added, v, filled);
  v.ignore_merges = bool_field(doc, model, "model", "ignore_merges", false);

  if (type == "WordPiece") {
    configure_wordpiece(doc, model, v);
  } else if (is_sentencepiece_style(doc, model)) {
    configure_sentencepiece(doc, model, v);
  } else {
    configure_byte_level(doc, v);
    for (const auto& [left, right] : read_merges(doc, model)) {
      if (left.find(' ') != std::string::npos || right.find(' ') != std::string::npos) {
        doc.bad("model.merges",
                "holds a piece with a space (" + quoted(left + " " + right) + "), which GGUF cannot store");
      }
      v.merges.push_back(left + " " + right);
    }
  }
  apply_special_tokens(doc, config.get(), model, v);
  v.chat_template = read_chat_template(config.get(), dir, v.named_chat_templates);
  v.finalize(doc.path);
  // Generation may also stop on ids that only generation_config.json names.
  for (TokenId id : generation_eos_ids(dir, v.size())) {
    if (std::find(v.eog.begin(), v.eog.end(), id) == v.eog.end()) v.eog.push_back(id);
  }
  return v;
}

}  // namespace nomoat
