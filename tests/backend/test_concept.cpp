// Both backend policies satisfy the Backend concept (a compile-time check: this file does not
// compile if an op is missing or its signature drifts), and a type lacking ops does not.
#include <catch2/catch.hpp>

#include "hoprag/backend/concept.hpp"
#include "hoprag/cpu/backend.hpp"

namespace {
struct not_a_backend {
    struct context : hoprag::context {};
    static constexpr const char* name = "none";
};
}  // namespace

static_assert(hoprag::backend<hoprag::cpu::backend>, "the CPU policy must provide every op of backend/concept.hpp");
static_assert(!hoprag::backend<not_a_backend>, "a policy without ops must not satisfy the concept");

TEST_CASE("backend policies name themselves", "[backend]") { REQUIRE(std::string(hoprag::cpu::backend::name) == "cpu"); }
