#include "model/quantize.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <mutex>

#include "base/error.h"
#include "formats/gguf_writer.h"
#include "model/weight_writer.h"

namespace nomoat {
namespace {

// The quantization format version of the blocks nomoat writes (llama.cpp's
// GGML_QNT_VERSION; 2 since the Q4/Q5/Q8 layouts last changed).
constexpr uint32_t kQuantizationVersion = 2;

// An integer hyperparameter that may be a per-layer array: its largest value.
std::optional<uint64_t> integer_key(const GgufFile& f, const std::string& key) {
  const GgufValue* v = f.find(key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_array()) return v->as_u64(key);
  const std::vector<int64_t> items = v->to_i64_vector(key);
  if (items.empty()) return std::nullopt;
  return static_cast<uint64_t>(std::max<int64_t>(0, *std::max_element(items.begin(), items.end())));
}

// Tensors stored as they are: the mix's kept tensors (quant_mix_kept:
// vectors, norms, the MoE router, anything not named as a weight), and
// integer data.
KeptTensor kept_as(const GgufTensorInfo& t) {
  const KeptTensor kept = quant_mix_kept(t.name, t.dims);
  if (kept != KeptTensor::kNo) return kept;
  const DTypeTraits& traits = dtype_traits(t.type);
  const bool encodable = traits.is_quantized || t.type == DType::F32 || t.type == DType::F16 || t.type == DType::BF16;
  return encodable ? KeptTensor::kNo : KeptTensor::kNotFloat;
}

std::string writable_type_names() {
  size_t n = 0;
  const DType* types = convertible_dtypes(&n);
  std::string out;
  for (size_t i = 0; i < n; ++i) out += std::string(i == 0 ? "" : " ") + dtype_traits(types[i]).name;
  return out;
}

std::optional<DType> forced_type(const std::string& option, const std::string& value) {
  if (value.empty()) return std::nullopt;
  const auto t = dtype_from_name(value);
  if (!t || dtype_traits(*t).quantize == nullptr) {
    fail(option, " '", value, "' is not a type nomoat can write (", writable_type_names(), ")");
  }
  return t;
}

// Serializes progress reports from the encoding threads and the writer.
class ProgressReporter {
 public:
  ProgressReporter(const QuantizePlan& plan, const std::function<void(const QuantizeProgress&)>& fn) : plan_(plan), fn_(fn) {}

  // Rows [.., +n_rows) of tensor `index` are being encoded.
  void rows(size_t index, int64_t n_rows) {
    if (!fn_) return;
    std::lock_guard<std::mutex> lock(mutex_);
    if (index != current_) {
      current_ = index;
      current_rows_ = 0;
    }
    current_rows_ += n_rows;
    const QuantizeTensor& t = plan_.tensors[index];
    const int64_t rows = t.dims[0] > 0 ? t.n_elements / t.dims[0] : 0;
    const double part = rows > 0 ? static_cast<double>(std::min(current_rows_, rows)) / static_cast<double>(rows) : 1.0;
    report(index, finished_bytes_ + static_cast<uint64_t>(part * static_cast<double>(t.to_bytes)));
  }

  void finished(size_t index) {
    if (!fn_) return;
    std::lock_guard<std::mutex> lock(mutex_);
    finished_bytes_ += plan_.tensors[index].to_bytes;
    current_ = index;
    current_rows_ = 0;
    report(index, finished_bytes_);
  }

 private:
  void report(size_t index, uint64_t done) {
    QuantizeProgress p;
    p.index = index;
    p.n_tensors = plan_.tensors.size();
    p.tensor = &plan_.tensors[index];
    p.done_bytes = done;
    p.total_bytes = plan_.to_bytes;
    fn_(p);
  }

