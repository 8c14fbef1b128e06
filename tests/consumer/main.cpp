// Uses installed hoprag headers: a bf16 round trip, an arena and a backend buffer.
#include <cstdio>
#include <vector>

#include "hoprag/backend/buffer.hpp"
#include "hoprag/core/arena.hpp"
#include "hoprag/core/dtype.hpp"
#include "hoprag/cpu/backend.hpp"

int main() {
    hoprag::cpu::context ctx(7);
    hoprag::buffer<hoprag::cpu::context, float> buf(ctx, std::vector<float>{1.5f, -2.25f});
    const float back = hoprag::bf16::from_float(buf.to_host()[1]).to_float();
    hoprag::arena_plan plan;
    plan.reserve<float>("x", 10);
    if (back != -2.25f || plan.bytes() == 0) return 1;
    std::puts("consumer ok");
    return 0;
}
