// Chat templates as plain functions (no Jinja engine), one per model family:
//   chatml   SmolLM2 / Qwen: "<|im_start|>{role}\n{content}<|im_end|>\n" (SmolLM2's default system
//            prompt first), generation prompt "<|im_start|>assistant\n"; end of turn "<|im_end|>".
//   mistral  Mistral-Instruct: <s> "[INST] {user} [/INST]" {assistant} </s>. With the v1 tokenizer
//            (Mistral-7B v0.1/v0.2) "[INST]" is text; with the v3 one (v0.3) [INST] and [/INST]
//            are control tokens and the user text sits between them without the spaces. End of
//            turn "</s>". Ids are built piece by piece, as mistral-common does, because
//            SentencePiece never matches "<s>" in text.
//   llama3   Llama-3-Instruct: "<|begin_of_text|>" then per message
//            "<|start_header_id|>{role}<|end_header_id|>\n\n{content}<|eot_id|>", generation
//            prompt "<|start_header_id|>assistant<|end_header_id|>\n\n"; end of turn "<|eot_id|>".
// The family is read from the tokenizer's vocabulary (`detect_chat_family`) or named by a flag
// (`parse_chat_family`). `user_turn_ids` gives the ids of one user message plus the opening of
// the assistant's reply; `continuation_ids` the ids of text that follows other text in the same
// turn (as the whole turn would be tokenized, so SentencePiece adds no second "▁").
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hoprag/core/error.hpp"
#include "hoprag/tokenizers/tokenizer.hpp"

