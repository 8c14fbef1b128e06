// The model-agnostic LoRA adapter set (adapters/lora.hpp) over [out, in] shapes the caller gives:
//  * only targeted linears get an adapter: A [rank, in], B [out, rank] = 0, scale alpha / rank;
//  * A of (layer, target) is nn::make_lora's A from Philox stream (seed, 8 * layer + target);
//  * a bad rank, layer count or dropout is refused with config_error.
#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

#include "hoprag/adapters/lora.hpp"
#include "hoprag/cpu/backend.hpp"

using namespace hoprag;

TEST_CASE("lora adapters take the shapes of their linears from the caller", "[lora]") {
    cpu::context ctx;
    adapters::target_shapes shapes;
    for (auto t : adapters::all_target_list) shapes[static_cast<std::size_t>(t)] = shape{10 + static_cast<std::int64_t>(t), 6};
    const auto a = adapters::make_lora_adapters(ctx, shapes, 2, 3, 6.0, adapters::attention_targets, 7, 0.1f);
    REQUIRE(a.layers.size() == 2);
    CHECK(a.scale() == 2.0f);
    CHECK(a.dropout == 0.1f);
    CHECK(a.find(1, adapters::target::gate) == nullptr);
    CHECK(a.find(2, adapters::target::q) == nullptr);
    const auto* o = a.find(1, adapters::target::o);
    REQUIRE(o != nullptr);
    CHECK(o->out == 13);
    CHECK(o->in == 6);
    CHECK(o->rank == 3);
    CHECK(o->scale == 2.0f);
    CHECK(o->a.to_host() == nn::make_lora(ctx, 6, 13, 3, 6.0f, 7, 8 * 1 + 3).a.to_host());
    CHECK(o->b.to_host() == std::vector<float>(13 * 3, 0.0f));
    CHECK(a.parameter_count() == 2 * 3 * ((10 + 6) + (11 + 6) + (12 + 6) + (13 + 6)));

    CHECK_THROWS_AS(adapters::make_lora_adapters(ctx, shapes, 2, 0, 6.0, adapters::all_targets, 7), config_error);
    CHECK_THROWS_AS(adapters::make_lora_adapters(ctx, shapes, -1, 3, 6.0, adapters::all_targets, 7), config_error);
    CHECK_THROWS_AS(adapters::make_lora_adapters(ctx, shapes, 2, 3, 6.0, adapters::all_targets, 7, 1.0f), config_error);
}
