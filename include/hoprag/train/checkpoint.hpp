// Training checkpoints: everything exact resume needs, in ONE safetensors file written durably
// (DESIGN rule 8). Tensors: the trainable parameters only (`param.<name>`; for LoRA the caller
// passes the adapters, never the frozen base) and the AdamW moments (`adamw.m.<name>`,
// `adamw.v.<name>`), all F32 and bit exact. `__metadata__` holds "format" ("hoprag.checkpoint.v1"),
// "state" (JSON of `training_state`: optimiser step, epoch, data-loader position, RNG seed and
// counter, gradient-accumulation position, loss-scaler state, trainer extras), "config" (the full
// config as JSON, see config_json.hpp), "config_hash" and "hoprag_version". `load_checkpoint`
// validates format, names, shapes and the config hash: a different config throws config_error
// listing the keys that differ unless `load_options::allow_config_change` is set. A trainer whose
// other files already hold every parameter bit for bit (the generator's PEFT adapter file: same
// names, F32) saves without the `param.` copies (`params_in` names that file, in the same folder,
// and the metadata records it), so a 7B adapter checkpoint stores its 168 MB of weights once.
// `gather_tensors` / `scatter_tensors` move a PFR-walked parameter struct of backend buffers to and
// from the host-side `named_tensor`s by field order.
#pragma once

#include <boost/pfr.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hoprag/core/config.hpp"
#include "hoprag/core/error.hpp"
#include "hoprag/core/shape.hpp"
#include "hoprag/io/safetensors.hpp"
#include "hoprag/train/config_json.hpp"
#include "hoprag/train/loss_scaler.hpp"

