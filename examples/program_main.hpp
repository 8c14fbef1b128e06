// The main() every hoprag example program shares (DESIGN rule 11): run the program and turn its
// exceptions into exit statuses. A `usage_error` with an empty message means --help: the usage
// text goes to stdout, status 0. Any other usage_error prints "NAME: message (see --help)" on
// stderr, status 2. Any other exception (bad input) prints "NAME: message" as one line (newlines
// in the message become spaces), status 1.
#pragma once

#include <cstdio>
#include <exception>
#include <iostream>
#include <stdexcept>
#include <string>
#include <string_view>

namespace program {

/// Bad usage (exit status 2); an empty message asks for the usage text.
struct usage_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

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
