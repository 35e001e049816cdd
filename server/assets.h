// The page templates, script, styles and widget, compiled into the binary (server/assets/).
#pragma once

#include <string_view>

namespace mssearch {

// The asset's contents, or an empty view for an unknown name.
std::string_view asset(std::string_view name);

}  // namespace mssearch
