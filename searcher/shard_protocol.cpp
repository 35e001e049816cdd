#include "searcher/shard_protocol.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <stdexcept>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "schema/schema.h"

namespace mssearch {
namespace {

using json = nlohmann::json;

// A field of the wrong type or out of bounds: decode_* turn it into their error.
struct Malformed : std::runtime_error {
  using std::runtime_error::runtime_error;
};

constexpr std::size_t kMaxListEntries = 100000;

const json& field(const json& object, const char* name) {
  static const json kNull;
  const auto it = object.find(name);
  return it == object.end() ? kNull : *it;
}

std::string text(const json& object, const char* name, std::size_t max_bytes = 1 << 20) {
  const json& v = field(object, name);
  if (v.is_null()) return {};
  if (!v.is_string()) throw Malformed(std::string("'") + name + "' is not a string");
  if (v.get_ref<const std::string&>().size() > max_bytes) throw Malformed(std::string("'") + name + "' is too long");
  return v.get<std::string>();
}

std::uint64_t count(const json& object, const char* name, std::uint64_t max, std::uint64_t fallback = 0) {
  const json& v = field(object, name);
  if (v.is_null()) return fallback;
  if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<std::int64_t>() >= 0))
    throw Malformed(std::string("'") + name + "' is not a count");
  const auto n = v.get<std::uint64_t>();
  if (n > max) throw Malformed(std::string("'") + name + "' is more than " + std::to_string(max));
  return n;
}

double number(const json& object, const char* name) {
  const json& v = field(object, name);
  if (v.is_null()) return 0;
  if (!v.is_number()) throw Malformed(std::string("'") + name + "' is not a number");
  return v.get<double>();
}

bool flag(const json& object, const char* name, bool fallback) {
  const json& v = field(object, name);
  if (v.is_null()) return fallback;
  if (!v.is_boolean()) throw Malformed(std::string("'") + name + "' is not true or false");
  return v.get<bool>();
}

const json& list(const json& object, const char* name, std::size_t max = kMaxListEntries) {
  static const json kEmpty = json::array();
  const json& v = field(object, name);
  if (v.is_null()) return kEmpty;
  if (!v.is_array()) throw Malformed(std::string("'") + name + "' is not a list");
  if (v.size() > max) throw Malformed(std::string("'") + name + "' has more than " + std::to_string(max) + " entries");
  return v;
}

// The list `name` of counts (each at most `max`, at most `entries` of them), never
// decreasing: the steps of feedback's candidates, or the step of each hit.
std::vector<std::size_t> steps_of(const json& object, const char* name, std::uint64_t max, std::size_t entries) {
  std::vector<std::size_t> out;
  for (const auto& v : list(object, name, entries)) {
    if (!v.is_number_unsigned() || v.get<std::uint64_t>() > max) throw Malformed(std::string("'") + name + "' holds a bad step");
    out.push_back(static_cast<std::size_t>(v.get<std::uint64_t>()));
    if (out.size() > 1 && out.back() < out[out.size() - 2]) throw Malformed(std::string("'") + name + "' decreases");
  }
  return out;
}

// The list `name` of docids (each from 1 to 2^32 - 1, at most kMaxListEntries of them).
std::vector<std::uint32_t> docids_of(const json& object, const char* name) {
  std::vector<std::uint32_t> out;
  for (const auto& v : list(object, name)) {
    if (!v.is_number_unsigned() || v.get<std::uint64_t>() == 0 || v.get<std::uint64_t>() > UINT32_MAX)
      throw Malformed(std::string("'") + name + "' holds something that is not a document number");
    out.push_back(static_cast<std::uint32_t>(v.get<std::uint64_t>()));
  }
  return out;
}

// An index state (docid_key): each part's UUID (36 bytes) and revision; 64 parts are plenty.
constexpr std::size_t kMaxDocidKeyBytes = 64 * 64;

// The entries of the list `name` (at most `max`), each a pair [a, b] that `valid(a, b)` accepts
// or else the message is refused with `refusal`. `each(a, b)` takes an entry (and may refuse it
// too) before the next is checked, so the first bad entry is the one named, as each list's own
// loop did.
template <typename Valid, typename Each>
void pairs_of(const json& object, const char* name, std::size_t max, std::string_view refusal, Valid valid, Each each) {
  for (const auto& p : list(object, name, max)) {
    if (!p.is_array() || p.size() != 2 || !valid(p[0], p[1])) throw Malformed(std::string(refusal));
    each(p[0], p[1]);
  }
}

json facets_json(const std::vector<FacetValue>& facets) {
  json out = json::array();
  for (const auto& f : facets) out.push_back({f.value, f.count});
  return out;
}

std::vector<FacetValue> facets_of(const json& object, const char* name) {
  std::vector<FacetValue> out;
  pairs_of(object, name, kMaxListEntries, std::string("'") + name + "' holds an entry that is not [value, count]",
           [](const json& value, const json& n) { return value.is_string() && n.is_number_unsigned(); },
           [&](const json& value, const json& n) { out.push_back({value.get<std::string>(), n.get<std::uint32_t>()}); });
  return out;
}

