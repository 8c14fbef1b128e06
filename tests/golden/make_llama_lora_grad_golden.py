#!/usr/bin/env python3
"""Golden LoRA gradients of SmolLM2-135M-Instruct from PEFT (tests/models/test_llama_lora_golden.cpp).

Run from the repository root with the torch reference venv (torch, transformers 4.36, peft 0.7, gguf):
    OPENBLAS_CORETYPE=SkylakeX /work/main/.venv-torch/bin/python tests/golden/make_llama_lora_grad_golden.py

Reference: transformers' LlamaForCausalLM (fp32, eager attention) with SmolLM2's weights dequantised
from the Q4_1 GGUF by the PyPI `gguf` package; Q/K rows are un-permuted from llama.cpp's interleaved
layout to Hugging Face's rotate-half layout (the C++ test loads the GGUF the same way, so a PEFT
adapter applies unchanged). A PEFT LoraConfig(r=16, lora_alpha=32, all 7 linears, dropout 0) wraps
it; every lora_A / lora_B is then overwritten with values from a seeded splitmix64 generator that
the C++ test reproduces bit for bit (lora_values below): A uniform in +-1/sqrt(in), B uniform in
+-0.02 (non-zero, so every A gets gradient). The adapter is also saved with PEFT's save_pretrained
to a temporary folder and read back, to check the tensor names hoprag's peft.hpp reads.

Cases (ids and labels stored; labels -100 on the prompt and padding, HF's shifted mean loss):
  f32    two ChatML prompts (HotpotQA dev questions, no system prompt) with their answers as
         targets, right-padded into a batch of 2;
  nf4    the same batch with every block linear replaced by its NF4 + double-quantised
         dequantisation (numpy port of hoprag/quant/nf4.hpp's nf4_quantize: block 64, absmax,
         linear int8 second level over groups of 256 around the mean absmax);
  short  the first 16 tokens of prompt 1 with its last 6 as targets (for sanitizer builds).
Per case: the loss, the L2 norm of every A/B gradient of layers 0, 14 and 29, and slices of those
gradients (A: all 16 rows x first 64 columns; B: first 64 rows x 16) in
tests/golden/llama_lora_grad.safetensors as "<case>.<layer>.<module>.lora_A|lora_B". For NF4 the
sum and sum of squares of the dequantised weights of a few matrices are stored too, so the test can
check that hoprag's NF4 and this port agree.
"""
import json
import math
import os
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
MODEL = os.path.join(ROOT, ".cache/models/smollm2-135m-instruct")
GGUF = os.path.join(MODEL, "SmolLM2-135M-Instruct.Q4_1.gguf")
DATA = os.path.join(ROOT, "../shared/data/hotpotqa/hotpot_dev_sample.jsonl")
OUT_JSON = os.path.join(HERE, "llama_lora_grad.json")
OUT_ST = os.path.join(HERE, "llama_lora_grad.safetensors")
SEED, RANK, ALPHA = 20251125, 16, 32
LAYERS = [0, 14, 29]
TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
PATHS = ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"]
GGUF_NAMES = ["attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"]
SLICE = 64
NF4_CODE = np.array([-1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635,
                     -0.18477343022823334, -0.09105003625154495, 0.0, 0.07958029955625534, 0.16093020141124725,
                     0.24611230194568634, 0.33791524171829224, 0.44070982933044434, 0.5626170039176941,
                     0.7229568362236023, 1.0], dtype=np.float32)
M64 = (1 << 64) - 1


def splitmix_unit(seed, k, n):
    """u[i] in [0, 1) for i < n: splitmix64(seed * golden + (k << 32) + i), top 24 bits / 2^24."""
    with np.errstate(over="ignore"):
        x = (np.uint64((seed * 0x9E3779B97F4A7C15 + (k << 32)) & M64) + np.arange(n, dtype=np.uint64)).astype(np.uint64)
        z = x + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(40)).astype(np.float64) / float(1 << 24)


def lora_values(layer, t, shape_a, shape_b):
    """A [r, in] and B [out, r] of (layer, target index t) as float32 (tensor k = 2 (7 layer + t) + {0, 1})."""
    k = 2 * (7 * layer + t)
    bound = 1.0 / math.sqrt(shape_a[1])
    a = ((2.0 * splitmix_unit(SEED, k, shape_a[0] * shape_a[1]) - 1.0) * bound).astype(np.float32).reshape(shape_a)
    b = ((2.0 * splitmix_unit(SEED, k + 1, shape_b[0] * shape_b[1]) - 1.0) * 0.02).astype(np.float32).reshape(shape_b)
    return a, b


