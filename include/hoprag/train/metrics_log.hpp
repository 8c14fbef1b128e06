// Training metrics as JSON Lines and progress lines for stderr. `metrics_writer` appends one JSON
// object per line — {"step": 120, "time": <unix seconds>, "loss": 2.31, "lr": 0.0003, ...} — and
// flushes each line to the kernel, so killing the process (even kill -9) loses at most the line
// being written; reopening a file whose last line was cut off starts on a fresh line. Non-finite
// values are written as null and read back as NaN. `read_metrics` parses such a file and ignores a
// cut-off last line. `format_progress` renders step/total, loss, tokens/s, ETA and memory either
// as a bar for a terminal or as a plain log line; `progress_printer` picks by isatty().
#pragma once

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <limits>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "hoprag/core/error.hpp"

namespace hoprag::train {

/// One line of a metrics file.
struct metric_record {
    std::int64_t step = 0;
    double time = 0.0;                     // wall-clock seconds since the Unix epoch
    std::map<std::string, double> values;  // name -> value (NaN where null was written)
};

/// Appends metric lines to a JSONL file; every line is flushed as soon as it is written.
class metrics_writer {
public:
    /// Opens (creates) `path` for appending. Throws io_error naming the file on failure.
    explicit metrics_writer(std::string path) : path_(std::move(path)) {
        bool needs_newline = false;
        if (std::FILE* r = std::fopen(path_.c_str(), "rb")) {  // a cut-off last line: start a fresh one
            if (std::fseek(r, -1, SEEK_END) == 0) needs_newline = std::fgetc(r) != '\n';
            std::fclose(r);
        }
        file_ = std::fopen(path_.c_str(), "ab");
        if (!file_) throw io_error("metrics_writer: cannot open '" + path_ + "' for appending");
        if (needs_newline) put("\n");
    }
    ~metrics_writer() {
        if (file_) std::fclose(file_);
    }
    metrics_writer(const metrics_writer&) = delete;
    metrics_writer& operator=(const metrics_writer&) = delete;

