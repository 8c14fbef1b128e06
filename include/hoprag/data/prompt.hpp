// The generator's prompt and target, as token ids and labels. The prompt text is
//     [Question]
//     QUESTION
//     [Evidence]
//     [1] TITLE: PASSAGE
//     [2] TITLE: PASSAGE
//     [Instruction]
//     Answer concisely using the evidence. If unsure, say "insufficient context". Respond with: <answer> and cite indices like [1], [3].
//     <answer>
// (newlines inside a question or passage become spaces, so each passage is one line) and the
// target that follows "<answer>" is "ANSWER [i], [j]" (data/bundle.hpp's answer_target without its
// "<answer>" tag) citing the shown passages that hold a supporting fact -- "insufficient context"
// when none is shown (or all were dropped to fit) -- then one end token.
// With prompt_format::chat the prompt text is the user turn of the model family's chat template
// (tokenizers/chat_template.hpp: ChatML for SmolLM2, [INST] for Mistral, Llama-3 headers; read
// from the tokenizer unless prompt_options::family names it) and "<answer>" opens the assistant
// turn, tokenized as the start of the reply; the end token is the family's end of turn
// ("<|im_end|>", "</s>", "<|eot_id|>"). With prompt_format::plain the text is used as is.
// Labels follow the Hugging Face convention: labels[t] = ids[t] on target and end tokens, -100 on
// prompt tokens (a loss shifts them: position t - 1 predicts labels[t]).
// Fitting (`encode_example`): when prompt + target + end (or, for inference, prompt + the tokens
// reserved for generation) exceed `max_tokens`, passages are dropped one at a time, lowest score
// first (ties: the later shown first), non-gold before gold when `gold_first` (where gold is
// unknown, as at inference over retrieval, it is off); the kept passages keep their display order and are
// renumbered, and the target's citations follow the new numbers. The target is never truncated:
// when even the question without passages does not fit, config_error says so.
// `length_buckets` groups examples of similar length into batches (for padding-free batching).
#pragma once

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hoprag/core/error.hpp"
#include "hoprag/core/rng.hpp"
#include "hoprag/data/bundle.hpp"
#include "hoprag/data/passage.hpp"
#include "hoprag/tokenizers/chat_template.hpp"
#include "hoprag/tokenizers/tokenizer.hpp"

