// More-like-this: the terms that best tell an article (or the top hits) apart from the rest of
// the collection, found with Xapian's relevance feedback (RSet + Enquire::get_eset), queried
// again with the article's topics as a boost.
#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

#include "schema/schema.h"
#include "searcher/searcher.h"

namespace mssearch {
namespace {

// Keeps plain words: no prefixed terms (they start with an upper-case letter), no numbers,
// nothing shorter than three letters.
class PlainWordDecider : public Xapian::ExpandDecider {
 public:
  bool operator()(const std::string& term) const override {
    if (term.size() < 3) return false;
    const auto first = static_cast<unsigned char>(term[0]);
    if (first >= 'A' && first <= 'Z') return false;
    return !std::all_of(term.begin(), term.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
  }
};

constexpr Xapian::termcount kExpandTerms = 20;
constexpr double kTopicBoost = 2.0;

}  // namespace

std::vector<SearchHit> Searcher::related_to(const std::vector<Xapian::docid>& docids,
                                            const std::vector<std::string>& ids,
                                            const std::vector<std::string>& topics,
                                            std::size_t limit, std::size_t seeds,
                                            const std::vector<std::string>* given) {
  Xapian::Enquire enquire(db_);
  enquire.set_weighting_scheme(*weight_);
  std::vector<Xapian::Query> terms;
  if (given != nullptr) {
    terms.assign(given->begin(), given->end());
  } else {
    Xapian::RSet rset;
    for (std::size_t i = 0; i < docids.size() && i < seeds; ++i) rset.add_document(docids[i]);
    PlainWordDecider decider;
    // Exact term frequencies: over shards, Xapian otherwise approximates them, and the terms
    // chosen would differ from those of one database holding the same articles.
    const Xapian::ESet eset = enquire.get_eset(kExpandTerms, rset, Xapian::Enquire::USE_EXACT_TERMFREQ, &decider);
    for (auto it = eset.begin(); it != eset.end(); ++it) terms.emplace_back(*it);
  }
  // Shared topics count: the topic words, indexed under their weighted prefix, scaled up.
  for (const auto& topic : topics) {
    Xapian::Query words = parser_.parse_query(fold_text(topic), 0, std::string(schema::kTopicText.prefix));
    terms.emplace_back(Xapian::Query::OP_SCALE_WEIGHT, words, kTopicBoost);
  }
  if (terms.empty()) return {};
  // Never the article itself, nor the hits already shown: excluded in the query (by id term)
  // rather than with a MatchDecider, which Xapian's remote backend does not support.
  std::vector<Xapian::Query> shown;
  for (const auto& id : ids) shown.emplace_back(schema::id_term(id));
  enquire.set_query(Xapian::Query(Xapian::Query::OP_AND_NOT,
                                  Xapian::Query(Xapian::Query::OP_OR, terms.begin(), terms.end()),
                                  Xapian::Query(Xapian::Query::OP_OR, shown.begin(), shown.end())));
  Xapian::MSet mset = enquire.get_mset(0, static_cast<Xapian::doccount>(limit));
  std::vector<SearchHit> out;
  for (auto it = mset.begin(); it != mset.end(); ++it)
    if (auto a = stored(it.get_document(), StoredParts::kFields)) out.push_back(make_hit(*a, it.get_weight()));
  return out;
}

Result<std::vector<SearchHit>> Searcher::related(const std::string& id, std::size_t limit) {
  try {
    return retrying([&]() -> Result<std::vector<SearchHit>> {
    const std::string term = schema::id_term(id);
    auto p = db_.postlist_begin(term);
    if (p == db_.postlist_end(term)) return fail(ErrorCode::kNotFound, "no article with id '" + id + "'");
    auto a = stored_or_error(db_.get_document(*p), id, StoredParts::kFields);
    if (!a) return std::unexpected(a.error());
    return related_to({*p}, {id}, a->topics, std::min(limit, options_.max_limit), 1);
    });
  } catch (const Xapian::DatabaseCorruptError& e) {
    return fail(ErrorCode::kCorrupt, "the index is damaged: " + e.get_description());
  } catch (const Xapian::Error& e) {
    return fail(ErrorCode::kDatabase, "related articles failed: " + e.get_description());
  }
}

Result<Article> Searcher::article(const std::string& id) {
  try {
    return retrying([&]() -> Result<Article> {
    const std::string term = schema::id_term(id);
    auto p = db_.postlist_begin(term);
    if (p == db_.postlist_end(term)) return fail(ErrorCode::kNotFound, "no article with id '" + id + "'");
    return stored_or_error(db_.get_document(*p), id, StoredParts::kAll);
    });
  } catch (const Xapian::DatabaseCorruptError& e) {
    return fail(ErrorCode::kCorrupt, "the index is damaged: " + e.get_description());
  } catch (const Xapian::Error& e) {
    return fail(ErrorCode::kDatabase, "reading article failed: " + e.get_description());
  }
}

}  // namespace mssearch
