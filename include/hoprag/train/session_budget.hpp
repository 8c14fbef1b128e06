// Session budget: train until a deadline or a stop signal, then save and exit cleanly. A deadline
// comes from a duration string (`--time-limit 12h`, `90m`, `45s`, `1h30m`, `2d`) or the
// HOPRAG_TIME_LIMIT environment variable; `should_stop()` turns true when less than a margin
// remains: twice the longest step observed, plus the longest save observed (or an estimate), plus
// a fixed reserve. `stop_signal_guard` catches SIGTERM and SIGINT (what SLURM, Colab and spot
// instances send) for its lifetime and restores the previous handlers on destruction; the handler
// only writes one `volatile std::sig_atomic_t` (async-signal-safe), so the trainer finishes the
// current step, saves, prints `resume_command(...)` and exits 0. That flag is the library's one
// unavoidable piece of global state: a signal handler has no other place to write.
// The clock is injectable so deadline logic is tested without waiting.
#pragma once

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "hoprag/core/error.hpp"
#include "hoprag/core/shell_quote.hpp"

namespace hoprag::train {

/// Parse a duration such as "12h", "90m", "45s", "1h30m", "2d12h": one or more <integer><unit>
/// groups with units d, h, m, s in that order, each at most once. Throws config_error saying what
/// is wrong and what is expected (missing unit, unknown unit, repeated or out-of-order unit, ...).
inline std::chrono::seconds parse_duration(std::string_view text) {
    const std::string shown = "'" + std::string(text) + "'";
    const auto fail = [&](const std::string& why) -> std::chrono::seconds {
        throw config_error("duration " + shown + ": " + why + "; expected e.g. 12h, 90m, 45s or 1h30m (units d, h, m, s)");
    };
    if (text.empty()) return fail("is empty");
    constexpr std::string_view units = "dhms";
    constexpr std::int64_t unit_seconds[] = {86400, 3600, 60, 1};
    std::int64_t total = 0;
    std::size_t next_unit = 0;  // units must appear in the order d, h, m, s
    std::size_t i = 0;
    while (i < text.size()) {
        if (text[i] < '0' || text[i] > '9') return fail(std::string("expected a digit at position ") + std::to_string(i) + ", found '" + text[i] + "'");
        std::int64_t value = 0;
        while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
            value = value * 10 + (text[i] - '0');
            if (value > std::int64_t{1} << 40) return fail("number too large");
            ++i;
        }
        if (i == text.size()) return fail("the number " + std::to_string(value) + " has no unit");
        const std::size_t u = units.find(text[i]);
        if (u == std::string_view::npos) return fail(std::string("unknown unit '") + text[i] + "'");
        if (u < next_unit) return fail(std::string("unit '") + text[i] + "' repeated or out of order");
        next_unit = u + 1;
        total += value * unit_seconds[u];
        if (total > std::int64_t{1} << 40) return fail("duration too large");
        ++i;
    }
    return std::chrono::seconds{total};
}

namespace detail {
/// Set to the signal number by the handler of stop_signal_guard; the one global the library keeps
/// (a signal handler can write nowhere else). Only ever written with a plain store.
inline volatile std::sig_atomic_t stop_signal_received = 0;

extern "C" inline void hoprag_stop_signal_handler(int sig) { stop_signal_received = sig; }
}  // namespace detail

/// Catches SIGTERM and SIGINT while alive: the first one sets a flag (the process keeps running);
/// the handler is one-shot (SA_RESETHAND), so a second Ctrl-C kills the process as usual.
/// Restores the previous handlers on destruction. Only one guard may be alive at a time.
class stop_signal_guard {
public:
    stop_signal_guard() {
        struct sigaction current {};
        for (int sig : {SIGTERM, SIGINT}) {
            sigaction(sig, nullptr, &current);
            if (current.sa_handler == &detail::hoprag_stop_signal_handler)
                throw config_error("stop_signal_guard: another guard is already installed; keep exactly one per process");
        }
        detail::stop_signal_received = 0;
        struct sigaction sa {};
        sa.sa_handler = &detail::hoprag_stop_signal_handler;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = SA_RESETHAND | SA_RESTART;
        if (sigaction(SIGTERM, &sa, &old_term_) != 0 || sigaction(SIGINT, &sa, &old_int_) != 0) {
            sigaction(SIGTERM, &old_term_, nullptr);
            throw error("stop_signal_guard: could not install the SIGTERM/SIGINT handlers");
        }
    }
    ~stop_signal_guard() {
        sigaction(SIGTERM, &old_term_, nullptr);
        sigaction(SIGINT, &old_int_, nullptr);
    }
    stop_signal_guard(const stop_signal_guard&) = delete;
    stop_signal_guard& operator=(const stop_signal_guard&) = delete;

