// What every example trainer (hoprag-train-mlp, -reranker, -generator) keeps around its loop:
// DIR/metrics.jsonl, TensorBoard events in DIR/tb (unless switched off; a resumed run marks the
// new session), the session time budget (--time-limit or HOPRAG_TIME_LIMIT), the SIGTERM/SIGINT
// guard and the progress printer; and the end of a run: the stop message with the command that
// resumes it, the result recorded in TensorBoard and printed as the last stdout line.
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "hoprag/train/metrics_log.hpp"
#include "hoprag/train/session_budget.hpp"
#include "hoprag/train/tensorboard.hpp"

namespace train_cli {

struct run_session {
    hoprag::train::metrics_writer metrics;
    std::optional<hoprag::train::tensorboard_writer> tb;
    hoprag::train::session_budget budget;
    hoprag::train::stop_signal_guard guard;
    hoprag::train::progress_printer progress;

    /// `step` is the step the run starts from (0, or the resumed one); `config` goes to TensorBoard.
    run_session(const std::filesystem::path& out, bool tensorboard, const std::string& time_limit, std::int64_t step,
                const nlohmann::json& config)
        : metrics((out / "metrics.jsonl").string()), budget(hoprag::train::session_budget::from_flag_or_env(time_limit)) {
        if (!tensorboard) return;
        tb.emplace(out / "tb");
        if (step > 0) tb->add_session_start(step + 1);
        tb->add_text(step, "config", "```\n" + config.dump(2) + "\n```");
    }

    void log(std::int64_t step, const std::vector<std::pair<std::string, double>>& values) {
        metrics.write(step, values);
        if (tb) tb->add_scalars(step, values);
    }

    void sync() {
        metrics.sync();
        if (tb) tb->sync();
    }

    /// Ends the run (after its final save): unless `stop` is `natural_end`, says on stderr why it
    /// stopped and how to resume; records `result` in TensorBoard and prints it on stdout.
    int finish(const std::string& stop, const std::string& natural_end, std::int64_t step, const nlohmann::ordered_json& result,
               int argc, char** argv) {
        if (stop != natural_end)
            std::fprintf(stderr, "stopped (%s) at step %lld after saving; resume with:\n  %s\n", stop.c_str(), static_cast<long long>(step),
                         hoprag::train::resume_command(argc, argv).c_str());
        if (tb) tb->add_text(step, "result", "```\n" + result.dump(2) + "\n```");
        std::cout << result.dump() << std::endl;
        return 0;
    }
};

}  // namespace train_cli
