// The main() every hoprag example program shares (DESIGN rule 11): run the program and turn its
// exceptions into exit statuses. A `usage_error` with an empty message means --help: the usage
// text goes to stdout, status 0. Any other usage_error prints "NAME: message (see --help)" on
// stderr, status 2. Any other exception (bad input) prints "NAME: message" as one line (newlines
// in the message become spaces), status 1. `number_flag`, `integer_flag` and `size_flag` parse flag values.
#pragma once

#include <charconv>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <iostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

namespace program {

/// Bad usage (exit status 2); an empty message asks for the usage text.
struct usage_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// The value of flag `flag` as a T (integer or floating point): all of `value` must be the number.
template <class T>
T number_flag(std::string_view flag, std::string_view value) {
    T x{};
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), x);
    if (value.empty() || ec != std::errc{} || end != value.data() + value.size())
        throw usage_error(std::string(flag) + " expects a number, got \"" + std::string(value) + "\"");
    return x;
}

/// The value of integer flag `flag`: all of `value` must be a decimal integer >= `min`.
inline std::int64_t integer_flag(std::string_view flag, std::string_view value, std::int64_t min = 1) {
    const auto bad = [&] {
        return usage_error(std::string(flag) + " expects an integer >= " + std::to_string(min) + ", got \"" + std::string(value) + "\"");
    };
    std::int64_t x = 0;
    try {
        x = number_flag<std::int64_t>(flag, value);
    } catch (const usage_error&) {
        throw bad();
    }
    if (x < min) throw bad();
    return x;
}

/// The value of count flag `flag` (an integer >= 1) as a size.
inline std::size_t size_flag(std::string_view flag, std::string_view value) { return static_cast<std::size_t>(integer_flag(flag, value)); }

/// Returns run()'s status, or the status of the exception it threw (see the top of this file).
template <class Run>
int guarded_main(std::string_view name, std::string_view usage, Run&& run) {
    try {
        return run();
    } catch (const usage_error& e) {
        if (std::string_view(e.what()).empty()) {
            std::cout << usage << "\n";
            return 0;
        }
        std::cerr << name << ": " << e.what() << " (see --help)\n";
        return 2;
    } catch (const std::exception& e) {
        std::string m = e.what();
        for (auto& c : m)
            if (c == '\n') c = ' ';
        std::cerr << name << ": " << m << "\n";
        return 1;
    }
}

}  // namespace program
