// `nomoat info FILE.gguf`: what a model file is, in a screen or as JSON.
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/commands.h"
#include "formats/gguf.h"
#include "formats/gguf_summary.h"
#include "model/hf_cache.h"
#include "model/hf_convert.h"

namespace nomoat::cli {
namespace {

using nlohmann::json;

constexpr size_t kArrayPreview = 16;

json value_to_json(const GgufValue& v, bool full) {
  switch (v.type()) {
    case GgufType::BOOL: return v.as_bool();
    case GgufType::F32:
    case GgufType::F64: return v.raw_float();
    case GgufType::STRING: return v.as_string();
    case GgufType::U64: return static_cast<uint64_t>(v.raw_integer());
    case GgufType::ARRAY: {
      const size_t n = v.array_size();
      const size_t shown = full ? n : std::min(n, kArrayPreview);
      json items = json::array();
      for (size_t i = 0; i < shown; ++i) items.push_back(value_to_json(v.item(i), full));
      if (shown == n) return items;
      // Long arrays (vocabularies, merges) are summarized unless --full.
      return json{{"array_of", gguf_type_name(v.array_type())}, {"length", n}, {"first", items}};
    }
    default: return v.raw_integer();
  }
}

template <typename T>
void put_optional(json& j, const char* key, const std::optional<T>& v) {
  if (v) j[key] = *v;
}

json summary_json(const GgufFile& f, const GgufSummary& s, bool full) {
  json j;
  j["file"] = f.path();
  j["file_size"] = s.file_size;
  j["gguf_version"] = s.version;
  j["alignment"] = f.alignment();
  j["architecture"] = s.architecture;
  j["name"] = s.name;
  j["n_params"] = s.n_params;
  j["n_tensors"] = s.n_tensors;
  j["tensor_bytes"] = s.tensor_bytes;
  j["bits_per_weight"] = s.bits_per_weight();
  put_optional(j, "file_type", s.file_type);
  put_optional(j, "context_length", s.context_length);
  put_optional(j, "embedding_length", s.embedding_length);
  put_optional(j, "block_count", s.block_count);
  put_optional(j, "feed_forward_length", s.feed_forward_length);
  put_optional(j, "head_count", s.head_count);
  put_optional(j, "head_count_kv", s.head_count_kv);
  put_optional(j, "expert_count", s.expert_count);
  put_optional(j, "expert_used_count", s.expert_used_count);
  put_optional(j, "rope_freq_base", s.rope_freq_base);
  put_optional(j, "norm_epsilon", s.norm_epsilon);
  j["tokenizer_model"] = s.tokenizer_model;
  j["tokenizer_pre"] = s.tokenizer_pre;
  put_optional(j, "vocab_size", s.vocab_size);
  put_optional(j, "bos_token_id", s.bos_id);
  put_optional(j, "eos_token_id", s.eos_id);
  j["has_chat_template"] = s.has_chat_template;
  json types = json::object();
  for (const auto& [name, u] : s.types) {
    types[name] = {{"tensors", u.tensors}, {"elements", u.elements}, {"bytes", u.bytes}};
  }
  j["types"] = types;
  json meta = json::object();
  for (const auto& [key, value] : f.metadata()) meta[key] = value_to_json(value, full);
  j["metadata"] = meta;
  json tensors = json::array();
  for (const auto& t : f.tensors()) {
    tensors.push_back({{"name", t.name},
                       {"type", dtype_traits(t.type).name},
                       {"shape", t.dims},
                       {"offset", f.data_offset() + t.offset},
                       {"bytes", t.nbytes}});
  }
  j["tensors"] = tensors;
  return j;
}

std::string opt_str(const std::optional<uint64_t>& v) { return v ? std::to_string(*v) : "-"; }

void print_text(const GgufFile& f, const GgufSummary& s) {
  std::printf("file:            %s (%s, GGUF v%u)\n", f.path().c_str(), human_bytes(s.file_size).c_str(),
              s.version);
  std::printf("architecture:    %s\n", s.architecture.empty() ? "(none)" : s.architecture.c_str());
  if (!s.name.empty()) std::printf("name:            %s\n", s.name.c_str());
  std::printf("parameters:      %s (%lld)\n", human_count(s.n_params).c_str(),
              static_cast<long long>(s.n_params));
  std::printf("tensors:         %lld, %s, %.2f bits per weight\n", static_cast<long long>(s.n_tensors),
              human_bytes(s.tensor_bytes).c_str(), s.bits_per_weight());
  for (const auto& [name, u] : s.types) {
    std::printf("  %-8s %5lld tensors %10s params %12s\n", name.c_str(), static_cast<long long>(u.tensors),
                human_count(u.elements).c_str(), human_bytes(u.bytes).c_str());
  }
  if (!s.architecture.empty()) {
    std::printf("context length:  %s\n", opt_str(s.context_length).c_str());
    std::printf("embedding size:  %s\n", opt_str(s.embedding_length).c_str());
    std::printf("layers:          %s\n", opt_str(s.block_count).c_str());
    std::printf("heads:           %s (KV heads %s)\n", opt_str(s.head_count).c_str(),
                opt_str(s.head_count_kv ? s.head_count_kv : s.head_count).c_str());
    std::printf("feed forward:    %s\n", opt_str(s.feed_forward_length).c_str());
    if (s.expert_count) {
      std::printf("experts:         %s (%s used per token)\n", opt_str(s.expert_count).c_str(),
                  opt_str(s.expert_used_count).c_str());
    }
  }
  if (s.tokenizer_model.empty()) {
    std::printf("tokenizer:       (none)\n");
  } else {
    std::printf("tokenizer:       %s%s%s, vocab %s\n", s.tokenizer_model.c_str(),
                s.tokenizer_pre.empty() ? "" : " / pre ", s.tokenizer_pre.c_str(), opt_str(s.vocab_size).c_str());
  }
  std::printf("chat template:   %s\n", s.has_chat_template ? "yes" : "no");
}

}  // namespace

void add_info(CLI::App& app, Action& action) {
  auto* cmd = app.add_subcommand("info", "Describe a GGUF model file (or Hugging Face folder): architecture, size, types, tokenizer");
  struct Options {
    std::string path;
    bool json = false;
    bool full = false;
  };
  auto opts = std::make_shared<Options>();
  cmd->add_option("file", opts->path, "GGUF file or Hugging Face model folder")->required();
  cmd->add_flag("--json", opts->json, "Print a JSON object with the facts, all metadata and the tensor table");
  cmd->add_flag("--full", opts->full, "With --json: print arrays in full (default: first 16 items)");
  cmd->callback([opts, &action] {
    action = [opts] {
      // A Hugging Face folder: its cached conversion (model/hf_cache.h).
      std::string path = opts->path;
      if (is_hf_folder(path)) {
        path = hf_folder_gguf(path, [](const std::string& line) { std::fprintf(stderr, "nomoat: %s\n", line.c_str()); });
        if (!opts->json) std::printf("source:          %s (Hugging Face folder)\n", opts->path.c_str());
      }
      const GgufFile f = GgufFile::open(path);
      const GgufSummary s = summarize(f);
      if (opts->json) {
        std::printf("%s\n",
                    summary_json(f, s, opts->full).dump(2, ' ', false, json::error_handler_t::replace).c_str());
      } else {
        print_text(f, s);
      }
      return 0;
    };
  });
}

}  // namespace nomoat::cli
