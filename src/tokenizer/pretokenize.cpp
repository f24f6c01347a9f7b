#include "base/utf8.h"
#include "tokenizer/pretokenize.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "base/error.h"

namespace nomoat {
namespace {

// ---------------------------------------------------------------------------
// The regexes llama.cpp applies, by tokenizer.ggml.pre name.
//
// Where llama.cpp runs a regex through its "collapsed" std::regex path, the
// string below is rewritten so that PCRE2 (UTF + UCP) matches exactly what
// llama.cpp matches:
//  - \d, \w and \b are ASCII-only there, so they are spelled [0-9] etc.;
//  - \p{Lu}, \p{Ll}, \p{Lt}, \p{Lm}, \p{Lo} all mean "any letter" there;
//  - \p{S} does not contain '~' there (its ASCII symbol list lacks it);
//  - its custom splitters (Kimi-K2, AFMoE digits) are written as regexes
//    that cut the same pieces.
// Code points are written as \x{...} so that no editor can normalize them.
// ---------------------------------------------------------------------------

const std::string kGpt2 = R"re('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))re";
const std::string kContractions = R"re((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD]))re";
const std::string kLlama3 =
    kContractions + R"re(|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re";
const std::string kQwen2 =
    kContractions + R"re(|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re";

// Bloom / Poro / GPT3-Finnish: anything up to whitespace or sentence punctuation.
const std::string kBloom = R"re( ?[^(\s|.,!?\x{2026}\x{3002}\x{FF0C}\x{3001}\x{0964}\x{06D4}\x{060C})]+)re";

// CJK ideographs, hiragana and katakana (DeepSeek V3 family).
const std::string kCjkKana = R"re([\x{4E00}-\x{9FA5}\x{3040}-\x{309F}\x{30A0}-\x{30FF}]+)re";
// DeepSeek LLM / Coder: ideographs, U+0800..U+4E00 and Hangul.
const std::string kDeepseekCjk = R"re([\x{4E00}-\x{9FA5}\x{0800}-\x{4E00}\x{AC00}-\x{D7FF}]+)re";

// Unicode cased letters (Lu, Ll, Lt) as listed in DeepSeek LLM's tokenizer.json.
const std::string kDeepseekCasedLetters =
    R"re(A-Za-z\x{B5}\x{C0}-\x{D6}\x{D8}-\x{F6}\x{F8}-\x{1BA}\x{1BC}-\x{1BF}\x{1C4}-\x{293}\x{295}-\x{2AF})re"
    R"re(\x{370}-\x{373}\x{376}\x{377}\x{37B}-\x{37D}\x{37F}\x{386}\x{388}-\x{38A}\x{38C}\x{38E}-\x{3A1})re"
    R"re(\x{3A3}-\x{3F5}\x{3F7}-\x{481}\x{48A}-\x{52F}\x{531}-\x{556}\x{10A0}-\x{10C5}\x{13A0}-\x{13F5})re"
    R"re(\x{13F8}-\x{13FD}\x{1C90}-\x{1CBA}\x{1CBD}-\x{1CBF}\x{1D00}-\x{1D2B}\x{1D6B}-\x{1D77}\x{1D79}-\x{1D9A})re"
    R"re(\x{1E00}-\x{1F15}\x{1F18}-\x{1F1D}\x{1F20}-\x{1F45}\x{1F48}-\x{1F4D}\x{1F50}-\x{1F57}\x{1F59}\x{1F5B})re"
    R"re(\x{1F5D}\x{1F5F}-\x{1F7D}\x{1F80}-\x{1FB4}\x{1FB6}-\x{1FBC}\x{1FBE}\x{1FC2}-\x{1FC4}\x{1FC6}-\x{1FCC})re"
    R"re(\x{1FD0}-\x{1FD3}\x{1FD6}-\x{1FDB}\x{1FE0}-\x{1FEC}\x{1FF2}-\x{1FF4}\x{1FF6}-\x{1FFC}\x{2102}\x{2107})re"
    R"re(\x{210A}-\x{2113}\x{2115}\x{2119}-\x{211D}\x{2124}\x{2126}\x{2128}\x{212A}-\x{212D}\x{212F}-\x{2134})re"
    R"re(\x{2139}\x{213C}-\x{213F}\x{2145}-\x{2149}\x{214E}\x{2183}\x{2184}\x{2C00}-\x{2C7B}\x{2C7E}-\x{2CE4})re"
    R"re(\x{2CEB}-\x{2CEE}\x{2CF2}\x{2CF3}\x{A640}-\x{A66D}\x{A680}-\x{A69B}\x{A722}-\x{A76F}\x{A771}-\x{A787})re"
    R"re(\x{A78B}-\x{A78E}\x{AB70}-\x{ABBF}\x{FB00}-\x{FB06}\x{FB13}-\x{FB17}\x{FF21}-\x{FF3A}\x{FF41}-\x{FF5A})re"
    R"re(\x{10400}-\x{1044F}\x{104B0}-\x{104D3}\x{104D8}-\x{104FB}\x{10C80}-\x{10CB2}\x{10CC0}-\x{10CF2})re"
    R"re(\x{118A0}-\x{118DF}\x{1E900}-\x{1E943})re";

// [^\r\n\p{L}\p{P}\p{S}]? and [\p{P}\p{S}]+ with llama.cpp's '~' (not a symbol there).
const std::string kOptNotLetterPunctSymbol = R"re((?:~|[^\r\n\p{L}\p{P}\p{S}])?)re";
const std::string kPunctSymbolRun = R"re((?:(?!~)[\p{P}\p{S}])++)re";
const std::string kAsciiPunctThenLetters = R"re([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+)re";
const std::string kDeepseekV3Main = kAsciiPunctThenLetters + "|" + kOptNotLetterPunctSymbol + R"re([\p{L}\p{M}]+| ?)re" +
                                    kPunctSymbolRun + R"re([\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re";

// GPT-4o / Tekken: upper-case-led and lower-case runs ("letter but not a-z" is
// what llama.cpp's (?=[\p{L}])([^a-z]) matches).
const std::string kUpperRunThenLower = R"re([^\r\n\p{L}\p{N}]?[^\P{L}a-z]*[^\P{L}A-Z]+)re";
const std::string kUpperThenLowerRun = R"re([^\r\n\p{L}\p{N}]?[^\P{L}a-z]+[^\P{L}A-Z]*)re";
const std::string kTail = R"re( ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)re";

// Youtu / Tiny Aya spell \p{Lu}... which llama.cpp reads as any letter.
const std::string kLetterMarkWords = R"re([^\r\n\p{L}\p{N}]?[\p{L}\p{M}]*[\p{L}\p{M}]+)re" + kContractions + "?|" +
                                     R"re([^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+[\p{L}\p{M}]*)re" + kContractions + "?";

// llama.cpp's Han test (unicode_cpt_is_han), for Kimi-K2.
const std::string kHanRanges = R"re(\x{4E00}-\x{9FFF}\x{3400}-\x{4DBF}\x{20000}-\x{2A6DF}\x{2A700}-\x{2EBEF})re"
                               R"re(\x{F900}-\x{FAFF}\x{2F800}-\x{2FA1F})re";

struct PreTokenizerEntry {
  std::vector<std::string> names;
  PreTokenizerInfo info;
};

std::vector<PreTokenizerEntry> build_pre_tokenizer_table() {
  std::vector<PreTokenizerEntry> t;
  auto add = [&](std::vector<std::string> names, std::vector<std::string> regexes, bool ignore_merges = false,
                 bool byte_level = true) {
    t.push_back({std::move(names), {std::move(regexes), ignore_merges, byte_level}});
  };
  add({"default", ""}, {R"re([\p{P}\$\+<=>\^~\|]+)re", kGpt2, R"re(\p{N}+)re", "[0-9][0-9][0-9]"});
  add({"llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2", "jina-v5-nano"},
      {kLlama3}, true);
  add({"dbrx", "smaug-bpe", "glm4", "chatglm-bpe"}, {kLlama3});
  add({"jais-2"}, {kContractions + R"re(|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+)re"
                                   R"re(|\s{512}(?!\S)|\s{256}(?!\S)|\s{128}(?!\S)|\s{64}(?!\S)|\s{32}(?!\S))re"
                                   R"re(|\s{16}(?!\S)|\s{8}(?!\S)|\s{4}(?!\S)|\s{1,2}(?!\S)|\s{1})re"});
  add({"deepseek-llm"}, {R"re([\r\n])re", R"re(\s?[)re" + kDeepseekCasedLetters + "]+",
                         R"re(\s?[!-/:-~\x{FF01}-\x{FF0F}\x{FF1A}-\x{FF5E}\x{2018}-\x{201F}\x{3000}-\x{3002}]+)re",
                         R"re(\s+$)re", kDeepseekCjk, R"re(\p{N}+)re"});
  add({"deepseek-coder"}, {R"re([\r\n])re", R"re(\s?\p{L}+)re", R"re(\s?\p{P}+)re", kDeepseekCjk, R"re(\p{N})re"});
  add({"deepseek-v3", "hunyuan-dense", "joyai-llm", "hy_v4"}, {R"re(\p{N}{1,3})re", kCjkKana, kDeepseekV3Main});
  add({"spark2_5"}, {R"re(\p{N}{1,3})re", kCjkKana,
                     kAsciiPunctThenLetters + "|" + kOptNotLetterPunctSymbol + R"re([\p{L}\p{M}]+| ?)re" +
                         kPunctSymbolRun + R"re(|[\r\n]|\s+(?!\S)|\s+)re",
                     R"re(\p{N})re"});
  add({"youtu"},
      {R"re([\x{AC00}-\x{D7A3}\x{3131}-\x{318E}]+)re"
       R"re(|[\x{FF01}\x{2026}\x{201C}\x{201D}\x{2018}\x{2019}\x{2014}\x{FF1A}\x{FF1B}\x{FF0C}\x{3001}-\x{303F}\x{FE30}-\x{FE4F}]+)re"
       R"re(|[\x{3105}-\x{312F}]+|)re" + kCjkKana,
       kLetterMarkWords + R"re(|\p{N}|)re" + kTail},
      true);
  add({"falcon"}, {R"re([\p{P}\$\+<=>\^~\|`]+)re", kGpt2, "[0-9][0-9][0-9]"});
  add({"starcoder", "refact", "command-r", "smollm", "codeshell", "exaone", "minerva-7b", "mellum2"},
      {R"re(\p{N})re", kGpt2});
  add({"gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v2-es", "jina-v2-de", "a.x-4.0", "mellum",
       "modern-bert", "jina-v1-en", "jina-v2-code", "roberta-bpe", "exaone4", "mpt", "olmo", "jais", "trillion",
       "granite-docling"},
      {kGpt2});
  add({"qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2", "megrez", "stablelm2", "hunyuan", "solar-open", "grok-2"},
      {kQwen2});
  add({"qwen35"}, {kContractions + R"re(|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*)re"
                                   R"re(|\s*[\r\n]+|\s+(?!\S)|\s+)re"});
  add({"poro-chat", "bloom", "gpt3-finnish"}, {kBloom});
  add({"viking"}, {kBloom, R"re(\p{N})re"});
  add({"tekken"}, {kUpperRunThenLower + "|" + kUpperThenLowerRun + R"re(|\p{N}|)re" + kTail}, true);
  add({"chameleon"}, {"<sentinel:[0-9]+>", "(IMGIMG)((A|B|C|D|E|F|G|H|I){1,4})Z", "([\\t\\n]|    |  )",
                      R"re(\p{N})re", R"re([\p{P}!-/:-@\[-`{-~])re", kGpt2});
  add({"gpt-4o", "llama4", "kanana2", "talkie", "minimax-m2"},
      {kUpperRunThenLower + kContractions + "?|" + kUpperThenLowerRun + kContractions + R"re(?|\p{N}{1,3}|)re" + kTail});
  add({"granite-embed-multi-97m"},
      {R"re([^\r\n\p{L}\p{N}]?(?:(?=[\p{L}\p{M}])[^a-z])*(?:(?=[\p{L}\p{M}])[^A-Z])+)re" + kContractions +
       R"re(?|[^\r\n\p{L}\p{N}]?(?:(?=[\p{L}\p{M}])[^a-z])+(?:(?=[\p{L}\p{M}])[^A-Z])*)re" + kContractions +
       R"re(?|\p{N}{1,3}|)re" + kTail},
      true);
  add({"tiny_aya", "cohere2moe"},
      {R"re([0-9]{1,3}(?=(?:[0-9]{3})*(?![A-Za-z0-9_])))re", kLetterMarkWords + R"re(|\p{N}{1,3}|)re" + kTail});
  // llama.cpp's custom Kimi-K2 splitter: Han runs, then non-Han letter runs
  // (no case split) with an optional contraction, then the Llama 3 tail.
  add({"kimi-k2"}, {"[" + kHanRanges + "]+|[^\\r\\n\\p{L}\\p{N}]?[^\\P{L}" + kHanRanges + "]+" + kContractions +
                    R"re(?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re"});
  add({"superbpe"}, {R"re(\p{N}+)re", R"re((?=(?:[0-9]{3})+(?![0-9])))re"});
  add({"bailingmoe", "bailingmoe2", "llada-moe"},
      {R"re('(?:[sSdDmMtT]|[lL][lL]|[vV][eE]|[rR][eE])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*)re"
       R"re(|\s*[\r\n]|\s+(?!\S)|\s+)re"});
  add({"seed-coder"}, {kContractions + R"re(|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1}| ?[^\s\p{L}\p{N}\r\n]+|\s*[\r\n]+)re"
                                       R"re(|\s+(?!\S)|\s+)re"});
  add({"ufakzeka"}, {R"re([^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re"});
  // llama.cpp's custom AFMoE digit splitter: a digit run is cut into a 1-2
  // digit head and groups of three, and the text before a run is glued to
  // its first group.
  add({"afmoe"},
      {R"re(\P{N}*+\p{N}{1,3}(?=(?:\p{N}{3})*+(?!\p{N}))|\P{N}++)re",
       R"re([\x{4E00}-\x{9FFF}\x{3400}-\x{4DBF}\x{F900}-\x{FAFF}\x{3040}-\x{309F}\x{30A0}-\x{30FF}\x{FF65}-\x{FF9F})re"
       R"re(\x{2F00}-\x{2FDF}\x{0E40}-\x{0E7F}\x{0E80}-\x{0EFF}\x{1780}-\x{17FF}\x{1000}-\x{109F}\x{AA60}-\x{AA7F})re"
       R"re(\x{A9E0}-\x{A9FF}\x{AC00}-\x{D7AF}\x{1100}-\x{11FF}]+)re",
       kDeepseekV3Main});
  add({"laguna"}, {R"re([^\n]+|[\n]+)re", kQwen2});
  add({"exaone-moe"}, {kContractions + R"re(|[^\r\n\p{L}\p{N}]?(?:\p{L}\p{M}*(?: \p{L}\p{M}*)*)+|\p{N})re"
                                       R"re(| ?[^\s\p{L}\p{N}]+[\r\n/]?|\s*[\r\n]|\s+(?!\S)|\s+)re"});
  add({"minicpm5"}, {R"re(\p{N}{1,3})re", kContractions + R"re(|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}+)re"
                                                          R"re(| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re"},
      true);
  // BPE over raw UTF-8 with "▁" for spaces (not GPT-2 byte-level).
  add({"gemma4", "granite-embed-multi-311m", "sarvam-moe"}, {R"re([^\n]+|[\n]+)re"}, false, false);
  add({"whitespace"}, {R"re(\S+)re"}, false, false);
  return t;
}

const PreTokenizerEntry* find_pre_tokenizer(const std::string& pre) {
  static const std::vector<PreTokenizerEntry> table = build_pre_tokenizer_table();
  for (const PreTokenizerEntry& e : table) {
    for (const std::string& name : e.names) {
      if (name == pre) return &e;
    }
  }
  return nullptr;
}

// ---------------------------------------------------------------------------
// UTF-8 checks and llama.cpp-compatible repair.
// ---------------------------------------------------------------------------

constexpr char32_t kReplacement = 0xFFFD;
constexpr char32_t kOtherPlaceholder = 0xE000;  // private use: neither letter, digit, punctuation nor space

bool is_continuation(unsigned char c) { return (c & 0xC0) == 0x80; }

// True when `s` is well-formed UTF-8 without U+180E (which PCRE2 counts as
// white space and llama.cpp does not), so it can be matched as it is.
bool is_plain_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    // Skip ASCII eight bytes at a time.
    if (i + 8 <= n) {
      uint64_t word;
      std::memcpy(&word, p + i, 8);
      if ((word & 0x8080808080808080ull) == 0) {
        i += 8;
        continue;
      }
    }
    const unsigned char c = p[i];
    if (c < 0x80) {
      ++i;
    } else if (c >= 0xC2 && c <= 0xDF) {
      if (i + 1 >= n || !is_continuation(p[i + 1])) return false;
      i += 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      if (i + 2 >= n || !is_continuation(p[i + 1]) || !is_continuation(p[i + 2])) return false;
      if (c == 0xE0 && p[i + 1] < 0xA0) return false;   // overlong
      if (c == 0xED && p[i + 1] >= 0xA0) return false;  // surrogate
      if (c == 0xE1 && p[i + 1] == 0xA0 && p[i + 2] == 0x8E) return false;  // U+180E
      i += 3;
    } else if (c >= 0xF0 && c <= 0xF4) {
      if (i + 3 >= n || !is_continuation(p[i + 1]) || !is_continuation(p[i + 2]) || !is_continuation(p[i + 3])) {
        return false;
      }
      if (c == 0xF0 && p[i + 1] < 0x90) return false;   // overlong
      if (c == 0xF4 && p[i + 1] >= 0x90) return false;  // above U+10FFFF
      i += 4;
    } else {
      return false;
    }
  }
  return true;
}


