#!/usr/bin/env python3
"""Golden data for hoprag's Mistral tokenizer and chat template, produced by Mistral's own PyPI
package `mistral-common` (the reference; pip install mistral-common sentencepiece into a venv).

Run from the repository root after scripts/setup (which unpacks the tokenizer files into
.cache/models/mistral-tokenizers/) and make_tokenizer_golden.py (it reads the inputs that script
wrote):
    VENV/bin/python tests/golden/make_mistral_golden.py

It writes, under tests/golden/:
  mistral_v1.ids     SentencePiece encode (no BOS) of the first 500 lines of tokenizer_inputs.jsonl
                     with tokenizer.model.v1 (the Mistral-7B v0.1 / Instruct-v0.2 vocabulary)
  mistral_chat.json  for three HotpotQA dev questions (their first four context paragraphs, gold
                     marked by the supporting facts) and both tokenizer.model.v1 and the v3-style
                     mistral_instruct_tokenizer_240216.model.v2: the user text (hoprag's prompt_text
                     without its last line break), the reply ("<answer>" + target), mistral-common's
                     tokens of the request [user] (what a served model reads) and of [user, reply]
                     up to and including the reply's </s> (what a trainer feeds)
"""
import json
import os

from mistral_common.protocol.instruct.messages import AssistantMessage, UserMessage
from mistral_common.protocol.instruct.request import ChatCompletionRequest
from mistral_common.tokens.tokenizers.mistral import MistralTokenizer

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
GOLDEN = os.path.join(ROOT, "tests", "golden")
TOKENIZERS = os.path.join(ROOT, ".cache", "models", "mistral-tokenizers")
DATA = os.path.join(ROOT, "..", "shared", "data", "hotpotqa", "hotpot_dev_sample.jsonl")
INSTRUCTION = ('Answer concisely using the evidence. If unsure, say "insufficient context". '
               'Respond with: <answer> and cite indices like [1], [3].')


def one_line(s):
    return s.replace("\r", " ").replace("\n", " ")


def user_text(question, passages):
    t = "[Question]\n" + one_line(question) + "\n[Evidence]\n"
    for i, p in enumerate(passages):
        t += "[%d] %s: %s\n" % (i + 1, one_line(p["title"]), one_line(p["text"]))
    return t + "[Instruction]\n" + INSTRUCTION


def reply_text(answer, passages):
    cites = [i + 1 for i, p in enumerate(passages) if p["gold"]]
    t = "<answer>" + (one_line(answer) if cites else "insufficient context")
    return t + "".join((", [%d]" if k else " [%d]") % c for k, c in enumerate(cites))


def cases():
    with open(DATA, encoding="utf-8") as f:
        records = [json.loads(line) for _, line in zip(range(3), f)]
    out = []
    for r in records:
        gold = {t for t, _ in r["supporting_facts"]}
        passages = [{"title": t, "text": "".join(s), "gold": t in gold} for t, s in r["context"][:4]]
        out.append({"id": r["_id"], "question": r["question"], "answer": r["answer"], "passages": passages})
    return out


def chat_tokens(tok, user, reply):
    serve = tok.encode_chat_completion(ChatCompletionRequest(messages=[UserMessage(content=user)])).tokens
    # mistral-common serves only requests that end with a user turn: add one and cut after the reply's </s>
    full = tok.encode_chat_completion(ChatCompletionRequest(messages=[
        UserMessage(content=user), AssistantMessage(content=reply), UserMessage(content="Thanks.")])).tokens
    eos = tok.instruct_tokenizer.tokenizer.eos_id
    return serve, full[:full.index(eos, len(serve)) + 1]


def main():
    v1 = MistralTokenizer.from_file(os.path.join(TOKENIZERS, "tokenizer.model.v1"))
    sp = v1.instruct_tokenizer.tokenizer
    with open(os.path.join(GOLDEN, "tokenizer_inputs.jsonl"), encoding="utf-8") as f:
        inputs = [json.loads(line) for line in f][:500]
    with open(os.path.join(GOLDEN, "mistral_v1.ids"), "w", encoding="utf-8") as f:
        for s in inputs:
            f.write(" ".join(str(i) for i in sp.encode(s, bos=False, eos=False)) + "\n")
    golden = {"cases": cases(), "tokenizers": {}}
    for name in ["tokenizer.model.v1", "mistral_instruct_tokenizer_240216.model.v2"]:
        tok = MistralTokenizer.from_file(os.path.join(TOKENIZERS, name))
        rows = []
        for c in golden["cases"]:
            user, reply = user_text(c["question"], c["passages"]), reply_text(c["answer"], c["passages"])
            serve, train = chat_tokens(tok, user, reply)
            rows.append({"user": user, "reply": reply, "serve": serve, "train": train})
        golden["tokenizers"][name] = rows
    with open(os.path.join(GOLDEN, "mistral_chat.json"), "w", encoding="utf-8") as f:
        json.dump(golden, f, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()
