// CUDA GEMM parity: every case of the CPU GEMM test (transposes, odd sizes, padding, batches,
// alpha/beta/bias, bf16/f16 in and out) run on cuBLASLt and compared with the CPU GEMM on the same
// inputs and with the float64 reference; plus the same descriptor checks and an unaligned view.
#include <catch2/catch.hpp>

#include "hoprag/backend/buffer.hpp"
#include "hoprag/cpu/backend.hpp"
#include "hoprag/cuda/backend.hpp"
#include "support/gemm_cases.hpp"

using namespace hoprag;

namespace {

/// Run case `g` on the GPU; returns C's storage as floats.
std::vector<float> run_cuda(cuda::context& ctx, const test::gemm_data& g) {
    buffer<cuda::context, std::byte> a(ctx, g.a), b(ctx, g.b), c(ctx, g.c);
    buffer<cuda::context, float> bias(ctx, std::max<std::size_t>(g.bias.size(), 1));
    gemm_desc d = g.d;
    if (d.bias) {
        bias.assign(g.bias);
        d.bias = bias.data();
    }
    cuda::gemm(ctx, d, a.data(), b.data(), c.data());
    return test::load_as_float(d.c_type, c.to_host());
}

}  // namespace

TEST_CASE("cuda gemm matches the cpu gemm and the float64 reference", "[cuda][gemm]") {
    cuda::context gpu;
    cpu::context cpu;
    std::uint64_t seed = 500;
    for (const auto& gc : test::gemm_cases()) {
        auto g = test::make_gemm_data(gc, ++seed);
        INFO(gc.name());  // names the descriptor if cuda::gemm throws
        const auto got = run_cuda(gpu, g);
        auto host = g;
        cpu::gemm(cpu, host.d, host.a.data(), host.b.data(), host.c.data());
        const auto want_cpu = test::load_as_float(g.d.c_type, host.c);
        const double rtol = test::gemm_rtol(g.d.c_type), atol = test::gemm_atol(g.d.c_type, g.d.k);
        test::require_close(got, g.want, rtol, atol, gc.name() + " vs float64");
        // outputs rounded to 16 bits may land one ulp apart: twice the reference tolerance
        test::require_close(got, want_cpu, 2 * rtol, 2 * atol, gc.name() + " vs cpu");
    }
}

TEST_CASE("cuda gemm on views with odd offsets and the f32 fast path at a larger size", "[cuda][gemm]") {
    cuda::context gpu;
    test::gemm_case gc;
    gc.d.m = 300, gc.d.n = 257, gc.d.k = 129, gc.d.trans_a = true, gc.d.beta = 0.5f, gc.bias = true;
    auto g = test::make_gemm_data(gc, 9);
    // shift every matrix by one element so cuBLASLt sees 4-byte aligned pointers
    buffer<cuda::context, float> a(gpu, g.a.size() / 4 + 1), b(gpu, g.b.size() / 4 + 1), c(gpu, g.c.size() / 4 + 1),
        bias(gpu, g.bias);
    upload(gpu, a.data() + 1, g.a.data(), g.a.size());
    upload(gpu, b.data() + 1, g.b.data(), g.b.size());
    upload(gpu, c.data() + 1, g.c.data(), g.c.size());
    gemm_desc d = g.d;
    d.bias = bias.data();
    cuda::gemm(gpu, d, a.data() + 1, b.data() + 1, c.data() + 1);
    std::vector<float> got(g.c.size() / 4);
    download(gpu, got.data(), c.data() + 1, g.c.size());
    test::require_close(got, g.want, 1e-5, test::gemm_atol(dtype::f32, d.k), gc.name());
}

TEST_CASE("cuda gemm refuses bad descriptors like the cpu gemm", "[cuda][gemm]") {
    cuda::context gpu;
    buffer<cuda::context, float> a(gpu, 64), b(gpu, 64), c(gpu, 64);
    gemm_desc d;
    d.m = 4, d.n = 4, d.k = 4, d.lda = 3;
    CHECK_THROWS_AS(cuda::gemm(gpu, d, a.data(), b.data(), c.data()), shape_error);
    d.lda = 0, d.ab_type = dtype::i32;
    CHECK_THROWS_AS(cuda::gemm(gpu, d, a.data(), b.data(), c.data()), config_error);
    d.ab_type = dtype::f32;
    CHECK_THROWS_AS(cuda::gemm(gpu, d, a.data(), nullptr, c.data()), config_error);
}
