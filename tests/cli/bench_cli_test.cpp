// `nomoat bench` as a user runs it, on a tiny generated model.
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <sstream>
#include <vector>

#include "support/test_data.h"

namespace nomoat {
namespace {

using testing::nomoat_binary;
using testing::run_command;

std::string tiny_model() {
  static const std::string path = [] {
    const std::string p = (testing::scratch_dir("bench_cli_model") / "tiny.gguf").string();
    std::string log;
    EXPECT_EQ(run_command(nomoat_binary() + " gen-model -q --type q8_0 --n-embd 64 --n-head 4 --n-ff 128 --n-layer 1 --n-vocab 300 -o " + p, &log), 0)
        << log;
    return p;
  }();
  return path;
}

std::vector<nlohmann::json> json_lines(const std::string& out) {
  std::vector<nlohmann::json> v;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) v.push_back(nlohmann::json::parse(line));
  }
  return v;
}

TEST(CliBench, JsonFieldsAndValues) {
  std::string out;
  ASSERT_EQ(run_command(nomoat_binary() + " bench " + tiny_model() + " -p 16 -n 4 -r 3 -t 1 --json", &out, false), 0) << out;
  const auto lines = json_lines(out);
  ASSERT_EQ(lines.size(), 2u) << out;
  EXPECT_EQ(lines[0]["test"], "pp16");
  EXPECT_EQ(lines[0]["n_prompt"], 16);
  EXPECT_EQ(lines[0]["n_gen"], 0);
  EXPECT_EQ(lines[1]["test"], "tg4");
  EXPECT_EQ(lines[1]["n_prompt"], 0);
  EXPECT_EQ(lines[1]["n_gen"], 4);
  for (const auto& j : lines) {
    EXPECT_EQ(j["model"], "tiny.gguf");
    EXPECT_EQ(j["threads"], 1);
    EXPECT_EQ(j["reps"], 3);
    EXPECT_GT(j["model_size"].get<uint64_t>(), 0u);
    EXPECT_GT(j["n_params"].get<int64_t>(), 64 * 300);
    ASSERT_EQ(j["samples_ts"].size(), 3u);
    double sum = 0;
    for (const auto& s : j["samples_ts"]) sum += s.get<double>();
    EXPECT_GT(j["tokens_per_s"].get<double>(), 0);
    EXPECT_NEAR(j["tokens_per_s"].get<double>(), sum / 3, 1e-6 * sum);
    EXPECT_GE(j["stddev"].get<double>(), 0);
    EXPECT_FALSE(j.contains("bandwidth_fraction"));
  }
}

TEST(CliBench, SkippingTestsAndTable) {
  std::string out;
  ASSERT_EQ(run_command(nomoat_binary() + " bench " + tiny_model() + " -p 0 -n 2 -r 1 --json", &out, false), 0) << out;
  auto lines = json_lines(out);
  ASSERT_EQ(lines.size(), 1u) << out;
  EXPECT_EQ(lines[0]["test"], "tg2");
  EXPECT_EQ(lines[0]["samples_ts"].size(), 1u);
  ASSERT_EQ(run_command(nomoat_binary() + " bench " + tiny_model() + " -p 8 -n 0 -r 1 --json", &out, false), 0) << out;
  lines = json_lines(out);
  ASSERT_EQ(lines.size(), 1u) << out;
  EXPECT_EQ(lines[0]["test"], "pp8");
  // The table: a header, a rule and one row per test.
  ASSERT_EQ(run_command(nomoat_binary() + " bench " + tiny_model() + " -p 8 -n 2 -r 2 -t 1", &out, false), 0) << out;
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 4) << out;
  EXPECT_NE(out.find("| model"), std::string::npos) << out;
  EXPECT_NE(out.find("t/s"), std::string::npos) << out;
  EXPECT_NE(out.find("tiny.gguf"), std::string::npos) << out;
  EXPECT_NE(out.find("pp8"), std::string::npos) << out;
  EXPECT_NE(out.find("tg2"), std::string::npos) << out;
  EXPECT_NE(out.find(" ± "), std::string::npos) << out;
}

