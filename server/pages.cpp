#include "server/pages.h"

#include <algorithm>

#include <fmt/format.h>
#include <httplib.h>
#include <kainjow/mustache.hpp>

#include "schema/schema.h"
#include "schema/utf8.h"
#include "server/assets.h"

namespace mssearch {
namespace {

using kainjow::mustache::data;
using kainjow::mustache::list;
using kainjow::mustache::mustache;
using kainjow::mustache::object;

// The query as a heading, the page's title and the live region repeat it: at most ~80 bytes,
// cut at a space (at a character, for text without one) and marked "…". A pasted paragraph made
// the results' heading 2,400 px tall on a phone and was read out whole after every update.
std::string short_query(const std::string& typed) {
  constexpr std::size_t kMaxBytes = 80;
  const std::string query = without_bidi_controls(typed);
  if (query.size() <= kMaxBytes) return query;
  std::string cut = query.substr(0, utf8_prefix_length(query, kMaxBytes));
  if (const std::size_t space = cut.find_last_of(" \t\r\n"); space != std::string::npos && space >= kMaxBytes / 2)
    cut.erase(space);
  while (!cut.empty() && (cut.back() == ' ' || cut.back() == '\t' || cut.back() == '\r' || cut.back() == '\n')) cut.pop_back();
  return cut + "…";
}

// The last word of a query, as the note on its completions names it.
std::string last_word(const std::string& query) {
  const std::size_t end = query.find_last_not_of(" \t\r\n");
  if (end == std::string::npos) return "";
  const std::size_t begin = query.find_last_of(" \t\r\n", end);
  return query.substr(begin == std::string::npos ? 0 : begin + 1, end + 1 - (begin == std::string::npos ? 0 : begin + 1));
}

std::string render(std::string_view name, const data& d) {
  mustache tmpl{std::string(asset(name))};
  return tmpl.render(d);
}

// A link to the page with the same query and filters, with some parameters changed.
std::string page_href(const SearchRequest& r, std::size_t page, std::size_t per_page,
                      std::string query) {
  httplib::Params p;
  if (!query.empty()) p.emplace("q", query);
  for (const auto& t : r.topics) p.emplace("topic", t);
  for (const auto& j : r.journals) p.emplace("journal", j);
  for (int y : r.years) p.emplace("year", std::to_string(y));
  if (!r.since.empty()) p.emplace("since", r.since);
  if (!r.until.empty()) p.emplace("until", r.until);
  if (r.min_credibility) p.emplace("min_credibility", std::to_string(*r.min_credibility));
  if (r.sort == SortOrder::kDate) p.emplace("sort", "date");
  if (r.sort == SortOrder::kCredibility) p.emplace("sort", "credibility");
  if (page > 1) p.emplace("page", std::to_string(page));
  if (per_page != 10) p.emplace("per_page", std::to_string(per_page));
  return httplib::append_query_params("/", p);
}

// Mustache takes an empty string as true: an empty field is false, so its markup goes too.
data text_or_false(const std::string& text) { return text.empty() ? data(false) : data(text); }

// A topic or journal filter by the name the index has for it: the searcher matches both by
// their slug (`term_of`: schema::topic_term, journal_term), so the filter "astrocytes" is the
// topic "Astrocytes". The name from the first of `facets` that lists it; else the filter as it
// was typed.
std::string shown_as_listed(const std::string& typed, std::string (*term_of)(std::string_view),
                            std::initializer_list<const std::vector<FacetValue>*> facets) {
  const std::string term = term_of(typed);
  for (const auto* values : facets)
    for (const auto& f : *values)
      if (term_of(f.value) == term) return f.value;
  return typed;
}

// "2024-08-14" -> "14 August 2024"; anything else as it is.
std::string date_shown(const std::string& iso) {
  static const char* const kMonths[] = {"January", "February", "March",     "April",   "May",      "June",
                                        "July",    "August",   "September", "October", "November", "December"};
  if (iso.size() != 10 || iso[4] != '-' || iso[7] != '-') return iso;
  const int month = std::atoi(iso.substr(5, 2).c_str()), day = std::atoi(iso.substr(8, 2).c_str());
  if (month < 1 || month > 12 || day < 1) return iso;
  return fmt::format("{} {} {}", day, kMonths[month - 1], iso.substr(0, 4));
}

// A section's text as paragraphs (blank lines between them).
std::vector<std::string> paragraphs(const std::string& text) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while (at < text.size()) {
    std::size_t end = text.find("\n\n", at);
    if (end == std::string::npos) end = text.size();
    std::string p = text.substr(at, end - at);
    const auto first = p.find_first_not_of(" \n\t"), last = p.find_last_not_of(" \n\t");
    if (first != std::string::npos) out.push_back(p.substr(first, last - first + 1));
    at = end + 2;
  }
  return out;
}

}  // namespace

