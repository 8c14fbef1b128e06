#!/usr/bin/env python3
"""Golden data for hoprag's SentencePiece tokenizer.model loader, produced by the PyPI `sentencepiece`
package (the reference; pip install sentencepiece into the project venv).

Run from the repository root with the project venv, after make_tokenizer_golden.py (it reads the
inputs that script wrote):
    .venv/bin/python tests/golden/make_spm_model_golden.py

Two tiny BPE models with byte fallback are trained on HotpotQA text (deterministic: one thread, all
sentences, no shuffling). Both use --normalization_rule_name=identity: SentencePiece's NFKC rules
(nmt_nfkc, the default) are not implemented by hoprag, which refuses such models.
  spm_tiny_bpe.model        Llama/Mistral flags: add_dummy_prefix, remove_extra_whitespaces=false
  spm_tiny_bpe_ws.model     remove_extra_whitespaces=true (spm_train's default), add_dummy_prefix=false
It writes, under tests/golden/:
  spm_tiny_bpe.model, spm_tiny_bpe_ws.model
  spm_tiny_bpe.ids            sp.encode(text) of every line of tokenizer_inputs.jsonl (no BOS)
  spm_tiny_bpe_ws.ids         same for the second model, first 700 inputs
  spm_tiny_bpe_ws_decode.jsonl  sp.decode(ids) of those 700 (one JSON string per line); model 1's
                              decode is checked here to give back every input exactly
"""
import json
import os
import sys
import tempfile

import sentencepiece as spm

sys.path.insert(0, os.path.dirname(__file__))
from make_tokenizer_golden import GOLDEN, read_hotpot  # noqa: E402

COMMON = dict(model_type="bpe", vocab_size=1000, byte_fallback=True, normalization_rule_name="identity",
              character_coverage=0.995, split_digits=True, num_threads=1, input_sentence_size=0,
              shuffle_input_sentence=False, max_sentence_length=100000, unk_id=0, bos_id=1, eos_id=2, pad_id=-1,
              minloglevel=2)


def train(corpus_path, name, **flags):
    prefix = os.path.join(tempfile.gettempdir(), name)
    spm.SentencePieceTrainer.train(input=corpus_path, model_prefix=prefix, **COMMON, **flags)
    with open(prefix + ".model", "rb") as f:
        data = f.read()
    with open(os.path.join(GOLDEN, name + ".model"), "wb") as f:
        f.write(data)
    return spm.SentencePieceProcessor(model_file=os.path.join(GOLDEN, name + ".model"))


def write(name, sp, inputs, decode_file):
    with open(os.path.join(GOLDEN, name + ".ids"), "w", encoding="utf-8") as f:
        for s in inputs:
            ids = sp.encode(s)
            assert sp.encode(s, add_bos=True) == [sp.bos_id()] + ids
            f.write(" ".join(map(str, ids)) + "\n")
    if decode_file:
        with open(os.path.join(GOLDEN, name + "_decode.jsonl"), "w", encoding="utf-8") as f:
            for s in inputs:
                f.write(json.dumps(sp.decode(sp.encode(s)), ensure_ascii=False) + "\n")


def main():
    with open(os.path.join(GOLDEN, "tokenizer_inputs.jsonl"), encoding="utf-8") as f:
        inputs = [json.loads(line) for line in f]
    assert len(inputs) >= 2000, len(inputs)
    questions, _, _, all_sentences = read_hotpot()
    corpus = [s.replace("\n", " ") for s in all_sentences[600:] + questions[900:] if s.strip()]
    corpus_path = os.path.join(tempfile.gettempdir(), "hoprag_spm_tiny_corpus.txt")  # fixed: the model stores it
    with open(corpus_path, "w", encoding="utf-8") as f:
        f.write("\n".join(corpus) + "\n")
    llama = train(corpus_path, "spm_tiny_bpe", add_dummy_prefix=True, remove_extra_whitespaces=False,
                  allow_whitespace_only_pieces=True)
    ws = train(corpus_path, "spm_tiny_bpe_ws", add_dummy_prefix=False, remove_extra_whitespaces=True)
    os.unlink(corpus_path)
    write("spm_tiny_bpe", llama, inputs, decode_file=False)
    write("spm_tiny_bpe_ws", ws, inputs[:700], decode_file=True)
    # Model 1 keeps every space: its round trips are lossless, so the test compares decode with the input.
    for s in inputs:
        assert llama.decode(llama.encode(s)) == s, s
    print("inputs", len(inputs), "all lossless round trips (model 1)", file=sys.stderr)


if __name__ == "__main__":
    main()
