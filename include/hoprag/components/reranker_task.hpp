// Fine-tuning a reranker<Loss, Backend> cross-encoder on HotpotQA groups, as a
// `train::training_task` (hoprag-train-reranker). Data: every question of the train files, and the
// dev questions outside the held-out split (data::is_heldout); groups of 1 gold paragraph +
// hard negatives (data::make_groups), or with score fusion groups from the retrieval top `eval_top`
// (data::make_retrieval_groups). Groups are visited in train::epoch_order (stream 1000 + epoch),
// batch/(1 + negatives) groups per step, AdamW with warm-up + linear decay over the epochs and
// global-norm clipping; the classifier (fresh) and the fusion weight learn at lr *
// classifier_lr_scale. The fusion weight w is a field of the model's parameters (head
// "retriever_weight"), so AdamW, the checkpoint and the exported model hold it like any other. Evaluation: the first `eval_questions`
// held-out questions' top `eval_top` retrieved passages (or their own paragraphs) reranked;
// "eval_mrr" (the best metric), "eval_both_at_2", "eval_both_at_8". On a new best the model is
// exported to OUT/best-model. Mixed precision by profile (train/precision.hpp): the encoder's six
// linears multiply in the compute type (--compute, default the profile's), forward and backward;
// weights, gradients, AdamW state and activations stay f32; with --loss-scale (on by default for
// f16) the dynamic loss scaler skips a step with inf/NaN gradients and adapts the scale.
#pragma once

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "hoprag/components/reranker.hpp"
#include "hoprag/data/heldout_split.hpp"
#include "hoprag/data/hotpotqa.hpp"
#include "hoprag/data/ranked_passage_file.hpp"
#include "hoprag/eval/retrieval_metrics.hpp"
#include "hoprag/train/adamw.hpp"
#include "hoprag/train/epoch_order.hpp"
#include "hoprag/train/gradients.hpp"
#include "hoprag/train/loop.hpp"
#include "hoprag/train/peak_memory.hpp"
#include "hoprag/train/precision.hpp"
#include "hoprag/train/schedule.hpp"

namespace hoprag::components {

/// Everything that changes the numbers of a reranker fine-tune (hashed into checkpoints).
struct reranker_train_config {
    std::string model, train, dev, retrieval, loss = "softmax";
    std::int64_t seed = 0, max_length = 256, batch = 32, negatives = 3, from_retrieval = 2, epochs = 2, max_questions = 0;
    double lr = 2e-5, warmup_ratio = 0.1, weight_decay = 0.01, max_grad_norm = 1.0, classifier_lr_scale = 1.0, fusion_weight = 0.0;
    bool checkpointing = false;
    double loss_scale = 0;         ///< > 0: dynamic loss scaling from this scale; 0: off (f16 compute: on from 2^16)
    std::string compute = "auto";  ///< GEMM inputs of the encoder's linears: f32, bf16, f16, or auto (the profile's)
    static constexpr std::array<std::string_view, 21> field_names{
        "model",  "train",     "dev",            "retrieval", "loss",          "seed",          "max_length",   "batch",        "negatives",
        "from_retrieval", "epochs", "max_questions", "lr",     "warmup_ratio", "weight_decay", "max_grad_norm", "classifier_lr_scale",
        "fusion_weight", "checkpointing", "loss_scale", "compute"};
};

/// Run control of a reranker fine-tune (not hashed: may change on resume).
struct reranker_run_options {
    std::int64_t max_steps = 0;        // stop after this many steps in total (0: the epochs decide)
    std::int64_t eval_questions = 60;  // held-out questions evaluated
    std::int64_t eval_top = 20;        // retrieved passages reranked per question (and fusion groups' pool)
    std::filesystem::path out;         // best-model/ is written here
};

/// Throws config_error (naming the option as its flag) when `c` cannot be trained.
inline void validate(const reranker_train_config& c) {
    if (c.model.empty()) throw config_error("--model DIR is required");
    if (c.train.empty() && c.dev.empty()) throw config_error("give --train and/or --dev HotpotQA files");
    if (c.batch < 2 || c.negatives < 1 || c.max_length < 8 || c.epochs < 1)
        throw config_error("need --batch >= 2, --negatives >= 1, --max-length >= 8, --epochs >= 1");
    if (c.fusion_weight != 0.0 && c.retrieval.empty()) throw config_error("--fusion-weight needs --retrieval (every pair needs its retriever score)");
    train::validate_precision(c.compute, c.loss_scale);
}

template <class Loss, class Backend>
class reranker_task {
public:
    using context = typename Backend::context;

