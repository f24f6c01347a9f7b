#!/usr/bin/python3
"""Renders chat-template cases with Python's Jinja2 set up the way Hugging Face
transformers sets it up for apply_chat_template, as the reference that
nomoat's interpreter must match byte for byte.

The environment (as transformers.utils.chat_template_utils builds it):
  ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                extensions=[<generation tag>, loopcontrols])
  filters["tojson"] = json.dumps(x, ensure_ascii=False, indent=None,
                                 separators=None, sort_keys=False)
  globals["raise_exception"] raises TemplateError(message)
  globals["strftime_now"](fmt) = datetime.now().strftime(fmt)
and the variables it renders with:
  messages, tools, documents=None, add_generation_prompt, the special tokens
  (bos_token/eos_token when the tokenizer has them), then extra kwargs.
strftime_now reads a fixed clock (each case's `now`) so outputs reproduce.

Usage: chat_template_ref.py CASES.json OUT.json
CASES.json: {"cases": [...]} or a list of {"id", "template", "messages", "tools",
"add_generation_prompt", "bos_token", "eos_token", "extra", "now"}.
OUT.json: a list of {"id", "output"} or {"id", "error_type", "error"}.
"""
import json
import sys
from datetime import datetime

import jinja2
from jinja2 import nodes
from jinja2.exceptions import TemplateError
from jinja2.ext import Extension, loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment


class GenerationTag(Extension):
    """transformers' {% generation %} ... {% endgeneration %}: renders its body."""

    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        call = self.call_method("_render_body")
        return nodes.CallBlock(call, [], [], body).set_lineno(lineno)

    def _render_body(self, caller):
        return caller()


def make_environment(clock):
    def raise_exception(message):
        raise TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    def strftime_now(fmt):
        return datetime.fromtimestamp(clock[0]).strftime(fmt)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[GenerationTag, loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


def render(env, compiled, case):
    source = case["template"]
    if source not in compiled:
        try:
            compiled[source] = env.from_string(source)
        except Exception as e:  # a syntax error: recorded for every case using it
            compiled[source] = e
    template = compiled[source]
    if isinstance(template, Exception):
        raise template
    context = {
        "messages": case.get("messages", []),
        "tools": case.get("tools"),
        "documents": None,
        "add_generation_prompt": case.get("add_generation_prompt", False),
    }
    for token in ("bos_token", "eos_token"):
        if case.get(token):
            context[token] = case[token]
    context.update(case.get("extra") or {})
    return template.render(**context)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: chat_template_ref.py CASES.json OUT.json")
    with open(sys.argv[1], encoding="utf-8") as f:
        cases = json.load(f)
    if isinstance(cases, dict):  # chat_template_cases.py's file: {"cases": [...], ...}
        cases = cases["cases"]
    clock = [0]
    env = make_environment(clock)
    compiled = {}
    results = []
    for case in cases:
        clock[0] = case.get("now", 0)
        try:
            output = render(env, compiled, case)
            output.encode("utf-8")  # lone surrogates cannot be written (or tokenized)
            results.append({"id": case["id"], "output": output})
        except Exception as e:
            results.append({"id": case["id"], "error_type": type(e).__name__, "error": str(e)})
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        json.dump({"jinja2_version": jinja2.__version__, "results": results}, f, ensure_ascii=False)


if __name__ == "__main__":
    main()
