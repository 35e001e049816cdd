#include "searcher/ranking.h"

#include <algorithm>
#include <cmath>
#include <string_view>
#include <memory_resource>
#include <optional>
#include <array>
#include <functional>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>

#include <fmt/format.h>

#include "schema/schema.h"
#include "schema/text_analyzer.h"

namespace mssearch {
namespace {

// A candidate expansion term in the feedback documents: how many hold it, its wdf summed over
// them, and their weighted share.
// Terms by name, keys and nodes in one arena for the call: feedback meets ~2,000 distinct terms
// in 15 documents, and a node and a key allocated for each was a third of its time.
struct Held;
using HeldMap = std::pmr::unordered_map<std::string_view, Held>;

struct Held {
  std::size_t docs = 0;
  Xapian::termcount wdf = 0;
  double share = 0;
};

// Accepts the terms that at least `min_docs` feedback documents hold.
class HeldByEnough : public Xapian::ExpandDecider {
 public:
  HeldByEnough(const HeldMap& held, std::size_t min_docs)
      : held_(held), min_docs_(min_docs) {}
  bool operator()(const std::string& term) const override {
    const auto it = held_.find(term);
    return it != held_.end() && it->second.docs >= min_docs_;
  }

 private:
  const HeldMap& held_;
  std::size_t min_docs_;
};

// Matches the given documents (sorted docids of the searcher's database), with no weight of
// its own. Over several local databases Xapian gives each sub-database a copy of its own, and
// docids interleave (docid d is document (d - 1) / n + 1 of sub-database (d - 1) mod n): each
// copy finds which one it reads by its UUID and keeps that one's documents.
class DocidSource : public Xapian::PostingSource {
 public:
  DocidSource(std::vector<Xapian::docid> ids, std::vector<std::string> shard_uuids)
      : ids_(std::move(ids)), uuids_(std::move(shard_uuids)) {}
  Xapian::doccount get_termfreq_min() const override { return static_cast<Xapian::doccount>(local_.size()); }
  Xapian::doccount get_termfreq_est() const override { return get_termfreq_min(); }
  Xapian::doccount get_termfreq_max() const override { return get_termfreq_min(); }
  void init(const Xapian::Database& db) override {
    local_.clear();
    if (uuids_.empty()) {
      local_ = ids_;
    } else {
      const auto n = static_cast<Xapian::docid>(uuids_.size());
      const auto it = std::find(uuids_.begin(), uuids_.end(), db.get_uuid());
      const auto shard = static_cast<Xapian::docid>(it - uuids_.begin());
      if (it != uuids_.end())
        for (Xapian::docid id : ids_)
          if ((id - 1) % n == shard) local_.push_back((id - 1) / n + 1);
    }
    at_ = local_.cbegin();
    started_ = false;
  }
  void next(double) override {
    if (started_) ++at_;
    started_ = true;
  }
  void skip_to(Xapian::docid did, double) override {
    started_ = true;
    at_ = std::lower_bound(at_, local_.cend(), did);
  }
  bool at_end() const override { return at_ == local_.cend(); }
  Xapian::docid get_docid() const override { return *at_; }
  DocidSource* clone() const override { return new DocidSource(ids_, uuids_); }

