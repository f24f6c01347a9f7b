#!/usr/bin/python3
"""Independent GGUF reader and dequantizer (Python standard library + NumPy).

Written from the GGUF spec (ggml docs/gguf.md) and the ggml block formats, to
check nomoat's C++ against. It is meant to be read: each quantization type is
one function that maps a (n_blocks, bytes_per_block) uint8 array to a
(n_blocks, elements_per_block) float32 array, vectorized over all blocks.

File layout (v2/v3, little-endian):
  "GGUF" u32 version, u64 n_tensors, u64 n_kv,
  n_kv x (string key, u32 value_type, value),
  n_tensors x (string name, u32 n_dims, u64 dims[n_dims], u32 ggml_type, u64 offset),
  padding to general.alignment (default 32), then the tensor data; each
  tensor's offset is relative to the start of that data section.
A string is u64 length + UTF-8 bytes (no terminator). Version 1 used u32 for
the counts and lengths; it is obsolete and rejected here.

Dims are innermost-first (dims[0] is the contiguous row length), so a tensor
with GGUF dims [n_embd, n_vocab] becomes a NumPy array of shape
(n_vocab, n_embd), the same shape PyTorch/HF use for that weight.
"""
import struct
import sys

import numpy as np

# GGUF metadata value types -> struct format (8 = string, 9 = array handled apart).
_SCALAR_FORMATS = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f",
                   7: "?", 10: "Q", 11: "q", 12: "d"}
_STRING, _ARRAY = 8, 9

# ggml tensor type ids -> (name, elements per block, bytes per block).
GGML_TYPES = {
    0: ("F32", 1, 4), 1: ("F16", 1, 2), 30: ("BF16", 1, 2),
    2: ("Q4_0", 32, 18), 3: ("Q4_1", 32, 20), 6: ("Q5_0", 32, 22),
    7: ("Q5_1", 32, 24), 8: ("Q8_0", 32, 34), 9: ("Q8_1", 32, 36),
    10: ("Q2_K", 256, 84), 11: ("Q3_K", 256, 110), 12: ("Q4_K", 256, 144),
    13: ("Q5_K", 256, 176), 14: ("Q6_K", 256, 210), 15: ("Q8_K", 256, 292),
    24: ("I8", 1, 1), 25: ("I16", 1, 2), 26: ("I32", 1, 4), 27: ("I64", 1, 8),
    28: ("F64", 1, 8),
}
TYPE_IDS = {name: tid for tid, (name, _, _) in GGML_TYPES.items()}


class _Cursor:
    """Sequential little-endian reader over the header bytes."""

    def __init__(self, data):
        self.data = data
        self.pos = 0

    def scalar(self, fmt):
        (value,) = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize(fmt)
        return value

    def string(self):
        n = self.scalar("Q")
        raw = bytes(self.data[self.pos:self.pos + n])
        self.pos += n
        # Token strings may hold invalid UTF-8 (byte tokens); keep them readable.
        return raw.decode("utf-8", "surrogateescape")

    def value(self, vtype):
        if vtype == _STRING:
            return self.string()
        if vtype == _ARRAY:
            etype = self.scalar("I")
            count = self.scalar("Q")
            return [self.value(etype) for _ in range(count)]
        if vtype not in _SCALAR_FORMATS:
            raise ValueError(f"unknown GGUF value type {vtype} at byte {self.pos}")
        return self.scalar(_SCALAR_FORMATS[vtype])


class TensorInfo:
    def __init__(self, name, dims, ggml_type, offset):
        self.name = name
        self.dims = dims            # GGUF order: innermost first
        self.ggml_type = ggml_type
        self.offset = offset        # absolute byte offset in the file

    @property
    def shape(self):
        """NumPy/PyTorch shape: outermost first."""
        return tuple(reversed(self.dims))

    @property
    def n_elements(self):
        n = 1
        for d in self.dims:
            n *= d
        return n

    @property
    def type_name(self):
        return GGML_TYPES[self.ggml_type][0] if self.ggml_type in GGML_TYPES else f"type{self.ggml_type}"

    @property
    def n_bytes(self):
        _, block, size = GGML_TYPES[self.ggml_type]
        if self.dims and self.dims[0] % block:
            raise ValueError(f"{self.name}: row length {self.dims[0]} is not a multiple of "
                             f"the {self.type_name} block size {block}")
        return self.n_elements // block * size