json hit_json(const SearchHit& h) {
  json marks = json::array();
  for (const auto& m : h.snippet.marks) marks.push_back({m.begin, m.end});
  json j = {{"id", h.id},           {"title", h.title}, {"url", h.url},       {"date", h.date},
            {"journal", h.journal}, {"takeaway", h.takeaway}, {"topics", h.topics}, {"score", h.score},
            {"snippet", h.snippet.text}, {"marks", std::move(marks)}};
  if (h.credibility) j["credibility"] = *h.credibility;
  if (h.interest) j["interest"] = *h.interest;
  return j;
}

std::optional<int> rating(const json& object, const char* name) {
  const json& v = field(object, name);
  if (v.is_null()) return std::nullopt;
  return static_cast<int>(count(object, name, 5));
}

SearchHit hit_of(const json& j) {
  if (!j.is_object()) throw Malformed("a hit is not a map");
  SearchHit h;
  h.id = text(j, "id");
  h.title = text(j, "title");
  h.url = text(j, "url");
  h.date = text(j, "date");
  h.journal = text(j, "journal");
  h.takeaway = text(j, "takeaway");
  for (const auto& t : list(j, "topics", 1000)) {
    if (!t.is_string()) throw Malformed("a hit's topic is not a string");
    h.topics.push_back(t.get<std::string>());
  }
  h.credibility = rating(j, "credibility");
  h.interest = rating(j, "interest");
  h.score = number(j, "score");
  h.snippet.text = text(j, "snippet");
  pairs_of(j, "marks", 10000, "a snippet mark is not [begin, end]",
           [](const json& begin, const json& end) { return begin.is_number_unsigned() && end.is_number_unsigned(); },
           [&](const json& begin, const json& end) {
             const auto b = begin.get<std::size_t>(), e = end.get<std::size_t>();
             if (b > e || e > h.snippet.text.size()) throw Malformed("a snippet mark is outside its snippet");
             h.snippet.marks.push_back({b, e});
           });
  return h;
}

json hits_json(const std::vector<SearchHit>& hits) {
  json out = json::array();
  for (const auto& h : hits) out.push_back(hit_json(h));
  return out;
}

std::vector<SearchHit> hits_of(const json& object, const char* name) {
  std::vector<SearchHit> out;
  for (const auto& h : list(object, name)) out.push_back(hit_of(h));
  return out;
}

std::vector<std::string> strings_of(const json& object, const char* name) {
  std::vector<std::string> out;
  for (const auto& s : list(object, name)) {
    if (!s.is_string()) throw Malformed(std::string("'") + name + "' holds an entry that is not a string");
    out.push_back(s.get<std::string>());
  }
  return out;
}

// Thousands of (term, frequency) pairs travel with every re-ranked search: packed as one binary
// field (a varint length, the term, a varint frequency, ...), not as a MessagePack array each.
void put_varint(std::string& out, std::uint64_t n) {
  while (n >= 0x80) {
    out.push_back(static_cast<char>((n & 0x7f) | 0x80));
    n >>= 7;
  }
  out.push_back(static_cast<char>(n));
}

std::uint64_t get_varint(std::string_view& in) {
  std::uint64_t n = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (in.empty()) throw Malformed("a packed frequency list ends early");
    const auto byte = static_cast<unsigned char>(in.front());
    in.remove_prefix(1);
    n |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return n;
  }
  throw Malformed("a packed number is too long");
}

// A term of the statistics read back: Xapian's longest, or an expansion mark of a prefix.
constexpr std::size_t kMaxPackedTermBytes = 1024;

std::string pack_freqs(const std::vector<std::pair<std::string, std::uint32_t>>& freqs) {
  std::string out;
  for (const auto& [term, freq] : freqs) {
    // A term longer than Xapian keeps is in no shard (a typed word of 1,024 bytes): nothing to
    // sum. Sent, it was refused as malformed (kMaxPackedTermBytes), and every shard was marked
    // down for the next searches. A wildcard's expansion mark (a NUL, then the prefix typed)
    // past that bound is left out too: the wildcard is then weighed as one whose expansion is
    // missing somewhere (by each shard's estimate), as no shard can expand such a prefix.
    if (term.size() > (term.starts_with('\0') ? kMaxPackedTermBytes : schema::kMaxTermBytes)) continue;
    put_varint(out, term.size());
    out += term;
    put_varint(out, freq);
  }
  return out;
}

std::vector<std::pair<std::string, std::uint32_t>> unpack_freqs(std::string_view in) {
  std::vector<std::pair<std::string, std::uint32_t>> out;
  while (!in.empty()) {
    const auto size = get_varint(in);
    if (size > in.size() || size > kMaxPackedTermBytes) throw Malformed("a packed term is longer than what is left");
    std::string term(in.substr(0, size));
    in.remove_prefix(size);
    const auto freq = get_varint(in);
    if (freq > UINT32_MAX) throw Malformed("a packed frequency is out of range");
    out.emplace_back(std::move(term), static_cast<std::uint32_t>(freq));
  }
  return out;
}