 private:
  std::vector<Xapian::docid> ids_;   // the searcher's docids, sorted
  std::vector<std::string> uuids_;   // the sub-databases' UUIDs in order; empty: one database
  std::vector<Xapian::docid> local_; // this copy's database's docids, sorted
  std::vector<Xapian::docid>::const_iterator at_;
  bool started_ = false;
};

// Feedback's last step, shared: each candidate's weight times the share of the feedback
// documents holding it, the best `feedback_terms` kept, their weights summing to feedback_weight.
WeightedTerms shared_feedback_terms(std::vector<std::pair<std::string_view, double>> candidates, const HeldMap& held,
                                    double total, const RankingOptions& o) {
  const auto wanted = static_cast<Xapian::termcount>(o.feedback_terms);
  for (auto& [term, weight] : candidates) weight = std::max(weight, 0.0) * held.at(term).share / total;
  std::stable_sort(candidates.begin(), candidates.end(), [](const auto& x, const auto& y) { return x.second > y.second; });
  if (candidates.size() > wanted) candidates.resize(wanted);
  WeightedTerms chosen;
  chosen.reserve(candidates.size());
  for (const auto& [term, weight] : candidates) chosen.emplace_back(std::string(term), weight);
  double sum = 0;
  for (const auto& term : chosen) sum += term.second;
  if (chosen.empty() || sum <= 0) return {};
  for (auto& term : chosen) term.second *= o.feedback_weight / sum;
  return chosen;
}

// Bo1 (Amati's divergence from randomness, as Xapian's Bo1EWeight computes it) over the terms
// that enough feedback documents hold: one mean frequency (collection frequency / documents)
// per such term, not the statistics of every term that Enquire::get_eset gathers. The share
// held decides among the best four times as many as are needed.
WeightedTerms choose_feedback_terms(const HeldMap& held, double total, const RankingOptions& o,
                                    const std::function<double(std::string_view)>& mean_frequency) {
  const auto wanted = static_cast<Xapian::termcount>(o.feedback_terms);
  std::vector<std::pair<std::string_view, double>> candidates;
  for (const auto& [term, h] : held) {
    if (h.docs < o.feedback_min_docs) continue;
    const double mean = mean_frequency(term);
    const double weight = h.wdf * std::log2((1 + mean) / mean) + std::log2(1 + mean);
    if (weight > 0) candidates.emplace_back(term, weight);
  }
  std::sort(candidates.begin(), candidates.end(),
            [](const auto& x, const auto& y) { return x.second != y.second ? x.second > y.second : x.first < y.first; });
  if (candidates.size() > wanted * 4) candidates.resize(wanted * 4);
  return shared_feedback_terms(std::move(candidates), held, total, o);
}

Xapian::Query maybe(const Xapian::Query& query, const Xapian::Query& extra) {
  return Xapian::Query(Xapian::Query::OP_AND_MAYBE, query, extra);
}

}  // namespace

namespace {

// Each weighting scheme by name: the one list make_weight, the settings' check and help read.
struct WeightScheme {
  std::string_view name;
  std::unique_ptr<Xapian::Weight> (*make)(const RankingOptions&);
};
constexpr WeightScheme kWeightSchemes[] = {
    {"bm25", [](const RankingOptions& o) -> std::unique_ptr<Xapian::Weight> {
       return std::make_unique<Xapian::BM25Weight>(o.bm25_k1, 0.0, 1.0, o.bm25_b, 0.5);
     }},
    {"bm25+", [](const RankingOptions& o) -> std::unique_ptr<Xapian::Weight> {
       return std::make_unique<Xapian::BM25PlusWeight>(o.bm25_k1, 0.0, 1.0, o.bm25_b, 0.5, 1.0);
     }},
    {"pl2", [](const RankingOptions&) -> std::unique_ptr<Xapian::Weight> { return std::make_unique<Xapian::PL2Weight>(); }},
    {"dph", [](const RankingOptions&) -> std::unique_ptr<Xapian::Weight> { return std::make_unique<Xapian::DPHWeight>(); }},
    {"lm", [](const RankingOptions&) -> std::unique_ptr<Xapian::Weight> { return std::make_unique<Xapian::LMWeight>(); }},
};
// Xapian's expansion schemes (ExpandDecider weights) feedback chooses terms with.
constexpr std::string_view kFeedbackSchemes[] = {"bo1", "trad"};

const WeightScheme* weight_scheme(std::string_view name) {
  for (const auto& s : kWeightSchemes)
    if (s.name == name) return &s;
  return nullptr;
}

}  // namespace

std::vector<std::string_view> weight_scheme_names() {
  std::vector<std::string_view> out;
  for (const auto& s : kWeightSchemes) out.push_back(s.name);
  return out;
}

std::vector<std::string_view> feedback_scheme_names() { return {std::begin(kFeedbackSchemes), std::end(kFeedbackSchemes)}; }

std::string ranking_settings_problem(const RankingOptions& r) {
  if (!weight_scheme(r.scheme))
    return fmt::format("ranking.scheme is one of {}, not '{}'", fmt::join(weight_scheme_names(), ", "), r.scheme);
  if (std::find(std::begin(kFeedbackSchemes), std::end(kFeedbackSchemes), r.feedback_scheme) == std::end(kFeedbackSchemes))
    return fmt::format("ranking.feedback_scheme is one of {}, not '{}'", fmt::join(feedback_scheme_names(), ", "),
                       r.feedback_scheme);
  std::string problem;
  visit_ranking_settings(r, [&](std::string_view name, const auto& value) {
    if constexpr (std::is_same_v<std::decay_t<decltype(value)>, double>) {
      if (problem.empty() && !is_ranking_number(value))
        problem = fmt::format("ranking.{} must be a number from 0 to {}, not {}", name, kMaxRankingNumber, value);
    }
  });
  if (!problem.empty()) return problem;
  if (r.bm25_b > 1) return fmt::format("ranking.bm25_b is between 0 and 1, not {}", r.bm25_b);
  if (r.recency_half_life_years <= 0) return "ranking.recency_half_life_years must be > 0";
  if (r.feedback_docs > 1000) return fmt::format("ranking.feedback_docs is at most 1000, not {}", r.feedback_docs);
  if (r.feedback_terms > 1000) return fmt::format("ranking.feedback_terms is at most 1000, not {}", r.feedback_terms);
  if (r.feedback_min_docs > 1000) return fmt::format("ranking.feedback_min_docs is at most 1000, not {}", r.feedback_min_docs);
  if (r.feedback_depth > 100000) return fmt::format("ranking.feedback_depth is at most 100000, not {}", r.feedback_depth);
  return "";
}

std::unique_ptr<Xapian::Weight> make_weight(const RankingOptions& o) {
  // An unknown name (refused by ranking_settings_problem wherever settings are read) is BM25.
  const WeightScheme* scheme = weight_scheme(o.scheme);
  return (scheme ? scheme : &kWeightSchemes[0])->make(o);
}

namespace {

// Xapian::BM25Weight's formula (k2 = 0) over GlobalStats: idf from the collection's size and the
// term's document frequency, (k1 + 1) wdf / (K + wdf) with K from the document's length over the
// collection's average.
class GlobalBM25 : public Xapian::Weight {
 public:
  GlobalBM25(double k1, double k3, double b, double min_normlen, std::shared_ptr<const GlobalStats> stats)
      : k1_(k1), k3_(k3), b_(b), min_normlen_(min_normlen), stats_(std::move(stats)) {
    need_stat(COLLECTION_SIZE);
    need_stat(TERMFREQ);
    need_stat(COLLECTION_FREQ);
    need_stat(WDF);
    need_stat(WDF_MAX);
    need_stat(DOC_LENGTH);
    need_stat(DOC_LENGTH_MIN);
    if (k3 != 0) need_stat(WQF);
  }
  GlobalBM25* clone() const override { return new GlobalBM25(k1_, k3_, b_, min_normlen_, stats_); }
  std::string name() const override { return "mssearch.GlobalBM25"; }

