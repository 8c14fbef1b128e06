// Arena planning and allocation, shapes and strided views.
#include <catch2/catch.hpp>

#include <vector>

#include "hoprag/backend/profile.hpp"
#include "hoprag/core/arena.hpp"
#include "hoprag/core/shape.hpp"

using namespace hoprag;

TEST_CASE("an arena planned by arena_plan serves the same requests at the same offsets", "[arena]") {
    arena_plan plan;
    const auto o1 = plan.reserve<float>("w", 100);
    const auto o2 = plan.reserve<double>("v", 3);
    REQUIRE(o1 == 0);
    REQUIRE(o2 == align_up(400, arena_alignment));
    std::vector<std::byte> mem(plan.bytes());
    arena a(mem.data(), mem.size());
    REQUIRE(reinterpret_cast<std::byte*>(a.take<float>("w", 100)) == mem.data() + o1);
    REQUIRE(reinterpret_cast<std::byte*>(a.take<double>("v", 3)) == mem.data() + o2);
    REQUIRE_THROWS_AS(a.take<float>("extra", 1000), config_error);
    a.reset();
    REQUIRE(a.used() == 0);
}

TEST_CASE("views slice, transpose and reshape without copying", "[shape]") {
    std::vector<int> d(24);
    for (int i = 0; i < 24; ++i) d[static_cast<std::size_t>(i)] = i;
    view<int> v(d.data(), shape{2, 3, 4});
    REQUIRE(v.numel() == 24);
    REQUIRE(v(1, 2, 3) == 23);
    auto s = v.slice(1, 1, 2);
    REQUIRE(s(0, 0, 0) == 4);
    REQUIRE(s(1, 1, 2) == 12 + 8 + 2);
    REQUIRE_FALSE(s.contiguous());
    auto t = v.transposed(0, 2);
    REQUIRE(t.size(0) == 4);
    REQUIRE(t(3, 2, 1) == v(1, 2, 3));
    REQUIRE(v.reshaped(shape{6, 4})(5, 3) == 23);
    REQUIRE_THROWS_AS(v.reshaped(shape{5, 5}), shape_error);
    REQUIRE_THROWS_AS(v.slice(1, 2, 2), shape_error);
    REQUIRE_THROWS_AS(s.reshaped(shape{16}), shape_error);
}

TEST_CASE("select_profile picks the profile of the device present", "[profile]") {
    REQUIRE(select_profile(std::nullopt).name == "cpu");
    REQUIRE(select_profile(gpu_summary{75, 16ull * gib}).name == "t4");
    REQUIRE(select_profile(gpu_summary{75, 16ull * gib}).compute_type == dtype::f16);
    REQUIRE(select_profile(gpu_summary{80, 80ull * gib}).name == "a100");
    REQUIRE(select_profile(gpu_summary{80, 80ull * gib}).memory_bytes == 79ull * gib);
    REQUIRE(select_profile(gpu_summary{90, 80ull * gib}).compute_type == dtype::bf16);
    REQUIRE(select_profile(gpu_summary{70, 32ull * gib}).name == "cpu");
    REQUIRE(select_profile(gpu_summary{90, 80ull * gib}).max_sequence == 4096);
}
