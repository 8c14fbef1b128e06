#!/usr/bin/env python3
"""Golden data for hoprag's tokenizers, produced by the PyPI `tokenizers` package (the reference).

Run from the repository root with the project venv:
    .venv/bin/python tests/golden/make_tokenizer_golden.py

It writes, under tests/golden/:
  tokenizer_inputs.jsonl          one JSON string per line: HotpotQA questions, answers and paragraph
                                  sentences (fixed seed) plus a hand-written set of edge cases
  tokenizer_minilm.ids            ids of each input for all-MiniLM-L6-v2 (with [CLS]/[SEP])
  tokenizer_minilm_decode.jsonl   HF decode (skip special tokens) of the first 400 inputs
  tokenizer_minilm_pairs.jsonl    pair encodings (ids, type ids) with longest_first truncation
  tokenizer_smollm2.ids           ids of each input for SmolLM2-135M-Instruct (byte-level BPE)
  tokenizer_spm_tiny.ids          ids of each input for spm_tiny_tokenizer.json
  spm_tiny_tokenizer.json         a small Llama-style BPE (byte fallback, metaspace) trained here
and, outside the repository (too large to commit), .cache/models/smollm2-135m-instruct/tokenizer.json
built from the GGUF file's tokenizer.ggml.* metadata.
"""
import json
import os
import random
import sys

from tokenizers import Tokenizer, models, pre_tokenizers, trainers

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
GOLDEN = os.path.join(ROOT, "tests", "golden")
DATA = os.path.join(ROOT, "..", "shared", "data", "hotpotqa")
if not os.path.isdir(DATA):
    DATA = "/work/shared/data/hotpotqa"
MODELS = os.path.join(ROOT, ".cache", "models")

HAND = [
    "", " ", "  ", "\t", "\n", "a", "A", "hello world", "Hello  World", "  leading", "trailing  ",
    "tabs\tand\nnewlines\r\nmixed", "multiple   spaces   here", "\n\nparagraph\n\n\nbreaks\n",
    "don't I'm you're we've they'll he'd it's", "DON'T 'S 'quoted' ''s", "rock 'n' roll",
    "1234567890", "3.14159", "1,000,000", "year 1999 and 2024", "x1y2z3", "٣٤٥ arabic digits", "Ⅻ roman",
    "½ ¾ ² ³", "naïve café résumé façade", "Ångström Øresund Ærø", "ÉCOLE ÉLÈVE", "İstanbul", "straße STRASSE",
    "Ελληνικά κείμενο", "Русский текст", "עברית", "العربية", "हिन्दी", "ไทย", "한국어 텍스트",
    "日本語のテキスト", "中文文本测试", "混合English和中文", "カタカナ ひらがな", "emoji 😀😃😄 test",
    "👍🏽 skin tone", "👨‍👩‍👧 family", "🇺🇸 flag", "♥ ★ ☃", "math ∑ ∫ √ ∞ ≠ ≤", "arrows → ← ↑",
    "punctuation!?.,;:-_()[]{}<>@#$%^&*+=|\\/~`\"'", "em—dash en–dash", "“smart quotes” ‘single’",
    "«guillemets»", "ellipsis…", "¿Qué? ¡Sí!", "zero\u200bwidth", "soft\u00adhyphen", "nbsp\u00a0space",
    "ideographic\u3000space", "thin\u2009space", "control\u0007bell", "null\u0000char", "replacement\ufffdchar",
    "bom\ufeffmark", "combining e\u0301 a\u0300", "precomposed \u00e9", "ﬁ ligature", "ｆｕｌｌｗｉｄｔｈ",
    "URL https://example.com/path?q=1&b=2", "email user@example.org", "C++ std::vector<int>",
    "def f(x): return x**2", "<html><body>tag</body></html>", "snake_case camelCase PascalCase",
    "a" * 120, "supercalifragilisticexpialidocious", "antidisestablishmentarianism", "x" * 5 + " " + "y" * 200,
    "[CLS] literal [SEP] tokens [MASK]", "<|im_start|>user\nhi<|im_end|>", "<s>[INST] hello [/INST]</s>",
    "<|endoftext|>", "end<|endoftext|>start", "<unk>", "   \n  \t ", "!!!", "...", "???!!!",
    "Mr. O'Neil's dog", "U.S.A.", "e.g., i.e.", "$100.00 €50 £20 ¥1000", "50% off", "#hashtag @mention",
    "2024-01-15T10:30:00Z", "+1 (555) 123-4567", "ALL CAPS TEXT", "MiXeD CaSe", "ǅ title case",
]


