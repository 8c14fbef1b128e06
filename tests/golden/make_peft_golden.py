"""Golden data for tests/models/test_llama_peft.cpp (PEFT LoRA folder compatibility).

Run from the repository root with a Python that has numpy and the PyPI `safetensors` package:
    python tests/golden/make_peft_golden.py

1. Writes tests/golden/peft_python/: a PEFT-style LoRA folder (adapter_model.safetensors with PEFT's
   tensor names, adapter_config.json with the keys PEFT 0.x writes) for the tiny config below, r=2,
   lora_alpha=16, target_modules q_proj and v_proj, values from numpy's seeded generator; and
   peft_python_values.json with those values, keyed "<layer>.<module path>.<lora_A|lora_B>".
2. Reads tests/golden/peft_hoprag/adapter_model.safetensors (written by hoprag's save_peft, copied
   from the test's output) with safetensors.numpy and records every name, shape and sum as Python
   sees them in peft_hoprag_check.json.
"""
import json
import os

import numpy as np
from safetensors.numpy import load_file, save_file

HERE = os.path.dirname(os.path.abspath(__file__))
CONFIG = dict(hidden=24, heads=4, kv_heads=2, head_dim=6, ffn=20, layers=2)  # test_llama_peft.cpp: peft_config()
SHAPES = {  # [out, in] of each module
    "self_attn.q_proj": (CONFIG["heads"] * CONFIG["head_dim"], CONFIG["hidden"]),
    "self_attn.v_proj": (CONFIG["kv_heads"] * CONFIG["head_dim"], CONFIG["hidden"]),
}


def make_python_folder():
    rng = np.random.default_rng(20240508)
    r = 2
    tensors, values = {}, {}
    for layer in range(CONFIG["layers"]):
        for path, (out, inp) in SHAPES.items():
            a = rng.uniform(-0.5, 0.5, size=(r, inp)).astype(np.float32)
            b = rng.uniform(-0.5, 0.5, size=(out, r)).astype(np.float32)
            prefix = f"base_model.model.model.layers.{layer}.{path}"
            tensors[prefix + ".lora_A.weight"] = a
            tensors[prefix + ".lora_B.weight"] = b
            values[f"{layer}.{path}.lora_A"] = [float(x) for x in a.ravel()]
            values[f"{layer}.{path}.lora_B"] = [float(x) for x in b.ravel()]
    folder = os.path.join(HERE, "peft_python")
    os.makedirs(folder, exist_ok=True)
    save_file(tensors, os.path.join(folder, "adapter_model.safetensors"), metadata={"format": "pt"})
    config = {  # the keys PEFT's LoraConfig.save_pretrained writes
        "alpha_pattern": {}, "auto_mapping": None, "base_model_name_or_path": "HuggingFaceTB/SmolLM2-135M-Instruct",
        "bias": "none", "fan_in_fan_out": False, "inference_mode": True, "init_lora_weights": True,
        "layer_replication": None, "layers_pattern": None, "layers_to_transform": None, "loftq_config": {},
        "lora_alpha": 16, "lora_dropout": 0.1, "megatron_config": None, "megatron_core": "megatron.core",
        "modules_to_save": None, "peft_type": "LORA", "r": r, "rank_pattern": {}, "revision": None,
        "target_modules": ["v_proj", "q_proj"], "task_type": "CAUSAL_LM", "use_dora": False, "use_rslora": False,
    }
    with open(os.path.join(folder, "adapter_config.json"), "w") as f:
        json.dump(config, f, indent=2)
    with open(os.path.join(HERE, "peft_python_values.json"), "w") as f:
        json.dump(values, f)


def check_hoprag_folder():
    tensors = load_file(os.path.join(HERE, "peft_hoprag", "adapter_model.safetensors"))
    out = {"tensors": {name: {"shape": list(t.shape), "dtype": str(t.dtype), "sum": float(t.astype(np.float64).sum())}
                       for name, t in sorted(tensors.items())}}
    with open(os.path.join(HERE, "peft_hoprag_check.json"), "w") as f:
        json.dump(out, f, indent=1)
    print(f"read {len(tensors)} tensors from peft_hoprag with safetensors.numpy")


if __name__ == "__main__":
    make_python_folder()
    check_hoprag_folder()