// A TermFreqTable front-coded: for each term the bytes it shares with the one before and the
// length of the rest (varints), the rest, then its collection and document frequencies.
std::string pack_table(const TermFreqTable& table) {
  std::string out;
  std::string_view previous;
  for (std::size_t i = 0; i < table.size(); ++i) {
    const std::string_view term = table.term(i);
    std::size_t shared = 0;
    while (shared < previous.size() && shared < term.size() && previous[shared] == term[shared]) ++shared;
    put_varint(out, shared);
    put_varint(out, term.size() - shared);
    out.append(term.substr(shared));
    put_varint(out, table.freqs(i).collection_freq);
    put_varint(out, table.freqs(i).termfreq);
    previous = term;
  }
  return out;
}

// Bounds on a table read back: a term as long as Xapian allows (front coding sends a long name
// in a few bytes, so every byte of a name is counted, not only those on the wire: 18 MB of
// entries each sharing 1,021 bytes decoded to 4.6 GB), and the whole table. A real one holds
// the terms of a shard's best hits (RankingOptions::feedback_docs, at most 1,000 of them).
constexpr std::size_t kMaxTableEntries = 1'000'000;
constexpr std::size_t kMaxTableNameBytes = 32u << 20;

TermFreqTable unpack_table(std::string_view in) {
  TermFreqTable out;
  // Most entries take 6-10 bytes on the wire and their names about as many once decoded.
  out.reserve(std::min(in.size() / 8, kMaxTableEntries), std::min(in.size(), kMaxTableNameBytes));
  std::string term;
  std::size_t names = 0;
  while (!in.empty()) {
    const auto shared = get_varint(in);
    const auto rest = get_varint(in);
    if (shared > term.size()) throw Malformed("a packed term shares more bytes than the term before it holds");
    if (rest > in.size()) throw Malformed("a packed term is longer than what is left");
    if (shared + rest > schema::kMaxTermBytes)
      throw Malformed("a packed term is " + std::to_string(shared + rest) + " bytes; a term is at most " +
                      std::to_string(schema::kMaxTermBytes));
    if (out.size() == kMaxTableEntries)
      throw Malformed("the packed terms are more than " + std::to_string(kMaxTableEntries));
    names += static_cast<std::size_t>(shared + rest);
    if (names > kMaxTableNameBytes)
      throw Malformed("the packed terms' names are more than " + std::to_string(kMaxTableNameBytes) + " bytes");
    term.resize(static_cast<std::size_t>(shared));
    term.append(in.substr(0, static_cast<std::size_t>(rest)));
    in.remove_prefix(static_cast<std::size_t>(rest));
    const auto collection_freq = get_varint(in), termfreq = get_varint(in);
    if (collection_freq > UINT32_MAX || termfreq > UINT32_MAX) throw Malformed("a packed frequency is out of range");
    if (!out.add(term, {static_cast<std::uint32_t>(collection_freq), static_cast<std::uint32_t>(termfreq)}))
      throw Malformed("the packed terms are not in increasing order");
  }
  return out;
}

constexpr const char* kOps[] = {"match", "page", "info", "article", "related", "suggest", "stats", "fetch"};

// The field `name` when it is binary, null when absent; any other type is a damaged message (a
// table that came as a string was read as none, and the answer as whole).
const json& binary_field(const json& object, const char* name) {
  const json& v = field(object, name);
  if (!v.is_null() && !v.is_binary()) throw Malformed(std::string("'") + name + "' is not binary");
  return v;
}

std::string_view bytes_of(const json& j) {
  return std::string_view(reinterpret_cast<const char*>(j.get_binary().data()), j.get_binary().size());
}

