#include "bench/corpus_generator.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "indexer/article_reader.h"

namespace mssearch::bench {
namespace {

// splitmix64: a small, well-known deterministic generator (same output on every platform,
// unlike std::uniform_int_distribution).
std::uint64_t next(std::uint64_t& s) {
  std::uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
std::size_t below(std::uint64_t& s, std::size_t n) { return static_cast<std::size_t>(next(s) % n); }
double unit(std::uint64_t& s) { return static_cast<double>(next(s) >> 11) / 9007199254740992.0; }

constexpr const char* kFieldWords[] = {
    "astrocytes", "microglia", "myelin", "demyelination", "remyelination", "relapse", "lesion",
    "inflammation", "neurodegeneration", "fatigue", "cognition", "walking", "vision", "optic",
    "neuritis", "therapy", "treatment", "antibody", "ocrelizumab", "interferon", "vitamin",
    "gut", "bacteria", "microbiome", "mri", "spinal", "cord", "brain", "nerve", "immune",
    "cells", "patients", "disability", "progression", "biomarker", "neurofilament", "trial",
    "placebo", "cohort", "risk", "pregnancy", "children", "depression", "sleep", "bladder",
    "pain", "spasticity", "exercise", "diet", "smoking", "virus", "infection", "vaccine"};
constexpr const char* kSyllables[] = {"ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "pe", "da",
                                      "ri", "mo", "te", "la", "xi", "po", "su", "be", "go", "ny"};

}  // namespace

CorpusGenerator::CorpusGenerator(const CorpusSpec& spec) : spec_(spec) {
  std::uint64_t s = spec.seed;
  for (const char* w : kFieldWords) vocabulary_.emplace_back(w);
  constexpr std::size_t kSynthetic = 30000;  // the long tail
  while (vocabulary_.size() < kSynthetic) {
    std::string w;
    const std::size_t syllables = 2 + below(s, 3);
    for (std::size_t i = 0; i < syllables; ++i) w += kSyllables[below(s, std::size(kSyllables))];
    vocabulary_.push_back(std::move(w));
  }
  // Interleave the field's words among the most frequent ranks.
  for (std::size_t i = 0; i < std::size(kFieldWords); ++i)
    std::swap(vocabulary_[i], vocabulary_[i * 7 + 20]);
  double total = 0;
  for (std::size_t r = 0; r < vocabulary_.size(); ++r) {
    total += 1.0 / std::pow(static_cast<double>(r) + 1.0, 1.07);
    cumulative_.push_back(total);
  }
  for (double& c : cumulative_) c /= total;
  for (int t = 0; t < 40; ++t) topics_.push_back(fmt::format("Topic {} {}", vocabulary_[100 + t * 3], t));
}

const std::string& CorpusGenerator::zipf_word(std::uint64_t& state) const {
  const double u = unit(state);
  auto it = std::lower_bound(cumulative_.begin(), cumulative_.end(), u);
  return vocabulary_[std::min<std::size_t>(static_cast<std::size_t>(it - cumulative_.begin()),
                                           vocabulary_.size() - 1)];
}

std::string CorpusGenerator::id(std::size_t i) { return fmt::format("gen-{}", i); }

Article CorpusGenerator::article(std::size_t i) const {
  std::uint64_t s = spec_.seed * 1000003ULL + i;
  auto sentence = [&](std::size_t words) {
    std::string out;
    for (std::size_t w = 0; w < words; ++w) {
      if (w > 0) out += ' ';
      out += zipf_word(s);
    }
    out[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(out[0])));
    return out + ".";
  };
  Article a;
  a.id = id(i);
  a.title = sentence(4 + below(s, 6));
  a.title.pop_back();
  a.date = fmt::format("{:04d}-{:02d}-{:02d}", 2016 + below(s, 10), 1 + below(s, 12), 1 + below(s, 28));
  const std::size_t topic_count = 1 + below(s, 4);
  while (a.topics.size() < topic_count) {
    const auto& t = topics_[below(s, topics_.size())];
    if (std::find(a.topics.begin(), a.topics.end(), t) == a.topics.end()) a.topics.push_back(t);
  }
  a.journal = fmt::format("Journal {}", below(s, 25));
  a.credibility = static_cast<int>(1 + below(s, 5));
  a.interest = static_cast<int>(1 + below(s, 5));
  a.takeaway = sentence(15 + below(s, 10));
  a.url = "/articles/" + a.id;
  const std::size_t words = 250 + below(s, 251);
  std::string body;
  std::size_t written = 0;
  const char* headings[] = {"What They Found", "Who Should Care and Why", "Important Considerations"};
  for (int sec = 0; sec < 3; ++sec) {
    body += fmt::format("## {}\n\n", headings[sec]);
    const std::size_t section_words = sec == 2 ? words - written : words / 3;
    std::size_t done = 0;
    while (done < section_words) {
      const std::size_t n = std::min<std::size_t>(8 + below(s, 12), section_words - done);
      body += sentence(std::max<std::size_t>(n, 1)) + " ";
      done += n;
    }
    written += done;
    body += "\n\n";
  }
  set_body(a, std::move(body));
  return a;
}

std::vector<Article> CorpusGenerator::all() const {
  std::vector<Article> out;
  out.reserve(spec_.articles);
  for (std::size_t i = 0; i < spec_.articles; ++i) out.push_back(article(i));
  return out;
}

std::vector<CorpusGenerator::Query> CorpusGenerator::query_mix(std::size_t count) const {
  std::uint64_t s = spec_.seed ^ 0xabcdefULL;
  // Queries use words of middling frequency (ranks 20..3000), as people search for topics,
  // not for "the".
  auto word = [&] { return vocabulary_[20 + below(s, 2980)]; };
  std::vector<Query> out;
  for (std::size_t i = 0; i < count; ++i) {
    switch (i % 6) {
      case 0: out.push_back({word(), "", false}); break;
      case 1: out.push_back({word() + " " + word(), "", false}); break;
      case 2: out.push_back({word() + " " + word() + " " + word(), "", false}); break;
      case 3: out.push_back({"\"" + vocabulary_[20 + below(s, 60)] + " " + vocabulary_[20 + below(s, 60)] + "\"", "", false}); break;
      case 4: out.push_back({word(), topics_[below(s, topics_.size())], false}); break;
      default: {
        std::string w = word();
        out.push_back({w.substr(0, std::max<std::size_t>(3, w.size() / 2)), "", true});
      }
    }
  }
  return out;
}

}  // namespace mssearch::bench
