// Quoting for POSIX shells, for the command lines the library prints or writes (resume hints,
// upload scripts): a word of safe characters stays as it is, anything else is single-quoted with
// each ' written as '\''.
#pragma once

#include <string>
#include <string_view>

namespace hoprag {

[[nodiscard]] inline std::string shell_quote(std::string_view a) {
    if (!a.empty() && a.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%") == std::string_view::npos)
        return std::string(a);
    std::string out = "'";
    for (const char c : a) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

}  // namespace hoprag
