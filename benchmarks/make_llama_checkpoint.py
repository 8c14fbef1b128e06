#!/usr/bin/env python3
"""Writes a random-initialised Llama/Mistral checkpoint of real shapes as a Hugging Face folder
(config.json, sharded bf16 safetensors, model.safetensors.index.json), for measuring load and
training memory without the real weights (no 7B weights are reachable here). numpy only; each
tensor is generated and written in turn, so memory stays near one tensor.

    python3 benchmarks/make_llama_checkpoint.py --out /tmp/mistral7b               # 14.5 GB
    python3 benchmarks/make_llama_checkpoint.py --out /tmp/m4 --layers 4           # 4 layers
    python3 benchmarks/make_llama_checkpoint.py --out /tmp/mini --layers 4 --hidden 256 --intermediate 768 \
        --heads 4 --kv-heads 2                                                       # 17M params, Mistral's vocab

Shape: Mistral-7B-Instruct-v0.2 (tests/golden/mistral_7b_instruct_v0.2_config.json: 32 layers,
hidden 4096, FFN 14336, 32 heads, 8 KV heads, vocab 32000, untied head); --layers overrides the
depth, --hidden / --intermediate / --heads / --kv-heads the widths (the vocabulary stays Mistral's, so
its tokenizer.model fits, unless --vocab changes it); --tie ties the LM head to the embedding. The
SmolLM2-135M shape: --layers 30 --hidden 576 --intermediate 1536 --heads 9 --kv-heads 3 --vocab 49152 --tie. Weights: N(0, 0.02) rounded to bf16 (f16 or f32 with --dtype), norms 1.
"""
import argparse
import json
import os
import struct

import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
CONFIG = os.path.join(ROOT, "tests", "golden", "mistral_7b_instruct_v0.2_config.json")
TAGS = {"bf16": "BF16", "f16": "F16", "f32": "F32"}


def tensors(c):
    h, f, v = c["hidden_size"], c["intermediate_size"], c["vocab_size"]
    d = h // c["num_attention_heads"]
    q, kv = c["num_attention_heads"] * d, c["num_key_value_heads"] * d
    yield "model.embed_tokens.weight", (v, h)
    for l in range(c["num_hidden_layers"]):
        p = "model.layers.%d." % l
        yield p + "input_layernorm.weight", (h,)
        for name, shape in [("self_attn.q_proj", (q, h)), ("self_attn.k_proj", (kv, h)), ("self_attn.v_proj", (kv, h)),
                            ("self_attn.o_proj", (h, q))]:
            yield p + name + ".weight", shape
        yield p + "post_attention_layernorm.weight", (h,)
        for name, shape in [("mlp.gate_proj", (f, h)), ("mlp.up_proj", (f, h)), ("mlp.down_proj", (h, f))]:
            yield p + name + ".weight", shape
    yield "model.norm.weight", (h,)
    if not c.get("tie_word_embeddings"):
        yield "lm_head.weight", (v, h)


def values(rng, name, shape, dtype):
    n = int(np.prod(shape))
    x = np.ones(n, np.float32) if name.endswith("norm.weight") else rng.standard_normal(n, dtype=np.float32) * np.float32(0.02)
    if dtype == "bf16":
        return (x.view(np.uint32) >> 16).astype(np.uint16)  # truncate to bf16
    return x.astype(np.float16 if dtype == "f16" else np.float32)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--layers", type=int, default=0, help="override num_hidden_layers")
    ap.add_argument("--hidden", type=int, default=0, help="override hidden_size")
    ap.add_argument("--intermediate", type=int, default=0, help="override intermediate_size")
    ap.add_argument("--heads", type=int, default=0, help="override num_attention_heads")
    ap.add_argument("--kv-heads", type=int, default=0, help="override num_key_value_heads")
    ap.add_argument("--vocab", type=int, default=0, help="override vocab_size (then no tokenizer file matches it)")
    ap.add_argument("--tie", action="store_true", help="tie the LM head to the embedding (no lm_head.weight)")
    ap.add_argument("--dtype", choices=sorted(TAGS), default="bf16")
    ap.add_argument("--shard-gb", type=float, default=5.0)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    with open(CONFIG) as f:
        c = json.load(f)
    for key, value in (("num_hidden_layers", a.layers), ("hidden_size", a.hidden), ("intermediate_size", a.intermediate),
                       ("num_attention_heads", a.heads), ("num_key_value_heads", a.kv_heads), ("vocab_size", a.vocab)):
        if value:
            c[key] = value
    if a.tie:
        c["tie_word_embeddings"] = True
    if c["hidden_size"] % c["num_attention_heads"] or c["num_attention_heads"] % c["num_key_value_heads"]:
        ap.error("hidden must be a multiple of heads, and heads a multiple of kv-heads")
    c["torch_dtype"] = {"bf16": "bfloat16", "f16": "float16", "f32": "float32"}[a.dtype]
    size = {"bf16": 2, "f16": 2, "f32": 4}[a.dtype]
    shards, cur, cur_bytes = [], [], 0
    for name, shape in tensors(c):
        nbytes = int(np.prod(shape)) * size
        if cur and cur_bytes + nbytes > a.shard_gb * 1e9:
            shards.append(cur)
            cur, cur_bytes = [], 0
        cur.append((name, shape))
        cur_bytes += nbytes
    shards.append(cur)
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "config.json"), "w") as f:
        json.dump(c, f, indent=2)
    rng = np.random.default_rng(a.seed)
    weight_map, total = {}, 0
    for k, shard in enumerate(shards):
        file = "model-%05d-of-%05d.safetensors" % (k + 1, len(shards))
        header, offset = {}, 0
        for name, shape in shard:
            n = int(np.prod(shape)) * size
            header[name] = {"dtype": TAGS[a.dtype], "shape": list(shape), "data_offsets": [offset, offset + n]}
            offset += n
            weight_map[name] = file
        text = json.dumps(header).encode()
        text += b" " * (-len(text) % 8)
        with open(os.path.join(a.out, file), "wb") as f:
            f.write(struct.pack("<Q", len(text)) + text)
            for name, shape in shard:
                f.write(values(rng, name, shape, a.dtype).tobytes())
        total += offset
        print("wrote %s (%.2f GB)" % (file, offset / 1e9), flush=True)
    with open(os.path.join(a.out, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=1)


if __name__ == "__main__":
    main()
