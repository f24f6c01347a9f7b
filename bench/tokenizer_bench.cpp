// Tokenization throughput (bytes of input text per second, single thread) for
// the shared GGUF vocabularies in ../shared/data/vocab, on text generated
// here deterministically: English prose, and a mix of prose, code and other
// scripts. Vocabularies that are absent are skipped.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "formats/gguf.h"
#include "tokenizer/tokenizer.h"

namespace nomoat {
namespace {

namespace fs = std::filesystem;

constexpr size_t kTextBytes = size_t{4} << 20;

fs::path vocab_dir() {
  if (const char* env = std::getenv("NOMOAT_SHARED_DATA"); env != nullptr && *env != '\0') {
    return fs::path(env) / "vocab";
  }
  return fs::path(NOMOAT_SOURCE_DIR) / ".." / "shared" / "data" / "vocab";
}

const char* const kCommonWords[] = {
    "the", "of", "and", "to", "a", "in", "is", "it", "you", "that", "he", "was", "for", "on", "are", "with",
    "as", "his", "they", "be", "at", "one", "have", "this", "from", "or", "had", "by", "not", "word", "but",
    "what", "some", "we", "can", "out", "other", "were", "all", "there", "when", "up", "use", "your", "how",
    "said", "an", "each", "she", "which", "do", "their", "time", "if", "will", "way", "about", "many", "then",
    "them", "write", "would", "like", "so", "these", "her", "long", "make", "thing", "see", "him", "two",
    "has", "look", "more", "day", "could", "go", "come", "did", "number", "sound", "no", "most", "people",
    "my", "over", "know", "water", "than", "call", "first", "who", "may", "down", "side", "been", "now",
    "find", "any", "new", "work", "part", "take", "get", "place", "made", "live", "where", "after", "back",
    "little", "only", "round", "man", "year", "came", "show", "every", "good", "me", "give", "our", "under",
    "name", "very", "through", "just", "form", "sentence", "great", "think", "say", "help", "low", "line",
    "differ", "turn", "cause", "much", "mean", "before", "move", "right", "boy", "old", "too", "same", "tell",
    "does", "set", "three", "want", "air", "well", "also", "play", "small", "end", "put", "home", "read",
    "hand", "port", "large", "spell", "add", "even", "land", "here", "must", "big", "high", "such", "follow",
    "act", "why", "ask", "men", "change", "went", "light", "kind", "off", "need", "house", "picture", "try",
    "us", "again", "animal", "point", "mother", "world", "near", "build", "self", "earth", "father", "head",
    "government", "understanding", "remarkable", "nevertheless", "consideration", "development",
};
const char* const kSyllables[] = {"ka", "lo", "mi", "ter", "an", "ver", "sa", "tion", "pre", "dor", "qui", "ble",
                                  "en", "mor", "ste", "gal", "ri", "fen", "ul", "tra", "co", "nis", "pha", "zen"};
const char* const kCode[] = {
    "def tokenize(self, text: str) -> list[int]:\n    ids = []\n    for word in self.split(text):\n"
    "        ids.extend(self.cache.get(word) or self.bpe(word))\n    return ids\n\n",
    "for (size_t i = 0; i < n; ++i) {\n  if (buf[i] == '\\n') { lines.push_back(i); }\n}\n",
    "const result = await fetch(`${baseUrl}/api/v1/items?id=${id}`);\nif (!result.ok) throw new Error(result.statusText);\n",
    "SELECT name, COUNT(*) AS n FROM users WHERE created_at >= '2024-01-01' GROUP BY name ORDER BY n DESC;\n",
    "    <div class=\"container\">\n      <span id=\"title\">{{ title }}</span>\n    </div>\n",
};
const char* const kOtherScripts[] = {
    "机器学习是人工智能的一个分支，它使计算机能够从数据中学习。",
    "Машинное обучение — это подраздел искусственного интеллекта. ",
    "التعلم الآلي هو فرع من فروع الذكاء الاصطناعي. ",
    "機械学習は人工知能の一分野です。",
    "기계 학습은 인공 지능의 한 분야입니다. ",
    "Η μηχανική μάθηση είναι κλάδος της τεχνητής νοημοσύνης. ",
    "Tokenizers split text 🙂 into pieces 🚀✨ quickly. ",
};

class TextGenerator {
 public:
  explicit TextGenerator(uint32_t seed) : rng_(seed) {}

  // Sentences of common words, with about one word in eight made up from
  // syllables (names and rare words), numbers, commas and paragraphs.
  void append_prose_paragraph(std::string& out) {
    const int sentences = 3 + pick(5);
    for (int s = 0; s < sentences; ++s) {
      const int words = 6 + pick(15);
      for (int w = 0; w < words; ++w) {
        std::string word = next_word();
        if (w == 0) word[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(word[0])));
        out += word;
        if (w + 1 < words) out += pick(12) == 0 ? ", " : " ";
      }
      out += pick(10) == 0 ? "? " : ". ";
    }
    out.back() = '\n';
    out += '\n';
  }

