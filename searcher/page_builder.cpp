#include "searcher/page_builder.h"

#include <initializer_list>
#include <string_view>

#include "schema/utf8.h"

namespace mssearch {

namespace {

// The parts joined by spaces, on one line: newlines become spaces, runs of spaces one space.
std::string one_line(std::initializer_list<std::string_view> parts) {
  std::size_t size = 0;
  for (auto part : parts) size += part.size() + 1;
  std::string out;
  out.resize_and_overwrite(size, [&](char* begin, std::size_t) {
    char* end = begin;
    for (auto part : parts) {
      if (end != begin && end[-1] != ' ') *end++ = ' ';
      for (char c : part) {
        if (c == '\n') c = ' ';
        if (c != ' ' || (end != begin && end[-1] != ' ')) *end++ = c;
      }
    }
    return static_cast<std::size_t>(end - begin);
  });
  return out;
}

// The beginning of `text`, at most `length` bytes, cut after a word (mid-character never) and
// marked "…" when cut.
std::string opening(std::string_view text, std::size_t length) {
  if (text.size() <= length) return std::string(text);
  std::size_t cut = utf8_prefix_length(text, length);
  if (const std::size_t space = text.rfind(' ', cut); space != std::string_view::npos && space >= length / 2) cut = space;
  while (cut > 0 && std::string_view(",;:-(").find(text[cut - 1]) != std::string_view::npos) --cut;
  return std::string(text.substr(0, cut)) + "…";
}

}  // namespace

Highlighted highlighted_from_snippet(std::string_view html) {
  // Xapian escapes the text it quotes (so a "<mark>" in an article arrives as "&lt;mark&gt;"):
  // the only tags are the markers asked for.
  static constexpr std::pair<std::string_view, char> kEntities[] = {
      {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&#39;", '\''}, {"&#x27;", '\''}};
  Highlighted out;
  out.text.reserve(html.size());
  std::size_t open = std::string::npos;
  for (std::size_t i = 0; i < html.size();) {
    const std::string_view rest = html.substr(i);
    if (rest.starts_with("<mark>")) {
      open = out.text.size();
      i += 6;
    } else if (rest.starts_with("</mark>")) {
      if (open != std::string::npos && out.text.size() > open) out.marks.push_back({open, out.text.size()});
      open = std::string::npos;
      i += 7;
    } else if (html[i] == '&') {
      bool decoded = false;
      for (auto [entity, c] : kEntities)
        if (rest.starts_with(entity)) {
          out.text += c;
          i += entity.size();
          decoded = true;
          break;
        }
      if (!decoded) out.text += html[i++];
    } else {
      out.text += html[i++];
    }
  }
  // Xapian leaves a mark open when the snippet ends inside the matched word ("<mark>Optic…").
  if (open != std::string::npos && out.text.size() > open) out.marks.push_back({open, out.text.size()});
  return out;
}

std::string snippet_source(const Article& a) {
  constexpr std::size_t kMaxSnippetSource = 64 << 10;
  std::string_view body = a.body_text;
  if (body.size() > kMaxSnippetSource) {
    std::size_t end = kMaxSnippetSource;
    while (end > 0 && (static_cast<unsigned char>(body[end]) & 0xC0) == 0x80) --end;  // whole characters
    body = body.substr(0, end);
  }
  return one_line({a.takeaway, body});
}

Page build_page(const Xapian::Database& db, const ScoredDocs& ranked, const Xapian::MSet& marks,
                const Xapian::Stem& stemmer, const PageOptions& options, StoredArticles& stored) {
  // Not exhaustive (the first passage that holds the words best is taken) and without Xapian's
  // background model, which looks up the frequency of every word of the text in the index to
  // prefer passages with rarer words: that lookup was half the cost of a snippet and a tenth of
  // a full answer.
  Page page;
  const StoredParts parts = options.keys_only ? StoredParts::kKeys : options.snippets ? StoredParts::kAll : StoredParts::kFields;
  for (const auto& [docid, score] : ranked) {
    auto article = stored.get(db.get_document(docid), parts);
    if (!article) continue;
    if (options.keys_only) {
      SearchHit hit;
      hit.id = article->id;
      hit.score = score;
      hit.date = std::move(article->date);
      hit.credibility = article->credibility;
      page.hits.push_back(std::move(hit));
      page.docids.push_back(docid);
      page.ids.push_back(std::move(article->id));
      continue;
    }
    SearchHit hit = hit_of(*article, score);
    if (options.snippets) {
      const std::string source = snippet_source(*article);
      hit.snippet = highlighted_from_snippet(marks.snippet(source, options.snippet_length, stemmer, 0, "<mark>", "</mark>", "…"));
      // No word of the query in the text (nothing typed that weighs: a blank box, filters or
      // exclusions alone; or words matched in the title or a topic only): the article's
      // opening, its takeaway first. Xapian's choice among passages that hold nothing was the
      // article's last lines ("…main cause of misdiagnosis. The new tools need training…").
      if (hit.snippet.marks.empty()) hit.snippet = Highlighted{opening(source, options.snippet_length), {}};
    }
    page.hits.push_back(std::move(hit));
    page.docids.push_back(docid);
    page.ids.push_back(article->id);
  }
  return page;
}

}  // namespace mssearch
