#include "tokenizer/vocab.h"

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "base/error.h"
#include "formats/gguf.h"
#include "formats/gguf_writer.h"
#include "tokenizer/pretokenize.h"

namespace nomoat {
namespace {

constexpr uint64_t kNoneId = 0xffffffffu;  // how GGUF files spell "no such token"

// Texts that end a turn or a document in common chat formats; any of them
// present in a vocabulary is treated as end-of-generation.
const char* const kEndOfGenerationTexts[] = {
    "<|eot_id|>", "<|im_end|>", "<|end|>",   "<end_of_turn>", "<|endoftext|>", "<EOT>",
    "<|eom_id|>", "<|end_of_text|>", "<｜end▁of▁sentence｜>", "<|return|>", "<|call|>",
};

void read_id(const GgufFile& f, const Vocab& v, const char* key, TokenId* out) {
  const GgufValue* value = f.find(key);
  if (value == nullptr) return;
  const uint64_t id = value->as_u64(f.path() + ": key '" + key + "'");
  if (id == kNoneId) {
    *out = kNoToken;
    return;
  }
  if (id >= v.tokens.size()) {
    fail(f.path(), ": key '", key, "' is ", id, " but the vocabulary has only ", v.tokens.size(), " tokens");
  }
  *out = static_cast<TokenId>(id);
}

void read_flag(const GgufFile& f, const char* key, bool* out) {
  if (f.find(key) != nullptr) *out = f.get_bool_or(key, *out);
}

}  // namespace

void Vocab::finalize(const std::string& source) {
  if (tokens.empty()) fail(source, ": the vocabulary has no tokens");
  if (tokens.size() > static_cast<size_t>(INT32_MAX)) fail(source, ": too many tokens");
  if (!scores.empty() && scores.size() != tokens.size()) {
    fail(source, ": tokenizer.ggml.scores has ", scores.size(), " entries for ", tokens.size(), " tokens");
  }
  if (!strip.empty() && strip.size() != tokens.size()) fail(source, ": strip flags do not match the vocabulary");
  if (!types.empty() && types.size() != tokens.size()) {
    fail(source, ": tokenizer.ggml.token_type has ", types.size(), " entries for ", tokens.size(), " tokens");
  }
  token_to_id.clear();
  token_to_id.reserve(tokens.size());
  max_token_length = 0;
  for (size_t i = 0; i < tokens.size(); ++i) {
    // Duplicate texts keep the first id, as other engines do.
    token_to_id.emplace(tokens[i], static_cast<TokenId>(i));
    max_token_length = std::max(max_token_length, tokens[i].size());
  }
  for (TokenId id : {bos, eos, unk, pad, sep, cls, mask, eot}) {
    if (id != kNoToken && (id < 0 || static_cast<size_t>(id) >= tokens.size())) {
      fail(source, ": special token id ", id, " is outside the vocabulary of ", tokens.size());
    }
  }
  merge_rank.clear();
  merge_rank.reserve(merges.size());
  for (size_t i = 0; i < merges.size(); ++i) {
    const std::string& m = merges[i];
    const size_t space = m.find(' ', 1);
    if (space == std::string::npos || space + 1 >= m.size()) {
      fail(source, ": tokenizer.ggml.merges entry ", i, " (\"", m.substr(0, 40), "\") is not \"left right\"");
    }
    merge_rank.emplace(m, static_cast<int32_t>(i));
  }
  if (kind == TokenizerKind::kBpe && merges.empty()) fail(source, ": byte-level BPE vocabulary without tokenizer.ggml.merges");
  if (eot == kNoToken) {
    for (const char* text : {"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<EOT>"}) {
      if (TokenId id = find(text); id != kNoToken) {
        eot = id;
        break;
      }
    }
  }
  eog.clear();
  auto add_eog = [&](TokenId id) {
    if (id != kNoToken && std::find(eog.begin(), eog.end(), id) == eog.end()) eog.push_back(id);
  };
  add_eog(eos);
  add_eog(eot);
  for (const char* text : kEndOfGenerationTexts) {
    const TokenId id = find(text);
    if (id != kNoToken && type_of(id) != TokenType::kNormal) add_eog(id);
  }
  if (pre_regexes.empty() && kind == TokenizerKind::kBpe) pre_regexes = pre_tokenizer_regexes(pre);
}

Vocab load_vocab_gguf(const GgufFile& f) {
  Vocab v;
  v.model = f.get_string("tokenizer.ggml.model");
  if (v.model == "llama") {
    v.kind = TokenizerKind::kSpm;
    v.add_bos = true;
    v.add_space_prefix = true;
    v.bos = 1;
    v.eos = 2;
    v.unk = 0;
  } else if (v.model == "gpt2") {
    v.kind = TokenizerKind::kBpe;
    v.add_bos = true;
  } else if (v.model == "bert") {
    v.kind = TokenizerKind::kWpm;
    v.add_bos = true;  // [CLS]
    v.add_eos = true;  // [SEP]
    v.add_space_prefix = true;
    v.lowercase = true;
    v.clean_spaces = true;
  } else {
    fail(f.path(), ": key 'tokenizer.ggml.model' is '", v.model,
         "'; supported tokenizers are 'llama' (SentencePiece), 'gpt2' (byte-level BPE) and 'bert' (WordPiece)");
  }
  v.pre = f.get_string_or("tokenizer.ggml.pre", "default");
  const GgufValue& tokens = f.get("tokenizer.ggml.tokens");
  if (!tokens.is_array() || tokens.array_type() != GgufType::STRING) {
    fail(f.path(), ": key 'tokenizer.ggml.tokens' must be an array of strings");
  }
  v.tokens = tokens.strings();
  if (const GgufValue* scores = f.find("tokenizer.ggml.scores")) {
    for (double s : scores->to_f64_vector(f.path() + ": key 'tokenizer.ggml.scores'")) v.scores.push_back(static_cast<float>(s));
  }
  if (const GgufValue* types = f.find("tokenizer.ggml.token_type")) {
    for (int64_t t : types->to_i64_vector(f.path() + ": key 'tokenizer.ggml.token_type'")) {
      if (t < 0 || t > 6) fail(f.path(), ": key 'tokenizer.ggml.token_type' holds unknown type ", t);
      v.types.push_back(static_cast<TokenType>(t));
    }
  }
  if (const GgufValue* merges = f.find("tokenizer.ggml.merges")) {
    if (!merges->is_array() || merges->array_type() != GgufType::STRING) {
      fail(f.path(), ": key 'tokenizer.ggml.merges' must be an array of strings");
    }
    v.merges = merges->strings();
  }
  read_id(f, v, "tokenizer.ggml.bos_token_id", &v.bos);
  read_id(f, v, "tokenizer.ggml.eos_token_id", &v.eos);
  read_id(f, v, "tokenizer.ggml.unknown_token_id", &v.unk);
  read_id(f, v, "tokenizer.ggml.padding_token_id", &v.pad);
  read_id(f, v, "tokenizer.ggml.seperator_token_id", &v.sep);  // sic: the key's spelling in GGUF
  read_id(f, v, "tokenizer.ggml.cls_token_id", &v.cls);
  read_id(f, v, "tokenizer.ggml.mask_token_id", &v.mask);
  read_id(f, v, "tokenizer.ggml.eot_token_id", &v.eot);
  read_flag(f, "tokenizer.ggml.add_bos_token", &v.add_bos);
  read_flag(f, "tokenizer.ggml.add_eos_token", &v.add_eos);
  read_flag(f, "tokenizer.ggml.add_space_prefix", &v.add_space_prefix);
  read_flag(f, "tokenizer.ggml.remove_extra_whitespaces", &v.remove_extra_whitespaces);
  v.chat_template = f.get_string_or("tokenizer.chat_template", "");
  if (const GgufValue* names = f.find("tokenizer.chat_templates")) {
    if (!names->is_array() || names->array_type() != GgufType::STRING) {
      fail(f.path(), ": tokenizer.chat_templates must be an array of strings");
    }
    for (const std::string& name : names->strings()) {
      if (name == "default") continue;
      const std::string key = "tokenizer.chat_template." + name;
      if (f.find(key) == nullptr) fail(f.path(), ": tokenizer.chat_templates names '", name, "' but ", key, " is missing");
      v.named_chat_templates.emplace_back(name, f.get_string(key));
    }
  }
  if (v.kind == TokenizerKind::kBpe) {
    // Llama 3 style vocabularies take a whole pre-token as one id when it exists.
    v.ignore_merges = pre_tokenizer_ignores_merges(v.pre);
  }
  // GGUF has no strip flags; Phi-3's added tokens swallow the whitespace
  // after them (its tokenizer.json says rstrip), which other engines key on
  // the model name too.
  std::string name = f.get_string_or("general.name", "");
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  if (name.find("phi3") != std::string::npos || name.find("phi-3") != std::string::npos) {
    v.strip.assign(v.tokens.size(), 0);
    for (size_t i = 0; i < v.tokens.size(); ++i) {
      const TokenType t = v.types.empty() ? TokenType::kNormal : v.types[i];
      const bool special = t == TokenType::kControl || t == TokenType::kUserDefined || t == TokenType::kUnknown;
      const std::string& text = v.tokens[i];
      const bool keeps_space = text == "<unk>" || text == "<s>" || text == "<|endoftext|>";
      if ((special || text == "</s>") && !keeps_space) v.strip[i] = Vocab::kStripRight;
    }
  }
  if (v.kind == TokenizerKind::kWpm) {
    if (v.cls == kNoToken) v.cls = v.bos;
    if (v.sep == kNoToken) v.sep = v.eos;
  }
  v.finalize(f.path());
  return v;
}

void write_vocab_gguf(const Vocab& v, GgufWriter& w) {
  w.set("tokenizer.ggml.model", GgufValue::string(v.model));
  if (!v.pre.empty()) w.set("tokenizer.ggml.pre", GgufValue::string(v.pre));
  w.set("tokenizer.ggml.tokens", GgufValue::string_array(v.tokens));
  if (!v.scores.empty()) w.set("tokenizer.ggml.scores", GgufValue::f32_array(v.scores));
  if (!v.types.empty()) {
    std::vector<int32_t> types(v.types.size());
    for (size_t i = 0; i < types.size(); ++i) types[i] = static_cast<int32_t>(v.types[i]);
    w.set("tokenizer.ggml.token_type", GgufValue::i32_array(types));
  }
  if (!v.merges.empty()) w.set("tokenizer.ggml.merges", GgufValue::string_array(v.merges));
  auto put_id = [&](const char* key, TokenId id) {
    if (id != kNoToken) w.set(key, GgufValue::u32(static_cast<uint32_t>(id)));
  };
  put_id("tokenizer.ggml.bos_token_id", v.bos);
  put_id("tokenizer.ggml.eos_token_id", v.eos);
  put_id("tokenizer.ggml.unknown_token_id", v.unk);
  put_id("tokenizer.ggml.padding_token_id", v.pad);
  put_id("tokenizer.ggml.seperator_token_id", v.sep);
  put_id("tokenizer.ggml.cls_token_id", v.cls);
  put_id("tokenizer.ggml.mask_token_id", v.mask);
  put_id("tokenizer.ggml.eot_token_id", v.eot);
  w.set("tokenizer.ggml.add_bos_token", GgufValue::boolean(v.add_bos));
  w.set("tokenizer.ggml.add_eos_token", GgufValue::boolean(v.add_eos));
  if (v.kind != TokenizerKind::kBpe) {
    w.set("tokenizer.ggml.add_space_prefix", GgufValue::boolean(v.add_space_prefix));
  }
  if (v.remove_extra_whitespaces) w.set("tokenizer.ggml.remove_extra_whitespaces", GgufValue::boolean(true));
  if (!v.chat_template.empty()) w.set("tokenizer.chat_template", GgufValue::string(v.chat_template));
  if (!v.named_chat_templates.empty()) {
    std::vector<std::string> names;
    for (const auto& [name, text] : v.named_chat_templates) {
      names.push_back(name);
      w.set("tokenizer.chat_template." + name, GgufValue::string(text));
    }
    w.set("tokenizer.chat_templates", GgufValue::string_array(names));
  }
}

Vocab load_vocab(const std::string& path) {
  if (std::filesystem::is_directory(path)) return load_vocab_hf(path);
  return load_vocab_gguf(GgufFile::open(path));
}

}  // namespace nomoat
