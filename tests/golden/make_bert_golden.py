#!/usr/bin/env python3
"""Golden embeddings of the BERT bi-encoder on the real all-MiniLM-L6-v2 weights.

Writes, for 200 HotpotQA texts (98 dev questions, 100 context paragraphs as "title. sentences",
the empty text and one text far past the 256-token limit):
  bert_minilm_texts.jsonl  one {"text", "n_tokens", "ids_hash"} per line (ids_hash = sum over
                           positions i of (i + 1) * id, mod 2^32, of the reference token ids)
  bert_minilm_mean.f32     [200, 384] little-endian float32: mean pooling + L2 normalisation
                           (what sentence-transformers' all-MiniLM-L6-v2 produces)
  bert_minilm_cls.f32      [40, 384] float32: [CLS] pooling + L2 normalisation of the first 40 texts

Reference: a plain float64 PyTorch BERT forward written here from the safetensors weights (post-LN
layers, erf GELU, absolute positions, token type 0), one text at a time without padding;
tokenisation with the Hugging Face `tokenizers` package, truncation to 256 tokens (the model's
sentence-transformers max_seq_length). Run with Debian's python3 (apt-get install python3-torch):
    /usr/bin/python3 tests/golden/make_bert_golden.py
It borrows `tokenizers` and `safetensors` from the reference venv (.venv of the main checkout)."""
import json
import os
import sys

sys.path.append("/work/main/.venv/lib/python3.11/site-packages")
import numpy as np  # noqa: E402
import torch  # noqa: E402
from safetensors.numpy import load_file  # noqa: E402
from tokenizers import Tokenizer  # noqa: E402

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(os.path.dirname(here))
model = os.path.join(root, ".cache/models/all-minilm-l6-v2")
data = os.path.join(root, "../shared/data/hotpotqa/hotpot_dev_sample.jsonl")
if not os.path.exists(data):
    data = "/work/shared/data/hotpotqa/hotpot_dev_sample.jsonl"
MAX_LEN = 256

cfg = json.load(open(os.path.join(model, "config.json")))
W = {k: torch.from_numpy(v.astype(np.float64)) for k, v in load_file(os.path.join(model, "model.safetensors")).items()
     if v.dtype == np.float32}
H, NH, L, EPS = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_hidden_layers"], cfg["layer_norm_eps"]
D = H // NH


def layer_norm(x, p):
    return torch.nn.functional.layer_norm(x, (H,), W[p + ".weight"], W[p + ".bias"], EPS)


def linear(x, p):
    return x @ W[p + ".weight"].T + W[p + ".bias"]


def encode_hidden(ids):
    t = len(ids)
    x = W["embeddings.word_embeddings.weight"][torch.tensor(ids)]
    x = x + W["embeddings.position_embeddings.weight"][:t] + W["embeddings.token_type_embeddings.weight"][0]
    x = layer_norm(x, "embeddings.LayerNorm")
    for i in range(L):
        p = f"encoder.layer.{i}."
        q = linear(x, p + "attention.self.query").view(t, NH, D).transpose(0, 1)
        k = linear(x, p + "attention.self.key").view(t, NH, D).transpose(0, 1)
        v = linear(x, p + "attention.self.value").view(t, NH, D).transpose(0, 1)
        a = torch.softmax(q @ k.transpose(1, 2) / D ** 0.5, dim=-1) @ v
        a = a.transpose(0, 1).reshape(t, H)
        x = layer_norm(linear(a, p + "attention.output.dense") + x, p + "attention.output.LayerNorm")
        f = torch.nn.functional.gelu(linear(x, p + "intermediate.dense"))
        x = layer_norm(linear(f, p + "output.dense") + x, p + "output.LayerNorm")
    return x


def normalize(v):
    return v / max(float(v.norm()), 1e-12)


records = [json.loads(line) for line in open(data)]
texts = [r["question"] for r in records[:98]]
for r in records[:10]:
    for title, sentences in r["context"]:
        texts.append(title + ". " + "".join(sentences))
texts = texts[:198]
texts.append("")
texts.append(" ".join(t + ". " + "".join(s) for t, s in records[20]["context"]))
assert len(texts) == 200

tok = Tokenizer.from_file(os.path.join(model, "tokenizer.json"))
tok.no_padding()
tok.enable_truncation(MAX_LEN)
mean, cls = [], []
with open(os.path.join(here, "bert_minilm_texts.jsonl"), "w") as f:
    for i, text in enumerate(texts):
        ids = tok.encode(text).ids
        with torch.no_grad():
            h = encode_hidden(ids)
        mean.append(normalize(h.mean(0)).numpy())
        if i < 40:
            cls.append(normalize(h[0]).numpy())
        ids_hash = sum((j + 1) * x for j, x in enumerate(ids)) % (1 << 32)
        f.write(json.dumps({"text": text, "n_tokens": len(ids), "ids_hash": ids_hash}) + "\n")
np.asarray(mean, dtype="<f4").tofile(os.path.join(here, "bert_minilm_mean.f32"))
np.asarray(cls, dtype="<f4").tofile(os.path.join(here, "bert_minilm_cls.f32"))
print("wrote", len(texts), "texts; max tokens", max(len(tok.encode(t).ids) for t in texts))
