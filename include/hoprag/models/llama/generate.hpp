// Text generation with a Llama-family decoder: one batched prefill of the prompt into a KV cache,
// then one-token decode steps until `max_new_tokens`, a stop token (EOS by default) or a stop
// string appears in the decoded continuation. Token choice is greedy or sampled (sampling.hpp).
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "hoprag/models/llama/forward.hpp"
#include "hoprag/models/llama/sampling.hpp"

namespace hoprag::models::llama {

struct generate_options {
    std::int64_t max_new_tokens = 64;
    sampling_options sampling;
    std::vector<std::int32_t> stop_ids;   // tokens that end generation (not emitted)
    bool stop_at_eos = true;              // also stop at the config's EOS token, when known
    std::vector<std::string> stop_strings;  // checked on decode(generated ids) after each token
};

struct generation {
    std::vector<std::int32_t> tokens;  // generated ids (a stop token is not included)
    std::string stop_reason;           // "max_tokens", "stop_token" or "stop_string"
};

/// Generates a continuation of `prompt` (non-empty). `decode` maps generated ids to text; it is
/// needed only when stop strings are given. With a stop string the returned tokens end with the
/// token that completed it.
/// `lin` computes the block linears (see forward()).
template <class Context, class Linears = dense_linears>
generation generate(Context& ctx, const weights<Context>& m, std::span<const std::int32_t> prompt, const generate_options& o,
                    const std::function<std::string(std::span<const std::int32_t>)>& decode = {}, const Linears& lin = {}) {
    o.sampling.validate();
    if (prompt.empty()) throw shape_error("generate: the prompt is empty");
    if (o.max_new_tokens < 0) throw config_error("generate: max_new_tokens must be >= 0");
    if (!o.stop_strings.empty() && !decode) throw config_error("generate: stop strings need a decode function");
    std::vector<std::int32_t> stop = o.stop_ids;
    if (o.stop_at_eos && m.cfg.eos_token_id >= 0) stop.push_back(static_cast<std::int32_t>(m.cfg.eos_token_id));
    generation g;
    g.stop_reason = "max_tokens";
    if (o.max_new_tokens == 0) return g;
    const auto len = static_cast<std::int64_t>(prompt.size());
    kv_cache<Context> cache(ctx, m.cfg, 1, len + o.max_new_tokens);
    std::vector<float> logits = forward(ctx, m, &cache, prompt, 1, len, {}, lin);
    for (std::int64_t step = 0; step < o.max_new_tokens; ++step) {
        const std::int32_t t = sample_token(logits, o.sampling, static_cast<std::uint64_t>(step));
        if (std::find(stop.begin(), stop.end(), t) != stop.end()) {
            g.stop_reason = "stop_token";
            break;
        }
        g.tokens.push_back(t);
        if (!o.stop_strings.empty()) {
            const std::string text = decode(g.tokens);
            bool hit = false;
            for (const auto& s : o.stop_strings) hit = hit || (!s.empty() && text.find(s) != std::string::npos);
            if (hit) {
                g.stop_reason = "stop_string";
                break;
            }
        }
        if (step + 1 == o.max_new_tokens) break;
        logits = forward(ctx, m, &cache, std::span<const std::int32_t>(&t, 1), 1, 1, {}, lin);
    }
    return g;
}

/// `text` cut before the first of `stops` it contains (whole when none).
[[nodiscard]] inline std::string text_before_stop(std::string text, const std::vector<std::string>& stops) {
    std::size_t at = std::string::npos;
    for (const auto& s : stops) at = std::min(at, text.find(s));
    if (at != std::string::npos) text.resize(at);
    return text;
}

}  // namespace hoprag::models::llama
