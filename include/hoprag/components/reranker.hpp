// reranker<Loss, Backend> (the design's Reranker<Loss>): a BERT cross-encoder fine-tuned with a loss
// policy (reranker_losses.hpp) on candidate groups, and re-scoring of retrieval results.
//  * It trains on data::training_group (data/groups.hpp: one gold passage and hard negatives).
//  * Passages are data::passage; retrieval lists come from data/ranked_passage_file.hpp.
//  * Score fusion (optional, off by default): with a retriever weight w != 0 the reranker's score of
//    a passage is  logit + w * retriever_score  and the loss sees that fused score; w is a trained
//    parameter of the model (head "retriever_weight"), so optimiser, checkpoints and the saved
//    model.safetensors carry it like any other tensor. With a zero classifier (cls_w = 0) every logit is the same, so the fused order IS the
//    retriever order at initialisation and training only learns the residual. Fused groups come
//    from the retrieval list itself (make_retrieval_groups), since every pair needs its score.
// Host-only (tokenizer); the model runs on the backend's context.
#pragma once

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <set>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>


#include "hoprag/backend/concept.hpp"
#include "hoprag/components/reranker_losses.hpp"
#include "hoprag/core/error.hpp"
#include "hoprag/core/hash.hpp"
#include "hoprag/core/rng.hpp"
#include "hoprag/data/groups.hpp"
#include "hoprag/data/passage.hpp"
#include "hoprag/models/bert/cross_encoder.hpp"
#include "hoprag/train/adamw.hpp"

namespace hoprag::components {

/// The cross-encoder trained with `Loss` on the `Backend`.
template <class Loss, class Backend>
class reranker {
    static_assert(reranker_loss<Loss>, "reranker<Loss, Backend>: Loss must have a static `name` and a const member "
                                       "`double group(std::span<const float> logits, std::span<float> dlogits)` "
                                       "(see components/reranker_losses.hpp)");
    static_assert(hoprag::backend<Backend>, "reranker<Loss, Backend>: Backend must satisfy hoprag::backend (a context "
                                            "type, a name, memory functions and the op set of backend/concept.hpp)");

public:
    using context = typename Backend::context;
    using model_type = models::bert::cross_encoder<context>;

    reranker(context& ctx, const std::filesystem::path& model_dir, models::bert::cross_encoder_options options = {}, Loss loss = {})
        : ctx_(&ctx), model_(ctx, model_dir, options), loss_(loss) {}

    model_type& model() { return model_; }
    const Loss& loss() const { return loss_; }

    /// Score fusion: the retriever weight w, a parameter of the model (head "retriever_weight",
    /// saved in model.safetensors; 0: off, the score is the logit alone). See the file comment.
    float retriever_weight() { return model_.params().head.retriever_weight.to_host()[0]; }
    void set_retriever_weight(float w) { model_.params().head.retriever_weight.assign({w}); }
    /// Scores with the model's own retriever weight (`fused`), or with the logit alone (w set to 0).
    /// Fusion with a model whose weight is 0 (trained without fusion) is refused (config_error).
    void use_fusion(bool fused, const std::filesystem::path& model_dir) {
        if (!fused) return set_retriever_weight(0.0f);
        if (retriever_weight() == 0.0f)
            throw config_error(model_dir.string() + ": the model's retriever_weight is 0 or absent: it was not trained with score "
                                                    "fusion (hoprag-train-reranker --fusion-weight); score without fusion");
    }
    /// Sets the classifier weights and bias to zero: every logit is then equal, and with fusion the
    /// order is exactly the retriever's (the body still gets gradients once the weights move).
    void zero_classifier() {
        auto& h = model_.params().head;
        h.cls_w.assign(std::vector<float>(h.cls_w.size(), 0.0f));
        h.cls_b.assign(std::vector<float>(h.cls_b.size(), 0.0f));
    }