    reranker_task(const reranker_train_config& tc, const reranker_run_options& ro)
        : tc_((validate(tc), train::with_precision(tc, Backend::detect_profile()))), ro_(ro), ctx_(static_cast<std::uint64_t>(tc.seed)),
          rr_(ctx_, tc.model,
              {.max_length = tc.max_length, .max_batch = std::max<std::int64_t>(1 + tc.negatives, 8), .checkpointing = tc.checkpointing,
               .seed = static_cast<std::uint64_t>(tc.seed), .compute = parse_compute_type(tc_.compute)}),
          adam_m_(models::bert::zero_cross_encoder_parameters(ctx_, rr_.model().model_config())),
          adam_v_(models::bert::zero_cross_encoder_parameters(ctx_, rr_.model().model_config())) {
        load_data();
        auto& model = rr_.model();
        rr_.set_retriever_weight(static_cast<float>(tc_.fusion_weight));  // 0: no fusion (a fused start model's w is dropped)
        if (tc_.fusion_weight != 0.0 && model.head_fresh()) rr_.zero_classifier();
        tensors_ = adamw_tensors(model.params(), model.grads(), adam_m_, adam_v_, names_);
        // the fresh classifier (and w) may learn faster than the body: they are the last tensors
        fast_ = static_cast<std::size_t>(std::count_if(tensors_.begin(), tensors_.end(), [](const train::adamw_tensor& t) {
            return std::string_view(t.name).rfind("classifier.", 0) == 0 || std::string_view(t.name) == "retriever_weight";
        }));
        for (const auto& [name, dims] : models::bert::cross_encoder_shapes(model.model_config())) {
            shape s;
            s.rank = static_cast<int>(dims.size());
            for (int d = 0; d < s.rank; ++d) s.dims[static_cast<std::size_t>(d)] = dims[static_cast<std::size_t>(d)];
            specs_.push_back({name, s});
        }
        const std::int64_t schedule_steps = steps_per_epoch() * tc_.epochs;  // the schedule spans the epochs
        total_ = ro_.max_steps > 0 ? std::min(schedule_steps, ro_.max_steps) : schedule_steps;
        const auto warmup = static_cast<std::int64_t>(std::llround(tc_.warmup_ratio * static_cast<double>(schedule_steps)));
        sched_ = train::warmup_linear_lr(static_cast<float>(tc_.lr), warmup, schedule_steps, 0.0f);
    }
    reranker_task(const reranker_task&) = delete;
    reranker_task& operator=(const reranker_task&) = delete;

    /// One line: questions, groups, steps, evaluated questions.
    std::string summary() const {
        return std::to_string(train_q_.size()) + " training questions (" + std::to_string(with_retrieval_) + " with retrieval), " +
               std::to_string(groups_.size()) + " groups of " + std::to_string(1 + tc_.negatives) + " pairs, " +
               std::to_string(groups_per_step()) + " groups per step, " + std::to_string(steps_per_epoch()) + " steps per epoch, " +
               std::to_string(total_) + " steps this run; " + std::to_string(evals_.size()) + " held-out questions evaluated";
    }
    bool head_fresh() { return rr_.model().head_fresh(); }
    reranker<Loss, Backend>& model() { return rr_; }

    std::int64_t total_steps() const { return total_; }
    std::vector<train::tensor_spec> specs() const { return specs_; }
    train::task_tensors tensors() {
        return train::copy_to_host(specs_, [&](auto&& f) { for_each_tensor_set(f); });
    }
    void restore(const train::task_tensors& t) {
        train::copy_from_host(t, [&](auto&& f) { for_each_tensor_set(f); });
    }

