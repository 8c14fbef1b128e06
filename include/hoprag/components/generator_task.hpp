// QLoRA fine-tuning of a generator<Quant, Adapter, Backend> on HotpotQA bundles with cited targets,
// as a `train::training_task` (hoprag-train-generator). Data: the train file plus the dev questions
// outside the held-out split (data/heldout_split.hpp). The curriculum (annealed_mix: gold passages
// forced in with hard negatives for --forced-epochs, then forced with a falling probability over
// --mix-epochs, then pure retrieval where gold may be missing and the target becomes "insufficient
// context") makes one bundle per question and epoch from each question's ranked candidates: the
// ranked-passage files of --retrieval (hoprag-retrieve / hoprag-rerank output for the training
// questions, matched to the pooled corpus of --unit passages) or, without them, BM25 over its own
// paragraphs. Examples are visited in train::epoch_order (stream 2000 + epoch), batch 1 with
// --accumulation micro-batches per optimiser step, so a step ends at a window boundary and a
// checkpoint never holds partial gradients. AdamW + warm-up/cosine + global-norm clipping on every
// LoRA A and B. Mixed precision by profile (train/precision.hpp): the block linears multiply in the
// compute type (--compute, default the profile's: f32 on cpu, f16 on t4, bf16 on a100 / h100);
// with --loss-scale S > 0 (on by default for f16), dynamic loss scaling (train/loss_scaler.hpp;
// its state in the checkpointed training state): a window with inf/NaN gradients is dropped, the
// loop skips and logs the step, and the scale adapts. Evaluation: greedy answers to the first
// --eval-questions held-out questions with their ranked passages (--eval-retrieval; `best` is
// then chosen on retrieved contexts) or their own paragraphs: "eval_f1", "eval_em", "eval_sp_f1",
// "eval_joint_f1", the supported-answer and citation-precision rates and the abstention count.
// Checkpoints add the adapter as a PEFT folder (hoprag-answer --artifacts loads it); the
// checkpoint file then holds the AdamW moments only.
#pragma once

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <sstream>
#include <string>
#include <unordered_map>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "hoprag/adapters/lora_grads.hpp"
#include "hoprag/backend/compute_gemm.hpp"
#include "hoprag/components/answer_tally.hpp"
#include "hoprag/components/answerer.hpp"
#include "hoprag/components/curriculum.hpp"
#include "hoprag/data/heldout_split.hpp"
#include "hoprag/data/hotpotqa.hpp"
#include "hoprag/data/passage_unit.hpp"
#include "hoprag/data/prompt.hpp"
#include "hoprag/data/ranked_passage_file.hpp"
#include "hoprag/eval/hotpot_metrics.hpp"
#include "hoprag/models/llama/lora_optimizer.hpp"
#include "hoprag/models/llama/train.hpp"
#include "hoprag/tokenizers/load_tokenizer.hpp"
#include "hoprag/train/adamw.hpp"
#include "hoprag/train/epoch_order.hpp"
#include "hoprag/train/gradients.hpp"
#include "hoprag/train/loop.hpp"
#include "hoprag/train/loss_scaler.hpp"
#include "hoprag/train/precision.hpp"
#include "hoprag/train/peak_memory.hpp"
#include "hoprag/train/schedule.hpp"

