"""Golden data for hoprag's HotpotQA metrics (tests/eval/test_hotpot_metrics.cpp).

Makes a prediction file from the shared dev sample with deterministic perturbations (exact answers,
case/punctuation/article changes, partial and padded answers, yes/no/noanswer, empty, Unicode
upper-casing, missing answers and sp, duplicate and extra sp entries, unknown ids) and scores it with
the rules of the official hotpot_evaluate_v1.py, reimplemented here (our own code, same rules):
normalize_answer = lower, strip string.punctuation, \\b(a|an|the)\\b -> ' ', ' '.join(split());
answer F1 over a Counter intersection, zero when either side is yes/no/noanswer and they differ;
sp metrics over sets of (title, sent_id); joint = products; averages over ALL gold questions.
One deliberate difference from the official script: integer "_id"s in the gold file are compared
as their decimal strings (the official script would never find them in a prediction file's keys).

Run from the repository root:
    python3 tests/golden/make_hotpot_metrics_golden.py ../shared/data/hotpotqa/hotpot_dev_sample.jsonl
Writes tests/golden/hotpot_dev_predictions.json and tests/golden/hotpot_dev_metrics.json.
"""
import json
import random
import re
import string
import sys
from collections import Counter


def normalize_answer(s):
    s = s.lower()
    s = "".join(ch for ch in s if ch not in set(string.punctuation))
    s = re.sub(r"\b(a|an|the)\b", " ", s)
    return " ".join(s.split())


def answer_scores(prediction, gold):
    p, g = normalize_answer(prediction), normalize_answer(gold)
    em = float(p == g)
    if (p in ("yes", "no", "noanswer") or g in ("yes", "no", "noanswer")) and p != g:
        return em, 0.0, 0.0, 0.0
    pt, gt = p.split(), g.split()
    same = sum((Counter(pt) & Counter(gt)).values())
    if same == 0:
        return em, 0.0, 0.0, 0.0
    prec = 1.0 * same / len(pt)
    rec = 1.0 * same / len(gt)
    return em, (2 * prec * rec) / (prec + rec), prec, rec


def sp_scores(prediction, gold):
    ps, gs = set(map(tuple, prediction)), set(map(tuple, gold))
    tp = sum(1 for e in ps if e in gs)
    fp = len(ps) - tp
    fn = sum(1 for e in gs if e not in ps)
    prec = 1.0 * tp / (tp + fp) if tp + fp > 0 else 0.0
    rec = 1.0 * tp / (tp + fn) if tp + fn > 0 else 0.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec > 0 else 0.0
    return (1.0 if fp + fn == 0 else 0.0), f1, prec, rec


KEYS = ["em", "f1", "prec", "recall", "sp_em", "sp_f1", "sp_prec", "sp_recall",
        "joint_em", "joint_f1", "joint_prec", "joint_recall"]


def evaluate(gold, pred):
    groups = {"all": dict.fromkeys(KEYS, 0.0)}
    counts = {"all": 0}
    for dp in gold:
        qid = str(dp["_id"])
        outs = [groups["all"], groups.setdefault(dp["type"], dict.fromkeys(KEYS, 0.0))]
        counts["all"] += 1
        counts[dp["type"]] = counts.get(dp["type"], 0) + 1
        a = answer_scores(pred["answer"][qid], dp["answer"]) if qid in pred["answer"] else None
        s = sp_scores(pred["sp"][qid], dp["supporting_facts"]) if qid in pred["sp"] else None
        for m in outs:
            if a:
                for k, v in zip(KEYS[0:4], a):
                    m[k] += v
            if s:
                for k, v in zip(KEYS[4:8], s):
                    m[k] += v
            if a and s:
                jp, jr = a[2] * s[2], a[3] * s[3]
                m["joint_f1"] += 2 * jp * jr / (jp + jr) if jp + jr > 0 else 0.0
                m["joint_em"] += a[0] * s[0]
                m["joint_prec"] += jp
                m["joint_recall"] += jr
    out = {}
    for name, m in groups.items():
        out[name] = {k: v / counts[name] for k, v in m.items()}
        out[name]["n"] = counts[name]
    gold_ids = {str(dp["_id"]) for dp in gold}
    out["missing_answer"] = sum(1 for i in gold_ids if i not in pred["answer"])
    out["missing_sp"] = sum(1 for i in gold_ids if i not in pred["sp"])
    out["unknown_answer_ids"] = sum(1 for i in pred["answer"] if i not in gold_ids)
    out["unknown_sp_ids"] = sum(1 for i in pred["sp"] if i not in gold_ids)
    return out