// Decodes one code point at s[i] the way llama.cpp's unicode_cpt_from_utf8
// does (lead byte decides the length, only continuation bytes are checked).
// Returns false for a byte llama.cpp rejects; it then consumes one byte.
bool decode_like_llama(std::string_view s, size_t& i, char32_t& cp) {
  const auto at = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = at(i);
  const size_t n = s.size();
  if (c < 0x80) {
    cp = c;
    i += 1;
    return true;
  }
  if (!(c & 0x40)) return false;
  if (!(c & 0x20)) {
    if (i + 1 >= n || !is_continuation(at(i + 1))) return false;
    cp = ((c & 0x1Fu) << 6) | (at(i + 1) & 0x3Fu);
    i += 2;
    return true;
  }
  if (!(c & 0x10)) {
    if (i + 2 >= n || !is_continuation(at(i + 1)) || !is_continuation(at(i + 2))) return false;
    cp = ((c & 0x0Fu) << 12) | ((at(i + 1) & 0x3Fu) << 6) | (at(i + 2) & 0x3Fu);
    i += 3;
    return true;
  }
  if (!(c & 0x08)) {
    if (i + 3 >= n || !is_continuation(at(i + 1)) || !is_continuation(at(i + 2)) || !is_continuation(at(i + 3))) {
      return false;
    }
    cp = ((c & 0x07u) << 18) | ((at(i + 1) & 0x3Fu) << 12) | ((at(i + 2) & 0x3Fu) << 6) | (at(i + 3) & 0x3Fu);
    i += 4;
    return true;
  }
  return false;
}

