#!/usr/bin/python3
"""Independent reference forward pass of a decoder-only transformer read from
GGUF, in float64 NumPy, over a whole token sequence with a causal mask. It is
the yardstick for nomoat's C++ forward pass, so it favours plainness over speed.

Architectures: "llama" (also Llama 2/3/3.1, TinyLlama, Mistral-style files that
declare llama). Other families are meant to plug in as a few differences in
ModelConfig (see the ArchTraits notes below) but raise NotImplementedError now.

Llama, as GGUF stores it:
  h = token_embd[tokens]
  per layer:  h += attn_output(attention(rope(q), rope(k), v))  of rmsnorm(h) * attn_norm
              h += ffn_down(silu(ffn_gate(x)) * ffn_up(x))      with x = rmsnorm(h) * ffn_norm
  logits = output(rmsnorm(h) * output_norm)     (output tied to token_embd if absent)
RMSNorm: x / sqrt(mean(x^2) + eps). RoPE: GGUF llama uses the "normal" (GPT-J)
layout, rotating adjacent pairs (x[2i], x[2i+1]); the HF->GGUF converter
permutes the Q/K rows so this equals HF's rotate_half on the original weights.

usage: /usr/bin/python3 llama_ref.py MODEL.gguf --tokens 1,2,3 [--out LOGITS.f32]
Writes n_tokens x n_vocab float32 logits (row-major, little-endian) to --out
and prints {"n_tokens":…, "n_vocab":…, "argmax":[…]} as one JSON line.
"""
import argparse
import dataclasses
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gguf_reader import GGUFFile  # noqa: E402

# Differences other families will need (documented here so they slot in as
# config fields and a few `if`s, not a new forward pass):
#   qwen2:   biases on attn_q/k/v (blk.N.attn_q.bias ...); rope NEOX (rotate
#            halves: pairs (x[i], x[i + rope_dim/2])).
#   qwen3:   NEOX rope; RMSNorm over each head of q and k (attn_q_norm,
#            attn_k_norm, shape [head_dim]) before rope.
#   gemma2/3: h scaled by sqrt(n_embd) after the embedding lookup; FFN act is
#            GELU (tanh approximation); HF's norms are x * (1 + w), and the GGUF
#            converter (gemma 1/2/3; not gemma4) stores w + 1 already, so the
#            GGUF weight is used as is;
#            extra post_attention_norm / post_ffw_norm on each branch's output;
#            gemma2 soft-caps attention scores and final logits
#            (cap * tanh(x / cap)); alternating sliding-window layers; NEOX rope;
#            gemma3 adds q/k norms and a different rope base for local layers.
#   phi3:    fused attn_qkv ([q; k; v] rows) and fused ffn_up holding [gate; up].
SUPPORTED_ARCHS = ("llama",)


@dataclasses.dataclass
class ModelConfig:
    arch: str
    n_embd: int
    n_layer: int
    n_head: int
    n_head_kv: int
    head_dim: int           # per-head size of q and k
    head_dim_v: int         # per-head size of v (usually == head_dim)
    n_ff: int
    n_ctx_train: int
    norm_eps: float
    rope_base: float
    rope_dim: int           # leading dims of each head that get rotated
    rope_linear_factor: float  # positions are divided by this ("linear" scaling)


def _per_layer(value, layer):
    """Some GGUF keys (e.g. head_count_kv, feed_forward_length) may be per-layer arrays."""
    return value[layer] if isinstance(value, list) else value


