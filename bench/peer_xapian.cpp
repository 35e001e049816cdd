// peer_xapian: the engine's floor. What a plain Xapian program does with the benchmark's
// collection and query mix: TermGenerator + QueryParser (English stemmer, default BM25),
// MSet::snippet and a ValueCountMatchSpy, nothing clever. Prints one JSON line.
#include <filesystem>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <xapian.h>

#include "bench/bench_common.h"

using namespace mssearch;
using namespace mssearch::bench;
namespace fs = std::filesystem;

int main(int argc, char** argv) {
  CLI::App app{"peer_xapian: a plain Xapian program on the benchmark collection"};
  CollectionOptions collection;
  std::string dir;
  add_collection_options(app, collection);
  app.add_option("--dir", dir, "Database directory (default: a temporary one, removed afterwards)");
  bool stream = false;
  app.add_flag("--stream", stream, "Make each article as it is written, none held in memory (for 1 M articles)");
  CLI11_PARSE(app, argc, argv);
  const auto [articles, queries, seed] = collection;
  const bool temporary = dir.empty();
  if (temporary) dir = (fs::temp_directory_path() / fmt::format("peer-xapian-{}", ::getpid())).string();

  CorpusGenerator generator({articles, seed});
  // --stream: each article made as it is written, none held (1 M articles do not fit in
  // memory); the build's time then includes making them, as search_bench --stream's does.
  const auto all = stream ? std::vector<Article>{} : generator.all();
  std::uint64_t bytes = corpus_bytes(all);
  Article made;  // --stream: the article being written
  auto article_at = [&](std::size_t i) -> const Article& {
    if (!stream) return all[i];
    made = generator.article(i);
    bytes += article_bytes(made);
    return made;
  };
  const double rss_before = peak_rss_mib();
  Xapian::Stem stemmer("english");
  auto t = Clock::now();
  {
    Xapian::WritableDatabase db(dir, Xapian::DB_CREATE_OR_OVERWRITE);
    Xapian::TermGenerator tg;
    tg.set_stemmer(stemmer);
    for (std::size_t i = 0; i < articles; ++i) {
      const Article& a = article_at(i);
      Xapian::Document doc;
      tg.set_document(doc);
      tg.index_text(a.title);
      tg.increase_termpos();
      tg.index_text(a.takeaway);
      tg.increase_termpos();
      tg.index_text(a.body_text);
      std::string topics;
      for (const auto& topic : a.topics) {
        doc.add_boolean_term("XT" + topic);
        topics += topic + "\n";
      }
      doc.add_value(0, topics);
      doc.add_value(1, a.date.substr(0, 4));
      doc.set_data(a.title + "\n" + a.takeaway + "\n" + a.body_text);
      db.add_document(doc);
    }
    db.commit();
  }
  const double index_ms = ms_since(t);
  const double index_rss = peak_rss_mib();

  Xapian::Database db(dir);
  Xapian::Enquire enquire(db);
  Xapian::QueryParser qp;
  qp.set_database(db);
  qp.set_stemmer(stemmer);
  qp.set_stemming_strategy(Xapian::QueryParser::STEM_SOME);
  const auto mix = generator.query_mix(queries);
  auto run = [&](bool full, std::vector<double>* ms) {
    for (const auto& q : mix) {
      const auto start = Clock::now();
      unsigned flags = Xapian::QueryParser::FLAG_DEFAULT | (q.partial ? Xapian::QueryParser::FLAG_PARTIAL : 0);
      Xapian::Query query = qp.parse_query(q.text, flags);
      if (!q.topic.empty()) query = Xapian::Query(Xapian::Query::OP_FILTER, query, Xapian::Query("XT" + q.topic));
      enquire.set_query(query);
      enquire.clear_matchspies();
      Xapian::ValueCountMatchSpy topics(0), years(1);
      if (full) {
        enquire.add_matchspy(&topics);
        enquire.add_matchspy(&years);
      }
      Xapian::MSet mset = enquire.get_mset(0, 10, full ? db.get_doccount() : 0);
      std::size_t sink = 0;
      for (auto it = mset.begin(); it != mset.end(); ++it) {
        const std::string data = it.get_document().get_data();
        sink += full ? mset.snippet(data, 240, stemmer).size() : data.size();
      }
      if (full) {
        std::map<std::string, Xapian::doccount> per_topic;  // split the topic sets
        for (auto v = topics.values_begin(); v != topics.values_end(); ++v) {
          std::size_t at = 0;
          const std::string set = *v;
          for (std::size_t nl; (nl = set.find('\n', at)) != std::string::npos; at = nl + 1)
            per_topic[set.substr(at, nl - at)] += v.get_termfreq();
        }
        sink += per_topic.size();
      }
      if (ms) ms->push_back(ms_since(start));
      if (sink == 42424242) fmt::print(" ");  // keep the work observable
    }
  };
  run(true, nullptr);  // warm up
  std::vector<double> full_ms, top10_ms;
  run(true, &full_ms);
  run(false, &top10_ms);
  nlohmann::json out = {{"engine", "plain Xapian"}, {"articles", articles}, {"queries", mix.size()},
                        {"full", latency_json(full_ms)}, {"top10", latency_json(top10_ms)}};
  out.update(index_json(articles, index_ms, rss_before, index_rss, bytes, dir));
  fmt::print("{}\n", out.dump());
  if (temporary) fs::remove_all(dir);
  return 0;
}