// Whether `b` is one whole MessagePack value nested at most `max_depth` deep, checked without
// recursion: nlohmann's reader recurses once per level, and a few megabytes of nested arrays
// (from a hostile or broken peer) would overflow the stack before it could refuse them.
bool nesting_within(std::string_view b, std::size_t max_depth) {
  std::vector<std::uint64_t> left{1};  // elements still to read at each open level
  std::size_t at = 0;
  auto big_endian = [&](std::size_t n, std::uint64_t& value) {
    if (n > b.size() - at) return false;
    value = 0;
    for (std::size_t i = 0; i < n; ++i) value = value << 8 | static_cast<unsigned char>(b[at++]);
    return true;
  };
  while (!left.empty()) {
    if (left.back() == 0) {
      left.pop_back();
      continue;
    }
    --left.back();
    if (at >= b.size()) return false;
    const auto t = static_cast<unsigned char>(b[at++]);
    std::uint64_t skip = 0, children = 0, n = 0;
    if (t <= 0x7f || t >= 0xe0 || t == 0xc0 || t == 0xc2 || t == 0xc3) {
      // a number, nil or a boolean in the type byte
    } else if (t <= 0x8f) {
      children = 2u * (t & 0x0fu);
    } else if (t <= 0x9f) {
      children = t & 0x0fu;
    } else if (t <= 0xbf) {
      skip = t & 0x1fu;
    } else {
      switch (t) {
        case 0xc4: case 0xd9: if (!big_endian(1, n)) return false; skip = n; break;
        case 0xc5: case 0xda: if (!big_endian(2, n)) return false; skip = n; break;
        case 0xc6: case 0xdb: if (!big_endian(4, n)) return false; skip = n; break;
        case 0xc7: if (!big_endian(1, n)) return false; skip = n + 1; break;
        case 0xc8: if (!big_endian(2, n)) return false; skip = n + 1; break;
        case 0xc9: if (!big_endian(4, n)) return false; skip = n + 1; break;
        case 0xca: case 0xce: case 0xd2: skip = 4; break;
        case 0xcb: case 0xcf: case 0xd3: skip = 8; break;
        case 0xcc: case 0xd0: skip = 1; break;
        case 0xcd: case 0xd1: skip = 2; break;
        case 0xd4: skip = 2; break;
        case 0xd5: skip = 3; break;
        case 0xd6: skip = 5; break;
        case 0xd7: skip = 9; break;
        case 0xd8: skip = 17; break;
        case 0xdc: if (!big_endian(2, children)) return false; break;
        case 0xdd: if (!big_endian(4, children)) return false; break;
        case 0xde: if (!big_endian(2, n)) return false; children = 2 * n; break;
        case 0xdf: if (!big_endian(4, n)) return false; children = 2 * n; break;
        default: return false;  // 0xc1: never used
      }
    }
    if (skip > b.size() - at) return false;
    at += skip;
    if (children > 0) {
      if (left.size() > max_depth) return false;
      left.push_back(children);
    }
  }
  return true;
}

json parse(std::string_view bytes, std::size_t max) {
  if (bytes.size() > max)
    throw Malformed("the message is " + std::to_string(bytes.size()) + " bytes; the limit is " + std::to_string(max));
  // The protocol's messages nest four levels deep at most (a hit's snippet marks).
  if (!nesting_within(bytes, 16)) throw Malformed("the message is not a MessagePack map (or nests deeper than 16 levels)");
  json j = json::from_msgpack(bytes.begin(), bytes.end(), true, false);
  if (j.is_discarded() || !j.is_object()) throw Malformed("the message is not a MessagePack map");
  return j;
}

}  // namespace

bool TermFreqTable::add(std::string_view term, Freqs freqs) {
  if (!entries_.empty() && !(this->term(entries_.size() - 1) < term)) return false;
  if (names_.size() + term.size() > UINT32_MAX) return false;
  entries_.push_back({static_cast<std::uint32_t>(names_.size()), static_cast<std::uint32_t>(term.size()), freqs});
  names_.append(term);
  return true;
}

const TermFreqTable::Freqs* TermFreqTable::find(std::string_view term) const {
  const auto it = std::lower_bound(entries_.begin(), entries_.end(), term, [&](const Entry& e, std::string_view t) {
    return std::string_view(names_).substr(e.at, e.size) < t;
  });
  if (it == entries_.end() || std::string_view(names_).substr(it->at, it->size) != term) return nullptr;
  return &it->freqs;
}

bool TermFreqTable::operator==(const TermFreqTable& other) const {
  if (size() != other.size()) return false;
  for (std::size_t i = 0; i < size(); ++i)
    if (term(i) != other.term(i) || freqs(i) != other.freqs(i)) return false;
  return true;
}

ShardParams shard_params(const SearchRequest& r) {
  ShardParams p;
  p.emplace_back("q", r.query);
  for (const auto& t : r.topics) p.emplace_back("topic", t);
  for (const auto& j : r.journals) p.emplace_back("journal", j);
  for (int y : r.years) p.emplace_back("year", std::to_string(y));
  if (!r.since.empty()) p.emplace_back("since", r.since);
  if (!r.until.empty()) p.emplace_back("until", r.until);
  if (r.min_credibility) p.emplace_back("min_credibility", std::to_string(*r.min_credibility));
  if (r.sort != SortOrder::kRelevance) p.emplace_back("sort", r.sort == SortOrder::kDate ? "date" : "credibility");
  if (r.partial) p.emplace_back("partial", "1");
  return p;
}