    train::step_outcome step(train::training_state& st) {
        if (!t_start_) t_start_ = std::chrono::steady_clock::now();
        const std::int64_t gps = groups_per_step();
        if (st.data_position + gps > static_cast<std::int64_t>(groups_.size())) ++st.epoch, st.data_position = 0;
        const auto& order = order_.at(st.rng_seed, st.epoch, groups_.size());
        st.rng_counter = 1000 + static_cast<std::uint64_t>(st.epoch) + 1;
        models::bert::zero(ctx_, rr_.model().grads());
        const float scale = scaling() ? st.scaler.scale : 1.0f;
        double loss = 0.0;
        for (std::int64_t g = 0; g < gps; ++g) {
            loss += rr_.train_group(groups_[order[static_cast<std::size_t>(st.data_position + g)]], scale);
            pairs_done_ += 1 + tc_.negatives;
        }
        loss /= static_cast<double>(gps);
        st.data_position += gps;
        const std::span<const train::adamw_tensor> all(tensors_);
        const auto rep = train::inspect_grads(ctx_, all, scale, tc_.max_grad_norm, gps);
        if (scaling()) train::advance_scaler(st.scaler, rep.finite, st.step + 1, train::scaler_options(tc_.loss_scale));
        if (!std::isfinite(loss) || !rep.finite) return {.loss = loss, .finite = false, .values = {{"loss_scale", scale}}};
        const std::int64_t t = st.step - st.scaler.skipped_steps;  // skipped steps do not advance AdamW's t or the schedule
        const std::int64_t step_no = t + 1;
        const float lr = sched_.lr(t);
        const train::adamw_hparams hp{.weight_decay = static_cast<float>(tc_.weight_decay)};
        adamw_update(ctx_, all.first(all.size() - fast_), train::make_adamw_step(hp, step_no, lr, rep.grad_scale));
        adamw_update(ctx_, all.last(fast_), train::make_adamw_step(hp, step_no, lr * static_cast<float>(tc_.classifier_lr_scale), rep.grad_scale));
        const bool fusion = tc_.fusion_weight != 0.0;
        ++st.step;
        train::step_outcome r{.loss = loss, .values = {{"lr", lr}, {"grad_norm", rep.norm}, {"pairs_per_s", pairs_per_s()}, {"epoch", double(st.epoch)}}};
        if (scaling()) r.values.emplace_back("loss_scale", scale);
        if (fusion) r.values.emplace_back("retriever_weight", rr_.retriever_weight());
        return r;
    }

    train::metric_values evaluate(const train::training_state&) {
        if (evals_.empty()) return {};
        std::vector<data::hotpot_record> gold;
        std::unordered_map<std::string, std::vector<std::string>> ranked;
        for (const auto* r : evals_) {
            gold.push_back(*r);
            // candidates: the retrieved passages, or (no retrieval line) the question's own paragraphs
            std::vector<data::passage> ps;
            if (const auto it = retrieval_.by_id.find(r->id); it != retrieval_.by_id.end()) ps = it->second;
            else
                for (const auto& para : r->context) ps.push_back(data::paragraph_as_passage(para));
            auto& titles = ranked[r->id];
            for (const auto& p : rr_.rerank(r->question, ps, static_cast<std::size_t>(ro_.eval_top))) titles.push_back(p.title);
        }
        const auto rep = eval::evaluate_retrieval(gold, ranked, {2, 4, 8, 12});
        return {{"eval_mrr", rep.mrr}, {"eval_both_at_2", rep.both_recall_at.at(2)}, {"eval_both_at_8", rep.both_recall_at.at(8)}};
    }
    void on_best(const train::training_state&) { export_model(ro_.out / "best-model"); }

    /// Writes the model as a Hugging Face folder (its retriever_weight included).
    void export_model(const std::filesystem::path& dir) { rr_.model().save(dir); }
    nlohmann::ordered_json result() {
        auto j = train::peak_memory_json(ctx_);
        j["loss"] = std::string(Loss::name), j["pairs_per_s"] = pairs_per_s(), j["retriever_weight"] = rr_.retriever_weight();
        return j;
    }

