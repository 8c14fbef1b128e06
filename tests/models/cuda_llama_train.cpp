// CUDA parity of LoRA training (models/llama/train.hpp): on the tiny random config the CUDA backend's
// loss and every A/B gradient match the CPU backend's, with an f32 and an NF4 base, checkpointing on
// and off, LoRA dropout on (same Philox masks on both backends), and with the block linears in bf16
// and f16 (mixed precision); one lora_optimizer step matches too.
#include <catch2/catch.hpp>

#include "hoprag/components/generator.hpp"
#include "hoprag/cpu/backend.hpp"
#include "hoprag/cuda/backend.hpp"
#include "hoprag/models/llama/lora_optimizer.hpp"
#include "hoprag/models/llama/train.hpp"
#include "models/llama_train_tiny.hpp"

using namespace hoprag;
namespace llama = hoprag::models::llama;

namespace {

/// compute: the block linears' GEMM type on both backends. In 16 bits a last-bit difference of an
/// f32 sum can round a later GEMM input one 16-bit step apart, so the tolerances widen.
template <class Quant>
void check_parity(bool checkpointing, float dropout, dtype compute = dtype::f32) {
    using cpu_gen = components::generator<Quant, adapters::lora<4, 8>, cpu::backend>;
    using gpu_gen = components::generator<Quant, adapters::lora<4, 8>, cuda::backend>;
    const auto c = test::train_tiny_config();
    const test::tiny_llama_tensors t(c, false, 7);
    cpu::context cctx;
    cuda::context gctx;
    cpu_gen cg(cctx, c, t.source(false), 3);
    gpu_gen gg(gctx, c, t.source(false), 3);
    cg.adapter().dropout = gg.adapter().dropout = dropout;
    test::randomize_adapters(cg.adapter(), 11);
    test::randomize_adapters(gg.adapter(), 11);
    cg.set_compute_type(compute), gg.set_compute_type(compute);
    const bool wide = compute != dtype::f32;
    const test::train_batch tb;
    llama::train_options o;
    o.checkpointing = checkpointing, o.dropout_seed = 9, o.step = 3;
    auto cgr = adapters::make_lora_grad_set(cctx, cg.adapter());
    auto ggr = adapters::make_lora_grad_set(gctx, gg.adapter());
    const float cl = llama::loss_and_grads(cctx, cg, tb.ids, tb.labels, tb.batch, tb.seq, cgr, o);
    const float gl = llama::loss_and_grads(gctx, gg, tb.ids, tb.labels, tb.batch, tb.seq, ggr, o);
    CHECK(std::abs(cl - gl) <= (wide ? 1e-3 : 1e-5) * std::abs(cl));
    const auto ch = test::host_grads(cgr), gh = test::host_grads(ggr);
    REQUIRE(ch.size() == gh.size());
    for (std::size_t i = 0; i < ch.size(); ++i) test::require_close(gh[i], ch[i], wide ? 3e-2 : 1e-3, wide ? 1e-4 : 1e-5, "gradient tensor " + std::to_string(i));

    llama::lora_optimizer<cpu::context> co(cctx, cg.adapter(), cgr);
    llama::lora_optimizer<cuda::context> go(gctx, gg.adapter(), ggr);
    const auto s = train::make_adamw_step(train::adamw_hparams{}, 1, 1e-3f);
    co.step(cctx, s), go.step(gctx, s);
    test::require_close(gg.adapter().find(1, adapters::target::down)->b.to_host(), cg.adapter().find(1, adapters::target::down)->b.to_host(), 1e-5,
                        1e-6, "B after a step");
}

}  // namespace

TEST_CASE("cuda llama lora training matches cpu", "[cuda][llama][train]") {
    check_parity<quant::none>(true, 0.0f);
    check_parity<quant::none>(false, 0.0f);
    check_parity<quant::nf4>(true, 0.0f);
    check_parity<quant::nf4>(true, 0.2f);
}

TEST_CASE("cuda llama lora training in bf16 and f16 matches cpu's 16-bit path", "[cuda][llama][train][mixed]") {
    for (dtype t : {dtype::bf16, dtype::f16}) {
        INFO(dtype_name(t));
        check_parity<quant::nf4>(true, 0.0f, t);
        check_parity<quant::none>(true, 0.0f, t);
    }
}