// Writes the bytes llama.cpp tokenizes to `out` and a same-length copy that
// PCRE2 can match to `match` (surrogates and U+180E become a placeholder).
void repair_utf8(std::string_view text, std::string& out, std::string* match) {
  size_t i = 0;
  while (i < text.size()) {
    char32_t cp;
    if (!decode_like_llama(text, i, cp)) {
      ++i;
      cp = kReplacement;
    }
    // llama.cpp cannot encode these at all; U+FFFD is the closest safe choice.
    if (cp > 0x10FFFF) cp = kReplacement;
    const size_t before = out.size();
    append_utf8(out, cp);  // surrogates keep the three-byte form llama.cpp writes
    if (match != nullptr) {
      if ((cp >= 0xD800 && cp <= 0xDFFF) || cp == 0x180E) {
        append_utf8(*match, kOtherPlaceholder);
      } else {
        match->append(out, before, out.size() - before);
      }
    }
  }
}

}  // namespace

PreTokenizerInfo pre_tokenizer_info(const std::string& pre) {
  const PreTokenizerEntry* e = find_pre_tokenizer(pre);
  if (e == nullptr) fail("key 'tokenizer.ggml.pre' is '", pre, "', a pre-tokenizer nomoat does not know");
  return e->info;
}

std::vector<std::string> pre_tokenizer_regexes(const std::string& pre) { return pre_tokenizer_info(pre).regexes; }

