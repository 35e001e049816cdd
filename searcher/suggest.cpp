// As-you-type suggestions: article titles matching what was typed (last word as a prefix),
// topics containing a word that starts with it, and the most frequent index terms that
// complete the last word.
#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <set>
#include <string_view>
#include <tuple>

#include <nlohmann/json.hpp>

#include "schema/schema.h"
#include "searcher/coordinator.h"
#include "searcher/searcher_impl.h"
#include "searcher/suggest_forms.h"
#include "searcher/synonyms.h"

namespace mssearch {

nlohmann::json to_json(const Suggestion& s) {
  nlohmann::json j = {{"text", s.text}, {"kind", s.kind}};
  if (!s.id.empty()) j["id"] = s.id;
  if (!s.url.empty()) j["url"] = s.url;
  if (s.count > 0) j["count"] = s.count;
  return j;
}

namespace {

// The articles `query` matches, counted exactly (every match checked, no weight computed): a
// completion's count after filters or exclusions.
Xapian::doccount exact_count(const Xapian::Database& db, const Xapian::Query& query) {
  Xapian::Enquire counting(db);
  counting.set_query(query);
  counting.set_weighting_scheme(Xapian::BoolWeight());
  return counting.get_mset(0, 0, db.get_doccount()).get_matches_estimated();
}

// Where the last word of `prefix` begins: after its last whitespace.
std::size_t last_word_start(std::string_view prefix) {
  const std::size_t at = prefix.find_last_of(" \t\r\n");
  return at == std::string_view::npos ? 0 : at + 1;
}

// Whether the last word, at `start`, is typed after a minus that excludes it (`-sl`; not a
// number's, `E2F-1, -2`).
bool minus_excludes(std::string_view prefix, std::size_t start) {
  return start + 1 < prefix.size() && prefix[start] == '-' && std::isdigit(static_cast<unsigned char>(prefix[start + 1])) == 0;
}

// A filter field's name (`topic:`, `date:`, …) at the start of `token`, after an optional sign:
// its length with the sign and the colon, else 0.
std::size_t filter_field_at(std::string_view token) {
  const std::size_t sign = !token.empty() && (token[0] == '-' || token[0] == '+') ? 1 : 0;
  const std::size_t field = schema::filter_field_length(token.substr(sign));
  return field > 0 ? sign + field : 0;
}

// A topic or journal being typed as a filter, last (`topic:fat`, `fatigue -topic:"symptom ma`,
// `journal:neuro`): where its value begins in `prefix` (after the colon or the quote), whether a
// quote opened it, and whether it is of several words unquoted (`topic:symptom ma`: a value
// only when some name begins with them); nullopt otherwise.
struct FilterTyped {
  std::size_t value_begin = 0;
  bool quoted = false;
  bool words = false;
  bool journal = false;
  bool alone = false;  // nothing typed before the field (no other word, filter or sign)
};
std::optional<FilterTyped> filter_being_typed(std::string_view prefix) {
  for (std::size_t at = prefix.size(); at-- > 0;) {
    if (!schema::at_chunk_start(prefix, at)) continue;
    const std::string_view from = prefix.substr(at);
    const std::size_t field = schema::filter_field_length(from);
    if (field == 0) continue;
    const std::string name = fold_text(from.substr(0, field - 1));  // any case
    if (name != "topic" && name != "journal") continue;
    // Inside a phrase (`"fatigue topic:sym`) it is text: three quotes were offered.
    if (std::count(prefix.begin(), prefix.begin() + static_cast<std::ptrdiff_t>(at), '"') % 2 == 1) return std::nullopt;
    const std::string_view value = from.substr(field);
    const bool journal = name == "journal";
    const bool alone = prefix.substr(0, at).find_first_not_of(" \t\r\n") == std::string_view::npos;
    if (!value.empty() && value.front() == '"') {
      if (value.find('"', 1) != std::string_view::npos) return std::nullopt;
      return FilterTyped{at + field + 1, true, false, journal, alone};
    }
    if (value.find_first_of("()\"") != std::string_view::npos) return std::nullopt;
    return FilterTyped{at + field, false, value.find_first_of(" \t\r\n") != std::string_view::npos, journal, alone};
  }
  return std::nullopt;
}

// Words joined by one space (`Anti-CD20  th` -> "anti cd20 th"), as a name's beginning is compared.
std::string joined_words(const std::string& folded) {
  std::string out;
  for (const auto& w : synonym_tokens(folded)) out += (out.empty() ? "" : " ") + w;
  if (!folded.empty() && std::string_view(" \t\r\n").find(folded.back()) != std::string_view::npos && !out.empty()) out += ' ';
  return out;
}

}  // namespace

bool completes_exclusion(std::string_view prefix) {
  const std::size_t start = last_word_start(prefix);
  if (minus_excludes(prefix, start)) return true;
  if (start == 0 || start == prefix.size()) return false;
  const std::string_view before = prefix.substr(0, start);
  const std::size_t end = before.find_last_not_of(" \t\r\n");
  if (end == std::string_view::npos) return false;
  const std::size_t begin = before.find_last_of(" \t\r\n", end);
  return before.substr(begin == std::string_view::npos ? 0 : begin + 1, end + 1 - (begin == std::string_view::npos ? 0 : begin + 1)) == "NOT";
}

bool OneFormPerStem::first(std::string_view text) {
  std::size_t word = text.find_last_of(' ');
  word = word == std::string_view::npos ? 0 : word + 1;
  if (word < text.size() && text[word] == '-') ++word;
  return seen_.insert(std::string(text.substr(0, word)) + stem_(std::string(text.substr(word)))).second;
}

Result<std::vector<Suggestion>> Searcher::suggest(const std::string& prefix, std::size_t limit,
                                                  std::vector<std::string>* failed_shards) {
  if (coordinator_) return coordinator_->suggest(prefix, limit, failed_shards);
  try {
    return impl_->retrying([&] { return impl_->suggest_once(prefix, limit, true, limit); });
  } catch (const Xapian::Error& e) {
    return fail(ErrorCode::kDatabase, "suggest failed: " + e.get_description());
  }
}

Result<std::vector<Suggestion>> Searcher::Impl::suggest_once(const std::string& as_typed, std::size_t limit,
                                                              bool one_form_per_stem, std::size_t list_limit) {
  if (as_typed.size() > options.max_query_bytes)
    return fail(ErrorCode::kBadQuery, "prefix is longer than " + std::to_string(options.max_query_bytes) + " bytes");
  // Words apart as a search reads them apart: an ellipsis, an em dash, a joiner (`brain/f`,
  // `fatigue...sl` offered titles with an f or sl word and no brain or fatigue, and the
  // topics those have).
  const std::string prefix = typed_words_apart(as_typed);
  std::vector<Suggestion> out;
  // A topic or journal being typed as a filter: the values it begins (a word of theirs, or the
  // name), as the filter completed (kind "filter": the query with the value's name in place).
  // It was offered titles and the topic as a word: `topic:fat` made "Fatigue", a filter turned
  // into a word, and `topic:` the word "topics". Unquoted words after the field (`topic:symptom
  // ma`, as the planner reads an unquoted name) are completed when a name begins with them, and
  // are the words typed after a filter otherwise (`topic:fatigue sle`).
  if (const auto typed = filter_being_typed(prefix)) {
    const std::string value = fold_text(prefix.substr(typed->value_begin));
    const std::string value_words = joined_words(value);
    const std::string before = prefix.substr(0, typed->value_begin - (typed->quoted ? 1 : 0));
    // After other words, filters or a sign, each completion counted as searching it counts (the
    // value's own count overstated them, and some found nothing: `fatigue journal:brain` offered
    // "Brain" 3, which found 1; helper-88), the most frequent first. Each an exact count: at most
    // kMaxCounted a keystroke, as many on a shard as on one index, so that a coordinator sums
    // the counts of the same values.
    constexpr std::size_t kMaxCounted = 50;
    const std::size_t candidates = typed->alone ? list_limit : kMaxCounted;
    for (const auto& known : typed->journal ? journals : topics) {
      if (out.size() >= candidates) break;  // a shard's: as many as its coordinator sums
      const std::string name = fold_text(known.value);
      bool begins = name.starts_with(value) || joined_words(name).starts_with(value_words);
      if (!begins && !typed->words) {
        const auto name_words = synonym_tokens(name);
        begins = std::any_of(name_words.begin(), name_words.end(), [&](const std::string& w) { return w.starts_with(value); });
      }
      if (!begins) continue;
      const bool quote = typed->quoted || known.value.find_first_of(" \t\"") != std::string::npos;
      out.push_back({before + (quote ? "\"" + known.value + "\"" : known.value), "filter", "", "", known.count});
    }
    if (!typed->alone && !out.empty()) {
      std::vector<Suggestion> counted;
      for (auto& s : out) {
        SearchRequest completed;
        completed.query = s.text;
        auto plan = planner.plan(completed);
        if (!plan || plan->blank) continue;
        const Xapian::doccount n = exact_count(db, plan->query);
        if (n == 0) continue;
        s.count = n;
        counted.push_back(std::move(s));
      }
      // Equal counts by the value's term, as a coordinator orders them.
      std::stable_sort(counted.begin(), counted.end(), [](const Suggestion& a, const Suggestion& b) {
        return a.count != b.count ? a.count > b.count : schema::slug(fold_text(a.text)) < schema::slug(fold_text(b.text));
      });
      if (counted.size() > list_limit) counted.resize(list_limit);
      out = std::move(counted);
    }
    if (!typed->words || !out.empty()) return out;
  }
  const std::string folded = fold_text(prefix);
  const auto words = synonym_tokens(folded);
  if (words.empty()) return out;
  const std::size_t per_kind = std::max<std::size_t>(limit / 2, 3);
  const std::string& last = words.back();
  // A completion of the last word: longer than it and no stop word (`brain f` is not offered
  // "brain for").
  const auto completes = [&](const std::string& term) {
    return term.starts_with(last) && term.size() > last.size() && !english_stop_words()(term);
  };
  // The most frequent completions of the last word in the index, counted in articles.
  const auto frequent_completions = [&] {
    std::vector<std::pair<Xapian::doccount, std::string>> terms;
    std::size_t scanned = 0;
    for (auto t = db.allterms_begin(last); t != db.allterms_end(last) && scanned < 1000; ++t, ++scanned)
      if (t.get_termfreq() > 0 && completes(*t)) terms.emplace_back(t.get_termfreq(), *t);
    std::stable_sort(terms.begin(), terms.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    return terms;
  };
  // The words typed before the last one, whitespace apart, and where the last one begins.
  const std::size_t start = last_word_start(prefix);
  std::vector<std::string_view> before_tokens;
  for (std::size_t i = 0; i < start;) {
    const std::size_t b = prefix.find_first_not_of(" \t\r\n", i);
    if (b == std::string::npos || b >= start) break;
    const std::size_t e = std::min(prefix.find_first_of(" \t\r\n", b), start);
    before_tokens.emplace_back(std::string_view(prefix).substr(b, e - b));
    i = e;
  }
  // The word being typed is excluded (`fatigue -sl`, `fatigue NOT sl`): its completions keep
  // the exclusion and the text before it as typed. Titles and topics that hold the word are no
  // completions of an exclusion: `fatigue -sl` offered "Poor Sleep Adds to MS Fatigue" and
  // "fatigue sleep", which searched what the visitor was leaving out.
  const bool minus = minus_excludes(prefix, start);
  if (completes_exclusion(prefix)) {
    // A plain word only: letters and digits (`-"sle`, `-(sl`, `-sl*`, `--sl` completed to
    // "-sleep", their syntax lost). A minus before a number is no exclusion (`E2F-1, -2`): the
    // number is completed as any word (above, the condition).
    const std::string_view typed = std::string_view(prefix).substr(minus ? start + 1 : start);
    if (std::any_of(typed.begin(), typed.end(), [](char ch) {
          return static_cast<unsigned char>(ch) < 0x80 && std::isalnum(static_cast<unsigned char>(ch)) == 0;
        }))
      return out;
    if (synonym_tokens(fold_text(typed)) != std::vector<std::string>{last}) return out;
    // The most frequent form of each stem only (`-sl` offered -slow, -slowed, -slowly and
    // -slows, which exclude alike). No count: the articles holding the word are not what the
    // search finds (those without it).
    // A shard's answer keeps them: its coordinator orders the shards' completions by them, and
    // leaves them out after (completes_exclusion).
    OneFormPerStem forms(planner.analyzer().stemmer());
    for (const auto& [freq, term] : frequent_completions()) {
      if (out.size() >= list_limit) break;
      std::string text = prefix.substr(0, start) + (minus ? "-" : "") + term;
      if (!one_form_per_stem || forms.first(text)) out.push_back({std::move(text), "term", "", "", one_form_per_stem ? 0 : freq});
    }
    return out;
  }
  // The words before the last one that decide what it completes to: no excluded word
  // (`fatigue -sleep d` offered "sleep disorders", the pair of the word left out), no operator.
  // The excluded words, folded: no title, topic or completion the query would leave out
  // (`fatigue -sleep p` offered "Poor Sleep Adds to MS Fatigue", `brain -fog f` "brain -fog fog").
  std::string head, filters;  // the words before the last one; the filters typed among them
  std::vector<std::string> excluded;
  for (std::size_t i = 0; i < before_tokens.size(); ++i) {
    const std::string_view token = before_tokens[i];
    // A filter (`year:2025 fat`, `-topic:"symptom management" sle`) holds no word the last one
    // follows: nothing was offered after it (an excluded one's words were excluded as words).
    // `NOT topic:fatigue sle`: the filter excluded, not its words.
    const bool not_filter = token == "NOT" && i + 1 < before_tokens.size() && filter_field_at(before_tokens[i + 1]) > 0;
    if (not_filter) filters.append("NOT ");
    const std::string_view filter_token = not_filter ? before_tokens[++i] : token;
    if (const std::size_t field = filter_field_at(filter_token); field > 0) {
      filters.append(filter_token).append(" ");
      if (filter_token.size() > field && filter_token[field] == '"' &&
          filter_token.find('"', field + 1) == std::string_view::npos)
        while (++i < before_tokens.size()) {
          filters.append(before_tokens[i]).append(" ");
          if (before_tokens[i].find('"') != std::string_view::npos) break;
        }
      continue;
    }
    if (token == "NOT") {
      if (++i < before_tokens.size())
        for (auto& w : synonym_tokens(fold_text(before_tokens[i]))) excluded.push_back(std::move(w));
      continue;
    }
    if (token.size() > 1 && token[0] == '-' && std::isdigit(static_cast<unsigned char>(token[1])) == 0) {
      for (auto& w : synonym_tokens(fold_text(token.substr(1)))) excluded.push_back(std::move(w));
      continue;
    }
    if (is_query_operator(token)) continue;
    head.append(token).append(" ");
  }
  std::set<std::string> excluded_stems;
  for (const auto& w : excluded) excluded_stems.insert(planner.analyzer().stemmer()(w));
  // The filters typed before the word (`year:2025 fat`): titles and completions are of the
  // articles they keep, each completion counted there and left out when it finds none there
  // (`year:2025 fatty` was offered, counted 2, and found nothing).
  std::optional<Xapian::Query> filter;
  if (!filters.empty()) {
    SearchRequest only_filters;
    only_filters.query = filters;
    auto plan = planner.plan(only_filters);
    if (!plan) return out;  // a filter that cannot be read (`year:20x5`): nothing to complete
    if (!plan->blank) filter = plan->query;
  }
  try {
    // Titles: every word typed must be in the title, the last one as a prefix; none of an
    // article the query's exclusions leave out.
    const std::vector<std::string> before_words = synonym_tokens(fold_text(head));
    std::string typed;
    for (const auto& w : before_words) typed += w + " ";
    typed += last;
    Xapian::Enquire enquire(db);
    Xapian::Query title_query = parse_words(planner.parser(), typed, Xapian::QueryParser::FLAG_PARTIAL,
                                            std::string(schema::kTitle.prefix), Xapian::Query::OP_AND);
    Xapian::Query excluded_words;
    if (!excluded.empty()) {
      std::string left_out;
      for (const auto& w : excluded) left_out += w + " ";
      excluded_words = parse_words(planner.parser(), left_out, 0, {}, Xapian::Query::OP_OR);
      title_query = Xapian::Query(Xapian::Query::OP_AND_NOT, title_query, excluded_words);
    }
    if (filter) title_query = Xapian::Query(Xapian::Query::OP_FILTER, title_query, *filter);
    enquire.set_query(title_query);
    Xapian::MSet titles = enquire.get_mset(0, static_cast<Xapian::doccount>(per_kind));
    for (auto it = titles.begin(); it != titles.end(); ++it) {
      const auto a = stored.get(it.get_document(), StoredParts::kFields);
      if (a) out.push_back({a->title, "title", a->id, a->url, 0});
    }
    // Topics: one of the topic's words starts with the last word typed (and it holds the
    // first word before, if any), none an excluded word.
    for (const auto& topic : topics) {
      if (out.size() >= list_limit) break;  // a shard's: every topic its coordinator may sum
      const auto topic_words = synonym_tokens(fold_text(topic.value));
      if (std::any_of(topic_words.begin(), topic_words.end(),
                      [&](const std::string& w) { return excluded_stems.contains(planner.analyzer().stemmer()(w)); }))
        continue;
      for (const auto& w : topic_words) {
        if (w.starts_with(last) && (before_words.empty() || fold_text(topic.value).find(before_words.front()) != std::string::npos)) {
          // After filters, counted among their articles and left out where it finds none there
          // (`year:2026 sle` offered Sleep 1, which 2026 has none of; `-topic:sleep sle` the
          // topic excluded). At most list_limit such counts a keystroke.
          Xapian::doccount count = topic.count;
          if (filter || !excluded.empty()) {
            Xapian::Query counted(schema::topic_term(topic.value));
            if (filter) counted = Xapian::Query(Xapian::Query::OP_FILTER, counted, *filter);
            // Nor the articles of a word excluded (`-fatigue sle` offered Sleep 1, its article
            // one that says fatigue; helper-90).
            if (!excluded.empty()) counted = Xapian::Query(Xapian::Query::OP_AND_NOT, counted, excluded_words);
            count = exact_count(db, counted);
          }
          if (count > 0) out.push_back({topic.value, "topic", "", "", count});
          break;
        }
      }
    }
    // Terms: completions of the last word, never a stop word (`brain f` is not offered "brain
    // for"). A first word: the most frequent completions in the index, counted in articles.
    // After other words: completions that follow the word typed before them in some of the 10
    // best articles for those words (`brain f` -> "brain fog", not "brain first", which
    // articles use everywhere), counted as the pair's occurrences in those 10 articles (an
    // exact count of articles over the index cost 6 times more at 100k articles).
    std::vector<std::pair<Xapian::doccount, std::string>> terms;
    // The last word as typed: the letters and digits that end the text. A completion is the
    // text typed with those letters completed, everything before them kept as it was typed
    // (`fatigue -sleep d` -> "fatigue -sleep disability", `"brain f` -> `"brain fog`).
    std::size_t word_start = prefix.size();
    while (word_start > start && (static_cast<unsigned char>(prefix[word_start - 1]) >= 0x80 ||
                                  std::isalnum(static_cast<unsigned char>(prefix[word_start - 1])) != 0))
      --word_start;
    head += prefix.substr(start, word_start - start);  // `anti-` of `anti-cd`
    head = fold_text(head);
    // Unless the word's letters were not where the completion goes (`uhthoff's` is one term,
    // the last word "s" of it): then the words before it as the index wrote them.
    const bool typed_head = synonym_tokens(fold_text(prefix.substr(word_start))) == std::vector<std::string>{last} &&
                            (word_start == 0 || (prefix[word_start - 1] != '\'' && !prefix.substr(0, word_start).ends_with("\u2019")));
    std::string shown_head = typed_head ? prefix.substr(0, word_start) : std::string();
    // The words before the last one as the index wrote them: "uhthoff's" is one term there,
    // where synonym_tokens makes two words of it, "uhthoff" and "s" (a term no article has).
    std::map<Xapian::termpos, std::string> head_words;
    {
      Xapian::Document words_before;
      // The index side's generator: its stemmed terms have no positions and are not read.
      Xapian::TermGenerator generator = planner.analyzer().make_term_generator(nullptr);
      generator.set_document(words_before);
      generator.index_text(typed_head ? head : fold_text(folded.substr(0, folded.rfind(last))));
      for (auto t = words_before.termlist_begin(); t != words_before.termlist_end(); ++t)
        for (auto p = t.positionlist_begin(); p != t.positionlist_end(); ++p) head_words[*p] = *t;
    }
    if (!typed_head)
      for (const auto& [position, word] : head_words) shown_head += word + " ";
    if (words.size() == 1 || head_words.empty()) {
      terms = frequent_completions();
    } else {
      const std::string before = head_words.rbegin()->second;
      const Xapian::Query head_query =
          parse_words(planner.parser(), hyphenated_as_words(head), 0, {}, Xapian::Query::OP_AND);
      enquire.set_query(head_query);
      constexpr Xapian::doccount kHeadArticles = 10;
      const Xapian::MSet best = enquire.get_mset(0, kHeadArticles);
      // How many of the best hold each completion, and how often it follows the last word
      // typed before it there (`brain fog`: the phrase, not a word the articles use everywhere).
      struct Evidence {
        Xapian::doccount held = 0, after = 0;
      };
      std::map<std::string, Evidence> evidence;
      for (auto it = best.begin(); it != best.end() && !before.empty(); ++it) {
        std::vector<Xapian::termpos> before_at;
        for (auto p = db.positionlist_begin(*it, before); p != db.positionlist_end(*it, before); ++p)
          before_at.push_back(*p);
        auto t = db.termlist_begin(*it);
        std::size_t seen = 0;  // a bound for a one-letter last word: its first 256 completions
        for (t.skip_to(last); t != db.termlist_end(*it) && (*t).starts_with(last) && seen < 256; ++t, ++seen) {
          if (!completes(*t)) continue;
          Evidence& e = evidence[*t];
          ++e.held;
          if (before_at.empty()) continue;
          for (auto p = t.positionlist_begin(); p != t.positionlist_end(); ++p)
            if (std::binary_search(before_at.begin(), before_at.end(), *p - 1)) ++e.after;
        }
      }
      // By pairs, then holders, then the rarer word first: `brain fog`, written again and again
      // in an article about it, before `brain finish`, once, across two sentences.
      std::vector<std::tuple<Xapian::doccount, Xapian::doccount, Xapian::doccount, std::string>> ranked;
      for (auto& [term, e] : evidence)
        if (e.after > 0) ranked.emplace_back(e.after, e.held, db.get_termfreq(term), term);
      std::stable_sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
        return std::tie(std::get<0>(b), std::get<1>(b), std::get<2>(a)) < std::tie(std::get<0>(a), std::get<1>(a), std::get<2>(b));
      });
      if (ranked.size() > limit) ranked.resize(limit);
      for (auto& [after, held, frequency, term] : ranked) terms.emplace_back(after, std::move(term));
    }
    if (filter) {
      // Counted among the filters' articles, the most frequent first, a bounded number of them.
      constexpr std::size_t kMaxFiltered = 12;  // each an exact count: a bound on a keystroke's cost
      std::vector<std::pair<Xapian::doccount, std::string>> kept;
      for (std::size_t k = 0; k < terms.size() && k < kMaxFiltered; ++k) {
        const Xapian::doccount n = exact_count(db, Xapian::Query(Xapian::Query::OP_FILTER, Xapian::Query(terms[k].second), *filter));
        if (n > 0) kept.emplace_back(n, std::move(terms[k].second));
      }
      std::stable_sort(kept.begin(), kept.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
      terms = std::move(kept);
    }
    OneFormPerStem forms(planner.analyzer().stemmer());
    for (const auto& [freq, term] : terms) {
      if (out.size() >= list_limit) break;
      const std::string text = shown_head + term;
      if (freq > 0 && !excluded_stems.contains(planner.analyzer().stemmer()(term)) &&
          std::none_of(out.begin(), out.end(), [&](const Suggestion& s) { return fold_text(s.text) == fold_text(text); }) &&
          (!one_form_per_stem || forms.first(text)))
        out.push_back({text, "term", "", "", freq});
    }
  } catch (const Xapian::DatabaseModifiedError&) {
    throw;  // retried by suggest()
  } catch (const Xapian::Error& e) {
    return fail(ErrorCode::kDatabase, "suggest failed: " + e.get_description());
  }
  if (out.size() > list_limit) out.resize(list_limit);
  return out;
}

}  // namespace mssearch
