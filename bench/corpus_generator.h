// A deterministic synthetic article collection for benchmarks: N articles in the article
// format, 250-500 words each, a long-tail (Zipf) vocabulary mixed with the field's real terms,
// 1-4 topics out of 40, dates over ten years. Same seed, same articles.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "schema/article.h"

namespace mssearch::bench {

struct CorpusSpec {
  std::size_t articles = 10000;
  std::uint64_t seed = 42;
};

class CorpusGenerator {
 public:
  explicit CorpusGenerator(const CorpusSpec& spec);

  // Article i (0-based) of the collection; ids are "gen-<i>" (id(i)). Safe from several threads.
  Article article(std::size_t i) const;
  static std::string id(std::size_t i);
  std::vector<Article> all() const;

  // A fixed query mix drawn from the same vocabulary: 1-3 words, phrases, topic filters and
  // as-you-type prefixes. Each entry is (query, topic filter or "", partial).
  struct Query {
    std::string text, topic;
    bool partial = false;
  };
  std::vector<Query> query_mix(std::size_t count) const;

  const std::vector<std::string>& topics() const { return topics_; }

 private:
  const std::string& zipf_word(std::uint64_t& state) const;
  CorpusSpec spec_;
  std::vector<std::string> vocabulary_;
  std::vector<double> cumulative_;  // Zipf cumulative weights over vocabulary_
  std::vector<std::string> topics_;
};

}  // namespace mssearch::bench
