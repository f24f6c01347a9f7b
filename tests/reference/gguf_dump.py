#!/usr/bin/env python3
"""Independent GGUF reader (plain Python, written from the format spec) that
prints a file's metadata and tensor table as JSON. Tests compare nomoat's
reader and writer against it."""
import json
import struct
import sys

SCALARS = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "B", 10: "Q", 11: "q", 12: "d"}


class Reader:
    def __init__(self, data):
        self.data = data
        self.pos = 0

    def scalar(self, fmt):
        (value,) = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize(fmt)
        return value

    def string(self):
        n = self.scalar("Q")
        raw = self.data[self.pos:self.pos + n]
        self.pos += n
        return raw.decode("utf-8", "replace")

    def value(self, vtype):
        if vtype == 8:
            return self.string()
        if vtype == 9:
            etype = self.scalar("I")
            count = self.scalar("Q")
            return [self.value(etype) for _ in range(count)]
        v = self.scalar(SCALARS[vtype])
        return bool(v) if vtype == 7 else v


def read_gguf(path):
    with open(path, "rb") as f:
        data = f.read()
    r = Reader(data)
    if data[:4] != b"GGUF":
        raise ValueError("not GGUF")
    r.pos = 4
    version = r.scalar("I")
    n_tensors = r.scalar("Q")
    n_kv = r.scalar("Q")
    metadata = {}
    for _ in range(n_kv):
        key = r.string()
        metadata[key] = r.value(r.scalar("I"))
    tensors = []
    for _ in range(n_tensors):
        name = r.string()
        dims = [r.scalar("Q") for _ in range(r.scalar("I"))]
        ttype = r.scalar("I")
        offset = r.scalar("Q")
        tensors.append({"name": name, "shape": dims, "type": ttype, "offset": offset})
    align = metadata.get("general.alignment", 32)
    data_offset = (r.pos + align - 1) // align * align
    for t in tensors:
        t["offset"] += data_offset
    return {"version": version, "metadata": metadata, "tensors": tensors, "file_size": len(data)}


if __name__ == "__main__":
    json.dump(read_gguf(sys.argv[1]), sys.stdout)
