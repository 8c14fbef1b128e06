// reranker<Loss, Backend> (the design's Reranker<Loss>): a BERT cross-encoder fine-tuned with a loss
// policy (reranker_losses.hpp) on candidate groups, and re-scoring of retrieval results.
//  * Groups: for each gold paragraph of a question (a context paragraph holding a supporting fact)
//    one group = that positive + `negatives` hard negatives: first the top `from_retrieval`
//    retrieved passages whose title is not gold (retriever order), then the question's own
//    distractors in a seeded shuffle, then further retrieved non-gold passages if still short.
//  * The held-out split of a question set is fixed by its "_id": held out iff FNV-1a64(_id) % 4 == 0.
//  * Retrieval files are hoprag-retrieve's JSON Lines {"_id", "passages": [{"title","chunk","score"}]}.
// Host-only (tokenizer, JSON); the model runs on the backend's context.
#pragma once

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <set>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "hoprag/backend/concept.hpp"
#include "hoprag/components/curriculum.hpp"
#include "hoprag/components/reranker_losses.hpp"
#include "hoprag/core/error.hpp"
#include "hoprag/core/rng.hpp"
#include "hoprag/data/hotpotqa_record.hpp"
#include "hoprag/models/bert/cross_encoder.hpp"
#include "hoprag/train/adamw.hpp"

namespace hoprag::components {

/// One retrieved passage of a retrieval file.
struct scored_passage {
    std::string title, chunk;
    float score = 0.0f;
};

/// A retrieval file: _id -> passages best first (file order of ids kept in `order`).
struct retrieval_file {
    std::vector<std::string> order;
    std::unordered_map<std::string, std::vector<scored_passage>> by_id;
};

/// Reads hoprag-retrieve output; throws format_error naming the file and line on bad JSON.
inline retrieval_file read_retrieval(const std::filesystem::path& path) {
    std::ifstream in(path);
    if (!in) throw io_error("cannot open retrieval file " + path.string());
    retrieval_file out;
    std::size_t line_no = 0;
    for (std::string line; std::getline(in, line);) {
        ++line_no;
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        try {
            const auto j = nlohmann::json::parse(line);
            const std::string id = j.at("_id").get<std::string>();
            std::vector<scored_passage> ps;
            for (const auto& p : j.at("passages"))
                ps.push_back({p.at("title").get<std::string>(), p.at("chunk").get<std::string>(), p.value("score", 0.0f)});
            if (!out.by_id.emplace(id, std::move(ps)).second) throw format_error("duplicate _id \"" + id + "\"");
            out.order.push_back(id);
        } catch (const std::exception& e) {
            throw format_error(path.string() + ":" + std::to_string(line_no) +
                               ": not a retrieval line {\"_id\", \"passages\": [{\"title\", \"chunk\", \"score\"}]}: " + e.what());
        }
    }
    return out;
}

/// True when question `id` belongs to the held-out evaluation split (FNV-1a64(id) % 4 == 0).
inline bool held_out(std::string_view id) { return fnv1a64(id) % 4 == 0; }

/// A titled passage (a whole paragraph or a retrieved chunk).
struct titled_passage {
    std::string title, text;
};

/// A training group: a question, one positive passage and its negatives.
struct training_group {
    std::string question;
    titled_passage positive;
    std::vector<titled_passage> negatives;
};

/// How groups are built.
struct group_options {
    std::size_t negatives = 3;       ///< negatives per group
    std::size_t from_retrieval = 2;  ///< of which at most this many come first from retrieval
    std::uint64_t seed = 0;          ///< distractor shuffle
};

/// The distinct gold titles of `r` (titles of its supporting facts).
inline std::set<std::string> gold_titles(const data::hotpot_record& r) {
    std::set<std::string> g;
    for (const auto& sf : r.supporting_facts) g.insert(sf.title);
    return g;
}

/// Groups of question `r` (one per gold context paragraph); `retrieved` may be null.
inline std::vector<training_group> make_groups(const data::hotpot_record& r, const std::vector<scored_passage>* retrieved,
                                               const group_options& o) {
    const auto gold = gold_titles(r);
    std::vector<titled_passage> negatives;
    std::set<std::string> used(gold.begin(), gold.end());
    const auto take = [&](const std::string& title, const std::string& text) {
        if (negatives.size() >= o.negatives || used.count(title)) return;
        used.insert(title);
        negatives.push_back({title, text});
    };
    if (retrieved)
        for (const auto& p : *retrieved) {
            if (negatives.size() >= std::min(o.negatives, o.from_retrieval)) break;
            take(p.title, p.chunk);
        }
    std::vector<std::size_t> order(r.context.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    const philox_stream s{o.seed, fnv1a64(r.id)};
    for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[s.bits(i) % i]);
    for (const auto i : order) {
        std::string text;
        for (const auto& sent : r.context[i].sentences) text += sent;
        take(r.context[i].title, text);
    }
    if (retrieved)
        for (const auto& p : *retrieved) take(p.title, p.chunk);
    std::vector<training_group> out;
    std::set<std::string> seen;
    for (const auto& para : r.context) {
        if (!gold.count(para.title) || !seen.insert(para.title).second) continue;
        training_group g{r.question, {para.title, {}}, negatives};
        for (const auto& sent : para.sentences) g.positive.text += sent;
        if (!g.negatives.empty()) out.push_back(std::move(g));
    }
    return out;
}

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

