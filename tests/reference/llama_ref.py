#!/usr/bin/python3
"""Independent reference forward pass of a decoder-only transformer read from
GGUF, in float64 NumPy, over a whole token sequence with a causal mask. It is
the yardstick for nomoat's C++ forward pass, so it favours plainness over speed.

Architectures: "llama" (also Llama 2/3/3.1, TinyLlama, Mistral-style files that
declare llama, and Mixtral-style "llama" files with experts), "qwen2", "qwen3",
"qwen3moe", "phi3", "gemma2", "gemma3". Each family is a few differences in
ModelConfig (see the notes below), taken from the model cards, papers and the
Hugging Face modeling code, not from nomoat.

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
#   MoE (Mixtral as "llama" + expert_count; qwen3moe): router ffn_gate_inp
#            (n_expert x n_embd); experts as 3-D tensors [n_embd, n_ff, n_expert]
#            (NumPy shape (n_expert, n_ff, n_embd)).
#
# Facts used for each family (HF transformers modeling code / configs):
#   qwen2 (Qwen2Attention): q_proj/k_proj/v_proj have bias=True, o_proj none;
#     rotate_half RoPE, which in GGUF (no Q/K permutation for qwen2) is the
#     NEOX pairing (x[i], x[i + d/2]).
#   qwen3 (Qwen3Attention): q_norm/k_norm = RMSNorm(head_dim) applied to each
#     head's q and k after the projection and before RoPE; no qkv bias;
#     head_dim from config.head_dim (GGUF attention.key_length).
#   qwen3moe (Qwen3MoeSparseMoeBlock): routing = softmax(router logits), topk,
#     then divided by their sum when norm_topk_prob (true in Qwen3-30B-A3B;
#     llama.cpp always renormalises; GGUF may say expert_weights_norm).
#   Mixtral (MixtralSparseMoeBlock): softmax over all experts, topk(2), then
#     renormalised by the sum of the chosen weights.
#   phi3 (Phi3Attention / Phi3MLP): qkv_proj output split as
#     [:n_head*hd], [.. + n_kv*hd], rest; gate_up_proj output chunked in two,
#     first half gate, second half up: up * silu(gate). Partial rotary when
#     rope.dimension_count < head_dim (rotate_half over the first rope_dim).
#   gemma2 (Gemma2Model/DecoderLayer): hidden = embed * sqrt(hidden_size);
#     x = x + post_attention_layernorm(attn(input_layernorm(x)));
#     x = x + post_feedforward_layernorm(mlp(pre_feedforward_layernorm(x)));
#     mlp = down(gelu_tanh(gate(x)) * up(x)); scores = q k^T * query_pre_attn_scalar^-0.5,
#     then softcap 50 (cap * tanh(s / cap)), final logits softcap 30; layer i
#     is sliding (window 4096) when i % 2 == 0; a key j is visible to query i
#     in a sliding layer when i - j < window.
#   gemma3: no softcaps (final only if configured), q_norm/k_norm like qwen3,
#     sliding layers unless (i + 1) % 6 == 0, local layers use RoPE base
#     rope_local_base_freq = 10000 with no scaling, global ones rope_theta
#     (1e6) with the configured linear scaling.
#   query_pre_attn_scalar is not in GGUF: head_dim, but n_embd / n_head for the
#   27B models (gemma2: 46 layers, gemma3: 62 layers), as gemma_pytorch's
#   configs give it.
#
# RoPE scaling (GGUF <arch>.rope.scaling.*), from the papers and HF's
# modeling_rope_utils / Phi3 code:
#   linear:   positions divided by the factor.
#   yarn (YaRN paper, "NTK-by-parts" + temperature; HF _compute_yarn_parameters):
#     with d = rope_dim, base b, original context L (original_context_length,
#     else context_length), pair i has wavelength 2*pi*b^(2i/d); it turns
#     r = L / wavelength times in the original context. Pairs with r > beta_fast
#     (default 32) keep their frequency, r < beta_slow (default 1) are divided by
#     the factor s, linearly blended in between. HF places the blend by pair
#     index: low = floor(dim(beta_fast)), high = ceil(dim(beta_slow)) with
#     dim(r) = d * ln(L / (2*pi*r)) / (2 ln b), clamped to [0, d-1];
#     weight of the interpolated frequency = clip((i - low) / (high - low), 0, 1).
#     cos and sin are multiplied by the attention factor 0.1 ln(s) + 1 (s > 1),
#     times rope.scaling.attn_factor when the file has it. With HF's
#     mscale_all_dim (GGUF rope.scaling.yarn_log_multiplier, as llama.cpp reads
#     it for non-DeepSeek files; mscale taken as 1) the factor is
#     get_mscale(s, 1) / get_mscale(s, mscale_all_dim), get_mscale(s, m) =
#     0.1 m ln(s) + 1.
#   longrope (Phi-3 128k, Phi-3.5, Phi-4-mini; HF _compute_longrope_parameters):
#     inv_freq = 1 / (ext_factors * b^(2i/d)), ext_factors = rope_factors_long
#     when the sequence length exceeds original_max_position_embeddings, else
#     rope_factors_short. HF decides by the current length; llama.cpp by the
#     context size it allocated, which keeps cached keys valid: forward() takes
#     that size as n_ctx. Attention factor on cos and sin: the file's
#     rope.scaling.attn_factor, else sqrt(1 + ln(s) / ln(L)) with
#     s = context_length / L (1 when s <= 1).
#   llama3 (Llama 3.1): GGUF ships the per-pair divisors as rope_freqs.weight.
SUPPORTED_ARCHS = ("llama", "qwen2", "qwen3", "qwen3moe", "phi3", "gemma2", "gemma3")


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
    rope_neox: bool = False    # pair (x[i], x[i + rope_dim/2]) instead of (x[2i], x[2i+1])
    embed_scale: float = 1.0
    gelu: bool = False         # GeGLU (tanh GELU) instead of SwiGLU
    attn_softcap: float = 0.0
    final_softcap: float = 0.0
    attn_scale: float = 0.0    # 0: 1/sqrt(head_dim)
    window: int = 0            # sliding window of local layers (0: none)
    local_layers: tuple = ()   # indices of sliding-window layers
    rope_base_local: float = 10000.0
    local_linear_factor: float = 1.0
    n_expert: int = 0
    n_expert_used: int = 0
    expert_norm: bool = True
    rope_scaling: str = "none"  # none, linear, yarn, longrope
    rope_orig_ctx: int = 0      # original (pre-training) context for yarn / longrope
    yarn_factor: float = 1.0
    yarn_beta_fast: float = 32.0
    yarn_beta_slow: float = 1.0
    yarn_mscale_all_dim: float = 0.0  # 0: absent
    rope_attn_factor: float = 1.0  # multiplies cos and sin (yarn adds its own on top)


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
    if scaling == "llama3":
        scaling = "none"   # the divisors are rope_freqs.weight
    if scaling not in ("none", "linear", "yarn", "longrope"):
        raise NotImplementedError(f"rope scaling {scaling}")
    if scaling == "none" and "rope_factors_long.weight" in gguf.tensors:
        scaling = "longrope"   # older Phi-3 files carry only the tensors
    factor = float(gguf.get(f"{arch}.rope.scaling.factor", 1.0)) if scaling in ("linear", "yarn") else 1.0
    n_ctx_train = int(key("context_length", 0))
    orig_ctx = int(gguf.get(f"{arch}.rope.scaling.original_context_length", n_ctx_train))
    rope_extra = {"rope_scaling": scaling, "rope_orig_ctx": orig_ctx}
    attn_factor = gguf.get(f"{arch}.rope.scaling.attn_factor")
    if scaling == "yarn":
        rope_extra["yarn_factor"] = factor
        rope_extra["yarn_beta_fast"] = float(gguf.get(f"{arch}.rope.scaling.yarn_beta_fast", 32.0))
        rope_extra["yarn_beta_slow"] = float(gguf.get(f"{arch}.rope.scaling.yarn_beta_slow", 1.0))
        rope_extra["yarn_mscale_all_dim"] = float(gguf.get(f"{arch}.rope.scaling.yarn_log_multiplier", 0.0))
        factor = 1.0   # not linear: the frequencies carry the factor
    if scaling == "longrope" and attn_factor is None:
        s = n_ctx_train / orig_ctx
        attn_factor = np.sqrt(1.0 + np.log(s) / np.log(orig_ctx)) if s > 1.0 else 1.0
    rope_extra["rope_attn_factor"] = 1.0 if attn_factor is None else float(attn_factor)
    n_layer = int(key("block_count"))
    n_expert = int(gguf.get(f"{arch}.expert_count", 0))
    if n_expert:
        # Expert width: expert_feed_forward_length when given (qwen3moe), else
        # feed_forward_length (Mixtral).
        n_ff = int(gguf.get(f"{arch}.expert_feed_forward_length", _per_layer(key("feed_forward_length"), 0)))
    else:
        n_ff = int(_per_layer(key("feed_forward_length"), 0))
    family = {}
    if arch in ("qwen2", "qwen3", "qwen3moe", "phi3", "gemma2", "gemma3"):
        family["rope_neox"] = True
    if arch in ("gemma2", "gemma3"):
        family["embed_scale"] = float(np.sqrt(n_embd))
        family["gelu"] = True
        n_layer_27b = 46 if arch == "gemma2" else 62
        scalar = n_embd // n_head if n_layer == n_layer_27b else head_dim
        family["attn_scale"] = 1.0 / np.sqrt(scalar)
    if arch == "gemma2":
        family["attn_softcap"] = float(gguf.get("gemma2.attn_logit_softcapping", 50.0))
        family["final_softcap"] = float(gguf.get("gemma2.final_logit_softcapping", 30.0))
        family["window"] = int(gguf.get("gemma2.attention.sliding_window", 4096))
        family["local_layers"] = tuple(i for i in range(n_layer) if i % 2 == 0)
        family["rope_base_local"] = float(key("rope.freq_base", 10000.0))
        family["local_linear_factor"] = factor
    if arch == "gemma3":
        family["final_softcap"] = float(gguf.get("gemma3.final_logit_softcapping", 0.0))
        family["window"] = int(gguf.get("gemma3.attention.sliding_window", 0))
        family["local_layers"] = tuple(i for i in range(n_layer) if (i + 1) % 6 != 0)
        family["rope_base_local"] = 10000.0
    if n_expert:
        family["n_expert"] = n_expert
        family["n_expert_used"] = int(key("expert_used_count"))
        family["expert_norm"] = bool(gguf.get(f"{arch}.expert_weights_norm", True))
    return ModelConfig(
        arch=arch,
        n_embd=n_embd,
        n_layer=n_layer,
        n_head=n_head,
        n_head_kv=n_head_kv,
        head_dim=head_dim,
        head_dim_v=int(key("attention.value_length", head_dim)),
        n_ff=n_ff,
        n_ctx_train=n_ctx_train,
        norm_eps=float(key("attention.layer_norm_rms_epsilon")),
        rope_base=float(key("rope.freq_base", 10000.0)),
        rope_dim=int(key("rope.dimension_count", head_dim)),
        rope_linear_factor=factor if factor > 0 else 1.0,
        **rope_extra,
        **family,
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
        if self.config.rope_scaling == "longrope":
            self.rope_factors_long = self.weight("rope_factors_long.weight")
            self.rope_factors_short = self.weight("rope_factors_short.weight")

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


def gelu_tanh(x):
    return 0.5 * x * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (x + 0.044715 * x ** 3)))


def softcap(x, cap):
    return cap * np.tanh(x / cap) if cap > 0 else x


def yarn_inv_freq(cfg, base):
    """YaRN's per-pair frequencies (see "RoPE scaling" at the top): each pair's
    own frequency where it turns more than beta_fast times in the original
    context, divided by the factor where fewer than beta_slow, blended linearly
    by pair index in between."""
    d = cfg.rope_dim
    own = base ** (-np.arange(0, d, 2, dtype=np.float64) / d)
    stretched = own / cfg.yarn_factor

    def pair_index(turns):
        return d * np.log(cfg.rope_orig_ctx / (turns * 2.0 * np.pi)) / (2.0 * np.log(base))

    low = max(np.floor(pair_index(cfg.yarn_beta_fast)), 0.0)
    high = min(np.ceil(pair_index(cfg.yarn_beta_slow)), d - 1.0)
    if high == low:
        high += 0.001
    stretch_weight = np.clip((np.arange(d // 2, dtype=np.float64) - low) / (high - low), 0.0, 1.0)
    return stretched * stretch_weight + own * (1.0 - stretch_weight)


def rope_angles(cfg, positions, freq_factors=None, base=None, linear_factor=None, yarn=False):
    """(n_tokens, rope_dim/2) angles: pos * base^(-2i/rope_dim) [/ freq_factors[i]]
    (YaRN's blended frequencies instead when `yarn`)."""
    base = cfg.rope_base if base is None else base
    linear_factor = cfg.rope_linear_factor if linear_factor is None else linear_factor
    i = np.arange(cfg.rope_dim // 2, dtype=np.float64)
    inv_freq = yarn_inv_freq(cfg, base) if yarn else base ** (-2.0 * i / cfg.rope_dim)
    if freq_factors is not None:
        inv_freq = inv_freq / freq_factors[: cfg.rope_dim // 2]
    pos = np.asarray(positions, dtype=np.float64) / linear_factor
    return np.outer(pos, inv_freq)


def rope_magnitude(cfg, yarn=False):
    """What cos and sin are multiplied by: the file's attention factor, and
    YaRN's temperature term 0.1 ln(s) + 1 (for s > 1) when `yarn`."""
    def get_mscale(scale, mscale=1.0):
        return 0.1 * mscale * np.log(scale) + 1.0 if scale > 1.0 else 1.0

    m = cfg.rope_attn_factor
    if yarn:
        m *= get_mscale(cfg.yarn_factor)
        if cfg.yarn_mscale_all_dim:
            m /= get_mscale(cfg.yarn_factor, cfg.yarn_mscale_all_dim)
    return m


def rope_adjacent_pairs(x, angles, rope_dim, mscale=1.0):
    """GGUF "normal" RoPE on x of shape (n_tokens, n_heads, head_dim): rotate
    (x[2i], x[2i+1]) by angles[:, i] for 2i < rope_dim; dims past rope_dim are
    left as they are (partial rotary)."""
    out = x.copy()
    cos = mscale * np.cos(angles)[:, None, :]   # broadcast over heads
    sin = mscale * np.sin(angles)[:, None, :]
    even = x[..., 0:rope_dim:2]
    odd = x[..., 1:rope_dim:2]
    out[..., 0:rope_dim:2] = even * cos - odd * sin
    out[..., 1:rope_dim:2] = even * sin + odd * cos
    return out


def rope_rotate_half(x, angles, rope_dim, mscale=1.0):
    """HF rotate_half RoPE (GGUF "NEOX"): with r = x[..., :rope_dim] split into
    halves (a, b), r * cos + concat(-b, a) * sin, cos/sin repeated over both
    halves; dims past rope_dim pass through."""
    out = x.copy()
    r = x[..., :rope_dim]
    half = rope_dim // 2
    cos = mscale * np.concatenate([np.cos(angles)] * 2, axis=-1)[:, None, :]
    sin = mscale * np.concatenate([np.sin(angles)] * 2, axis=-1)[:, None, :]
    rotated = np.concatenate([-r[..., half:], r[..., :half]], axis=-1)
    out[..., :rope_dim] = r * cos + rotated * sin
    return out


def causal_attention(q, k, v, n_head, n_head_kv, scale=None, cap=0.0, window=0):
    """q: (T, n_head, d), k: (T, n_head_kv, d), v: (T, n_head_kv, dv) -> (T, n_head * dv).
    Grouped-query attention: query head h reads KV head h // (n_head / n_head_kv).
    Scores are q.k * scale (default 1/sqrt(d)), soft-capped when cap > 0; with
    window > 0 a query at i sees keys j with i - window < j <= i."""
    n_tokens, _, head_dim = q.shape
    scale = 1.0 / np.sqrt(head_dim) if not scale else scale
    group = n_head // n_head_kv
    i = np.arange(n_tokens)[:, None]
    j = np.arange(n_tokens)[None, :]
    hidden = j > i                                      # key after query
    if window > 0:
        hidden = hidden | (i - j >= window)             # key older than the window
    heads = []
    for h in range(n_head):
        kv = h // group
        scores = softcap(q[:, h, :] @ k[:, kv, :].T * scale, cap)   # (T_query, T_key)
        scores = np.where(hidden, -np.inf, scores)
        scores = scores - scores.max(axis=-1, keepdims=True)          # stable softmax
        probs = np.exp(scores)
        probs /= probs.sum(axis=-1, keepdims=True)
        heads.append(probs @ v[:, kv, :])
    return np.concatenate(heads, axis=-1)


# ----------------------------------------------------------------------------
# Forward pass.
# ----------------------------------------------------------------------------

def _project_qkv(model, i, x):
    cfg = model.config
    if model.has(f"blk.{i}.attn_qkv.weight"):
        # Phi-3: one matrix whose output is [q | k | v].
        qkv = linear(x, model.layer(i, "attn_qkv"))
        q_end = cfg.n_head * cfg.head_dim
        k_end = q_end + cfg.n_head_kv * cfg.head_dim
        q, k, v = qkv[:, :q_end], qkv[:, q_end:k_end], qkv[:, k_end:]
    else:
        q = linear(x, model.layer(i, "attn_q"))
        k = linear(x, model.layer(i, "attn_k"))
        v = linear(x, model.layer(i, "attn_v"))
    for name, arr in (("q", q), ("k", k), ("v", v)):
        bias = f"blk.{i}.attn_{name}.bias"
        if model.has(bias):                      # qwen2
            arr += model.weight(bias)
    return q, k, v


def attention_block(model, i, x, positions, n_ctx):
    cfg = model.config
    n_tokens = x.shape[0]
    q, k, v = _project_qkv(model, i, x)
    q = q.reshape(n_tokens, cfg.n_head, cfg.head_dim)
    k = k.reshape(n_tokens, cfg.n_head_kv, cfg.head_dim)
    v = v.reshape(n_tokens, cfg.n_head_kv, cfg.head_dim_v)
    if model.has(f"blk.{i}.attn_q_norm.weight"):   # qwen3, gemma3: RMSNorm over each head
        q = rms_norm(q, model.layer(i, "attn_q_norm"), cfg.norm_eps)
        k = rms_norm(k, model.layer(i, "attn_k_norm"), cfg.norm_eps)
    local = i in cfg.local_layers and cfg.window > 0
    factors = model.rope_freq_factors
    if cfg.rope_scaling == "longrope":
        factors = model.rope_factors_long if n_ctx > cfg.rope_orig_ctx else model.rope_factors_short
    if local:   # Gemma's local layers: own base, no YaRN
        angles = rope_angles(cfg, positions, factors, cfg.rope_base_local, cfg.local_linear_factor)
        mscale = rope_magnitude(cfg)
    else:
        yarn = cfg.rope_scaling == "yarn"
        angles = rope_angles(cfg, positions, factors, yarn=yarn)
        mscale = rope_magnitude(cfg, yarn)
    rope = rope_rotate_half if cfg.rope_neox else rope_adjacent_pairs
    q = rope(q, angles, cfg.rope_dim, mscale)
    k = rope(k, angles, cfg.rope_dim, mscale)
    attn = causal_attention(q, k, v, cfg.n_head, cfg.n_head_kv, cfg.attn_scale, cfg.attn_softcap,
                            cfg.window if local else 0)
    return linear(attn, model.layer(i, "attn_output"))


def _glu(cfg, x, gate_w, up_w, down_w):
    act = gelu_tanh if cfg.gelu else silu
    return linear(act(linear(x, gate_w)) * linear(x, up_w), down_w)


def moe_block(model, i, x):
    """Each token: p = softmax(router x); the n_expert_used largest p
    (renormalised to sum 1 when expert_norm); sum of p_e * expert_e(x)."""
    cfg = model.config
    logits = linear(x, model.layer(i, "ffn_gate_inp"))            # (T, n_expert)
    probs = np.exp(logits - logits.max(axis=-1, keepdims=True))
    probs /= probs.sum(axis=-1, keepdims=True)
    gate = model.layer(i, "ffn_gate_exps")                        # (n_expert, n_ff, n_embd)
    up = model.layer(i, "ffn_up_exps")
    down = model.layer(i, "ffn_down_exps")                        # (n_expert, n_embd, n_ff)
    out = np.zeros_like(x)
    for t in range(x.shape[0]):
        chosen = np.argsort(-probs[t], kind="stable")[: cfg.n_expert_used]
        weights = probs[t, chosen]
        if cfg.expert_norm:
            weights = weights / weights.sum()
        for e, w in zip(chosen, weights):
            out[t] += w * _glu(cfg, x[t:t + 1], gate[e], up[e], down[e])[0]
    return out


def ffn_block(model, i, x):
    cfg = model.config
    if cfg.n_expert:
        return moe_block(model, i, x)
    if not model.has(f"blk.{i}.ffn_gate.weight"):
        # Phi-3: ffn_up's output is [gate | up].
        both = linear(x, model.layer(i, "ffn_up"))
        gate, up = both[:, : cfg.n_ff], both[:, cfg.n_ff:]
        act = gelu_tanh if cfg.gelu else silu
        return linear(act(gate) * up, model.layer(i, "ffn_down"))
    return _glu(cfg, x, model.layer(i, "ffn_gate"), model.layer(i, "ffn_up"), model.layer(i, "ffn_down"))


def _post_norm(model, i, name, y):
    """Gemma 2/3 normalise each branch's output before adding it back."""
    if model.has(f"blk.{i}.{name}.weight"):
        return rms_norm(y, model.layer(i, name), model.config.norm_eps)
    return y


def forward(model, tokens, return_hidden=False, n_ctx=None):
    """Logits (n_tokens, n_vocab) float64 for every position of `tokens`
    (positions 0..n-1, no cache: the whole sequence is recomputed). n_ctx: the
    context size in use (LongRoPE picks its factors by it); default the length."""
    cfg = model.config
    tokens = np.asarray(tokens, dtype=np.int64)
    if tokens.ndim != 1 or tokens.size == 0:
        raise ValueError("need a non-empty 1-D token sequence")
    if tokens.min() < 0 or tokens.max() >= model.n_vocab:
        raise ValueError(f"token id out of range [0, {model.n_vocab})")
    positions = np.arange(tokens.size)
    n_ctx = tokens.size if n_ctx is None else n_ctx
    h = model.token_embd[tokens] * cfg.embed_scale     # residual stream (T, n_embd)
    for i in range(cfg.n_layer):
        x = rms_norm(h, model.layer(i, "attn_norm"), cfg.norm_eps)
        h = h + _post_norm(model, i, "post_attention_norm", attention_block(model, i, x, positions, n_ctx))
        x = rms_norm(h, model.layer(i, "ffn_norm"), cfg.norm_eps)
        h = h + _post_norm(model, i, "post_ffw_norm", ffn_block(model, i, x))
    h = rms_norm(h, model.weight("output_norm.weight"), cfg.norm_eps)
    logits = softcap(linear(h, model.output), cfg.final_softcap)
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
    parser.add_argument("--n-ctx", type=int, default=None,
                        help="context size in use (LongRoPE long/short factors); default the token count")
    parser.add_argument("--generate", type=int, default=0, metavar="N",
                        help="also greedy-generate N tokens after the sequence (printed as 'generated')")
    args = parser.parse_args(argv)

    model = Model(args.model)
    tokens = _parse_tokens(args.tokens)
    logits = forward(model, tokens, n_ctx=args.n_ctx)
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
