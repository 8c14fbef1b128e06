// The MLP classifier as a `train::training_task`: the reference task of the training loop
// (hoprag-train-mlp). Synthetic data made deterministically from the seed (x ~ N(0, 1), label =
// argmax of a fixed random linear teacher), batches visited in train::epoch_order, AdamW with a
// warm-up + cosine schedule and global-norm clipping, held-out accuracy as "eval_acc".
// `--inject-nan-step` feeds a NaN input at one step (to test the loop's non-finite handling).
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/pfr.hpp>

#include "hoprag/core/error.hpp"
#include "hoprag/core/rng.hpp"
#include "hoprag/models/mlp/mlp.hpp"
#include "hoprag/train/checkpoint.hpp"
#include "hoprag/train/epoch_order.hpp"
#include "hoprag/train/gradients.hpp"
#include "hoprag/train/loop.hpp"
#include "hoprag/train/schedule.hpp"

namespace hoprag::mlp {

/// What changes the numbers (hashed into checkpoints).
struct train_config {
    std::int64_t seed = 0;
    std::int64_t inputs = 16, hidden = 32, classes = 4, batch = 16;
    std::int64_t train_examples = 512, eval_examples = 128;
    double lr = 3e-3;
    std::int64_t warmup_steps = 10, schedule_steps = 1000;
    double weight_decay = 0.01, max_grad_norm = 1.0;
    std::string nan_policy = "stop";
    static constexpr std::array<std::string_view, 13> field_names{"seed",   "inputs",        "hidden",         "classes",      "batch",
                                                                  "train_examples", "eval_examples", "lr", "warmup_steps",
                                                                  "schedule_steps", "weight_decay",  "max_grad_norm", "nan_policy"};
};

/// Throws config_error (naming the options as flags) when `c` cannot be trained.
inline void validate(const train_config& c) {
    if (c.batch < 1 || c.inputs < 1 || c.hidden < 1 || c.classes < 2 || c.train_examples < c.batch || c.eval_examples < 1)
        throw config_error("need --batch >= 1, --inputs >= 1, --hidden >= 1, --classes >= 2, --train-examples >= --batch, --eval-examples >= 1");
    if (c.nan_policy != "skip" && c.nan_policy != "stop") throw config_error("--nan-policy must be skip or stop, got '" + c.nan_policy + "'");
}

/// Synthetic classification data.
struct dataset {
    std::vector<float> x;         // [n, inputs]
    std::vector<std::int32_t> y;  // [n]
};

/// `n` examples from Philox stream (seed, stream), labelled by the teacher of stream (seed, 50).
inline dataset make_data(const train_config& c, std::int64_t n, std::uint64_t stream) {
    dataset d{std::vector<float>(static_cast<std::size_t>(n * c.inputs)), std::vector<std::int32_t>(static_cast<std::size_t>(n))};
    const philox_stream xs{static_cast<std::uint64_t>(c.seed), stream}, teacher{static_cast<std::uint64_t>(c.seed), 50};
    for (std::size_t i = 0; i < d.x.size(); ++i) d.x[i] = xs.normal(i);
    for (std::int64_t e = 0; e < n; ++e) {
        double best = -INFINITY;
        for (std::int64_t k = 0; k < c.classes; ++k) {
            double s = 0.0;
            for (std::int64_t j = 0; j < c.inputs; ++j)
                s += d.x[static_cast<std::size_t>(e * c.inputs + j)] * teacher.normal(static_cast<std::uint64_t>(k * c.inputs + j));
            if (s > best) best = s, d.y[static_cast<std::size_t>(e)] = static_cast<std::int32_t>(k);
        }
    }
    return d;
}

/// The MLP training task on backend `Backend` for `max_steps` steps.
template <class Backend>
class train_task {
public:
    using context = typename Backend::context;

    train_task(const train_config& tc, std::int64_t max_steps, std::int64_t inject_nan_step = -1)
        : tc_((validate(tc), tc)), mc_{tc.inputs, tc.hidden, tc.classes}, max_steps_(max_steps), inject_nan_step_(inject_nan_step),
          ctx_(static_cast<std::uint64_t>(tc.seed)), params_(allocate_parameters(ctx_, mc_)), grads_(allocate_parameters(ctx_, mc_)),
          m_(allocate_parameters(ctx_, mc_)), v_(allocate_parameters(ctx_, mc_)), act_(allocate_activations(ctx_, mc_, tc.batch)),
          eval_act_(allocate_activations(ctx_, mc_, tc.eval_examples)), dlogits_(ctx_, static_cast<std::size_t>(tc.batch * tc.classes)),
          dhidden_(ctx_, static_cast<std::size_t>(tc.batch * tc.hidden)), xb_(ctx_, static_cast<std::size_t>(tc.batch * tc.inputs)),
          yb_(ctx_, static_cast<std::size_t>(tc.batch)), train_(make_data(tc, tc.train_examples, 100)),
          eval_(make_data(tc, tc.eval_examples, 101)), eval_x_(ctx_, eval_.x), eval_y_(ctx_, eval_.y),
          sched_(static_cast<float>(tc.lr), tc.warmup_steps, tc.schedule_steps, 0.1f) {
        initialize(ctx_, mc_, params_);
        for (auto* p : {&m_, &v_}) boost::pfr::for_each_field(*p, [&](auto& b) { zero_fill(ctx_, b.data(), static_cast<std::int64_t>(b.size())); });
        tensors_ = adamw_tensors(params_, m_, v_, grads_);
    }

