#include "searcher/page_builder.h"

#include <unicode/uchar.h>
#include <unicode/utf8.h>

#include <algorithm>
#include <cctype>
#include <initializer_list>
#include <string_view>
#include <unordered_map>

#include "schema/text_analyzer.h"
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

// The snippet's source as the index reads its words, and the way back. Xapian's snippet finds
// the query's terms in a text by its own tokenising, which lowercases but does not fold:
// "Sjögren" was never marked for `sjogren` (the index's term), "β" for `beta`, "疲労bladder"
// (one word to Xapian, two to the index) for either. The text is given to Xapian with each
// word that folds otherwise folded (and words fold_text parts, parted by a space); the
// passage and marks it returns are mapped back onto the article's own text.
class FoldedSource {
 public:
  explicit FoldedSource(std::string_view source) : source_(source) {
    ascii_ = std::all_of(source.begin(), source.end(), [](char ch) { return static_cast<unsigned char>(ch) < 0x80; });
    if (ascii_) return;
    // The text in pieces: verbatim bytes, runs of word characters (cut where fold_text parts a
    // word), and spaces for what parts words for the index but not for Xapian.
    struct Piece {
      std::size_t begin, end;
      enum { kVerbatim, kWord, kSpace } kind;
    };
    std::vector<Piece> pieces;
    std::size_t run = std::string_view::npos;  // where the current run of word characters began
    UChar32 last = 0;
    for (std::size_t i = 0; i < source.size();) {
      const std::size_t at = i;
      UChar32 c = static_cast<unsigned char>(source[i]);
      bool word = false, parting = false;
      if (c < 0x80) {
        ++i;
        word = std::isalnum(c) != 0;
      } else {
        U8_NEXT(source.data(), i, source.size(), c);
        // A zero-width space or a mark of writing direction parts words for the index; the
        // other format characters (a soft hyphen, a joiner) fold away inside a word, and other
        // numbers (², ₂) fold to digits (`mm²` is the index's mm2).
        parting = c == 0x200B || (c >= 0 && u_hasBinaryProperty(c, UCHAR_BIDI_CONTROL));
        word = c >= 0 && !parting && (u_isalnum(c) != 0 || (U_GET_GC_MASK(c) & (U_GC_M_MASK | U_GC_CF_MASK | U_GC_NO_MASK)) != 0);
      }
      if (run != std::string_view::npos && (!word || cjk_beside_latin(static_cast<char32_t>(last), static_cast<char32_t>(c)))) {
        pieces.push_back({run, at, Piece::kWord});
        run = std::string_view::npos;
        if (word) pieces.push_back({at, at, Piece::kSpace});  // `疲労bladder`: two words
      }
      if (word) {
        if (run == std::string_view::npos) run = at;
      } else {
        pieces.push_back({at, i, parting ? Piece::kSpace : Piece::kVerbatim});
      }
      last = c;
    }
    if (run != std::string_view::npos) pieces.push_back({run, source.size(), Piece::kWord});
    // The words that are not ASCII folded, each once (a text repeats its words: folding each
    // occurrence made a search of long accented articles 5 times slower).
    const auto non_ascii = [&](const Piece& p) {
      return p.kind == Piece::kWord &&
             std::any_of(source.begin() + static_cast<std::ptrdiff_t>(p.begin), source.begin() + static_cast<std::ptrdiff_t>(p.end),
                         [](char ch) { return static_cast<unsigned char>(ch) >= 0x80; });
    };
    std::unordered_map<std::string_view, std::string> folds;
    folded_.reserve(source.size() + 16);
    for (const auto& p : pieces) {
      const std::string_view text = source.substr(p.begin, p.end - p.begin);
      if (p.kind == Piece::kSpace) {
        changed(p.begin, p.end, " ");
      } else if (!non_ascii(p)) {
        folded_.append(text);  // Xapian lowercases ASCII as the index folds it
      } else {
        auto [it, fresh] = folds.try_emplace(text);
        if (fresh) it->second = fold_text(text);
        if (it->second == text) folded_.append(text);
        else changed(p.begin, p.end, it->second);
      }
    }
  }

  // The text to give Xapian: `source` itself (the one this was made of) when it is all ASCII,
  // which folds as Xapian lowercases.
  const std::string& text(const std::string& source) const { return ascii_ ? source : folded_; }
  bool same() const { return spans_.empty(); }

  // Xapian's snippet of text() mapped onto the source.
  Highlighted back(Highlighted snippet) const {
    if (same()) return snippet;
    static constexpr std::string_view kOmit = "…";
    std::string_view core = snippet.text;
    std::size_t at = folded_.find(core);
    const bool omit_before = at != 0 && core.starts_with(kOmit);
    if (omit_before) core.remove_prefix(kOmit.size());
    const bool omit_after = core.ends_with(kOmit) && folded_.find(core) == std::string::npos;
    if (omit_after) core.remove_suffix(kOmit.size());
    at = folded_.find(core);
    if (at == std::string::npos) return Highlighted{};  // not Xapian's passage of it: no snippet
    const std::size_t shift = omit_before ? kOmit.size() : 0;
    const std::size_t begin = to_source(at, false), end = to_source(at + core.size(), true);
    Highlighted out;
    if (omit_before) out.text += kOmit;
    out.text.append(source_.substr(begin, end - begin));
    if (omit_after) out.text += kOmit;
    for (const auto& m : snippet.marks) {
      if (m.begin < shift || m.end > shift + core.size()) continue;
      const std::size_t b = to_source(at + m.begin - shift, false), e = to_source(at + m.end - shift, true);
      if (e > b && b >= begin && e <= end) out.marks.push_back({b - begin + shift, e - begin + shift});
    }
    return out;
  }

 private:
  struct Span {
    std::size_t folded_begin, folded_end, source_begin, source_end;
  };

  void changed(std::size_t source_begin, std::size_t source_end, std::string_view text) {
    spans_.push_back({folded_.size(), folded_.size() + text.size(), source_begin, source_end});
    folded_.append(text);
  }
  // An offset in text() as one in the source; inside a changed word, its start (or its end).
  std::size_t to_source(std::size_t at, bool end) const {
    auto after = std::upper_bound(spans_.begin(), spans_.end(), at, [](std::size_t x, const Span& s) { return x < s.folded_begin; });
    if (after == spans_.begin()) return at;
    const Span& s = *std::prev(after);
    if (at >= s.folded_end) return s.source_end + (at - s.folded_end);
    if (at == s.folded_begin) return s.source_begin;
    return end ? s.source_end : s.source_begin;
  }

  std::string_view source_;
  bool ascii_ = false;
  std::string folded_;
  std::vector<Span> spans_;
};

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
      const FoldedSource folded(source);
      hit.snippet = folded.back(
          highlighted_from_snippet(marks.snippet(folded.text(source), options.snippet_length, stemmer, 0, "<mark>", "</mark>", "…")));
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