def nf4_roundtrip(w):
    """Dequantise(quantise(w)) exactly as hoprag::quant::nf4_quantize / nf4_dequantize (float32 ops)."""
    x = np.ascontiguousarray(w, dtype=np.float32).reshape(-1, 64)
    absmax = np.abs(x).max(axis=1).astype(np.float32)
    blocks = absmax.shape[0]
    offset = np.float32(np.cumsum(absmax.astype(np.float64))[-1] / blocks)
    groups = (blocks + 255) // 256
    dev = np.abs(absmax - offset).astype(np.float32)
    scale2 = np.zeros(groups, dtype=np.float32)
    np.maximum.at(scale2, np.arange(blocks) // 256, dev)
    s = scale2[np.arange(blocks) // 256]
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.where(s > 0, np.rint(((absmax - offset) / s).astype(np.float32) * np.float32(127.0)), np.float32(0))
    q = np.clip(q, -127, 127).astype(np.int8)
    am = (offset + (q.astype(np.float32) * np.float32(1.0 / 127.0)).astype(np.float32) * s).astype(np.float32)
    inv = np.where(am > 0, (np.float32(1.0) / am).astype(np.float32), np.float32(0)).astype(np.float32)
    v = (x * inv[:, None]).astype(np.float32)
    codes = np.abs(v[:, :, None] - NF4_CODE[None, None, :]).astype(np.float32).argmin(axis=2)  # first minimum: ties go low
    return (NF4_CODE[codes] * am[:, None]).astype(np.float32).reshape(w.shape)


def load_weights():
    import gguf
    r = gguf.GGUFReader(GGUF)
    f = lambda k: r.fields[k].parts[r.fields[k].data[0]][0]
    cfg = dict(layers=int(f("llama.block_count")), hidden=int(f("llama.embedding_length")), ffn=int(f("llama.feed_forward_length")),
               heads=int(f("llama.attention.head_count")), kv_heads=int(f("llama.attention.head_count_kv")),
               eps=float(f("llama.attention.layer_norm_rms_epsilon")), theta=float(f("llama.rope.freq_base")))
    w = {}
    for t in r.tensors:
        a = gguf.quants.dequantize(t.data, t.tensor_type).astype(np.float32)
        a = a.reshape([int(x) for x in reversed(t.shape)]) if a.ndim != len(t.shape) else a
        if t.name.endswith("attn_q.weight") or t.name.endswith("attn_k.weight"):
            n = cfg["heads"] if "attn_q" in t.name else cfg["kv_heads"]
            a = a.reshape(n, a.shape[0] // n // 2, 2, a.shape[1]).swapaxes(1, 2).reshape(a.shape)
        w[t.name] = np.ascontiguousarray(a)
    cfg["vocab"] = w["token_embd.weight"].shape[0]
    return cfg, w


def hf_state(cfg, w, nf4):
    import torch
    sd = {"model.embed_tokens.weight": w["token_embd.weight"], "model.norm.weight": w["output_norm.weight"]}
    for l in range(cfg["layers"]):
        p = f"model.layers.{l}."
        sd[p + "input_layernorm.weight"] = w[f"blk.{l}.attn_norm.weight"]
        sd[p + "post_attention_layernorm.weight"] = w[f"blk.{l}.ffn_norm.weight"]
        for path, g in zip(PATHS, GGUF_NAMES):
            m = w[f"blk.{l}.{g}.weight"]
            sd[p + path + ".weight"] = nf4_roundtrip(m) if nf4 else m
    return {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in sd.items()}


def make_batch():
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(os.path.join(MODEL, "tokenizer.json"))
    rows = []
    with open(DATA) as fh:
        for line in fh:
            r = json.loads(line)
            prompt = f"<|im_start|>user\n{r['question']}<|im_end|>\n<|im_start|>assistant\n"
            p = tok.encode(prompt, add_special_tokens=False).ids
            a = tok.encode(r["answer"] + "<|im_end|>", add_special_tokens=False).ids
            rows.append((p + a, [-100] * len(p) + a))
            if len(rows) == 2:
                break
    seq = max(len(i) for i, _ in rows)
    pad = tok.token_to_id("<|endoftext|>")
    ids = [i + [pad] * (seq - len(i)) for i, _ in rows]
    labels = [y + [-100] * (seq - len(y)) for _, y in rows]
    short_ids = [rows[0][0][:16]]
    short_labels = [[-100] * 10 + rows[0][0][10:16]]
    return dict(ids=ids, labels=labels), dict(ids=short_ids, labels=short_labels)


def run_case(cfg, w, nf4, batch, tensors, name, record):
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import LlamaConfig, LlamaForCausalLM
    hc = LlamaConfig(vocab_size=cfg["vocab"], hidden_size=cfg["hidden"], intermediate_size=cfg["ffn"], num_hidden_layers=cfg["layers"],
                     num_attention_heads=cfg["heads"], num_key_value_heads=cfg["kv_heads"], rms_norm_eps=cfg["eps"],
                     rope_theta=cfg["theta"], tie_word_embeddings=True, max_position_embeddings=8192, attn_implementation="eager")
    model = LlamaForCausalLM(hc).float()
    missing, unexpected = model.load_state_dict(hf_state(cfg, w, nf4), strict=False)
    assert unexpected == [] and set(missing) <= {"lm_head.weight"}, (missing, unexpected)
    model.tie_weights()
    lc = LoraConfig(r=RANK, lora_alpha=ALPHA, target_modules=TARGETS, lora_dropout=0.0, bias="none", task_type="CAUSAL_LM")
    pm = get_peft_model(model, lc)
    with torch.no_grad():
        for l in range(cfg["layers"]):
            for t, path in enumerate(PATHS):
                mod = pm.base_model.model.model.layers[l]
                for part in path.split("."):
                    mod = getattr(mod, part)
                A, B = mod.lora_A["default"].weight, mod.lora_B["default"].weight
                a, b = lora_values(l, t, tuple(A.shape), tuple(B.shape))
                A.copy_(torch.from_numpy(a)), B.copy_(torch.from_numpy(b))
    if name == "f32":  # PEFT's own file: the names hoprag reads
        from safetensors.numpy import load_file
        with tempfile.TemporaryDirectory() as d:
            pm.save_pretrained(d)
            saved = load_file(os.path.join(d, "adapter_model.safetensors"))
            want = {f"base_model.model.model.layers.{l}.{p}.lora_{x}.weight" for l in range(cfg["layers"]) for p in PATHS for x in "AB"}
            assert set(saved) == want, sorted(set(saved) ^ want)[:5]
            a, _ = lora_values(14, 6, saved["base_model.model.model.layers.14.mlp.down_proj.lora_A.weight"].shape, (1, 1))
            assert np.array_equal(saved["base_model.model.model.layers.14.mlp.down_proj.lora_A.weight"], a)
    pm.train()
    ids = torch.tensor(batch["ids"])
    labels = torch.tensor(batch["labels"])
    out = pm(input_ids=ids, labels=labels)  # right padding + causal mask: no attention mask needed
    out.loss.backward()
    rec = dict(ids=batch["ids"], labels=batch["labels"], loss=float(out.loss), norms={})
    for l in LAYERS:
        for t, path in enumerate(PATHS):
            mod = pm.base_model.model.model.layers[l]
            for part in path.split("."):
                mod = getattr(mod, part)
            ga = mod.lora_A["default"].weight.grad.numpy().astype(np.float32)
            gb = mod.lora_B["default"].weight.grad.numpy().astype(np.float32)
            key = f"{name}.{l}.{TARGETS[t]}"
            rec["norms"][key + ".lora_A"] = float(np.linalg.norm(ga.astype(np.float64)))
            rec["norms"][key + ".lora_B"] = float(np.linalg.norm(gb.astype(np.float64)))
            tensors[key + ".lora_A"] = np.ascontiguousarray(ga[:, :SLICE])
            tensors[key + ".lora_B"] = np.ascontiguousarray(gb[:SLICE, :])
    record["cases"][name] = rec
    print(name, "loss", rec["loss"], file=sys.stderr)


def main():
    import torch
    from safetensors.numpy import save_file
    torch.manual_seed(0)
    cfg, w = load_weights()
    batch, short = make_batch()
    record = {"script": "tests/golden/make_llama_lora_grad_golden.py", "model": os.path.basename(GGUF), "torch": torch.__version__,
              "seed": SEED, "rank": RANK, "alpha": ALPHA, "layers": LAYERS, "slice": SLICE, "cases": {}, "nf4_weights": {}}
    import peft, transformers
    record["peft"], record["transformers"] = peft.__version__, transformers.__version__
    for l in LAYERS:  # NF4 agreement check data
        for path, g in zip(PATHS, GGUF_NAMES):
            d = nf4_roundtrip(w[f"blk.{l}.{g}.weight"]).astype(np.float64)
            record["nf4_weights"][f"{l}.{path}"] = {"sum": float(d.sum()), "sumsq": float((d * d).sum())}
    tensors = {}
    run_case(cfg, w, False, batch, tensors, "f32", record)
    run_case(cfg, w, True, batch, tensors, "nf4", record)
    run_case(cfg, w, False, short, tensors, "short", record)
    save_file(tensors, OUT_ST + ".tmp", metadata={"format": "pt"})
    os.replace(OUT_ST + ".tmp", OUT_ST)
    with open(OUT_JSON + ".tmp", "w") as fh:
        json.dump(record, fh, indent=1)
    os.replace(OUT_JSON + ".tmp", OUT_JSON)


if __name__ == "__main__":
    main()
