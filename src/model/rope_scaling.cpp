#include "model/rope_scaling.h"

#include <algorithm>
#include <cmath>

namespace nomoat {
namespace {

constexpr double kPi = 3.14159265358979323846;

// YaRN: the (fractional) pair index whose wavelength fits `turns` times into
// the original context: pair i turns n_orig * base^(-2i/d) / (2 pi) times.
double yarn_pair_for_turns(double turns, double rope_dim, double n_orig, double base) {
  return rope_dim * std::log(n_orig / (turns * 2.0 * kPi)) / (2.0 * std::log(base));
}

}  // namespace

RopeTable rope_table(const Model& model, bool local, int64_t n_ctx) {
  const ModelSpec& s = model.spec();
  const int64_t half = s.rope_dim / 2;
  const double base = local ? s.rope_base_local : s.rope_base;
  const double scale = local ? s.rope_freq_scale_local : s.rope_freq_scale;
  // Per-pair divisors: Llama 3.1's rope_freqs, or Phi-3's LongRoPE factors,
  // the long ones only when the context in use exceeds the original one
  // (as llama.cpp decides it: by the context size, not the current length,
  // so cached keys never change frequency).
  const std::vector<float>* divisors = nullptr;
  if (!model.rope_freq_factors.empty()) divisors = &model.rope_freq_factors;
  if (s.rope_scaling == RopeScaling::kLongRope) {
    divisors = n_ctx > s.rope_orig_ctx ? &model.rope_factors_long : &model.rope_factors_short;
  }
  RopeTable t;
  t.freq.resize(static_cast<size_t>(half));
  t.mscale = s.rope_attn_factor;
  for (int64_t i = 0; i < half; ++i) {
    double f = std::pow(base, -2.0 * static_cast<double>(i) / static_cast<double>(s.rope_dim));
    if (divisors != nullptr) f /= (*divisors)[static_cast<size_t>(i)];
    t.freq[static_cast<size_t>(i)] = f * scale;
  }
  // YaRN ("NTK-by-parts"): high-frequency pairs, which turn many times within
  // the original context, keep their frequency (extrapolation); low-frequency
  // ones are divided by the factor (interpolation); a linear ramp between
  // pair indices `low` and `high`. Local layers of Gemma keep plain RoPE.
  if (s.rope_scaling == RopeScaling::kYarn && !local) {
    const double d = static_cast<double>(s.rope_dim), n_orig = static_cast<double>(s.rope_orig_ctx);
    const double low = std::max(0.0, std::floor(yarn_pair_for_turns(s.yarn_beta_fast, d, n_orig, base)));
    const double high = std::min(d - 1.0, std::ceil(yarn_pair_for_turns(s.yarn_beta_slow, d, n_orig, base)));
    for (int64_t i = 0; i < half; ++i) {
      const double interpolated = t.freq[static_cast<size_t>(i)];
      const double extrapolated = interpolated / scale;
      const double ramp = std::clamp((static_cast<double>(i) - low) / std::max(0.001, high - low), 0.0, 1.0);
      t.freq[static_cast<size_t>(i)] = extrapolated * (1.0 - ramp) + interpolated * ramp;
    }
    // Attention temperature: sqrt(1/t) = 0.1 ln(factor) + 1 on q and k alike,
    // divided by the same with mscale_all_dim when the file gives it (HF's
    // attention_factor = get_mscale(factor, 1) / get_mscale(factor, mscale_all_dim)).
    const double factor = 1.0 / scale;
    if (factor > 1.0) {
      double m = 0.1 * std::log(factor) + 1.0;
      if (s.yarn_log_mul != 0.0f) m /= 0.1 * s.yarn_log_mul * std::log(factor) + 1.0;
      t.mscale *= static_cast<float>(m);
    }
  }
  return t;
}

}  // namespace nomoat
