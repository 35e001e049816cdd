// Fuzz target: what reaches a shard server's internal endpoint and what a coordinator reads back
// (searcher/shard_protocol.h). Decoding never crashes; what decodes encodes to the same thing.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "searcher/shard_protocol.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  if (auto request = mssearch::decode_shard_request(bytes)) {
    const std::string again = mssearch::encode(*request);
    auto twice = mssearch::decode_shard_request(again);
    if (!twice || mssearch::encode(*twice) != again) std::abort();
  }
  if (auto answer = mssearch::decode_shard_answer(bytes)) {
    const std::string again = mssearch::encode(*answer);
    auto twice = mssearch::decode_shard_answer(again);
    if (!twice || mssearch::encode(*twice) != again) std::abort();
  }
  return 0;
}
