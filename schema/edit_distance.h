// Edits between two words: the searcher's typo tolerance ("did you mean") and the article
// reader's suggestion for a misspelt field name share one measure.
#pragma once

#include <cstddef>
#include <string_view>

namespace mssearch {

// Insertions, deletions, substitutions and swaps of neighbours, each one edit (the optimal
// string alignment distance), counted in bytes.
std::size_t edits_between(std::string_view a, std::string_view b);

}  // namespace mssearch