  void init(double factor) override {
    const Xapian::doccount local = get_termfreq();
    double df = 0;
    if (const auto it = stats_->by_local.find({local, get_collection_freq()}); it != stats_->by_local.end())
      df = it->second;
    else
      df = stats_->local_documents > 0 ? local * stats_->documents / stats_->local_documents : local;
    df = std::clamp(df, 0.0, stats_->documents);
    double tw = (stats_->documents - df + 0.5) / (df + 0.5);
    if (tw < 2) tw = tw * 0.5 + 1;  // as Xapian: a term in most documents keeps a small weight
    termweight_ = std::log(tw) * factor;
    if (k3_ != 0) {
      const double wqf = get_wqf();
      termweight_ *= (k3_ + 1) * wqf / (k3_ + wqf);
    }
    termweight_ *= (k1_ + 1);
    len_factor_ = stats_->average_length > 0 ? 1 / stats_->average_length : 0;
  }

  double get_sumpart(Xapian::termcount wdf, Xapian::termcount len, Xapian::termcount) const override {
    const double normlen = std::max(len * len_factor_, min_normlen_);
    const double w = wdf;
    return termweight_ * (w / (k1_ * (normlen * b_ + (1 - b_)) + w));
  }
  double get_maxpart() const override {
    // At the highest wdf, in the shortest document that can hold it.
    const double w = get_wdf_upper_bound();
    const double normlen = std::max(std::max<double>(get_wdf_upper_bound(), get_doclength_lower_bound()) * len_factor_, min_normlen_);
    const double denom = k1_ * (normlen * b_ + (1 - b_)) + w;
    return denom > 0 ? termweight_ * (w / denom) : 0;
  }
  double get_sumextra(Xapian::termcount, Xapian::termcount) const override { return 0; }
  double get_maxextra() const override { return 0; }

