// Answering one question with a generator: the prompt of data/prompt.hpp (fitted to the token
// budget, keeping generation room), greedy generation that stops at a line break once the answer
// has begun, at the chat family's end of turn ("<|im_end|>", "</s>", "<|eot_id|>") or at EOS,
// and eval/answer_prediction.hpp's rules that turn the answer line into answer text, cited
// passages and supporting sentences. Shared by hoprag-answer and the generator trainer's
// evaluation. `own_paragraph_contexts` gives a HotpotQA question's own
// context paragraphs (gold forced in, plus distractors) in file order;
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
#include "hoprag/data/paragraph_passages.hpp"
#include "hoprag/data/passage.hpp"
#include "hoprag/data/prompt.hpp"
#include "hoprag/eval/answer_prediction.hpp"
#include "hoprag/models/llama/generate.hpp"
#include "hoprag/tokenizers/tokenizer.hpp"

namespace hoprag::components {

/// A question's passages in display order (gold marks the passages holding a supporting fact,
/// for the metrics), and whether the prompt fitter may use gold: true only where the gold
/// passages were forced in on purpose (own paragraphs); ranked lists are fitted by score alone.
struct question_contexts {
    std::vector<data::passage> passages;
    bool gold_first = false;
};

/// The context paragraphs of `r` in file order, gold marked and told to the fitter.
[[nodiscard]] inline question_contexts own_paragraph_contexts(const data::hotpot_record& r) {
    question_contexts c{{}, true};
    for (const auto& p : r.context) c.passages.push_back(data::paragraph_as_passage(p));
    data::mark_gold(c.passages, r);
    return c;
}

/// Ranked passages of `r`, best first, gold marked for the metrics only. A passage whose sentence
/// span is unknown (read from a ranked-passage file) gets all the sentences of its paragraph
/// (for predicted supporting facts): `sentences` gives each title's count (none when unknown).
[[nodiscard]] inline question_contexts ranked_contexts(const data::hotpot_record& r, std::vector<data::passage> ranked,
                                                       const std::unordered_map<std::string, std::int64_t>& sentences) {
    for (auto& p : ranked) {
        if (p.last_sent >= p.first_sent) continue;
        const auto it = sentences.find(p.title);
        p.first_sent = 0, p.last_sent = (it == sentences.end() ? 0 : it->second) - 1;
    }
    data::mark_gold(ranked, r);
    return {std::move(ranked), false};
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
    std::vector<data::passage> shown;         ///< the passages shown, by number - 1
    std::size_t prompt_tokens = 0, generated_tokens = 0, dropped = 0;
};

/// Answers `question` over contexts `c` with generator `g` (anything with generate(ids, options,
/// decode)) and its tokenizer `tok`.
template <class Generator>
[[nodiscard]] answer_result answer_question(const Generator& g, const tokenizers::tokenizer& tok, std::string_view question,
                                            const question_contexts& c, const answer_options& o) {
    data::prompt_options po = o.prompt;
    po.generation_reserve = static_cast<std::size_t>(std::max<std::int64_t>(0, o.max_new_tokens));
    po.gold_first = c.gold_first;
    const auto ex = data::encode_example(tok, question, c.passages, std::nullopt, po);
    models::llama::generate_options go;
    go.max_new_tokens = o.max_new_tokens;
    go.stop_strings = {"\n"};
    if (const auto f = po.family ? po.family : tokenizers::find_chat_family(tok))  // plain prompts too: training ended them so
        if (const auto e = tok.token_to_id(tokenizers::end_of_turn(*f))) go.stop_ids.push_back(*e);
    // the stop string "\n" counts only once the answer has begun: leading whitespace is dropped
    const auto decode = [&](std::span<const std::int32_t> ids) {
        std::string t = tok.decode(ids, true);
        return t.erase(0, std::min(t.size(), t.find_first_not_of(" \t\r\n")));
    };
    const auto gen = g.generate(ex.ids, go, decode);
    answer_result r;
    const std::string text = decode(gen.tokens);
    r.line = text.substr(0, text.find_first_of("\r\n"));
    for (const auto k : ex.kept) r.shown.push_back(c.passages[k]);
    r.prediction = eval::predict_from_generation(text, r.shown);
    r.prompt_tokens = ex.prompt_tokens, r.generated_tokens = gen.tokens.size(), r.dropped = ex.dropped;
    return r;
}

}  // namespace hoprag::components