class GGUFFile:
    """Parsed GGUF file: .version, .metadata (dict), .tensors (name -> TensorInfo)."""

    def __init__(self, path):
        self.path = path
        self._map = np.memmap(path, dtype=np.uint8, mode="r")
        cur = _Cursor(self._map)
        if bytes(self._map[:4]) != b"GGUF":
            raise ValueError(f"{path}: not a GGUF file (bad magic)")
        cur.pos = 4
        self.version = cur.scalar("I")
        if self.version not in (2, 3):
            raise ValueError(f"{path}: GGUF version {self.version} not supported (need 2 or 3)")
        n_tensors = cur.scalar("Q")
        n_kv = cur.scalar("Q")
        self.metadata = {}
        for _ in range(n_kv):
            key = cur.string()
            self.metadata[key] = cur.value(cur.scalar("I"))
        infos = []
        for _ in range(n_tensors):
            name = cur.string()
            n_dims = cur.scalar("I")
            dims = [cur.scalar("Q") for _ in range(n_dims)]
            ggml_type = cur.scalar("I")
            offset = cur.scalar("Q")
            infos.append(TensorInfo(name, dims, ggml_type, offset))
        alignment = int(self.metadata.get("general.alignment", 32))
        self.data_offset = (cur.pos + alignment - 1) // alignment * alignment
        self.tensors = {}
        for info in infos:
            info.offset += self.data_offset
            self.tensors[info.name] = info

    def raw(self, name):
        """The tensor's bytes as a uint8 array (a view into the mapped file)."""
        info = self.tensors[name]
        end = info.offset + info.n_bytes
        if end > len(self._map):
            raise ValueError(f"{name}: data runs past the end of the file")
        return self._map[info.offset:end]

    def tensor(self, name):
        """The tensor dequantized to float32 (integer types stay integer), HF-shaped."""
        info = self.tensors[name]
        flat = dequantize(self.raw(name), info.ggml_type, info.n_elements)
        return flat.reshape(info.shape)

    def get(self, key, default=None):
        return self.metadata.get(key, default)


def read_gguf(path):
    return GGUFFile(path)


# ----------------------------------------------------------------------------
# Dequantization. fp16 scale fields are IEEE half (NumPy float16 handles
# subnormals/inf/nan the same way). All arithmetic is float32, in the order
# ggml's reference dequantizers use (e.g. (d * scale) * q - (dmin * min)), so a
# C++ dequantizer that follows the same order agrees bit for bit; one that
# fuses a multiply-add may differ in the last bit.
# ----------------------------------------------------------------------------

def _f16(blocks, start):
    """fp16 field at byte `start` of every block, as a float32 column (n_blocks, 1)."""
    return blocks[:, start:start + 2].copy().view("<f2").astype(np.float32)


def _nibbles_low_then_high(qs):
    """Legacy 32-element blocks: byte j holds element j (low nibble) and j + 16 (high)."""
    return np.concatenate([qs & 0x0F, qs >> 4], axis=1)


def _bits_of_u32(qh4):
    """(n, 4) bytes holding a little-endian uint32 -> (n, 32) array of its bits, bit j at column j."""
    word = qh4.copy().view("<u4")  # (n, 1)
    return ((word >> np.arange(32, dtype=np.uint32)) & 1).astype(np.uint8)


def deq_q4_0(b):
    # [d f16][qs 16]: x = d * (q - 8)
    d = _f16(b, 0)
    q = _nibbles_low_then_high(b[:, 2:18]).astype(np.int8) - 8
    return q.astype(np.float32) * d


def deq_q4_1(b):
    # [d f16][m f16][qs 16]: x = d * q + m
    d, m = _f16(b, 0), _f16(b, 2)
    q = _nibbles_low_then_high(b[:, 4:20])
    return q.astype(np.float32) * d + m


def deq_q5_0(b):
    # [d f16][qh u32][qs 16]: 5-bit q = nibble | (bit j of qh) << 4; x = d * (q - 16)
    d = _f16(b, 0)
    q = _nibbles_low_then_high(b[:, 6:22]) | (_bits_of_u32(b[:, 2:6]) << 4)
    return (q.astype(np.int8) - 16).astype(np.float32) * d


def deq_q5_1(b):
    # [d f16][m f16][qh u32][qs 16]: x = d * q + m
    d, m = _f16(b, 0), _f16(b, 2)
    q = _nibbles_low_then_high(b[:, 8:24]) | (_bits_of_u32(b[:, 4:8]) << 4)
    return q.astype(np.float32) * d + m


def deq_q8_0(b):
    # [d f16][qs int8 32]: x = d * q
    d = _f16(b, 0)
    return b[:, 2:34].view(np.int8).astype(np.float32) * d


