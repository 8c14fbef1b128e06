// Reading a HotpotQA prediction file in the official format
//     {"answer": {"<_id>": "answer text", ...}, "sp": {"<_id>": [["title", sent_id], ...], ...}}
// (the format hotpot_evaluate_v1.py reads), with nlohmann::json since the file is small (a few MB
// for the 7,405-question dev set). Both top-level keys are required, as in the official script;
// other top-level keys are ignored. A wrong type anywhere raises hoprag::format_error naming the
// file, the id and what was found. `write_hotpot_predictions` writes the same format durably
// (keys sorted, so equal predictions give equal bytes).
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <string>

#include "hoprag/core/error.hpp"
#include "hoprag/eval/hotpot_metrics.hpp"
#include "hoprag/io/durable_file.hpp"

namespace hoprag::eval {

/// Parses predictions from JSON text; `where` names the source in error messages.
[[nodiscard]] inline hotpot_predictions parse_hotpot_predictions(const std::string& text, const std::string& where) {
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error& e) {
        throw format_error(where + ": invalid JSON: " + e.what());
    }
    if (!j.is_object()) throw format_error(where + ": expected a JSON object {\"answer\": {...}, \"sp\": {...}}");
    for (const char* key : {"answer", "sp"})
        if (!j.contains(key) || !j[key].is_object())
            throw format_error(where + ": missing or non-object top-level key \"" + key +
                               "\" (expected {\"answer\": {id: text}, \"sp\": {id: [[title, sent_id], ...]}})");
    hotpot_predictions p;
    p.answer.reserve(j["answer"].size());
    for (const auto& [id, v] : j["answer"].items()) {
        if (!v.is_string())
            throw format_error(where + ": answer of id \"" + id + "\" is a " + v.type_name() + ", expected a string");
        p.answer.emplace(id, v.get<std::string>());
    }
    p.sp.reserve(j["sp"].size());
    for (const auto& [id, v] : j["sp"].items()) {
        if (!v.is_array())
            throw format_error(where + ": sp of id \"" + id + "\" is a " + v.type_name() +
                               ", expected an array of [title, sent_id]");
        std::vector<data::supporting_fact> facts;
        facts.reserve(v.size());
        for (std::size_t i = 0; i < v.size(); ++i) {
            const auto& e = v[i];
            if (!e.is_array() || e.size() != 2 || !e[0].is_string() || !e[1].is_number_integer())
                throw format_error(where + ": sp of id \"" + id + "\" entry " + std::to_string(i) + " is " + e.dump() +
                                   ", expected [title, integer sent_id]");
            facts.push_back({e[0].get<std::string>(), e[1].get<std::int64_t>()});
        }
        p.sp.emplace(id, std::move(facts));
    }
    return p;
}

/// Reads predictions from `path`; io_error if unreadable, format_error if malformed.
[[nodiscard]] inline hotpot_predictions read_hotpot_predictions(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw io_error("cannot open " + path.string() + " for reading");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) throw io_error("read error in " + path.string());
    return parse_hotpot_predictions(text, path.string());
}

/// The official JSON form of `p`: {"answer": {id: text}, "sp": {id: [[title, sent_id], ...]}}.
[[nodiscard]] inline nlohmann::json hotpot_predictions_json(const hotpot_predictions& p) {
    nlohmann::json j = {{"answer", nlohmann::json::object()}, {"sp", nlohmann::json::object()}};
    for (const auto& [id, a] : p.answer) j["answer"][id] = a;
    for (const auto& [id, facts] : p.sp) {
        auto& list = j["sp"][id] = nlohmann::json::array();
        for (const auto& f : facts) list.push_back({f.title, f.sent_id});
    }
    return j;
}

/// Writes `p` to `path` durably (temporary file, fsync, rename); io_error on failure.
inline void write_hotpot_predictions(const std::filesystem::path& path, const hotpot_predictions& p) {
    io::write_file_durably(path, hotpot_predictions_json(p).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
}

}  // namespace hoprag::eval
