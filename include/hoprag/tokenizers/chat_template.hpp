// Chat templates as plain functions (no Jinja engine): ChatML as SmolLM2's GGUF/tokenizer_config
// template writes it, and Mistral-Instruct's "[INST] ... [/INST]" form (v0.1 template). The
// returned text is then encoded with the model's tokenizer, whose added tokens ("<|im_start|>",
// "<s>", ...) match the markers; `user_turn_ids` does both for one user message.
#pragma once

#include <cstdint>
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

/// Mistral-Instruct: "<s>" then "[INST] {user} [/INST]" and "{assistant}</s>" alternately, starting
/// with a user message. Throws config_error when roles do not alternate user/assistant or a role
/// is neither.
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

/// The ids of `text` as one user turn in the chat template `tok` knows: ChatML (with the
/// assistant prompt) when its vocabulary has "<|im_start|>", else Mistral's [INST] form.
[[nodiscard]] inline std::vector<std::int32_t> user_turn_ids(const tokenizer& tok, std::string_view text) {
    const chat_message m{"user", std::string(text)};
    const bool chatml = tok.token_to_id("<|im_start|>").has_value();
    return tok.encode(chatml ? apply_chatml({&m, 1}, true) : apply_mistral({&m, 1}), false).ids;
}

}  // namespace hoprag::tokenizers