def deq_q8_1(b):
    # [d f16][s f16][qs int8 32]; s = d * sum(q) is only a dot-product helper.
    d = _f16(b, 0)
    return b[:, 4:36].view(np.int8).astype(np.float32) * d


def deq_q8_k(b):
    # [d f32][qs int8 256][bsums int16 16]: x = d * q
    d = b[:, 0:4].copy().view("<f4")
    return b[:, 4:260].view(np.int8).astype(np.float32) * d


# K-quants: 256-element super-blocks. Element e of a super-block is addressed
# below by its position; each function builds index arrays over e so the
# mapping from bits to elements is spelled out once.
_E = np.arange(256)


def deq_q2_k(b):
    # [scales 16][qs 64][d f16][dmin f16]; 16 groups of 16 elements.
    # Element e = 128*half + 32*j + l (j in 0..3, l in 0..31): 2-bit q is bits
    # 2j..2j+1 of qs[32*half + l]. Group e // 16 uses scale byte: low nibble
    # scales d, high nibble scales dmin. x = (d * sc) * q - (dmin * mn).
    scales, qs = b[:, 0:16], b[:, 16:80]
    d, dmin = _f16(b, 80), _f16(b, 82)
    half, j, l = _E // 128, (_E % 128) // 32, _E % 32
    q = (qs[:, 32 * half + l] >> (2 * j)) & 3
    group = _E // 16
    sc = (scales[:, group] & 0x0F).astype(np.float32)
    mn = (scales[:, group] >> 4).astype(np.float32)
    return (d * sc) * q.astype(np.float32) - dmin * mn


