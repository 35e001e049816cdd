// export_corpus: the generated collection and query mix of the benchmark as JSON lines, for the
// peers that are not C++ programs (bench/flexsearch). Same --articles/--seed/--queries, same
// articles and queries as search_bench and the other peers.
#include <fstream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "bench/bench_common.h"
#include "bench/corpus_generator.h"

using namespace mssearch::bench;

int main(int argc, char** argv) {
  CLI::App app{"export_corpus: the benchmark's articles and query mix as JSON lines"};
  CollectionOptions collection;
  std::string corpus_path, mix_path;
  add_collection_options(app, collection);
  app.add_option("--corpus", corpus_path, "Write the articles here: id, title, takeaway, body, topics, year")->required();
  app.add_option("--mix", mix_path, "Write the queries here: q, topic, partial")->required();
  CLI11_PARSE(app, argc, argv);
  const auto [articles, queries, seed] = collection;

  CorpusGenerator generator({articles, seed});
  std::ofstream corpus(corpus_path), mix(mix_path);
  std::uint64_t bytes = 0;
  for (std::size_t i = 0; i < articles; ++i) {
    const auto a = generator.article(i);
    bytes += article_bytes(a);
    corpus << nlohmann::json{{"id", i},           {"title", a.title}, {"takeaway", a.takeaway},
                             {"body", a.body_text}, {"topics", a.topics}, {"year", a.year()}}
                  .dump()
           << "\n";
  }
  for (const auto& q : generator.query_mix(queries))
    mix << nlohmann::json{{"q", q.text}, {"topic", q.topic}, {"partial", q.partial}}.dump() << "\n";
  // What the C++ programs count as the text indexed, so that MB/s and sizes compare.
  fmt::print("{}\n", nlohmann::json{{"corpus_bytes", bytes}}.dump());
  return corpus && mix ? 0 : 1;
}
