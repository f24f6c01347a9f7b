// The facts about a GGUF model that people ask first: what it is, how big,
// how it is quantized, and what its tokenizer and hyperparameters are.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "formats/gguf.h"

namespace nomoat {

struct GgufTypeUsage {
  int64_t tensors = 0;
  int64_t elements = 0;
  uint64_t bytes = 0;
};

struct GgufSummary {
  std::string architecture;   // general.architecture ("" if absent)
  std::string name;           // general.name
  uint32_t version = 0;
  uint64_t file_size = 0;
  int64_t n_tensors = 0;
  int64_t n_params = 0;       // total elements over all tensors
  uint64_t tensor_bytes = 0;
  std::map<std::string, GgufTypeUsage> types;  // by type name
  std::optional<uint64_t> file_type;           // general.file_type
  // Hyperparameters under "<arch>.": absent when the file does not say.
  std::optional<uint64_t> context_length, embedding_length, block_count, feed_forward_length,
      head_count, head_count_kv, expert_count, expert_used_count, vocab_size_key;
  std::optional<double> rope_freq_base, norm_epsilon;
  // Tokenizer.
  std::string tokenizer_model;  // tokenizer.ggml.model ("llama", "gpt2", "bert", ...)
  std::string tokenizer_pre;    // tokenizer.ggml.pre
  std::optional<uint64_t> vocab_size;  // number of tokens in tokenizer.ggml.tokens
  std::optional<uint64_t> bos_id, eos_id;
  bool has_chat_template = false;

  double bits_per_weight() const {
    return n_params > 0 ? 8.0 * static_cast<double>(tensor_bytes) / static_cast<double>(n_params) : 0.0;
  }
};

GgufSummary summarize(const GgufFile& file);

// "1.24B", "260.1K", "7.00M": a parameter count people can read.
std::string human_count(int64_t n);
// "4.07 GiB", "1.2 MiB".
std::string human_bytes(uint64_t n);

}  // namespace nomoat
