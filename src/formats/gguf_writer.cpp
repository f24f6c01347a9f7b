#include "formats/gguf_writer.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

#include "base/error.h"
#include "base/partial_file.h"

namespace nomoat {
namespace {

class ByteSink {
 public:
  explicit ByteSink(std::vector<uint8_t>& out) : out_(out) {}
  template <typename T>
  void put(T v) {
    const size_t at = out_.size();
    out_.resize(at + sizeof(T));
    std::memcpy(out_.data() + at, &v, sizeof(T));
  }
  void put_string(const std::string& s) {
    put<uint64_t>(s.size());
    out_.insert(out_.end(), s.begin(), s.end());
  }
  void put_value(const GgufValue& v) {
    switch (v.type()) {
      case GgufType::U8:
      case GgufType::I8:
      case GgufType::BOOL: put<uint8_t>(static_cast<uint8_t>(v.raw_integer())); break;
      case GgufType::U16:
      case GgufType::I16: put<uint16_t>(static_cast<uint16_t>(v.raw_integer())); break;
      case GgufType::U32:
      case GgufType::I32: put<uint32_t>(static_cast<uint32_t>(v.raw_integer())); break;
      case GgufType::U64:
      case GgufType::I64: put<uint64_t>(static_cast<uint64_t>(v.raw_integer())); break;
      case GgufType::F32: put<float>(static_cast<float>(v.raw_float())); break;
      case GgufType::F64: put<double>(v.raw_float()); break;
      case GgufType::STRING: put_string(v.as_string()); break;
      case GgufType::ARRAY: put_array(v); break;
    }
  }
  void put_array(const GgufValue& v) {
    put<uint32_t>(static_cast<uint32_t>(v.array_type()));
    put<uint64_t>(v.array_size());
    if (v.array_type() == GgufType::STRING) {
      for (const auto& s : v.strings()) put_string(s);
    } else if (v.array_type() == GgufType::ARRAY) {
      for (size_t i = 0; i < v.array_size(); ++i) put_array(v.item(i));
    } else {
      out_.insert(out_.end(), v.packed().begin(), v.packed().end());
    }
  }