std::string encode(const ShardRequest& r) {
  json params = json::array();
  for (const auto& [name, value] : r.params) params.push_back({name, value});
  json feedback = json::array();
  for (const auto& [term, weight] : r.feedback) feedback.push_back({term, weight});
  json j = {{"v", kShardProtocolVersion},
                  {"op", kOps[static_cast<int>(r.op)]},
                  {"params", std::move(params)},
                  {"window", r.window},
                  {"facets", r.facets},
                  {"snippets", r.snippets},
                  {"related", r.related},
                  {"related_fill", r.related_fill},
                  {"keys_only", r.keys_only},
                  {"related_terms", r.related_terms},
                  {"feedback", std::move(feedback)},
                  {"candidates", r.candidates},
                  {"candidate_steps", r.candidate_steps},
                  {"id", r.id},
                  {"limit", r.limit}};
  if (r.snippet_length > 0) j["snippet_length"] = r.snippet_length;
  if (!r.ids.empty()) j["ids"] = r.ids;
  if (!r.candidate_docids.empty()) {
    j["candidate_docids"] = r.candidate_docids;
    j["docid_key"] = r.docid_key;
  }
  if (!r.related_topics.empty()) j["related_topics"] = r.related_topics;
  json stats;
  if (r.stats) {
    const std::string freqs = pack_freqs(r.stats->term_freqs);
    stats = {{"documents", r.stats->documents}, {"length", r.stats->total_length},
             {"freqs", json::binary({freqs.begin(), freqs.end()})}};
  }
  std::string out;
  if (r.stats) j["stats"] = std::move(stats);
  json::to_msgpack(j, out);
  return out;
}

Result<ShardRequest> decode_shard_request(std::string_view bytes) {
  try {
    const json j = parse(bytes, kMaxShardRequestBytes);
    if (count(j, "v", 1u << 20) != kShardProtocolVersion)
      return fail(ErrorCode::kSchemaMismatch, "shard protocol version " + std::to_string(count(j, "v", 1u << 20)) +
                                            " is not " + std::to_string(kShardProtocolVersion) +
                                            ": coordinator and shard servers must run the same mssearch");
    ShardRequest r;
    const std::string op = text(j, "op", 16);
    const auto it = std::find(std::begin(kOps), std::end(kOps), op);
    if (it == std::end(kOps)) throw Malformed("unknown operation '" + op + "'");
    r.op = static_cast<ShardOp>(it - std::begin(kOps));
    pairs_of(j, "params", 200, "a parameter is not [name, value]",
             [](const json& name, const json& value) { return name.is_string() && value.is_string(); },
             [&](const json& name, const json& value) { r.params.emplace_back(name.get<std::string>(), value.get<std::string>()); });
    r.window = count(j, "window", 1u << 20, 10);
    r.facets = flag(j, "facets", true);
    r.snippets = flag(j, "snippets", true);
    r.related = flag(j, "related", true);
    r.related_fill = flag(j, "related_fill", false);
    r.keys_only = flag(j, "keys_only", false);
    r.related_terms = strings_of(j, "related_terms");
    if (r.related_terms.size() > 100) throw Malformed("'related_terms' holds more than 100 terms");
    // An empty term would match every article.
    for (const auto& t : r.related_terms)
      if (t.empty() || t.size() > 245) throw Malformed("a related term is empty or longer than 245 bytes");
    pairs_of(j, "feedback", 1000, "a feedback term is not [term, weight]",
             [](const json& term, const json& weight) {
               return term.is_string() && weight.is_number() && term.get_ref<const std::string&>().size() <= 245;
             },
             [&](const json& term, const json& w) {
               const double weight = w.get<double>();
               // Xapian refuses a negative scale (an error that reads as the shard's failure) and a
               // NaN or an infinity would make every score one.
               if (!std::isfinite(weight) || weight < 0) throw Malformed("a feedback term's weight is not a finite number >= 0");
               r.feedback.emplace_back(term.get<std::string>(), weight);
             });
    r.candidates = count(j, "candidates", 1u << 20);
    r.candidate_steps = steps_of(j, "candidate_steps", 1u << 20, 64);
    r.candidate_docids = docids_of(j, "candidate_docids");
    r.docid_key = text(j, "docid_key", kMaxDocidKeyBytes);
    if (const json& st = field(j, "stats"); !st.is_null()) {
      if (!st.is_object()) throw Malformed("'stats' is not a map");
      CollectionStats c;
      c.documents = count(st, "documents", UINT64_MAX);
      c.total_length = count(st, "length", UINT64_MAX);
      const json& f = field(st, "freqs");
      if (!f.is_binary()) throw Malformed("'stats' has no packed frequencies");
      c.term_freqs = unpack_freqs(bytes_of(f));
      r.stats = std::move(c);
    }
    r.related_topics = strings_of(j, "related_topics");
    if (r.related_topics.size() > 100) throw Malformed("'related_topics' holds more than 100 topics");
    for (const auto& t : r.related_topics)
      if (t.empty() || t.size() > 245) throw Malformed("a related topic is empty or longer than 245 bytes");
    r.ids = strings_of(j, "ids");
    if (r.ids.size() > 1000) throw Malformed("'ids' holds more than 1000 articles");
    for (const auto& id : r.ids)
      if (id.empty() || id.size() > 240) throw Malformed("an id in 'ids' is empty or longer than 240 bytes");
    r.id = text(j, "id", 4096);
    r.limit = count(j, "limit", 1u << 20);
    r.snippet_length = count(j, "snippet_length", kMaxSnippetLength);
    if (r.snippet_length > 0 && r.snippet_length < kMinSnippetLength)
      return fail(ErrorCode::kBadQuery, "snippet_length " + std::to_string(r.snippet_length) + " is under " +
                                            std::to_string(kMinSnippetLength));
    return r;
  } catch (const std::exception& e) {  // Malformed, or nlohmann's type errors
    return fail(ErrorCode::kBadQuery, std::string("bad shard request: ") + e.what());
  }
}

