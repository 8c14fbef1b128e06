// Reading ranked passage files, the output of hoprag-retrieve (and of a reranker): JSON Lines, one
// line per question, {"_id": "...", "passages": [{"title", "chunk", "score"}, ...]} best first
// ("_id" may also be an integer). Streamed with json_record_stream and parsed with simdjson, so
// large files stay cheap: only the first `top` passages of each line are kept, and their text only
// when asked. Errors (invalid JSON, missing fields, a repeated "_id") raise format_error naming the
// file, the record index and its byte offset.
#pragma once

#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "hoprag/core/error.hpp"
#include "hoprag/data/json_record_stream.hpp"

namespace hoprag::data {

/// One ranked passage of a question.
struct retrieved_passage {
    std::string title;
    std::string text;   ///< "chunk" (empty unless read with keep_text)
    double score = 0;   ///< "score" (0 when absent)
};

/// Reads `path`: "_id" -> its first `top` passages in rank order (all when top == 0).
[[nodiscard]] inline std::unordered_map<std::string, std::vector<retrieved_passage>> read_retrieved_passages(
    const std::filesystem::path& path, std::size_t top = 0, bool keep_text = false) {
    const std::size_t limit = top == 0 ? std::numeric_limits<std::size_t>::max() : top;
    std::unordered_map<std::string, std::vector<retrieved_passage>> out;
    json_record_stream stream(path);
    simdjson::dom::parser parser;
    std::string text;
    std::uint64_t offset = 0;
    while (stream.next(text, offset, simdjson::SIMDJSON_PADDING)) {
        const std::size_t index = stream.index() - 1;
        auto fail = [&](const std::string& what) {
            throw format_error(path.string() + ": line/record " + std::to_string(index) + " (byte " + std::to_string(offset) + "): " + what);
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
        std::vector<retrieved_passage> list;
        std::size_t i = 0;
        for (simdjson::dom::element p : passages) {
            if (list.size() >= limit) break;
            std::string_view title, chunk;
            if (p["title"].get(title) != simdjson::SUCCESS)
                fail("_id \"" + id_text + "\" passage " + std::to_string(i) + " has no string \"title\"");
            retrieved_passage r{std::string(title), {}, 0};
            if (keep_text) {
                if (p["chunk"].get(chunk) != simdjson::SUCCESS)
                    fail("_id \"" + id_text + "\" passage " + std::to_string(i) + " has no string \"chunk\"");
                r.text.assign(chunk);
            }
            if (double s = 0; p["score"].get(s) == simdjson::SUCCESS) r.score = s;
            list.push_back(std::move(r));
            ++i;
        }
        if (!out.emplace(id_text, std::move(list)).second) fail("duplicate _id \"" + id_text + "\"");
    }
    return out;
}

}  // namespace hoprag::data