namespace hoprag::tokenizers {

/// One chat turn: role is "system", "user" or "assistant".
struct chat_message {
    std::string role;
    std::string content;
};

/// The chat template families hoprag writes.
enum class chat_family { chatml, mistral, llama3 };

/// Each family's name (as flags spell it) and the token that ends an assistant turn, by enum value.
struct chat_family_info {
    std::string_view name, end_of_turn;
};
inline constexpr std::array<chat_family_info, 3> chat_families{{{"chatml", "<|im_end|>"}, {"mistral", "</s>"}, {"llama3", "<|eot_id|>"}}};

[[nodiscard]] inline std::string_view to_string(chat_family f) { return chat_families[static_cast<std::size_t>(f)].name; }

/// "chatml", "mistral" or "llama3"; config_error otherwise.
[[nodiscard]] inline chat_family parse_chat_family(std::string_view s) {
    for (std::size_t i = 0; i < chat_families.size(); ++i)
        if (s == chat_families[i].name) return static_cast<chat_family>(i);
    throw config_error("unknown chat template \"" + std::string(s) + "\" (expected chatml, mistral or llama3)");
}

/// The family whose markers `tok` holds: "<|im_start|>" -> chatml, "<|start_header_id|>" ->
/// llama3, "[INST]" or "<s>" with "</s>" -> mistral; none when none is there.
[[nodiscard]] inline std::optional<chat_family> find_chat_family(const tokenizer& tok) {
    if (tok.token_to_id("<|im_start|>")) return chat_family::chatml;
    if (tok.token_to_id("<|start_header_id|>")) return chat_family::llama3;
    if (tok.token_to_id("[INST]") || (tok.token_to_id("<s>") && tok.token_to_id("</s>"))) return chat_family::mistral;
    return std::nullopt;
}

/// find_chat_family, or config_error when the tokenizer has no family's markers.
[[nodiscard]] inline chat_family detect_chat_family(const tokenizer& tok) {
    if (const auto f = find_chat_family(tok)) return *f;
    throw config_error("cannot tell the chat template from the tokenizer (no <|im_start|>, <|start_header_id|>, [INST] or <s>/</s>); "
                       "name it: chatml, mistral or llama3");
}

/// The token that ends an assistant turn in family `f`.
[[nodiscard]] inline std::string_view end_of_turn(chat_family f) { return chat_families[static_cast<std::size_t>(f)].end_of_turn; }

/// The id of `token` in `tok`; config_error naming what it is for when absent.
[[nodiscard]] inline std::int32_t required_id(const tokenizer& tok, std::string_view token, std::string_view what) {
    const auto id = tok.token_to_id(token);
    if (!id) throw config_error(std::string(what) + ": \"" + std::string(token) + "\" is not in the tokenizer's vocabulary");
    return static_cast<std::int32_t>(*id);
}

/// SmolLM2's default system prompt, inserted by its template when the first message is not "system".
inline constexpr std::string_view smollm2_default_system = "You are a helpful AI assistant named SmolLM, trained by Hugging Face";

/// ChatML: "<|im_start|>{role}\n{content}<|im_end|>\n" per message, preceded by a system message
/// with `default_system` when the first message is not a system message (empty: none added), and
/// followed by "<|im_start|>assistant\n" when add_generation_prompt.
inline std::string apply_chatml(std::span<const chat_message> messages, bool add_generation_prompt,
                                std::string_view default_system = smollm2_default_system) {
    std::string out;
    if (!messages.empty() && messages.front().role != "system" && !default_system.empty())
        ((out += "<|im_start|>system\n") += default_system) += "<|im_end|>\n";
    for (const auto& m : messages) ((((out += "<|im_start|>") += m.role) += '\n') += m.content) += "<|im_end|>\n";
    if (add_generation_prompt) out += "<|im_start|>assistant\n";
    return out;
}

/// Llama-3: "<|begin_of_text|>", each message between header markers and ending in "<|eot_id|>",
/// then the assistant header when add_generation_prompt.
inline std::string apply_llama3(std::span<const chat_message> messages, bool add_generation_prompt) {
    std::string out = "<|begin_of_text|>";
    const auto header = [&](std::string_view role) { ((out += "<|start_header_id|>") += role) += "<|end_header_id|>\n\n"; };
    for (const auto& m : messages) {
        header(m.role);
        (out += m.content) += "<|eot_id|>";
    }
    if (add_generation_prompt) header("assistant");
    return out;
}

/// Mistral-Instruct as text: "<s>" then "[INST] {user} [/INST]" and "{assistant}</s>" alternately,
/// starting with a user message (for tokenizers that match "<s>" in text, as tokenizer.json
/// files do). Throws config_error when roles do not alternate user/assistant or a role is neither.
inline std::string apply_mistral(std::span<const chat_message> messages, std::string_view bos = "<s>",
                                 std::string_view eos = "</s>") {
    std::string out(bos);
    for (std::size_t i = 0; i < messages.size(); ++i) {
        const auto& m = messages[i];
        if (m.role != "user" && m.role != "assistant")
            throw config_error("Mistral chat template: message " + std::to_string(i) + " has role \"" + m.role +
                               "\" (expected \"user\" or \"assistant\")");
        if ((m.role == "user") != (i % 2 == 0))
            throw config_error("Mistral chat template: message " + std::to_string(i) + " has role \"" + m.role +
                               "\" but roles must alternate user/assistant starting with user");
        if (m.role == "user") ((out += "[INST] ") += m.content) += " [/INST]";
        else (out += m.content) += eos;
    }
    return out;
}

/// The ids of `text` as one user turn in family `f`'s template, followed by the opening of the
/// assistant's reply (ChatML and Llama-3: its header; Mistral: nothing, the reply follows [/INST]).
[[nodiscard]] inline std::vector<std::int32_t> user_turn_ids(const tokenizer& tok, chat_family f, std::string_view text) {
    const chat_message m{"user", std::string(text)};
    switch (f) {
    case chat_family::chatml: return tok.encode(apply_chatml({&m, 1}, true), false).ids;
    case chat_family::llama3: return tok.encode(apply_llama3({&m, 1}, true), false).ids;
    case chat_family::mistral: break;
    }
    std::vector<std::int32_t> ids{required_id(tok, "<s>", "Mistral chat template")};
    const auto append = [&](std::string_view s) {
        const auto e = tok.encode(s, false).ids;
        ids.insert(ids.end(), e.begin(), e.end());
    };
    if (const auto inst = tok.token_to_id("[INST]")) {  // v3 tokenizer: control tokens around the text
        ids.push_back(static_cast<std::int32_t>(*inst));
        append(text);
        ids.push_back(required_id(tok, "[/INST]", "Mistral chat template"));
    } else {
        append("[INST] " + std::string(text) + " [/INST]");
    }
    return ids;
}

/// The ids that `text` adds after `before` when both are tokenized as one string (no special
/// tokens): the tail of encode(before + text) past encode(before), or encode(text) alone where
/// the tokens straddle the boundary.
[[nodiscard]] inline std::vector<std::int32_t> continuation_ids(const tokenizer& tok, std::string_view before, std::string_view text) {
    const auto head = tok.encode(before, false).ids;
    auto whole = tok.encode(std::string(before) + std::string(text), false).ids;
    if (whole.size() >= head.size() && std::equal(head.begin(), head.end(), whole.begin())) {
        whole.erase(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(head.size()));
        return whole;
    }
    return tok.encode(text, false).ids;
}

}  // namespace hoprag::tokenizers