bool pre_tokenizer_ignores_merges(const std::string& pre) {
  const PreTokenizerEntry* e = find_pre_tokenizer(pre);
  return e != nullptr && e->info.ignore_merges;
}

std::string repair_utf8_like_llama(std::string_view text) {
  if (is_plain_utf8(text)) return std::string(text);
  std::string out;
  out.reserve(text.size() + 8);
  repair_utf8(text, out, nullptr);
  return out;
}

// ---------------------------------------------------------------------------
// RegexSplitter
// ---------------------------------------------------------------------------

struct RegexSplitter::Compiled {
  std::string source;
  pcre2_code* code = nullptr;
  bool jit = false;
  // The bytes a match can start with, when PCRE2 knows them: a piece without
  // any of them is skipped without calling the matcher.
  bool has_first_bytes = false;
  std::array<bool, 256> first_bytes{};
  ~Compiled() { pcre2_code_free(code); }
};

namespace {

struct MatchDataDeleter {
  void operator()(pcre2_match_data* md) const { pcre2_match_data_free(md); }
};
using MatchDataPtr = std::unique_ptr<pcre2_match_data, MatchDataDeleter>;

std::string pcre2_message(int code) {
  PCRE2_UCHAR buffer[256];
  if (pcre2_get_error_message(code, buffer, sizeof(buffer)) < 0) return "error " + std::to_string(code);
  return reinterpret_cast<const char*>(buffer);
}

}  // namespace