std::string encode(const ShardAnswer& a) {
  json feedback_docs = json::array();
  for (const auto& d : a.feedback_docs) feedback_docs.push_back({d.score, json::binary({d.terms.begin(), d.terms.end()})});
  const std::string feedback_freqs = pack_table(a.feedback_freqs), tfs = pack_freqs(a.term_freqs);
  json suggestions = json::array();
  for (const auto& s : a.suggestions) suggestions.push_back({s.text, s.kind, s.id, s.url, s.count});
  json j = {{"total", a.total},
            {"exact", a.total_is_exact},
            {"timed_out", a.timed_out},
            {"topic_facets", facets_json(a.topic_facets)},
            {"year_facets", facets_json(a.year_facets)},
            {"journal_facets", facets_json(a.journal_facets)},
            {"reranked", a.reranked},
            {"order", a.order},
            {"candidates", a.candidates},
            {"candidate_docids", a.candidate_docids},
            {"docid_key", a.docid_key},
            {"depth", a.depth},
            {"feedback_docs", std::move(feedback_docs)},
            {"query_terms", a.query_terms},
            {"feedback_freqs", json::binary({feedback_freqs.begin(), feedback_freqs.end()})},
            {"term_freqs", json::binary({tfs.begin(), tfs.end()})},
            {"total_length", a.total_length},
            {"documents", a.documents},
            {"folded", a.folded},
            {"dropped", a.query_terms_dropped},
            {"relaxed", a.query_phrases_relaxed},
            {"prefix", a.last_word_prefix},
            {"hits", hits_json(a.hits)},
            {"hit_steps", a.hit_steps},
            {"related", hits_json(a.related)},
            {"related_more", hits_json(a.related_more)},
            {"warnings", a.warnings},
            {"revision", a.revision},
            {"topics", facets_json(a.topics)},
            {"ranking", a.ranking},
            {"limits", a.limits},
            {"uuids", a.uuids},
            {"of_shards", a.of_shards},
            {"article", json::binary({a.article.begin(), a.article.end()})},
            {"suggestions", std::move(suggestions)}};
  if (a.checks_secret) j["checks_secret"] = *a.checks_secret;
  if (!a.not_ready.empty()) j["not_ready"] = a.not_ready;
  if (a.spelling) j["spelling"] = *a.spelling;
  if (a.spelling_unknown) j["spelling_unknown"] = true;
  if (a.typo) j["typo"] = *a.typo;
  if (a.typo_unknown) j["typo_unknown"] = true;
  if (!a.missing_words.empty()) j["missing"] = a.missing_words;
  std::string out;
  json::to_msgpack(j, out);
  return out;
}

RankingSettings ranking_settings(const SearcherOptions& options, const SynonymTable& synonyms) {
  RankingSettings out;
  visit_ranking_settings(options.ranking, [&](const char* name, const auto& value) {
    out.emplace_back(name, fmt::format("{}", value));
  });
  out.emplace_back("related_count", fmt::format("{}", options.related_count));
  out.emplace_back("synonyms", synonyms.fingerprint());
  return out;
}

std::string settings_differ(const RankingSettings& ours, const RankingSettings& theirs) {
  const std::map<std::string, std::string> a(ours.begin(), ours.end()), b(theirs.begin(), theirs.end());
  std::string out;
  auto add = [&](const std::string& name, std::string_view here, std::string_view there) {
    out += fmt::format("{}{} {} here, {} there", out.empty() ? "" : "; ", name, here.empty() ? "(none)" : here,
                       there.empty() ? "(none)" : there);
  };
  for (const auto& [name, value] : a)
    if (const auto it = b.find(name); it == b.end() || it->second != value) add(name, value, it == b.end() ? "" : it->second);
  for (const auto& [name, value] : b)
    if (!a.contains(name)) add(name, "", value);
  return out;
}

RankingSettings shard_limits(const SearcherOptions& options) {
  return {{"max_query_bytes", fmt::format("{}", options.max_query_bytes)},
          {"max_offset", fmt::format("{}", options.max_offset)},
          {"max_per_page", fmt::format("{}", options.max_limit)},
          {"max_wildcard_expansion", fmt::format("{}", options.max_wildcard_expansion)},
          {"max_query_words", fmt::format("{}", options.max_query_words)},
          {"max_query_terms", fmt::format("{}", options.max_query_terms)}};
}

