// CUDA parity of the Llama decoder: the tiny random config's prefill, KV-cache decode steps and
// right-padded batched prefill on the CUDA backend match the CPU backend; greedy generation gives
// the same tokens. (SmolLM2's golden check runs on the CPU in tests/models/test_llama_golden.cpp.)
#include <catch2/catch.hpp>

#include "hoprag/cpu/backend.hpp"
#include "hoprag/cuda/backend.hpp"
#include "hoprag/models/llama/generate.hpp"
#include "models/llama_tiny.hpp"

using namespace hoprag;
namespace llama = hoprag::models::llama;

TEST_CASE("cuda llama forward, decode and generate match cpu", "[cuda][llama]") {
    const std::vector<std::int32_t> ids = {1, 5, 36, 7, 7, 0, 12, 30, 2, 9, 11};
    for (std::int64_t window : {0, 3}) {
        const auto c = test::tiny_llama_config(window);
        const test::tiny_llama_tensors t(c, false, 21);
        cpu::context cctx;
        cuda::context gctx;
        const auto cm = llama::load_weights(cctx, c, t.source(false));
        const auto gm = llama::load_weights(gctx, c, t.source(false));
        const auto n = static_cast<std::int64_t>(ids.size());
        test::require_close(llama::forward(gctx, gm, nullptr, ids, 1, n), llama::forward(cctx, cm, nullptr, ids, 1, n), 1e-4, 1e-4, "prefill");

        llama::kv_cache<cpu::context> ccache(cctx, c, 1, n);
        llama::kv_cache<cuda::context> gcache(gctx, c, 1, n);
        const std::span<const std::int32_t> all(ids);
        test::require_close(llama::forward(gctx, gm, &gcache, all.first(4), 1, 4), llama::forward(cctx, cm, &ccache, all.first(4), 1, 4), 1e-4, 1e-4, "cached prefill");
        for (std::int64_t i = 4; i < n; ++i)
            test::require_close(llama::forward(gctx, gm, &gcache, all.subspan(i, 1), 1, 1), llama::forward(cctx, cm, &ccache, all.subspan(i, 1), 1, 1),
                                1e-4, 1e-4, "decode " + std::to_string(i));

        std::vector<std::int32_t> padded(ids.begin(), ids.end());
        padded.insert(padded.end(), ids.begin(), ids.begin() + 5);
        padded.resize(22, 3);
        const std::vector<std::int64_t> last = {10, 4};
        test::require_close(llama::forward(gctx, gm, nullptr, padded, 2, 11, last), llama::forward(cctx, cm, nullptr, padded, 2, 11, last), 1e-4, 1e-4, "batched");

        llama::generate_options o;
        o.max_new_tokens = 8;
        o.stop_at_eos = false;
        CHECK(llama::generate(gctx, gm, all.first(3), o).tokens == llama::generate(cctx, cm, all.first(3), o).tokens);
    }
}