def read_hotpot():
    rng = random.Random(1234)
    questions, answers, sentences = [], [], []
    for name in ("hotpot_train_sample.jsonl", "hotpot_dev_sample.jsonl"):
        with open(os.path.join(DATA, name), encoding="utf-8") as f:
            for line in f:
                r = json.loads(line)
                questions.append(r["question"])
                answers.append(r["answer"])
                for title, sents in r["context"]:
                    sentences.append(title)
                    sentences.append("".join(sents[:2]))
    rng.shuffle(sentences)
    return questions[:900], answers[:500], sentences[:600], sentences


def load_minilm():
    tok = Tokenizer.from_file(os.path.join(MODELS, "all-minilm-l6-v2", "tokenizer.json"))
    tok.no_padding()
    tok.no_truncation()
    return tok


def build_smollm2_json():
    """HF tokenizer.json for SmolLM2 from the GGUF metadata (tokens, merges, token types)."""
    from gguf import GGUFReader
    path = os.path.join(MODELS, "smollm2-135m-instruct", "SmolLM2-135M-Instruct.Q4_1.gguf")
    r = GGUFReader(path)

    def arr(key):
        f = r.fields[key]
        return [bytes(f.parts[i]) for i in f.data]

    def scalar(key):
        f = r.fields[key]
        return f.parts[f.data[0]]

    assert bytes(r.fields["tokenizer.ggml.model"].parts[r.fields["tokenizer.ggml.model"].data[0]]) == b"gpt2"
    assert bytes(r.fields["tokenizer.ggml.pre"].parts[r.fields["tokenizer.ggml.pre"].data[0]]) == b"smollm"
    tokens = [t.decode("utf-8") for t in arr("tokenizer.ggml.tokens")]
    merges = [m.decode("utf-8") for m in arr("tokenizer.ggml.merges")]
    types = [int(scalar_part[0]) for scalar_part in (r.fields["tokenizer.ggml.token_type"].parts[i]
                                                      for i in r.fields["tokenizer.ggml.token_type"].data)]
    added = [{"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": True} for i, t in enumerate(tokens) if types[i] == 3]
    j = {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": added, "normalizer": None,
        # llama.cpp's "smollm" pre-tokenizer = individual digits, then the GPT-2 regex (byte level).
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Digits", "individual_digits": True},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}]},
        "post_processor": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True},
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False,
                  "vocab": {t: i for i, t in enumerate(tokens)}, "merges": merges},
    }
    out = os.path.join(MODELS, "smollm2-135m-instruct", "tokenizer.json")
    tmp = out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(j, f, ensure_ascii=False)
    os.replace(tmp, out)
    tok = Tokenizer.from_file(out)
    assert tok.get_vocab_size() == len(tokens)
    return tok


