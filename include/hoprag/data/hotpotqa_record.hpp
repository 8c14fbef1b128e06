// One HotpotQA question in the dataset's original record format, and its validation. A record holds
// the question, the gold answer, its type (bridge/comparison) and level (easy/medium/hard), the
// supporting facts as (paragraph title, sentence index) pairs and the context paragraphs as
// (title, sentences). `record_problem` checks what the loader cannot see from JSON types alone:
// known type/level, non-empty id, supporting-fact titles present in the context and sentence ids in
// range. It returns a description of the first problem found, or nothing for a good record.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace hoprag::data {

/// A supporting fact: sentence `sent_id` (0-based) of the context paragraph titled `title`.
struct supporting_fact {
    std::string title;
    std::int64_t sent_id = 0;
    friend auto operator<=>(const supporting_fact&, const supporting_fact&) = default;
    friend bool operator==(const supporting_fact&, const supporting_fact&) = default;
};

/// A context paragraph: its Wikipedia title and its sentences (HotpotQA keeps the leading space of
/// every sentence after the first, so concatenating the sentences gives the paragraph text).
struct paragraph {
    std::string title;
    std::vector<std::string> sentences;
};

/// One HotpotQA question. `answer`, `type`, `level` and `supporting_facts` are empty for unlabelled
/// records (the official test set), which the loader accepts only when asked to.
struct hotpot_record {
    std::string id;        ///< the record's "_id"
    std::string question;  ///< question text
    std::string answer;    ///< gold answer text ("yes"/"no" for some comparison questions)
    std::string type;      ///< "bridge" or "comparison"
    std::string level;     ///< "easy", "medium" or "hard"
    std::vector<supporting_fact> supporting_facts;  ///< gold evidence, in file order (may repeat)
    std::vector<paragraph> context;                 ///< usually 10 paragraphs: 2 gold + 8 distractors

    /// Index of the context paragraph titled `title`, or -1 (first match if titles repeat).
    [[nodiscard]] std::ptrdiff_t paragraph_index(const std::string& title) const {
        for (std::size_t i = 0; i < context.size(); ++i)
            if (context[i].title == title) return static_cast<std::ptrdiff_t>(i);
        return -1;
    }
};

/// What a record must satisfy beyond its JSON types.
struct record_rules {
    bool require_labels = true;   ///< answer, type, level and supporting facts must be present
    bool require_context = true;  ///< at least one context paragraph must be present
};

/// The first problem of `r` under `rules`, as a sentence, or nullopt for a valid record.
[[nodiscard]] inline std::optional<std::string> record_problem(const hotpot_record& r, const record_rules& rules = {}) {
    if (r.id.empty()) return "empty \"_id\"";
    if (r.context.empty() && rules.require_context) return "empty \"context\" (expected at least one [title, sentences] paragraph)";
    if (!rules.require_labels && r.type.empty() && r.supporting_facts.empty()) return std::nullopt;
    if (r.type != "bridge" && r.type != "comparison")
        return "\"type\" is \"" + r.type + "\", expected \"bridge\" or \"comparison\"";
    if (r.level != "easy" && r.level != "medium" && r.level != "hard")
        return "\"level\" is \"" + r.level + "\", expected \"easy\", \"medium\" or \"hard\"";
    if (r.supporting_facts.empty()) return "empty \"supporting_facts\"";
    std::unordered_map<std::string, std::size_t> sentences;  // title -> sentence count (first paragraph)
    for (const auto& p : r.context) sentences.emplace(p.title, p.sentences.size());
    for (std::size_t i = 0; i < r.supporting_facts.size(); ++i) {
        const auto& sf = r.supporting_facts[i];
        const auto it = sentences.find(sf.title);
        if (it == sentences.end())
            return "supporting fact " + std::to_string(i) + " names title \"" + sf.title + "\", which is not in \"context\"";
        if (sf.sent_id < 0 || static_cast<std::size_t>(sf.sent_id) >= it->second)
            return "supporting fact " + std::to_string(i) + " [\"" + sf.title + "\", " + std::to_string(sf.sent_id) +
                   "]: sentence id out of range (the paragraph has " + std::to_string(it->second) + " sentences)";
    }
    return std::nullopt;
}

}  // namespace hoprag::data
