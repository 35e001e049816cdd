// zstd frames for what mssearch stores in a document: the stored article (document data) and
// feedback's terms (a value slot). Xapian's glass backend deflates document data itself, and
// inflating it was a tenth of a search answer's time; values it stores as they are. zstd reads
// back three times as fast as zlib at about the same size.
// Thread-safety: safe from any thread (each thread has its own contexts).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace mssearch {

// Whether `data` begins as a zstd frame does (older document data is plain MessagePack or JSON).
bool is_zstd_frame(std::string_view data);

// What a frame is for. kSmall: a few hundred bytes read back for many documents of every
// answer, where building the decoder's Huffman tables for the literals (~2 us a frame) costs
// more than decoding: the literals are left as they are (about a fifth larger, a tenth of the
// time to read back). kText: the literals Huffman-coded too (the smallest frame).
enum class ZstdFrame { kText, kSmall };

// One checksummed frame, level 3 (zstd's default). Throws std::runtime_error if zstd fails.
std::string zstd_compress(std::string_view data, ZstdFrame kind = ZstdFrame::kText);

// The size of the frame `data` begins with (what follows may be another frame). Throws
// std::runtime_error when `data` does not begin with a whole frame.
std::size_t zstd_frame_bytes(std::string_view data);

// The frame's contents. Throws std::runtime_error, naming the problem, for anything but one
// whole, intact frame of at most `max_bytes` decompressed.
std::string zstd_decompress(std::string_view frame, std::size_t max_bytes);

}  // namespace mssearch