std::string static_href(std::string_view name) {
  auto make = [](std::string_view file) {
    std::uint64_t hash = 14695981039346656037ull;  // FNV-1a 64 of the content
    for (unsigned char c : asset(file)) hash = (hash ^ c) * 1099511628211ull;
    const std::size_t dot = file.rfind('.');
    return fmt::format("/static/{}.{:016x}{}", file.substr(0, dot), hash, file.substr(dot));
  };
  static const std::string css = make("search.css"), js = make("search.js");  // built in
  return name == "search.css" ? css : name == "search.js" ? js : make(name);
}

std::string article_link(const std::string& url, const std::string& id, const ServerOptions& options) {
  const std::string own = "/articles/" + id;
  if (!options.article_url.empty() && (url.empty() || url == own)) {
    std::string link = options.article_url;
    for (std::size_t at = link.find("{id}"); at != std::string::npos; at = link.find("{id}", at + id.size()))
      link.replace(at, 4, id);
    return link;
  }
  return link_url(url, id);
}

std::string render_article(const ArticlePage& page, const ServerOptions& options) {
  data d;
  d.set("site_name", options.site_name);
  d.set("css_href", static_href("search.css"));
  if (page.article == nullptr) {
    d.set("found", false);
    d.set("title", page.title);
    d.set("message", page.message);
    return render("article.mustache", d);
  }
  const Article& a = *page.article;
  d.set("found", true);
  d.set("css_href", static_href("search.css"));
  d.set("title", a.title);
  if (!a.takeaway.empty()) {
    std::size_t end = std::min<std::size_t>(a.takeaway.size(), 300);  // whole characters
    while (end < a.takeaway.size() && end > 0 && (static_cast<unsigned char>(a.takeaway[end]) & 0xC0) == 0x80) --end;
    d.set("description", a.takeaway.substr(0, end));
  }
  d.set("date", text_or_false(a.date));
  d.set("date_shown", date_shown(a.date));
  d.set("journal", text_or_false(a.journal));
  list ratings;
  for (const auto& [name, value] : {std::pair{"Credibility", a.credibility}, std::pair{"Interest", a.interest}}) {
    if (!value) continue;
    const int stars = std::clamp(*value, 0, 5);
    std::string shown;
    for (int i = 0; i < 5; ++i) shown += i < stars ? "★" : "☆";
    ratings.push_back(object{{"name", name}, {"value", std::to_string(*value)}, {"stars", shown}});
  }
  d.set("has_ratings", !ratings.empty());
  d.set("ratings", ratings);
  d.set("takeaway", text_or_false(a.takeaway));
  list sections;
  for (const auto& section : a.sections) {
    list paras;
    for (auto& p : paragraphs(section.text)) paras.push_back(data(p));
    if (paras.empty()) continue;
    object o{{"heading", section.heading}};
    o["paragraphs"] = paras;
    sections.push_back(o);
  }
  d.set("sections", sections);
  list topics;
  for (const auto& t : a.topics)
    topics.push_back(object{{"name", t}, {"href", httplib::append_query_params("/", {{"topic", t}})}});
  d.set("has_topics", !topics.empty());
  d.set("topics", topics);
  list related;
  for (const auto& h : page.related)
    related.push_back(object{{"title", h.title}, {"url", article_link(h.url, h.id, options)}, {"date", h.date},
                             {"date_shown", date_shown(h.date)}, {"takeaway", text_or_false(h.takeaway)}});
  d.set("has_related", !related.empty());
  d.set("related", related);
  if (page.related_missing)
    d.set("related_note", std::string("Some related articles may be missing: part of the collection could not be searched."));
  return render("article.mustache", d);
}