std::string stricter_limits(const RankingSettings& ours, const RankingSettings& theirs) {
  const std::map<std::string, std::string> b(theirs.begin(), theirs.end());
  std::string out;
  for (const auto& [name, value] : ours) {
    if (name == "max_query_words" || name == "max_query_terms") continue;  // words dropped, not refused
    const auto it = b.find(name);
    if (it == b.end()) continue;
    std::uint64_t here = 0, there = 0;
    const auto [p1, e1] = std::from_chars(value.data(), value.data() + value.size(), here);
    const auto [p2, e2] = std::from_chars(it->second.data(), it->second.data() + it->second.size(), there);
    if (e1 != std::errc() || e2 != std::errc() || there >= here) continue;
    out += fmt::format("{}{} {} here, {} there", out.empty() ? "" : "; ", name, value, it->second);
  }
  return out;
}

std::string encode_error(const Error& error) {
  std::string out;
  json::to_msgpack(json{{"error", error.message}, {"code", static_cast<int>(error.code)}}, out);
  return out;
}

Result<ShardAnswer> decode_shard_answer(std::string_view bytes, bool* damaged) {
  try {
    const json j = parse(bytes, kMaxShardAnswerBytes);
    if (j.contains("error")) {
      const auto code = count(j, "code", static_cast<std::uint64_t>(ErrorCode::kInternal));
      return fail(static_cast<ErrorCode>(code), text(j, "error"));
    }
    ShardAnswer a;
    a.total = static_cast<std::uint32_t>(count(j, "total", UINT32_MAX));
    a.total_is_exact = flag(j, "exact", true);
    a.timed_out = flag(j, "timed_out", false);
    a.topic_facets = facets_of(j, "topic_facets");
    a.year_facets = facets_of(j, "year_facets");
    a.journal_facets = facets_of(j, "journal_facets");
    a.reranked = flag(j, "reranked", false);
    a.order = text(j, "order", 16);
    a.depth = count(j, "depth", 1u << 20);
    for (const auto& c : list(j, "candidates")) {
      if (!c.is_number()) throw Malformed("a candidate's score is not a number");
      a.candidates.push_back(c.get<double>());
    }
    a.candidate_docids = docids_of(j, "candidate_docids");
    if (!a.candidate_docids.empty() && a.candidate_docids.size() != a.candidates.size())
      throw Malformed("'candidate_docids' does not name each candidate");
    a.docid_key = text(j, "docid_key", kMaxDocidKeyBytes);
    pairs_of(j, "feedback_docs", 1000, "a feedback document is not [score, terms]",
             [](const json& score, const json& terms) { return score.is_number() && terms.is_binary(); },
             [&](const json& score, const json& terms) {
               const auto& b = terms.get_binary();
               a.feedback_docs.push_back({score.get<double>(), std::string(b.begin(), b.end())});
             });
    a.query_terms = strings_of(j, "query_terms");
    if (const json& f = binary_field(j, "feedback_freqs"); !f.is_null()) a.feedback_freqs = unpack_table(bytes_of(f));
    if (const json& f = binary_field(j, "term_freqs"); !f.is_null()) a.term_freqs = unpack_freqs(bytes_of(f));
    a.total_length = count(j, "total_length", UINT64_MAX);
    a.documents = static_cast<std::uint32_t>(count(j, "documents", UINT32_MAX));
    a.folded = text(j, "folded");
    if (j.contains("spelling")) a.spelling = text(j, "spelling");
    a.spelling_unknown = flag(j, "spelling_unknown", false);
    if (j.contains("typo")) a.typo = text(j, "typo");
    a.typo_unknown = flag(j, "typo_unknown", false);
    if (j.contains("missing")) a.missing_words = strings_of(j, "missing");
    a.query_terms_dropped = count(j, "dropped", 1u << 20);
    // Absent from a peer of this version that predates it: none.
    a.query_phrases_relaxed = j.contains("relaxed") ? count(j, "relaxed", 1u << 20) : 0;
    a.last_word_prefix = flag(j, "prefix", false);
    a.hits = hits_of(j, "hits");
    for (const auto step : steps_of(j, "hit_steps", 64, kMaxListEntries)) a.hit_steps.push_back(static_cast<std::uint32_t>(step));
    if (!a.hit_steps.empty() && a.hit_steps.size() != a.hits.size()) throw Malformed("'hit_steps' does not name each hit's step");
    a.related = hits_of(j, "related");
    a.related_more = hits_of(j, "related_more");
    a.warnings = strings_of(j, "warnings");
    a.revision = count(j, "revision", UINT64_MAX);
    a.of_shards = static_cast<std::uint32_t>(count(j, "of_shards", 1000));
    if (const json& checks = field(j, "checks_secret"); checks.is_boolean()) a.checks_secret = checks.get<bool>();
    if (const json& why = field(j, "not_ready"); why.is_string() && why.get_ref<const std::string&>().size() <= 4096)
      a.not_ready = why.get<std::string>();
    a.topics = facets_of(j, "topics");
    pairs_of(j, "ranking", 100, "a ranking setting is not [name, value]",
             [](const json& name, const json& value) {
               return name.is_string() && value.is_string() && name.get_ref<const std::string&>().size() <= 100 &&
                      value.get_ref<const std::string&>().size() <= 100;
             },
             [&](const json& name, const json& value) { a.ranking.emplace_back(name.get<std::string>(), value.get<std::string>()); });
    pairs_of(j, "limits", 100, "a limit is not [name, value]",
             [](const json& name, const json& value) {
               return name.is_string() && value.is_string() && name.get_ref<const std::string&>().size() <= 100 &&
                      value.get_ref<const std::string&>().size() <= 100;
             },
             [&](const json& name, const json& value) { a.limits.emplace_back(name.get<std::string>(), value.get<std::string>()); });
    a.uuids = strings_of(j, "uuids");
    if (a.uuids.size() > 1000) throw Malformed("'uuids' holds more than 1000 entries");
    for (const auto& u : a.uuids)
      if (u.size() > 100) throw Malformed("a database UUID is longer than 100 bytes");
    if (const json& art = binary_field(j, "article"); !art.is_null()) a.article.assign(art.get_binary().begin(), art.get_binary().end());
    for (const auto& s : list(j, "suggestions", 1000)) {
      if (!s.is_array() || s.size() != 5 || !s[4].is_number_unsigned())
        throw Malformed("a suggestion is not [text, kind, id, url, count]");
      a.suggestions.push_back({s[0].get<std::string>(), s[1].get<std::string>(), s[2].get<std::string>(),
                               s[3].get<std::string>(), s[4].get<std::uint32_t>()});
    }
    return a;
  } catch (const std::exception& e) {
    if (damaged != nullptr) *damaged = true;
    return fail(ErrorCode::kDatabase, std::string("a shard gave an answer that is not one: ") + e.what());
  }
}

