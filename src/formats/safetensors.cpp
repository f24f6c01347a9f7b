#include "formats/safetensors.h"

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>
#include <unordered_set>

#include "base/error.h"
#include "base/fp16.h"
#include "base/mmap.h"
#include "formats/json_file.h"

namespace nomoat {
namespace {

using Json = nlohmann::json;

struct DTypeInfo {
  StDType type;
  const char* name;
  size_t size;
};
constexpr DTypeInfo kDTypes[] = {
    {StDType::F64, "F64", 8},  {StDType::F32, "F32", 4},         {StDType::F16, "F16", 2},
    {StDType::BF16, "BF16", 2}, {StDType::I64, "I64", 8},        {StDType::I32, "I32", 4},
    {StDType::I16, "I16", 2},  {StDType::I8, "I8", 1},           {StDType::U64, "U64", 8},
    {StDType::U32, "U32", 4},  {StDType::U16, "U16", 2},         {StDType::U8, "U8", 1},
    {StDType::BOOL, "BOOL", 1}, {StDType::F8_E4M3, "F8_E4M3", 1}, {StDType::F8_E5M2, "F8_E5M2", 1},
};

const DTypeInfo& info(StDType t) {
  for (const DTypeInfo& d : kDTypes) {
    if (d.type == t) return d;
  }
  return kDTypes[0];  // unreachable: every enumerator is in the table
}

// The deepest [ / { nesting of a JSON text (strings skipped), stopping once
// past `limit`: refused before parsing, so no input can nest without bound.
int json_depth(std::string_view text, int limit) {
  int depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '[' || c == '{') deepest = std::max(deepest, ++depth);
    else if (c == ']' || c == '}') --depth;
    if (deepest > limit) break;
  }
  return deepest;
}

}  // namespace

const char* st_dtype_name(StDType t) { return info(t).name; }
size_t st_dtype_size(StDType t) { return info(t).size; }

bool st_dtype_from_name(std::string_view name, StDType* out) {
  for (const DTypeInfo& d : kDTypes) {
    if (name == d.name) {
      *out = d.type;
      return true;
    }
  }
  return false;
}

bool st_dtype_is_float(StDType t) { return t == StDType::F32 || t == StDType::F16 || t == StDType::BF16; }

