// As-you-type suggestions: article titles matching what was typed (last word as a prefix),
// topics containing a word that starts with it, and the most frequent index terms that
// complete the last word.
#include <algorithm>

#include <nlohmann/json.hpp>

#include "schema/schema.h"
#include "searcher/coordinator.h"
#include "searcher/searcher_impl.h"
#include "searcher/synonyms.h"

namespace mssearch {

nlohmann::json to_json(const Suggestion& s) {
  nlohmann::json j = {{"text", s.text}, {"kind", s.kind}};
  if (!s.id.empty()) j["id"] = s.id;
  if (!s.url.empty()) j["url"] = s.url;
  if (s.count > 0) j["count"] = s.count;
  return j;
}

Result<std::vector<Suggestion>> Searcher::suggest(const std::string& prefix, std::size_t limit) {
  if (coordinator_) return coordinator_->suggest(prefix, limit);
  try {
    return impl_->retrying([&] { return impl_->suggest_once(prefix, limit); });
  } catch (const Xapian::Error& e) {
    return fail(ErrorCode::kDatabase, "suggest failed: " + e.get_description());
  }
}

Result<std::vector<Suggestion>> Searcher::Impl::suggest_once(const std::string& prefix, std::size_t limit) {
  if (prefix.size() > options.max_query_bytes)
    return fail(ErrorCode::kBadQuery, "prefix is longer than " + std::to_string(options.max_query_bytes) + " bytes");
  const std::string folded = fold_text(prefix);
  const auto words = synonym_tokens(folded);
  std::vector<Suggestion> out;
  if (words.empty()) return out;
  const std::size_t per_kind = std::max<std::size_t>(limit / 2, 3);
  try {
    // Titles: every word typed must be in the title, the last one as a prefix.
    std::string typed;
    for (const auto& w : words) typed += w + " ";
    typed.pop_back();
    Xapian::Enquire enquire(db);
    const Xapian::Query::op default_op = planner.parser().get_default_op();
    planner.parser().set_default_op(Xapian::Query::OP_AND);
    Xapian::Query title_query =
        planner.parser().parse_query(typed, Xapian::QueryParser::FLAG_PARTIAL, std::string(schema::kTitle.prefix));
    planner.parser().set_default_op(default_op);
    enquire.set_query(title_query);
    Xapian::MSet titles = enquire.get_mset(0, static_cast<Xapian::doccount>(per_kind));
    for (auto it = titles.begin(); it != titles.end(); ++it) {
      const auto a = stored.get(it.get_document(), StoredParts::kFields);
      if (a) out.push_back({a->title, "title", a->id, a->url, 0});
    }
    // Topics: one of the topic's words starts with the last word typed.
    for (const auto& topic : topics) {
      if (out.size() >= limit) break;
      for (const auto& w : synonym_tokens(fold_text(topic.value))) {
        if (w.starts_with(words.back()) && (words.size() == 1 || fold_text(topic.value).find(words.front()) != std::string::npos)) {
          out.push_back({topic.value, "topic", "", "", topic.count});
          break;
        }
      }
    }
    // Terms: the most frequent completions of the last word.
    std::vector<std::pair<Xapian::doccount, std::string>> terms;
    std::size_t scanned = 0;
    for (auto t = db.allterms_begin(words.back()); t != db.allterms_end(words.back()) && scanned < 1000;
         ++t, ++scanned)
      terms.emplace_back(t.get_termfreq(), *t);
    std::stable_sort(terms.begin(), terms.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    std::string head;
    for (std::size_t i = 0; i + 1 < words.size(); ++i) head += words[i] + " ";
    for (const auto& [freq, term] : terms) {
      if (out.size() >= limit) break;
      const std::string text = head + term;
      if (std::none_of(out.begin(), out.end(), [&](const Suggestion& s) { return fold_text(s.text) == text; }))
        out.push_back({text, "term", "", "", freq});
    }
  } catch (const Xapian::DatabaseModifiedError&) {
    throw;  // retried by suggest()
  } catch (const Xapian::Error& e) {
    return fail(ErrorCode::kDatabase, "suggest failed: " + e.get_description());
  }
  if (out.size() > limit) out.resize(limit);
  return out;
}

}  // namespace mssearch
