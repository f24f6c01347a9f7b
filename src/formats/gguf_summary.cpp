#include "formats/gguf_summary.h"

#include <algorithm>
#include <cstdio>

namespace nomoat {
namespace {

// Some hyperparameters are per-layer arrays (e.g. head counts of OpenELM):
// report their largest value.
std::optional<uint64_t> integer_or_max(const GgufFile& f, const std::string& key) {
  const GgufValue* v = f.find(key);
  if (v == nullptr) return std::nullopt;
  if (v->is_array()) {
    uint64_t best = 0;
    for (int64_t x : v->to_i64_vector(key)) best = std::max<uint64_t>(best, static_cast<uint64_t>(std::max<int64_t>(x, 0)));
    return best;
  }
  return v->as_u64(f.path() + ": key '" + key + "'");
}

std::optional<double> number(const GgufFile& f, const std::string& key) {
  const GgufValue* v = f.find(key);
  if (v == nullptr) return std::nullopt;
  return v->as_f64(f.path() + ": key '" + key + "'");
}

}  // namespace

GgufSummary summarize(const GgufFile& f) {
  GgufSummary s;
  s.architecture = f.architecture();
  s.name = f.get_string_or("general.name", "");
  s.version = f.version();
  s.file_size = f.file_size();
  s.n_tensors = static_cast<int64_t>(f.tensors().size());
  for (const auto& t : f.tensors()) {
    s.n_params += t.n_elements;
    s.tensor_bytes += t.nbytes;
    GgufTypeUsage& u = s.types[dtype_traits(t.type).name];
    u.tensors += 1;
    u.elements += t.n_elements;
    u.bytes += t.nbytes;
  }
  if (f.find("general.file_type") != nullptr) s.file_type = f.get_u64("general.file_type");
  const std::string a = s.architecture + ".";
  if (!s.architecture.empty()) {
    s.context_length = integer_or_max(f, a + "context_length");
    s.embedding_length = integer_or_max(f, a + "embedding_length");
    s.block_count = integer_or_max(f, a + "block_count");
    s.feed_forward_length = integer_or_max(f, a + "feed_forward_length");
    s.head_count = integer_or_max(f, a + "attention.head_count");
    s.head_count_kv = integer_or_max(f, a + "attention.head_count_kv");
    s.expert_count = integer_or_max(f, a + "expert_count");
    s.expert_used_count = integer_or_max(f, a + "expert_used_count");
    s.vocab_size_key = integer_or_max(f, a + "vocab_size");
    s.rope_freq_base = number(f, a + "rope.freq_base");
    s.norm_epsilon = number(f, a + "attention.layer_norm_rms_epsilon");
    if (!s.norm_epsilon) s.norm_epsilon = number(f, a + "attention.layer_norm_epsilon");
  }
  s.tokenizer_model = f.get_string_or("tokenizer.ggml.model", "");
  s.tokenizer_pre = f.get_string_or("tokenizer.ggml.pre", "");
  if (const GgufValue* tokens = f.find("tokenizer.ggml.tokens")) {
    s.vocab_size = tokens->array_size();
  } else if (s.vocab_size_key) {
    s.vocab_size = s.vocab_size_key;
  }
  if (f.find("tokenizer.ggml.bos_token_id") != nullptr) s.bos_id = f.get_u64("tokenizer.ggml.bos_token_id");
  if (f.find("tokenizer.ggml.eos_token_id") != nullptr) s.eos_id = f.get_u64("tokenizer.ggml.eos_token_id");
  s.has_chat_template = f.find("tokenizer.chat_template") != nullptr;
  return s;
}

std::string human_count(int64_t n) {
  char buf[32];
  const double v = static_cast<double>(n);
  if (n >= 1000000000) {
    std::snprintf(buf, sizeof buf, "%.2fB", v / 1e9);
  } else if (n >= 1000000) {
    std::snprintf(buf, sizeof buf, "%.2fM", v / 1e6);
  } else if (n >= 1000) {
    std::snprintf(buf, sizeof buf, "%.1fK", v / 1e3);
  } else {
    std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(n));
  }
  return buf;
}

std::string human_bytes(uint64_t n) {
  static const char* const kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(n);
  int unit = 0;
  while (v >= 1024.0 && unit < 4) {
    v /= 1024.0;
    ++unit;
  }
  char buf[32];
  if (unit == 0) {
    std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(n));
  } else {
    std::snprintf(buf, sizeof buf, "%.2f %s", v, kUnits[unit]);
  }
  return buf;
}

}  // namespace nomoat
