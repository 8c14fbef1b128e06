// Weights & Biases mirroring through the `wandb` CLI (no Python in the training process). With the
// CLI on PATH, `mirror_to_wandb` uploads an artifact version (`wandb artifact put`) and
// `wandb_mirror` mirrors a whole run: every saved version as it is logged, and at the end the
// run's TensorBoard events (`wandb sync --project PROJECT OUT/tb`, which W&B imports as charts).
// Without the CLI the run folder is the offline record: metrics.jsonl, tb/ and artifacts/ stay as
// they are and OUT/wandb-offline/upload.sh collects the commands that upload them later. Either
// way each action reports one line, and nothing here fails a training run.
#pragma once

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

#include "hoprag/core/shell_quote.hpp"
#include "hoprag/train/artifact_store.hpp"

namespace hoprag::train {

/// The full path of `program` found on the colon-separated `path_env`, if any executable is there.
inline std::optional<std::filesystem::path> find_on_path(const std::string& program, const char* path_env = std::getenv("PATH")) {
    if (!path_env) return std::nullopt;
    const std::string p = path_env;
    std::size_t start = 0;
    while (start <= p.size()) {
        const auto end = std::min(p.find(':', start), p.size());
        const std::filesystem::path cand = std::filesystem::path(end > start ? p.substr(start, end - start) : ".") / program;
        if (::access(cand.c_str(), X_OK) == 0 && std::filesystem::is_regular_file(cand)) return cand;
        start = end + 1;
    }
    return std::nullopt;
}

/// Runs `args` (args[0] a path) as a child process with stdout and stderr going to /dev/null;
/// its exit status, or -1 when it could not run or did not exit normally.
inline int run_quietly(std::vector<std::string> args) {
    const pid_t pid = ::fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        if (std::FILE* null = std::fopen("/dev/null", "w")) ::dup2(::fileno(null), 1), ::dup2(::fileno(null), 2);
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        ::execv(argv[0], argv.data());
        ::_exit(127);
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

struct mirror_result {
    bool mirrored = false;
    std::string message;  // one line for the user
};

/// The `wandb artifact put` arguments (after the executable) that upload version `av`.
inline std::vector<std::string> artifact_put_args(const artifact_version& av, const std::string& project, const std::string& type) {
    return {"artifact", "put", "--name", project + "/" + av.name, "--type", type, "--alias", av.tag(), av.dir.string()};
}

/// Mirrors version `av` to Weights & Biases with `wandb artifact put --name PROJECT/NAME --type
/// TYPE --alias vN DIR` when the wandb CLI is on `path_env`. Without it (or if it fails) the result
/// says so in one line and nothing else happens: the local store remains the record.
inline mirror_result mirror_to_wandb(const artifact_version& av, const std::string& project, const std::string& type = "model",
                                     const char* path_env = std::getenv("PATH")) {
    const auto exe = find_on_path("wandb", path_env);
    if (!exe)
        return {false, "wandb CLI not found on PATH: artifact '" + av.name + "' " + av.tag() + " kept in the local store only (pip install wandb to mirror)"};
    auto args = artifact_put_args(av, project, type);
    args.insert(args.begin(), exe->string());
    const int status = run_quietly(std::move(args));
    if (status == 0) return {true, "mirrored artifact '" + av.name + "' " + av.tag() + " to wandb " + project + "/" + av.name};
    return {false, "wandb artifact put exited with status " + std::to_string(status) + "; artifact '" + av.name + "' " + av.tag() +
                       " kept in the local store only"};
}

/// Mirrors one training run (folder `out`) to W&B project `project`: online through the CLI when it
/// is on `path_env`, else offline (OUT/wandb-offline/upload.sh). See the file comment.
class wandb_mirror {
public:
    wandb_mirror(std::string project, std::filesystem::path out, const char* path_env = std::getenv("PATH"))
        : project_(std::move(project)), out_(std::move(out)), exe_(find_on_path("wandb", path_env)) {}

    [[nodiscard]] bool online() const { return exe_.has_value(); }

    /// What this run does with W&B, one line.
    [[nodiscard]] std::string status_line() const {
        if (online()) return "wandb: mirroring metrics and artifacts to project " + project_ + " with " + exe_->string();
        return "wandb: CLI not found on PATH; offline run directory " + out_.string() + " (metrics.jsonl, tb/, artifacts/), upload later with " +
               upload_script().string();
    }

    /// Mirrors a just-logged version (online), or adds its upload command to the script (offline).
    std::string artifact(const artifact_version& av, const std::string& type = "model") {
        if (online()) return mirror_to_wandb(av, project_, type, exe_->parent_path().c_str()).message;
        append_command(artifact_put_args(av, project_, type));
        return "wandb (offline): artifact '" + av.name + "' " + av.tag() + " queued in " + upload_script().string();
    }

    /// Mirrors the run's TensorBoard events at the end of the run (online), or queues the command.
    std::string finish() {
        const auto tb = out_ / "tb";
        if (!std::filesystem::exists(tb)) return "wandb: no TensorBoard events to sync (--no-tensorboard); metrics stay in metrics.jsonl";
        std::vector<std::string> args{"sync", "--project", project_, tb.string()};
        if (!online()) {
            append_command(args);
            return "wandb (offline): metrics sync queued in " + upload_script().string();
        }
        args.insert(args.begin(), exe_->string());
        const int status = run_quietly(std::move(args));
        return status == 0 ? "wandb: synced the run's metrics to project " + project_
                           : "wandb sync exited with status " + std::to_string(status) + "; metrics stay in " + tb.string();
    }

private:
    [[nodiscard]] std::filesystem::path upload_script() const { return out_ / "wandb-offline" / "upload.sh"; }
    void append_command(const std::vector<std::string>& args) const {
        std::filesystem::create_directories(upload_script().parent_path());
        const bool fresh = !std::filesystem::exists(upload_script());
        std::ofstream f(upload_script(), std::ios::app);
        if (fresh) f << "#!/bin/sh\n# uploads this run to Weights & Biases (pip install wandb; wandb login)\nset -e\n";
        f << "wandb";
        for (const auto& a : args) f << ' ' << shell_quote(a);
        f << "\n";
    }

    std::string project_;
    std::filesystem::path out_;
    std::optional<std::filesystem::path> exe_;
};

}  // namespace hoprag::train
