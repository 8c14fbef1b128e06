// retrieve_two_hop (components/two_hop.hpp) with a scripted retriever: the hop-2 queries are the
// question plus each seed passage's text, a hop-2 passage scores the path mean with its seed, the
// merge keeps each passage's best score, ties follow hop-1 order, and k cuts the merged list.
#include <catch2/catch.hpp>

#include <map>
#include <span>
#include <string>
#include <vector>

#include "hoprag/components/two_hop.hpp"

using namespace hoprag;
using components::hit;

namespace {

// Passages: 0 "Film" (names the director), 1 "Director" (the bridge target), 2 "Other", 3 "Noise".
const std::vector<data::passage> corpus{{.title = "Film", .text = "directed by Ann Lee."},
                                        {.title = "Director", .text = "Ann Lee was born in 1950."},
                                        {.title = "Other", .text = "unrelated."},
                                        {.title = "Noise", .text = "more noise."}};

struct scripted_retriever {
    std::vector<std::string> asked;
    std::vector<std::vector<hit>> retrieve(std::span<const std::string> texts, std::int64_t k) {
        std::vector<std::vector<hit>> out;
        for (const auto& t : texts) {
            asked.push_back(t);
            std::vector<hit> h;
            if (t == "Who directed it?") h = {{0, 0.9f}, {2, 0.5f}, {3, 0.5f}};
            else if (t == "Who directed it? Film. directed by Ann Lee.") h = {{1, 0.95f}, {0, 0.7f}};
            else if (t == "Who directed it? Other. unrelated.") h = {{3, 0.6f}, {2, 0.4f}};
            if (h.size() > static_cast<std::size_t>(k)) h.resize(static_cast<std::size_t>(k));
            out.push_back(h);
        }
        return out;
    }
};

}  // namespace

TEST_CASE("two-hop retrieval: seeds start second queries, best score per passage, hop-1 order on ties", "[retriever][two_hop]") {
    scripted_retriever r;
    const std::vector<std::string> q{"Who directed it?"};
    const auto hits = components::retrieve_two_hop(r, q, corpus, {.k = 10, .seeds = 2});
    REQUIRE(r.asked.size() == 3);  // the question, then one query per seed (passages 0 and 2)
    CHECK(r.asked[1] == "Who directed it? Film. directed by Ann Lee.");
    CHECK(r.asked[2] == "Who directed it? Other. unrelated.");
    REQUIRE(hits.size() == 1);
    std::vector<std::int32_t> order;
    std::map<std::int32_t, float> score;
    for (const auto& h : hits[0]) order.push_back(h.passage), score[h.passage] = h.score;
    CHECK(order == std::vector<std::int32_t>{1, 0, 3, 2});  // the bridge target first; 3 (path 0.55) above 2 (0.5)
    CHECK(score[1] == 0.5f * (0.9f + 0.95f));  // path mean: seed 0's score and the step from it
    CHECK(score[0] == 0.9f);                   // its hop-1 score beats its path (0.8)
    CHECK(score[3] == 0.5f * (0.5f + 0.6f));
    // k cuts the merged list; seeds = 0 is hop 1 alone
    CHECK(components::retrieve_two_hop(r, q, corpus, {.k = 2, .seeds = 2})[0].size() == 2);
    scripted_retriever one;
    const auto h1 = components::retrieve_two_hop(one, q, corpus, {.k = 10, .seeds = 0});
    CHECK(one.asked.size() == 1 + 0);
    REQUIRE(h1[0].size() == 3);
    CHECK(h1[0][1].passage == 2);  // equal scores 0.5: hop-1 order kept
}
