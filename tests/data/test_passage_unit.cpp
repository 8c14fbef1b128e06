// Passage units (data/passage_unit.hpp): the chunk unit cuts a long paragraph into 150–250-token
// chunks with sentence spans, the paragraph unit keeps it whole; both keep the first copy of a
// title; bad unit names are refused; gold marking follows the sentence spans of chunks.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "hoprag/data/passage_unit.hpp"

using namespace hoprag;

namespace {
// A paragraph of `n` sentences of 20 words each.
data::paragraph long_paragraph(const std::string& title, int n) {
    data::paragraph p{title, {}};
    for (int s = 0; s < n; ++s) {
        std::string t;
        for (int w = 0; w < 20; ++w) t += "s" + std::to_string(s) + "w" + std::to_string(w) + " ";
        p.sentences.push_back(t);
    }
    return p;
}
}  // namespace

TEST_CASE("chunk and paragraph units over the same records", "[data][unit]") {
    std::vector<data::hotpot_record> recs(2);
    recs[0].context = {long_paragraph("Long", 20), {"B", {"b one.", " b two."}}};  // Long: 400 words + title
    recs[1].context = {{"B", {"b one.", " b two."}}, {"C", {"c."}}, {"Long", {"a different copy"}}};

    const auto chunks = data::corpus_passages(recs, data::passage_unit::chunk);
    const auto paras = data::corpus_passages(recs, data::passage_unit::paragraph);
    REQUIRE(paras.size() == 3);  // Long, B, C: the second "Long" is a title conflict, its first copy kept
    CHECK(paras[0].title == "Long");
    CHECK(paras[0].first_sent == 0);
    CHECK(paras[0].last_sent == 19);
    CHECK(paras[1].text == "b one. b two.");
    CHECK(paras[2].title == "C");

    REQUIRE(chunks.size() == 4);  // Long in two chunks of 10 sentences (201 tokens each with the title)
    CHECK(chunks[0].title == "Long");
    CHECK(chunks[1].title == "Long");
    CHECK(chunks[0].chunk == 0);
    CHECK(chunks[1].chunk == 1);
    CHECK(chunks[0].last_sent + 1 == chunks[1].first_sent);
    CHECK(chunks[1].last_sent == 19);
    CHECK(data::passage_id(chunks[1]) == "Long#1");
    CHECK(chunks[2].text == paras[1].text);

    recs[0].supporting_facts = {{"Long", 15}, {"B", 0}};
    auto shown = chunks;
    data::mark_gold(shown, recs[0]);
    CHECK_FALSE(shown[0].gold);  // Long's first chunk holds sentences 0..9
    CHECK(shown[1].gold);        // sentence 15
    CHECK(shown[2].gold);
    CHECK_FALSE(shown[3].gold);
    auto whole = paras;
    data::mark_gold(whole, recs[0]);
    CHECK(whole[0].gold);
}

TEST_CASE("passage unit names", "[data][unit][errors]") {
    CHECK(data::parse_passage_unit("chunk") == data::passage_unit::chunk);
    CHECK(data::parse_passage_unit("paragraph") == data::passage_unit::paragraph);
    CHECK(data::unit_name(data::passage_unit::paragraph) == "paragraph");
    CHECK_THROWS_WITH(data::parse_passage_unit("chunks"), Catch::Contains("--unit must be chunk or paragraph"));
}
