// Adapter slots of a Llama-family block and the Adapter policy concept. `target` names the seven
// linear layers an adapter may wrap (q, k, v, o, gate, up, down, in the order of their PEFT module
// names), `target_set` is a compile-time set of them (a structural type, usable as a template
// argument), and `adapter_policy` is what the Adapter slot of `components::generator` requires:
// a `name`, an `enabled` flag and, when enabled, `rank`, `alpha`, `scale` and `targets`.
#pragma once

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string_view>

namespace hoprag::adapters {

/// The linear layers of a decoder block, in PEFT module order.
enum class target : std::uint8_t { q, k, v, o, gate, up, down };
inline constexpr std::size_t target_count = 7;
inline constexpr std::array<target, target_count> all_target_list = {target::q, target::k, target::v, target::o,
                                                                      target::gate, target::up, target::down};
/// PEFT `target_modules` names.
inline constexpr std::array<std::string_view, target_count> peft_module_names = {"q_proj", "k_proj", "v_proj", "o_proj",
                                                                                  "gate_proj", "up_proj", "down_proj"};
/// Module paths inside a Hugging Face Llama decoder layer.
inline constexpr std::array<std::string_view, target_count> hf_module_paths = {
    "self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"};

/// A set of targets (bit i = target i). Structural, so `lora<16, 32, target_set{...}>` works.
struct target_set {
    std::uint32_t bits = 0;
    constexpr bool contains(target t) const { return (bits >> static_cast<unsigned>(t)) & 1u; }
    constexpr target_set with(target t) const { return {bits | (1u << static_cast<unsigned>(t))}; }
    constexpr std::size_t size() const {
        std::size_t n = 0;
        for (auto t : all_target_list) n += contains(t);
        return n;
    }
    static constexpr target_set of(std::initializer_list<target> ts) {
        target_set s;
        for (auto t : ts) s = s.with(t);
        return s;
    }
    constexpr bool operator==(const target_set&) const = default;
};

inline constexpr target_set all_targets = target_set::of({target::q, target::k, target::v, target::o, target::gate, target::up, target::down});
inline constexpr target_set attention_targets = target_set::of({target::q, target::k, target::v, target::o});

/// What the Adapter slot needs: a `name` and `enabled`; enabled adapters also give `rank` (> 0),
/// `alpha`, `scale` (alpha / rank) and `targets` (a target_set).
template <class A>
concept adapter_policy = requires {
    { A::name } -> std::convertible_to<const char*>;
    { A::enabled } -> std::convertible_to<bool>;
    { A::rank } -> std::convertible_to<std::int64_t>;
    { A::alpha } -> std::convertible_to<double>;
    { A::scale } -> std::convertible_to<float>;
    { A::targets } -> std::convertible_to<target_set>;
};

}  // namespace hoprag::adapters
