// peer_groonga: Groonga (libgroonga, in process) on the benchmark's collection and query mix:
// a table of the articles (title, takeaway, body, topics, year, journal), a lexicon with
// TokenBigram (runs of letters are one token), NormalizerAuto and TokenFilterStem, one
// positional index over title, takeaway and body built after the load (Groonga's offline index
// construction), an index of the topics for the filter. Queries are Groonga `select` commands
// in their URL form (the same URLs the HTTP server answers: --urls writes them for wrk): words
// joined by OR, "phrases" kept, the as-you-type last word a prefix (`word*`, over the lexicon's
// stems), TF-IDF scores (scorer_tf_idf, title ×2). Prints one JSON line.
#include <groonga.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "bench/bench_common.h"

using namespace mssearch;
using namespace mssearch::bench;
namespace fs = std::filesystem;

namespace {

// Groonga preallocates its files sparsely (a 2,000-article database is ~130 MB long and ~20 MB
// on disk): the size on disk is the blocks allocated, as `du` counts them.
std::uint64_t allocated_bytes(const std::string& dir) {
  std::uint64_t n = 0;
  std::error_code ec;
  for (const auto& e : fs::recursive_directory_iterator(dir, ec)) {
    struct stat st {};
    if (e.is_regular_file(ec) && ::stat(e.path().c_str(), &st) == 0) n += static_cast<std::uint64_t>(st.st_blocks) * 512;
  }
  return n;
}

std::string url_encode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') out += static_cast<char>(c);
    else out += fmt::format("%{:02X}", c);
  }
  return out;
}

// The query mix in Groonga's query syntax: words joined by OR, "phrases" kept, the as-you-type
// word a prefix.
std::string groonga_query(const CorpusGenerator::Query& q) {
  if (q.text.starts_with('"')) return q.text;
  std::string out;
  std::size_t at = 0;
  while (at < q.text.size()) {
    std::size_t space = q.text.find(' ', at);
    if (space == std::string::npos) space = q.text.size();
    const bool last = space == q.text.size();
    out += (out.empty() ? "" : " OR ") + q.text.substr(at, space - at) + (last && q.partial ? "*" : "");
    at = space + 1;
  }
  return out;
}

// One `select` as a URL path: the ranked page (title and score), or the full answer (+ HTML
// snippets of the body, counts of topics and years over the whole match set). Without Groonga's
// result cache (on by default, keyed by the command): the mix repeats under wrk and in the timed
// passes, and a cached answer is a lookup, not a search.
std::string select_url(const CorpusGenerator::Query& q, bool full) {
  std::string url = "/d/select?table=Articles"
                    "&match_columns=" + url_encode("scorer_tf_idf(title)*2||scorer_tf_idf(takeaway)||scorer_tf_idf(body)") +
                    "&query=" + url_encode(groonga_query(q)) + "&sort_keys=-_score&limit=10&cache=no";
  // A Groonga script string literal is a JSON string literal for these names.
  if (!q.topic.empty()) url += "&filter=" + url_encode("topics @ " + nlohmann::json(q.topic).dump());
  if (full) url += "&output_columns=" + url_encode("_id,_score,title,snippet_html(body)") +
                   "&drilldown=topics,year&drilldown_limit=40";
  else url += "&output_columns=_id,_score,title";
  return url;
}

class Groonga {
 public:
  explicit Groonga(const std::string& path) {
    if (grn_ctx_init(&ctx_, 0) != GRN_SUCCESS) throw std::runtime_error("grn_ctx_init failed");
    db_ = grn_db_create(&ctx_, path.c_str(), nullptr);
    if (!db_) throw std::runtime_error(fmt::format("grn_db_create {}: {}", path, ctx_.errbuf));
  }
  ~Groonga() {
    if (db_) grn_obj_close(&ctx_, db_);
    grn_ctx_fin(&ctx_);
  }
  Groonga(const Groonga&) = delete;
  Groonga& operator=(const Groonga&) = delete;

  // Sends one command (or a piece of a load's values) and returns its output ("" while a load
  // is still reading values). Throws on Groonga's error.
  std::string_view send(const std::string& command) {
    grn_ctx_send(&ctx_, command.data(), static_cast<unsigned int>(command.size()), 0);
    if (ctx_.rc != GRN_SUCCESS) throw std::runtime_error(fmt::format("groonga: {}: {}", ctx_.errbuf, command.substr(0, 200)));
    char* out = nullptr;
    unsigned int len = 0;
    int flags = 0;
    grn_ctx_recv(&ctx_, &out, &len, &flags);
    if (ctx_.rc != GRN_SUCCESS) throw std::runtime_error(fmt::format("groonga: {}: {}", ctx_.errbuf, command.substr(0, 200)));
    return {out, len};
  }