  void append_code(std::string& out) { out += kCode[pick(std::size(kCode))]; }
  void append_other_script(std::string& out) { out += kOtherScripts[pick(std::size(kOtherScripts))]; }

 private:
  int pick(size_t n) { return static_cast<int>(rng_() % n); }
  std::string next_word() {
    const int roll = pick(100);
    if (roll < 85) {
      // Zipf-like: low indices far more often.
      const size_t n = std::size(kCommonWords);
      const double u = std::uniform_real_distribution<double>(0, 1)(rng_);
      return kCommonWords[static_cast<size_t>(static_cast<double>(n) * u * u * u) % n];
    }
    if (roll < 88) return std::to_string(rng_() % 100000);
    std::string word;
    for (int k = 0, n = 2 + pick(3); k < n; ++k) word += kSyllables[pick(std::size(kSyllables))];
    return word;
  }
  std::mt19937 rng_;
};

const std::string& english_prose() {
  static const std::string text = [] {
    TextGenerator gen(1234);
    std::string s;
    while (s.size() < kTextBytes) gen.append_prose_paragraph(s);
    return s;
  }();
  return text;
}

// About 70% prose, 20% code, 10% other scripts, by paragraph.
const std::string& mixed_text() {
  static const std::string text = [] {
    TextGenerator gen(5678);
    std::mt19937 rng(91011);
    std::string s;
    while (s.size() < kTextBytes) {
      const unsigned roll = rng() % 10;
      if (roll < 7) {
        gen.append_prose_paragraph(s);
      } else if (roll < 9) {
        gen.append_code(s);
      } else {
        for (int i = 0; i < 3; ++i) gen.append_other_script(s);
        s += "\n\n";
      }
    }
    return s;
  }();
  return text;
}

const Tokenizer& tokenizer_for(const std::string& name) {
  static std::map<std::string, std::unique_ptr<Tokenizer>> loaded;
  auto& t = loaded[name];
  if (!t) {
    const fs::path path = vocab_dir() / ("ggml-vocab-" + name + ".gguf");
    t = std::make_unique<Tokenizer>(load_vocab_gguf(GgufFile::open(path.string())));
  }
  return *t;
}

void BM_Tokenize(benchmark::State& state, const std::string& vocab, const std::string& (*make_text)()) {
  const Tokenizer& tok = tokenizer_for(vocab);
  const std::string* text = &make_text();
  EncodeOptions options;
  options.add_special = false;
  options.parse_special = false;
  size_t tokens = 0;
  for (auto _ : state) {
    const auto ids = tok.encode(*text, options);
    tokens = ids.size();
    benchmark::DoNotOptimize(ids.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text->size()));
  state.counters["bytes_per_token"] = static_cast<double>(text->size()) / static_cast<double>(std::max<size_t>(tokens, 1));
}

// The byte-level BPE algorithm alone, without the front end that first cuts
// user-defined tokens out of the text (which costs extra in vocabularies with
// thousands of them, like DeepSeek LLM's).
void BM_BpeAlgorithm(benchmark::State& state, const std::string& vocab, const std::string& (*make_text)()) {
  const Vocab& v = tokenizer_for(vocab).vocab();
  const auto bpe = make_bpe_tokenizer(v);
  const std::string* text = &make_text();
  std::vector<TokenId> ids;
  for (auto _ : state) {
    ids.clear();
    bpe->encode(*text, true, ids);
    benchmark::DoNotOptimize(ids.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text->size()));
}

const bool registered = [] {
  for (const char* vocab : {"gpt-2", "deepseek-llm", "llama-spm", "bert-bge"}) {
    if (!fs::exists(vocab_dir() / (std::string("ggml-vocab-") + vocab + ".gguf"))) continue;
    benchmark::RegisterBenchmark((std::string("BM_Tokenize/") + vocab + "/english").c_str(), BM_Tokenize,
                                 std::string(vocab), &english_prose)
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark((std::string("BM_Tokenize/") + vocab + "/mixed").c_str(), BM_Tokenize,
                                 std::string(vocab), &mixed_text)
        ->Unit(benchmark::kMillisecond);
  }
  for (const char* vocab : {"gpt-2", "deepseek-llm"}) {
    if (!fs::exists(vocab_dir() / (std::string("ggml-vocab-") + vocab + ".gguf"))) continue;
    benchmark::RegisterBenchmark((std::string("BM_BpeAlgorithm/") + vocab + "/english").c_str(), BM_BpeAlgorithm,
                                 std::string(vocab), &english_prose)
        ->Unit(benchmark::kMillisecond);
  }
  return true;
}();

}  // namespace
}  // namespace nomoat
