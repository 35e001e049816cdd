# Writes OUT: a C++ file holding every file of FILES (in DIR) as a string, so that the server
# serves its page, script and styles from memory and never reads a path taken from a request.
set(content "// Generated from server/assets by embed_assets.cmake. Do not edit.\n")
string(APPEND content "#include \"server/assets.h\"\n\n#include <map>\n\nnamespace mssearch {\n\n")
string(APPEND content "std::string_view asset(std::string_view name) {\n")
string(APPEND content "  static const std::map<std::string_view, std::string_view> kAssets = {\n")
string(REPLACE "," ";" FILES "${FILES}")
foreach(f IN LISTS FILES)
  file(READ "${DIR}/${f}" data)
  string(APPEND content "      {\"${f}\", R\"mssearch_asset(${data})mssearch_asset\"},\n")
endforeach()
string(APPEND content "  };\n  auto it = kAssets.find(name);\n  return it == kAssets.end() ? std::string_view() : it->second;\n}\n\n}  // namespace mssearch\n")
file(WRITE "${OUT}" "${content}")
