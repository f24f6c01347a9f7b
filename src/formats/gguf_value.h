// Typed GGUF metadata values: scalars, strings and (nested) arrays.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace nomoat {

// Value type ids as stored in GGUF files.
enum class GgufType : uint32_t {
  U8 = 0,
  I8 = 1,
  U16 = 2,
  I16 = 3,
  U32 = 4,
  I32 = 5,
  F32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
  U64 = 10,
  I64 = 11,
  F64 = 12,
};

// "uint32", "string", ...; "type 99" for ids outside the format.
std::string gguf_type_name(uint32_t raw);
inline std::string gguf_type_name(GgufType t) { return gguf_type_name(static_cast<uint32_t>(t)); }
// Bytes of a fixed-size scalar type; 0 for STRING and ARRAY; -1 for unknown ids.
int gguf_scalar_size(uint32_t raw);

class GgufValue {
 public:
  GgufValue() = default;

  static GgufValue u8(uint8_t v) { return integer(GgufType::U8, v); }
  static GgufValue i8(int8_t v) { return integer(GgufType::I8, v); }
  static GgufValue u16(uint16_t v) { return integer(GgufType::U16, v); }
  static GgufValue i16(int16_t v) { return integer(GgufType::I16, v); }
  static GgufValue u32(uint32_t v) { return integer(GgufType::U32, v); }
  static GgufValue i32(int32_t v) { return integer(GgufType::I32, v); }
  static GgufValue u64(uint64_t v) { return integer(GgufType::U64, static_cast<int64_t>(v)); }
  static GgufValue i64(int64_t v) { return integer(GgufType::I64, v); }
  static GgufValue f32(float v) { return floating(GgufType::F32, v); }
  static GgufValue f64(double v) { return floating(GgufType::F64, v); }
  static GgufValue boolean(bool v) { return integer(GgufType::BOOL, v ? 1 : 0); }
  static GgufValue string(std::string v);
  // An array whose items all have type `elem` (items may themselves be arrays).
  static GgufValue array(GgufType elem, const std::vector<GgufValue>& items);
  // Arrays of scalars are stored packed, as in the file: 1, 2, 4 or 8 bytes an item.
  static GgufValue scalar_array(GgufType elem, std::vector<uint8_t> packed);
  static GgufValue string_array(std::vector<std::string> items);
  static GgufValue f32_array(const std::vector<float>& items);
  static GgufValue i32_array(const std::vector<int32_t>& items);

  GgufType type() const { return type_; }
  bool is_integer() const;
  bool is_float() const { return type_ == GgufType::F32 || type_ == GgufType::F64; }
  bool is_string() const { return type_ == GgufType::STRING; }
  bool is_array() const { return type_ == GgufType::ARRAY; }

  // Checked accessors: throw Error (mentioning `what`) on a type mismatch.
  uint64_t as_u64(std::string_view what = "value") const;  // non-negative integers
  int64_t as_i64(std::string_view what = "value") const;   // any integer
  double as_f64(std::string_view what = "value") const;    // any number
  bool as_bool(std::string_view what = "value") const;
  const std::string& as_string(std::string_view what = "value") const;
  GgufType array_type() const { return elem_type_; }
  size_t array_size() const;
  // Item i of an array, as a value of the array's element type.
  GgufValue item(size_t i) const;
  // Direct views of arrays (empty for other element types).
  const std::vector<std::string>& strings() const { return strings_; }
  const std::vector<uint8_t>& packed() const { return packed_; }
  // Numeric arrays converted element by element; throw Error on a non-numeric array.
  std::vector<double> to_f64_vector(std::string_view what = "value") const;
  std::vector<int64_t> to_i64_vector(std::string_view what = "value") const;

  // Raw bits of integer/bool values (two's complement for signed types).
  int64_t raw_integer() const { return int_; }
  double raw_float() const { return float_; }

  // Structural equality including types (floats compared bitwise via value).
  bool operator==(const GgufValue& other) const;

 private:
  static GgufValue integer(GgufType t, int64_t v);
  static GgufValue floating(GgufType t, double v);

  GgufType type_ = GgufType::U8;
  GgufType elem_type_ = GgufType::U8;  // for ARRAY
  int64_t int_ = 0;
  double float_ = 0.0;
  std::string str_;
  std::vector<uint8_t> packed_;        // arrays of scalars
  std::vector<std::string> strings_;   // arrays of strings
  std::vector<GgufValue> nested_;      // arrays of arrays
};

}  // namespace nomoat
