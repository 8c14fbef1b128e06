// The BERT cross-encoder (reranker model): a question and a passage go in as one pair
// "[CLS] question [SEP] title: passage [SEP]" (token types 0 then 1, the longer side truncated
// first to max_length, as Hugging Face's longest_first), the [CLS] state goes through the pooler
// (dense + tanh) and a 1-logit head. Weights: any Hugging Face BertForSequenceClassification folder
// with one label loads directly ("bert." prefixes, pooler.dense.*, classifier.*); a plain BertModel
// folder (all-MiniLM-L6-v2) gives the body and pooler, the head starts fresh (normal(0, 0.02)
// weights, zero bias; a pooler missing from the file likewise). `save` writes such a folder back
// (config.json with one label, tokenizer files copied, model.safetensors), so peers load it too.
// Training: `forward_logits` runs the planned training forward (backward.hpp) and keeps what
// `backward` needs; the head runs on the host (it is [batch, H] small), the body on the backend.
// Inference (`score`) runs the golden-tested forward of forward.hpp with CLS pooling.
#pragma once

#include <boost/pfr.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <numeric>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "hoprag/core/error.hpp"
#include "hoprag/core/rng.hpp"
#include "hoprag/io/durable_file.hpp"
#include "hoprag/io/json_fields.hpp"
#include "hoprag/io/safetensors.hpp"
#include "hoprag/io/safetensors_index.hpp"
#include "hoprag/models/bert/backward.hpp"
#include "hoprag/models/bert/config.hpp"
#include "hoprag/models/bert/forward.hpp"
#include "hoprag/models/bert/parameters.hpp"
#include "hoprag/tokenizers/tokenizer_json.hpp"