namespace hoprag::data {

/// The instruction line of the prompt, verbatim.
inline constexpr std::string_view answer_instruction =
    "Answer concisely using the evidence. If unsure, say \"insufficient context\". Respond with: <answer> and cite indices like [1], [3].";

/// Label value of tokens that carry no loss.
inline constexpr std::int32_t ignore_label = -100;

/// Whether the prompt is wrapped in the chat template.
enum class prompt_format { chat, plain };

/// Prompt construction and fitting.
struct prompt_options {
    prompt_format format = prompt_format::chat;
    std::optional<tokenizers::chat_family> family;  ///< chat template and end token; none: detect_chat_family(tok)
    std::size_t max_tokens = 1024;           ///< prompt + target + end token (training) or prompt + reserve (inference)
    std::size_t generation_reserve = 32;     ///< tokens kept free for generation when there is no target
    bool gold_first = true;                  ///< fitting drops every non-gold passage before any gold one
};

/// The prompt text (before any chat template) for `question` and `passages` in display order.
[[nodiscard]] inline std::string prompt_text(std::string_view question, std::span<const passage> passages) {
    auto line = [](std::string& out, std::string_view s) {
        for (const char c : s) out.push_back(c == '\n' || c == '\r' ? ' ' : c);
    };
    std::string t = "[Question]\n";
    line(t, question);
    t += "\n[Evidence]\n";
    for (std::size_t i = 0; i < passages.size(); ++i) {
        t += "[" + std::to_string(i + 1) + "] ";
        line(t, passages[i].title);
        t += ": ";
        line(t, passages[i].text);
        t += '\n';
    }
    t += "[Instruction]\n";
    t += answer_instruction;
    t += '\n';
    return t;
}

/// Sets `o`'s format from a flag value: "chat" or "auto" (the tokenizer's family), "chatml",
/// "mistral", "llama3" (that family's template), or "plain"; config_error otherwise.
inline void set_format(prompt_options& o, std::string_view name) {
    o.family.reset();
    o.format = name == "plain" ? prompt_format::plain : prompt_format::chat;
    if (name == "plain" || name == "chat" || name == "auto") return;
    try {
        o.family = tokenizers::parse_chat_family(name);
    } catch (const config_error&) {
        throw config_error("--format must be chat (auto), chatml, mistral, llama3 or plain, got \"" + std::string(name) + "\"");
    }
}

/// The chat family of `o` for tokenizer `tok`: o.family, else the tokenizer's.
[[nodiscard]] inline tokenizers::chat_family prompt_family(const tokenizers::tokenizer& tok, const prompt_options& o) {
    return o.family ? *o.family : tokenizers::detect_chat_family(tok);
}

/// The ids the model reads before the answer: prompt_text as one user turn of family `f` (chat)
/// or as plain text, then "<answer>" as the start of the reply.
[[nodiscard]] inline std::vector<std::int32_t> prompt_ids(const tokenizers::tokenizer& tok, std::string_view question,
                                                          std::span<const passage> passages, prompt_format format,
                                                          tokenizers::chat_family f) {
    std::string body = prompt_text(question, passages);
    if (format == prompt_format::plain) return tok.encode(body + "<answer>", false).ids;
    body.pop_back();  // the user turn ends at the instruction; the template adds its own line break
    auto ids = tokenizers::user_turn_ids(tok, f, body);
    const auto open = tok.encode("<answer>", false).ids;
    ids.insert(ids.end(), open.begin(), open.end());
    return ids;
}

/// The target text after "<answer>": the answer (newlines as spaces) and its citations, or
/// "insufficient context" without citations.
[[nodiscard]] inline std::string target_text(std::string_view answer, const std::vector<int>& citations) {
    std::string a;
    for (const char c : answer) a.push_back(c == '\n' || c == '\r' ? ' ' : c);
    return answer_target(a, citations).substr(8);  // drop "<answer>"
}

/// A fitted, tokenized example.
struct encoded_example {
    std::vector<std::int32_t> ids;     ///< [tokens]: prompt, then target and end token (training only)
    std::vector<std::int32_t> labels;  ///< [tokens]: ignore_label on the prompt, ids[t] on target and end
    std::size_t prompt_tokens = 0;     ///< ids[0, prompt_tokens) is the generation input
    std::vector<std::size_t> kept;     ///< passage number n shows input passage kept[n - 1]
    std::vector<int> citations;        ///< numbers cited by the target (gold passages kept), ascending
    std::string target;                ///< "ANSWER [i], [j]" (empty for inference)
    std::size_t dropped = 0;           ///< passages removed to fit
};

/// Encodes `question` with `passages` (display order) and, when `answer` is given, the target citing
/// the kept gold passages; fits to o.max_tokens by the rules in the file comment.
[[nodiscard]] inline encoded_example encode_example(const tokenizers::tokenizer& tok, std::string_view question,
                                                    std::span<const passage> passages,
                                                    std::optional<std::string_view> answer, const prompt_options& o = {}) {
    std::vector<std::size_t> kept(passages.size());
    std::iota(kept.begin(), kept.end(), std::size_t{0});
    // removal order: non-gold before gold (when gold_first), then lowest score first (ties: later display position first)
    std::vector<std::size_t> drop_order = kept;
    std::stable_sort(drop_order.begin(), drop_order.end(), [&](std::size_t a, std::size_t b) {
        if (o.gold_first && passages[a].gold != passages[b].gold) return !passages[a].gold;
        if (passages[a].score != passages[b].score) return passages[a].score < passages[b].score;
        return a > b;
    });
    const bool need_family = o.format == prompt_format::chat || answer;
    const auto family = need_family ? prompt_family(tok, o) : tokenizers::chat_family::chatml;
    const std::int32_t end_id = answer ? tokenizers::required_id(tok, tokenizers::end_of_turn(family), "encode_example: end token") : -1;
    encoded_example ex;
    for (std::size_t next = 0;; ++next) {
        std::vector<passage> shown;
        for (const auto i : kept) shown.push_back(passages[i]);
        std::vector<int> cites;
        for (std::size_t n = 0; n < kept.size(); ++n)
            if (passages[kept[n]].gold) cites.push_back(static_cast<int>(n + 1));
        const auto prompt = prompt_ids(tok, question, shown, o.format, family);
        std::vector<std::int32_t> target;
        std::string ttext;
        if (answer) {
            ttext = target_text(*answer, cites);
            target = tokenizers::continuation_ids(tok, "<answer>", ttext);
            target.push_back(end_id);
        }
        const std::size_t need = prompt.size() + (answer ? target.size() : o.generation_reserve);
        if (need <= o.max_tokens) {
            ex.ids.assign(prompt.begin(), prompt.end());
            ex.ids.insert(ex.ids.end(), target.begin(), target.end());
            ex.labels.assign(prompt.size(), ignore_label);
            ex.labels.insert(ex.labels.end(), target.begin(), target.end());
            ex.prompt_tokens = prompt.size();
            ex.kept = kept;
            ex.citations = std::move(cites);
            ex.target = std::move(ttext);
            ex.dropped = passages.size() - kept.size();
            return ex;
        }
        if (next >= drop_order.size())
            throw config_error("encode_example: the question alone needs " + std::to_string(need) + " tokens (prompt " +
                               std::to_string(prompt.size()) + "), more than max_tokens = " + std::to_string(o.max_tokens) +
                               "; raise max_tokens");
        kept.erase(std::find(kept.begin(), kept.end(), drop_order[next]));
    }
}

/// Batches of at most `batch` example indices with similar lengths: indices sorted by length
/// (stable), cut into consecutive groups, and the group order shuffled by Philox(seed).
[[nodiscard]] inline std::vector<std::vector<std::size_t>> length_buckets(std::span<const std::size_t> lengths, std::size_t batch,
                                                                          std::uint64_t seed) {
    if (batch == 0) throw config_error("length_buckets: batch must be at least 1");
    std::vector<std::size_t> order(lengths.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return lengths[a] < lengths[b]; });
    std::vector<std::vector<std::size_t>> out;
    for (std::size_t i = 0; i < order.size(); i += batch)
        out.emplace_back(order.begin() + std::ptrdiff_t(i), order.begin() + std::ptrdiff_t(std::min(order.size(), i + batch)));
    const philox_stream s{seed, 0xb0c7};
    for (std::size_t i = out.size(); i > 1; --i) {
        const auto j = std::min(i - 1, static_cast<std::size_t>(s.uniform(i) * float(i)));
        std::swap(out[i - 1], out[j]);
    }
    return out;
}

}  // namespace hoprag::data
