// Reading a YAML file a user names (a server config, a synonyms file, an eval manifest or
// floors file): one place that turns yaml-cpp's and the stream's exceptions into an Error
// that names the file, what it was for, and the line.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string_view>

#include <yaml-cpp/yaml.h>

#include "schema/error.h"

namespace mssearch {

// A settings file over this size is refused before it is read (a synonyms file of 6.6 MB took
// 3.5 s and 500 MB to load).
inline constexpr std::uintmax_t kMaxYamlFileBytes = 4u << 20;

// The file's document (a null node for an empty file). `what` names the file's role in the
// messages ("config file", "synonyms file"): "cannot read the config file X: it is a
// directory", "...: No such file or directory", "X:12: illegal map value". Always kIo.
Result<YAML::Node> load_yaml_file(const std::filesystem::path& path, std::string_view what);

// "X:12": the file and the line of a node in it, for the caller's own checks of the content.
std::string yaml_where(const std::filesystem::path& path, const YAML::Node& node);

}  // namespace mssearch
