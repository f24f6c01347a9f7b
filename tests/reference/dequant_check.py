#!/usr/bin/python3
"""Write every tensor of a GGUF file, dequantized by the independent reference,
as OUT_DIR/<tensor name>.f32: raw little-endian float32, row-major in the
HF/NumPy shape (GGUF dims reversed), so byte i*4 holds flat element i of the
GGUF tensor as well. A C++ test compares these with nomoat's dequantizer.

usage: /usr/bin/python3 dequant_check.py FILE.gguf OUT_DIR
Prints one line per tensor (name, type, shape) on stderr and a JSON summary
{"file":…, "n_tensors":…, "types": {type: count}} on stdout.
"""
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gguf_reader import GGUFFile  # noqa: E402


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    path, out_dir = argv[1], argv[2]
    os.makedirs(out_dir, exist_ok=True)
    gguf = GGUFFile(path)
    type_counts = {}
    for name, info in gguf.tensors.items():
        values = np.ascontiguousarray(gguf.tensor(name), dtype="<f4")
        # Tensor names contain dots but never slashes; refuse one that would escape OUT_DIR.
        if "/" in name or name in (".", ".."):
            raise ValueError(f"tensor name {name!r} is not a plain file name")
        values.tofile(os.path.join(out_dir, name + ".f32"))
        type_counts[info.type_name] = type_counts.get(info.type_name, 0) + 1
        print(f"{name} {info.type_name} {list(info.shape)}", file=sys.stderr)
    print(json.dumps({"file": path, "n_tensors": len(gguf.tensors), "types": type_counts}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