namespace hoprag::components {

/// Everything that changes the numbers of a generator fine-tune (hashed into checkpoints).
struct generator_train_config {
    std::string train = "../shared/data/hotpotqa/hotpot_train_sample.jsonl";
    std::string dev = "../shared/data/hotpotqa/hotpot_dev_sample.jsonl";
    std::string retrieval;       ///< comma-separated ranked-passage files of the training questions (empty: BM25 over own paragraphs)
    std::string eval_retrieval;  ///< ranked-passage file of the held-out questions (empty: their own paragraphs)
    std::string corpus;          ///< comma-separated HotpotQA files whose paragraphs the ranked files may name (empty: train and dev)
    std::string unit = "chunk";  ///< passage unit of the corpus (and of the ranked files)
    bool dev_training = true;    ///< also train on the dev questions outside the held-out split
    std::int64_t seed = 0, epochs = 2, accumulation = 8, warmup_steps = 10, max_tokens = 640, passages = 10;
    double forced_epochs = 0.5, mix_epochs = 1.0;  ///< curriculum: gold forced, then mixed, then pure retrieval
    double lr = 5e-4, weight_decay = 0.01, max_grad_norm = 1.0;
    double loss_scale = 0;       ///< > 0: dynamic loss scaling from this scale; 0: off (f16 compute: on from 2^16)
    std::string compute = "auto";  ///< GEMM inputs of the block linears: f32, bf16, f16, or auto (the profile's)
    std::string format = "chat";
    std::int64_t eval_questions = 16, max_new_tokens = 24;
    static constexpr std::array<std::string_view, 23> field_names{
        "train",  "dev",       "retrieval",      "eval_retrieval", "corpus",        "unit",       "dev_training", "seed",
        "epochs", "accumulation", "warmup_steps", "max_tokens",     "passages",      "forced_epochs", "mix_epochs", "lr",
        "weight_decay", "max_grad_norm", "loss_scale", "compute", "format", "eval_questions", "max_new_tokens"};
    static constexpr std::array<std::string_view, 4> list_fields{"train", "retrieval", "corpus", "dev"};
};

/// Throws config_error (naming the option as its flag) when `c` cannot be trained.
inline void validate(const generator_train_config& c) {
    if (c.epochs < 1 || c.accumulation < 1 || c.warmup_steps < 0 || c.max_tokens < 16 || c.passages < 1 || c.eval_questions < 1 ||
        c.max_new_tokens < 1 || !(c.lr > 0))
        throw config_error("need --epochs, --accumulation, --passages, --eval-questions, --max-new-tokens >= 1, --max-tokens >= 16, --lr > 0");
    if (!(c.forced_epochs >= 0) || !(c.mix_epochs >= 0)) throw config_error("need --forced-epochs and --mix-epochs >= 0");
    train::validate_precision(c.compute, c.loss_scale);
    data::prompt_options po;
    data::set_format(po, c.format);
    (void)data::parse_passage_unit(c.unit);
}

/// The fine-tuning task of generator `Generator` (an Adapter::enabled generator) loaded from
/// `model` (GGUF file or Hugging Face folder), for `max_steps` steps (0: the epochs decide).
template <class Generator>
class generator_task {
public:
    using context = typename Generator::context;

    generator_task(const generator_train_config& tc, const std::filesystem::path& model, std::int64_t max_steps, bool checkpointing)
        : tc_((validate(tc), train::with_precision(tc, Generator::backend_policy::detect_profile()))), model_path_(model), checkpointing_(checkpointing), ctx_(static_cast<std::uint64_t>(tc.seed)),
          gen_(std::filesystem::is_directory(model) ? Generator::from_hf(ctx_, model, static_cast<std::uint64_t>(tc.seed))
                                                    : Generator::from_gguf(ctx_, model, static_cast<std::uint64_t>(tc.seed))),
          tok_(tokenizers::load_tokenizer(model)), grads_(adapters::make_lora_grad_set(ctx_, gen_.adapter())), opt_(ctx_, gen_.adapter(), grads_),
          records_(data::load_files(tc.train)), corpus_(), cur_(make_curriculum()) {
        const std::int64_t steps_per_epoch = static_cast<std::int64_t>(cur_.size()) / tc.accumulation;
        total_ = max_steps > 0 ? max_steps : steps_per_epoch * tc.epochs;
        const std::int64_t schedule_steps = std::max<std::int64_t>(1, total_);  // warm-up capped at the run's length
        sched_ = train::warmup_cosine_lr(static_cast<float>(tc.lr), std::min(tc.warmup_steps, schedule_steps), schedule_steps, 0.1f);
        gen_.set_compute_type(parse_compute_type(tc_.compute));
        data::set_format(po_, tc.format);
        po_.max_tokens = static_cast<std::size_t>(tc.max_tokens);
        for (const auto& t : opt_.tensors()) specs_.push_back({t.name, shape{t.n}});
        adapters::zero_grads(ctx_, grads_);
    }
    generator_task(const generator_task&) = delete;
    generator_task& operator=(const generator_task&) = delete;

    /// The configuration as trained: validated, precision settled (train::with_precision).
    const generator_train_config& config() const { return tc_; }
    /// The dynamic loss scale a fresh run starts from (0: no scaling); run_training then skips
    /// a step with inf/NaN gradients instead of stopping.
    double loss_scale() const { return tc_.loss_scale; }
    std::size_t training_questions() const { return cur_.size(); }
    std::size_t eval_questions() const { return eval_set_.size(); }
    std::int64_t total_steps() const { return total_; }
    std::vector<train::tensor_spec> specs() const { return specs_; }

    train::task_tensors tensors() {
        return train::copy_to_host(specs_, [&](auto&& f) { for_each_tensor_set(f); });
    }
    void restore(const train::task_tensors& t) {
        train::copy_from_host(t, [&](auto&& f) { for_each_tensor_set(f); });
    }
    /// The adapter as a PEFT folder beside the checkpoint. Its adapter_model.safetensors holds every
    /// trained tensor under its spec name in F32, so the checkpoint does not repeat them.
    void write_files(const std::filesystem::path& dir) const { gen_.save_adapter(dir, model_path_.string()); }
    static constexpr const char* params_file = "adapter_model.safetensors";
    /// Extra result fields: peak host RSS and, on the GPU, the device high-water mark.
    nlohmann::ordered_json result() { return train::peak_memory_json(ctx_); }
    nlohmann::json artifact_extra(const train::training_state& st) const {
        return {{"adapter", "lora r" + std::to_string(Generator::adapter_policy::rank) + " alpha" +
                                std::to_string(static_cast<int>(Generator::adapter_policy::alpha)) + " all-linear"},
                {"quant", std::string(Generator::quant_policy::name)},
                {"epoch", st.epoch},
                {"prompt_format", tc_.format}};
    }