namespace hoprag::models::bert {

/// Pooler, 1-logit classifier and the score-fusion weight.
template <class Context>
struct head_parameters {
    buffer<Context, float> pool_w;            // [H, H] ([out, in])
    buffer<Context, float> pool_b;            // [H]
    buffer<Context, float> cls_w;             // [1, H]
    buffer<Context, float> cls_b;             // [1]
    buffer<Context, float> retriever_weight;  // [1] w of score fusion (logit + w * retriever score); 0: no fusion
};

/// Tensor names of head_parameters' fields: Hugging Face's (BertForSequenceClassification), then
/// hoprag's "retriever_weight" (an extra key peers ignore; absent from a file: 0).
inline constexpr std::array<std::string_view, 5> hf_head_names{"bert.pooler.dense.weight", "bert.pooler.dense.bias",
                                                               "classifier.weight", "classifier.bias", "retriever_weight"};
static_assert(boost::pfr::tuple_size_v<head_parameters<int>> == hf_head_names.size(),
              "every head_parameters field needs its Hugging Face name in hf_head_names");

/// Every trainable tensor of a cross-encoder.
template <class Context>
struct cross_encoder_parameters {
    parameters<Context> body;
    head_parameters<Context> head;
};

/// Calls f(hf_name, buffer&) for every tensor of `p` in a fixed order (the checkpoint order).
template <class Context, class F>
void for_each_tensor(cross_encoder_parameters<Context>& p, F&& f) {
    boost::pfr::for_each_field(p.body.embeddings, [&](auto& b, std::size_t i) { f("bert." + std::string(hf_embedding_names[i]), b); });
    for (std::size_t l = 0; l < p.body.layers.size(); ++l)
        boost::pfr::for_each_field(p.body.layers[l], [&](auto& b, std::size_t i) {
            f("bert.encoder.layer." + std::to_string(l) + "." + std::string(hf_layer_names[i]), b);
        });
    boost::pfr::for_each_field(p.head, [&](auto& b, std::size_t i) { f(std::string(hf_head_names[i]), b); });
}

/// Shapes of head_parameters' fields for hidden size H.
inline std::array<std::vector<std::int64_t>, 5> head_shapes(std::int64_t H) { return {{{H, H}, {H}, {1, H}, {1}, {1}}}; }

/// Shapes of the tensors of for_each_tensor, same order, with their names.
inline std::vector<std::pair<std::string, std::vector<std::int64_t>>> cross_encoder_shapes(const config& c) {
    std::vector<std::pair<std::string, std::vector<std::int64_t>>> out;
    const auto es = embedding_shapes(c);
    for (std::size_t i = 0; i < es.size(); ++i) out.emplace_back("bert." + std::string(hf_embedding_names[i]), es[i]);
    const auto ls = layer_shapes(c);
    for (std::int64_t l = 0; l < c.num_layers; ++l)
        for (std::size_t i = 0; i < ls.size(); ++i)
            out.emplace_back("bert.encoder.layer." + std::to_string(l) + "." + std::string(hf_layer_names[i]), ls[i]);
    const std::int64_t H = c.hidden_size;
    const auto hs = head_shapes(H);
    for (std::size_t i = 0; i < hs.size(); ++i) out.emplace_back(std::string(hf_head_names[i]), hs[i]);
    return out;
}

/// Zero-filled parameters of config `c` (gradients, optimiser moments).
template <class Context>
cross_encoder_parameters<Context> zero_cross_encoder_parameters(Context& ctx, const config& c) {
    cross_encoder_parameters<Context> p;
    p.body = zero_parameters(ctx, c);
    const auto H = static_cast<std::size_t>(c.hidden_size);
    p.head.pool_w = buffer<Context, float>(ctx, std::vector<float>(H * H, 0.0f));
    p.head.pool_b = buffer<Context, float>(ctx, std::vector<float>(H, 0.0f));
    p.head.cls_w = buffer<Context, float>(ctx, std::vector<float>(H, 0.0f));
    p.head.cls_b = buffer<Context, float>(ctx, std::vector<float>(1, 0.0f));
    p.head.retriever_weight = buffer<Context, float>(ctx, std::vector<float>(1, 0.0f));
    return p;
}

/// Sets every tensor of `p` to zero.
template <class Context>
void zero(Context& ctx, cross_encoder_parameters<Context>& p) {
    for_each_tensor(p, [&](const std::string&, auto& b) { zero_fill(ctx, b.data(), static_cast<std::int64_t>(b.size())); });
}

/// Loads body, pooler and head from `checkpoint` (file or folder); pooler/classifier tensors the
/// file lacks start fresh from `seed` (weights normal(0, 0.02), biases 0; a missing retriever_weight is
/// 0 and does not make the head fresh). A classifier with more
/// than one label is refused (config_error: the reranker scores with one logit).
template <class Context>
cross_encoder_parameters<Context> load_cross_encoder_parameters(Context& ctx, const config& c,
                                                                const std::filesystem::path& checkpoint,
                                                                std::uint64_t seed, bool* head_fresh = nullptr) {
    cross_encoder_parameters<Context> p;
    p.body = load_parameters(ctx, c, checkpoint);
    const io::safetensors_checkpoint ckpt(checkpoint);
    const std::int64_t H = c.hidden_size;
    const auto hs = head_shapes(H);
    const philox_stream init{seed, 77};
    bool fresh = false;
    boost::pfr::for_each_field(p.head, [&](auto& b, std::size_t i) {
        const std::string name(hf_head_names[i]);
        const io::safetensors_tensor* t = ckpt.find(name);
        if (!t && name.rfind("bert.", 0) == 0) t = ckpt.find(name.substr(5));
        std::size_t numel = 1;
        for (auto d : hs[i]) numel *= static_cast<std::size_t>(d);
        if (!t) {
            fresh = fresh || name != "retriever_weight";  // a file without w: no fusion, the head is not fresh for that
            std::vector<float> v(numel, 0.0f);
            if (hs[i].size() == 2)
                for (std::size_t k = 0; k < numel; ++k) v[k] = 0.02f * init.normal(k + (i << 40));
            b = buffer<Context, float>(ctx, v);
            return;
        }
        std::vector<std::int64_t> got;
        for (int d = 0; d < t->dims.rank; ++d) got.push_back(t->dims[d]);
        if (got != hs[i])
            throw config_error(checkpoint.string() + ": tensor '" + name + "' has shape " + detail::shape_string(got) +
                               ", expected " + detail::shape_string(hs[i]) +
                               " (a cross-encoder with one output label and hidden size " + std::to_string(H) + ")");
        b = buffer<Context, float>(ctx, t->to_f32());
    });
    if (head_fresh) *head_fresh = fresh;
    return p;
}

/// Options of a cross-encoder.
struct cross_encoder_options {
    std::int64_t max_length = 256;    ///< tokens per pair incl. [CLS] and two [SEP]
    std::int64_t max_batch = 32;      ///< pairs per forward (training micro-batch / inference batch)
    bool checkpointing = false;       ///< training: keep layer inputs only, recompute in backward
    bool train = true;                ///< allocate training buffers (false: inference only)
    std::uint64_t seed = 0;           ///< fresh head initialisation
    dtype compute = dtype::f32;       ///< GEMM inputs of the encoder's linears (f32 / bf16 / f16, f32 accumulation)
};

template <class Context>
class cross_encoder {
public:
    /// Loads config, tokenizer and weights from `model_dir`; throws config_error / format_error /
    /// io_error naming the file on bad input.
    cross_encoder(Context& ctx, const std::filesystem::path& model_dir, cross_encoder_options options = {})
        : ctx_(&ctx), options_(options), config_(load_config(model_dir)),
          tokenizer_(tokenizers::load_tokenizer_json(model_dir)),
          params_(load_cross_encoder_parameters(ctx, config_, model_dir, options.seed, &head_fresh_)) {
        if (options_.max_length < 4 || options_.max_length > config_.max_position_embeddings)
            throw config_error(model_dir.string() + ": max_length " + std::to_string(options_.max_length) +
                               " must be in [4, max_position_embeddings = " + std::to_string(config_.max_position_embeddings) + "]");
        if (options_.max_batch < 1) throw config_error("cross_encoder: max_batch must be >= 1");
        const std::int64_t T = options_.max_batch * options_.max_length;
        check_compute_type(options_.compute, "cross_encoder");
        acts_ = allocate_activations(ctx, config_, T, options_.max_length);
        acts_.compute = options_.compute;
        if (options_.train) {
            train_ = allocate_train_activations(ctx, config_, T, options_.max_length, options_.checkpointing);
            train_.compute = options_.compute;
            grads_ = zero_cross_encoder_parameters(ctx, config_);
        }
        source_ = model_dir;
    }

