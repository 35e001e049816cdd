#include "schema/yaml_file.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <system_error>

namespace mssearch {

Result<YAML::Node> load_yaml_file(const std::filesystem::path& path, std::string_view what) {
  const std::string cannot = "cannot read the " + std::string(what) + " " + path.string() + ": ";
  // A directory opens as a stream and fails only when read, as the stream's own exception
  // (it was "internal error: basic_filebuf::underflow").
  if (std::error_code ec; std::filesystem::is_directory(path, ec)) return fail(ErrorCode::kIo, cannot + "it is a directory");
  // A FIFO or a device would be read forever (or block): only a regular file, of a bounded size.
  if (std::error_code ec; std::filesystem::exists(path, ec)) {
    if (!std::filesystem::is_regular_file(path, ec)) return fail(ErrorCode::kIo, cannot + "it is not a regular file");
    if (const auto size = std::filesystem::file_size(path, ec); !ec && size > kMaxYamlFileBytes)
      return fail(ErrorCode::kIo, cannot + "it is " + std::to_string(size) + " bytes, over the limit of " +
                                      std::to_string(kMaxYamlFileBytes));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(ErrorCode::kIo, cannot + std::strerror(errno));
  try {
    return YAML::Load(in);
  } catch (const YAML::Exception& e) {
    return fail(ErrorCode::kIo, path.string() + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  } catch (const std::exception& e) {  // the stream's own (a read error)
    return fail(ErrorCode::kIo, cannot + e.what());
  }
}

std::string yaml_where(const std::filesystem::path& path, const YAML::Node& node) {
  return path.string() + ":" + std::to_string(node.Mark().line + 1);
}

}  // namespace mssearch
