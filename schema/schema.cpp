#include "schema/schema.h"

#include <cerrno>
#include <cstring>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <stdexcept>

#include "schema/compression.h"
#include "schema/text_analyzer.h"

namespace mssearch::schema {

std::size_t filter_field_length(std::string_view text) {
  const auto named = [text](std::string_view name) {
    if (text.size() <= name.size() || text[name.size()] != ':') return false;
    for (std::size_t k = 0; k < name.size(); ++k)
      if (std::tolower(static_cast<unsigned char>(text[k])) != name[k]) return false;
    return true;
  };
  for (const auto& field : kFilterFields)
    if (named(field.name)) return field.name.size() + 1;
  return named(kDateFieldName) ? kDateFieldName.size() + 1 : 0;
}

bool at_chunk_start(std::string_view text, std::size_t at) {
  return at == 0 || std::string_view(" \t\r\n(+-").find(text[at - 1]) != std::string_view::npos;
}

std::string slug(std::string_view text) {
  std::string out;
  bool pending_dash = false;
  for (unsigned char c : text) {
    bool keep = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c >= 0x80;
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<unsigned char>(c - 'A' + 'a');
      keep = true;
    }
    if (!keep) {
      pending_dash = !out.empty();
      continue;
    }
    if (pending_dash) out += '-';
    pending_dash = false;
    out += static_cast<char>(c);
  }
  return out;
}

std::string encode_topic_set(std::vector<std::string> topics) {
  std::sort(topics.begin(), topics.end());
  topics.erase(std::unique(topics.begin(), topics.end()), topics.end());
  std::string out;
  for (const auto& t : topics) {
    if (!out.empty()) out += '\n';
    out += t;
  }
  return out;
}

std::vector<std::string> decode_topic_set(std::string_view value) {
  std::vector<std::string> out;
  while (!value.empty()) {
    auto nl = value.find('\n');
    out.emplace_back(value.substr(0, nl));
    if (nl == std::string_view::npos) break;
    value.remove_prefix(nl + 1);
  }
  return out;
}

std::string front_coded_terms(const TermWdfs& terms) {
  std::string out;
  auto varint = [&](std::uint64_t n) {
    while (n >= 0x80) {
      out.push_back(static_cast<char>((n & 0x7f) | 0x80));
      n >>= 7;
    }
    out.push_back(static_cast<char>(n));
  };
  std::string_view previous;
  for (const auto& [term, wdf] : terms) {
    const std::string_view stem = std::string_view(term).substr(1);  // without the "Z"
    std::size_t shared = 0;
    while (shared < previous.size() && shared < stem.size() && previous[shared] == stem[shared]) ++shared;
    varint(shared);
    varint(stem.size() - shared);
    out.append(stem.substr(shared));
    varint(wdf);
    previous = stem;
  }
  return out;
}

std::string encode_feedback_terms(const TermWdfs& terms) {
  const std::string bytes = front_coded_terms(terms);
  return bytes.empty() ? bytes : zstd_compress(bytes, ZstdFrame::kSmall);
}

bool FeedbackTermsReader::varint(std::uint64_t& out) {
  out = 0;
  for (int shift = 0; shift < 64 && at_ < bytes_.size(); shift += 7) {
    const auto byte = static_cast<unsigned char>(bytes_[at_++]);
    out |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return true;
  }
  return false;
}

bool FeedbackTermsReader::next() {
  if (damaged_ || at_ >= bytes_.size()) return false;
  std::uint64_t shared = 0, rest = 0, wdf = 0;
  if (!varint(shared) || !varint(rest) || shared + 1 > term_.size() || rest > bytes_.size() - at_) {
    damaged_ = true;
    return false;
  }
  term_.resize(static_cast<std::size_t>(shared) + 1);
  term_.append(bytes_.substr(at_, static_cast<std::size_t>(rest)));
  at_ += static_cast<std::size_t>(rest);
  if (!varint(wdf)) {
    damaged_ = true;
    return false;
  }
  wdf_ = static_cast<Xapian::termcount>(wdf);
  return true;
}

std::string feedback_terms_bytes(std::string_view value) {
  if (!is_zstd_frame(value)) return std::string(value);
  try {
    return zstd_decompress(value, 16u << 20);
  } catch (const std::runtime_error&) {
    return {};
  }
}

std::string pair_term(std::string_view first, std::string_view second) {
  std::string term(kPairPrefix);
  term.append(first).append(1, ' ').append(second);
  return term;
}

std::string encode_pair_words(const PairWords& words) {
  std::string out;
  for (const auto& w : words) out.append(out.empty() ? "" : " ").append(w);
  return out;
}

PairWords decode_pair_words(std::string_view stored) {
  PairWords words;
  while (!stored.empty()) {
    const auto space = stored.find(' ');
    const std::string_view word = stored.substr(0, space);
    if (is_pair_word(word)) words.emplace(word);
    stored = space == std::string_view::npos ? std::string_view() : stored.substr(space + 1);
  }
  return words;
}

bool pair_words_stale(const Xapian::Database& db) {
  if (db.get_metadata(std::string(kMetaPairWords)).empty()) return false;
  return db.get_metadata(std::string(kMetaPairWordsRevision)) != std::to_string(db.get_revision());
}

PairWords pair_words_of(const Xapian::Database& db) {
  if (pair_words_stale(db)) return {};
  return decode_pair_words(db.get_metadata(std::string(kMetaPairWords)));
}

