// `nomoat tokenize` and `nomoat detokenize`: look at the ids a model sees.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/utf8.h"
#include "cli/commands.h"
#include "tokenizer/tokenizer.h"

namespace nomoat::cli {
namespace {

// Pieces are printed one per line: escape what would break the line and
// bytes that are not (yet) valid UTF-8.
std::string printable_piece(const std::string& piece) {
  std::string out;
  for (size_t i = 0; i < piece.size();) {
    const auto c = static_cast<unsigned char>(piece[i]);
    const size_t len = utf8_lead_length(c);
    bool valid = len > 0 && i + len <= piece.size();
    for (size_t k = 1; valid && k < len; ++k) valid = (static_cast<unsigned char>(piece[i + k]) & 0xc0) == 0x80;
    if (!valid) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", c);
      out += buf;
      ++i;
      continue;
    }
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\\') {
      out += "\\\\";
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", c);
      out += buf;
    } else {
      out.append(piece, i, len);
    }
    i += len;
  }
  return out;
}

std::string read_all(const std::string& path) {
  if (path == "-") return {std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>()};
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, ": cannot open");
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

void add_tokenize(CLI::App& app, Action& action) {
  auto* cmd = app.add_subcommand("tokenize", "Print the token ids of a text as a model's tokenizer splits it");
  struct Options {
    std::string model, text, file;
    bool ids_only = false, no_bos = false, no_special = false;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("model", o->model, "GGUF file or Hugging Face folder (tokenizer.json)")->required();
  cmd->add_option("text", o->text, "Text to tokenize");
  cmd->add_option("-f,--file", o->file, "Read the text from FILE ('-' for stdin)");
  cmd->add_flag("--ids", o->ids_only, "Print only the ids, space-separated, on one line");
  cmd->add_flag("--no-bos", o->no_bos, "Do not add BOS/EOS tokens");
  cmd->add_flag("--no-special", o->no_special, "Treat special-token text (e.g. <|im_start|>) as plain text");
  cmd->callback([o, cmd, &action] {
    const bool has_text = cmd->count("text") > 0;
    action = [o, has_text] {
      if (has_text == !o->file.empty()) fail("give the text either as an argument or with -f FILE (not both)");
      const std::string text = has_text ? o->text : read_all(o->file);
      const Tokenizer tok(load_vocab(o->model));
      EncodeOptions opts;
      opts.add_special = !o->no_bos;
      opts.parse_special = !o->no_special;
      const std::vector<TokenId> ids = tok.encode(text, opts);
      if (o->ids_only) {
        std::string line;
        for (size_t i = 0; i < ids.size(); ++i) line += (i ? " " : "") + std::to_string(ids[i]);
        std::printf("%s\n", line.c_str());
        return 0;
      }
      for (TokenId id : ids) {
        std::string piece = tok.token_bytes(id);
        if (piece.empty()) piece = tok.vocab().tokens[static_cast<size_t>(id)];
        std::printf("%d\t%s\n", id, printable_piece(piece).c_str());
      }
      return 0;
    };
  });
}

void add_detokenize(CLI::App& app, Action& action) {
  auto* cmd = app.add_subcommand("detokenize", "Print the text that a sequence of token ids stands for");
  struct Options {
    std::string model;
    std::vector<std::string> ids;
    bool keep_special = false;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("model", o->model, "GGUF file or Hugging Face folder (tokenizer.json)")->required();
  cmd->add_option("ids", o->ids, "Token ids (separated by spaces or commas)")->required();
  cmd->add_flag("--special", o->keep_special, "Print control tokens (e.g. <s>) instead of dropping them");
  cmd->callback([o, &action] {
    action = [o] {
      const Tokenizer tok(load_vocab(o->model));
      std::vector<TokenId> ids;
      for (const std::string& arg : o->ids) {
        size_t pos = 0;
        while (pos < arg.size()) {
          const size_t end = std::min(arg.find_first_of(", ", pos), arg.size());
          const std::string item = arg.substr(pos, end - pos);
          pos = end + 1;
          if (item.empty()) continue;
          size_t used = 0;
          long long v = 0;
          try {
            v = std::stoll(item, &used);
          } catch (const std::exception&) {
            used = 0;
          }
          if (used != item.size() || v < 0 || v >= static_cast<long long>(tok.vocab().size())) {
            fail("'", item, "' is not a token id of this vocabulary (0 to ", tok.vocab().size() - 1, ")");
          }
          ids.push_back(static_cast<TokenId>(v));
        }
      }
      const std::string text = tok.decode(ids, o->keep_special);
      std::fwrite(text.data(), 1, text.size(), stdout);
      std::printf("\n");
      return 0;
    };
  });
}

}  // namespace nomoat::cli