  const QuantizePlan& plan_;
  const std::function<void(const QuantizeProgress&)>& fn_;
  std::mutex mutex_;
  size_t current_ = static_cast<size_t>(-1);
  int64_t current_rows_ = 0;
  uint64_t finished_bytes_ = 0;
};

// The output must not be the input under another name: writing it would
// truncate the file the weights are being read from.
void refuse_input_as_output(const std::string& in_path, const std::string& out_path) {
  namespace fs = std::filesystem;
  auto same_file = [&](const std::string& p) {
    std::error_code ec;
    return p == in_path || (fs::exists(p, ec) && fs::equivalent(in_path, p, ec));
  };
  if (same_file(out_path)) fail(out_path, ": is the input file; write the quantized model to another path");
  if (same_file(out_path + ".partial")) fail(out_path, ".partial (the temporary output) is the input file; choose another output path");
}

}  // namespace

QuantModelFacts quant_model_facts(const GgufFile& f) {
  QuantModelFacts facts;
  facts.arch = f.architecture();
  const std::string a = facts.arch + ".";
  int64_t max_layer = -1;
  for (const auto& t : f.tensors()) {
    if (t.name.rfind("blk.", 0) == 0) max_layer = std::max<int64_t>(max_layer, std::atoll(t.name.c_str() + 4));
  }
  facts.n_layer = static_cast<int64_t>(integer_key(f, a + "block_count").value_or(static_cast<uint64_t>(max_layer + 1)));
  facts.n_head = static_cast<int64_t>(integer_key(f, a + "attention.head_count").value_or(1));
  facts.n_head_kv = static_cast<int64_t>(integer_key(f, a + "attention.head_count_kv").value_or(static_cast<uint64_t>(facts.n_head)));
  facts.n_expert = static_cast<int64_t>(integer_key(f, a + "expert_count").value_or(0));
  facts.has_output = f.find_tensor("output.weight") != nullptr;
  return facts;
}

QuantizePlan plan_quantize(const GgufFile& in, const QuantizeOptions& o) {
  const auto found = find_quant_mix(o.type);
  if (!found) fail("unknown quantization type '", o.type, "' (known: ", quant_mix_names(), ")");
  QuantizePlan plan;
  plan.mix = o.pure ? pure_quant_mix(found->base) : *found;
  plan.facts = quant_model_facts(in);
  const std::optional<DType> output_type = forced_type("--output-type", o.output_type);
  const std::optional<DType> embedding_type = forced_type("--embedding-type", o.embedding_type);
  if (output_type && embedding_type && !plan.facts.has_output) {
    fail(in.path(), ": --output-type and --embedding-type both name token_embd.weight (the model has no output.weight: "
         "the embedding is the output matrix); give only one");
  }
  const GgufTensorInfo* first_requantized = nullptr;
  for (const GgufTensorInfo& t : in.tensors()) {
    QuantizeTensor q;
    q.name = t.name;
    q.dims = t.dims;
    q.n_elements = t.n_elements;
    q.from = t.type;
    q.from_bytes = t.nbytes;
    q.kept_as = kept_as(t);
    q.kept = q.kept_as != KeptTensor::kNo;
    if (q.kept) {
      q.to = t.type;
    } else {
      // The output matrix is token_embd when the model has no output.weight.
      const bool is_output = t.name == "output.weight" || (!plan.facts.has_output && t.name == "token_embd.weight");
      std::optional<DType> forced;
      const char* option = "";
      if (is_output && output_type) {
        forced = output_type;
        option = "--output-type";
      } else if (t.name == "token_embd.weight" && embedding_type) {
        forced = embedding_type;
        option = "--embedding-type";
      }
      if (forced) {
        const DTypeTraits& traits = dtype_traits(*forced);
        if (t.dims[0] % traits.block_size != 0) {
          fail(option, " ", traits.name, " does not fit tensor '", t.name, "': its rows of ", t.dims[0], " values are not a multiple of ",
               traits.name, "'s ", traits.block_size, "-value blocks");
        }
        q.to = *forced;
      } else {
        q.to = quant_mix_type(plan.mix, t.name, t.dims, plan.facts);
      }
    }
    if (q.to != q.from) {
      if (dtype_traits(q.from).dequantize == nullptr) {
        fail(in.path(), ": tensor '", t.name, "' is ", dtype_traits(q.from).name, ", which nomoat cannot decode to re-encode as ", dtype_traits(q.to).name);
      }
      if (dtype_traits(q.from).is_quantized) {
        ++plan.n_requantized;
        if (first_requantized == nullptr) first_requantized = &t;
      }
    }
    q.to_bytes = dtype_row_bytes(q.to, t.dims[0]) * static_cast<uint64_t>(t.rows());
    plan.n_elements += q.n_elements;
    plan.from_bytes += q.from_bytes;
    plan.to_bytes += q.to_bytes;
    plan.tensors.push_back(std::move(q));
  }
  if (first_requantized != nullptr && !o.allow_requantize) {
    fail(in.path(), ": tensor '", first_requantized->name, "' is already ", dtype_traits(first_requantized->type).name,
         "; quantizing it again loses quality (pass --allow-requantize to do it anyway, or start from the F16/BF16/F32 model)");
  }
  return plan;
}

QuantizeResult write_quantized(const GgufFile& in, const QuantizePlan& plan, const std::string& out_path, int threads,
                               const std::function<void(const QuantizeProgress&)>& progress) {
  const auto start = std::chrono::steady_clock::now();
  refuse_input_as_output(in.path(), out_path);
  check_gguf_output_path(out_path);  // before the work, not at the final rename
  if (plan.tensors.size() != in.tensors().size()) fail(in.path(), ": the quantization plan was made for another file");
  QuantizeResult r;
  r.plan = plan;
  r.in_file_size = in.file_size();

  GgufWriter w(in.alignment());
  for (const auto& [key, value] : in.metadata()) w.set(key, value);
  w.set("general.file_type", GgufValue::u32(plan.mix.file_type));
  const bool any_quantized =
      std::any_of(plan.tensors.begin(), plan.tensors.end(), [](const QuantizeTensor& t) { return dtype_traits(t.to).is_quantized; });
  if (any_quantized) {
    w.set("general.quantization_version", GgufValue::u32(kQuantizationVersion));
  } else {
    w.remove("general.quantization_version");
  }

  ProgressReporter reporter(plan, progress);
  std::vector<WeightSource> sources;
  sources.reserve(plan.tensors.size());
  for (size_t i = 0; i < plan.tensors.size(); ++i) {
    const GgufTensorInfo& t = in.tensors()[i];
    WeightSource s;
    s.name = t.name;
    s.dims = t.dims;
    s.type = t.type;
    s.raw = t.data;
    s.forced_type = plan.tensors[i].to;
    const size_t row_bytes = dtype_row_bytes(t.type, t.dims[0]);
    const DequantizeFn decode = dtype_traits(t.type).dequantize;
    const int64_t cols = t.dims[0];
    const uint8_t* data = t.data;
    s.read_rows = [&reporter, i, decode, data, row_bytes, cols](int64_t r0, int64_t n_rows, float* out) {
      reporter.rows(i, n_rows);
      decode(data + static_cast<size_t>(r0) * row_bytes, out, n_rows * cols);
    };
    sources.push_back(std::move(s));
  }
  add_weights(w, sources, plan.mix, plan.facts, threads);
  w.write(out_path, [&](size_t done, size_t, uint64_t, uint64_t) { reporter.finished(done - 1); });
  std::error_code ec;
  r.out_file_size = std::filesystem::file_size(out_path, ec);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

QuantizeResult quantize_model(const std::string& in_path, const std::string& out_path, const QuantizeOptions& o,
                              const std::function<void(const QuantizeProgress&)>& progress) {
  const auto start = std::chrono::steady_clock::now();
  const GgufFile in = GgufFile::open(in_path);
  QuantizeResult r = write_quantized(in, plan_quantize(in, o), out_path, o.threads, progress);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

}  // namespace nomoat
