// Session budget: duration parsing and its errors, flag-over-environment precedence, deadline
// logic against an injected clock, SIGTERM/SIGINT raised in-process setting the stop flag, handler
// restoration, and the resume command line.
#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <cstdlib>

#include "hoprag/train/session_budget.hpp"

using namespace hoprag;
using namespace hoprag::train;
using namespace std::chrono_literals;

TEST_CASE("parse_duration accepts d/h/m/s groups", "[train][budget]") {
    REQUIRE(parse_duration("12h") == 43200s);
    REQUIRE(parse_duration("90m") == 5400s);
    REQUIRE(parse_duration("45s") == 45s);
    REQUIRE(parse_duration("1h30m") == 5400s);
    REQUIRE(parse_duration("2d1h1m1s") == std::chrono::seconds(2 * 86400 + 3600 + 61));
    REQUIRE(parse_duration("0s") == 0s);
}

TEST_CASE("parse_duration rejects bad strings with clear errors", "[train][budget]") {
    REQUIRE_THROWS_WITH(parse_duration(""), Catch::Contains("is empty"));
    REQUIRE_THROWS_WITH(parse_duration("90"), Catch::Contains("has no unit"));
    REQUIRE_THROWS_WITH(parse_duration("5x"), Catch::Contains("unknown unit 'x'"));
    REQUIRE_THROWS_WITH(parse_duration("1h1h"), Catch::Contains("repeated or out of order"));
    REQUIRE_THROWS_WITH(parse_duration("30m1h"), Catch::Contains("repeated or out of order"));
    REQUIRE_THROWS_WITH(parse_duration("-5m"), Catch::Contains("expected a digit at position 0"));
    REQUIRE_THROWS_WITH(parse_duration("h"), Catch::Contains("expected a digit"));
    REQUIRE_THROWS_WITH(parse_duration("1 h"), Catch::Contains("unknown unit ' '"));
    REQUIRE_THROWS_WITH(parse_duration("99999999999999999999h"), Catch::Contains("too large"));
    REQUIRE_THROWS_WITH(parse_duration("bad"), Catch::Contains("'bad'") && Catch::Contains("e.g. 12h"));
    REQUIRE_THROWS_AS(parse_duration("12"), config_error);
}

TEST_CASE("deadline logic with an injected clock", "[train][budget]") {
    using clock = session_budget::clock;
    clock::time_point now{};
    budget_options o;
    o.save_estimate = 10s;
    o.reserve = 5s;
    session_budget b(100s, o, [&] { return now; });
    REQUIRE(b.has_deadline());
    REQUIRE(b.margin() == 15s);
    now += 80s;
    REQUIRE(b.remaining() == 20s);
    REQUIRE_FALSE(b.should_stop());  // 20 s left, margin 15 s
    b.record_step(3s);               // margin 2*3 + 10 + 5 = 21 s > 20 s left
    REQUIRE(b.margin() == 21s);
    REQUIRE(b.check() == stop_reason::deadline);
    b.record_step(1s);  // the longest step counts, not the last
    REQUIRE(b.margin() == 21s);
    b.record_save(2s);  // a measured save replaces the estimate: 6 + 2 + 5 = 13 s
    REQUIRE(b.margin() == 13s);
    REQUIRE_FALSE(b.should_stop());
    now += 8s;  // 12 s left
    REQUIRE(b.should_stop());

    session_budget unlimited(std::nullopt, o, [&] { return now; });
    now += 1000000s;
    REQUIRE_FALSE(unlimited.has_deadline());
    REQUIRE_FALSE(unlimited.should_stop());
    REQUIRE_THROWS_AS(session_budget(0s), config_error);
}

TEST_CASE("time limit comes from the flag, else the environment", "[train][budget]") {
    using clock = session_budget::clock;
    clock::time_point now{};
    auto at = [&] { return now; };
    ::setenv("HOPRAG_TEST_TIME_LIMIT", "2h", 1);
    auto from_flag = session_budget::from_flag_or_env("90m", "HOPRAG_TEST_TIME_LIMIT", {}, at);
    REQUIRE(from_flag.remaining() == 90min);
    auto from_env = session_budget::from_flag_or_env("", "HOPRAG_TEST_TIME_LIMIT", {}, at);
    REQUIRE(from_env.remaining() == 2h);
    ::setenv("HOPRAG_TEST_TIME_LIMIT", "2 hours", 1);
    REQUIRE_THROWS_WITH(session_budget::from_flag_or_env("", "HOPRAG_TEST_TIME_LIMIT", {}, at), Catch::Contains("HOPRAG_TEST_TIME_LIMIT"));
    REQUIRE_THROWS_WITH(session_budget::from_flag_or_env("soon", "HOPRAG_TEST_TIME_LIMIT", {}, at), Catch::Contains("--time-limit"));
    ::unsetenv("HOPRAG_TEST_TIME_LIMIT");
    REQUIRE_FALSE(session_budget::from_flag_or_env("", "HOPRAG_TEST_TIME_LIMIT", {}, at).has_deadline());
}

namespace {
volatile std::sig_atomic_t test_handler_calls = 0;
extern "C" void test_handler(int) { test_handler_calls = test_handler_calls + 1; }
}  // namespace

TEST_CASE("SIGTERM and SIGINT set the stop flag while a guard lives, and handlers are restored", "[train][budget][signal]") {
    struct sigaction mine {};
    mine.sa_handler = &test_handler;
    sigemptyset(&mine.sa_mask);
    struct sigaction saved_term {}, saved_int {};
    sigaction(SIGTERM, &mine, &saved_term);
    sigaction(SIGINT, &mine, &saved_int);
    for (int sig : {SIGTERM, SIGINT}) {
        INFO("signal " << sig);
        {
            stop_signal_guard guard;
            session_budget budget(std::nullopt);
            REQUIRE_FALSE(guard.requested());
            REQUIRE(budget.check() == stop_reason::none);
            REQUIRE_THROWS_AS(stop_signal_guard{}, config_error);  // only one at a time
            std::raise(sig);  // the process survives: the handler only sets the flag
            REQUIRE(guard.requested());
            REQUIRE(guard.signal() == sig);
            REQUIRE(budget.check() == stop_reason::signal);
            struct sigaction now {};
            sigaction(sig, nullptr, &now);
            REQUIRE(now.sa_handler == SIG_DFL);  // one-shot: a second signal would terminate
        }
        struct sigaction after {};
        sigaction(sig, nullptr, &after);
        REQUIRE(after.sa_handler == &test_handler);  // previous handler back
    }
    REQUIRE(test_handler_calls == 0);
    {
        stop_signal_guard fresh;  // a new guard starts with a clear flag
        REQUIRE_FALSE(fresh.requested());
    }
    sigaction(SIGTERM, &saved_term, nullptr);
    sigaction(SIGINT, &saved_int, nullptr);
}

TEST_CASE("resume_command appends --resume and quotes odd arguments", "[train][budget]") {
    const char* argv[] = {"build/bin/hoprag-train", "--out", "runs/a b", "--time-limit", "12h"};
    REQUIRE(resume_command(5, argv) == "build/bin/hoprag-train --out 'runs/a b' --time-limit 12h --resume");
    const char* again[] = {"prog", "--resume", "--note", "it's"};
    REQUIRE(resume_command(4, again) == "prog --resume --note 'it'\\''s'");
}
