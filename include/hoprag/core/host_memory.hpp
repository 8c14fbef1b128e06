// The process's peak resident set size (getrusage: the most physical memory it has held so far),
// for training metrics and benchmark reports.
#pragma once

#include <sys/resource.h>

#include <cstdint>

namespace hoprag {

/// Peak resident set size of this process in MiB (Linux reports ru_maxrss in KiB); 0 if unknown.
[[nodiscard]] inline double host_peak_rss_mib() {
    rusage u{};
    if (::getrusage(RUSAGE_SELF, &u) != 0) return 0.0;
    return static_cast<double>(u.ru_maxrss) / 1024.0;
}

}  // namespace hoprag
