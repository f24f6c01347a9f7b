#!/usr/bin/env python3
"""Prints a GGUF file's metadata and tensor table as JSON, read by the
independent Python reader (gguf_reader.py). Tests compare nomoat's reader and
writer against it (`nomoat info --json --full`)."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gguf_reader import GGUFFile  # noqa: E402


def _printable(value):
    # gguf_reader keeps invalid UTF-8 as surrogates; JSON shows them as U+FFFD,
    # as nomoat info does.
    if isinstance(value, str):
        return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    if isinstance(value, list):
        return [_printable(v) for v in value]
    return value


def dump(path):
    f = GGUFFile(path)
    return {
        "version": f.version,
        "metadata": {k: _printable(v) for k, v in f.metadata.items()},
        "tensors": [{"name": t.name, "shape": list(t.dims), "type": t.ggml_type, "offset": t.offset}
                    for t in f.tensors.values()],
        "file_size": os.path.getsize(path),
    }


if __name__ == "__main__":
    json.dump(dump(sys.argv[1]), sys.stdout)