    /// Forward + loss + backward of one group (1 + negatives <= max_batch pairs); accumulates the
    /// gradients of loss * weight into model().grads() (with fusion, w's too) and returns the
    /// unweighted loss. With fusion on, the group must
    /// carry its retriever scores (config_error otherwise).
    double train_group(const data::training_group& g, float weight = 1.0f) {
        std::vector<tokenizers::encoding> pairs;
        pairs.push_back(model_.encode(g.question, model_type::passage_text(g.positive.title, g.positive.text)));
        for (const auto& n : g.negatives) pairs.push_back(model_.encode(g.question, model_type::passage_text(n.title, n.text)));
        auto logits = model_.forward_logits(pairs);
        const float w = retriever_weight();
        const bool fused = w != 0.0f;
        if (fused) {
            if (!g.retriever_scored)
                throw config_error("reranker: score fusion needs the retriever score of every pair of a group; the group for \"" +
                                   g.question + "\" has none (build fusion groups with make_retrieval_groups)");
            for (std::size_t i = 0; i < logits.size(); ++i) logits[i] += w * pair_score(g, i);
        }
        std::vector<float> d(logits.size());
        const double l = loss_.group(logits, d);
        double dw = 0.0;
        for (std::size_t i = 0; i < d.size(); ++i) {
            d[i] *= weight;
            if (fused) dw += double(d[i]) * double(pair_score(g, i));
        }
        if (fused) {
            auto& gw = model_.grads().head.retriever_weight;
            gw.assign({gw.to_host()[0] + static_cast<float>(dw)});
        }
        model_.backward(d);
        return l;
    }

    /// Scores of `passages` (title, text) for `question`, one per passage.
    std::vector<float> score(std::string_view question, std::span<const data::passage> passages) {
        std::vector<tokenizers::encoding> pairs;
        for (const auto& p : passages) pairs.push_back(model_.encode(question, model_type::passage_text(p.title, p.text)));
        return model_.score(pairs);
    }

    /// The first `top` passages of `retrieved` reordered by score (best first, ties by retrieval
    /// order); each passage's score becomes its reranker score (the logit, or with fusion
    /// logit + w * retriever score).
    std::vector<data::passage> rerank(std::string_view question, std::span<const data::passage> retrieved, std::size_t top) {
        const std::size_t n = std::min(top, retrieved.size());
        auto s = score(question, retrieved.first(n));
        if (const float w = retriever_weight(); w != 0.0f)
            for (std::size_t i = 0; i < n; ++i) s[i] += w * retrieved[i].score;
        std::vector<std::size_t> order(n);
        for (std::size_t i = 0; i < n; ++i) order[i] = i;
        std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) { return s[a] > s[b]; });
        std::vector<data::passage> out;
        for (const auto i : order) {
            out.push_back(retrieved[i]);
            out.back().score = s[i];
        }
        return out;
    }

private:
    // the retriever score of pair i of `g` (0: the positive, then the negatives)
    static float pair_score(const data::training_group& g, std::size_t i) { return i == 0 ? g.positive.score : g.negatives[i - 1].score; }
    context* ctx_;
    model_type model_;
    Loss loss_;
};

/// The optimiser's view of a cross-encoder: one adamw_tensor per tensor (for_each_tensor order);
/// biases, LayerNorm weights and the retriever weight are not decayed. `names` keeps the names alive.
template <class Context>
std::vector<train::adamw_tensor> adamw_tensors(models::bert::cross_encoder_parameters<Context>& p,
                                               models::bert::cross_encoder_parameters<Context>& g,
                                               models::bert::cross_encoder_parameters<Context>& m,
                                               models::bert::cross_encoder_parameters<Context>& v,
                                               std::vector<std::string>& names) {
    std::vector<train::adamw_tensor> out;
    names.clear();
    for_each_tensor(p, [&](const std::string& name, auto& b) {
        names.push_back(name);
        out.push_back({.param = b.data(), .n = static_cast<std::int64_t>(b.size()),
                       .decay = name.find("bias") == std::string::npos && name.find("LayerNorm") == std::string::npos &&
                                 name != "retriever_weight"});
    });
    std::size_t i = 0;
    for_each_tensor(g, [&](const std::string&, auto& b) { out[i++].grad = b.data(); });
    i = 0;
    for_each_tensor(m, [&](const std::string&, auto& b) { out[i++].m = b.data(); });
    i = 0;
    for_each_tensor(v, [&](const std::string&, auto& b) { out[i++].v = b.data(); });
    for (std::size_t k = 0; k < out.size(); ++k) out[k].name = names[k].c_str();
    return out;
}

}  // namespace hoprag::components