def _q3_k_scales(scales12):
    """Q3_K: 16 signed 6-bit scales packed in 12 bytes, stored with +32.
    Scale i: low 4 bits are nibble (i // 8) of byte i % 8; high 2 bits are
    bits 2*(i // 4)..+1 of byte 8 + i % 4."""
    i = np.arange(16)
    low = (scales12[:, i % 8] >> (4 * (i // 8))) & 0x0F
    high = (scales12[:, 8 + i % 4] >> (2 * (i // 4))) & 0x03
    return (low | (high << 4)).astype(np.int16) - 32


def deq_q3_k(b):
    # [hmask 32][qs 64][scales 12][d f16]; 16 groups of 16.
    # Element e = 128*half + 32*j + l: low 2 bits as in Q2_K; the third bit is
    # bit (4*half + j) of hmask[l]. Stored q is unsigned 0..7 meaning q - 4,
    # i.e. a clear hmask bit subtracts 4. x = (d * scale) * (q - 4).
    hmask, qs, scales12 = b[:, 0:32], b[:, 32:96], b[:, 96:108]
    d = _f16(b, 108)
    half, j, l = _E // 128, (_E % 128) // 32, _E % 32
    low2 = (qs[:, 32 * half + l] >> (2 * j)) & 3
    high = (hmask[:, l] >> (4 * half + j)) & 1
    q = low2.astype(np.int16) - np.where(high == 1, 0, 4)
    scale = _q3_k_scales(scales12)[:, _E // 16].astype(np.float32)
    return (d * scale) * q.astype(np.float32)


def _k4_scales_mins(s):
    """Q4_K/Q5_K: 8 unsigned 6-bit scales and 8 6-bit mins in 12 bytes.
    For group g < 4: scale = s[g] & 63, min = s[g+4] & 63.
    For g >= 4: the low 4 bits live in s[g+4] (scale: low nibble, min: high
    nibble) and the top 2 bits are the spare top bits of s[g-4] (scale) and
    s[g] (min)."""
    sc = np.empty((s.shape[0], 8), dtype=np.uint8)
    mn = np.empty((s.shape[0], 8), dtype=np.uint8)
    sc[:, :4] = s[:, 0:4] & 63
    mn[:, :4] = s[:, 4:8] & 63
    sc[:, 4:] = (s[:, 8:12] & 0x0F) | ((s[:, 0:4] >> 6) << 4)
    mn[:, 4:] = (s[:, 8:12] >> 4) | ((s[:, 4:8] >> 6) << 4)
    return sc.astype(np.float32), mn.astype(np.float32)


def deq_q4_k(b):
    # [d f16][dmin f16][scales 12][qs 128]; 8 groups of 32.
    # Element e = 64*c + 32*h + l: q = nibble h of qs[32*c + l]; group e // 32.
    # x = (d * sc) * q - (dmin * mn).
    d, dmin = _f16(b, 0), _f16(b, 2)
    sc, mn = _k4_scales_mins(b[:, 4:16])
    qs = b[:, 16:144]
    c, h, l = _E // 64, (_E % 64) // 32, _E % 32
    q = (qs[:, 32 * c + l] >> (4 * h)) & 0x0F
    g = _E // 32
    return (d * sc[:, g]) * q.astype(np.float32) - dmin * mn[:, g]


def deq_q5_k(b):
    # [d f16][dmin f16][scales 12][qh 32][qs 128]: Q4_K plus a 5th bit,
    # bit (e // 32) of qh[e % 32].
    d, dmin = _f16(b, 0), _f16(b, 2)
    sc, mn = _k4_scales_mins(b[:, 4:16])
    qh, qs = b[:, 16:48], b[:, 48:176]
    c, h, l = _E // 64, (_E % 64) // 32, _E % 32
    g = _E // 32
    q = ((qs[:, 32 * c + l] >> (4 * h)) & 0x0F) | (((qh[:, l] >> g) & 1) << 4)
    return (d * sc[:, g]) * q.astype(np.float32) - dmin * mn[:, g]


def deq_q6_k(b):
    # [ql 128][qh 64][scales int8 16][d f16]; 16 groups of 16.
    # Element e = 128*half + 32*k + l (k in 0..3): low 4 bits are nibble
    # (k // 2) of ql[64*half + 32*(k % 2) + l]; high 2 bits are bits 2k..2k+1
    # of qh[32*half + l]. x = (d * scale[e // 16]) * (q - 32).
    ql, qh = b[:, 0:128], b[:, 128:192]
    scales = b[:, 192:208].view(np.int8)
    d = _f16(b, 208)
    half, k, l = _E // 128, (_E % 128) // 32, _E % 32
    low4 = (ql[:, 64 * half + 32 * (k % 2) + l] >> (4 * (k // 2))) & 0x0F
    high2 = (qh[:, 32 * half + l] >> (2 * k)) & 3
    q = (low4 | (high2 << 4)).astype(np.int16) - 32
    return (d * scales[:, _E // 16].astype(np.float32)) * q.astype(np.float32)


_BLOCK_DEQUANTIZERS = {
    "Q4_0": deq_q4_0, "Q4_1": deq_q4_1, "Q5_0": deq_q5_0, "Q5_1": deq_q5_1,
    "Q8_0": deq_q8_0, "Q8_1": deq_q8_1, "Q2_K": deq_q2_k, "Q3_K": deq_q3_k,
    "Q4_K": deq_q4_k, "Q5_K": deq_q5_k, "Q6_K": deq_q6_k, "Q8_K": deq_q8_k,
}
_PLAIN_DTYPES = {"F32": "<f4", "F16": "<f2", "F64": "<f8", "I8": "i1",
                 "I16": "<i2", "I32": "<i4", "I64": "<i8"}


def dequantize(raw, ggml_type, n_elements=None):
    """Bytes of one tensor (uint8 array) -> flat float32 array.

    Integer types (I8..I64) are returned as their own integer dtype and F64 as
    float64, since converting them to float32 could lose information."""
    if ggml_type not in GGML_TYPES:
        raise NotImplementedError(f"ggml type {ggml_type}")
    name, block, size = GGML_TYPES[ggml_type]
    raw = np.ascontiguousarray(raw, dtype=np.uint8)
    if len(raw) % size:
        raise ValueError(f"{name}: {len(raw)} bytes is not a whole number of {size}-byte blocks")
    if name == "BF16":
        # bfloat16 is the top half of a float32.
        out = (raw.view("<u2").astype(np.uint32) << 16).view(np.float32)
    elif name in _PLAIN_DTYPES:
        out = raw.view(_PLAIN_DTYPES[name])
        if name == "F16":
            out = out.astype(np.float32)
    else:
        out = _BLOCK_DEQUANTIZERS[name](raw.reshape(-1, size)).astype(np.float32).reshape(-1)
    if n_elements is not None and out.size != n_elements:
        raise ValueError(f"{name}: got {out.size} elements, expected {n_elements}")
    return out


if __name__ == "__main__":
    # Quick look at a file: metadata (arrays abbreviated) and the tensor table.
    gf = GGUFFile(sys.argv[1])
    print(f"GGUF v{gf.version}, data at byte {gf.data_offset}")
    for key, value in gf.metadata.items():
        shown = f"[{len(value)} items]" if isinstance(value, list) else repr(value)
        print(f"  {key} = {shown}")
    for info in gf.tensors.values():
        print(f"  {info.name:32s} {info.type_name:5s} {list(info.shape)}")
