// Ranked-passage files, the output of hoprag-retrieve and hoprag-rerank and the input of the
// reranker trainer, hoprag-answer and hoprag-evaluate: JSON Lines, one line per question,
//     {"_id": "...", "passages": [{"title": "...", "chunk": "...", "score": 1.5, "sentences": [0, 3]}, ...]}
// best first ("_id" may also be an integer; "score" may be absent, read as 0; "sentences", the
// first and last sentence of the paragraph that the passage holds, may be absent: unknown). The reader streams
// the file with json_record_stream and parses it with simdjson, keeping only the first `top`
// passages of each line (and their text only when asked), so large files stay cheap. Invalid JSON,
// a missing field or a repeated "_id" raise format_error naming the file, the line and its byte
// offset. The writer gives one line in the same form.
#pragma once

#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "hoprag/core/error.hpp"
#include "hoprag/data/file_list.hpp"
#include "hoprag/data/json_record_stream.hpp"
#include "hoprag/data/passage.hpp"

namespace hoprag::data {

/// A ranked-passage file: "_id" -> passages best first, and the ids in file order.
struct ranked_passage_file {
    std::vector<std::string> order;
    std::unordered_map<std::string, std::vector<passage>> by_id;
};

/// Reads `path`, keeping the first `top` passages of each line (all when top == 0) and their text
/// when `keep_text`.
[[nodiscard]] inline ranked_passage_file read_ranked_passages(const std::filesystem::path& path, std::size_t top = 0,
                                                              bool keep_text = true) {
    const std::size_t limit = top == 0 ? std::numeric_limits<std::size_t>::max() : top;
    ranked_passage_file out;
    json_record_stream stream(path);
    simdjson::dom::parser parser;
    std::string text;
    std::uint64_t offset = 0;
    while (stream.next(text, offset, simdjson::SIMDJSON_PADDING)) {
        const std::size_t line = stream.index();
        auto fail = [&](const std::string& what) {
            throw format_error(path.string() + ":" + std::to_string(line) + " (byte " + std::to_string(offset) +
                               "): not a ranked-passage line {\"_id\", \"passages\": [{\"title\", \"chunk\", \"score\"}]}: " + what);
        };
        simdjson::dom::element root;
        if (const auto err = parser.parse(text.data(), text.size(), false).get(root); err != simdjson::SUCCESS)
            fail(std::string("invalid JSON: ") + simdjson::error_message(err));
        std::string_view id;
        std::int64_t num_id = 0;
        std::string id_text;
        if (root["_id"].get(id) == simdjson::SUCCESS) id_text.assign(id);
        else if (root["_id"].get(num_id) == simdjson::SUCCESS) id_text = std::to_string(num_id);
        else fail("missing or non-string \"_id\"");
        simdjson::dom::array passages;
        if (root["passages"].get(passages) != simdjson::SUCCESS) fail("missing or non-array \"passages\"");
        std::vector<passage> list;
        for (simdjson::dom::element p : passages) {
            if (list.size() >= limit) break;
            const auto where = "_id \"" + id_text + "\" passage " + std::to_string(list.size());
            std::string_view title, chunk;
            if (p["title"].get(title) != simdjson::SUCCESS) fail(where + " has no string \"title\"");
            passage r;
            r.title.assign(title);
            if (keep_text) {
                if (p["chunk"].get(chunk) != simdjson::SUCCESS) fail(where + " has no string \"chunk\"");
                r.text.assign(chunk);
            }
            if (double s = 0; p["score"].get(s) == simdjson::SUCCESS) r.score = static_cast<float>(s);
            if (simdjson::dom::array span; p["sentences"].get(span) == simdjson::SUCCESS) {
                std::int64_t first = 0, last = 0;
                if (span.size() != 2 || span.at(0).get(first) != simdjson::SUCCESS || span.at(1).get(last) != simdjson::SUCCESS ||
                    first < 0 || last < first)
                    fail(where + " has \"sentences\" that is not [first, last] with 0 <= first <= last");
                r.first_sent = first, r.last_sent = last;
            }
            list.push_back(std::move(r));
        }
        if (!out.by_id.emplace(id_text, std::move(list)).second) fail("duplicate _id \"" + id_text + "\"");
        out.order.push_back(std::move(id_text));
    }
    return out;
}

/// The ranked-passage files of the comma-separated list `files` merged (ids in file order); a
/// question ranked in two of them raises format_error naming both files.
[[nodiscard]] inline ranked_passage_file read_ranked_passage_files(std::string_view files, std::size_t top = 0, bool keep_text = true) {
    ranked_passage_file out;
    std::unordered_map<std::string, std::string> origin;  // "_id" -> file
    for (const auto& name : file_list(files)) {
        auto part = read_ranked_passages(name, top, keep_text);
        for (auto& id : part.order) {
            if (const auto [it, fresh] = origin.emplace(id, name); !fresh)
                throw format_error(name + ": question \"" + id + "\" is also ranked in " + it->second);
            out.by_id.emplace(id, std::move(part.by_id.at(id)));
            out.order.push_back(std::move(id));
        }
    }
    return out;
}

/// One line of a ranked-passage file (with its newline) for question `id` and `passages` best first.
[[nodiscard]] inline std::string ranked_passages_line(std::string_view id, std::span<const passage> passages) {
    nlohmann::ordered_json line;
    line["_id"] = id;
    auto& list = line["passages"] = nlohmann::ordered_json::array();
    for (const auto& p : passages) {
        nlohmann::ordered_json q{{"title", p.title}, {"chunk", p.text}, {"score", p.score}};
        if (p.last_sent >= p.first_sent) q["sentences"] = {p.first_sent, p.last_sent};
        list.push_back(std::move(q));
    }
    return line.dump() + "\n";
}

}  // namespace hoprag::data