 private:
  std::vector<uint8_t>& out_;
};

struct FileCloser {
  void operator()(FILE* f) const {
    if (f != nullptr) std::fclose(f);
  }
};

}  // namespace

void check_gguf_output_path(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (path.empty()) fail("the output file name is empty");
  if (fs::is_directory(path, ec)) fail(path, ": is a directory; give the output GGUF file's name");
  const fs::path parent = fs::path(path).parent_path();
  const std::string folder = parent.empty() ? std::string(".") : parent.string();
  if (!fs::is_directory(folder, ec)) fail(path, ": the folder ", folder, " does not exist");
  if (::access(folder.c_str(), W_OK | X_OK) != 0) fail(path, ": cannot write in the folder ", folder, ": ", std::strerror(errno));
}

GgufWriter::GgufWriter(uint32_t alignment) : alignment_(alignment) {
  if (alignment == 0 || (alignment & (alignment - 1)) != 0) {
    fail("GGUF alignment ", alignment, " is not a power of two");
  }
  if (alignment != kGgufDefaultAlignment) set("general.alignment", GgufValue::u32(alignment));
}

void GgufWriter::set(const std::string& key, GgufValue value) {
  if (key.empty() || key.size() > kGgufMaxKeyLength) fail("invalid GGUF key '", key, "'");
  for (auto& [k, v] : metadata_) {
    if (k == key) {
      v = std::move(value);
      return;
    }
  }
  metadata_.emplace_back(key, std::move(value));
}

void GgufWriter::remove(const std::string& key) {
  std::erase_if(metadata_, [&](const auto& kv) { return kv.first == key; });
}

const GgufValue* GgufWriter::find(const std::string& key) const {
  for (const auto& [k, v] : metadata_) {
    if (k == key) return &v;
  }
  return nullptr;
}

void GgufWriter::add_tensor(const std::string& name, DType type, std::vector<int64_t> dims,
                            DataSource source) {
  if (name.empty() || name.size() > kGgufMaxTensorName) {
    fail("tensor name '", name, "' must be 1 to ", kGgufMaxTensorName, " bytes");
  }
  if (dims.empty() || dims.size() > kGgufMaxDims) fail("tensor '", name, "': ", dims.size(), " dimensions");
  for (const auto& t : tensors_) {
    if (t.name == name) fail("duplicate tensor '", name, "'");
  }
  int64_t n = 1;
  for (int64_t d : dims) {
    if (d < 0 || __builtin_mul_overflow(n, d, &n)) fail("tensor '", name, "': bad shape");
  }
  const DTypeTraits& traits = dtype_traits(type);
  if (dims[0] % traits.block_size != 0) {
    fail("tensor '", name, "': first dimension ", dims[0], " is not a multiple of the ", traits.name,
         " block size ", traits.block_size);
  }
  const uint64_t nbytes = static_cast<uint64_t>(n / traits.block_size) * traits.block_bytes;
  tensors_.push_back({name, type, std::move(dims), nbytes, next_offset_, std::move(source)});
  next_offset_ = aligned(next_offset_ + nbytes);
}

void GgufWriter::add_tensor_bytes(const std::string& name, DType type, std::vector<int64_t> dims,
                                  const void* data) {
  add_tensor(name, type, std::move(dims),
             [data](uint8_t* dst, size_t nbytes) { std::memcpy(dst, data, nbytes); });
}

void GgufWriter::copy_from(const GgufFile& file) {
  for (const auto& [key, value] : file.metadata()) set(key, value);
  for (const auto& t : file.tensors()) add_tensor_bytes(t.name, t.type, t.dims, t.data);
}

uint64_t GgufWriter::data_size() const { return next_offset_; }

std::vector<uint8_t> GgufWriter::header_bytes() const {
  std::vector<uint8_t> out;
  ByteSink sink(out);
  sink.put<uint32_t>(0x46554747u);  // "GGUF"
  sink.put<uint32_t>(3);
  sink.put<uint64_t>(tensors_.size());
  sink.put<uint64_t>(metadata_.size());
  for (const auto& [key, value] : metadata_) {
    sink.put_string(key);
    sink.put<uint32_t>(static_cast<uint32_t>(value.type()));
    sink.put_value(value);
  }
  for (const auto& t : tensors_) {
    sink.put_string(t.name);
    sink.put<uint32_t>(static_cast<uint32_t>(t.dims.size()));
    for (int64_t d : t.dims) sink.put<uint64_t>(static_cast<uint64_t>(d));
    sink.put<uint32_t>(static_cast<uint32_t>(t.type));
    sink.put<uint64_t>(t.offset);
  }
  if (!tensors_.empty()) out.resize(aligned(out.size()), 0);
  return out;
}

std::vector<uint8_t> GgufWriter::to_bytes() const {
  std::vector<uint8_t> out = header_bytes();
  const size_t data_start = out.size();
  out.resize(data_start + next_offset_, 0);
  for (const auto& t : tensors_) t.source(out.data() + data_start + t.offset, t.nbytes);
  return out;
}

void GgufWriter::write(const std::string& path, const Progress& progress) const {
  const std::string partial = path + ".partial";
  // Ctrl-C or a kill while writing removes the partial file too.
  const PartialFileGuard guard(partial);
  std::unique_ptr<FILE, FileCloser> f(std::fopen(partial.c_str(), "wb"));
  if (!f) fail(partial, ": cannot create: ", std::strerror(errno));
  auto put = [&](const void* p, size_t n) {
    if (n > 0 && std::fwrite(p, 1, n, f.get()) != n) {
      const int e = errno;
      f.reset();
      std::remove(partial.c_str());
      fail(partial, ": write failed: ", std::strerror(e));
    }
  };
  const std::vector<uint8_t> header = header_bytes();
  put(header.data(), header.size());
  std::vector<uint8_t> buffer;
  uint64_t done = 0;
  try {
    for (size_t i = 0; i < tensors_.size(); ++i) {
      const Tensor& t = tensors_[i];
      const uint64_t padded = aligned(t.nbytes);
      buffer.assign(padded, 0);
      t.source(buffer.data(), t.nbytes);
      put(buffer.data(), buffer.size());
      done += padded;
      if (progress) progress(i + 1, tensors_.size(), done, next_offset_);
    }
  } catch (...) {
    f.reset();
    std::remove(partial.c_str());
    throw;
  }
  // fclose flushes; a full disk shows up here.
  if (std::fclose(f.release()) != 0) {
    const int e = errno;
    std::remove(partial.c_str());
    fail(partial, ": write failed: ", std::strerror(e));
  }
  std::error_code ec;
  std::filesystem::rename(partial, path, ec);
  if (ec) {
    std::remove(partial.c_str());
    fail(path, ": cannot move the finished file into place: ", ec.message());
  }
}

}  // namespace nomoat
