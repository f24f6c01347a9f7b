// A small GGUF file that exercises every part of the format: all value
// types, nested arrays, custom alignment and tensors of several types. The
// fuzzer and the mutation tests start from it.
#pragma once

#include <cstdint>
#include <vector>

#include "formats/gguf_writer.h"

namespace nomoat::testing {

inline std::vector<uint8_t> seed_gguf_bytes() {
  GgufWriter w(64);
  w.set("general.architecture", GgufValue::string("llama"));
  w.set("general.name", GgufValue::string("fuzz seed"));
  w.set("u8", GgufValue::u8(200));
  w.set("i8", GgufValue::i8(-100));
  w.set("u16", GgufValue::u16(60000));
  w.set("i16", GgufValue::i16(-30000));
  w.set("u32", GgufValue::u32(4000000000u));
  w.set("i32", GgufValue::i32(-2000000000));
  w.set("u64", GgufValue::u64(1ull << 60));
  w.set("i64", GgufValue::i64(-(1ll << 60)));
  w.set("f32", GgufValue::f32(1.5f));
  w.set("f64", GgufValue::f64(-2.25));
  w.set("bool", GgufValue::boolean(true));
  w.set("llama.context_length", GgufValue::u32(128));
  w.set("tokenizer.ggml.tokens", GgufValue::string_array({"<unk>", "<s>", "</s>", "a", "b"}));
  w.set("tokenizer.ggml.scores", GgufValue::f32_array({0, 0, 0, -1, -2}));
  w.set("nested", GgufValue::array(GgufType::ARRAY, {GgufValue::i32_array({1, 2, 3}),
                                                       GgufValue::string_array({"x", "yz"})}));
  static const float f32_data[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  static const uint16_t f16_data[4] = {0x3c00, 0x4000, 0xbc00, 0};
  static uint8_t q8_data[34] = {0x00, 0x3c};  // d = 1.0, q = 0..31
  for (int i = 0; i < 32; ++i) q8_data[2 + i] = static_cast<uint8_t>(i);
  w.add_tensor_bytes("a.weight", DType::F32, {4, 2}, f32_data);
  w.add_tensor_bytes("b.weight", DType::F16, {4}, f16_data);
  w.add_tensor_bytes("c.weight", DType::Q8_0, {32}, q8_data);
  return w.to_bytes();
}

}  // namespace nomoat::testing