    /// The configuration as trained: validated, precision settled (train::with_precision).
    const reranker_train_config& config() const { return tc_; }
    /// The dynamic loss scale a fresh run starts from (0: no scaling); run_training then skips
    /// a step with inf/NaN gradients instead of stopping.
    double loss_scale() const { return tc_.loss_scale; }

private:
    bool scaling() const { return tc_.loss_scale > 0; }
    std::int64_t groups_per_step() const { return std::max<std::int64_t>(1, tc_.batch / (1 + tc_.negatives)); }
    std::int64_t steps_per_epoch() const { return std::max<std::int64_t>(1, static_cast<std::int64_t>(groups_.size()) / groups_per_step()); }
    double pairs_per_s() const {
        if (!t_start_) return 0.0;
        const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - *t_start_).count();
        return secs > 0 ? double(pairs_done_) / secs : 0.0;
    }

    void load_data() {
        train_q_ = data::load_files(tc_.train);
        for (auto& r : data::load_files(tc_.dev)) (data::is_heldout(r.id) ? eval_q_ : train_q_).push_back(std::move(r));
        if (tc_.max_questions > 0 && static_cast<std::int64_t>(train_q_.size()) > tc_.max_questions)
            train_q_.resize(static_cast<std::size_t>(tc_.max_questions));
        if (!tc_.retrieval.empty()) retrieval_ = data::read_ranked_passages(tc_.retrieval);
        const data::group_options gopt{.negatives = static_cast<std::size_t>(tc_.negatives),
                                 .from_retrieval = static_cast<std::size_t>(tc_.from_retrieval),
                                 .seed = static_cast<std::uint64_t>(tc_.seed)};
        for (const auto& r : train_q_) {
            const auto it = retrieval_.by_id.find(r.id);
            const bool has = it != retrieval_.by_id.end();
            with_retrieval_ += has;
            if (tc_.fusion_weight != 0.0) {
                if (has)
                    for (auto& g : data::make_retrieval_groups(r, it->second, static_cast<std::size_t>(ro_.eval_top), gopt)) groups_.push_back(std::move(g));
                continue;
            }
            for (auto& g : data::make_groups(r, has ? &it->second : nullptr, gopt)) groups_.push_back(std::move(g));
        }
        if (groups_.empty()) throw config_error("no training groups: give --train/--dev files with labelled questions");
        for (const auto& r : eval_q_)
            if (static_cast<std::int64_t>(evals_.size()) < ro_.eval_questions) evals_.push_back(&r);
    }
    /// f(param, m, v) for every trainable tensor in checkpoint order (models::bert::for_each_tensor's).
    template <class F>
    void for_each_tensor_set(F&& f) {
        std::vector<buffer<context, float>*> ps, ms, vs;
        models::bert::for_each_tensor(rr_.model().params(), [&](const std::string&, auto& b) { ps.push_back(&b); });
        models::bert::for_each_tensor(adam_m_, [&](const std::string&, auto& b) { ms.push_back(&b); });
        models::bert::for_each_tensor(adam_v_, [&](const std::string&, auto& b) { vs.push_back(&b); });
        for (std::size_t i = 0; i < ps.size(); ++i) f(*ps[i], *ms[i], *vs[i]);
    }

    reranker_train_config tc_;
    reranker_run_options ro_;
    context ctx_;
    reranker<Loss, Backend> rr_;
    models::bert::cross_encoder_parameters<context> adam_m_, adam_v_;
    std::vector<std::string> names_;
    std::vector<train::adamw_tensor> tensors_;
    std::size_t fast_ = 0;  // the last fast_ tensors learn at lr * classifier_lr_scale
    std::vector<train::tensor_spec> specs_;
    std::vector<data::hotpot_record> train_q_, eval_q_;
    std::vector<const data::hotpot_record*> evals_;
    data::ranked_passage_file retrieval_;
    std::vector<data::training_group> groups_;
    std::size_t with_retrieval_ = 0;
    std::int64_t total_ = 0, pairs_done_ = 0;
    train::warmup_linear_lr sched_{1.0f, 0, 1, 0.0f};
    std::optional<std::chrono::steady_clock::time_point> t_start_;
    train::epoch_order_cache order_{1000};
};

}  // namespace hoprag::components