def read_config(gguf):
    arch = gguf.get("general.architecture")
    if arch not in SUPPORTED_ARCHS:
        raise NotImplementedError(f"arch {arch}")

    def key(name, default=None):
        value = gguf.get(f"{arch}.{name}", default)
        if value is None:
            raise KeyError(f"missing metadata {arch}.{name}")
        return value

    n_embd = int(key("embedding_length"))
    n_head = int(_per_layer(key("attention.head_count"), 0))
    n_head_kv = int(_per_layer(key("attention.head_count_kv", n_head), 0))
    head_dim = int(key("attention.key_length", n_embd // n_head))
    scaling = gguf.get(f"{arch}.rope.scaling.type", "none")
    if scaling not in ("none", "linear"):
        # YaRN / LongRoPE change both frequencies and attention magnitude;
        # not needed for llama files today and easy to get subtly wrong.
        raise NotImplementedError(f"rope scaling {scaling}")
    factor = float(gguf.get(f"{arch}.rope.scaling.factor", 1.0)) if scaling == "linear" else 1.0
    return ModelConfig(
        arch=arch,
        n_embd=n_embd,
        n_layer=int(key("block_count")),
        n_head=n_head,
        n_head_kv=n_head_kv,
        head_dim=head_dim,
        head_dim_v=int(key("attention.value_length", head_dim)),
        n_ff=int(_per_layer(key("feed_forward_length"), 0)),
        n_ctx_train=int(key("context_length", 0)),
        norm_eps=float(key("attention.layer_norm_rms_epsilon")),
        rope_base=float(key("rope.freq_base", 10000.0)),
        rope_dim=int(key("rope.dimension_count", head_dim)),
        rope_linear_factor=factor if factor > 0 else 1.0,
    )


class Model:
    """Weights (float64, HF shapes: linear weights are (out_features, in_features)) + config."""

    def __init__(self, path):
        self.gguf = GGUFFile(path)
        self.config = read_config(self.gguf)
        self._cache = {}
        self.token_embd = self.weight("token_embd.weight")          # (n_vocab, n_embd)
        self.n_vocab = self.token_embd.shape[0]
        # Tied embeddings: no output.weight, the embedding matrix is reused.
        self.output = self.weight("output.weight") if self.has("output.weight") else self.token_embd
        # Llama 3.1 "llama3" rope scaling ships as per-frequency divisors.
        self.rope_freq_factors = self.weight("rope_freqs.weight") if self.has("rope_freqs.weight") else None

    def has(self, name):
        return name in self.gguf.tensors

    def weight(self, name):
        if name not in self._cache:
            self._cache[name] = np.asarray(self.gguf.tensor(name), dtype=np.float64)
        return self._cache[name]

    def layer(self, i, name):
        return self.weight(f"blk.{i}.{name}.weight")


# ----------------------------------------------------------------------------
# Building blocks. Activations are (n_tokens, features) float64.
# ----------------------------------------------------------------------------

def rms_norm(x, weight, eps):
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * weight


def linear(x, weight):
    """x @ W^T with W shaped (out_features, in_features), like torch.nn.Linear."""
    return x @ weight.T


def silu(x):
    return x / (1.0 + np.exp(-x))


def rope_angles(cfg, positions, freq_factors=None):
    """(n_tokens, rope_dim/2) angles: pos * base^(-2i/rope_dim) [/ freq_factors[i]]."""
    i = np.arange(cfg.rope_dim // 2, dtype=np.float64)
    inv_freq = cfg.rope_base ** (-2.0 * i / cfg.rope_dim)
    if freq_factors is not None:
        inv_freq = inv_freq / freq_factors[: cfg.rope_dim // 2]
    pos = np.asarray(positions, dtype=np.float64) / cfg.rope_linear_factor
    return np.outer(pos, inv_freq)


def rope_adjacent_pairs(x, angles, rope_dim):
    """GGUF "normal" RoPE on x of shape (n_tokens, n_heads, head_dim): rotate
    (x[2i], x[2i+1]) by angles[:, i] for 2i < rope_dim; dims past rope_dim are
    left as they are (partial rotary)."""
    out = x.copy()
    cos = np.cos(angles)[:, None, :]   # broadcast over heads
    sin = np.sin(angles)[:, None, :]
    even = x[..., 0:rope_dim:2]
    odd = x[..., 1:rope_dim:2]
    out[..., 0:rope_dim:2] = even * cos - odd * sin
    out[..., 1:rope_dim:2] = even * sin + odd * cos
    return out


def causal_attention(q, k, v, n_head, n_head_kv):
    """q: (T, n_head, d), k: (T, n_head_kv, d), v: (T, n_head_kv, dv) -> (T, n_head * dv).
    Grouped-query attention: query head h reads KV head h // (n_head / n_head_kv)."""
    n_tokens, _, head_dim = q.shape
    group = n_head // n_head_kv
    future = np.triu(np.ones((n_tokens, n_tokens), dtype=bool), k=1)  # key after query
    heads = []
    for h in range(n_head):
        kv = h // group
        scores = q[:, h, :] @ k[:, kv, :].T / np.sqrt(head_dim)       # (T_query, T_key)
        scores = np.where(future, -np.inf, scores)
        scores = scores - scores.max(axis=-1, keepdims=True)          # stable softmax
        probs = np.exp(scores)
        probs /= probs.sum(axis=-1, keepdims=True)
        heads.append(probs @ v[:, kv, :])
    return np.concatenate(heads, axis=-1)


# ----------------------------------------------------------------------------
# Forward pass.
# ----------------------------------------------------------------------------

def attention_block(model, i, x, positions):
    cfg = model.config
    n_tokens = x.shape[0]
    q = linear(x, model.layer(i, "attn_q")).reshape(n_tokens, cfg.n_head, cfg.head_dim)
    k = linear(x, model.layer(i, "attn_k")).reshape(n_tokens, cfg.n_head_kv, cfg.head_dim)
    v = linear(x, model.layer(i, "attn_v")).reshape(n_tokens, cfg.n_head_kv, cfg.head_dim_v)
    angles = rope_angles(cfg, positions, model.rope_freq_factors)
    q = rope_adjacent_pairs(q, angles, cfg.rope_dim)
    k = rope_adjacent_pairs(k, angles, cfg.rope_dim)
    attn = causal_attention(q, k, v, cfg.n_head, cfg.n_head_kv)
    return linear(attn, model.layer(i, "attn_output"))


def ffn_block(model, i, x):
    gate = linear(x, model.layer(i, "ffn_gate"))
    up = linear(x, model.layer(i, "ffn_up"))
    return linear(silu(gate) * up, model.layer(i, "ffn_down"))


def forward(model, tokens, return_hidden=False):
    """Logits (n_tokens, n_vocab) float64 for every position of `tokens`
    (positions 0..n-1, no cache: the whole sequence is recomputed)."""
    cfg = model.config
    tokens = np.asarray(tokens, dtype=np.int64)
    if tokens.ndim != 1 or tokens.size == 0:
        raise ValueError("need a non-empty 1-D token sequence")
    if tokens.min() < 0 or tokens.max() >= model.n_vocab:
        raise ValueError(f"token id out of range [0, {model.n_vocab})")
    positions = np.arange(tokens.size)
    h = model.token_embd[tokens]                       # residual stream (T, n_embd)
    for i in range(cfg.n_layer):
        x = rms_norm(h, model.layer(i, "attn_norm"), cfg.norm_eps)
        h = h + attention_block(model, i, x, positions)
        x = rms_norm(h, model.layer(i, "ffn_norm"), cfg.norm_eps)
        h = h + ffn_block(model, i, x)
    h = rms_norm(h, model.weight("output_norm.weight"), cfg.norm_eps)
    logits = linear(h, model.output)
    return (logits, h) if return_hidden else logits


def greedy_generate(model, prompt_tokens, n_predict, eos_id=None):
    """Greedy decoding by recomputing the whole sequence each step (slow, simple).
    Returns the generated ids only (not the prompt); stops after eos_id if given."""
    tokens = list(prompt_tokens)
    generated = []
    for _ in range(n_predict):
        next_id = int(np.argmax(forward(model, tokens)[-1]))
        generated.append(next_id)
        tokens.append(next_id)
        if eos_id is not None and next_id == eos_id:
            break
    return generated


def _parse_tokens(text):
    return [int(t) for t in text.replace(" ", "").split(",") if t != ""]


def main(argv=None):
    parser = argparse.ArgumentParser(description="Reference llama forward pass (float64 NumPy).")
    parser.add_argument("model", help="GGUF model file")
    parser.add_argument("--tokens", required=True, help="comma-separated token ids, e.g. 1,2,3")
    parser.add_argument("--out", help="write n_tokens x n_vocab float32 logits here")
    parser.add_argument("--generate", type=int, default=0, metavar="N",
                        help="also greedy-generate N tokens after the sequence (printed as 'generated')")
    args = parser.parse_args(argv)

    model = Model(args.model)
    tokens = _parse_tokens(args.tokens)
    logits = forward(model, tokens)
    if args.out:
        np.ascontiguousarray(logits, dtype="<f4").tofile(args.out)
    summary = {"n_tokens": len(tokens), "n_vocab": model.n_vocab,
               "argmax": [int(a) for a in np.argmax(logits, axis=-1)]}
    if args.generate:
        summary["generated"] = greedy_generate(model, tokens, args.generate)
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