std::string render_results(const PageContent& c) {
  data d;
  if (!c.error.empty()) d.set("error", c.error);
  // No filters beside an error with nothing to filter (search unavailable: 503; helper-95): the
  // sort, credibility and year menus offered what could not be searched.
  d.set("show_filters", data(c.error.empty() || c.result != nullptr || !c.all_topics.empty()));
  const SearchRequest& r = c.request->search;
  static const ServerOptions kDefaults;
  const ServerOptions& options = c.options != nullptr ? *c.options : kDefaults;
  // The menu keeps the order asked for, "Relevance" also over a list with nothing to rank by
  // (the summary says "newest first"): shown as "Newest first", the form sent sort=date with
  // the next words typed, and they were listed by date.
  d.set("sort_relevance", r.sort == SortOrder::kRelevance);
  d.set("sort_date", r.sort == SortOrder::kDate);
  d.set("sort_credibility", r.sort == SortOrder::kCredibility);
  list levels;
  for (int level : {5, 4, 3, 2}) {
    object o{{"value", std::to_string(level)}, {"label", level == 5 ? std::string("5 of 5 only") : fmt::format("{} of 5 or more", level)}};
    o["selected"] = data(r.min_credibility == level);
    levels.push_back(o);
  }
  d.set("credibility_levels", levels);
  // The chosen filters, each a chip that removes it (above the results: on a phone the filter
  // panel is folded away).
  const std::size_t per_page_now = c.request->per_page;
  list chips;
  auto chip = [&](const std::string& label, SearchRequest without) {
    chips.push_back(object{{"label", label}, {"href", page_href(without, 1, per_page_now, without.query)}});
  };
  std::vector<FacetValue> topics = c.all_topics, years;
  if (c.result != nullptr) {
    topics = c.result->topic_facets;
    years = c.result->year_facets;
  }
  // The topics chosen, by the names the facets list (a filter may be typed in another case or
  // as a slug).
  std::vector<std::string> chosen_topics;
  for (const auto& t : r.topics) chosen_topics.push_back(shown_as_listed(t, &schema::topic_term, {&topics, &c.all_topics}));
  for (std::size_t i = 0; i < r.topics.size(); ++i) {
    SearchRequest w = r;
    std::erase(w.topics, r.topics[i]);
    chip("Topic: " + chosen_topics[i], w);
  }
  for (int y : r.years) {
    SearchRequest w = r;
    std::erase(w.years, y);
    chip("Year: " + std::to_string(y), w);
  }
  const std::vector<FacetValue> no_journals;
  const std::vector<FacetValue>& journals = c.result != nullptr ? c.result->journal_facets : no_journals;
  for (const auto& j : r.journals) {
    SearchRequest w = r;
    std::erase(w.journals, j);
    chip("Journal: " + shown_as_listed(j, &schema::journal_term, {&journals}), w);
  }
  if (r.min_credibility) {
    SearchRequest w = r;
    w.min_credibility.reset();
    chip(fmt::format("Credibility {}+", *r.min_credibility), w);
  }
  if (!r.since.empty() || !r.until.empty()) {
    SearchRequest w = r;
    w.since.clear(), w.until.clear();
    chip("Dates: " + (r.since.empty() ? std::string("…") : r.since) + " to " + (r.until.empty() ? std::string("…") : r.until), w);
  }
  d.set("filter_count", chips.empty() ? data(false) : data(std::to_string(chips.size())));
  // Filters the form has no control for (a journal, dates, a page size, from a shared or linked
  // address) ride along as hidden fields, so that changing the sort, a topic or the year keeps
  // them, as the chips say they are kept.
  list hidden;
  for (const auto& j : r.journals) hidden.push_back(object{{"name", "journal"}, {"value", j}});
  if (!r.since.empty()) hidden.push_back(object{{"name", "since"}, {"value", r.since}});
  if (!r.until.empty()) hidden.push_back(object{{"name", "until"}, {"value", r.until}});
  if (per_page_now != options.default_per_page)
    hidden.push_back(object{{"name", "per_page"}, {"value", std::to_string(per_page_now)}});
  // The year select holds one choice: further years (`year=2019&year=2025`, from a link) ride
  // along too. Changing the select then replaces its own year only.
  for (std::size_t i = 1; i < r.years.size(); ++i)
    hidden.push_back(object{{"name", "year"}, {"value", std::to_string(r.years[i])}});
  d.set("hidden_filters", hidden);
  d.set("has_chips", !chips.empty());
  d.set("chips", chips);

  // A ticked topic stays visible (with count 0) even when the query no longer matches it.
  for (const auto& t : chosen_topics)
    if (std::none_of(topics.begin(), topics.end(), [&](const FacetValue& f) { return f.value == t; }))
      topics.push_back({t, 0});
  // The ticked topics and the ten most frequent others, in count order; the rest folded under
  // "More topics". With a topic ticked the list is counted without it (disjunctive facets):
  // every topic of the search, 57 on the sample's `ms`, and on a phone the results were then
  // 2,200 px down, below the open filter panel.
  constexpr std::size_t kTopicsShown = 10;
  list topic_list, more_topics;
  std::size_t others = 0;
  for (const auto& f : topics) {
    object o{{"value", f.value}, {"count", std::to_string(f.count)}};
    const bool checked = std::find(chosen_topics.begin(), chosen_topics.end(), f.value) != chosen_topics.end();
    o["checked"] = data(checked);
    if (checked || others++ < kTopicsShown) topic_list.push_back(o);
    else more_topics.push_back(o);
  }
  d.set("topics", topic_list);
  d.set("has_topics", !topic_list.empty());
  d.set("more_topics", more_topics);
  d.set("more_topic_count", more_topics.empty() ? data(false) : data(std::to_string(more_topics.size())));
  // Likewise a chosen year stays selectable (count 0) when nothing matches it any more: without
  // it the select would show "Any year" and the next change of any filter would drop the year.
  for (int y : r.years)
    if (std::none_of(years.begin(), years.end(), [&](const FacetValue& f) { return std::atoi(f.value.c_str()) == y; }))
      years.push_back({std::to_string(y), 0});
  std::sort(years.begin(), years.end(), [](const FacetValue& a, const FacetValue& b) { return a.value > b.value; });
  list year_list;
  for (const auto& f : years) {
    object o{{"value", f.value}, {"count", std::to_string(f.count)}};
    o["selected"] = data(!r.years.empty() && std::atoi(f.value.c_str()) == r.years.front());
    year_list.push_back(o);
  }
  d.set("years", year_list);

  if (c.result != nullptr) {
    const SearchResult& res = *c.result;
    const std::size_t per_page = c.request->per_page, page = c.request->page;
    if (res.did_you_mean) {
      object dym{{"text", *res.did_you_mean}, {"href", page_href(r, 1, per_page, *res.did_you_mean)}};
      dym["replaced"] = data(res.showing_corrected);
      d.set("did_you_mean", dym);
    }
    const std::string about = res.total_is_exact ? "" : "about ";
    // The articles shown are the correction's when it replaced the query (they were counted
    // "for “astrocites”" above the articles for "astrocytes").
    const std::string& shown = res.showing_corrected && res.did_you_mean ? *res.did_you_mean : r.query;
    d.set("summary", res.total == 0 ? std::string("No articles found.")
                                    : fmt::format("{}{} article{}{}", about, res.total, res.total == 1 ? "" : "s",
                                                  (shown.find_first_not_of(" \t\r\n") != std::string::npos
                                                       ? " for “" + short_query(shown) + "”"
                                                       : std::string())
                                                  // No words to rank by (nothing typed, or filters alone):
                                                  // the newest first, though relevance was asked.
                                                  + (r.sort == SortOrder::kRelevance && res.order == SortOrder::kDate ? ", newest first" : "")));
    d.set("title_query", short_query(r.query));
    if (res.showing_completions)
      d.set("completions_note", fmt::format("No article has “{}” as a whole word, so the words that begin with it "
                                            "were searched.", short_query(last_word(r.query))));
    // Google's "Missing: …": every MS article matches "ms", and `is ms contagious` listed them
    // as if they answered (helper-98).
    if (!res.missing_words.empty()) {
      std::string named;  // “a”, “b” or “c”
      for (std::size_t i = 0; i < res.missing_words.size(); ++i)
        named += (i == 0 ? "" : i + 1 == res.missing_words.size() ? " or " : ", ") + ("“" + short_query(res.missing_words[i]) + "”");
      d.set("missing_note", fmt::format("No article has {}: these articles have your other words.", named));
    }
    if (res.query_terms_dropped > 0)
      d.set("words_note", fmt::format("A long question: the search used its most telling words and left out {} "
                                      "common one{}.", res.query_terms_dropped, res.query_terms_dropped == 1 ? "" : "s"));
    if (res.query_phrases_relaxed > 0)
      d.set("phrases_note", fmt::format("Many quoted phrases: {} of them {} searched as {} words, not as exact "
                                        "phrase{}.", res.query_phrases_relaxed, res.query_phrases_relaxed == 1 ? "was" : "were",
                                        res.query_phrases_relaxed == 1 ? "its" : "their",
                                        res.query_phrases_relaxed == 1 ? "" : "s"));
    if (res.timed_out) d.set("time_note", std::string("The search was cut short by its time limit: counts are estimates."));
    // A shard that did not answer (the API says "partial"): its articles are missing here.
    if (!res.failed_shards.empty())
      d.set("partial_note", std::string("Some articles are missing from these results: part of the search did not "
                                        "answer. Please try again in a moment."));
    else if (c.articles_missing)
      d.set("partial_note", std::string("Some articles may be missing from these results: part of the collection "
                                        "could not be searched."));
    // The API's warning said it, the page did not (helper-96: "28 articles" for 14).
    else if (res.counted_twice)
      d.set("partial_note", std::string("Some articles are counted twice in these figures: part of the collection "
                                        "is held twice."));
    list notices;
    for (const auto& n : c.notices) notices.push_back(data(n));
    d.set("notices", notices);
    d.set("first_rank", std::to_string((page - 1) * per_page + 1));
    if (c.search_id != 0) d.set("search_id", std::to_string(c.search_id));
    list hits;
    for (const auto& h : res.hits) {
      list tags;
      for (const auto& t : h.topics) tags.push_back(data(t));
      object o{{"title", h.title}, {"url", article_link(h.url, h.id, options)}, {"date", h.date}, {"journal", text_or_false(h.journal)},
               // Mustache takes an empty string as true: an unrated article gets false, not "".
               {"credibility", h.credibility ? data(std::to_string(*h.credibility)) : data(false)},
               {"interest", h.interest ? data(std::to_string(*h.interest)) : data(false)},
               {"snippet", h.snippet.empty() ? Highlighted{h.takeaway, {}}.html() : h.snippet.html()}};
      o["topics"] = tags;
      hits.push_back(o);
    }
    // A keyboard's way past the filters (16 Tabs from the search box to the first result on a
    // wide screen, the topics' checkboxes between; helper-95).
    d.set("has_hits", data(!hits.empty()));
    d.set("hits", hits);
    // Pages the server will show: not past the offset limit (a larger match set has more pages
    // than that, and the page after the limit is refused).
    const std::size_t pages = std::min((res.total + per_page - 1) / per_page,
                                       options.searcher.max_offset / per_page + 1);
    if (pages > 1 || (page > pages && pages > 0)) {
      d.set("has_pages", true);
      d.set("page", std::to_string(page));
      d.set("pages", std::to_string(pages));
      // A page past the last (an old link, a shared address after the articles changed): its
      // "Previous" goes to the last page, not to the empty page before it.
      if (page > 1 && pages > 0) d.set("prev_href", page_href(r, std::min(page - 1, pages), per_page, r.query));
      if (page < pages) d.set("next_href", page_href(r, page + 1, per_page, r.query));
      if (page > pages && pages > 0) {
        d.set("page_note", fmt::format("Page {} is past the end: the results have {} page{}.", page, pages, pages == 1 ? "" : "s"));
        d.set("past_end", true);  // no "Page 6 of 5" under the note
      }
    }
    list related;
    for (const auto& h : res.related)
      related.push_back(object{{"title", h.title}, {"url", article_link(h.url, h.id, options)}, {"date", h.date}, {"takeaway", text_or_false(h.takeaway)}});
    d.set("has_related", !related.empty());
    d.set("related", related);
  }
  return render("results.mustache", d);
}

