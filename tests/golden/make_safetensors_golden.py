#!/usr/bin/env python3
"""Writes tests/golden/safetensors_tiny.safetensors with the PyPI `safetensors` package (every
dtype hoprag reads, odd/tiny/empty/scalar shapes, metadata) and safetensors_tiny.json holding,
per tensor, the dtype, shape and the element values as float64 (what a float conversion must
give). Also safetensors_minilm.json: every tensor of the real all-MiniLM-L6-v2 model.safetensors
(dtype, shape, float64 sum, first 4 values) as the reference reader sees them. Run with the reference venv:  .venv/bin/python tests/golden/make_safetensors_golden.py"""
import json
import os

import numpy as np
from safetensors import TensorSpec, deserialize, serialize
from safetensors.numpy import load_file

here = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20261125)

arrays = {
    "f64.vec": rng.standard_normal(3).astype(np.float64),
    "f32.mat": rng.standard_normal((2, 3)).astype(np.float32),
    "f32.scalar": np.array(3.25, dtype=np.float32),
    "f32.empty": np.zeros((0, 4), dtype=np.float32),
    "f16.vec": (rng.standard_normal(5) * 100).astype(np.float16),
    "i64.ids": np.array([[-5, 0, 1 << 40]], dtype=np.int64),
    "i32.vec": np.array([-2147483648, -1, 7, 2147483647], dtype=np.int32),
    "i16.vec": np.array([-32768, 12, 32767], dtype=np.int16),
    "i8.vec": np.array([-128, 127], dtype=np.int8),
    "u8.vec": np.arange(250, 257, dtype=np.int64).astype(np.uint8),
    "bool.mask": np.array([True, False, True]),
    "f32.cube": rng.standard_normal((2, 1, 3)).astype(np.float32),
}
metadata = {"format": "pt", "creator": "hoprag-golden"}

# numpy has no bfloat16: hand the raw bits to the serializer with the dtype name it expects
bf16_bits = (rng.standard_normal((2, 2)).astype(np.float32).view(np.uint32) >> 16).astype(np.uint16)
specs = {}
keep = []
for name, a in arrays.items():
    a = np.ascontiguousarray(a)
    keep.append(a)
    specs[name] = TensorSpec(dtype=a.dtype.name, shape=a.shape, data_ptr=a.ctypes.data, data_len=a.nbytes)
bf = np.ascontiguousarray(bf16_bits)
specs["bf16.mat"] = TensorSpec(dtype="bfloat16", shape=bf.shape, data_ptr=bf.ctypes.data, data_len=bf.nbytes)
blob = bytes(serialize(specs, metadata=metadata))
with open(os.path.join(here, "safetensors_tiny.safetensors"), "wb") as f:
    f.write(blob)

# shapes as the reference reader sees them (this package version records a 0-d array as [1])
read_back = {n: d for n, d in deserialize(blob)}
assert sorted(read_back) == sorted(list(arrays) + ["bf16.mat"])

names = {np.dtype(np.float64): "F64", np.dtype(np.float32): "F32", np.dtype(np.float16): "F16",
         np.dtype(np.int64): "I64", np.dtype(np.int32): "I32", np.dtype(np.int16): "I16",
         np.dtype(np.int8): "I8", np.dtype(np.uint8): "U8", np.dtype(np.bool_): "BOOL"}
expect = {}
for name, a in arrays.items():
    expect[name] = {"dtype": names[a.dtype], "shape": list(read_back[name]["shape"]),
                    "values": [float(x) for x in a.astype(np.float64).ravel()]}
bf_values = (bf16_bits.astype(np.uint32) << 16).view(np.float32).astype(np.float64)
expect["bf16.mat"] = {"dtype": "BF16", "shape": list(bf.shape), "values": [float(x) for x in bf_values.ravel()]}
with open(os.path.join(here, "safetensors_tiny.json"), "w") as f:
    json.dump({"metadata": metadata, "tensors": expect}, f, indent=1, sort_keys=True)
print(f"wrote {len(blob)} bytes, {len(expect)} tensors")

minilm = os.path.join(here, "..", "..", ".cache", "models", "all-minilm-l6-v2", "model.safetensors")
tensors = load_file(minilm)
out = {}
for name, a in sorted(tensors.items()):
    flat = a.ravel()
    out[name] = {"dtype": names[a.dtype], "shape": list(a.shape), "sum": float(flat.astype(np.float64).sum()),
                 "first": [float(x) for x in flat[:4].astype(np.float64)]}
with open(os.path.join(here, "safetensors_minilm.json"), "w") as f:
    json.dump(out, f, indent=1, sort_keys=True)
print(f"all-MiniLM: {len(out)} tensors")
