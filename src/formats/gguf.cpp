#include "formats/gguf.h"

#include <algorithm>
#include <cstring>

#include "base/error.h"
#include "base/mmap.h"

namespace nomoat {
namespace {

constexpr uint8_t kMagic[4] = {'G', 'G', 'U', 'F'};

// Bounds-checked little-endian reader over the file's bytes. Every read names
// what it was reading so that a truncated file gets a precise message.
class Cursor {
 public:
  Cursor(std::span<const uint8_t> bytes, const std::string& file) : bytes_(bytes), file_(file) {}

  size_t pos() const { return pos_; }
  size_t remaining() const { return bytes_.size() - pos_; }

  template <typename T>
  T read(std::string_view what) {
    need(sizeof(T), what);
    T v;
    std::memcpy(&v, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }

  std::string read_string(std::string_view what, uint64_t max_len) {
    const uint64_t len = read<uint64_t>(what);
    if (len > max_len) error(what, ": length ", len, " exceeds the limit of ", max_len);
    need(len, what);
    std::string s(reinterpret_cast<const char*>(bytes_.data() + pos_), static_cast<size_t>(len));
    pos_ += static_cast<size_t>(len);
    return s;
  }

  std::vector<uint8_t> read_bytes(uint64_t n, std::string_view what) {
    need(n, what);
    std::vector<uint8_t> out(bytes_.data() + pos_, bytes_.data() + pos_ + n);
    pos_ += static_cast<size_t>(n);
    return out;
  }

  void need(uint64_t n, std::string_view what) {
    if (n > remaining()) {
      error("truncated: ", what, " needs ", n, " bytes at offset ", pos_, " but the file has only ",
            remaining(), " left");
    }
  }

  template <typename... Parts>
  [[noreturn]] void error(const Parts&... parts) const {
    fail(file_, ": ", parts...);
  }

 private:
  std::span<const uint8_t> bytes_;
  const std::string& file_;
  size_t pos_ = 0;
};

// Smallest number of bytes one value of a type occupies, to bound counts
// before allocating anything for them.
uint64_t min_encoded_size(uint32_t type) {
  const int scalar = gguf_scalar_size(type);
  if (scalar > 0) return static_cast<uint64_t>(scalar);
  if (type == static_cast<uint32_t>(GgufType::STRING)) return 8;
  return 4 + 8;  // ARRAY: element type + count
}

GgufValue read_array(Cursor& in, const std::string& key, int depth) {
  if (depth >= kGgufMaxArrayDepth) {
    in.error("key '", key, "': arrays nested deeper than ", kGgufMaxArrayDepth, " levels");
  }
  const uint32_t elem = in.read<uint32_t>("array element type of key '" + key + "'");
  if (gguf_scalar_size(elem) < 0) {
    in.error("key '", key, "': array has unknown element type ", elem);
  }
  const uint64_t count = in.read<uint64_t>("array length of key '" + key + "'");
  if (count > in.remaining() / min_encoded_size(elem)) {
    in.error("key '", key, "': array length ", count, " of ", gguf_type_name(elem),
             " cannot fit in the ", in.remaining(), " bytes left in the file");
  }
  const auto elem_type = static_cast<GgufType>(elem);
  const int scalar = gguf_scalar_size(elem);
  if (scalar > 0) {
    std::vector<uint8_t> packed = in.read_bytes(count * static_cast<uint64_t>(scalar), "array of key '" + key + "'");
    if (elem_type == GgufType::BOOL) {
      for (uint8_t b : packed) {
        if (b > 1) in.error("key '", key, "': bool array holds ", static_cast<int>(b), ", not 0 or 1");
      }
    }
    return GgufValue::scalar_array(elem_type, std::move(packed));
  }
  if (elem_type == GgufType::STRING) {
    std::vector<std::string> strings;
    strings.reserve(static_cast<size_t>(count));
    const std::string what = "string array of key '" + key + "'";
    for (uint64_t i = 0; i < count; ++i) strings.push_back(in.read_string(what, in.remaining()));
    return GgufValue::string_array(std::move(strings));
  }
  std::vector<GgufValue> items;
  items.reserve(static_cast<size_t>(count));
  for (uint64_t i = 0; i < count; ++i) items.push_back(read_array(in, key, depth + 1));
  return GgufValue::array(elem_type, items);
}

GgufValue read_value(Cursor& in, uint32_t type, const std::string& key, int depth) {
  const std::string what = "value of key '" + key + "'";
  switch (static_cast<GgufType>(type)) {
    case GgufType::U8: return GgufValue::u8(in.read<uint8_t>(what));
    case GgufType::I8: return GgufValue::i8(in.read<int8_t>(what));
    case GgufType::U16: return GgufValue::u16(in.read<uint16_t>(what));
    case GgufType::I16: return GgufValue::i16(in.read<int16_t>(what));
    case GgufType::U32: return GgufValue::u32(in.read<uint32_t>(what));
    case GgufType::I32: return GgufValue::i32(in.read<int32_t>(what));
    case GgufType::U64: return GgufValue::u64(in.read<uint64_t>(what));
    case GgufType::I64: return GgufValue::i64(in.read<int64_t>(what));
    case GgufType::F32: return GgufValue::f32(in.read<float>(what));
    case GgufType::F64: return GgufValue::f64(in.read<double>(what));
    case GgufType::BOOL: {
      const uint8_t b = in.read<uint8_t>(what);
      if (b > 1) in.error("key '", key, "': bool value is ", static_cast<int>(b), ", not 0 or 1");
      return GgufValue::boolean(b != 0);
    }
    case GgufType::STRING: return GgufValue::string(in.read_string(what, in.remaining()));
    case GgufType::ARRAY: return read_array(in, key, depth);
  }
  in.error("key '", key, "': unknown value type ", type);
}

bool mul_overflows(int64_t a, int64_t b, int64_t* out) { return __builtin_mul_overflow(a, b, out); }

}  // namespace

std::string GgufTensorInfo::shape_string() const {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i > 0) s += ", ";
    s += std::to_string(dims[i]);
  }
  return s + "]";
}

