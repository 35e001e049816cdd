#include "searcher/match_set.h"

#include <optional>

namespace mssearch {
namespace {

// Marks each document the matcher visits.
class Collector : public Xapian::MatchSpy {
 public:
  explicit Collector(MatchSet& set) : set_(set) {}
  void operator()(const Xapian::Document& doc, double) override { set_.set(doc.get_docid()); }

 private:
  MatchSet& set_;
};

}  // namespace

struct MatchSetBuilder {
  const Xapian::Database& db;
  std::size_t words;
  Xapian::termcount max_expansion;

  MatchSet eval(const Xapian::Query& q) const {
    using Q = Xapian::Query;
    switch (q.get_type()) {
      case Q::LEAF_MATCH_NOTHING:
        return MatchSet(words);
      case Q::LEAF_TERM: {
        MatchSet set(words);
        const std::string term = *q.get_terms_begin();
        for (auto p = db.postlist_begin(term); p != db.postlist_end(term); ++p) set.set(*p);
        return set;
      }
      case Q::LEAF_MATCH_ALL: {
        MatchSet set(words);
        for (auto p = db.postlist_begin(""); p != db.postlist_end(""); ++p) set.set(*p);
        return set;
      }
      case Q::OP_SCALE_WEIGHT:
      case Q::OP_AND_MAYBE:  // the right side adds weight, never matches
        return eval(q.get_subquery(0));
      case Q::OP_OR:
      case Q::OP_SYNONYM:
      case Q::OP_MAX:
      case Q::OP_XOR:
      case Q::OP_AND:
      case Q::OP_FILTER:
      case Q::OP_AND_NOT: {
        auto set = eval(q.get_subquery(0));
        for (std::size_t i = 1; i < q.get_num_subqueries(); ++i) set.combine(q.get_type(), eval(q.get_subquery(i)));
        return set;
      }
      case Q::OP_WILDCARD:
        if (auto set = wildcard(q)) return std::move(*set);
        return matcher(q);
      default:
        return matcher(q);
    }
  }

  // A wildcard, expanded here when that is certain to give Xapian's expansion. Xapian 1.4 has
  // no accessor for the pattern; the description is "Query(WILDCARD <combiner> <pattern>)",
  // with any byte outside printable ASCII escaped by a backslash. Anything else, or more terms
  // than any expansion limit this searcher sets (where Xapian would keep only the most frequent
  // or raise an error), goes to the matcher.
  static std::optional<std::string> pattern_of(const Xapian::Query& q) {
    const std::string desc = q.get_description();
    const std::string head = "Query(WILDCARD ";
    if (!desc.starts_with(head) || !desc.ends_with(")")) return std::nullopt;
    const std::string rest = desc.substr(head.size(), desc.size() - head.size() - 1);
    const auto space = rest.find(' ');
    if (space == std::string::npos) return std::nullopt;
    std::string pattern = rest.substr(space + 1);
    if (pattern.empty() || pattern.find_first_of(" \\()") != std::string::npos) return std::nullopt;
    return pattern;
  }

  // The wildcard's terms, when it can be expanded here.
  std::optional<std::vector<std::string>> expansion(const Xapian::Query& q) const {
    const auto pattern = pattern_of(q);
    if (!pattern) return std::nullopt;
    std::vector<std::string> terms;
    for (auto t = db.allterms_begin(*pattern); t != db.allterms_end(*pattern); ++t) {
      if (terms.size() >= max_expansion) return std::nullopt;
      terms.push_back(*t);
    }
    return terms;
  }

  std::optional<MatchSet> wildcard(const Xapian::Query& q) const {
    const auto terms = expansion(q);
    if (!terms) return std::nullopt;
    MatchSet set(words);
    for (const auto& term : *terms)
      for (auto p = db.postlist_begin(term); p != db.postlist_end(term); ++p) set.set(*p);
    return set;
  }

  bool postings_only(const Xapian::Query& q) const {
    using Q = Xapian::Query;
    switch (q.get_type()) {
      case Q::LEAF_MATCH_NOTHING:
      case Q::LEAF_TERM:
      case Q::LEAF_MATCH_ALL:
        return true;
      case Q::OP_WILDCARD:
        return expansion(q).has_value();
      case Q::OP_SCALE_WEIGHT:
      case Q::OP_AND_MAYBE:
        return postings_only(q.get_subquery(0));
      case Q::OP_OR:
      case Q::OP_SYNONYM:
      case Q::OP_MAX:
      case Q::OP_XOR:
      case Q::OP_AND:
      case Q::OP_FILTER:
      case Q::OP_AND_NOT:
        for (std::size_t i = 0; i < q.get_num_subqueries(); ++i)
          if (!postings_only(q.get_subquery(i))) return false;
        return true;
      default:
        return false;
    }
  }

  // Phrases, wildcards, value ranges and the like: Xapian's matcher without weights, every
  // match visited (its positional checks reuse one cursor per table, which a document-by-document
  // check from here could not).
  MatchSet matcher(const Xapian::Query& q) const {
    MatchSet set(words);
    Collector collect(set);
    Xapian::Enquire enquire(db);
    enquire.set_query(q);
    enquire.set_weighting_scheme(Xapian::BoolWeight());
    enquire.set_docid_order(Xapian::Enquire::ASCENDING);
    enquire.add_matchspy(&collect);
    enquire.get_mset(0, 0, db.get_doccount());
    return set;
  }
};

void MatchSet::combine(Xapian::Query::op op, const MatchSet& other) {
  for (std::size_t w = 0; w < words_.size(); ++w) {
    switch (op) {
      case Xapian::Query::OP_AND:
      case Xapian::Query::OP_FILTER: words_[w] &= other.words_[w]; break;
      case Xapian::Query::OP_AND_NOT: words_[w] &= ~other.words_[w]; break;
      case Xapian::Query::OP_XOR: words_[w] ^= other.words_[w]; break;
      default: words_[w] |= other.words_[w]; break;
    }
  }
}

bool MatchSet::reads_postings_only(const Xapian::Database& db, const Xapian::Query& query,
                                   Xapian::termcount max_expansion) {
  return MatchSetBuilder{db, 0, max_expansion}.postings_only(query);
}

MatchSet MatchSet::of(const Xapian::Database& db, const Xapian::Query& query, Xapian::termcount max_expansion) {
  return MatchSetBuilder{db, static_cast<std::size_t>(db.get_lastdocid()) / 64 + 1, max_expansion}.eval(query);
}

}  // namespace mssearch