    /// True once SIGTERM or SIGINT arrived while the guard was alive.
    bool requested() const { return detail::stop_signal_received != 0; }
    /// The signal that arrived (SIGTERM, SIGINT) or 0.
    int signal() const { return static_cast<int>(detail::stop_signal_received); }

private:
    struct sigaction old_term_ {};
    struct sigaction old_int_ {};
};

/// Why a trainer should stop now.
enum class stop_reason { none, deadline, signal };

struct budget_options {
    std::chrono::seconds save_estimate{30};  // assumed save time until a save has been measured
    std::chrono::seconds reserve{5};         // always kept on top (exit, final log lines)
};

/// A training session's time budget. Call record_step / record_save with measured durations and
/// ask should_stop() between steps.
class session_budget {
public:
    using clock = std::chrono::steady_clock;
    using now_fn = std::function<clock::time_point()>;

    /// `limit` empty = no deadline (only signals stop the run). `now` is the clock (injectable).
    explicit session_budget(std::optional<std::chrono::seconds> limit, budget_options o = {}, now_fn now = &clock::now)
        : now_(std::move(now)), opt_(o), start_(now_()), limit_(limit) {
        if (limit && limit->count() <= 0) throw config_error("session_budget: time limit must be positive");
    }

    /// The limit from a --time-limit flag value if non-empty, else from environment variable
    /// `env_name` if set and non-empty, else none. Bad strings throw config_error naming the source.
    static session_budget from_flag_or_env(std::string_view flag_value, const char* env_name = "HOPRAG_TIME_LIMIT", budget_options o = {},
                                           now_fn now = &clock::now) {
        std::optional<std::chrono::seconds> limit;
        try {
            if (!flag_value.empty()) {
                limit = parse_duration(flag_value);
            } else if (const char* env = std::getenv(env_name); env && *env) {
                limit = parse_duration(env);
            }
        } catch (const config_error& e) {
            throw config_error(std::string(flag_value.empty() ? env_name : "--time-limit") + ": " + e.what());
        }
        return session_budget(limit, o, std::move(now));
    }

    void record_step(clock::duration d) { longest_step_ = std::max(longest_step_, d); }
    void record_save(clock::duration d) {
        longest_save_ = std::max(longest_save_, d);
        save_measured_ = true;
    }

    bool has_deadline() const { return limit_.has_value(); }
    /// Time left before the deadline (clock::duration::max() without one; may be negative).
    clock::duration remaining() const {
        if (!limit_) return clock::duration::max();
        return start_ + std::chrono::duration_cast<clock::duration>(*limit_) - now_();
    }
    /// Time to keep in hand: 2 x longest step + save time + reserve.
    clock::duration margin() const {
        const clock::duration save = save_measured_ ? longest_save_ : std::chrono::duration_cast<clock::duration>(opt_.save_estimate);
        return 2 * longest_step_ + save + std::chrono::duration_cast<clock::duration>(opt_.reserve);
    }
    /// deadline: less than margin() remains; signal: SIGTERM/SIGINT seen by a stop_signal_guard.
    stop_reason check() const {
        if (detail::stop_signal_received != 0) return stop_reason::signal;
        if (limit_ && remaining() < margin()) return stop_reason::deadline;
        return stop_reason::none;
    }
    bool should_stop() const { return check() != stop_reason::none; }

private:
    now_fn now_;
    budget_options opt_;
    clock::time_point start_;
    std::optional<std::chrono::seconds> limit_;
    clock::duration longest_step_{0};
    clock::duration longest_save_{0};
    bool save_measured_ = false;
};

/// The command line that resumes this run: argv joined (shell-quoted where needed) with
/// `--resume` appended unless present. Print it when stopping early.
inline std::string resume_command(int argc, const char* const* argv) {
    std::string out;
    bool has_resume = false;
    for (int i = 0; i < argc; ++i) {
        const std::string_view a = argv[i];
        if (a == "--resume") has_resume = true;
        if (i) out += ' ';
        out += shell_quote(a);
    }
    if (!has_resume) out += " --resume";
    return out;
}

}  // namespace hoprag::train