RegexSplitter::RegexSplitter(const std::vector<std::string>& regexes) {
  for (const std::string& source : regexes) {
    auto compiled = std::make_unique<Compiled>();
    compiled->source = source;
    int error = 0;
    PCRE2_SIZE error_offset = 0;
    // DOLLAR_ENDONLY: '$' means the end of the piece, as in ECMAScript.
    compiled->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(source.data()), source.size(),
                                   PCRE2_UTF | PCRE2_UCP | PCRE2_DOLLAR_ENDONLY, &error, &error_offset, nullptr);
    if (compiled->code == nullptr) {
      fail("pre-tokenizer regex '", source, "' does not compile at offset ", static_cast<size_t>(error_offset), ": ",
           pcre2_message(error));
    }
    compiled->jit = pcre2_jit_compile(compiled->code, PCRE2_JIT_COMPLETE) == 0;
    uint32_t matches_empty = 1;
    const uint8_t* first_bitmap = nullptr;
    if (pcre2_pattern_info(compiled->code, PCRE2_INFO_MATCHEMPTY, &matches_empty) == 0 && matches_empty == 0 &&
        pcre2_pattern_info(compiled->code, PCRE2_INFO_FIRSTBITMAP, &first_bitmap) == 0 && first_bitmap != nullptr) {
      compiled->has_first_bytes = true;
      for (int b = 0; b < 256; ++b) compiled->first_bytes[static_cast<size_t>(b)] = (first_bitmap[b / 8] >> (b % 8)) & 1;
    }
    regexes_.push_back(std::move(compiled));
  }
}