TEST(CliBench, Roofline) {
  std::string out;
  ASSERT_EQ(run_command(nomoat_binary() + " bench --roofline --roofline-mib 8 --roofline-ms 5 -r 1", &out, false), 0) << out;
  EXPECT_NE(out.find("read bandwidth"), std::string::npos) << out;
  EXPECT_NE(out.find("int8 peak"), std::string::npos) << out;
  EXPECT_NE(out.find("bf16 peak"), std::string::npos) << out;
  EXPECT_NE(out.find("fp32 peak"), std::string::npos) << out;
  EXPECT_NE(out.find("amx int8 peak"), std::string::npos) << out;  // a value or why not
  ASSERT_EQ(run_command(nomoat_binary() + " bench " + tiny_model() + " --roofline --roofline-mib 8 --roofline-ms 5 -p 8 -n 2 -r 1 --json", &out, false),
            0)
      << out;
  const auto lines = json_lines(out);
  ASSERT_EQ(lines.size(), 7u) << out;
  EXPECT_EQ(lines[0]["roofline"], "read_bandwidth");
  EXPECT_GT(lines[0]["best_bytes_per_s"].get<double>(), 0);
  EXPECT_EQ(lines[1]["roofline"], "int8_peak");
  EXPECT_EQ(lines[2]["roofline"], "bf16_peak");
  EXPECT_EQ(lines[3]["roofline"], "fp32_peak");
  for (int i : {1, 3}) {
    EXPECT_EQ(lines[i]["available"], true) << lines[i];
    EXPECT_GT(lines[i]["median_ops_per_s"].get<double>(), 0);
    EXPECT_FALSE(lines[i]["instruction"].get<std::string>().empty());
  }
  EXPECT_EQ(lines[4]["roofline"], "amx_int8_peak");
  for (int i : {2, 4}) {
    if (lines[i]["available"] == false) {
      EXPECT_FALSE(lines[i]["reason"].get<std::string>().empty()) << lines[i];
    }
  }
  if (lines[4]["available"] == true) {
    EXPECT_GT(lines[4]["median_ops_per_s"].get<double>(), lines[1]["median_ops_per_s"].get<double>()) << lines[4];
  }
  EXPECT_EQ(lines[5]["test"], "pp8");
  EXPECT_EQ(lines[6]["test"], "tg2");
  for (int i : {5, 6}) {
    const auto& j = lines[i];
    const double frac = j["bandwidth_fraction"].get<double>();
    EXPECT_GT(frac, 0);
    // One bandwidth probe per repetition; the fraction is the median of
    // each repetition's weight rate over its own probe.
    const auto probes = j["samples_read_bandwidth_bytes_per_s"].get<std::vector<double>>();
    const auto ts = j["samples_ts"].get<std::vector<double>>();
    ASSERT_EQ(probes.size(), ts.size()) << j;
    std::vector<double> fractions;
    for (size_t r = 0; r < ts.size(); ++r) {
      EXPECT_GT(probes[r], 0);
      fractions.push_back(ts[r] * j["weight_bytes_per_token"].get<double>() / probes[r]);
    }
    std::sort(fractions.begin(), fractions.end());
    EXPECT_NEAR(frac, fractions[fractions.size() / 2], 1e-9 * frac);
    EXPECT_EQ(j["compute_peak"], "int8");  // Q8_0 weights
    // Likewise one compute-peak probe per repetition.
    const auto peaks = j["samples_compute_peak_ops_per_s"].get<std::vector<double>>();
    ASSERT_EQ(peaks.size(), ts.size()) << j;
    std::vector<double> compute_fractions, sorted_peaks = peaks;
    for (size_t r = 0; r < ts.size(); ++r) {
      EXPECT_GT(peaks[r], 0);
      compute_fractions.push_back(ts[r] * j["ops_per_token"].get<double>() / peaks[r]);
    }
    std::sort(compute_fractions.begin(), compute_fractions.end());
    std::sort(sorted_peaks.begin(), sorted_peaks.end());
    const size_t mid = ts.size() / 2;
    const bool even = ts.size() % 2 == 0;
    EXPECT_NEAR(j["compute_fraction"].get<double>(),
                even ? 0.5 * (compute_fractions[mid - 1] + compute_fractions[mid]) : compute_fractions[mid],
                1e-9 * j["compute_fraction"].get<double>());
    EXPECT_NEAR(j["compute_peak_ops_per_s"].get<double>(), even ? 0.5 * (sorted_peaks[mid - 1] + sorted_peaks[mid]) : sorted_peaks[mid],
                1e-9 * j["compute_peak_ops_per_s"].get<double>());
    EXPECT_NEAR(j["compute_ops_per_s"].get<double>(), j["ops_per_token"].get<double>() * j["tokens_per_s"].get<double>(),
                1e-9 * j["compute_ops_per_s"].get<double>());
  }
  EXPECT_NEAR(lines[6]["bandwidth_fraction"].get<double>() * lines[6]["read_bandwidth_bytes_per_s"].get<double>(),
              lines[6]["weight_bytes_per_token"].get<double>() * lines[6]["tokens_per_s"].get<double>(),
              1e-9 * lines[6]["weight_read_bytes_per_s"].get<double>());
  // Where prompts run on AMX, a prompt test of 16+ tokens also reports its
  // share of that peak; pp8 is too short to use AMX.
  EXPECT_FALSE(lines[5].contains("amx_int8_fraction")) << lines[5];
  EXPECT_FALSE(lines[6].contains("amx_int8_fraction")) << lines[6];
  ASSERT_EQ(run_command(nomoat_binary() + " bench " + tiny_model() + " --roofline --roofline-mib 8 --roofline-ms 5 -p 32 -n 0 -r 1 --json", &out, false),
            0)
      << out;
  const auto long_prompt = json_lines(out);
  ASSERT_EQ(long_prompt.size(), 6u) << out;
  EXPECT_EQ(long_prompt[5]["test"], "pp32");
  EXPECT_EQ(long_prompt[5].contains("amx_int8_fraction"), long_prompt[4]["available"] == true) << long_prompt[5];
  if (long_prompt[5].contains("amx_int8_fraction")) {
    EXPECT_NEAR(long_prompt[5]["amx_int8_fraction"].get<double>(),
                long_prompt[5]["compute_ops_per_s"].get<double>() / long_prompt[4]["median_ops_per_s"].get<double>(), 1e-9);
  }
  // The table gains the roofline columns.
  ASSERT_EQ(run_command(nomoat_binary() + " bench " + tiny_model() + " --roofline --roofline-mib 8 --roofline-ms 5 -p 8 -n 0 -r 1", &out, false), 0)
      << out;
  EXPECT_NE(out.find("% BW"), std::string::npos) << out;
  EXPECT_NE(out.find("% int8"), std::string::npos) << out;
}

TEST(CliBench, ErrorsAreOneLine) {
  const std::pair<std::string, std::string> cases[] = {
      {"/nonexistent/m.gguf", "m.gguf"},
      {"", "MODEL"},
      {tiny_model() + " -r 0", "-r"},
      {tiny_model() + " -p -3", "-p"},
      {tiny_model() + " -n -1", "-n"},
      {tiny_model() + " -t 0", "--threads"},
      {tiny_model() + " -b 0", "batch"},
      {"--roofline --roofline-ms 0", "--roofline-ms"},
      {tiny_model() + " -p abc", "abc"},
  };
  for (const auto& [args, word] : cases) {
    std::string out;
    EXPECT_NE(run_command(nomoat_binary() + " bench " + args, &out), 0) << args;
    EXPECT_NE(out.find(word), std::string::npos) << args << ": " << out;
    EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << args << ": " << out;
    EXPECT_EQ(out.rfind("nomoat: error", 0), 0u) << args << ": " << out;
  }
}

}  // namespace
}  // namespace nomoat
