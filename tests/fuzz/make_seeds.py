#!/usr/bin/env python3
"""Writes the hand-made seed inputs of the fuzz targets (standard library only):
  seeds/gguf/tokenizer_tiny.gguf          GGUF v3 with a tiny gpt2 (byte-level BPE) tokenizer in
                                          tokenizer.ggml.* and two small tensors (F32, Q8_0)
  seeds/tokenizer_json/wordpiece_tiny.json, bytelevel_bpe_tiny.json  small tokenizer.json files
The other seeds are copies of tests/golden files (safetensors_tiny.safetensors, gguf_quants_tiny.gguf,
spm_tiny_metaspace_tokenizer.json). Run from anywhere: python3 tests/fuzz/make_seeds.py"""
import json
import os
import struct

here = os.path.dirname(os.path.abspath(__file__))


def gguf_string(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def gguf_kv(key, vtype, payload):
    return gguf_string(key) + struct.pack("<I", vtype) + payload


def gguf_str_array(items):
    return struct.pack("<IQ", 8, len(items)) + b"".join(gguf_string(s) for s in items)


def tiny_gguf():
    tokens = ["<|endoftext|>", "<|im_start|>", "H", "e", "l", "o", "\u0120", "w", "r", "d", "1", "2", "3",
              "He", "ll", "llo", "\u0120w", "\u0120wor", "or"]
    merges = ["H e", "l l", "ll o", "\u0120 w", "o r", "\u0120w or"]
    types = [3, 3] + [1] * (len(tokens) - 2)
    kvs = [
        gguf_kv("general.architecture", 8, gguf_string("llama")),
        gguf_kv("general.alignment", 4, struct.pack("<I", 32)),
        gguf_kv("tokenizer.ggml.model", 8, gguf_string("gpt2")),
        gguf_kv("tokenizer.ggml.pre", 8, gguf_string("smollm")),
        gguf_kv("tokenizer.ggml.tokens", 9, gguf_str_array(tokens)),
        gguf_kv("tokenizer.ggml.token_type", 9, struct.pack("<IQ", 5, len(types)) + struct.pack(f"<{len(types)}i", *types)),
        gguf_kv("tokenizer.ggml.merges", 9, gguf_str_array(merges)),
        gguf_kv("tokenizer.ggml.bos_token_id", 4, struct.pack("<I", 1)),
        gguf_kv("tokenizer.ggml.add_bos_token", 7, struct.pack("<B", 1)),
    ]
    f32 = struct.pack("<4f", 1.0, -2.5, 0.25, 3.0)
    q8 = struct.pack("<e", 0.5) + bytes((i * 7 - 100) & 0xFF for i in range(32))  # one Q8_0 block
    infos = gguf_string("a.f32") + struct.pack("<I", 2) + struct.pack("<QQ", 2, 2) + struct.pack("<IQ", 0, 0)
    infos += gguf_string("b.q8_0") + struct.pack("<I", 1) + struct.pack("<Q", 32) + struct.pack("<IQ", 8, 32)
    head = b"GGUF" + struct.pack("<IQQ", 3, 2, len(kvs)) + b"".join(kvs) + infos
    head += b"\0" * (-len(head) % 32)
    return head + f32 + b"\0" * (32 - len(f32)) + q8


def wordpiece_json():
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "hello", ",", "world", "!", "cafe", "na", "##ive", "1", "##2", "##3",
             "中", "文", "x", "y", "who", "?"]
    return {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [{"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False,
                          "normalized": False, "special": True} for i, t in enumerate(vocab[:4])],
        "normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True,
                       "strip_accents": None, "lowercase": True},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {"type": "TemplateProcessing",
                           "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                                      {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
                           "pair": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                                    {"SpecialToken": {"id": "[SEP]", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}},
                                    {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],
                           "special_tokens": {"[CLS]": {"id": "[CLS]", "ids": [2], "tokens": ["[CLS]"]},
                                              "[SEP]": {"id": "[SEP]", "ids": [3], "tokens": ["[SEP]"]}}},
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                  "max_input_chars_per_word": 100, "vocab": {t: i for i, t in enumerate(vocab)}},
    }


def bytelevel_json():
    vocab = ["<|endoftext|>", "H", "e", "l", "o", ",", "\u0120", "W", "r", "d", "!", "1", "2", "He", "ll", "llo",
             "\u0120W", "or", "\u0120Wor"]
    return {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [{"id": 0, "content": "<|endoftext|>", "single_word": False, "lstrip": False, "rstrip": False,
                          "normalized": False, "special": True}],
        "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
        "post_processor": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True},
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                  "vocab": {t: i for i, t in enumerate(vocab)},
                  "merges": ["H e", "l l", "ll o", "\u0120 W", "o r", "\u0120W or"]},
    }


def main():
    with open(os.path.join(here, "seeds/gguf/tokenizer_tiny.gguf"), "wb") as f:
        f.write(tiny_gguf())
    for name, obj in [("wordpiece_tiny.json", wordpiece_json()), ("bytelevel_bpe_tiny.json", bytelevel_json())]:
        with open(os.path.join(here, "seeds/tokenizer_json", name), "w", encoding="utf-8") as f:
            json.dump(obj, f, ensure_ascii=False)


if __name__ == "__main__":
    main()