bool is_pair_word(std::string_view term) {
  if (term.empty() || 2 * term.size() + kPairPrefix.size() + 1 > kMaxTermBytes) return false;
  if (term.find(' ') != std::string_view::npos) return false;
  const auto first = static_cast<unsigned char>(term[0]);
  return !(first >= 'A' && first <= 'Z');
}

bool valid_article_id(std::string_view id) {
  if (id.empty() || id.size() > kMaxIdBytes || std::isalnum(static_cast<unsigned char>(id[0])) == 0) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
  });
}

std::string id_term(std::string_view id) { return std::string(kIdPrefix) + std::string(id); }
std::string topic_term(std::string_view topic) {
  return std::string(kTopicPrefix) + slug(fold_text(topic));
}
std::string journal_term(std::string_view journal) {
  return std::string(kJournalPrefix) + slug(fold_text(journal));
}
std::string year_term(int year) { return std::string(kYearPrefix) + std::to_string(year); }

std::string date_value(std::string_view iso_date) {
  std::string out;
  for (char c : iso_date)
    if (c != '-') out += c;
  return out;
}

bool is_iso_date(std::string_view d) {
  if (d.size() != 10 || d[4] != '-' || d[7] != '-') return false;
  for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
    if (d[i] < '0' || d[i] > '9') return false;
  auto number = [&](std::size_t at, std::size_t n) {
    int v = 0;
    for (std::size_t i = at; i < at + n; ++i) v = v * 10 + (d[i] - '0');
    return v;
  };
  return std::chrono::year_month_day{std::chrono::year{number(0, 4)},
                                     std::chrono::month{static_cast<unsigned>(number(5, 2))},
                                     std::chrono::day{static_cast<unsigned>(number(8, 2))}}
      .ok();
}

Xapian::rev revision(const Xapian::Database& db) {
  Xapian::rev base = 0;
  const std::string stored = db.get_metadata(std::string(kMetaRevisionBase));
  for (char c : stored) {
    if (c < '0' || c > '9') break;
    base = base * 10 + static_cast<Xapian::rev>(c - '0');
  }
  return base + db.get_revision();
}

std::vector<std::string> boolean_terms(const Article& a) {
  std::vector<std::string> terms{id_term(a.id)};
  for (const auto& t : a.topics) terms.push_back(topic_term(t));
  if (!a.journal.empty()) terms.push_back(journal_term(a.journal));
  terms.push_back(year_term(a.year()));
  return terms;
}

std::optional<std::pair<std::string, std::string>> overlong_term(const Article& a) {
  if (id_term(a.id).size() > kMaxTermBytes) return std::pair{std::string("id"), id_term(a.id)};
  for (const auto& t : a.topics)
    if (topic_term(t).size() > kMaxTermBytes) return std::pair{std::string("topics"), topic_term(t)};
  if (!a.journal.empty() && journal_term(a.journal).size() > kMaxTermBytes)
    return std::pair{std::string("journal"), journal_term(a.journal)};
  return std::nullopt;
}

ErrorCode error_code_of(const Xapian::Error& e) {
  // Xapian's errors are not polymorphic; each names its own type. A plain DatabaseError is a
  // table that cannot be read whole (a file cut short: "EOF reading block"), damage too; its
  // subclasses (a lock, a version, opening, a revision overtaken) are not. Nor is a plain
  // DatabaseError that carries an errno ("Error reading block 2 (Input/output error)", ESTALE
  // on NFS): the system refused a read, which says nothing of the index's contents and may pass.
  const std::string_view type = e.get_type();
  if (type == "DatabaseCorruptError") return ErrorCode::kCorrupt;
  // A table or generation directory this user may not read: io_error, as an unreadable index
  // directory is (index_access_problem).
  if (const char* why = e.get_error_string(); why != nullptr && (std::string_view(why) == std::strerror(EACCES) ||
                                                                  std::string_view(why) == std::strerror(EPERM)))
    return ErrorCode::kIo;
  return type == "DatabaseError" && e.get_error_string() == nullptr ? ErrorCode::kCorrupt : ErrorCode::kDatabase;
}

bool is_foreign_database(const Xapian::Database& db) {
  return db.get_doccount() > 0 && db.get_metadata(std::string(kMetaSchemaVersion)).empty() &&
         db.get_metadata(std::string(kMetaIndexedAt)).empty();
}

Error foreign_database_error(const std::string& where) {
  return Error{ErrorCode::kIo, where + " is another program's Xapian database (documents, but no mssearch metadata), "
                                       "not an mssearch index: mssearch neither reads nor writes it; name an mssearch "
                                       "index instead, or a new directory for `mssearch index` to build one in"};
}

Result<void> check_version(const Xapian::Database& db) {
  std::string stamped = db.get_metadata(std::string(kMetaSchemaVersion));
  if (stamped.empty() && db.get_doccount() == 0) return {};
  if (stamped != std::to_string(kSchemaVersion)) {
    return fail(ErrorCode::kSchemaMismatch,
                "index has schema version " + (stamped.empty() ? "(none)" : stamped) +
                    " but this mssearch reads version " + std::to_string(kSchemaVersion) +
                    ": rebuild it with `mssearch index --full`");
  }
  return {};
}

}  // namespace mssearch::schema