    const config& model_config() const { return config_; }
    const cross_encoder_options& options() const { return options_; }
    const tokenizers::tokenizer& text_tokenizer() const { return tokenizer_; }
    /// True when the pooler or classifier was not in the weights file (freshly initialised).
    bool head_fresh() const { return head_fresh_; }
    cross_encoder_parameters<Context>& params() { return params_; }
    cross_encoder_parameters<Context>& grads() { return grads_; }

    /// The pair input "[CLS] question [SEP] passage [SEP]" truncated to max_length.
    tokenizers::encoding encode(std::string_view question, std::string_view passage) const {
        return tokenizer_.encode_pair(question, passage, static_cast<std::size_t>(options_.max_length));
    }
    /// The passage side text of a titled passage: "title: passage".
    static std::string passage_text(std::string_view title, std::string_view chunk) {
        return std::string(title) + ": " + std::string(chunk);
    }

    /// Logits of `pairs` (any count; batches of max_batch, longest first) by the inference forward.
    std::vector<float> score(std::span<const tokenizers::encoding> pairs) {
        std::vector<std::size_t> order(pairs.size());
        std::iota(order.begin(), order.end(), std::size_t{0});
        std::stable_sort(order.begin(), order.end(), [&](auto x, auto y) { return pairs[x].ids.size() > pairs[y].ids.size(); });
        std::vector<float> out(pairs.size());
        std::vector<const tokenizers::encoding*> batch;
        for (std::size_t s = 0; s < order.size(); s += static_cast<std::size_t>(options_.max_batch)) {
            batch.clear();
            for (std::size_t i = s; i < std::min(order.size(), s + static_cast<std::size_t>(options_.max_batch)); ++i)
                batch.push_back(&pairs[order[i]]);
            const auto seq = pad(batch);
            const auto B = static_cast<std::int64_t>(batch.size());
            forward(*ctx_, config_, params_.body, acts_, ids_.data(), types_.data(), valid_.data(), B, seq,
                    kernels::pooling_kind::cls, false);
            cls_.resize(static_cast<std::size_t>(B * config_.hidden_size));
            download(*ctx_, cls_.data(), acts_.pooled.data(), cls_.size() * sizeof(float));
            const auto logits = head_forward(B);
            for (std::size_t i = 0; i < batch.size(); ++i) out[order[s + i]] = logits[i];
        }
        return out;
    }