 private:
  double k1_, k3_, b_, min_normlen_;
  std::shared_ptr<const GlobalStats> stats_;
  double termweight_ = 0, len_factor_ = 0;
};

}  // namespace

std::unique_ptr<Xapian::Weight> make_global_weight(const RankingOptions& o, std::shared_ptr<const GlobalStats> stats) {
  if (o.scheme != "bm25") return nullptr;
  return std::make_unique<GlobalBM25>(o.bm25_k1, 1.0, o.bm25_b, 0.5, std::move(stats));
}

std::vector<std::string> wildcard_prefixes(const Xapian::Query& query) {
  std::vector<std::string> out;
  const std::function<void(const Xapian::Query&)> walk = [&](const Xapian::Query& q) {
    if (q.get_type() == Xapian::Query::OP_WILDCARD) {
      // "Query(WILDCARD SYNONYM remyelin)": Xapian 1.4 has no call that gives the pattern.
      // One it escaped for the description (a byte it does not print) is left out.
      constexpr std::string_view head = "Query(WILDCARD SYNONYM ";
      const std::string d = q.get_description();
      if (d.starts_with(head) && d.ends_with(')')) {
        std::string prefix = d.substr(head.size(), d.size() - head.size() - 1);
        if (!prefix.empty() && prefix.find_first_of("\\ ()") == std::string::npos) out.push_back(std::move(prefix));
      }
      return;
    }
    for (std::size_t i = 0; i < q.get_num_subqueries(); ++i) walk(q.get_subquery(i));
  };
  walk(query);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

GlobalStats::Key synonym_freqs(const std::vector<GlobalStats::Key>& terms, double documents, double total_length) {
  if (terms.empty()) return {0, 0};
  // As Xapian rounds each pair's estimate (its own figures are whole numbers).
  const auto either = [](double a, double b, double n) { return n == 0 ? 0.0 : std::floor(a + b - a * b / n + 0.5); };
  struct Node {
    double termfreq, collection_freq;
  };
  std::vector<Node> heap;
  heap.reserve(terms.size());
  for (const auto& [tf, cf] : terms) heap.push_back({static_cast<double>(tf), static_cast<double>(cf)});
  // The same heap operations on the same comparison as Xapian's, so the same pairs meet: the
  // least frequent two first, the pair back in the heap.
  const auto rarer_first = [](const Node& a, const Node& b) { return a.termfreq > b.termfreq; };
  std::make_heap(heap.begin(), heap.end(), rarer_first);
  while (heap.size() > 1) {
    const Node r = heap.front();
    std::pop_heap(heap.begin(), heap.end(), rarer_first);
    heap.pop_back();
    const Node& l = heap.front();
    const Node both{either(l.termfreq, r.termfreq, documents), either(l.collection_freq, r.collection_freq, total_length)};
    std::pop_heap(heap.begin(), heap.end(), rarer_first);
    heap.back() = both;
    std::push_heap(heap.begin(), heap.end(), rarer_first);
  }
  return {static_cast<Xapian::doccount>(heap.front().termfreq), static_cast<Xapian::termcount>(heap.front().collection_freq)};
}

Xapian::Query with_exact_forms(const Xapian::Query& query, const std::vector<std::string>& words,
                               const RankingOptions& o) {
  if (o.exact_weight <= 0 || words.empty()) return query;
  return maybe(query, Xapian::Query(Xapian::Query::OP_SCALE_WEIGHT,
                                    Xapian::Query(Xapian::Query::OP_OR, words.begin(), words.end()),
                                    o.exact_weight));
}

Xapian::Query with_boosts(const Xapian::Query& query, const RankingOptions& o, int this_year) {
  std::vector<Xapian::Query> boosts;
  if (o.recency_boost > 0) {
    auto* source = new Xapian::ValueMapPostingSource(schema::kSlotYear);
    const double half_life = std::max(o.recency_half_life_years, 0.1);
    // Dated up to two years ahead (an embargoed article) counts as this year.
    for (int age = -2; age <= 50; ++age)
      source->add_mapping(std::to_string(this_year - age),
                          o.recency_boost * std::pow(0.5, std::max(age, 0) / half_life));
    boosts.emplace_back(source->release());
  }
  if (o.credibility_boost > 0) {
    auto* source = new Xapian::ValueMapPostingSource(schema::kSlotCredibility);
    for (int rating = 2; rating <= 5; ++rating)
      source->add_mapping(Xapian::sortable_serialise(rating), o.credibility_boost * (rating - 1) / 4.0);
    boosts.emplace_back(source->release());
  }
  if (boosts.empty()) return query;
  return maybe(query, Xapian::Query(Xapian::Query::OP_OR, boosts.begin(), boosts.end()));
}

CollectionFreqs::Freqs CollectionFreqs::of(const Xapian::Database& db, std::string_view term, bool termfreq,
                                            bool collection_freq) {
  auto it = freqs_.find(term);
  if (it == freqs_.end()) {
    if (freqs_.size() >= kMaxTerms) freqs_.clear();
    it = freqs_.emplace(std::string(term), Freqs{kUnknown, kUnknown}).first;
  }
  Freqs& f = it->second;
  if (termfreq && f.termfreq == kUnknown) f.termfreq = db.get_termfreq(it->first);
  if (collection_freq && f.collection_freq == kUnknown) f.collection_freq = db.get_collection_freq(it->first);
  return f;
}

const FeedbackDocCache::Doc& FeedbackDocCache::get(const Xapian::Database& db, Xapian::docid docid, CollectionFreqs& freqs) {
  const auto [it, added] = docs_.try_emplace(docid);
  Doc& doc = it->second;
  if (!added) return doc;
  try {
    doc.stored = db.get_document(docid, Xapian::DOC_ASSUME_VALID).get_value(schema::kSlotFeedbackTerms);
    schema::decode_feedback_terms(doc.stored, [&](const std::string& term, Xapian::termcount) {
      doc.terms.push_back({static_cast<std::uint32_t>(doc.names.size()), static_cast<std::uint32_t>(term.size()), {}});
      doc.names += term;
    });
    const auto less = [&](const Term& x, const Term& y) { return doc.name(x) < doc.name(y); };
    // Stored in order by the indexer; a damaged value need not be.
    if (!std::is_sorted(doc.terms.begin(), doc.terms.end(), less)) std::sort(doc.terms.begin(), doc.terms.end(), less);
    for (Term& t : doc.terms) t.freqs = freqs.both(db, doc.name(t));
  } catch (...) {  // a read that failed (the index moved on, a shard went) is not kept
    docs_.erase(it);
    throw;
  }
  bytes_ += sizeof(Doc) + doc.stored.size() + doc.names.size() + doc.terms.size() * sizeof(Term);
  return doc;
}

TermFreqTable feedback_freqs(const std::vector<const FeedbackDocCache::Doc*>& docs) {
  // Each document's terms are in order: their runs are merged pairwise (a sort of ~2,000 names
  // was a tenth of a shard server's time).
  struct Item {
    std::string_view name;
    const CollectionFreqs::Freqs* freqs;
  };
  std::vector<Item> items;
  std::vector<std::size_t> runs{0};  // where each document's terms begin, and the end
  std::size_t bytes = 0;
  for (const auto* doc : docs) {
    for (const auto& t : doc->terms) items.push_back({doc->name(t), &t.freqs});
    runs.push_back(items.size());
    bytes += doc->names.size();
  }
  const auto less = [](const Item& x, const Item& y) { return x.name < y.name; };
  while (runs.size() > 2) {
    std::vector<std::size_t> merged{0};
    const auto at = [&](std::size_t i) { return items.begin() + static_cast<std::ptrdiff_t>(runs[i]); };
    for (std::size_t r = 0; r + 1 < runs.size(); r += 2) {
      if (r + 2 < runs.size()) {
        std::inplace_merge(at(r), at(r + 1), at(r + 2), less);
        merged.push_back(runs[r + 2]);
      } else {
        merged.push_back(runs[r + 1]);
      }
    }
    runs = std::move(merged);
  }
  TermFreqTable table;
  table.reserve(items.size(), bytes);
  for (const Item& item : items) {
    if (table.size() > 0 && table.term(table.size() - 1) == item.name) continue;
    table.add(item.name, {item.freqs->collection_freq, item.freqs->termfreq});
  }
  return table;
}

WeightedTerms feedback_terms(const Xapian::Database& db, const Xapian::Query& query, const ScoredDocs& top,
                             const RankingOptions& o, CollectionFreqs& freqs) {
  if (o.feedback_docs == 0 || o.feedback_terms == 0 || o.feedback_weight <= 0 || top.empty()) return {};
  // Each feedback document counts by its score relative to the best hit (RM3 weighs documents
  // by how well they match the query): the vocabulary of the best hits leads.
  // A match without weights (a date range, only exclusions: every score 0) counts each hit
  // alike; 0 / 0 made every weight NaN, and a coordinator refused the terms.
  const double best = top.front().second;
  const auto share_of = [&](double score) { return best > 0 ? std::pow(std::max(score, 0.0) / best, o.feedback_score_power) : 1.0; };
  Xapian::RSet rset;
  double total = 0;
  // Per candidate term: how many of the feedback documents hold it, how often (its wdf summed)
  // and their weighted share.
  std::array<std::byte, 1 << 16> buffer;  // most calls need no more than this
  std::pmr::monotonic_buffer_resource arena(buffer.data(), buffer.size());
  HeldMap held(&arena);
  held.reserve(4096);
  // The name is copied into the arena before the one lookup (a bump of its pointer, wasted when
  // the term is already there) rather than looked up twice, before and after the copy.
  auto entry = [&](const std::string& term) -> Held& {
    char* key = static_cast<char*>(arena.allocate(term.size(), 1));
    std::copy(term.begin(), term.end(), key);
    return held.try_emplace(std::string_view(key, term.size())).first->second;
  };
  std::size_t used = 0;
  for (; used < top.size() && used < o.feedback_docs; ++used) {
    const Xapian::docid docid = top[used].first;
    const double score = top[used].second;
    rset.add_document(docid);
    const double weight = share_of(score);
    total += weight;
    auto hold = [&](const std::string& term, Xapian::termcount wdf) {
      Held& h = entry(term);
      ++h.docs;
      h.wdf += wdf;
      h.share += weight;
    };
    // The article's expansion terms as the indexer stored them (schema::kSlotFeedbackTerms):
    // one value read, where its term list would be read and inflated whole.
    const std::string stored = db.get_document(docid, Xapian::DOC_ASSUME_VALID).get_value(schema::kSlotFeedbackTerms);
    if (!stored.empty()) {
      // A damaged value (never written so) counts the terms before the damage.
      schema::decode_feedback_terms(stored, hold);
      continue;
    }
    // Indexed before that slot existed: its term list, with the indexer's test.
    const Xapian::TermIterator end = db.termlist_end(docid);
    for (auto t = db.termlist_begin(docid); t != end; ++t) {
      // Z-prefixed stems sort together: skip straight to them, and stop after them.
      std::string term = *t;  // each dereference is a copy of the name
      if (term[0] < 'Z') {
        t.skip_to("Z");
        if (t == end) break;
        term = *t;
      }
      if (term[0] != 'Z') break;
      if (is_expansion_term(term)) hold(term, t.get_wdf());
    }
  }
  for (auto t = query.get_unique_terms_begin(); t != query.get_unique_terms_end(); ++t) held.erase(std::string_view(*t));
  // Bo1 needs one collection frequency per candidate (choose_feedback_terms); the other schemes
  // go through get_eset (exact term frequencies, so that shards choose what one database would).
  if (o.feedback_scheme == "bo1") {
    const double size = std::max<double>(db.get_doccount(), 1);
    return choose_feedback_terms(held, total, o, [&](std::string_view term) {
      return std::max<double>(freqs.get(db, term), 1) / size;
    });
  }
  const auto wanted = static_cast<Xapian::termcount>(o.feedback_terms);
  // Views of the names held in eset_names: only the chosen are copied.
  std::vector<std::pair<std::string_view, double>> candidates;
  std::vector<std::string> eset_names;
  HeldByEnough enough(held, o.feedback_min_docs);
  Xapian::Enquire enquire(db);
  enquire.set_query(query);  // its own terms are not expansion terms
  enquire.set_expansion_scheme(o.feedback_scheme);
  const Xapian::ESet eset = enquire.get_eset(wanted * 4, rset, Xapian::Enquire::USE_EXACT_TERMFREQ, &enough);
  eset_names.reserve(eset.size());  // no reallocation: the views below stay valid
  for (auto it = eset.begin(); it != eset.end(); ++it) {
    eset_names.push_back(*it);
    candidates.emplace_back(eset_names.back(), it.get_weight());
  }
  return shared_feedback_terms(std::move(candidates), held, total, o);
}

WeightedTerms feedback_terms_from(const std::vector<FeedbackDoc>& top, const std::vector<std::string>& query_terms,
                                  const std::function<double(std::string_view)>& mean_frequency,
                                  const RankingOptions& o) {
  if (o.feedback_docs == 0 || o.feedback_terms == 0 || o.feedback_weight <= 0 || top.empty()) return {};
  const double best = top.front().score;  // as feedback_terms()
  const auto share_of = [&](double score) { return best > 0 ? std::pow(std::max(score, 0.0) / best, o.feedback_score_power) : 1.0; };
  double total = 0;
  std::array<std::byte, 1 << 16> buffer;
  std::pmr::monotonic_buffer_resource arena(buffer.data(), buffer.size());
  HeldMap held(&arena);
  held.reserve(4096);
  auto entry = [&](const std::string& term) -> Held& {
    char* key = static_cast<char*>(arena.allocate(term.size(), 1));
    std::copy(term.begin(), term.end(), key);
    return held.try_emplace(std::string_view(key, term.size())).first->second;
  };
  for (std::size_t used = 0; used < top.size() && used < o.feedback_docs; ++used) {
    const double weight = share_of(top[used].score);
    total += weight;
    schema::decode_feedback_terms(top[used].terms, [&](const std::string& term, Xapian::termcount wdf) {
      Held& h = entry(term);
      ++h.docs;
      h.wdf += wdf;
      h.share += weight;
    });
  }
  for (const auto& t : query_terms) held.erase(std::string_view(t));
  return choose_feedback_terms(held, total, o, mean_frequency);
}

Xapian::Query feedback_query(const WeightedTerms& terms) {
  std::vector<Xapian::Query> scaled;
  for (const auto& [term, weight] : terms)
    scaled.emplace_back(Xapian::Query::OP_SCALE_WEIGHT, Xapian::Query(term), weight);
  return Xapian::Query(Xapian::Query::OP_OR, scaled.begin(), scaled.end());
}

Xapian::Query candidates_query(const ScoredDocs& candidates, const std::vector<std::string>& shard_uuids) {
  std::vector<Xapian::docid> ids;
  for (const auto& c : candidates) ids.push_back(c.first);
  std::sort(ids.begin(), ids.end());
  return Xapian::Query((new DocidSource(std::move(ids), shard_uuids))->release());
}

std::optional<std::vector<std::string>> local_shard_uuids(const Xapian::Database& db) {
  if (db.size() <= 1) return std::vector<std::string>{};
  // Several: Xapian joins the sub-databases' UUIDs with ':', in order; a remote one has none
  // of its own to give a posting source (custom sources do not travel).
  std::vector<std::string> uuids;
  const std::string all = db.get_uuid();
  for (std::size_t at = 0; at <= all.size();) {
    std::size_t end = all.find(':', at);
    if (end == std::string::npos) end = all.size();
    uuids.push_back(all.substr(at, end - at));
    at = end + 1;
  }
  std::vector<std::string> sorted = uuids;
  std::sort(sorted.begin(), sorted.end());
  // Two copies of one database (the same UUID) could not be told apart.
  if (uuids.size() != db.size() || std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end() ||
      std::find(sorted.begin(), sorted.end(), "") != sorted.end())
    return std::nullopt;
  return uuids;
}

namespace {

// `candidates` with `extra`'s weight added where `only` (matching all of them, and
// `only_is_wider`: others too) lets it match: rerank_candidates() and rerank_within().
ScoredDocs rerank_over(const Xapian::Database& db, const Xapian::Weight& weight, const Xapian::Query& extra,
                       const Xapian::Query& only, bool only_is_wider, const ScoredDocs& candidates,
                       const std::vector<std::size_t>& steps, ScoredDocs* matched) {
  Xapian::Enquire enquire(db);
  enquire.set_weighting_scheme(weight);
  enquire.set_query(Xapian::Query(Xapian::Query::OP_FILTER, extra, only));
  const Xapian::MSet found =
      enquire.get_mset(0, only_is_wider ? db.get_doccount() : static_cast<Xapian::doccount>(candidates.size()));
  std::unordered_map<Xapian::docid, double> added;
  std::unordered_set<Xapian::docid> candidate_set;
  if (only_is_wider)
    for (const auto& [docid, score] : candidates) candidate_set.insert(docid);
  for (auto it = found.begin(); it != found.end(); ++it) {
    if (only_is_wider && !candidate_set.contains(*it)) continue;
    added[*it] = it.get_weight();
    if (matched != nullptr) matched->emplace_back(*it, it.get_weight());
  }
  ScoredDocs out = candidates;
  for (auto& [docid, score] : out)
    if (auto a = added.find(docid); a != added.end()) score += a->second;
  std::size_t from = 0;
  for (std::size_t i = 0; i <= steps.size() && from < out.size(); ++i) {
    const std::size_t to = i < steps.size() ? std::clamp(steps[i], from, out.size()) : out.size();
    std::stable_sort(out.begin() + static_cast<std::ptrdiff_t>(from), out.begin() + static_cast<std::ptrdiff_t>(to),
                     [](const auto& x, const auto& y) { return x.second > y.second; });
    from = to;
  }
  return out;
}

}  // namespace

ScoredDocs rerank_candidates(const Xapian::Database& db, const Xapian::Weight& weight, const Xapian::Query& extra,
                             const Xapian::Query& candidates_only, const ScoredDocs& candidates,
                             const std::vector<std::size_t>& steps, ScoredDocs* matched) {
  return rerank_over(db, weight, extra, candidates_only, false, candidates, steps, matched);
}

ScoredDocs rerank_within(const Xapian::Database& db, const Xapian::Weight& weight, const Xapian::Query& extra,
                         const Xapian::Query& wider, const ScoredDocs& candidates, const std::vector<std::size_t>& steps,
                         ScoredDocs* matched) {
  return rerank_over(db, weight, extra, wider, true, candidates, steps, matched);
}

}  // namespace mssearch