RegexSplitter::~RegexSplitter() = default;
RegexSplitter::RegexSplitter(RegexSplitter&&) noexcept = default;
RegexSplitter& RegexSplitter::operator=(RegexSplitter&&) noexcept = default;

size_t RegexSplitter::regex_count() const { return regexes_.size(); }

namespace {

// State shared by the levels of one split: each regex level cuts a range of
// the text and hands the sub-ranges to the next level, depth first, so the
// pieces come out in order without intermediate lists.
struct SplitRun {
  const std::vector<std::unique_ptr<RegexSplitter::Compiled>>* regexes;
  const char* match_text;   // what PCRE2 sees
  const char* piece_text;   // what the pieces are cut from (same length)
  pcre2_match_data* match_data;
  void* context;
  void (*emit)(void*, std::string_view);
};

// A per-thread JIT stack for pieces whose backtracking outgrows PCRE2's
// default 32 KiB (a repeated group over a very long word). Address space is
// reserved up front, memory is touched only as the stack grows.
class LargeJitStack {
 public:
  LargeJitStack() {
    stack_ = pcre2_jit_stack_create(64 << 10, 256 << 20, nullptr);
    context_ = pcre2_match_context_create(nullptr);
    if (stack_ != nullptr && context_ != nullptr) pcre2_jit_stack_assign(context_, nullptr, stack_);
  }
  ~LargeJitStack() {
    pcre2_match_context_free(context_);
    pcre2_jit_stack_free(stack_);
  }
  pcre2_match_context* context() const { return stack_ != nullptr ? context_ : nullptr; }