def build_spm_tiny(corpus):
    """A small Llama-style BPE: <unk>,<s>,</s>, 256 byte tokens <0xNN>, then trained merges."""
    t = Tokenizer(models.BPE(unk_token="<unk>", fuse_unk=True, byte_fallback=True))
    # Trained per word (Metaspace split) so that tokens look like Llama's ("▁the"); the saved model then
    # uses Llama's layout: normalizer Prepend("▁") + Replace(" ", "▁") and no pre-tokenizer.
    t.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    trainer = trainers.BpeTrainer(vocab_size=1500, special_tokens=["<unk>", "<s>", "</s>"], min_frequency=2,
                                  limit_alphabet=150, show_progress=False)
    t.train_from_iterator(corpus, trainer)
    j = json.loads(t.to_str())
    vocab = j["model"]["vocab"]
    ordered = [tok for tok, _ in sorted(vocab.items(), key=lambda kv: kv[1])]
    specials = ["<unk>", "<s>", "</s>"]
    new = specials + ["<0x%02X>" % b for b in range(256)] + [tok for tok in ordered if tok not in specials]
    j["model"]["vocab"] = {tok: i for i, tok in enumerate(new)}
    j["added_tokens"] = [{"id": i, "content": s, "single_word": False, "lstrip": False, "rstrip": False,
                          "normalized": False, "special": True} for i, s in enumerate(specials)]
    j["normalizer"] = {"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": "▁"},
                                                           {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}]}
    j["pre_tokenizer"] = None
    j["post_processor"] = {"type": "TemplateProcessing",
                           "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
                           "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                                    {"SpecialToken": {"id": "<s>", "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
                           "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}}}
    j["decoder"] = {"type": "Sequence", "decoders": [
        {"type": "Replace", "pattern": {"String": "▁"}, "content": " "}, {"type": "ByteFallback"}, {"type": "Fuse"},
        {"type": "Strip", "content": " ", "start": 1, "stop": 0}]}
    s = json.dumps(j, ensure_ascii=False, indent=None)
    path = os.path.join(GOLDEN, "spm_tiny_tokenizer.json")
    with open(path, "w", encoding="utf-8") as f:
        f.write(s)
    return Tokenizer.from_file(path)


def write_ids(path, encs):
    with open(path, "w", encoding="utf-8") as f:
        for e in encs:
            f.write(" ".join(map(str, e.ids)) + "\n")


def main():
    questions, answers, sentences, all_sentences = read_hotpot()
    inputs = HAND + questions + answers + sentences
    assert len(inputs) >= 2000, len(inputs)
    with open(os.path.join(GOLDEN, "tokenizer_inputs.jsonl"), "w", encoding="utf-8") as f:
        for s in inputs:
            f.write(json.dumps(s, ensure_ascii=False) + "\n")

    minilm = load_minilm()
    encs = minilm.encode_batch(inputs, add_special_tokens=True)
    write_ids(os.path.join(GOLDEN, "tokenizer_minilm.ids"), encs)
    with open(os.path.join(GOLDEN, "tokenizer_minilm_decode.jsonl"), "w", encoding="utf-8") as f:
        for e in encs[:400]:
            f.write(json.dumps(minilm.decode(e.ids), ensure_ascii=False) + "\n")
    rng = random.Random(99)
    with open(os.path.join(GOLDEN, "tokenizer_minilm_pairs.jsonl"), "w", encoding="utf-8") as f:
        for k in range(300):
            a = rng.choice(questions + answers + HAND)
            b = rng.choice(sentences + questions)
            if k % 3 == 1:
                a, b = b, a
            max_len = rng.choice([5, 8, 16, 17, 31, 32, 64, 128, 512])
            minilm.enable_truncation(max_len, strategy="longest_first")
            e = minilm.encode(a, b)
            f.write(json.dumps({"a": a, "b": b, "max_length": max_len, "ids": e.ids, "type_ids": e.type_ids},
                               ensure_ascii=False) + "\n")
        minilm.no_truncation()

    smol = build_smollm2_json()
    encs = smol.encode_batch(inputs, add_special_tokens=True)
    for s, e in zip(inputs, encs):
        assert smol.decode(e.ids, skip_special_tokens=False) == s, s
    write_ids(os.path.join(GOLDEN, "tokenizer_smollm2.ids"), encs)

    spm = build_spm_tiny(all_sentences[600:] + questions[900:])
    encs = spm.encode_batch(inputs, add_special_tokens=False)
    for s, e in zip(inputs, encs):
        if "<unk>" not in s and "<s>" not in s and "</s>" not in s:
            assert spm.decode(e.ids) == s, (s, spm.decode(e.ids))
    write_ids(os.path.join(GOLDEN, "tokenizer_spm_tiny.ids"), encs)

    # The same model in the newer layout (Mistral v0.3 style): no normalizer, a Metaspace
    # pre-tokenizer with prepend_scheme "first" and split false, and the Metaspace decoder.
    j = json.loads(spm.to_str())
    j["normalizer"] = None
    j["pre_tokenizer"] = {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": False}
    j["decoder"] = {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": False}
    meta = Tokenizer.from_str(json.dumps(j, ensure_ascii=False))
    with open(os.path.join(GOLDEN, "spm_tiny_metaspace_tokenizer.json"), "w", encoding="utf-8") as f:
        f.write(json.dumps(j, ensure_ascii=False))
    encs = meta.encode_batch(inputs[:700], add_special_tokens=False)
    write_ids(os.path.join(GOLDEN, "tokenizer_spm_tiny_metaspace.ids"), encs)
    with open(os.path.join(GOLDEN, "tokenizer_spm_tiny_metaspace_decode.jsonl"), "w", encoding="utf-8") as f:
        for e in encs[:300]:
            f.write(json.dumps(meta.decode(e.ids), ensure_ascii=False) + "\n")
    print("inputs", len(inputs), file=sys.stderr)


if __name__ == "__main__":
    main()
