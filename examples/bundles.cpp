// hoprag-bundles: writes the curriculum's training bundles for a HotpotQA file as JSON Lines, for
// inspection. Progress goes to stderr; the last line of stdout is one JSON summary object.
//   hoprag-bundles [--k N] [--epoch E] [--schedule S] [--seed N] [--ranked] INPUT OUTPUT
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hoprag/components/curriculum.hpp"
#include "hoprag/data/hotpotqa.hpp"
#include "hoprag/io/durable_file.hpp"

namespace {

constexpr const char* usage = R"(usage: hoprag-bundles [options] INPUT OUTPUT

Pools the context paragraphs of INPUT (HotpotQA, JSON array or JSON Lines) into a passage corpus
(chunks of 150-250 whitespace tokens, title kept in every chunk), ranks each question's context
passages with BM25, and writes one training bundle per question for one curriculum epoch to OUTPUT
(JSON Lines, written durably):
  {"_id", "question", "answer", "epoch", "gold_forced",
   "passages": [{"n": 1, "id": "TITLE#CHUNK", "title", "text", "supporting": bool}, ...],
   "target": "<answer>ANSWER [i], [j]", "supporting_facts": [[title, sent_id], ...]}

Options:
  --k N            passages per bundle (default 10)
  --epoch E        curriculum epoch, from 0 (default 0)
  --schedule S     forced_gold (gold forced in epochs 0 and 1), pure_retrieval, or annealed_mix
                   (forcing probability 1 -> 0 over 3 epochs); default forced_gold
  --hard N         hard negatives after forced gold (default 4)
  --seed N         random seed (default 0)
  --ranked         order passages by retrieval rank instead of shuffling them
  --help           show this text
Output: the last line of stdout is {"bundles", "passages", "paragraphs", "title_conflicts",
"gold_forced", "output"}.
Exit status: 0 on success, 1 on bad input (one line on stderr says what and where), 2 on bad usage.
)";

bool parse_size(const std::string& s, std::size_t& out) {
    const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
    return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

template <class Schedule>
nlohmann::ordered_json write_bundles(const hoprag::data::corpus& c,
                                     const std::vector<hoprag::data::hotpot_record>& records,
                                     const hoprag::components::curriculum_options& o, Schedule schedule,
                                     std::size_t epoch, const std::string& output) {
    const hoprag::data::bm25_scorer bm(c);
    const auto cur = hoprag::components::curriculum<Schedule>::from_scorer(c, records, bm, o, schedule);
    std::string text;
    std::size_t forced = 0, n = 0;
    for (const auto& b : cur.epoch(epoch)) {
        nlohmann::ordered_json j;
        j["_id"] = b.id, j["question"] = b.question, j["answer"] = b.answer;
        j["epoch"] = b.epoch, j["gold_forced"] = b.gold_forced;
        j["passages"] = nlohmann::json::array();
        for (std::size_t i = 0; i < b.passages.size(); ++i) {
            const auto& p = b.passages[i];
            j["passages"].push_back(nlohmann::ordered_json{
                {"n", i + 1}, {"id", hoprag::data::passage_id(p)}, {"title", p.title}, {"text", p.text}, {"supporting", p.gold}});
        }
        j["target"] = b.target;
        j["supporting_facts"] = nlohmann::json::array();
        for (const auto& sf : b.supporting_facts) j["supporting_facts"].push_back({sf.title, sf.sent_id});
        text += j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
        forced += b.gold_forced;
        if (++n % 1000 == 0) std::cerr << "hoprag-bundles: " << n << " bundles\n";
    }
    hoprag::io::write_file_durably(output, text);
    return {{"bundles", n}, {"gold_forced", forced}};
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> pos;
    hoprag::components::curriculum_options o;
    std::size_t epoch = 0;
    std::string schedule = "forced_gold";
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&](std::size_t& out) {
            if (i + 1 >= argc || !parse_size(argv[i + 1], out)) {
                std::cerr << "hoprag-bundles: " << a << " needs a non-negative integer (see --help)\n";
                std::exit(2);
            }
            ++i;
        };
        std::size_t seed = 0;
        if (a == "--help" || a == "-h") {
            std::cout << usage;
            return 0;
        } else if (a == "--k")
            value(o.k);
        else if (a == "--epoch")
            value(epoch);
        else if (a == "--hard")
            value(o.hard_negatives);
        else if (a == "--seed")
            value(seed), o.seed = seed;
        else if (a == "--ranked")
            o.order = hoprag::components::passage_order::ranked;
        else if (a == "--schedule" && i + 1 < argc)
            schedule = argv[++i];
        else if (a.size() > 1 && a[0] == '-') {
            std::cerr << "hoprag-bundles: unknown option " << a << " (see --help)\n";
            return 2;
        } else
            pos.push_back(a);
    }
    if (pos.size() != 2) {
        std::cerr << "hoprag-bundles: expected INPUT and OUTPUT, got " << pos.size()
                  << " file arguments (see --help)\n";
        return 2;
    }
    if (schedule != "forced_gold" && schedule != "pure_retrieval" && schedule != "annealed_mix") {
        std::cerr << "hoprag-bundles: --schedule \"" << schedule
                  << "\" is not one of forced_gold, pure_retrieval, annealed_mix\n";
        return 2;
    }
    if (o.k == 0) {
        std::cerr << "hoprag-bundles: --k must be at least 1\n";
        return 2;
    }
    try {
        const auto records = hoprag::data::load_all(pos[0]);
        const auto c = hoprag::data::build_corpus(records, hoprag::data::whitespace_counter{});
        std::cerr << "hoprag-bundles: " << records.size() << " questions, " << c.stats().paragraphs << " paragraphs, "
                  << c.size() << " passages\n";
        nlohmann::ordered_json out;
        using namespace hoprag::components;
        if (schedule == "forced_gold")
            out = write_bundles(c, records, o, forced_gold<2>{}, epoch, pos[1]);
        else if (schedule == "pure_retrieval")
            out = write_bundles(c, records, o, pure_retrieval{}, epoch, pos[1]);
        else
            out = write_bundles(c, records, o, annealed_mix{3}, epoch, pos[1]);
        out["passages"] = c.size();
        out["paragraphs"] = c.stats().paragraphs;
        out["title_conflicts"] = c.stats().title_conflicts;
        out["output"] = pos[1];
        std::cout << out.dump() << std::endl;
        return 0;
    } catch (const std::exception& e) {
        std::string msg = e.what();
        for (auto& ch : msg)
            if (ch == '\n') ch = ' ';
        std::cerr << "hoprag-bundles: " << msg << "\n";
        return 1;
    }
}
