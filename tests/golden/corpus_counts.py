#!/usr/bin/env python3
"""Expected pooled-corpus counts for tests/data/test_corpus.cpp, computed independently of the C++.

For each shared HotpotQA sample: context paragraphs seen, distinct titles kept (first copy wins),
duplicates (same title, same sentences), title conflicts (same title, different sentences), and
kept paragraphs longer than 250 tokens (title + sentences), which must be split. Tokens are runs of
bytes other than ASCII space, tab, CR, LF, FF, VT (hoprag::data::whitespace_counter; Python's
str.split() would also split at Unicode spaces such as U+00A0).
Usage: python3 tests/golden/corpus_counts.py [DATA_DIR]   (default ../shared/data/hotpotqa)
"""
import json
import re
import sys


def tokens(text):
    return len(re.findall(r"[^ \t\r\n\f\v]+", text))


data = sys.argv[1] if len(sys.argv) > 1 else "../shared/data/hotpotqa"
for name in ["hotpot_train_sample.jsonl", "hotpot_dev_sample.jsonl"]:
    seen, kept, dup, conflicts, split = 0, {}, 0, 0, 0
    with open(f"{data}/{name}") as f:
        for line in f:
            if not line.strip():
                continue
            for title, sents in json.loads(line)["context"]:
                seen += 1
                if title in kept:
                    if kept[title] == sents:
                        dup += 1
                    else:
                        conflicts += 1
                    continue
                kept[title] = sents
                split += tokens(title) + sum(tokens(s) for s in sents) > 250
    print(f"{name}: seen {seen} paragraphs {len(kept)} duplicates {dup} conflicts {conflicts} split {split}")