    /// Forward + loss + backward of one group (1 + negatives <= max_batch pairs); accumulates the
    /// gradients of loss * weight into model().grads() and returns the unweighted loss.
    double train_group(const training_group& g, float weight = 1.0f) {
        std::vector<tokenizers::encoding> pairs;
        pairs.push_back(model_.encode(g.question, model_type::passage_text(g.positive.title, g.positive.text)));
        for (const auto& n : g.negatives) pairs.push_back(model_.encode(g.question, model_type::passage_text(n.title, n.text)));
        const auto logits = model_.forward_logits(pairs);
        std::vector<float> d(logits.size());
        const double l = loss_.group(logits, d);
        for (auto& x : d) x *= weight;
        model_.backward(d);
        return l;
    }

    /// Scores of `passages` (title, text) for `question`, one per passage.
    std::vector<float> score(std::string_view question, std::span<const titled_passage> passages) {
        std::vector<tokenizers::encoding> pairs;
        for (const auto& p : passages) pairs.push_back(model_.encode(question, model_type::passage_text(p.title, p.text)));
        return model_.score(pairs);
    }

    /// The first `top` passages of `retrieved` reordered by score (best first, ties by retrieval
    /// order); each passage's score becomes its reranker logit.
    std::vector<scored_passage> rerank(std::string_view question, std::span<const scored_passage> retrieved, std::size_t top) {
        const std::size_t n = std::min(top, retrieved.size());
        std::vector<titled_passage> ps;
        for (std::size_t i = 0; i < n; ++i) ps.push_back({retrieved[i].title, retrieved[i].chunk});
        const auto s = score(question, ps);
        std::vector<std::size_t> order(n);
        for (std::size_t i = 0; i < n; ++i) order[i] = i;
        std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) { return s[a] > s[b]; });
        std::vector<scored_passage> out;
        for (const auto i : order) out.push_back({retrieved[i].title, retrieved[i].chunk, s[i]});
        return out;
    }

private:
    context* ctx_;
    model_type model_;
    Loss loss_;
};

/// The optimiser's view of a cross-encoder: one adamw_tensor per tensor (for_each_tensor order);
/// biases and LayerNorm weights are not decayed. `names` keeps the names alive.
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
                       .decay = name.find("bias") == std::string::npos && name.find("LayerNorm") == std::string::npos});
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
