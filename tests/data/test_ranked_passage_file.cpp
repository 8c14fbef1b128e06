// Ranked-passage files (data/ranked_passage_file.hpp): what the writer gives reads back the same
// (ids in file order, passages best first with title, text, score and sentence span when known), `top` and `keep_text` cut
// what is kept, integer ids and missing scores are accepted, and bad lines are refused naming the
// file and the line.
#include <catch2/catch.hpp>

#include <fstream>
#include <string>
#include <vector>

#include "hoprag/data/ranked_passage_file.hpp"
#include "support/files.hpp"

using namespace hoprag;

TEST_CASE("ranked-passage lines round-trip through the reader", "[data][ranked]") {
    const auto dir = test::fresh_dir("ranked-roundtrip");
    const std::vector<data::passage> a{{.title = "Alpha", .text = "first \"quoted\" text", .score = 1.5f},
                                       {.title = "Beta", .text = "second", .chunk = 1, .first_sent = 2, .last_sent = 4, .score = -0.25f},
                                       {.title = "Gamma", .text = "third", .score = 0.125f}};
    const std::vector<data::passage> b{{.title = "Delta", .text = "only one", .score = 3.0f}};
    const std::string line_a = data::ranked_passages_line("qa", a);
    CHECK(line_a.back() == '\n');
    CHECK(line_a.find(R"("_id":"qa","passages":[{"title":"Alpha","chunk":"first \"quoted\" text","score":1.5})") != std::string::npos);
    std::ofstream(dir / "r.jsonl") << line_a << data::ranked_passages_line("qb", b) << R"({"_id": 7, "passages": [{"title": "N", "chunk": "n"}]})" << "\n";

    const auto all = data::read_ranked_passages(dir / "r.jsonl");
    CHECK(all.order == std::vector<std::string>{"qa", "qb", "7"});
    REQUIRE(all.by_id.at("qa").size() == 3);
    for (std::size_t i = 0; i < a.size(); ++i) {
        CHECK(all.by_id.at("qa")[i].title == a[i].title);
        CHECK(all.by_id.at("qa")[i].text == a[i].text);
        CHECK(all.by_id.at("qa")[i].score == a[i].score);
        CHECK(all.by_id.at("qa")[i].first_sent == a[i].first_sent);
        CHECK(all.by_id.at("qa")[i].last_sent == a[i].last_sent);  // Beta's span [2, 4]; the others unknown
    }
    CHECK(line_a.find(R"("score":-0.25,"sentences":[2,4]})") != std::string::npos);
    CHECK(all.by_id.at("7")[0].score == 0.0f);  // no "score": 0

    const auto cut = data::read_ranked_passages(dir / "r.jsonl", 2, false);
    REQUIRE(cut.by_id.at("qa").size() == 2);
    CHECK(cut.by_id.at("qa")[1].title == "Beta");
    CHECK(cut.by_id.at("qa")[1].text.empty());
    CHECK(cut.by_id.at("qb").size() == 1);
}

TEST_CASE("bad ranked-passage lines are refused naming file and line", "[data][ranked][errors]") {
    const auto dir = test::fresh_dir("ranked-bad");
    const auto refused = [&](const std::string& second_line, const std::string& why) {
        std::ofstream(dir / "r.jsonl") << R"({"_id": "a", "passages": [{"title": "t", "chunk": "c", "score": 1}]})" << "\n" << second_line << "\n";
        try {
            (void)data::read_ranked_passages(dir / "r.jsonl");
            FAIL("accepted: " << second_line);
        } catch (const format_error& e) {
            CHECK_THAT(e.what(), Catch::Contains("r.jsonl:2"));
            CHECK_THAT(e.what(), Catch::Contains(why));
        }
    };
    refused(R"({"_id": "b", "passages": [{"title": "t"}]})", "no string \"chunk\"");
    refused(R"({"_id": "a", "passages": []})", "duplicate _id");
    refused(R"({"passages": []})", "\"_id\"");
    refused(R"({"_id": "c", "passages": [{"chunk": "c"}]})", "no string \"title\"");
    refused(R"({"_id": "c"})", "\"passages\"");
    refused(R"({"_id": "c", "passages": [{"title": "t", "chunk": "c", "sentences": [3, 1]}]})", "\"sentences\"");
    refused(R"({"_id": "c", "passages": [{"title": "t", "chunk": "c", "sentences": [1]}]})", "\"sentences\"");
}