GgufFile::GgufFile(GgufFile&&) noexcept = default;
GgufFile& GgufFile::operator=(GgufFile&&) noexcept = default;
GgufFile::~GgufFile() = default;

GgufFile GgufFile::open(const std::string& path) {
  GgufFile f;
  f.path_ = path;
  f.mapping_ = std::make_unique<MappedFile>(path);
  f.bytes_ = f.mapping_->bytes();
  f.parse_all();
  return f;
}

GgufFile GgufFile::parse(std::span<const uint8_t> bytes, std::string name) {
  GgufFile f;
  f.path_ = std::move(name);
  f.bytes_ = bytes;
  f.parse_all();
  return f;
}

void GgufFile::parse_all() {
  Cursor in(bytes_, path_);
  if (bytes_.size() < 4 || std::memcmp(bytes_.data(), kMagic, 4) != 0) {
    if (bytes_.size() >= 4 && std::memcmp(bytes_.data(), "FUGG", 4) == 0) {
      in.error("big-endian GGUF files are not supported");
    }
    in.error("not a GGUF file (the first 4 bytes are not \"GGUF\")");
  }
  in.read<uint32_t>("magic");
  version_ = in.read<uint32_t>("version");
  if (version_ == 1) in.error("GGUF version 1 is obsolete and not supported (versions 2 and 3 are)");
  if (version_ != 2 && version_ != 3) {
    // A byte-swapped version number means the file was written big-endian.
    if ((version_ & 0xffffu) == 0 && version_ != 0) in.error("big-endian GGUF files are not supported");
    in.error("unsupported GGUF version ", version_, " (versions 2 and 3 are supported)");
  }
  const uint64_t n_tensors = in.read<uint64_t>("tensor count");
  const uint64_t n_kv = in.read<uint64_t>("metadata count");
  // Each metadata entry needs at least a key length, a key byte and a type.
  if (n_kv > in.remaining() / 13) {
    in.error("metadata count ", n_kv, " cannot fit in a file of ", bytes_.size(), " bytes");
  }
  // Each tensor entry needs at least name length, n_dims, type and offset.
  if (n_tensors > in.remaining() / 24) {
    in.error("tensor count ", n_tensors, " cannot fit in a file of ", bytes_.size(), " bytes");
  }

  metadata_.reserve(static_cast<size_t>(n_kv));
  for (uint64_t i = 0; i < n_kv; ++i) {
    const std::string what = cat("key of metadata entry ", i);
    std::string key = in.read_string(what, kGgufMaxKeyLength);
    if (key.empty()) in.error("metadata entry ", i, " has an empty key");
    const uint32_t type = in.read<uint32_t>("value type of key '" + key + "'");
    if (gguf_scalar_size(type) < 0) in.error("key '", key, "': unknown value type ", type);
    GgufValue value = read_value(in, type, key, 0);
    if (!key_index_.emplace(key, metadata_.size()).second) in.error("duplicate key '", key, "'");
    metadata_.emplace_back(std::move(key), std::move(value));
  }

  if (const GgufValue* align = find("general.alignment")) {
    if (align->type() != GgufType::U32) {
      in.error("key 'general.alignment' must be uint32, found ", gguf_type_name(align->type()));
    }
    const uint64_t a = align->as_u64();
    if (a == 0 || (a & (a - 1)) != 0) {
      in.error("key 'general.alignment' is ", a, ", not a power of two");
    }
    alignment_ = static_cast<uint32_t>(a);
  }

  tensors_.reserve(static_cast<size_t>(n_tensors));
  for (uint64_t i = 0; i < n_tensors; ++i) {
    GgufTensorInfo t;
    t.name = in.read_string(cat("name of tensor ", i), kGgufMaxKeyLength);
    if (t.name.empty()) in.error("tensor ", i, " has an empty name");
    if (t.name.size() > kGgufMaxTensorName) {
      in.error("tensor '", t.name.substr(0, 80), "': name is ", t.name.size(),
               " bytes, longer than the limit of ", kGgufMaxTensorName);
    }
    const std::string label = "tensor '" + t.name + "'";
    const uint32_t n_dims = in.read<uint32_t>("dimension count of " + label);
    if (n_dims == 0 || n_dims > kGgufMaxDims) {
      in.error(label, ": ", n_dims, " dimensions (must be 1 to ", kGgufMaxDims, ")");
    }
    t.n_elements = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      const uint64_t dim = in.read<uint64_t>("dimensions of " + label);
      if (dim > static_cast<uint64_t>(INT64_MAX)) in.error(label, ": dimension ", d, " is ", dim, ", too large");
      t.dims.push_back(static_cast<int64_t>(dim));
      if (mul_overflows(t.n_elements, t.dims.back(), &t.n_elements)) {
        in.error(label, ": element count overflows (shape ", t.shape_string(), "...)");
      }
    }
    const uint32_t raw_type = in.read<uint32_t>("type of " + label);
    const DTypeTraits* traits = find_dtype(raw_type);
    if (traits == nullptr) in.error(label, ": ", dtype_name(raw_type), " is not a known tensor type");
    t.type = traits->type;
    if (t.dims[0] % traits->block_size != 0) {
      in.error(label, ": first dimension ", t.dims[0], " is not a multiple of the ", traits->name,
               " block size ", traits->block_size);
    }
    const uint64_t blocks = static_cast<uint64_t>(t.n_elements / traits->block_size);
    if (blocks > UINT64_MAX / traits->block_bytes) in.error(label, ": byte size overflows");
    t.nbytes = blocks * traits->block_bytes;
    t.offset = in.read<uint64_t>("data offset of " + label);
    if (!tensor_index_.emplace(t.name, tensors_.size()).second) in.error("duplicate tensor '", t.name, "'");
    tensors_.push_back(std::move(t));
  }

  const uint64_t header_end = in.pos();
  data_offset_ = (header_end + alignment_ - 1) / alignment_ * alignment_;
  if (tensors_.empty()) return;  // vocab-only files may end without padding
  if (data_offset_ > bytes_.size()) {
    in.error("truncated: the data section should start at offset ", data_offset_,
             " but the file has ", bytes_.size(), " bytes");
  }
  const uint64_t data_size = bytes_.size() - data_offset_;
  for (auto& t : tensors_) {
    if (t.offset % alignment_ != 0) {
      in.error("tensor '", t.name, "': data offset ", t.offset, " is not a multiple of the alignment ",
               alignment_);
    }
    if (t.offset > data_size || t.nbytes > data_size - t.offset) {
      in.error("tensor '", t.name, "': data [", t.offset, ", ", t.offset + t.nbytes,
               ") of the data section extends past the end of the file (data section holds ",
               data_size, " bytes; the file may be truncated)");
    }
    t.data = bytes_.data() + data_offset_ + t.offset;
  }
  std::vector<const GgufTensorInfo*> by_offset;
  by_offset.reserve(tensors_.size());
  for (const auto& t : tensors_) by_offset.push_back(&t);
  std::sort(by_offset.begin(), by_offset.end(),
            [](const auto* a, const auto* b) { return a->offset < b->offset; });
  for (size_t i = 1; i < by_offset.size(); ++i) {
    const auto* prev = by_offset[i - 1];
    if (prev->nbytes > 0 && prev->offset + prev->nbytes > by_offset[i]->offset) {
      in.error("tensors '", prev->name, "' and '", by_offset[i]->name, "' overlap in the data section");
    }
  }
}