std::string SafetensorsTensor::shape_string() const {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i > 0 ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

SafetensorsFile::SafetensorsFile(SafetensorsFile&&) noexcept = default;
SafetensorsFile& SafetensorsFile::operator=(SafetensorsFile&&) noexcept = default;
SafetensorsFile::~SafetensorsFile() = default;

SafetensorsFile SafetensorsFile::open(const std::string& path) {
  SafetensorsFile f;
  f.path_ = path;
  f.mapping_ = std::make_unique<MappedFile>(path);
  f.bytes_ = f.mapping_->bytes();
  f.parse_all();
  return f;
}

SafetensorsFile SafetensorsFile::parse(std::span<const uint8_t> bytes, std::string name) {
  SafetensorsFile f;
  f.path_ = std::move(name);
  f.bytes_ = bytes;
  f.parse_all();
  return f;
}

void SafetensorsFile::parse_all() {
  const std::string& file = path_;
  if (bytes_.size() < 8) {
    fail(file, ": truncated: ", bytes_.size(), " bytes, too short for the 8-byte header length (not a safetensors file?)");
  }
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | bytes_[static_cast<size_t>(i)];  // little-endian
  if (n > kSafetensorsMaxHeader) {
    fail(file, ": header length ", n, " exceeds the limit of ", kSafetensorsMaxHeader, " bytes (not a safetensors file?)");
  }
  if (n > bytes_.size() - 8) {
    fail(file, ": header length ", n, " extends past the end of the file (", bytes_.size(), " bytes; truncated?)");
  }
  header_size_ = n;
  const std::string_view text(reinterpret_cast<const char*>(bytes_.data() + 8), static_cast<size_t>(n));
  if (json_depth(text, kSafetensorsMaxJsonDepth) > kSafetensorsMaxJsonDepth) {
    fail(file, ": JSON header nests deeper than ", kSafetensorsMaxJsonDepth, " levels");
  }
  // nlohmann::json sorts an object's members, so the header's order is
  // taken from the parser as it goes (nlohmann::ordered_json would keep it
  // too, but inserts in linear time: quadratic in a crafted 100 MB header).
  // Duplicate names would silently replace each other in the parsed object.
  std::unordered_set<std::string> seen;
  std::vector<std::string> order, metadata_order;
  std::string duplicate, top_key;
  const auto note_key = [&](int depth, Json::parse_event_t event, Json& parsed) {
    if (event != Json::parse_event_t::key || !parsed.is_string()) return true;
    if (depth == 1) {
      top_key = parsed.get<std::string>();
      if (!seen.insert(top_key).second) {
        if (duplicate.empty()) duplicate = top_key;
      } else {
        order.push_back(top_key);
      }
    } else if (depth == 2 && top_key == "__metadata__") {
      metadata_order.push_back(parsed.get<std::string>());
    }
    return true;
  };
  Json header;
  try {
    header = Json::parse(text.begin(), text.end(), note_key);
  } catch (const Json::exception& e) {
    fail(file, ": the JSON header is invalid (", std::string(e.what()).substr(0, 200), ")");
  }
  if (!header.is_object()) fail(file, ": the JSON header is ", json_kind(header), ", not an object");
  if (!duplicate.empty()) fail(file, ": tensor '", duplicate.substr(0, 200), "' is listed twice in the header");

  const uint64_t data_size = bytes_.size() - 8 - n;
  const uint8_t* data = bytes_.data() + 8 + n;
  for (const std::string& name : order) {
    const Json& entry = header.at(name);
    if (name == "__metadata__") {
      if (!entry.is_object()) fail(file, ": '__metadata__' is ", json_kind(entry), ", not a map of strings");
      std::unordered_set<std::string> listed;
      for (const std::string& key : metadata_order) {
        if (!listed.insert(key).second) continue;  // a repeated key: its last value, once
        const Json& value = entry.at(key);
        if (!value.is_string()) fail(file, ": '__metadata__' key '", key, "' is ", json_kind(value), ", not a string");
        metadata_.emplace_back(key, value.get<std::string>());
      }
      continue;
    }
    const std::string label = "tensor '" + name.substr(0, 200) + "'";
    if (name.empty()) fail(file, ": a tensor has an empty name");
    if (!entry.is_object()) fail(file, ": ", label, " is ", json_kind(entry), ", not an object");
    SafetensorsTensor t;
    t.name = name;
    const auto dtype = entry.find("dtype");
    if (dtype == entry.end() || !dtype->is_string()) fail(file, ": ", label, ": field 'dtype' is missing or not a string");
    if (!st_dtype_from_name(dtype->get<std::string>(), &t.dtype)) {
      fail(file, ": ", label, ": unknown dtype '", dtype->get<std::string>().substr(0, 40), "'");
    }
    const auto shape = entry.find("shape");
    if (shape == entry.end() || !shape->is_array()) fail(file, ": ", label, ": field 'shape' is missing or not an array");
    for (const Json& d : *shape) {
      if (!d.is_number_unsigned()) fail(file, ": ", label, ": field 'shape' holds ", json_kind(d), ", not a non-negative integer");
      const uint64_t dim = d.get<uint64_t>();
      if (dim > static_cast<uint64_t>(INT64_MAX) ||
          __builtin_mul_overflow(t.n_elements, static_cast<int64_t>(dim), &t.n_elements)) {
        fail(file, ": ", label, ": the element count of its shape overflows");
      }
      t.shape.push_back(static_cast<int64_t>(dim));
    }
    const auto offsets = entry.find("data_offsets");
    if (offsets == entry.end() || !offsets->is_array() || offsets->size() != 2 || !(*offsets)[0].is_number_unsigned() ||
        !(*offsets)[1].is_number_unsigned()) {
      fail(file, ": ", label, ": field 'data_offsets' must be [begin, end] of non-negative integers");
    }
    t.begin = (*offsets)[0].get<uint64_t>();
    t.end = (*offsets)[1].get<uint64_t>();
    if (t.begin > t.end) fail(file, ": ", label, ": data_offsets [", t.begin, ", ", t.end, "] begin after they end");
    if (t.end > data_size) {
      fail(file, ": ", label, ": data_offsets [", t.begin, ", ", t.end, "] extend past the end of the data area (",
           data_size, " bytes; the file may be truncated)");
    }
    uint64_t need = 0;
    if (__builtin_mul_overflow(static_cast<uint64_t>(t.n_elements), st_dtype_size(t.dtype), &need)) {
      fail(file, ": ", label, ": shape ", t.shape_string(), " x ", st_dtype_size(t.dtype), "-byte ", st_dtype_name(t.dtype),
           " overflows a 64-bit byte count");
    }
    if (need != t.nbytes()) {
      fail(file, ": ", label, ": shape ", t.shape_string(), " of ", st_dtype_name(t.dtype), " needs ", need,
           " bytes but data_offsets [", t.begin, ", ", t.end, "] hold ", t.nbytes());
    }
    t.data = data + t.begin;
    index_.emplace(t.name, tensors_.size());
    tensors_.push_back(std::move(t));
  }

  std::vector<const SafetensorsTensor*> by_offset;
  for (const auto& t : tensors_) {
    if (t.nbytes() > 0) by_offset.push_back(&t);
  }
  std::sort(by_offset.begin(), by_offset.end(), [](const auto* a, const auto* b) { return a->begin < b->begin; });
  for (size_t i = 1; i < by_offset.size(); ++i) {
    const auto* prev = by_offset[i - 1];
    if (prev->end > by_offset[i]->begin) {
      fail(file, ": tensors '", prev->name, "' [", prev->begin, ", ", prev->end, ") and '", by_offset[i]->name, "' [",
           by_offset[i]->begin, ", ", by_offset[i]->end, ") overlap in the data area");
    }
  }
}

const SafetensorsTensor* SafetensorsFile::find(std::string_view name) const {
  const auto it = index_.find(std::string(name));
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

void SafetensorsFile::read_floats(const SafetensorsTensor& t, int64_t first, int64_t n, float* out) const {
  if (first < 0 || n < 0 || first > t.n_elements || n > t.n_elements - first) {
    fail(path_, ": tensor '", t.name, "': elements [", first, ", ", first + n, ") are outside its ", t.n_elements);
  }
  const uint8_t* p = t.data + static_cast<size_t>(first) * st_dtype_size(t.dtype);
  switch (t.dtype) {
    case StDType::F32: std::memcpy(out, p, static_cast<size_t>(n) * 4); return;
    case StDType::F16:
    case StDType::BF16: {
      const bool half = t.dtype == StDType::F16;
      for (int64_t i = 0; i < n; ++i) {
        uint16_t v;
        std::memcpy(&v, p + 2 * i, 2);
        out[i] = half ? fp16_to_f32(v) : bf16_to_f32(v);
      }
      return;
    }
    default:
      fail(path_, ": tensor '", t.name, "' has dtype ", st_dtype_name(t.dtype),
           "; conversion reads F32, F16 and BF16 weights (quantized or integer checkpoints are not supported)");
  }
}

}  // namespace nomoat