    /// Training forward of at most max_batch pairs: returns their logits and keeps the
    /// activations for `backward`.
    std::vector<float> forward_logits(std::span<const tokenizers::encoding> pairs) {
        if (!options_.train) throw config_error("cross_encoder: forward_logits needs options.train = true");
        if (pairs.empty() || static_cast<std::int64_t>(pairs.size()) > options_.max_batch)
            throw shape_error("cross_encoder: forward_logits takes 1 to max_batch = " + std::to_string(options_.max_batch) +
                              " pairs, got " + std::to_string(pairs.size()));
        std::vector<const tokenizers::encoding*> batch;
        for (const auto& p : pairs) batch.push_back(&p);
        const auto seq = pad(batch);
        const auto B = static_cast<std::int64_t>(batch.size());
        forward_train(*ctx_, config_, params_.body, train_, ids_.data(), types_.data(), valid_.data(), B, seq);
        const std::int64_t H = config_.hidden_size;
        const auto out = train_.out.to_host();  // TODO(perf): download only the CLS rows
        cls_.resize(static_cast<std::size_t>(B * H));
        for (std::int64_t b = 0; b < B; ++b)
            std::copy_n(out.begin() + b * seq * H, H, cls_.begin() + b * H);
        return head_forward(B);
    }

    /// Backward of the last forward_logits with dlogits [pairs] = d loss / d logit; accumulates
    /// into grads().
    void backward(std::span<const float> dlogits) {
        const std::int64_t B = train_.batch, seq = train_.seq, H = config_.hidden_size;
        if (static_cast<std::int64_t>(dlogits.size()) != B)
            throw shape_error("cross_encoder: backward got " + std::to_string(dlogits.size()) + " logit gradients for a batch of " +
                              std::to_string(B));
        const auto pw = params_.head.pool_w.to_host(), cw = params_.head.cls_w.to_host();
        auto gpw = grads_.head.pool_w.to_host(), gpb = grads_.head.pool_b.to_host(), gcw = grads_.head.cls_w.to_host(),
             gcb = grads_.head.cls_b.to_host();
        std::vector<float> dout(static_cast<std::size_t>(B * seq * H), 0.0f), dz(static_cast<std::size_t>(H));
        for (std::int64_t b = 0; b < B; ++b) {
            const float dl = dlogits[static_cast<std::size_t>(b)];
            const float* pooled = pooled_.data() + b * H;
            const float* x = cls_.data() + b * H;
            gcb[0] += dl;
            for (std::int64_t j = 0; j < H; ++j) {
                gcw[j] += dl * pooled[j];
                dz[j] = dl * cw[j] * (1.0f - pooled[j] * pooled[j]);
                gpb[j] += dz[j];
            }
            float* dx = dout.data() + b * seq * H;  // gradient reaches the [CLS] row only
            for (std::int64_t o = 0; o < H; ++o) {
                const float d = dz[o];
                if (d == 0.0f) continue;
                float* grow = gpw.data() + o * H;
                const float* wrow = pw.data() + o * H;
                for (std::int64_t i = 0; i < H; ++i) grow[i] += d * x[i], dx[i] += d * wrow[i];
            }
        }
        grads_.head.pool_w.assign(gpw), grads_.head.pool_b.assign(gpb), grads_.head.cls_w.assign(gcw), grads_.head.cls_b.assign(gcb);
        upload(*ctx_, train_.dh.data(), dout.data(), dout.size() * sizeof(float));
        bert::backward(*ctx_, config_, params_.body, train_, grads_.body, train_.dh.data());
    }