const GgufValue* GgufFile::find(std::string_view key) const {
  const auto it = key_index_.find(std::string(key));
  return it == key_index_.end() ? nullptr : &metadata_[it->second].second;
}

const GgufValue& GgufFile::get(std::string_view key) const {
  const GgufValue* v = find(key);
  if (v == nullptr) fail(path_, ": missing metadata key '", key, "'");
  return *v;
}

std::string GgufFile::get_string(std::string_view key) const {
  return get(key).as_string(cat(path_, ": key '", key, "'"));
}

uint64_t GgufFile::get_u64(std::string_view key) const {
  return get(key).as_u64(cat(path_, ": key '", key, "'"));
}

std::string GgufFile::get_string_or(std::string_view key, std::string fallback) const {
  const GgufValue* v = find(key);
  return v == nullptr ? fallback : v->as_string(cat(path_, ": key '", key, "'"));
}

uint64_t GgufFile::get_u64_or(std::string_view key, uint64_t fallback) const {
  const GgufValue* v = find(key);
  return v == nullptr ? fallback : v->as_u64(cat(path_, ": key '", key, "'"));
}

double GgufFile::get_f64_or(std::string_view key, double fallback) const {
  const GgufValue* v = find(key);
  return v == nullptr ? fallback : v->as_f64(cat(path_, ": key '", key, "'"));
}

bool GgufFile::get_bool_or(std::string_view key, bool fallback) const {
  const GgufValue* v = find(key);
  return v == nullptr ? fallback : v->as_bool(cat(path_, ": key '", key, "'"));
}

const GgufTensorInfo* GgufFile::find_tensor(std::string_view name) const {
  const auto it = tensor_index_.find(std::string(name));
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

std::string GgufFile::architecture() const { return get_string_or("general.architecture", ""); }

void GgufFile::drop_pages(const uint8_t* p, size_t len) const {
  if (!mapping_ || p < mapping_->data() || p + len > mapping_->data() + mapping_->size()) return;
  mapping_->drop_pages(static_cast<size_t>(p - mapping_->data()), len);
}

}  // namespace nomoat