 private:
  grn_ctx ctx_{};
  grn_obj* db_ = nullptr;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"peer_groonga: Groonga on the benchmark collection"};
  CollectionOptions collection;
  std::string dir, urls;
  bool keep = false;
  add_collection_options(app, collection);
  app.add_option("--dir", dir, "Directory for the database (default: a temporary one, removed)");
  app.add_option("--urls", urls, "Write the mix's full-answer select URLs here, one a line (for wrk)");
  app.add_flag("--keep", keep, "Leave the database in --dir (for `groonga --protocol http`: DIR/db)");
  CLI11_PARSE(app, argc, argv);
  const auto [articles, queries, seed] = collection;
  const bool temporary = dir.empty();
  if (!temporary && refuse_used_dir("peer_groonga", dir)) return 2;
  if (temporary) dir = (fs::temp_directory_path() / fmt::format("peer-groonga-{}", ::getpid())).string();
  fs::remove_all(dir);
  fs::create_directories(dir);

  CorpusGenerator generator({articles, seed});
  const auto all = generator.all();
  const auto mix = generator.query_mix(queries);
  if (!urls.empty()) {
    std::ofstream out(urls);
    for (const auto& q : mix) out << select_url(q, true) << "\n";
    if (!out) throw std::runtime_error("cannot write " + urls);
  }

  int status = 0;
  if (grn_init() != GRN_SUCCESS) throw std::runtime_error("grn_init failed");
  try {
    nlohmann::json out;
    {
      Groonga g(dir + "/db");
      const double rss_before = peak_rss_mib();
      auto t = Clock::now();
      for (const char* command : {
               "plugin_register token_filters/stem",
               "table_create Topics TABLE_HASH_KEY ShortText",
               "table_create Articles TABLE_NO_KEY",
               "column_create Articles title COLUMN_SCALAR ShortText",
               "column_create Articles takeaway COLUMN_SCALAR Text",
               "column_create Articles body COLUMN_SCALAR LongText",
               "column_create Articles topics COLUMN_VECTOR Topics",
               "column_create Articles year COLUMN_SCALAR UInt16",
               "column_create Articles journal COLUMN_SCALAR ShortText",
           })
        g.send(command);
      // The values streamed in pieces of 500 articles: one JSON array over many sends.
      g.send("load --table Articles");
      std::string chunk = "[";
      for (std::size_t i = 0; i < all.size(); ++i) {
        const auto& a = all[i];
        if (i > 0) chunk += ',';
        chunk += nlohmann::json{{"title", a.title}, {"takeaway", a.takeaway}, {"body", a.body_text},
                                {"topics", a.topics}, {"year", a.year()}, {"journal", a.journal}}
                     .dump();
        if (i + 1 == all.size()) chunk += ']';
        if (i % 500 == 499 || i + 1 == all.size()) {
          g.send(chunk);
          chunk.clear();
        }
      }
      for (const char* command : {
               "table_create Terms TABLE_PAT_KEY ShortText --default_tokenizer TokenBigram "
               "--normalizer NormalizerAuto --token_filters TokenFilterStem",
               "column_create Terms articles_text COLUMN_INDEX|WITH_POSITION|WITH_SECTION Articles title,takeaway,body",
               "column_create Topics articles_topics COLUMN_INDEX Articles topics",
           })
        g.send(command);
      const double index_ms = ms_since(t);
      const double index_rss = peak_rss_mib();
      // The library gives the command's body alone (no [status, time, elapsed] header): for a
      // select, [[[hits], columns, rows...], drilldowns...].
      const auto loaded = nlohmann::json::parse(g.send("select Articles --limit 0 --output_columns _id"));
      const auto count = loaded.at(0).at(0).at(0).get<std::size_t>();
      if (count != articles) throw std::runtime_error(fmt::format("groonga loaded {} articles of {}", count, articles));

      std::vector<std::string> full_urls, top_urls;
      for (const auto& q : mix) {
        full_urls.push_back(select_url(q, true));
        top_urls.push_back(select_url(q, false));
      }
      std::size_t hits = 0, empty = 0;
      auto run = [&](const std::vector<std::string>& commands, std::vector<double>* ms) {
        for (const auto& c : commands) {
          const auto start = Clock::now();
          const auto answer = g.send(c);
          if (ms) ms->push_back(ms_since(start));
          else {  // the warm-up pass checks the answers (outside the timed passes)
            const auto j = nlohmann::json::parse(answer);
            const auto n = j.at(0).at(0).at(0).get<std::size_t>();
            hits += n;
            empty += n == 0;
          }
        }
      };
      run(full_urls, nullptr);
      std::vector<double> full_ms, top10_ms;
      run(full_urls, &full_ms);
      run(top_urls, &top10_ms);
      out = {{"engine", "Groonga"},
             {"articles", articles},
             {"queries", mix.size()},
             {"version", grn_get_version()},
             {"full_answer", "top 10 by tf-idf with title and score, snippet_html of the body, drilldown counts of "
                             "topics and years over all matches; engine time in process (select run and its JSON written)"},
             {"full", latency_json(full_ms)},
             {"top10", latency_json(top10_ms)},
             {"mean_hits", static_cast<double>(hits) / static_cast<double>(mix.size())},
             {"queries_without_hits", empty}};
      out.update(index_json(articles, index_ms, rss_before, index_rss, corpus_bytes(all), dir));
      out["index_bytes_apparent"] = out["index_bytes"];
      out["index_bytes"] = allocated_bytes(dir);
    }
    fmt::print("{}\n", out.dump());
  } catch (const std::exception& e) {
    fmt::print(stderr, "peer_groonga: {}\n", e.what());
    status = 1;
  }
  grn_fin();
  if (temporary || (status != 0 && !keep)) fs::remove_all(dir);
  return status;
}