std::string render_page(const PageContent& c, const ServerOptions& options) {
  data d;
  d.set("site_name", options.site_name);
  d.set("query", c.request->search.query);
  d.set("title_query", short_query(c.request->search.query));
  d.set("has_query", c.request->search.query.find_first_not_of(" \t\r\n") != std::string::npos);
  d.set("results", render_results(c));
  d.set("css_href", static_href("search.css"));
  d.set("js_href", static_href("search.js"));
  return render("page.mustache", d);
}

// OpenSearch's ShortName: at most 16 characters. The site's name cut at a character, never
// inside one's UTF-8 bytes (an XML parser refuses the file), and at the last space within the
// 16 when there is one, not mid-word ("MS Research Summaries" -> "MS Research").
std::string opensearch_short_name(std::string_view name) {
  constexpr std::size_t kMaxCharacters = 16;
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  std::size_t end = 0, characters = 0;
  while (end < name.size() && characters < kMaxCharacters) {
    ++end;
    while (end < name.size() && (static_cast<unsigned char>(name[end]) & 0xC0) == 0x80) ++end;
    ++characters;
  }
  if (end < name.size() && !is_space(name[end])) {
    // Cut mid-word: back to the last space, when the 16 hold one after a first word.
    std::size_t space = end;
    while (space > 0 && !is_space(name[space - 1])) --space;
    std::size_t word_end = space;
    while (word_end > 0 && is_space(name[word_end - 1])) --word_end;
    if (word_end > 0) end = word_end;
  }
  while (end > 0 && is_space(name[end - 1])) --end;
  return std::string(name.substr(0, end));
}

std::string render_opensearch(const ServerOptions& options, const std::string& base_url) {
  data d;
  d.set("site_name", options.site_name);
  d.set("short_name", opensearch_short_name(options.site_name));
  d.set("base", base_url);
  return render("opensearch.xml.mustache", d);
}

}  // namespace mssearch