Result<std::string> encode_checked(const ShardAnswer& answer) {
  std::string bytes = encode(answer);
  bool damaged = false;
  if (auto back = decode_shard_answer(bytes, &damaged); damaged)
    return fail(ErrorCode::kInternal, "this shard's answer to the request breaks the shard protocol (" +
                                          back.error().message + "): the shard is left out of this search");
  return bytes;
}

std::optional<CollectionStats> StatsCache::find(const std::string& key) const {
  std::lock_guard lock(mutex_);
  const auto plan = plan_terms_.find(key);
  if (plan == plan_terms_.end() || documents_ == 0) return std::nullopt;
  CollectionStats c{documents_, length_, {}, plan->second.last_word_known};
  for (const auto& term : plan->second.terms) {
    const auto f = term_freqs_.find(term);
    if (f == term_freqs_.end()) return std::nullopt;
    c.term_freqs.emplace_back(term, f->second);
  }
  return c;
}

void StatsCache::store(const std::string& key, const CollectionStats& stats, std::vector<std::uint64_t> revisions) {
  std::lock_guard lock(mutex_);
  if (plan_terms_.size() >= kMaxPlans || term_freqs_.size() >= kMaxTerms || revisions != revisions_) {
    plan_terms_.clear();
    term_freqs_.clear();
  }
  documents_ = stats.documents;
  length_ = stats.total_length;
  revisions_ = std::move(revisions);
  std::vector<std::string> terms;
  for (const auto& [term, freq] : stats.term_freqs) {
    terms.push_back(term);
    term_freqs_[term] = freq;
  }
  plan_terms_[key] = {std::move(terms), stats.last_word_known};
}

std::uint64_t StatsCache::said_revision(std::uint64_t known) {
  std::lock_guard lock(mutex_);
  if (std::exchange(index_changed_, false) && known + said_offset_ <= said_revision_) said_offset_ = said_revision_ + 1 - known;
  said_revision_ = std::max(said_revision_, known + said_offset_);
  return said_revision_;
}

void StatsCache::note_index(std::size_t shard, const std::vector<std::string>& uuids) {
  if (uuids.empty()) return;
  std::lock_guard lock(mutex_);
  if (noted_indexes_.size() <= shard) noted_indexes_.resize(shard + 1);
  if (!noted_indexes_[shard].empty() && noted_indexes_[shard] != uuids) index_changed_ = true;
  noted_indexes_[shard] = uuids;
}

void StatsCache::clear() {
  std::lock_guard lock(mutex_);
  plan_terms_.clear();
  term_freqs_.clear();
  revisions_.clear();
  documents_ = 0;
}

bool StatsCache::check(std::size_t shard, std::uint64_t revision) {
  std::lock_guard lock(mutex_);
  if (shard >= revisions_.size() || revisions_[shard] == revision) return false;
  const bool newer = revision > revisions_[shard];
  plan_terms_.clear();
  term_freqs_.clear();
  revisions_.clear();
  documents_ = 0;
  return newer;
}

}  // namespace mssearch
