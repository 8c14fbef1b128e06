// The BERT bi-encoder: a Hugging Face BERT folder (config.json, model.safetensors, tokenizer.json)
// turned into text embeddings on any backend. `encoder<Context, Pooling>` tokenises, sorts texts by
// length and cuts them into buckets padded only to their own longest text (at most `max_batch`
// texts and `max_tokens` padded tokens each), runs the forward of forward.hpp and returns the
// pooled, optionally L2-normalised vectors in input order. Queries may get an instruction prefix
// (BGE: "Represent this sentence for searching relevant passages: "); passages never do.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <numeric>
#include <span>
#include <string>
#include <vector>

#include "hoprag/core/error.hpp"
#include "hoprag/models/bert/config.hpp"
#include "hoprag/models/bert/forward.hpp"
#include "hoprag/models/bert/parameters.hpp"
#include "hoprag/models/bert/pooling.hpp"
#include "hoprag/tokenizers/tokenizer_json.hpp"

namespace hoprag::models::bert {

/// How the encoder batches and post-processes.
struct encoder_options {
    std::int64_t max_length = 256;  ///< tokens per text incl. [CLS]/[SEP] (longer texts are truncated)
    std::int64_t max_tokens = 8192; ///< padded tokens per batch (sizes the activations)
    std::int64_t max_batch = 128;   ///< texts per batch
    bool normalize = true;          ///< L2-normalise the pooled vectors (cosine = inner product)
    std::string query_prefix;       ///< prepended to queries only (empty: none)
    attention_path attention = attention_path::gemm;  ///< how self-attention runs (same result)
};

/// BGE's retrieval instruction for queries (bge-*-en-v1.5).
inline constexpr const char* bge_query_instruction = "Represent this sentence for searching relevant passages: ";

/// Called after each batch with (texts done, texts total).
using progress_fn = std::function<void(std::size_t, std::size_t)>;

template <class Context, pooling_policy Pooling>
class encoder {
public:
    using pooling = Pooling;

    /// Loads config, weights and tokenizer from `model_dir`; throws config_error / format_error /
    /// io_error naming the file on bad input.
    encoder(Context& ctx, const std::filesystem::path& model_dir, encoder_options options = {})
        : ctx_(&ctx), options_(std::move(options)), config_(load_config(model_dir)),
          tokenizer_(tokenizers::load_tokenizer_json(model_dir)),
          params_(load_parameters(ctx, config_, model_dir)) {
        if (options_.max_length < 2 || options_.max_length > config_.max_position_embeddings)
            throw config_error(model_dir.string() + ": max_length " + std::to_string(options_.max_length) +
                               " must be in [2, max_position_embeddings = " +
                               std::to_string(config_.max_position_embeddings) + "]");
        if (options_.max_tokens < options_.max_length || options_.max_batch < 1)
            throw config_error("bert encoder: max_tokens (" + std::to_string(options_.max_tokens) +
                               ") must be >= max_length (" + std::to_string(options_.max_length) +
                               ") and max_batch >= 1");
        acts_ = allocate_activations(ctx, config_, options_.max_tokens, options_.max_length);
        model_id_ = std::filesystem::absolute(model_dir).lexically_normal().filename().string();
        if (model_id_.empty()) model_id_ = std::filesystem::absolute(model_dir).parent_path().filename().string();
    }

    const config& model_config() const { return config_; }
    const encoder_options& options() const { return options_; }
    const tokenizers::tokenizer& text_tokenizer() const { return tokenizer_; }
    /// Embedding size (hidden_size).
    std::int64_t dimension() const { return config_.hidden_size; }
    /// Name of the model folder (recorded in index headers).
    const std::string& model_id() const { return model_id_; }
    static constexpr std::string_view pooling_name() { return Pooling::name; }
    bool normalized() const { return options_.normalize; }

    /// Token ids of a text as the encoder sees it (specials added, truncated to max_length).
    tokenizers::encoding tokenize(std::string_view text) const {
        return tokenizer_.encode(text, true, static_cast<std::size_t>(options_.max_length));
    }

    /// Embeddings [texts.size(), dimension()] of passages, row i for texts[i].
    std::vector<float> encode_passages(std::span<const std::string> texts, const progress_fn& progress = {}) {
        return encode_impl(texts, "", progress);
    }
    /// Embeddings of queries (with the query prefix, if any).
    std::vector<float> encode_queries(std::span<const std::string> texts, const progress_fn& progress = {}) {
        return encode_impl(texts, options_.query_prefix, progress);
    }

private:
    std::vector<float> encode_impl(std::span<const std::string> texts, const std::string& prefix,
                                   const progress_fn& progress) {
        const std::int64_t H = config_.hidden_size;
        const std::size_t n = texts.size();
        std::vector<tokenizers::encoding> enc(n);
        for (std::size_t i = 0; i < n; ++i) enc[i] = tokenize(prefix.empty() ? texts[i] : prefix + texts[i]);
        std::vector<std::size_t> order(n);
        std::iota(order.begin(), order.end(), std::size_t{0});
        std::stable_sort(order.begin(), order.end(),
                         [&](std::size_t x, std::size_t y) { return enc[x].ids.size() > enc[y].ids.size(); });
        std::vector<float> out(n * static_cast<std::size_t>(H));
        std::vector<std::int32_t> ids, types, valid;
        std::vector<float> pooled;
        for (std::size_t start = 0; start < n;) {
            // longest first: the first text of a bucket sets its padded length
            const auto seq = static_cast<std::int64_t>(std::max<std::size_t>(enc[order[start]].ids.size(), 1));
            const std::int64_t cap = std::min(options_.max_batch, options_.max_tokens / seq);
            const std::size_t batch = std::min<std::size_t>(n - start, static_cast<std::size_t>(cap));
            ids.assign(batch * static_cast<std::size_t>(seq), static_cast<std::int32_t>(config_.pad_token_id));
            types.assign(ids.size(), 0);
            valid.assign(batch, 0);
            for (std::size_t b = 0; b < batch; ++b) {
                const auto& e = enc[order[start + b]];
                std::copy(e.ids.begin(), e.ids.end(), ids.begin() + static_cast<std::ptrdiff_t>(b * seq));
                std::copy(e.type_ids.begin(), e.type_ids.end(), types.begin() + static_cast<std::ptrdiff_t>(b * seq));
                valid[b] = static_cast<std::int32_t>(e.ids.size());
            }
            forward(*ctx_, config_, params_, acts_, ids.data(), types.data(), valid.data(),
                    static_cast<std::int64_t>(batch), seq, Pooling::kind, options_.normalize, options_.attention);
            pooled.resize(batch * static_cast<std::size_t>(H));
            download(*ctx_, pooled.data(), acts_.pooled.data(), pooled.size() * sizeof(float));
            for (std::size_t b = 0; b < batch; ++b)
                std::copy_n(pooled.begin() + static_cast<std::ptrdiff_t>(b * H), H,
                            out.begin() + static_cast<std::ptrdiff_t>(order[start + b] * H));
            start += batch;
            if (progress) progress(start, n);
        }
        return out;
    }

    Context* ctx_;
    encoder_options options_;
    config config_;
    tokenizers::tokenizer tokenizer_;
    parameters<Context> params_;
    activations<Context> acts_;
    std::string model_id_;
};

}  // namespace hoprag::models::bert