    std::int64_t total_steps() const { return max_steps_; }

    std::vector<train::tensor_spec> specs() const {
        return {{"w1", {tc_.inputs, tc_.hidden}}, {"b1", {tc_.hidden}}, {"w2", {tc_.hidden, tc_.classes}}, {"b2", {tc_.classes}}};
    }
    train::task_tensors tensors() const {
        const auto s = specs();
        return {train::gather_tensors(params_, s), train::gather_tensors(m_, s), train::gather_tensors(v_, s)};
    }
    void restore(const train::task_tensors& t) {
        train::scatter_tensors(params_, t.params);
        train::scatter_tensors(m_, t.adam_m);
        train::scatter_tensors(v_, t.adam_v);
    }

    train::step_outcome step(train::training_state& st) {
        const std::int64_t n_batches = tc_.train_examples / tc_.batch;
        if (st.data_position >= n_batches) ++st.epoch, st.data_position = 0;
        const auto& order = order_.at(st.rng_seed, st.epoch, static_cast<std::size_t>(tc_.train_examples));
        st.rng_counter = 1000 + static_cast<std::uint64_t>(st.epoch) + 1;  // next unused shuffle stream
        auto& hx = hx_;
        auto& hy = hy_;
        for (std::int64_t b = 0; b < tc_.batch; ++b) {
            const auto e = static_cast<std::int64_t>(order[static_cast<std::size_t>(st.data_position * tc_.batch + b)]);
            std::copy_n(train_.x.begin() + e * tc_.inputs, tc_.inputs, hx.begin() + b * tc_.inputs);
            hy[static_cast<std::size_t>(b)] = train_.y[static_cast<std::size_t>(e)];
        }
        if (st.step + 1 == inject_nan_step_) hx[0] = NAN;
        ++st.data_position;
        xb_.assign(hx);
        yb_.assign(hy);
        zero(ctx_, grads_);
        forward(ctx_, mc_, params_, act_, xb_.data(), yb_.data(), tc_.batch);
        double loss = 0.0;
        for (float l : act_.loss.to_host()) loss += l;
        loss /= static_cast<double>(tc_.batch);
        if (!std::isfinite(loss)) return {.loss = loss, .finite = false};
        backward(ctx_, mc_, params_, act_, grads_, dlogits_, dhidden_, xb_.data(), yb_.data(), tc_.batch, tc_.batch);
        const auto rep = train::inspect_grads(ctx_, std::span<const train::adamw_tensor>(tensors_), 1.0f, tc_.max_grad_norm);
        if (!rep.finite) return {.loss = loss, .finite = false};
        const std::int64_t t = st.step - st.scaler.skipped_steps;  // skipped steps do not advance AdamW's t
        const float lr = sched_.lr(t);
        adamw_update(ctx_, std::span<const train::adamw_tensor>(tensors_),
                     train::make_adamw_step({.weight_decay = static_cast<float>(tc_.weight_decay)}, t + 1, lr, rep.grad_scale));
        ++st.step;
        return {.loss = loss, .values = {{"lr", lr}, {"grad_norm", rep.norm}}};
    }

    train::metric_values evaluate(const train::training_state&) {
        forward(ctx_, mc_, params_, eval_act_, eval_x_.data(), eval_y_.data(), tc_.eval_examples);
        const auto logits = eval_act_.logits.to_host();
        std::int64_t right = 0;
        for (std::int64_t e = 0; e < tc_.eval_examples; ++e) {
            const auto* row = logits.data() + e * tc_.classes;
            right += std::max_element(row, row + tc_.classes) - row == eval_.y[static_cast<std::size_t>(e)];
        }
        return {{"eval_acc", static_cast<double>(right) / static_cast<double>(tc_.eval_examples)}};
    }

private:
    train_config tc_;
    config mc_;
    std::int64_t max_steps_, inject_nan_step_;
    context ctx_;
    parameters<context> params_, grads_, m_, v_;
    activations<context> act_, eval_act_;
    buffer<context, float> dlogits_, dhidden_, xb_;
    buffer<context, std::int32_t> yb_;
    dataset train_, eval_;
    buffer<context, float> eval_x_;
    buffer<context, std::int32_t> eval_y_;
    train::warmup_cosine_lr sched_;
    std::vector<train::adamw_tensor> tensors_;
    train::epoch_order_cache order_{1000};
    std::vector<float> hx_ = std::vector<float>(static_cast<std::size_t>(tc_.batch * tc_.inputs));  // [batch, inputs] host batch
    std::vector<std::int32_t> hy_ = std::vector<std::int32_t>(static_cast<std::size_t>(tc_.batch));  // [batch]
};

}  // namespace hoprag::mlp