    /// Writes a Hugging Face BertForSequenceClassification folder (1 label) to `dir`: config.json,
    /// the tokenizer files of the source folder and model.safetensors (each written durably).
    void save(const std::filesystem::path& dir) {
        namespace fs = std::filesystem;
        fs::create_directories(dir);
        auto cfg = io::read_json_file(source_ / "config.json");
        cfg["architectures"] = nlohmann::json::array({"BertForSequenceClassification"});
        cfg["id2label"] = {{"0", "LABEL_0"}};
        cfg["label2id"] = {{"LABEL_0", 0}};
        io::write_file_durably(dir / "config.json", cfg.dump(2) + "\n");
        for (const char* f : {"tokenizer.json", "vocab.txt", "tokenizer_config.json", "special_tokens_map.json"})
            if (fs::exists(source_ / f) && !fs::equivalent(source_, dir)) {
                const std::string text = read_all(source_ / f);
                io::write_file_durably(dir / f, text);
            }
        std::vector<std::vector<float>> host;
        std::vector<io::safetensors_entry> entries;
        const auto shapes = cross_encoder_shapes(config_);
        for_each_tensor(params_, [&](const std::string&, auto& b) { host.push_back(b.to_host()); });
        for (std::size_t i = 0; i < host.size(); ++i) {
            shape s;
            s.rank = static_cast<int>(shapes[i].second.size());
            for (int d = 0; d < s.rank; ++d) s.dims[static_cast<std::size_t>(d)] = shapes[i].second[static_cast<std::size_t>(d)];
            entries.push_back({shapes[i].first, io::st_dtype::f32, s, std::as_bytes(std::span<const float>(host[i]))});
        }
        io::write_safetensors(dir / "model.safetensors", entries, {{"format", "pt"}});
    }

private:
    static std::string read_all(const std::filesystem::path& p) {
        std::ifstream in(p, std::ios::binary);
        if (!in) throw io_error("cannot read " + p.string());
        return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    }

    /// Fills ids_/types_/valid_ for `batch` padded to its longest pair; returns that length.
    std::int64_t pad(const std::vector<const tokenizers::encoding*>& batch) {
        std::size_t seq = 1;
        for (const auto* e : batch) seq = std::max(seq, e->ids.size());
        if (static_cast<std::int64_t>(seq) > options_.max_length)
            throw shape_error("cross_encoder: a pair of " + std::to_string(seq) + " tokens exceeds max_length " +
                              std::to_string(options_.max_length) + "; encode pairs with cross_encoder::encode");
        ids_.assign(batch.size() * seq, static_cast<std::int32_t>(config_.pad_token_id));
        types_.assign(ids_.size(), 0);
        valid_.assign(batch.size(), 0);
        for (std::size_t b = 0; b < batch.size(); ++b) {
            std::copy(batch[b]->ids.begin(), batch[b]->ids.end(), ids_.begin() + static_cast<std::ptrdiff_t>(b * seq));
            std::copy(batch[b]->type_ids.begin(), batch[b]->type_ids.end(), types_.begin() + static_cast<std::ptrdiff_t>(b * seq));
            valid_[b] = static_cast<std::int32_t>(batch[b]->ids.size());
        }
        return static_cast<std::int64_t>(seq);
    }

    /// logit[b] = cls_w · tanh(pool_w cls_[b] + pool_b) + cls_b on the host; keeps pooled_.
    std::vector<float> head_forward(std::int64_t B) {
        const std::int64_t H = config_.hidden_size;
        const auto pw = params_.head.pool_w.to_host(), pb = params_.head.pool_b.to_host(), cw = params_.head.cls_w.to_host(),
                   cb = params_.head.cls_b.to_host();
        pooled_.assign(static_cast<std::size_t>(B * H), 0.0f);
        std::vector<float> logits(static_cast<std::size_t>(B));
        for (std::int64_t b = 0; b < B; ++b) {
            const float* x = cls_.data() + b * H;
            float* y = pooled_.data() + b * H;
            double logit = cb[0];
            for (std::int64_t o = 0; o < H; ++o) {
                const float* w = pw.data() + o * H;
                float acc = 0.0f;
                for (std::int64_t i = 0; i < H; ++i) acc += w[i] * x[i];
                y[o] = std::tanh(acc + pb[static_cast<std::size_t>(o)]);
                logit += static_cast<double>(cw[static_cast<std::size_t>(o)]) * y[o];
            }
            logits[static_cast<std::size_t>(b)] = static_cast<float>(logit);
        }
        return logits;
    }

    Context* ctx_;
    cross_encoder_options options_;
    config config_;
    tokenizers::tokenizer tokenizer_;
    bool head_fresh_ = false;
    cross_encoder_parameters<Context> params_, grads_;
    activations<Context> acts_;
    train_activations<Context> train_;
    std::filesystem::path source_;
    std::vector<std::int32_t> ids_, types_, valid_;
    std::vector<float> cls_, pooled_;  // [B, H] head inputs and tanh outputs of the last forward
};

}  // namespace hoprag::models::bert
