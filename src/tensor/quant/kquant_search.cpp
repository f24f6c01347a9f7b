#include "tensor/quant/kquant_search.h"

#include <algorithm>
#include <cassert>
#include <cmath>

#include "base/fp16.h"

namespace nomoat::quant {

float fit_scale_offset(int n, int nmax, const float* x, const float* weights, uint8_t* levels,
                       float* neg_offset, float rmin, float rdelta, int nstep, bool abs_error) {
  assert(n >= 1 && n <= 32);
  float lo = x[0];
  float hi = x[0];
  float sum_w = weights[0];
  float sum_wx = sum_w * x[0];
  for (int i = 1; i < n; ++i) {
    lo = std::min(lo, x[i]);
    hi = std::max(hi, x[i]);
    sum_w += weights[i];
    sum_wx += weights[i] * x[i];
  }
  // The offset is a subtracted minimum, so it can only pull values down.
  if (lo > 0) lo = 0;
  if (hi == lo) {
    for (int i = 0; i < n; ++i) levels[i] = 0;
    *neg_offset = -lo;
    return 0.0f;
  }

  float inv_scale = static_cast<float>(nmax) / (hi - lo);
  float scale = 1 / inv_scale;
  float offset = lo;
  float best_error = 0;
  for (int i = 0; i < n; ++i) {
    const int l = std::clamp(nearest_int(inv_scale * (x[i] - lo)), 0, nmax);
    levels[i] = static_cast<uint8_t>(l);
    float diff = scale * levels[i] + lo - x[i];
    diff = abs_error ? std::fabs(diff) : diff * diff;
    best_error += weights[i] * diff;
  }

  uint8_t trial[32];
  for (int step = 0; step <= nstep; ++step) {
    // Candidates are spread from the best offset found so far, not from the
    // minimum: llama.cpp does the same and we match its output byte for byte.
    inv_scale = (rmin + rdelta * step + nmax) / (hi - offset);
    float sum_wl = 0, sum_wll = 0, sum_wlx = 0;
    for (int i = 0; i < n; ++i) {
      const int l = std::clamp(nearest_int(inv_scale * (x[i] - offset)), 0, nmax);
      trial[i] = static_cast<uint8_t>(l);
      const float w = weights[i];
      sum_wl += w * l;
      sum_wll += w * l * l;
      sum_wlx += w * l * x[i];
    }
    // Weighted least squares for x ~= s * l + m; det > 0 unless all levels are equal.
    const float det = sum_w * sum_wll - sum_wl * sum_wl;
    if (!(det > 0)) continue;
    float trial_scale = (sum_w * sum_wlx - sum_wx * sum_wl) / det;
    float trial_offset = (sum_wll * sum_wx - sum_wl * sum_wlx) / det;
    if (trial_offset > 0) {  // not storable: refit the scale alone with offset 0
      trial_offset = 0;
      trial_scale = sum_wlx / sum_wll;
    }
    float error = 0;
    for (int i = 0; i < n; ++i) {
      float diff = trial_scale * trial[i] + trial_offset - x[i];
      diff = abs_error ? std::fabs(diff) : diff * diff;
      error += weights[i] * diff;
    }
    if (error < best_error) {
      for (int i = 0; i < n; ++i) levels[i] = trial[i];
      best_error = error;
      scale = trial_scale;
      offset = trial_offset;
    }
  }
  *neg_offset = -offset;
  return scale;
}

namespace {

// Index of the value with the largest magnitude (first one on ties); -1 if
// the group is all (near) zero.
int largest_magnitude(int n, const float* x) {
  int best = -1;
  float best_abs = 0;
  for (int i = 0; i < n; ++i) {
    const float a = std::fabs(x[i]);
    if (a > best_abs) {
      best_abs = a;
      best = i;
    }
  }
  return best_abs < kGroupZeroEps ? -1 : best;
}

}  // namespace

float fit_signed_scale(int n, int nmax, const float* x, int8_t* levels) {
  assert(n <= 32);
  const int peak = largest_magnitude(n, x);
  if (peak < 0) {
    for (int i = 0; i < n; ++i) levels[i] = 0;
    return 0.0f;
  }
  const float peak_value = x[peak];
  // Weights x^2 and weighted values x^3, computed once for all 19 candidates.
  float w[32];
  float wx[32];
  for (int i = 0; i < n; ++i) {
    w[i] = x[i] * x[i];
    wx[i] = w[i] * x[i];
  }
  // Weighted sums of x*l and l*l for the levels of one inverse scale.
  auto fit = [&](float inv_scale, float* sum_lx, float* sum_ll) {
    float lx = 0, ll = 0;
    for (int i = 0; i < n; ++i) {
      const int l = std::clamp(nearest_int(inv_scale * x[i]), -nmax, nmax - 1);
      lx += wx[i] * l;
      ll += w[i] * l * l;
    }
    *sum_lx = lx;
    *sum_ll = ll;
  };
  auto store_levels = [&](float inv_scale) {
    for (int i = 0; i < n; ++i) {
      const int l = std::clamp(nearest_int(inv_scale * x[i]), -nmax, nmax - 1);
      levels[i] = static_cast<int8_t>(l + nmax);
    }
  };

  float inv_scale = -nmax / peak_value;
  float sum_lx, sum_ll;
  fit(inv_scale, &sum_lx, &sum_ll);
  store_levels(inv_scale);
  float scale = sum_ll != 0 ? sum_lx / sum_ll : 0.0f;
  // scale * sum_lx is the reduction in weighted squared error; bigger is better.
  float best_gain = scale * sum_lx;
  for (int k = -9; k <= 9; ++k) {
    if (k == 0) continue;
    inv_scale = -(nmax + 0.1f * k) / peak_value;
    fit(inv_scale, &sum_lx, &sum_ll);
    if (sum_ll > 0 && sum_lx * sum_lx > best_gain * sum_ll) {
      store_levels(inv_scale);
      scale = sum_lx / sum_ll;
      best_gain = scale * sum_lx;
    }
  }
  return scale;
}

float fit_signed_scale_refined(int n, int nmax, const float* x, int8_t* levels) {
  const int peak = largest_magnitude(n, x);
  if (peak < 0) {
    for (int i = 0; i < n; ++i) levels[i] = 0;
    return 0.0f;
  }
  const float inv_scale = -nmax / x[peak];
  float sum_lx = 0;
  float sum_ll = 0;
  for (int i = 0; i < n; ++i) {
    const int l = std::clamp(nearest_int(inv_scale * x[i]), -nmax, nmax - 1);
    levels[i] = static_cast<int8_t>(l);
    const float w = x[i] * x[i];
    sum_lx += w * x[i] * l;
    sum_ll += w * l * l;
  }
  // The peak value alone gives sum_ll >= peak^2 * nmax^2 > 0, and moves keep it > 0.
  for (int pass = 0; pass < 5; ++pass) {
    int changed = 0;
    for (int i = 0; i < n; ++i) {
      const float w = x[i] * x[i];
      float lx = sum_lx - w * x[i] * levels[i];
      if (!(lx > 0)) continue;
      float ll = sum_ll - w * levels[i] * levels[i];
      // Best level for x[i] given the scale the other levels imply.
      const int l = std::clamp(nearest_int(x[i] * ll / lx), -nmax, nmax - 1);
      if (l == levels[i]) continue;
      lx += w * x[i] * l;
      ll += w * l * l;
      // Keep the move if the fit's error reduction lx^2/ll grows.
      if (ll > 0 && lx * lx * sum_ll > sum_lx * sum_lx * ll) {
        levels[i] = static_cast<int8_t>(l);
        sum_lx = lx;
        sum_ll = ll;
        ++changed;
      }
    }
    if (changed == 0) break;
  }
  for (int i = 0; i < n; ++i) levels[i] = static_cast<int8_t>(levels[i] + nmax);
  return sum_ll > 0 ? sum_lx / sum_ll : 0.0f;
}

void quantize_scale_min_superblock(const float* x, int nmax, float rmin, int nstep,
                                   ScaleMinSuperblock* out) {
  constexpr int kGroups = 8;
  constexpr int kGroupSize = 32;
  float group_scale[kGroups];
  float group_min[kGroups];
  float weights[kGroupSize];
  float max_scale = 0;  // scales and mins are both >= 0: the min is subtracted
  float max_min = 0;
  for (int g = 0; g < kGroups; ++g) {
    const float* xg = x + g * kGroupSize;
    float sum_sq = 0;
    for (int i = 0; i < kGroupSize; ++i) sum_sq += xg[i] * xg[i];
    // Weight large values more, but keep small ones from being ignored.
    const float rms = std::sqrt(sum_sq / kGroupSize);
    for (int i = 0; i < kGroupSize; ++i) weights[i] = rms + std::fabs(xg[i]);
    group_scale[g] = fit_scale_offset(kGroupSize, nmax, xg, weights, out->levels + g * kGroupSize,
                                      &group_min[g], rmin, 0.1f, nstep, false);
    max_scale = std::max(max_scale, group_scale[g]);
    max_min = std::max(max_min, group_min[g]);
  }

  const float scale_to_6bit = max_scale > 0 ? 63.0f / max_scale : 0.0f;
  const float min_to_6bit = max_min > 0 ? 63.0f / max_min : 0.0f;
  std::memset(out->scales, 0, sizeof out->scales);
  for (int g = 0; g < kGroups; ++g) {
    const int sc = std::clamp(nearest_int(scale_to_6bit * group_scale[g]), 0, 63);
    const int mn = std::clamp(nearest_int(min_to_6bit * group_min[g]), 0, 63);
    if (g < 4) {
      out->scales[g] = static_cast<uint8_t>(sc);
      out->scales[g + 4] = static_cast<uint8_t>(mn);
    } else {
      out->scales[g + 4] = static_cast<uint8_t>((sc & 15) | ((mn & 15) << 4));
      out->scales[g - 4] |= static_cast<uint8_t>((sc >> 4) << 6);
      out->scales[g] |= static_cast<uint8_t>((mn >> 4) << 6);
    }
  }
  out->d = f32_to_fp16(max_scale / 63.0f);
  out->dmin = f32_to_fp16(max_min / 63.0f);

  // Re-round every value against what a reader will actually decode.
  const float d = fp16_to_f32(out->d);
  const float dmin = fp16_to_f32(out->dmin);
  for (int g = 0; g < kGroups; ++g) {
    uint8_t sc, mn;
    unpack_scale_min(g, out->scales, &sc, &mn);
    const float step = d * sc;
    if (step == 0) continue;  // group decodes to -min whatever its levels
    const float group_offset = dmin * mn;
    const float* xg = x + g * kGroupSize;
    uint8_t* lg = out->levels + g * kGroupSize;
    for (int i = 0; i < kGroupSize; ++i) {
      lg[i] = static_cast<uint8_t>(std::clamp(nearest_int((xg[i] + group_offset) / step), 0, nmax));
    }
  }
}

}  // namespace nomoat::quant
