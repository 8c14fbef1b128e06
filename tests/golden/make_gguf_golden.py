#!/usr/bin/env python3
"""Golden data for hoprag's GGUF reader, made with the PyPI `gguf` package (the reference).

1. gguf_smollm2.json: for the real SmolLM2-135M-Instruct.Q4_1.gguf (from scripts/setup): version,
   alignment, data offset, every metadata key (type; value, or for arrays element type, length and
   the first items) and, per tensor, type, ne, a checksum of the float32 values that
   gguf.quants.dequantize gives (sum_i bits_i * w_i mod 2^64, odd weights w_i = (i * 0x9E37..15) | 1,
   so any single changed element changes it; cheap in numpy and in a sanitizer build), and two
   slices of 8 values as float32 bit patterns.
2. gguf_quants_tiny.gguf + gguf_quants_tiny.json: a tiny GGUF (alignment 64) written by GGUFWriter
   with metadata of every value type (nested string arrays included) and one tensor of each type
   hoprag dequantises that the real file lacks: F32, F16, BF16, Q8_0, Q4_0, Q4_1 quantised by
   gguf.quants.quantize from random floats, Q4_K and Q6_K as random bytes with finite f16 scales
   (the package has no quantiser for them); the json holds every dequantised value as bits.

Run:  /work/main/.venv/bin/python tests/golden/make_gguf_golden.py
"""
import json
import os

import numpy as np
import gguf
from gguf import GGMLQuantizationType as T, GGUFReader, GGUFValueType as V
from gguf.quants import dequantize, quantize

here = os.path.dirname(os.path.abspath(__file__))
model = os.path.join(here, "..", "..", ".cache", "models", "smollm2-135m-instruct", "SmolLM2-135M-Instruct.Q4_1.gguf")


def bits(a):
    return [int(x) for x in np.ascontiguousarray(a, dtype=np.float32).view(np.uint32).ravel()]


def describe(field):
    types = [V(t).name for t in field.types]
    out = {"type": types[0]}
    if field.types[0] == V.ARRAY:
        out["element_type"] = types[1]
        out["length"] = len(field.data)
        if len(types) == 2 and types[1] != "ARRAY":
            out["first"] = [to_py(field.parts[i], types[1]) for i in field.data[:3]]
    else:
        out["value"] = to_py(field.parts[field.data[0]], types[0])
    return out


def to_py(part, t):
    if t == "STRING":
        return bytes(part).decode("utf-8")
    if t in ("FLOAT32", "FLOAT64"):
        return float(part[0])
    if t == "BOOL":
        return bool(part[0])
    return int(part[0])


def checksum64(values):
    b = values.view(np.uint32).astype(np.uint64)
    i = np.arange(b.size, dtype=np.uint64)
    with np.errstate(over="ignore"):
        w = (i * np.uint64(0x9E3779B97F4A7C15)) | np.uint64(1)
        return int(np.sum(b * w, dtype=np.uint64))


def tensor_record(t):
    values = np.ascontiguousarray(dequantize(t.data, t.tensor_type), dtype=np.float32).ravel()
    n = values.size
    mid = n // 2
    return {"type": t.tensor_type.name, "ne": [int(x) for x in t.shape], "numel": int(n),
            "checksum64": checksum64(values),
            "head": bits(values[:8]), "mid_at": int(mid), "mid": bits(values[mid:mid + 8])}


# --- 1. the real SmolLM2 file ---
r = GGUFReader(model)
real = {"version": int(r.fields["GGUF.version"].parts[-1][0]), "alignment": int(r.alignment),
        "data_offset": int(r.data_offset),
        "metadata": {f.name: describe(f) for f in r.fields.values() if not f.name.startswith("GGUF.")},
        "tensors": {t.name: tensor_record(t) for t in r.tensors}}
with open(os.path.join(here, "gguf_smollm2.json"), "w") as f:
    json.dump(real, f, indent=0, sort_keys=True)
print("SmolLM2 tensor types:", sorted({v["type"] for v in real["tensors"].values()}), len(real["tensors"]), "tensors")

# --- 2. the tiny file with every supported type ---
rng = np.random.default_rng(3)
path = os.path.join(here, "gguf_quants_tiny.gguf")
w = gguf.GGUFWriter(path, arch="llama")
w.add_custom_alignment(64)
w.add_uint8("t.u8", 200)
w.add_int8("t.i8", -100)
w.add_uint16("t.u16", 60000)
w.add_int16("t.i16", -30000)
w.add_uint32("t.u32", 4000000000)
w.add_int32("t.i32", -2000000000)
w.add_float32("t.f32", 0.1)
w.add_bool("t.bool", True)
w.add_string("t.string", "héllo ▁wörld")
w.add_uint64("t.u64", 2**63 + 5)
w.add_int64("t.i64", -(2**62))
w.add_float64("t.f64", -1.0 / 3.0)
w.add_array("t.array_i32", [1, -2, 3])
w.add_array("t.array_str", ["a", "", "ü"])
w.add_key_value("t.nested", [["x", "yz"], ["w"]], V.ARRAY, sub_type=V.ARRAY)


def f16_scales(n):
    return (rng.standard_normal(n) * 0.02).astype(np.float16).view(np.uint8).reshape(n, 2)


tensors = {
    "f32": rng.standard_normal((3, 5)).astype(np.float32),
    "f16": rng.standard_normal(7).astype(np.float16),
}
raw = {
    "bf16": (quantize(rng.standard_normal((2, 3)).astype(np.float32), T.BF16), T.BF16),
    "q8_0": (quantize(rng.standard_normal((2, 64)).astype(np.float32), T.Q8_0), T.Q8_0),
    "q4_0": (quantize(rng.standard_normal((3, 32)).astype(np.float32), T.Q4_0), T.Q4_0),
    "q4_1": (quantize(rng.standard_normal((2, 96)).astype(np.float32), T.Q4_1), T.Q4_1),
}
q4k = rng.integers(0, 256, size=(2, 144), dtype=np.uint8)
q4k[:, 0:2] = f16_scales(2)
q4k[:, 2:4] = f16_scales(2)
raw["q4_k"] = (q4k, T.Q4_K)
q6k = rng.integers(0, 256, size=(3, 210), dtype=np.uint8)
q6k[:, 208:210] = f16_scales(3)
raw["q6_k"] = (q6k.reshape(1, 3 * 210), T.Q6_K)   # one row of 768 weights
for name, a in tensors.items():
    w.add_tensor(name, a)
for name, (data, qt) in raw.items():
    w.add_tensor(name, data, raw_dtype=qt)
w.write_header_to_file()
w.write_kv_data_to_file()
w.write_tensors_to_file()
w.close()

r = GGUFReader(path)
tiny = {"alignment": int(r.alignment), "data_offset": int(r.data_offset), "tensors": {}}
for t in r.tensors:
    values = np.ascontiguousarray(dequantize(t.data, t.tensor_type), dtype=np.float32)
    tiny["tensors"][t.name] = {"type": t.tensor_type.name, "ne": [int(x) for x in t.shape], "bits": bits(values)}
with open(os.path.join(here, "gguf_quants_tiny.json"), "w") as f:
    json.dump(tiny, f, indent=0, sort_keys=True)
print("tiny:", os.path.getsize(path), "bytes,", {k: v["type"] for k, v in tiny["tensors"].items()})
