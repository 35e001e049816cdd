#include "searcher/search_types.h"

#include <utility>

#include <nlohmann/json.hpp>

namespace mssearch {

namespace {
nlohmann::json facets_json(const std::vector<FacetValue>& facets) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& f : facets) out.push_back({{"value", f.value}, {"count", f.count}});
  return out;
}
}  // namespace

std::string Highlighted::html() const {
  std::string out;
  out.reserve(text.size() + marks.size() * 13);
  auto escape = [&](std::size_t from, std::size_t to) {
    for (std::size_t i = from; i < to && i < text.size(); ++i) {
      switch (text[i]) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&#39;"; break;
        default: out += text[i];
      }
    }
  };
  std::size_t at = 0;
  for (const Span& m : marks) {
    if (m.begin < at || m.end <= m.begin || m.end > text.size()) continue;  // never out of order
    escape(at, m.begin);
    out += "<mark>";
    escape(m.begin, m.end);
    out += "</mark>";
    at = m.end;
  }
  escape(at, text.size());
  return out;
}

nlohmann::json to_json(const SearchHit& h) {
  return {{"id", h.id},           {"title", h.title},     {"url", h.url},
          {"date", h.date},       {"topics", h.topics},   {"journal", h.journal},
          {"score", h.score},     {"snippet", h.snippet.html()}, {"takeaway", h.takeaway},
          {"credibility", h.credibility ? nlohmann::json(*h.credibility) : nlohmann::json()},
          {"interest", h.interest ? nlohmann::json(*h.interest) : nlohmann::json()}};
}

nlohmann::json article_json(const Article& a) {
  nlohmann::json sections = nlohmann::json::array();
  for (const auto& s : a.sections) sections.push_back({{"heading", s.heading}, {"text", s.text}});
  return {{"id", a.id},
          {"title", a.title},
          {"url", link_url(a.url, a.id)},
          {"date", a.date},
          {"topics", a.topics},
          {"journal", a.journal},
          {"credibility", a.credibility ? nlohmann::json(*a.credibility) : nlohmann::json()},
          {"interest", a.interest ? nlohmann::json(*a.interest) : nlohmann::json()},
          {"takeaway", a.takeaway},
          {"sections", std::move(sections)}};
}

std::string dump_json(const nlohmann::json& value, int indent) {
  return value.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

nlohmann::json to_json(const SearchResult& r) {
  nlohmann::json hits = nlohmann::json::array();
  for (const auto& h : r.hits) hits.push_back(to_json(h));
  nlohmann::json related = nlohmann::json::array();
  for (const auto& h : r.related) related.push_back(to_json(h));
  nlohmann::json out = {{"query", r.query},
          {"total", r.total},
          {"total_is_exact", r.total_is_exact},
          {"took_ms", r.took_ms},
          {"order", r.order == SortOrder::kDate ? "date" : r.order == SortOrder::kCredibility ? "credibility" : "relevance"},
          {"hits", std::move(hits)},  // moved: an initializer list copies lvalues whole
          {"facets",
           {{"topics", facets_json(r.topic_facets)},
            {"years", facets_json(r.year_facets)},
            {"journals", facets_json(r.journal_facets)}}},
          {"did_you_mean", r.did_you_mean ? nlohmann::json(*r.did_you_mean) : nlohmann::json()},
          // The query found nothing: the hits are did_you_mean's ("Showing results for …").
          {"showing_corrected", r.showing_corrected},
          // Nor did a correction: the hits are the last word's completions ("astro" as astro*).
          {"showing_completions", r.showing_completions},
          // Words no article has: the hits are those of the other words ("is ms contagious").
          {"missing_words", r.missing_words},
          {"related", std::move(related)},
          {"partial", !r.failed_shards.empty()},
          {"timed_out", r.timed_out},
          {"query_terms_dropped", r.query_terms_dropped},
          {"query_phrases_relaxed", r.query_phrases_relaxed},
          // As you type: the last word was read as a prefix (its completions), not a word.
          {"last_word_prefix", r.last_word_prefix}};
  if (!r.failed_shards.empty()) out["failed_shards"] = r.failed_shards;
  if (!r.warnings.empty()) out["warnings"] = r.warnings;
  return out;
}

}  // namespace mssearch