    /// One optimiser step: --accumulation examples forward + backward, clip, AdamW.
    train::step_outcome step(train::training_state& st) {
        const auto t0 = std::chrono::steady_clock::now();
        double window_loss = 0;
        std::int64_t window_tokens = 0;
        for (; st.accum_done < tc_.accumulation; ++st.accum_done) {
            if (st.data_position >= static_cast<std::int64_t>(cur_.size())) ++st.epoch, st.data_position = 0;
            const auto& order = order_.at(st.rng_seed, st.epoch, cur_.size());
            const auto b = cur_.bundle(static_cast<std::size_t>(st.epoch), order[static_cast<std::size_t>(st.data_position)]);
            ++st.data_position;
            const auto ex = data::encode_example(tok_, b.question, b.passages, std::string_view(b.answer), po_);
            models::llama::train_options to;
            to.checkpointing = checkpointing_;
            to.step = static_cast<std::uint64_t>(st.step * tc_.accumulation + st.accum_done);
            to.loss_scale = scaling() ? st.scaler.scale : 1.0f;
            const auto seq = static_cast<std::int64_t>(ex.ids.size());
            const float loss = models::llama::loss_and_grads(ctx_, gen_, ex.ids, ex.labels, 1, seq, grads_, to, &ws_);
            if (!std::isfinite(loss)) throw hoprag::error("loss is " + std::to_string(loss) + " on question " + b.id + " at step " + std::to_string(st.step + 1));
            window_loss += loss, window_tokens += seq;
        }
        const float scale = scaling() ? st.scaler.scale : 1.0f;
        const auto rep = train::inspect_grads(ctx_, opt_.tensors(), scale, tc_.max_grad_norm, tc_.accumulation);
        if (scaling()) train::advance_scaler(st.scaler, rep.finite, st.step + 1, train::scaler_options(tc_.loss_scale));
        if (!rep.finite) {  // nothing applied: the window's gradients are dropped
            adapters::zero_grads(ctx_, grads_);
            st.accum_done = 0;
            return {.loss = window_loss / static_cast<double>(tc_.accumulation), .finite = false, .values = {{"loss_scale", scale}}};
        }
        const std::int64_t t = st.step - st.scaler.skipped_steps;  // skipped steps do not advance AdamW's t or the schedule
        const float lr = sched_.lr(t);
        adamw_update(ctx_, opt_.tensors(), train::make_adamw_step({.weight_decay = static_cast<float>(tc_.weight_decay)}, t + 1, lr, rep.grad_scale));
        adapters::zero_grads(ctx_, grads_);
        ++st.step;
        st.accum_done = 0;
        const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        const double tps = double(window_tokens) / secs;
        train::step_outcome r{.loss = window_loss / static_cast<double>(tc_.accumulation),
                              .values = {{"lr", lr}, {"grad_norm", rep.norm}, {"tokens_per_s", tps}, {"epoch", double(st.epoch)}},
                              .tokens_per_s = tps};
        if (scaling()) r.values.emplace_back("loss_scale", scale);
        return r;
    }

    /// Greedy answers to the held-out questions (their ranked passages with --eval-retrieval, else
    /// their own paragraphs), official metrics and the citation rates.
    train::metric_values evaluate(const train::training_state&) {
        answer_options ao;
        ao.prompt = po_;
        ao.max_new_tokens = tc_.max_new_tokens;
        answer_tally tally;
        for (const auto& r : eval_set_) {
            const auto ranked = eval_lists_.find(r.id);
            const auto contexts = ranked == eval_lists_.end() ? own_paragraph_contexts(r) : ranked_contexts(r, ranked->second, eval_sentences_);
            tally.add(r.id, answer_question(gen_, tok_, r.question, contexts, ao));
        }
        const auto q = tally.quality(eval_set_);
        const auto& m = q.at("metrics");
        return {{"eval_f1", m.at("f1")},
                {"eval_em", m.at("em")},
                {"eval_sp_f1", m.at("sp_f1")},
                {"eval_joint_f1", m.at("joint_f1")},
                {"eval_supported_answer_rate", q.at("supported_answer_rate")},
                {"eval_citation_precision", q.at("citation_precision_rate")},
                {"eval_abstentions", double(q.at("abstentions").get<std::size_t>())}};
    }