def perturb_answer(rng, dp, gold):
    a = dp["answer"]
    k = rng.randrange(11)
    if k == 0:
        return a
    if k == 1:
        return "The " + a.upper() + "."
    if k == 2:
        toks = a.split()
        return " ".join(toks[:-1]) if len(toks) > 1 else a + " extra"
    if k == 3:
        return "no" if a.lower() == "yes" else "yes"
    if k == 4:
        return "noanswer"
    if k == 5:
        return rng.choice(["", "  ", "the", "...!"])
    if k == 6:
        return None  # missing
    if k == 7:
        return a.upper()
    if k == 8:
        t = a.split()[0] if a.split() else "x"
        return " ".join([t] * 3) + " (" + a + ")"
    if k == 9:
        return rng.choice(gold)["answer"]
    return "an " + a.replace(" ", "  ,") + " the"


def perturb_sp(rng, dp):
    sp = [list(x) for x in dp["supporting_facts"]]
    k = rng.randrange(8)
    if k == 0:
        return sp
    if k == 1:
        return sp[:-1]
    if k == 2:
        title, sents = rng.choice(dp["context"])
        return sp + [[title, rng.randrange(len(sents))]]
    if k == 3:
        return sp + sp  # duplicates collapse
    if k == 4:
        return []
    if k == 5:
        return None  # missing
    if k == 6:
        return [[t, i + 1] for t, i in sp]
    return list(reversed(sp)) + [[sp[0][0], sp[0][1]]]


def main():
    gold = [json.loads(line) for line in open(sys.argv[1], encoding="utf-8") if line.strip()]
    rng = random.Random(20180925)
    pred = {"answer": {}, "sp": {}}
    for dp in gold:
        qid = str(dp["_id"])
        a = perturb_answer(rng, dp, gold)
        if a is not None:
            pred["answer"][qid] = a
        s = perturb_sp(rng, dp)
        if s is not None:
            pred["sp"][qid] = s
    for i in range(3):
        pred["answer"]["unknown-id-%d" % i] = "whatever"
    pred["sp"]["unknown-id-0"] = [["Nowhere", 0]]
    pred["sp"]["unknown-id-9"] = []
    with open("tests/golden/hotpot_dev_predictions.json", "w", encoding="utf-8") as f:
        json.dump(pred, f, ensure_ascii=False, separators=(",", ":"))
    with open("tests/golden/hotpot_dev_metrics.json", "w", encoding="utf-8") as f:
        out = evaluate(gold, pred)
        # normalize_answer of every non-ASCII answer (gold and predicted) and of hand-picked tricky
        # strings: checks the Unicode side of the normalisation character by character.
        tricky = ["ΣΟΦΟΣ ΟΔΥΣΣΕΥΣ", "İstanbul", "26–the–30", "the_a an_the", "A's the An's", "Ⅻ the ½ a",
                  "x\u00a0the\u2003y\u200bz", "ǅemal THE", "Straße", "\tThe\n\nan  A", "ＡＢ the", "l’a the"]
        texts = {dp["answer"] for dp in gold} | set(pred["answer"].values())
        out["normalized"] = {t: normalize_answer(t) for t in sorted(texts) if any(ord(c) > 127 for c in t)}
        out["normalized"].update({t: normalize_answer(t) for t in tricky})
        json.dump(out, f, indent=1, sort_keys=True, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()