namespace hoprag::train {

inline constexpr const char* checkpoint_format = "hoprag.checkpoint.v1";

/// Name and shape of one trainable tensor.
struct tensor_spec {
    std::string name;  // e.g. "w1", "layers.0.attn.q.lora_a"
    shape dims;        // extents, numel = element count
};

/// A host copy of one f32 tensor.
struct named_tensor {
    std::string name;
    shape dims;
    std::vector<float> data;  // [dims.numel()]
};

/// Scalar state of a run (everything except tensors and config).
struct training_state {
    std::int64_t step = 0;           // optimiser steps taken (AdamW's t of the last update)
    std::int64_t epoch = 0;          // passes over the data completed
    std::int64_t data_position = 0;  // examples (or batches) consumed in the current epoch
    std::uint64_t rng_seed = 0;      // seed of every random stream
    std::uint64_t rng_counter = 0;   // next unused stream/draw counter
    std::int64_t accum_done = 0;     // micro-batches accumulated in an unfinished window
    loss_scaler_state scaler{};      // dynamic loss scaler (or defaults when unused)
    nlohmann::json extra = nlohmann::json::object();  // trainer-specific values (best metric, ...)
};

/// The contents of a checkpoint.
struct checkpoint {
    std::vector<named_tensor> params;  // trainable parameters only
    std::vector<named_tensor> adam_m;  // first moments, same names/shapes as params (or empty)
    std::vector<named_tensor> adam_v;  // second moments, same names/shapes as params (or empty)
    training_state state;
    nlohmann::ordered_json config = nlohmann::ordered_json::object();  // full run config
};

struct load_options {
    bool allow_config_change = false;  // true: load despite a different config hash
    bool require_optimizer = true;     // false: a checkpoint without moments is accepted
};

namespace detail {

inline nlohmann::json state_to_json(const training_state& s) {
    return {{"step", s.step},
            {"epoch", s.epoch},
            {"data_position", s.data_position},
            {"rng_seed", s.rng_seed},
            {"rng_counter", s.rng_counter},
            {"accum_done", s.accum_done},
            {"scaler", {{"scale", s.scaler.scale},
                        {"good_steps", s.scaler.good_steps},
                        {"skipped_steps", s.scaler.skipped_steps},
                        {"consecutive_skips", s.scaler.consecutive_skips}}},
            {"extra", s.extra}};
}

inline training_state state_from_json(const nlohmann::json& j, const std::string& origin) {
    const auto get = [&](const nlohmann::json& o, const char* key, auto& out) {
        const auto it = o.find(key);
        if (it == o.end() || !it->is_number())
            throw format_error("checkpoint '" + origin + "': state key '" + key + "' is missing or not a number");
        out = it->get<std::remove_reference_t<decltype(out)>>();
    };
    training_state s;
    get(j, "step", s.step);
    get(j, "epoch", s.epoch);
    get(j, "data_position", s.data_position);
    get(j, "rng_seed", s.rng_seed);
    get(j, "rng_counter", s.rng_counter);
    get(j, "accum_done", s.accum_done);
    const auto sc = j.find("scaler");
    if (sc == j.end() || !sc->is_object()) throw format_error("checkpoint '" + origin + "': state key 'scaler' is missing");
    get(*sc, "scale", s.scaler.scale);
    get(*sc, "good_steps", s.scaler.good_steps);
    get(*sc, "skipped_steps", s.scaler.skipped_steps);
    get(*sc, "consecutive_skips", s.scaler.consecutive_skips);
    if (const auto e = j.find("extra"); e != j.end()) s.extra = *e;
    return s;
}

inline void append_entries(std::vector<io::safetensors_entry>& out, const std::vector<named_tensor>& ts, const std::string& prefix,
                           const std::filesystem::path& path) {
    for (const auto& t : ts) {
        if (static_cast<std::int64_t>(t.data.size()) != t.dims.numel())
            throw shape_error("save_checkpoint '" + path.string() + "': tensor '" + t.name + "' has " + std::to_string(t.data.size()) +
                              " values but shape " + t.dims.str());
        out.push_back({prefix + t.name, io::st_dtype::f32, t.dims,
                       std::as_bytes(std::span<const float>(t.data.data(), t.data.size()))});
    }
}

/// Top-level keys whose values differ between two config objects (for the mismatch message).
inline std::string config_diff(const nlohmann::ordered_json& saved, const nlohmann::ordered_json& now) {
    std::string out;
    std::set<std::string> keys;
    if (saved.is_object())
        for (const auto& [k, v] : saved.items()) keys.insert(k);
    if (now.is_object())
        for (const auto& [k, v] : now.items()) keys.insert(k);
    for (const auto& k : keys) {
        const std::string a = saved.contains(k) ? saved[k].dump() : "<absent>";
        const std::string b = now.contains(k) ? now[k].dump() : "<absent>";
        if (a != b) out += (out.empty() ? "" : ", ") + k + ": " + a + " -> " + b;
    }
    return out;
}

}  // namespace detail

/// Writes `c` to `path` durably (temporary file, fsync, rename, folder fsync): a kill or a full
/// disk at any moment leaves the previous file at `path` intact. Throws shape_error if a tensor's
/// size disagrees with its shape or the moments do not match the parameters, io_error on write
/// failure (the message names the file and the system error, e.g. "No space left on device").
/// With `params_in` (a file name) the parameters are not written: that file beside `path` holds them.
inline void save_checkpoint(const std::filesystem::path& path, const checkpoint& c, const std::string& params_in = {}) {
    const bool has_opt = !c.adam_m.empty() || !c.adam_v.empty();
    if (has_opt) {
        if (c.adam_m.size() != c.params.size() || c.adam_v.size() != c.params.size())
            throw shape_error("save_checkpoint '" + path.string() + "': " + std::to_string(c.params.size()) + " parameters but " +
                              std::to_string(c.adam_m.size()) + " first and " + std::to_string(c.adam_v.size()) + " second moments");
        for (std::size_t i = 0; i < c.params.size(); ++i)
            if (c.adam_m[i].name != c.params[i].name || c.adam_v[i].name != c.params[i].name || !(c.adam_m[i].dims == c.params[i].dims) ||
                !(c.adam_v[i].dims == c.params[i].dims))
                throw shape_error("save_checkpoint '" + path.string() + "': moments of '" + c.params[i].name +
                                  "' do not match its name and shape " + c.params[i].dims.str());
    }
    std::vector<io::safetensors_entry> entries;
    if (params_in.empty()) detail::append_entries(entries, c.params, "param.", path);
    if (has_opt) {
        detail::append_entries(entries, c.adam_m, "adamw.m.", path);
        detail::append_entries(entries, c.adam_v, "adamw.v.", path);
    }
    std::map<std::string, std::string> meta{{"format", checkpoint_format},
                                            {"state", detail::state_to_json(c.state).dump()},
                                            {"config", c.config.dump()},
                                            {"config_hash", config_hash(c.config)},
                                            {"hoprag_version", HOPRAG_VERSION_STRING}};
    if (!params_in.empty()) meta["params_in"] = params_in;
    io::write_safetensors(path, entries, meta);
}

/// Reads the checkpoint at `path` and checks it against the model: every tensor of `expected` must
/// be there with the same shape and no other parameter may be (shape_error / format_error naming
/// the tensor); the moments must be there unless `opt.require_optimizer` is false; the saved config
/// hash must equal that of `config` (config_error listing the differing keys, unless
/// `opt.allow_config_change`). Throws io_error if the file cannot be read, format_error if it is
/// not a hoprag checkpoint.
inline checkpoint load_checkpoint(const std::filesystem::path& path, std::span<const tensor_spec> expected,
                                  const nlohmann::ordered_json& config, load_options opt = {}) {
    const io::safetensors_file f(path);
    const std::string origin = path.string();
    const auto& meta = f.metadata();
    const auto meta_at = [&](const char* key) -> const std::string& {
        const auto it = meta.find(key);
        if (it == meta.end()) throw format_error("checkpoint '" + origin + "': metadata key '" + key + "' is missing; not a hoprag checkpoint?");
        return it->second;
    };
    if (meta_at("format") != checkpoint_format)
        throw format_error("checkpoint '" + origin + "': format '" + meta_at("format") + "', expected '" + checkpoint_format + "'");
    checkpoint c;
    const auto state = nlohmann::json::parse(meta_at("state"), nullptr, false);
    if (state.is_discarded() || !state.is_object()) throw format_error("checkpoint '" + origin + "': metadata 'state' is not a JSON object");
    c.state = detail::state_from_json(state, origin);
    const auto saved_config = nlohmann::ordered_json::parse(meta_at("config"), nullptr, false);
    if (saved_config.is_discarded()) throw format_error("checkpoint '" + origin + "': metadata 'config' is not JSON");
    c.config = saved_config;
    const std::string want_hash = config_hash(config);
    if (meta_at("config_hash") != want_hash && !opt.allow_config_change)
        throw config_error("checkpoint '" + origin + "' was written with config " + meta_at("config_hash") + ", this run has " + want_hash +
                           " (" + detail::config_diff(saved_config, config) +
                           "); resume with the original config or allow the change explicitly");

    // the parameters: "param.NAME" here, or NAME in the file the metadata names beside this one
    std::optional<io::safetensors_file> params_file;
    if (const auto it = meta.find("params_in"); it != meta.end()) {
        if (it->second.empty() || it->second.find('/') != std::string::npos)
            throw format_error("checkpoint '" + origin + "': metadata 'params_in' is not a file name");
        params_file.emplace(path.parent_path() / it->second);
    }
    const auto read_from = [&](const io::safetensors_file& src, const std::string& full, const tensor_spec& spec, bool required,
                               std::vector<named_tensor>& out) {
        const std::string where = src.path().string();
        const io::safetensors_tensor* t = src.find(full);
        if (!t) {
            if (required) throw format_error("checkpoint '" + where + "': tensor '" + full + "' is missing");
            return false;
        }
        if (t->type != io::st_dtype::f32)
            throw format_error("checkpoint '" + where + "': tensor '" + full + "' is " + std::string(io::st_dtype_name(t->type)) + ", expected F32");
        // the parameters' own file may keep a matrix shape where the spec is flat: same values in order
        if (&src == &f ? !(t->dims == spec.dims) : t->dims.numel() != spec.dims.numel())
            throw shape_error("checkpoint '" + where + "': tensor '" + full + "' has shape " + t->dims.str() + ", the model expects " +
                              spec.dims.str());
        named_tensor nt{spec.name, spec.dims, std::vector<float>(static_cast<std::size_t>(spec.dims.numel()))};
        if (!t->bytes.empty()) std::memcpy(nt.data.data(), t->bytes.data(), t->bytes.size());
        out.push_back(std::move(nt));
        return true;
    };
    const auto read = [&](const std::string& full, const tensor_spec& spec, bool required, std::vector<named_tensor>& out) {
        return read_from(f, full, spec, required, out);
    };
    std::set<std::string> known;
    bool any_moment = false, all_moments = true;
    for (const auto& spec : expected) {
        if (params_file) read_from(*params_file, spec.name, spec, true, c.params);
        else read("param." + spec.name, spec, true, c.params);
        const bool m = read("adamw.m." + spec.name, spec, opt.require_optimizer, c.adam_m);
        const bool v = read("adamw.v." + spec.name, spec, opt.require_optimizer, c.adam_v);
        any_moment = any_moment || m || v;
        all_moments = all_moments && m && v;
        known.insert("param." + spec.name);
        known.insert("adamw.m." + spec.name);
        known.insert("adamw.v." + spec.name);
    }
    if (any_moment && !all_moments) throw format_error("checkpoint '" + origin + "': optimiser moments are present for some tensors only");
    for (const bool params_first : {true, false})  // name the parameter rather than its moments
        for (const auto& t : f.tensors())
            if (!known.count(t.name) && (t.name.rfind("param.", 0) == 0) == params_first)
                throw format_error("checkpoint '" + origin + "': tensor '" + t.name + "' is not a trainable tensor of this model");
    return c;
}

/// Copies the buffers of a PFR-walked struct (fields in the order of `specs`, each a buffer with
/// `.size()` and `.to_host()`) into named host tensors. Throws shape_error on a size mismatch.
template <class Buffers>
std::vector<named_tensor> gather_tensors(const Buffers& b, std::span<const tensor_spec> specs) {
    if (specs.size() != boost::pfr::tuple_size_v<Buffers>)
        throw shape_error("gather_tensors: " + std::to_string(specs.size()) + " specs for a struct of " +
                          std::to_string(boost::pfr::tuple_size_v<Buffers>) + " fields");
    std::vector<named_tensor> out;
    boost::pfr::for_each_field(b, [&](const auto& buf, std::size_t i) {
        const auto& s = specs[i];
        if (static_cast<std::int64_t>(buf.size()) != s.dims.numel())
            throw shape_error("gather_tensors: field '" + s.name + "' holds " + std::to_string(buf.size()) + " values, spec " + s.dims.str());
        out.push_back({s.name, s.dims, buf.to_host()});
    });
    return out;
}

/// Copies named host tensors (in field order, names checked) into the buffers of a PFR-walked struct.
template <class Buffers>
void scatter_tensors(Buffers& b, const std::vector<named_tensor>& ts) {
    if (ts.size() != boost::pfr::tuple_size_v<Buffers>)
        throw shape_error("scatter_tensors: " + std::to_string(ts.size()) + " tensors for a struct of " +
                          std::to_string(boost::pfr::tuple_size_v<Buffers>) + " fields");
    boost::pfr::for_each_field(b, [&](auto& buf, std::size_t i) {
        if (buf.size() != ts[i].data.size())
            throw shape_error("scatter_tensors: tensor '" + ts[i].name + "' has " + std::to_string(ts[i].data.size()) + " values, field holds " +
                              std::to_string(buf.size()));
        buf.assign(ts[i].data);
    });
}

}  // namespace hoprag::train
