// HotpotQA loader: streams the official JSON-array files (hotpot_train_v1.1.json,
// hotpot_dev_distractor_v1.json, ...) and JSON Lines samples, parsing each record with simdjson and
// validating it (field presence and JSON types, known type/level, supporting-fact titles present in
// the context and sentence ids in range). Memory stays at one read buffer plus one record whatever
// the file size. A bad record raises hoprag::format_error naming the file, the record index (0-based),
// its "_id" and what is wrong -- or, with load_options::skip_invalid, is skipped and counted in
// load_stats. `for_each_record` hands records to a visitor as they are read; `load_all` collects them.
#pragma once

#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "hoprag/core/error.hpp"
#include "hoprag/data/file_list.hpp"
#include "hoprag/data/hotpotqa_record.hpp"
#include "hoprag/data/json_record_stream.hpp"

namespace hoprag::data {

/// How to load a HotpotQA file.
struct load_options {
    bool skip_invalid = false;      ///< skip (and count) bad records instead of throwing
    bool require_labels = true;     ///< false accepts unlabelled records (no answer/type/level/sp: the official test format)
    bool require_context = true;    ///< false accepts records without "context" (questions only, for retrieval over an index)
    std::size_t max_records = 0;    ///< stop after this many accepted records (0 = all)
    std::size_t max_messages = 20;  ///< how many skip messages load_stats keeps
};

/// What a load saw. `records_read` counts every top-level object, `accepted` those handed on.
struct load_stats {
    std::size_t records_read = 0;
    std::size_t accepted = 0;
    std::size_t skipped = 0;
    std::vector<std::string> skip_messages;  ///< the first load_options::max_messages reasons
    json_layout layout = json_layout::lines;
};

namespace detail {

/// Parse error carrying the record's id when it could be read.
struct record_parse_failure {
    std::string id;  // empty when unknown
    std::string what;
};

inline std::string_view type_name(simdjson::dom::element_type t) {
    using simdjson::dom::element_type;
    switch (t) {
        case element_type::ARRAY: return "array";
        case element_type::OBJECT: return "object";
        case element_type::INT64:
        case element_type::UINT64: return "integer";
        case element_type::DOUBLE: return "number";
        case element_type::STRING: return "string";
        case element_type::BOOL: return "boolean";
        case element_type::NULL_VALUE: return "null";
    }
    return "value";
}

// Reads field `key` of `obj` as a string into out; returns a problem or nullopt.
inline std::optional<std::string> read_string(simdjson::dom::object obj, std::string_view key, std::string& out,
                                              bool required) {
    simdjson::dom::element v;
    if (obj.at_key(key).get(v) != simdjson::SUCCESS) {
        if (required) return "missing field \"" + std::string(key) + "\"";
        return std::nullopt;
    }
    std::string_view s;
    if (v.get(s) != simdjson::SUCCESS)
        return "field \"" + std::string(key) + "\" is a " + std::string(type_name(v.type())) + ", expected a string";
    out.assign(s);
    return std::nullopt;
}

inline std::optional<std::string> parse_supporting_facts(simdjson::dom::element v, std::vector<supporting_fact>& out) {
    simdjson::dom::array arr;
    if (v.get(arr) != simdjson::SUCCESS)
        return "field \"supporting_facts\" is a " + std::string(type_name(v.type())) + ", expected an array";
    std::size_t i = 0;
    for (simdjson::dom::element e : arr) {
        simdjson::dom::array pair;
        std::string_view title;
        std::int64_t sent = 0;
        if (e.get(pair) != simdjson::SUCCESS || pair.size() != 2 || pair.at(0).get(title) != simdjson::SUCCESS ||
            pair.at(1).get(sent) != simdjson::SUCCESS)
            return "supporting fact " + std::to_string(i) + " is not a [title, sentence id] pair";
        out.push_back({std::string(title), sent});
        ++i;
    }
    return std::nullopt;
}

inline std::optional<std::string> parse_context(simdjson::dom::element v, std::vector<paragraph>& out) {
    simdjson::dom::array arr;
    if (v.get(arr) != simdjson::SUCCESS)
        return "field \"context\" is a " + std::string(type_name(v.type())) + ", expected an array";
    std::size_t i = 0;
    for (simdjson::dom::element e : arr) {
        simdjson::dom::array pair, sents;
        std::string_view title;
        if (e.get(pair) != simdjson::SUCCESS || pair.size() != 2 || pair.at(0).get(title) != simdjson::SUCCESS ||
            pair.at(1).get(sents) != simdjson::SUCCESS)
            return "context paragraph " + std::to_string(i) + " is not a [title, [sentence, ...]] pair";
        paragraph p;
        p.title.assign(title);
        p.sentences.reserve(sents.size());
        std::size_t j = 0;
        for (simdjson::dom::element s : sents) {
            std::string_view text;
            if (s.get(text) != simdjson::SUCCESS)
                return "context paragraph " + std::to_string(i) + " (\"" + p.title + "\") sentence " +
                       std::to_string(j) + " is a " + std::string(type_name(s.type())) + ", expected a string";
            p.sentences.emplace_back(text);
            ++j;
        }
        out.push_back(std::move(p));
        ++i;
    }
    return std::nullopt;
}

/// Parses one record's JSON text (capacity >= size + SIMDJSON_PADDING) into r; returns the problem.
inline std::optional<record_parse_failure> parse_record(simdjson::dom::parser& parser, const std::string& text,
                                                        hotpot_record& r, const record_rules& rules) {
    r = hotpot_record{};
    simdjson::dom::element root;
    if (const auto err = parser.parse(text.data(), text.size(), false).get(root); err != simdjson::SUCCESS)
        return record_parse_failure{{}, std::string("invalid JSON: ") + simdjson::error_message(err)};
    simdjson::dom::object obj;
    if (root.get(obj) != simdjson::SUCCESS) return record_parse_failure{{}, "not a JSON object"};
    // A few public copies of HotpotQA carry integer ids; they are kept as their decimal text, so a
    // prediction file (whose keys are always strings) can name them.
    if (std::int64_t num = 0; obj.at_key("_id").get(num) == simdjson::SUCCESS) r.id = std::to_string(num);
    else if (auto p = read_string(obj, "_id", r.id, true)) return record_parse_failure{{}, *p};
    auto fail = [&](std::string what) { return std::optional<record_parse_failure>{{r.id, std::move(what)}}; };
    if (auto p = read_string(obj, "question", r.question, true)) return fail(*p);
    const bool labels = rules.require_labels;
    if (auto p = read_string(obj, "answer", r.answer, labels)) return fail(*p);
    if (auto p = read_string(obj, "type", r.type, labels)) return fail(*p);
    if (auto p = read_string(obj, "level", r.level, labels)) return fail(*p);
    simdjson::dom::element v;
    if (obj.at_key("supporting_facts").get(v) == simdjson::SUCCESS) {
        if (auto p = parse_supporting_facts(v, r.supporting_facts)) return fail(*p);
    } else if (labels) {
        return fail("missing field \"supporting_facts\"");
    }
    if (obj.at_key("context").get(v) == simdjson::SUCCESS) {
        if (auto p = parse_context(v, r.context)) return fail(*p);
    } else if (rules.require_context) {
        return fail("missing field \"context\"");
    }
    if (auto p = record_problem(r, rules)) return fail(*p);
    return std::nullopt;
}

}  // namespace detail

/// Streams the records of `path` (JSON array or JSON Lines) to `visit`, in file order.
/// `visit` takes `hotpot_record&&` (or `const hotpot_record&`) and returns void, or bool where
/// false stops the load early. Throws format_error for a bad record (unless skip_invalid) and for
/// any structural damage to the file; io_error when it cannot be read.
template <class Visitor>
load_stats for_each_record(const std::filesystem::path& path, Visitor&& visit, const load_options& options = {}) {
    json_record_stream stream(path);
    load_stats stats;
    stats.layout = stream.layout();
    simdjson::dom::parser parser;
    std::string text;
    std::uint64_t offset = 0;
    hotpot_record record;
    const record_rules rules{options.require_labels, options.require_context};
    while (stream.next(text, offset, simdjson::SIMDJSON_PADDING)) {
        const std::size_t index = stats.records_read++;
        if (auto bad = detail::parse_record(parser, text, record, rules)) {
            std::string msg = path.string() + ": record " + std::to_string(index) + " (byte " + std::to_string(offset) +
                              ", _id " + (bad->id.empty() ? std::string("unknown") : "\"" + bad->id + "\"") +
                              "): " + bad->what;
            if (!options.skip_invalid) throw format_error(msg);
            ++stats.skipped;
            if (stats.skip_messages.size() < options.max_messages) stats.skip_messages.push_back(std::move(msg));
            continue;
        }
        ++stats.accepted;
        if constexpr (std::is_same_v<std::invoke_result_t<Visitor&, hotpot_record&&>, bool>) {
            if (!visit(std::move(record))) break;
        } else {
            visit(std::move(record));
        }
        if (options.max_records != 0 && stats.accepted >= options.max_records) break;
    }
    return stats;
}

/// Loads every (valid) record of `path` into memory; `stats`, when given, receives the counts.
inline std::vector<hotpot_record> load_all(const std::filesystem::path& path, const load_options& options = {},
                                           load_stats* stats = nullptr) {
    std::vector<hotpot_record> out;
    auto s = for_each_record(path, [&](hotpot_record&& r) { out.push_back(std::move(r)); }, options);
    if (stats) *stats = std::move(s);
    return out;
}

/// The records of every file in the comma-separated list `files`, file after file (empty names skipped).
inline std::vector<hotpot_record> load_files(std::string_view files, const load_options& options = {}) {
    std::vector<hotpot_record> out;
    for (const auto& name : file_list(files))
        for (auto& r : load_all(std::filesystem::path(name), options)) out.push_back(std::move(r));
    return out;
}

/// Load options for questions to answer or retrieve for: labels optional (the official test format
/// has none), the context paragraphs required only when `need_context` (a program that reads each
/// question's own paragraphs).
[[nodiscard]] constexpr load_options question_input(bool need_context = false) {
    return {.require_labels = false, .require_context = need_context};
}

/// The questions of `path`: HotpotQA records (JSON array or JSON Lines, loaded with
/// question_input(need_context)) or, when the first non-blank byte is neither '{' nor '[', plain
/// text with one question per line ("_id" "line-N" for line N, from 1; blank lines skipped). Plain
/// text has no context paragraphs, so `need_context` refuses it with a config_error.
inline std::vector<hotpot_record> load_questions(const std::filesystem::path& path, bool need_context = false) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw io_error(path.string() + ": cannot open the questions file");
    char first = 0;
    while (in.get(first) && (first == ' ' || first == '\t' || first == '\r' || first == '\n')) {}
    if (!in || first == '{' || first == '[' || first == '\xEF')  // empty, JSON, or JSON after a UTF-8 byte-order mark
        return load_all(path, question_input(need_context));
    if (need_context)
        throw config_error(path.string() + ": plain-text questions have no context paragraphs; give HotpotQA records or a passage index");
    in.clear();
    in.seekg(0);
    std::vector<hotpot_record> out;
    std::string line;
    for (std::size_t n = 1; std::getline(in, line); ++n) {
        while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.pop_back();
        const auto b = line.find_first_not_of(" \t");
        if (b == std::string::npos) continue;
        hotpot_record r;
        r.id = "line-" + std::to_string(n);
        r.question = line.substr(b);
        out.push_back(std::move(r));
    }
    return out;
}

}  // namespace hoprag::data
