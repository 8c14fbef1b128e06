// The CUDA policy satisfies the Backend concept (compiled wherever the CUDA backend is built), and
// run-time profile detection sees the GPU.
#include <catch2/catch.hpp>

#include "hoprag/backend/concept.hpp"
#include "hoprag/cuda/backend.hpp"

static_assert(hoprag::backend<hoprag::cuda::backend>, "the CUDA policy must provide every op of backend/concept.hpp");

TEST_CASE("cuda policy names itself", "[cuda][backend]") { REQUIRE(std::string(hoprag::cuda::backend::name) == "cuda"); }

TEST_CASE("cuda::detect_profile picks a GPU profile for the device present", "[cuda][profile]") {
    const auto p = hoprag::cuda::detect_profile();
    const auto props = hoprag::cuda::properties(0);
    INFO(props.name << " sm_" << props.sm_major << props.sm_minor);
    REQUIRE(p.gpu == (10 * props.sm_major + props.sm_minor >= 75));
    REQUIRE(p.memory_bytes < props.total_memory);
}
