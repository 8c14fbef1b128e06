// Answering one question with a generator: the prompt of data/prompt.hpp (fitted to the token
// budget, keeping generation room), greedy generation that stops at a line break once the answer
// has begun, at "<|im_end|>" or at EOS, and eval/answer_prediction.hpp's rules that turn the
// answer line into answer text, cited passages and supporting sentences. Shared by hoprag-answer
// and the generator trainer's evaluation. `own_paragraph_contexts` gives a HotpotQA question's own
// context paragraphs (gold forced in, plus distractors) in file order as prompt passages;
// `ranked_contexts` gives retrieved or reranked passages, best first.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "hoprag/data/hotpotqa_record.hpp"
#include "hoprag/data/prompt.hpp"
#include "hoprag/eval/answer_prediction.hpp"
#include "hoprag/models/llama/generate.hpp"
#include "hoprag/tokenizers/tokenizer.hpp"

namespace hoprag::components {

/// A question's passages: what the prompt shows and what the metrics need (same order).
struct question_contexts {
    std::vector<data::prompt_passage> prompt;
    std::vector<eval::shown_passage> shown;
};

/// The context paragraphs of `r` in file order: rank = position, gold = holds a supporting fact.
[[nodiscard]] inline question_contexts own_paragraph_contexts(const data::hotpot_record& r) {
    question_contexts c;
    for (std::size_t i = 0; i < r.context.size(); ++i) {
        const auto& p = r.context[i];
        bool gold = false;
        for (const auto& f : r.supporting_facts) gold = gold || f.title == p.title;
        std::string text;
        for (const auto& s : p.sentences) text += s;
        c.prompt.push_back({p.title, std::move(text), i, gold});
        c.shown.push_back({p.title, static_cast<std::int64_t>(p.sentences.size()), gold});
    }
    return c;
}

/// Ranked (title, text) passages, best first: rank = position, gold not told to the prompt fitter
/// (it drops by rank only, as at inference); `holds_support` marks the titles of `r`'s supporting
/// facts (metrics only) and each title's sentence count comes from `sentences` (0 when unknown).
[[nodiscard]] inline question_contexts ranked_contexts(const data::hotpot_record& r, std::span<const std::pair<std::string, std::string>> ranked,
                                                       const std::unordered_map<std::string, std::int64_t>& sentences) {
    question_contexts c;
    for (std::size_t i = 0; i < ranked.size(); ++i) {
        const auto& [title, text] = ranked[i];
        bool gold = false;
        for (const auto& f : r.supporting_facts) gold = gold || f.title == title;
        const auto it = sentences.find(title);
        c.prompt.push_back({title, text, i, false});
        c.shown.push_back({title, it == sentences.end() ? 0 : it->second, gold});
    }
    return c;
}

/// Prompt and generation settings.
struct answer_options {
    data::prompt_options prompt;     ///< its generation_reserve is set to max_new_tokens
    std::int64_t max_new_tokens = 32;
};

/// One answered question.
struct answer_result {
    std::string line;                         ///< the generated answer line (leading whitespace dropped)
    eval::answer_prediction prediction;       ///< answer text, cited passages, supporting facts
    std::vector<eval::shown_passage> shown;   ///< the passages shown, by number - 1
    std::size_t prompt_tokens = 0, generated_tokens = 0, dropped = 0;
};

/// Answers `question` over contexts `c` with generator `g` (anything with generate(ids, options,
/// decode)) and its tokenizer `tok`.
template <class Generator>
[[nodiscard]] answer_result answer_question(const Generator& g, const tokenizers::tokenizer& tok, std::string_view question,
                                            const question_contexts& c, const answer_options& o) {
    data::prompt_options po = o.prompt;
    po.generation_reserve = static_cast<std::size_t>(std::max<std::int64_t>(0, o.max_new_tokens));
    const auto ex = data::encode_example(tok, question, c.prompt, std::nullopt, po);
    models::llama::generate_options go;
    go.max_new_tokens = o.max_new_tokens;
    go.stop_strings = {"\n"};
    if (const auto e = tok.token_to_id("<|im_end|>")) go.stop_ids.push_back(*e);
    // the stop string "\n" counts only once the answer has begun: leading whitespace is dropped
    const auto decode = [&](std::span<const std::int32_t> ids) {
        std::string t = tok.decode(ids, true);
        return t.erase(0, std::min(t.size(), t.find_first_not_of(" \t\r\n")));
    };
    const auto gen = g.generate(ex.ids, go, decode);
    answer_result r;
    const std::string text = decode(gen.tokens);
    r.line = text.substr(0, text.find_first_of("\r\n"));
    for (const auto k : ex.kept) r.shown.push_back(c.shown[k]);
    r.prediction = eval::predict_from_generation(text, r.shown);
    r.prompt_tokens = ex.prompt_tokens, r.generated_tokens = gen.tokens.size(), r.dropped = ex.dropped;
    return r;
}

}  // namespace hoprag::components
