// The CUDA policy satisfies the Backend concept: compiled wherever the CUDA backend is built.
#include <catch2/catch.hpp>

#include "hoprag/backend/concept.hpp"
#include "hoprag/cuda/backend.hpp"

static_assert(hoprag::backend<hoprag::cuda::backend>, "the CUDA policy must provide every op of backend/concept.hpp");

TEST_CASE("cuda policy names itself", "[cuda][backend]") { REQUIRE(std::string(hoprag::cuda::backend::name) == "cuda"); }
