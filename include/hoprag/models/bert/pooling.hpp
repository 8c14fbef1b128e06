// Pooling policies of the BERT bi-encoder (DESIGN rule 5: policies are types). A pooling policy
// names the pooling kind the backend's `sequence_pool` op runs and a short name recorded in index
// headers: `cls_pooling` takes the [CLS] state (BGE models), `mean_pooling` averages the real
// tokens (all-MiniLM and other sentence-transformers models).
#pragma once

#include <concepts>
#include <string_view>

#include "hoprag/kernels/pooling.hpp"

namespace hoprag::models::bert {

/// The [CLS] token's final hidden state (BGE).
struct cls_pooling {
    static constexpr kernels::pooling_kind kind = kernels::pooling_kind::cls;
    static constexpr std::string_view name = "cls";
};

/// The mean of the final hidden states of the real (non-padding) tokens (all-MiniLM).
struct mean_pooling {
    static constexpr kernels::pooling_kind kind = kernels::pooling_kind::mean;
    static constexpr std::string_view name = "mean";
};

/// A pooling policy: `P::kind` (kernels::pooling_kind) and `P::name` (a string for index headers).
template <class P>
concept pooling_policy = requires {
    { P::kind } -> std::convertible_to<kernels::pooling_kind>;
    { P::name } -> std::convertible_to<std::string_view>;
};

}  // namespace hoprag::models::bert
