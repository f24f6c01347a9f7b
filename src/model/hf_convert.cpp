#include "model/hf_convert.h"

#include <algorithm>
#include <filesystem>

#include "base/error.h"
#include "formats/gguf_writer.h"
#include "formats/safetensors_folder.h"
#include "model/hf_arch.h"
#include "model/quant_mix.h"
#include "tokenizer/vocab.h"

namespace nomoat {
namespace {

namespace fs = std::filesystem;

// Small files a conversion may read besides the weights.
const char* const kConfigFiles[] = {"config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json",
                                    "chat_template.jinja"};

struct Part {
  const SafetensorsFile* file;
  const SafetensorsTensor* tensor;
};

std::string shape_string(const std::vector<int64_t>& dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) s += (i > 0 ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}

// The HF shape (outermost first) of one part of a GGUF tensor: 1-D as it
// is; [cols, rows] is HF [rows, cols]; an expert's slice of [cols, rows, E]
// is HF [rows, cols].
std::vector<int64_t> hf_shape(const std::vector<int64_t>& dims) {
  if (dims.size() == 1) return dims;
  return {dims[1], dims[0]};
}

DType gguf_type_of(StDType t) {
  switch (t) {
    case StDType::F32: return DType::F32;
    case StDType::F16: return DType::F16;
    default: return DType::BF16;
  }
}

// The plan: hyperparameters, keys and tensor names for the folder's class.
HfPlan make_plan(const HfConfig& config, const HfArchitecture& arch, const SafetensorsFolder& weights) {
  HfPlan p;
  p.arch = arch.gguf_arch;
  read_hf_hparams(config, arch, p);
  if (arch.configure != nullptr) arch.configure(config, p);
  if (p.hp.n_vocab == 0) {
    // Some configs leave vocab_size to the class default: the embedding says.
    const auto* embd = weights.find("model.embed_tokens.weight");
    if (embd != nullptr && embd->tensor->shape.size() == 2) p.hp.n_vocab = embd->tensor->shape[0];
    if (p.hp.n_vocab <= 0) config.bad("vocab_size", "is missing and the embedding does not give it");
  }
  p.set("vocab_size", GgufValue::u32(static_cast<uint32_t>(p.hp.n_vocab)));
  plan_hf_tensors(arch, p);
  return p;
}

WeightSource make_source(const HfTensorMap& m, std::vector<Part> parts, const HfHparams& h) {
  WeightSource s;
  s.name = m.gguf;
  s.dims = m.dims;
  s.type = gguf_type_of(parts[0].tensor->dtype);
  if (parts.size() == 1 && m.rows == HfRows::kCopy) s.raw = parts[0].tensor->data;
  const int64_t cols = m.dims[0];
  int64_t rows = 1;
  for (size_t i = 1; i < m.dims.size(); ++i) rows *= m.dims[i];
  const int64_t rows_per_part = rows / static_cast<int64_t>(parts.size());
  const int64_t head_rows = m.rows == HfRows::kPermuteQ || m.rows == HfRows::kPermuteK ? h.head_dim : 0;
  const bool add_one = m.rows == HfRows::kAddOne;
  s.read_rows = [parts = std::move(parts), cols, rows_per_part, head_rows, add_one](int64_t first, int64_t n, float* out) {
    for (int64_t r = first; r < first + n; ++r) {
      const Part& part = parts[static_cast<size_t>(r / rows_per_part)];
      int64_t row = r % rows_per_part;
      if (head_rows > 0) {
        // GGUF row 2i of a head is HF row i, row 2i + 1 is HF row i + d/2.
        const int64_t head = row / head_rows, j = row % head_rows;
        row = head * head_rows + (j % 2) * (head_rows / 2) + j / 2;
      }
      float* dst = out + (r - first) * cols;
      part.file->read_floats(*part.tensor, row * cols, cols, dst);
      if (add_one) {
        for (int64_t c = 0; c < cols; ++c) dst[c] += 1.0f;
      }
    }
  };
  return s;
}

// Finds and checks the HF tensors of every planned GGUF tensor.
std::vector<WeightSource> weight_sources(const std::string& dir, const HfPlan& p, const SafetensorsFolder& weights,
                                         std::vector<std::string>* used) {
  std::vector<WeightSource> sources;
  for (const HfTensorMap& m : p.tensors) {
    std::vector<Part> parts;
    for (const std::string& name : m.hf) {
      const SafetensorsFolder::Entry* e = weights.find(name);
      if (e == nullptr) {
        fail(dir, ": missing tensor '", name, "' (GGUF '", m.gguf, "' is made from it",
             name == "lm_head.weight" ? "; tie_word_embeddings is false" : "", ")");
      }
      const std::vector<int64_t> want = hf_shape(m.dims);
      if (e->tensor->shape != want) {
        fail(e->file->path(), ": tensor '", name, "' has shape ", e->tensor->shape_string(), ", expected ", shape_string(want),
             " (for GGUF '", m.gguf, "')");
      }
      if (!st_dtype_is_float(e->tensor->dtype)) {
        fail(e->file->path(), ": tensor '", name, "' has dtype ", st_dtype_name(e->tensor->dtype),
             "; conversion reads F32, F16 and BF16 weights (quantized or integer checkpoints are not supported)");
      }
      parts.push_back({e->file, e->tensor});
      used->push_back(name);
    }
    sources.push_back(make_source(m, std::move(parts), p.hp));
  }
  for (const HfGeneratedTensor& g : p.generated) {
    WeightSource s;
    s.name = g.gguf;
    s.dims = {static_cast<int64_t>(g.values.size())};
    s.forced_type = DType::F32;
    s.raw = g.values.data();
    s.read_rows = [&g](int64_t, int64_t, float* out) { std::copy(g.values.begin(), g.values.end(), out); };
    sources.push_back(std::move(s));
  }
  return sources;
}

// Tokenizer: padded with unused control tokens up to the embedding's rows
// (as other converters do), and generation_config.json's end ids kept where
// GGUF has keys for them (eos, eot).
Vocab read_vocab(const std::string& dir, int64_t n_vocab, const std::function<void(const std::string&)>& note) {
  Vocab v = load_vocab_hf(dir);
  const std::string source = (fs::path(dir) / "tokenizer.json").string();
  if (v.pre == "hf-custom") {
    fail(source, ": its pre-tokenizer regexes match no tokenizer.ggml.pre name, so GGUF cannot carry them");
  }
  if (static_cast<int64_t>(v.size()) > n_vocab) {
    fail(source, ": has ", v.size(), " tokens but the model's vocab_size is ", n_vocab);
  }
  // What a GGUF reader will derive from eos/eot/known texts; the rest of
  // generation_config's ids need those two keys.
  Vocab derived = v;
  derived.finalize(source);
  std::vector<TokenId> missing;
  for (TokenId id : v.eog) {
    if (std::find(derived.eog.begin(), derived.eog.end(), id) == derived.eog.end()) missing.push_back(id);
  }
  if (!missing.empty() && v.eos == kNoToken) {
    v.eos = missing.front();
    missing.erase(missing.begin());
  }
  if (!missing.empty() && derived.eot == kNoToken) {
    v.eot = missing.front();
    missing.erase(missing.begin());
  }
  if (!missing.empty() && note) {
    std::string ids;
    for (TokenId id : missing) ids += (ids.empty() ? "" : ", ") + std::to_string(id);
    note("generation_config.json also ends generation on token ids " + ids + ", which GGUF has no key for");
  }
  const int64_t n_pad = n_vocab - static_cast<int64_t>(v.size());
  for (int64_t i = static_cast<int64_t>(v.size()); i < n_vocab; ++i) {
    v.tokens.push_back("[PAD" + std::to_string(i) + "]");
    if (!v.scores.empty()) v.scores.push_back(0.0f);
    if (!v.types.empty()) v.types.push_back(TokenType::kControl);
    if (!v.strip.empty()) v.strip.push_back(0);
  }
  if (n_pad > 0 && note) note("tokenizer padded with " + std::to_string(n_pad) + " unused tokens to the embedding's " + std::to_string(n_vocab) + " rows");
  return v;
}

void check_output(const std::string& dir, const std::string& out) {
  check_gguf_output_path(out);
  if (!fs::exists(out)) return;
  std::error_code ec;
  if (fs::equivalent(out, dir, ec)) fail(out, ": is the input folder");
  for (const std::string& in : hf_input_files(dir)) {
    if (fs::exists(in) && fs::equivalent(out, in, ec)) fail(out, ": is one of the input files; refusing to overwrite it");
  }
}

}  // namespace

bool is_hf_folder(const std::string& path) {
  std::error_code ec;
  return fs::is_directory(path, ec) && fs::exists(fs::path(path) / "config.json", ec);
}

std::vector<std::string> hf_input_files(const std::string& dir) {
  std::vector<std::string> files;
  for (const char* name : kConfigFiles) {
    const fs::path p = fs::path(dir) / name;
    if (fs::exists(p)) files.push_back(p.string());
  }
  for (const std::string& w : SafetensorsFolder::weight_files(dir)) files.push_back(w);
  return files;
}

HfConvertResult convert_hf_folder(const std::string& dir, const std::string& out, const HfConvertOptions& options) {
  if (!fs::is_directory(dir)) fail(dir, ": not a folder (a Hugging Face model folder holds config.json and *.safetensors)");
  const HfConfig config = HfConfig::load(dir);
  const std::string class_name = config.architecture();
  const HfArchitecture* arch = find_hf_architecture(class_name);
  if (arch == nullptr) {
    fail(config.path(), ": architecture '", class_name, "' is not supported (supported: ", hf_architecture_names(), ")");
  }
  check_output(dir, out);
  const SafetensorsFolder weights = SafetensorsFolder::open(dir);
  const HfPlan plan = make_plan(config, *arch, weights);
  auto note = [&](const std::string& line) {
    if (options.note) options.note(line);
  };
  for (const std::string& n : plan.notes) note(n);

  std::vector<std::string> used;
  const std::vector<WeightSource> sources = weight_sources(dir, plan, weights, &used);
  std::sort(used.begin(), used.end());
  std::vector<std::string> unused;
  for (const std::string& name : weights.names()) {
    // Rotary buffers some checkpoints save are recomputed from the config.
    if (name.ends_with("rotary_emb.inv_freq")) continue;
    if (!std::binary_search(used.begin(), used.end(), name)) unused.push_back(name);
  }
  if (!unused.empty()) {
    note(std::to_string(unused.size()) + " tensor(s) not used by GGUF " + plan.arch + ", e.g. '" + unused[0] + "'" +
         (unused[0] == "lm_head.weight" ? " (tie_word_embeddings is true)" : ""));
  }

  const Vocab vocab = read_vocab(dir, plan.hp.n_vocab, options.note);

  std::string type = options.type;
  if (type.empty()) type = sources[0].type == DType::BF16 ? "bf16" : "f16";  // the embedding's type decides
  const auto mix = find_quant_mix(type);
  if (!mix) fail("--type '", type, "' is not a preset or type nomoat can write (", quant_mix_names(), ")");

  GgufWriter w;
  w.set("general.architecture", GgufValue::string(plan.arch));
  w.set("general.name", GgufValue::string(config.get_string_or("_name_or_path", fs::absolute(dir).lexically_normal().filename().string())));
  w.set("general.file_type", GgufValue::u32(mix->file_type));
  if (dtype_traits(mix->base).is_quantized) w.set("general.quantization_version", GgufValue::u32(2));
  for (const auto& [key, value] : plan.keys) w.set(key, value);
  write_vocab_gguf(vocab, w);
  const QuantModelFacts facts{plan.arch, plan.hp.n_layer, plan.hp.n_head, plan.hp.n_head_kv, plan.hp.n_expert, !plan.hp.tied};

  HfConvertResult result;
  result.hf_arch = class_name;
  result.gguf_arch = plan.arch;
  result.mix = mix->name;
  result.plan = add_weights(w, sources, *mix, facts, options.threads);
  result.n_tensors = result.plan.size();
  result.bytes = w.data_size();
  w.write(out, options.progress);
  return result;
}

}  // namespace nomoat