 private:
  pcre2_jit_stack* stack_ = nullptr;
  pcre2_match_context* context_ = nullptr;
};

int match_once(const RegexSplitter::Compiled& re, const char* subject, size_t length, size_t start, uint32_t options,
               pcre2_match_data* md) {
  const auto* s = reinterpret_cast<PCRE2_SPTR>(subject);
  if (re.jit) {
    int rc = pcre2_jit_match(re.code, s, length, start, options, md, nullptr);
    if (rc != PCRE2_ERROR_JIT_STACKLIMIT) return rc;
    thread_local LargeJitStack large_stack;
    if (large_stack.context() != nullptr) {
      rc = pcre2_jit_match(re.code, s, length, start, options, md, large_stack.context());
      if (rc != PCRE2_ERROR_JIT_STACKLIMIT) return rc;
    }
    // Last resort: the interpreter keeps its frames on the heap.
    return pcre2_match(re.code, s, length, start, options | PCRE2_NO_JIT | PCRE2_NO_UTF_CHECK, md, nullptr);
  }
  return pcre2_match(re.code, s, length, start, options | PCRE2_NO_UTF_CHECK, md, nullptr);
}

bool is_one_character(const char* s, size_t length) {
  const auto lead = static_cast<unsigned char>(s[0]);
  const size_t expected = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
  return length == expected;
}

bool may_match(const RegexSplitter::Compiled& re, const char* s, size_t length) {
  if (!re.has_first_bytes) return true;
  for (size_t i = 0; i < length; ++i) {
    if (re.first_bytes[static_cast<unsigned char>(s[i])]) return true;
  }
  return false;
}

void split_range(const SplitRun& run, size_t level, size_t begin, size_t end) {
  if (begin >= end) return;
  if (level == run.regexes->size()) {
    run.emit(run.context, std::string_view(run.piece_text + begin, end - begin));
    return;
  }
  const RegexSplitter::Compiled& re = *(*run.regexes)[level];
  const char* subject = run.match_text + begin;
  const size_t length = end - begin;
  // One character, or no byte a match can start with: no regex can cut it.
  if (is_one_character(subject, length) || !may_match(re, subject, length)) {
    split_range(run, level + 1, begin, end);
    return;
  }
  size_t start = 0;      // where the next search starts
  size_t covered = 0;    // end of the last match
  uint32_t options = 0;  // PCRE2_NOTEMPTY_ATSTART right after an empty match
  while (start <= length) {
    const int rc = match_once(re, subject, length, start, options, run.match_data);
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0) fail("pre-tokenizer regex '", re.source, "' failed: ", pcre2_message(rc));
    const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(run.match_data);
    // Copy before recursing: deeper levels reuse the match data.
    size_t match_begin = std::max<size_t>(ovector[0], covered);
    size_t match_end = std::max<size_t>(ovector[1], match_begin);
    split_range(run, level + 1, begin + covered, begin + match_begin);  // the gap
    split_range(run, level + 1, begin + match_begin, begin + match_end);
    covered = match_end;
    start = match_end;
    if (ovector[1] <= ovector[0]) {
      // An empty match: look for a non-empty one here, else move on (as std::regex_iterator does).
      if (start >= length) break;
      options = PCRE2_NOTEMPTY_ATSTART;
    } else {
      options = 0;
    }
  }
  split_range(run, level + 1, begin + covered, end);
}

}  // namespace

void RegexSplitter::split_with_callback(std::string_view text, std::string& storage, void* context,
                                        PieceFunction fn) const {
  if (text.empty()) return;
  const char* match_text = text.data();
  const char* piece_text = text.data();
  size_t length = text.size();
  if (!is_plain_utf8(text)) {
    // Pieces from the repaired bytes; matching on a copy PCRE2 accepts.
    std::string pieces_part, match_part;
    pieces_part.reserve(text.size() + 8);
    match_part.reserve(text.size() + 8);
    repair_utf8(text, pieces_part, &match_part);
    length = pieces_part.size();
    storage = std::move(pieces_part);
    storage += match_part;
    piece_text = storage.data();
    match_text = storage.data() + length;
  }
  if (regexes_.empty()) {
    fn(context, std::string_view(piece_text, length));
    return;
  }
  // Borrow this thread's match data (a nested split on the same thread makes its own).
  thread_local MatchDataPtr spare_match_data;
  MatchDataPtr match_data = std::move(spare_match_data);
  if (!match_data) match_data.reset(pcre2_match_data_create(1, nullptr));
  if (!match_data) fail("out of memory creating PCRE2 match data");
  const SplitRun run{&regexes_, match_text, piece_text, match_data.get(), context, fn};
  split_range(run, 0, 0, length);
  spare_match_data = std::move(match_data);
}

std::vector<std::string> RegexSplitter::split(std::string_view text) const {
  std::vector<std::string> pieces;
  std::string storage;
  for_each_piece(text, storage, [&](std::string_view piece) { pieces.emplace_back(piece); });
  return pieces;
}

}  // namespace nomoat
