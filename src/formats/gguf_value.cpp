#include "formats/gguf_value.h"

#include <cstring>

#include "base/error.h"

namespace nomoat {

std::string gguf_type_name(uint32_t raw) {
  static const char* const kNames[] = {"uint8",  "int8",  "uint16", "int16",  "uint32",
                                       "int32",  "float32", "bool", "string", "array",
                                       "uint64", "int64", "float64"};
  if (raw < std::size(kNames)) return kNames[raw];
  return cat("type ", raw);
}

int gguf_scalar_size(uint32_t raw) {
  switch (static_cast<GgufType>(raw)) {
    case GgufType::U8:
    case GgufType::I8:
    case GgufType::BOOL:
      return 1;
    case GgufType::U16:
    case GgufType::I16:
      return 2;
    case GgufType::U32:
    case GgufType::I32:
    case GgufType::F32:
      return 4;
    case GgufType::U64:
    case GgufType::I64:
    case GgufType::F64:
      return 8;
    case GgufType::STRING:
    case GgufType::ARRAY:
      return 0;
  }
  return -1;
}

GgufValue GgufValue::integer(GgufType t, int64_t v) {
  GgufValue out;
  out.type_ = t;
  out.int_ = v;
  return out;
}

GgufValue GgufValue::floating(GgufType t, double v) {
  GgufValue out;
  out.type_ = t;
  out.float_ = v;
  return out;
}

GgufValue GgufValue::string(std::string v) {
  GgufValue out;
  out.type_ = GgufType::STRING;
  out.str_ = std::move(v);
  return out;
}

GgufValue GgufValue::array(GgufType elem, const std::vector<GgufValue>& items) {
  GgufValue out;
  out.type_ = GgufType::ARRAY;
  out.elem_type_ = elem;
  for (const auto& item : items) {
    if (item.type_ != elem) {
      fail("internal: array of ", gguf_type_name(elem), " given an item of type ",
           gguf_type_name(item.type_));
    }
  }
  const int size = gguf_scalar_size(static_cast<uint32_t>(elem));
  if (elem == GgufType::STRING) {
    out.strings_.reserve(items.size());
    for (const auto& item : items) out.strings_.push_back(item.str_);
  } else if (elem == GgufType::ARRAY) {
    out.nested_ = items;
  } else {
    out.packed_.resize(items.size() * static_cast<size_t>(size));
    for (size_t i = 0; i < items.size(); ++i) {
      uint8_t* dst = out.packed_.data() + i * static_cast<size_t>(size);
      const GgufValue& v = items[i];
      if (elem == GgufType::F32) {
        const float f = static_cast<float>(v.float_);
        std::memcpy(dst, &f, 4);
      } else if (elem == GgufType::F64) {
        std::memcpy(dst, &v.float_, 8);
      } else {
        std::memcpy(dst, &v.int_, static_cast<size_t>(size));  // little-endian truncation
      }
    }
  }
  return out;
}

GgufValue GgufValue::scalar_array(GgufType elem, std::vector<uint8_t> packed) {
  const int size = gguf_scalar_size(static_cast<uint32_t>(elem));
  if (size <= 0 || packed.size() % static_cast<size_t>(size) != 0) {
    fail("internal: bad packed array of ", gguf_type_name(elem));
  }
  GgufValue out;
  out.type_ = GgufType::ARRAY;
  out.elem_type_ = elem;
  out.packed_ = std::move(packed);
  return out;
}

GgufValue GgufValue::string_array(std::vector<std::string> items) {
  GgufValue out;
  out.type_ = GgufType::ARRAY;
  out.elem_type_ = GgufType::STRING;
  out.strings_ = std::move(items);
  return out;
}

GgufValue GgufValue::f32_array(const std::vector<float>& items) {
  std::vector<uint8_t> packed(items.size() * 4);
  if (!items.empty()) std::memcpy(packed.data(), items.data(), packed.size());
  return scalar_array(GgufType::F32, std::move(packed));
}

GgufValue GgufValue::i32_array(const std::vector<int32_t>& items) {
  std::vector<uint8_t> packed(items.size() * 4);
  if (!items.empty()) std::memcpy(packed.data(), items.data(), packed.size());
  return scalar_array(GgufType::I32, std::move(packed));
}

size_t GgufValue::array_size() const {
  if (type_ != GgufType::ARRAY) return 0;
  if (elem_type_ == GgufType::STRING) return strings_.size();
  if (elem_type_ == GgufType::ARRAY) return nested_.size();
  return packed_.size() / static_cast<size_t>(gguf_scalar_size(static_cast<uint32_t>(elem_type_)));
}

GgufValue GgufValue::item(size_t i) const {
  if (type_ != GgufType::ARRAY || i >= array_size()) fail("internal: array index ", i, " out of range");
  if (elem_type_ == GgufType::STRING) return string(strings_[i]);
  if (elem_type_ == GgufType::ARRAY) return nested_[i];
  const uint8_t* p = packed_.data() + i * static_cast<size_t>(gguf_scalar_size(static_cast<uint32_t>(elem_type_)));
  auto load = [p](auto v) {
    std::memcpy(&v, p, sizeof v);
    return v;
  };
  switch (elem_type_) {
    case GgufType::U8: return u8(load(uint8_t{}));
    case GgufType::I8: return i8(load(int8_t{}));
    case GgufType::U16: return u16(load(uint16_t{}));
    case GgufType::I16: return i16(load(int16_t{}));
    case GgufType::U32: return u32(load(uint32_t{}));
    case GgufType::I32: return i32(load(int32_t{}));
    case GgufType::U64: return u64(load(uint64_t{}));
    case GgufType::I64: return i64(load(int64_t{}));
    case GgufType::F32: return f32(load(float{}));
    case GgufType::F64: return f64(load(double{}));
    case GgufType::BOOL: return boolean(load(uint8_t{}) != 0);
    default: break;
  }
  fail("internal: array of ", gguf_type_name(elem_type_));
}

std::vector<double> GgufValue::to_f64_vector(std::string_view what) const {
  if (type_ != GgufType::ARRAY) fail(what, ": expected an array, found ", gguf_type_name(type_));
  std::vector<double> out(array_size());
  for (size_t i = 0; i < out.size(); ++i) out[i] = item(i).as_f64(what);
  return out;
}

std::vector<int64_t> GgufValue::to_i64_vector(std::string_view what) const {
  if (type_ != GgufType::ARRAY) fail(what, ": expected an array, found ", gguf_type_name(type_));
  std::vector<int64_t> out(array_size());
  for (size_t i = 0; i < out.size(); ++i) out[i] = item(i).as_i64(what);
  return out;
}

bool GgufValue::is_integer() const {
  switch (type_) {
    case GgufType::U8:
    case GgufType::I8:
    case GgufType::U16:
    case GgufType::I16:
    case GgufType::U32:
    case GgufType::I32:
    case GgufType::U64:
    case GgufType::I64:
      return true;
    default:
      return false;
  }
}

uint64_t GgufValue::as_u64(std::string_view what) const {
  if (!is_integer()) fail(what, ": expected an integer, found ", gguf_type_name(type_));
  if (type_ != GgufType::U64 && int_ < 0) fail(what, ": expected a non-negative integer, found ", int_);
  return static_cast<uint64_t>(int_);
}

int64_t GgufValue::as_i64(std::string_view what) const {
  if (!is_integer()) fail(what, ": expected an integer, found ", gguf_type_name(type_));
  if (type_ == GgufType::U64 && int_ < 0) fail(what, ": value ", static_cast<uint64_t>(int_), " is too large");
  return int_;
}

double GgufValue::as_f64(std::string_view what) const {
  if (is_float()) return float_;
  if (type_ == GgufType::U64) return static_cast<double>(static_cast<uint64_t>(int_));
  if (is_integer()) return static_cast<double>(int_);
  fail(what, ": expected a number, found ", gguf_type_name(type_));
}

bool GgufValue::as_bool(std::string_view what) const {
  if (type_ != GgufType::BOOL) fail(what, ": expected a bool, found ", gguf_type_name(type_));
  return int_ != 0;
}

const std::string& GgufValue::as_string(std::string_view what) const {
  if (type_ != GgufType::STRING) fail(what, ": expected a string, found ", gguf_type_name(type_));
  return str_;
}

bool GgufValue::operator==(const GgufValue& o) const {
  if (type_ != o.type_) return false;
  switch (type_) {
    case GgufType::F32:
    case GgufType::F64:
      return std::memcmp(&float_, &o.float_, sizeof float_) == 0;
    case GgufType::STRING:
      return str_ == o.str_;
    case GgufType::ARRAY:
      return elem_type_ == o.elem_type_ && packed_ == o.packed_ && strings_ == o.strings_ &&
             nested_ == o.nested_;
    default:
      return int_ == o.int_;
  }
}

}  // namespace nomoat