    /// Append {"step": step, "time": now, name: value, ...} as one line and flush it.
    void write(std::int64_t step, const std::vector<std::pair<std::string, double>>& values) {
        nlohmann::ordered_json j;
        j["step"] = step;
        j["time"] = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
        for (const auto& [name, value] : values) {
            if (name == "step" || name == "time") throw config_error("metrics_writer: metric name '" + name + "' is reserved");
            if (std::isfinite(value)) j[name] = value;
            else j[name] = nullptr;
        }
        put(j.dump() + "\n");
    }
    /// fsync the file (survives power loss, not only process death); call at checkpoints.
    void sync() {
        if (::fsync(::fileno(file_)) != 0) throw io_error("metrics_writer: fsync of '" + path_ + "' failed");
    }
    const std::string& path() const { return path_; }

private:
    void put(const std::string& s) {
        if (std::fwrite(s.data(), 1, s.size(), file_) != s.size() || std::fflush(file_) != 0)
            throw io_error("metrics_writer: writing to '" + path_ + "' failed (disk full?)");
    }
    std::string path_;
    std::FILE* file_ = nullptr;
};

/// Every record of a JSONL metrics file, in order. A last line without its newline (cut off by a
/// kill) is ignored; any other malformed line throws format_error naming file and line.
inline std::vector<metric_record> read_metrics(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw io_error("read_metrics: cannot open '" + path + "'");
    const std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::vector<metric_record> out;
    std::size_t line_no = 0, pos = 0;
    while (pos < all.size()) {
        const std::size_t end = all.find('\n', pos);
        ++line_no;
        if (end == std::string::npos) break;  // cut-off last line
        const std::string_view line(all.data() + pos, end - pos);
        pos = end + 1;
        if (line.empty()) continue;
        const auto where = [&] { return "read_metrics: " + path + ":" + std::to_string(line_no) + ": "; };
        const auto j = nlohmann::json::parse(line, nullptr, false);
        if (j.is_discarded() || !j.is_object()) throw format_error(where() + "not a JSON object");
        if (!j.contains("step") || !j["step"].is_number_integer()) throw format_error(where() + "missing integer \"step\"");
        metric_record r;
        r.step = j["step"].get<std::int64_t>();
        if (j.contains("time") && j["time"].is_number()) r.time = j["time"].get<double>();
        for (const auto& [name, value] : j.items()) {
            if (name == "step" || name == "time") continue;
            if (value.is_null()) r.values[name] = std::numeric_limits<double>::quiet_NaN();
            else if (value.is_number()) r.values[name] = value.get<double>();
            else throw format_error(where() + "metric \"" + name + "\" is not a number");
        }
        out.push_back(std::move(r));
    }
    return out;
}

/// What a progress line shows; negative / zero fields are left out.
struct progress_info {
    std::int64_t step = 0, total = 0;
    double loss = std::numeric_limits<double>::quiet_NaN();
    double tokens_per_s = -1.0;
    double eta_s = -1.0;              // seconds left
    std::int64_t memory_bytes = -1;   // peak or current memory in use
};

/// "1h02m", "3m05s", "42s" (durations >= 1 day: "2d03h").
inline std::string format_duration(double seconds) {
    if (!(seconds >= 0.0) || !std::isfinite(seconds)) return "?";
    const auto s = static_cast<std::int64_t>(seconds + 0.5);
    char buf[32];
    if (s >= 86400) std::snprintf(buf, sizeof buf, "%lldd%02lldh", static_cast<long long>(s / 86400), static_cast<long long>(s % 86400 / 3600));
    else if (s >= 3600) std::snprintf(buf, sizeof buf, "%lldh%02lldm", static_cast<long long>(s / 3600), static_cast<long long>(s % 3600 / 60));
    else if (s >= 60) std::snprintf(buf, sizeof buf, "%lldm%02llds", static_cast<long long>(s / 60), static_cast<long long>(s % 60));
    else std::snprintf(buf, sizeof buf, "%llds", static_cast<long long>(s));
    return buf;
}

/// One progress line without a line ending. tty = true: "[#####-----] 50/100 loss ..." (a bar
/// `bar_width` characters wide); false: "step 50/100 loss ...", for logs.
inline std::string format_progress(const progress_info& p, bool tty, int bar_width = 24) {
    std::string out;
    char buf[64];
    if (tty && p.total > 0) {
        const double frac = std::min(1.0, std::max(0.0, static_cast<double>(p.step) / static_cast<double>(p.total)));
        const int filled = static_cast<int>(frac * bar_width);
        out += '[' + std::string(static_cast<std::size_t>(filled), '#') + std::string(static_cast<std::size_t>(bar_width - filled), '-') + "] ";
    } else if (!tty) {
        out += "step ";
    }
    out += std::to_string(p.step);
    if (p.total > 0) out += "/" + std::to_string(p.total);
    if (!std::isnan(p.loss)) {
        std::snprintf(buf, sizeof buf, " loss %.4f", p.loss);
        out += buf;
    }
    if (p.tokens_per_s >= 0.0) {
        if (p.tokens_per_s >= 1e4) std::snprintf(buf, sizeof buf, " %.1fk tok/s", p.tokens_per_s / 1e3);
        else std::snprintf(buf, sizeof buf, " %.0f tok/s", p.tokens_per_s);
        out += buf;
    }
    if (p.eta_s >= 0.0) out += " eta " + format_duration(p.eta_s);
    if (p.memory_bytes >= 0) {
        std::snprintf(buf, sizeof buf, " mem %.2f GiB", static_cast<double>(p.memory_bytes) / (1024.0 * 1024.0 * 1024.0));
        out += buf;
    }
    return out;
}

/// Prints progress to a stream (stderr by default): on a terminal the line is redrawn in place
/// (carriage return, clear to end of line); otherwise each call prints one plain line.
class progress_printer {
public:
    explicit progress_printer(std::FILE* out = stderr) : out_(out), tty_(::isatty(::fileno(out)) == 1) {}
    progress_printer(std::FILE* out, bool tty) : out_(out), tty_(tty) {}
    ~progress_printer() { finish(); }
    progress_printer(const progress_printer&) = delete;
    progress_printer& operator=(const progress_printer&) = delete;

    void print(const progress_info& p) {
        const std::string line = format_progress(p, tty_);
        if (tty_) std::fprintf(out_, "\r%s\x1b[K", line.c_str());
        else std::fprintf(out_, "%s\n", line.c_str());
        std::fflush(out_);
        open_line_ = tty_;
    }
    /// End the redrawn line so later output starts on its own line.
    void finish() {
        if (open_line_) std::fputc('\n', out_);
        open_line_ = false;
    }
    bool tty() const { return tty_; }

private:
    std::FILE* out_;
    bool tty_;
    bool open_line_ = false;
};

}  // namespace hoprag::train
