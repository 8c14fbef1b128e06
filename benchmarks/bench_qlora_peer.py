#!/usr/bin/env python3
"""Peer for hoprag-bench-qlora: PEFT LoRA training tokens/s of a Llama decoder on PyTorch CPU.

usage: bench_qlora_peer.py CONFIG_JSON SEQ BATCH THREADS STEPS
CONFIG_JSON is a Hugging Face Llama config (hoprag-bench-qlora writes SmolLM2-135M's, read from its
GGUF). Prints one JSON line {"tokens_per_second", "seconds_per_step", "loss", "trainable_parameters"}.
The model is transformers' LlamaForCausalLM built from the config with random f32 weights (the step's
cost does not depend on the values; transformers 4.36 cannot read GGUF), wrapped by PEFT 0.7
LoraConfig(r=16, lora_alpha=32, lora_dropout=0, all seven linears), gradient checkpointing on (with
enable_input_require_grads, as PEFT needs), loss on the last quarter of the tokens, torch AdamW on the
adapter only. The base stays f32: bitsandbytes' 4-bit (QLoRA) layers do not run on the CPU. One
warm-up step, then STEPS timed steps (forward, backward, optimiser step). Torch runs with THREADS
threads and OPENBLAS_CORETYPE=SkylakeX (DESIGN rule 10). Run with /work/main/.venv-torch/bin/python;
benchmark use only.
"""
import json
import os
import sys
import time

os.environ.setdefault("OPENBLAS_CORETYPE", "SkylakeX")
config_file, seq, batch, threads, steps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
os.environ["OMP_NUM_THREADS"] = str(threads)

import torch  # noqa: E402

torch.set_num_threads(threads)
torch.manual_seed(0)
from peft import LoraConfig, get_peft_model  # noqa: E402
from transformers import LlamaConfig, LlamaForCausalLM  # noqa: E402

cfg = LlamaConfig(**json.load(open(config_file, encoding="utf-8")))
model = LlamaForCausalLM(cfg).float()
model.gradient_checkpointing_enable()
model.enable_input_require_grads()
lora = LoraConfig(r=16, lora_alpha=32, lora_dropout=0.0, bias="none", task_type="CAUSAL_LM",
                  target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"])
model = get_peft_model(model, lora)
model.train()
trainable = [p for p in model.parameters() if p.requires_grad]
opt = torch.optim.AdamW(trainable, lr=1e-4)

g = torch.Generator().manual_seed(7)
ids = torch.randint(0, cfg.vocab_size, (batch, seq), generator=g)
labels = ids.clone()
labels[:, : seq * 3 // 4] = -100


def step():
    opt.zero_grad(set_to_none=True)
    out = model(input_ids=ids, labels=labels)
    out.loss.backward()
    opt.step()
    return out.loss.item()


step()  # warm-up
t0 = time.perf_counter()
loss = 0.0
for _ in range(steps):
    loss = step()
secs = time.perf_counter() - t0
print(json.dumps({"tokens_per_second": batch * seq * steps / secs, "seconds_per_step": secs / steps, "loss": loss,
                  "trainable_parameters": sum(p.numel() for p in trainable)}))
