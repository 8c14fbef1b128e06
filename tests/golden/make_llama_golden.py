#!/usr/bin/env python3
"""Golden data for the Llama decoder test (tests/models/test_llama_golden.cpp).

A plain PyTorch Llama forward, written here (no transformers), on SmolLM2-135M-Instruct's weights
dequantised from the Q4_1 GGUF with the PyPI `gguf` package. The GGUF stores Q and K rows permuted
for llama.cpp's interleaved RoPE; this script undoes that permutation and applies Hugging Face's
rotate-half RoPE, so it checks the C++ side's choice (interleaved RoPE on the stored weights)
independently. Prompts: the first 20 questions of the HotpotQA dev sample in SmolLM2's ChatML
template (default system prompt), tokenised with the model's tokenizer.json (`tokenizers`).

Two stages, because Debian's torch and the venv's numpy do not mix:
  /work/main/.venv/bin/python tests/golden/make_llama_golden.py dump  /tmp/llama_golden.npz
  /usr/bin/python3            tests/golden/make_llama_golden.py torch /tmp/llama_golden.npz
The second writes tests/golden/llama_smollm2.json: per prompt the token ids, the top-50 last-position
logits (fp32 forward) with their ids, the L2 norm of the full last-position logits, and 32 greedy
continuation ids (KV-cached decode, no stop token).
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
MODEL = os.path.join(ROOT, ".cache/models/smollm2-135m-instruct")
GGUF = os.path.join(MODEL, "SmolLM2-135M-Instruct.Q4_1.gguf")
DATA = os.path.join(ROOT, "../shared/data/hotpotqa/hotpot_dev_sample.jsonl")
OUT = os.path.join(HERE, "llama_smollm2.json")
N_PROMPTS, TOP, NEW = 20, 50, 32
SYSTEM = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"


def dump(path):
    import numpy as np
    import gguf
    from tokenizers import Tokenizer

    r = gguf.GGUFReader(GGUF)
    f = lambda k: r.fields[k].parts[r.fields[k].data[0]][0]
    cfg = dict(layers=int(f("llama.block_count")), heads=int(f("llama.attention.head_count")),
               kv_heads=int(f("llama.attention.head_count_kv")), eps=float(f("llama.attention.layer_norm_rms_epsilon")),
               theta=float(f("llama.rope.freq_base")))
    arrays = {"cfg": np.array(json.dumps(cfg))}
    for t in r.tensors:
        w = gguf.quants.dequantize(t.data, t.tensor_type).astype(np.float32)
        w = w.reshape([int(x) for x in reversed(t.shape)]) if w.ndim != len(t.shape) else w
        name = t.name
        if name.endswith("attn_q.weight") or name.endswith("attn_k.weight"):
            n = cfg["heads"] if "attn_q" in name else cfg["kv_heads"]
            # undo llama.cpp's permute (HF rotate-half rows -> interleaved pairs)
            w = w.reshape(n, w.shape[0] // n // 2, 2, w.shape[1]).swapaxes(1, 2).reshape(w.shape)
        arrays[name] = np.ascontiguousarray(w)
    tok = Tokenizer.from_file(os.path.join(MODEL, "tokenizer.json"))
    prompts, questions = [], []
    with open(DATA) as fh:
        for line in fh:
            q = json.loads(line)["question"]
            text = (f"<|im_start|>system\n{SYSTEM}<|im_end|>\n<|im_start|>user\n{q}<|im_end|>\n"
                    f"<|im_start|>assistant\n")
            questions.append(q)
            prompts.append(tok.encode(text, add_special_tokens=False).ids)
            if len(prompts) == N_PROMPTS:
                break
    arrays["prompts"] = np.array(json.dumps(prompts))
    arrays["questions"] = np.array(json.dumps(questions))
    np.savez(path, **arrays)


def run_torch(path):
    import numpy as np
    import torch

    torch.set_grad_enabled(False)
    z = np.load(path)
    cfg = json.loads(str(z["cfg"]))
    W = {k: torch.from_numpy(z[k]) for k in z.files if k.endswith(".weight")}
    L, H, KV, eps, theta = cfg["layers"], cfg["heads"], cfg["kv_heads"], cfg["eps"], cfg["theta"]
    D = W["blk.0.attn_q.weight"].shape[0] // H
    emb = W["token_embd.weight"]
    head = W.get("output.weight", emb)

    def rms(x, w):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w

    inv = 1.0 / (theta ** (torch.arange(0, D, 2, dtype=torch.float32) / D))

    def rope(x, pos):  # x [T, heads, D], HF rotate-half
        ang = pos[:, None].float() * inv[None, :]
        cos = torch.cat([ang.cos(), ang.cos()], -1)[:, None, :]
        sin = torch.cat([ang.sin(), ang.sin()], -1)[:, None, :]
        x1, x2 = x[..., : D // 2], x[..., D // 2:]
        return x * cos + torch.cat([-x2, x1], -1) * sin

    def forward(ids, cache):  # ids: new tokens; cache: list of (k, v) [T, KV, D] per layer
        start = cache[0][0].shape[0] if cache else 0
        T = len(ids)
        pos = torch.arange(start, start + T)
        x = emb[torch.tensor(ids)]
        new_cache = []
        for l in range(L):
            p = f"blk.{l}."
            h = rms(x, W[p + "attn_norm.weight"])
            q = rope((h @ W[p + "attn_q.weight"].T).view(T, H, D), pos)
            k = rope((h @ W[p + "attn_k.weight"].T).view(T, KV, D), pos)
            v = (h @ W[p + "attn_v.weight"].T).view(T, KV, D)
            if cache:
                k = torch.cat([cache[l][0], k]); v = torch.cat([cache[l][1], v])
            new_cache.append((k, v))
            S = k.shape[0]
            kk = k.repeat_interleave(H // KV, dim=1)
            vv = v.repeat_interleave(H // KV, dim=1)
            s = torch.einsum("thd,shd->hts", q, kk) / (D ** 0.5)
            mask = torch.arange(S)[None, :] > (pos[:, None])
            s = s.masked_fill(mask[None], float("-inf"))
            a = torch.einsum("hts,shd->thd", s.softmax(-1), vv).reshape(T, H * D)
            x = x + a @ W[p + "attn_output.weight"].T
            h = rms(x, W[p + "ffn_norm.weight"])
            g = h @ W[p + "ffn_gate.weight"].T
            u = h @ W[p + "ffn_up.weight"].T
            x = x + (torch.nn.functional.silu(g) * u) @ W[p + "ffn_down.weight"].T
        return rms(x[-1], W["output_norm.weight"]) @ head.T, new_cache

    prompts = json.loads(str(z["prompts"]))
    questions = json.loads(str(z["questions"]))
    out = []
    for q, ids in zip(questions, prompts):
        logits, cache = forward(ids, None)
        top = torch.topk(logits, TOP)
        rec = {"question": q, "ids": ids, "top_ids": top.indices.tolist(),
               "top_logits": [float(v) for v in top.values], "logits_norm": float(logits.double().norm()),
               "greedy": [], "greedy_margin": []}
        for _ in range(NEW):
            t2 = torch.topk(logits, 2)
            nxt = int(t2.indices[0])
            rec["greedy"].append(nxt)
            rec["greedy_margin"].append(float(t2.values[0] - t2.values[1]))
            logits, cache = forward([nxt], cache)
        out.append(rec)
        print(len(out), q[:60], "->", rec["greedy"][:8], file=sys.stderr)
    meta = {"model": "SmolLM2-135M-Instruct.Q4_1.gguf", "torch": torch.__version__, "top": TOP, "new_tokens": NEW,
            "script": "tests/golden/make_llama_golden.py", "prompts": out}
    with open(OUT + ".tmp", "w") as fh:
        json.dump(meta, fh)
    os.replace(OUT + ".tmp", OUT)


if __name__ == "__main__":
    {"dump": dump, "torch": run_torch}[sys.argv[1]](sys.argv[2])