    /// Where the curriculum's candidates come from, and its schedule (one line for the log).
    [[nodiscard]] const std::string& curriculum_note() const { return note_; }

private:
    bool scaling() const { return tc_.loss_scale > 0; }

    curriculum<annealed_mix> make_curriculum() {
        const auto dev = data::load_files(tc_.dev);
        if (tc_.dev_training)
            for (auto& r : data::select_split(dev, data::split_part::training)) records_.push_back(std::move(r));
        const auto heldout = data::select_split(dev, data::split_part::heldout);
        if (heldout.empty())
            throw config_error("the --dev files hold no held-out question (fnv1a64(_id) % 8 == 0) to evaluate on; give more dev questions");
        eval_set_.assign(heldout.begin(), heldout.begin() + std::ptrdiff_t(std::min<std::size_t>(heldout.size(), std::size_t(tc_.eval_questions))));
        const auto unit = data::parse_passage_unit(tc_.unit);
        curriculum_options co;
        co.k = static_cast<std::size_t>(tc_.passages), co.seed = static_cast<std::uint64_t>(tc_.seed);
        const annealed_mix schedule{.epochs = tc_.mix_epochs, .hold = tc_.forced_epochs};
        note_ = "curriculum: gold forced for " + fixed(tc_.forced_epochs) + " epochs, then mixed over " + fixed(tc_.mix_epochs) +
                ", then pure retrieval; " + std::string(data::unit_name(unit)) + " passages; ";
        if (!tc_.eval_retrieval.empty()) {
            eval_sentences_ = data::sentence_counts(heldout);
            auto lists = data::read_ranked_passages(tc_.eval_retrieval, static_cast<std::size_t>(tc_.passages));
            for (const auto& r : eval_set_) {
                const auto it = lists.by_id.find(r.id);
                if (it == lists.by_id.end())
                    throw format_error(tc_.eval_retrieval + ": held-out question \"" + r.id + "\" has no ranked passages (--eval-retrieval)");
                eval_lists_.emplace(r.id, std::move(it->second));
            }
        }
        if (tc_.retrieval.empty()) {
            corpus_ = data::unit_corpus(records_, unit);
            note_ += "candidates: BM25 over each question's own paragraphs";
            return curriculum<annealed_mix>::from_scorer(corpus_, records_, data::bm25_scorer(corpus_), co, schedule);
        }
        // the passages a ranked list may name: every paragraph of the --corpus files (default: train and dev)
        std::vector<data::hotpot_record> pool;
        if (tc_.corpus.empty()) {
            pool = records_;
            pool.insert(pool.end(), heldout.begin(), heldout.end());
        } else
            pool = data::load_files(tc_.corpus, data::question_input(true));
        corpus_ = data::unit_corpus(pool, unit);
        const auto lists = data::read_ranked_passage_files(tc_.retrieval);
        std::size_t unmatched = 0;
        auto cur = curriculum<annealed_mix>::from_rankings(corpus_, records_, lists.by_id, co, schedule, &unmatched);
        note_ += "candidates: ranked lists of " + tc_.retrieval + " (" + std::to_string(unmatched) + " ranked passages not in the corpus)";
        return cur;
    }
    static std::string fixed(double x) {
        std::ostringstream o;
        o << x;
        return o.str();
    }
    /// f(param, m, v) for every LoRA A and B in the order of the optimiser's tensors (layer, target, A then B).
    template <class F>
    void for_each_tensor_set(F&& f) {
        auto& a = gen_.adapter();
        auto& ms = opt_.first_moments();
        auto& vs = opt_.second_moments();
        std::size_t i = 0;
        for (std::size_t l = 0; l < a.layers.size(); ++l)
            for (auto t : adapters::all_target_list)
                if (auto* m = a.find(l, t)) f(m->a, ms[i], vs[i]), f(m->b, ms[i + 1], vs[i + 1]), i += 2;
    }

    generator_train_config tc_;
    std::filesystem::path model_path_;
    bool checkpointing_;
    context ctx_;
    Generator gen_;
    tokenizers::tokenizer tok_;
    adapters::lora_grad_set<context> grads_;
    models::llama::lora_optimizer<context> opt_;
    std::vector<data::hotpot_record> records_, eval_set_;
    data::corpus corpus_;
    std::unordered_map<std::string, std::vector<data::passage>> eval_lists_;  // held-out "_id" -> ranked passages (--eval-retrieval)
    std::unordered_map<std::string, std::int64_t> eval_sentences_;
    std::string note_;
    curriculum<annealed_mix> cur_;
    std::int64_t total_ = 0;
    train::warmup_cosine_lr sched_{1.0f, 0, 1, 0.1f};
    data::prompt_options po_;
    std::vector<train::tensor_spec> specs_;
    models::llama::train_workspace<context> ws_;
    train::epoch_order_cache order_{2000};
};

}  // namespace hoprag::components
