// Shard servers and a coordinator (searcher/coordinator.h, cluster/): real servers on 127.0.0.1
// over the shards of a real index, compared with one index of the same articles.
#include <cmath>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <limits>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <httplib.h>
#include <nlohmann/json.hpp>
#include <xapian.h>

#include "cluster/http_shard_transport.h"
#include "searcher/english_words.h"
#include "searcher/searcher.h"
#include "searcher/shard_protocol.h"
#include "server/request_params.h"
#include "tests/server/live_server.h"
#include "tests/test_support.h"

using namespace mssearch;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

// One index and the same articles in three shards, built once for the file.
struct Indexes {
  test::TempDir tmp;
  fs::path single = tmp / "single", sharded = tmp / "sharded";
  Indexes() {
    for (const auto& [db, extra] : {std::pair{single, ""}, std::pair{sharded, "--shards 3"}})
      REQUIRE(test::run_mssearch(fmt::format("index '{}' --db '{}' -q {}", test::corpus_dir().string(), db.string(), extra))
                  .exit_code == 0);
  }
  fs::path shard(int i) const { return sharded / fmt::format("shard-{:02}", i); }
};

const Indexes& indexes() {
  static Indexes built;
  return built;
}

test::OptionsTweak shard_server(const std::string& secret = "", bool feedback = true) {
  return [=](ServerOptions& o) {
    o.shard_server = true;
    o.shard_secret = secret;
    if (!feedback) o.searcher.ranking.feedback_docs = 0;
  };
}

std::string url(const test::LiveServer& s) { return fmt::format("http://127.0.0.1:{}", s.port); }

// A shard server on each of the three shards: what most cases here start from.
struct ShardServers {
  explicit ShardServers(bool feedback = true)
      : s0(indexes().shard(0), shard_server("", feedback)), s1(indexes().shard(1), shard_server("", feedback)),
        s2(indexes().shard(2), shard_server("", feedback)) {
    // As `mssearch serve` does before it answers: the first search that needs the word lists
    // (a shard's correction, even when it found few) would read them, past a short deadline.
    static_cast<void>(EnglishWords::system());
  }
  // Their replica lists for coordinator_options; `shard0_first`: another replica of shard 0,
  // listed (and so asked) before s0.
  std::vector<std::vector<std::string>> shards(const std::string& shard0_first = "") const {
    std::vector<std::string> shard0;
    if (!shard0_first.empty()) shard0.push_back(shard0_first);
    shard0.push_back(url(s0));
    return {shard0, {url(s1)}, {url(s2)}};
  }
  test::LiveServer s0, s1, s2;
};

// An HTTP server on 127.0.0.1 whose shard endpoint answers with `handler`: shard servers that
// misbehave on purpose (late, behind a slow proxy, of another protocol version).
class FakeShard {
 public:
  explicit FakeShard(httplib::Server::Handler handler) {
    server_.Post(kShardEndpoint, std::move(handler));
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ~FakeShard() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return fmt::format("http://127.0.0.1:{}", port_); }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

// A coordinator's replica lists with its deadlines, in seconds (connect: the same as the answer's
// unless given).
ClusterOptions cluster_options(std::vector<std::vector<std::string>> shards, double timeout, double retry,
                               double connect_timeout = 0) {
  ClusterOptions cluster;
  cluster.shards = std::move(shards);
  cluster.timeout_seconds = timeout;
  cluster.connect_timeout_seconds = connect_timeout > 0 ? connect_timeout : timeout;
  cluster.retry_seconds = retry;
  return cluster;
}

SearcherOptions coordinator_options(std::vector<std::vector<std::string>> shards, bool feedback = true,
                                    double timeout = 2.0, double retry = 30) {
  ClusterOptions cluster = cluster_options(std::move(shards), timeout, retry, 1.0);
  SearcherOptions o;
  o.synonyms_path = test::corpus_dir() / "synonyms.yaml";
  if (!feedback) o.ranking.feedback_docs = 0;
  o.shard_transport = http_shard_transports(cluster);
  return o;
}

SearcherOptions single_options(bool feedback = true) {
  SearcherOptions o;
  o.db_path = indexes().single;
  o.synonyms_path = test::corpus_dir() / "synonyms.yaml";
  if (!feedback) o.ranking.feedback_docs = 0;
  return o;
}

// The answers of one index and of a coordinator to the same query.
// The same request to one index and to a coordinator: both must answer.
std::pair<SearchResult, SearchResult> both_answers(Searcher& one, Searcher& many, const SearchRequest& r) {
  auto a = one.search(r), b = many.search(r);
  REQUIRE(a);
  REQUIRE(b);
  return {std::move(*a), std::move(*b)};
}

std::pair<SearchResult, SearchResult> both_answers(Searcher& one, Searcher& many, const std::string& q,
                                                   bool partial = false) {
  SearchRequest r;
  r.query = q;
  r.partial = partial;
  return both_answers(one, many, r);
}

// A coordinator whose shard 0 lists `replica` before its good shard server: every search
// whole (the replica's calls go to the other), and what the shard's status says of the replica.
std::string whole_beside(const ShardServers& servers, const std::string& replica) {
  auto coordinator = Searcher::open(coordinator_options(servers.shards(replica)));
  REQUIRE(coordinator);
  SearchRequest r;
  r.query = "astrocytes";
  for (int i = 0; i < 4; ++i) {
    auto answer = coordinator->search(r);
    REQUIRE(answer);
    CHECK(answer->failed_shards.empty());
  }
  const auto status = coordinator->shard_status();
  REQUIRE(!status.empty());
  return status[0].error;
}

std::vector<std::string> ids(const std::vector<SearchHit>& hits) {
  std::vector<std::string> out;
  for (const auto& h : hits) out.push_back(h.id);
  return out;
}

// The same search of one index and of a coordinator, as-you-type or submitted; both must answer.
json facets(const SearchResult& r) {
  json out = json::array();
  for (const auto* list : {&r.topic_facets, &r.year_facets, &r.journal_facets}) {
    json one = json::array();
    for (const auto& f : *list) one.push_back({f.value, f.count});
    out.push_back(one);
  }
  return out;
}

const std::vector<std::string> kQueries = {
    "astrocytes", "multiple sclerosis", "\"optic neuritis\"", "remyelin*", "brain fog", "MS fatigue",
    "title:microglia", "vitamin d -mice", "relapse OR flare", "ocrelizumab", "nerve coating", "IL-10",
    "can i get pregnant on ocrevus", "pregnancy", "lesions on mri", "exercise walking",
    // A typo among words that find enough: offered over shards too, though shards whose
    // spelling data has no "ocrevus" cannot propose it (they abstain; they used to veto).
    "ocrevous side effects",
    // The same when each shard found fewer than 3 but together they found enough (every shard
    // abstained: nothing was offered), and for a question, a stray bracket or an exclusion.
    "ocrevous walking stick", "what is astrocites", "-sleep astrocites )", "microglia )",
    // Shards that propose different words: the fewest edits from what was typed, as one index
    // (two shards' "demyelination" was searched for `remylination`, one index's "remyelination").
    "remylination",
    // A word no article has beside one every article has: named as one index names it.
    "is ms contagious",
    // A typo in a field (Xapian's parser corrects only words in no field).
    "title:astrocites", "topic:astrocites",
    // A value of two words typed without quotes, misspelt: offered quoted (the offer lost its
    // quotes, and over shards was not made).
    "topic:multiple scelrosis", "topic:multipel sclerosis",
    // Matches without weights (every score 0): feedback's shares were 0 / 0, and the shards'
    // NaN terms were refused (400 on a coordinator).
    "date:2025-01-01..", "-fatigue",
    // Nothing found, nor a correction: the last word's completions, as the page showed them
    // while it was typed (Enter showed none).
    "astro"};

// Nothing in it weighs (filters and exclusions alone; `topic:astrocites` is answered with its
// correction, a filter alone): newest first.
bool weightless(const std::string& q) {
  return q == "date:2025-01-01.." || q == "-fatigue" || q.starts_with("topic:astrocites") || q.starts_with("topic:multip");
}

}  // namespace

TEST_CASE("cluster: two misspelt words, each known to one shard only, are corrected as one index corrects them",
          "[cluster]") {
  // Words of 7 to 12 letters that one article alone holds (so one shard alone), two at a time,
  // each with its third letter dropped. Each shard corrected only its own word, and the proposal
  // nearest to what was typed was one that corrected fewer words: 31 of 60 such queries were
  // offered otherwise than one index offers them (`anmials tolrate`: "animals tolrate").
  std::map<std::string, std::set<std::string>> articles_of;
  for (const auto& entry : std::filesystem::directory_iterator(test::corpus_dir())) {
    if (entry.path().extension() != ".md" || entry.path().filename() == "README.md") continue;
    std::ifstream in(entry.path());
    std::string word;
    for (char c; in.get(c);) {
      if (c >= 'a' && c <= 'z') {
        word += c;
        continue;
      }
      if (word.size() >= 7 && word.size() <= 12) articles_of[word].insert(entry.path().filename().string());
      word.clear();
    }
  }
  std::vector<std::string> rare;
  for (const auto& [word, articles] : articles_of)
    if (articles.size() == 1) rare.push_back(word);
  REQUIRE(rare.size() >= 120);
  ShardServers servers;
  auto coordinator = Searcher::open(coordinator_options(servers.shards()));
  REQUIRE(coordinator);
  auto single = Searcher::open(single_options());
  REQUIRE(single);
  std::size_t offered = 0, same = 0;
  // Between the words, signs and brackets, which the merge keeps where they stand (it gave up on
  // them: `anmials -tolrate` was offered "animals -tolrate", one index "animals -tolerate").
  const std::vector<std::pair<std::string, std::string>> around = {
      {"", " "}, {"", " -"}, {"(", " "}, {"+", ", "}, {"", " OR "}, {"\"", "\" "}};
  for (std::size_t i = 0; i < 60; ++i) {
    const std::string a = rare[i * rare.size() / 120], b = rare[(60 + i) * rare.size() / 120];
    const auto& [before, between] = around[i % around.size()];
    SearchRequest r;
    r.query = before + a.substr(0, 2) + a.substr(3) + between + b.substr(0, 2) + b.substr(3) + (before == "(" ? ")" : "");
    CAPTURE(r.query);
    const auto one = single->search(r);
    const auto many = coordinator->search(r);
    REQUIRE(one);
    REQUIRE(many);
    if (one->did_you_mean) ++offered;
    if (many->did_you_mean == one->did_you_mean) ++same;
    else UNSCOPED_INFO(r.query << ": " << one->did_you_mean.value_or("(none)") << " / " << many->did_you_mean.value_or("(none)"));
  }
  CHECK(offered >= 40);
  CHECK(same >= 55);  // the rest tie on edits, which one index breaks by frequencies no shard sends
  WARN(same << " of 60 offered as one index");
  // A filter's value misspelt beside an OR or in an exclusion, whose other words found enough
  // (nothing was offered): as one index offers it, though a shard may have no such topic
  // (it abstains, as for a word). A typo whose correction finds as many as the words typed, and
  // none into a word typed.
  for (const std::string q : {"topic:\"symptom managment\" OR fatigue", "fatigue -topic:\"symptom managment\"",
                              "fatigue -topic:symptom-managment", "fatigue -topic:zzzzqqq", "brian fog", "brain brian"}) {
    CAPTURE(q);
    const auto [one, many] = both_answers(*single, *coordinator, q);
    CHECK(many.did_you_mean == one.did_you_mean);
    CHECK(many.total == one.total);
    CHECK(one.did_you_mean.has_value() == (q != "fatigue -topic:zzzzqqq" && q != "brain brian"));
  }
}

TEST_CASE("cluster: a coordinator over 3 shard servers answers as one index", "[cluster]") {
  for (const bool feedback : {false, true}) {
    CAPTURE(feedback);
    ShardServers servers(feedback);
    auto coordinator = Searcher::open(coordinator_options(servers.shards(), feedback));
    REQUIRE(coordinator);
    auto single = Searcher::open(single_options(feedback));
    REQUIRE(single);
    CHECK(coordinator->document_count() == 50);
    std::size_t same_order = 0, same_related = 0;
    for (const auto& q : kQueries) {
      CAPTURE(q);
      SearchRequest r;
      r.query = q;
      auto a = single->search(r);
      auto b = coordinator->search(r);
      REQUIRE(a);
      REQUIRE(b);
      // Totals and facet counts are exact; every shard answered.
      CHECK(b->total == a->total);
      CHECK(b->total_is_exact);
      CHECK(facets(*b) == facets(*a));
      CHECK(b->failed_shards.empty());
      CHECK(b->did_you_mean == a->did_you_mean);
      CHECK(b->missing_words == a->missing_words);
      if (q == "is ms contagious") CHECK(b->missing_words == std::vector<std::string>{"contagious"});
      CHECK(b->showing_completions == (q == "astro"));
      CHECK(a->showing_completions == (q == "astro"));
      CHECK_FALSE(b->last_word_prefix);
      if (q == "ocrevous side effects") CHECK(b->did_you_mean == std::optional<std::string>("ocrevus side effects"));
      if (q.starts_with("topic:multip")) CHECK(b->did_you_mean == std::optional<std::string>("topic:\"multiple sclerosis\""));
      if (weightless(q)) {
        // No relevance order: newest first, as one index lists them (equal dates in docid
        // order, which is the shards' order here); the scores are finite.
        CHECK(b->hits.size() == a->hits.size());
        CHECK(a->order == SortOrder::kDate);
        CHECK(b->order == SortOrder::kDate);
        for (std::size_t i = 1; i < b->hits.size(); ++i) CHECK(b->hits[i - 1].date >= b->hits[i].date);
        for (const auto& h : b->hits) CHECK(std::isfinite(h.score));
        for (const auto& h : b->related) CHECK(std::isfinite(h.score));
        continue;
      }
      // The best hit is one index's best, with a snippet that marks what was searched; its
      // score one index's within 10 %.
      if (!a->hits.empty()) {
        REQUIRE(!b->hits.empty());
        CHECK(b->hits.front().id == a->hits.front().id);
        CHECK_THAT(b->hits.front().snippet.html(), Catch::Contains("<mark>"));
        CHECK(b->hits.front().score == Approx(a->hits.front().score).epsilon(0.1));
      }
      const auto ia = ids(a->hits), ib = ids(b->hits);
      if (a->total <= 10) CHECK(std::is_permutation(ia.begin(), ia.end(), ib.begin(), ib.end()));
      if (ia == ib) ++same_order;
      else UNSCOPED_INFO("differs: " << q);
      // Related articles: one index's, when the page is (the candidates' scores by feedback's
      // terms, merged; the page's hits left out of the whole list, not each shard's), in an
      // order that may differ where scores come close.
      auto ra = ids(a->related), rb = ids(b->related);
      if (ia == ib && feedback && std::is_permutation(ra.begin(), ra.end(), rb.begin(), rb.end())) ++same_related;
      else if (ia == ib && feedback) UNSCOPED_INFO("related differ: " << q << fmt::format(": {} | {}", fmt::join(ra, ","), fmt::join(rb, ",")));
      // Two round trips per shard at most: the statistics of this query are cached now.
      auto again = coordinator->search(r);
      REQUIRE(again);
      // (A query that found fewer than 3 is searched again as its correction, and one that found
      // nothing then as typed so far: up to three searches.)
      const bool found_few = again->total < 3 || again->showing_corrected || again->showing_completions;
      CHECK(again->shard_round_trips <= (found_few ? 3 : 1) * 2 * 3);
      CHECK(ids(again->hits) == ids(b->hits));
    }
    // With 17 articles a shard, rare words often look alike to a shard (the same counts here,
    // other counts elsewhere) and share a mean frequency; feedback's terms come from frequencies
    // the shards report for their best hits. Shards weighing with their own statistics
    // instead fail this (and the scores above).
    const auto weightless_queries = static_cast<std::size_t>(std::count_if(kQueries.begin(), kQueries.end(), weightless));
    CHECK(same_order >= kQueries.size() - weightless_queries - (feedback ? 5 : 2));
    // Without feedback each shard finds its own (like its own best hits): not compared. With
    // it, the 5 that differ here are mostly answers of 1-2 hits (`remylination` and
    // `title:astrocites` show 2) whose related articles are like the Bo1 terms of those hits,
    // chosen with term frequencies of the shards that hold them.
    if (feedback) CHECK(same_related >= same_order - 5);
    // A word one shard has, though that shard found nothing under the filter: not named
    // missing (the coordinator said "No article has “enterovirus”": helper-99).
    for (const char* filtered : {"ms enterovirus id:sleep-fatigue", "ms enterovirus id:remyelination-clemastine"}) {
      CAPTURE(filtered);
      SearchRequest r;
      r.query = filtered;
      const auto [a, b] = both_answers(*single, *coordinator, r);
      CHECK(a.total == 1);
      CHECK(a.missing_words.empty());
      CHECK(b.missing_words == a.missing_words);
    }
    // Facets filtered by are counted without their own filter on each shard, and summed.
    for (const std::string q : {"", "ms", "fatigue", "brain fog"}) {
      CAPTURE(q);
      SearchRequest r;
      r.query = q;
      r.topics = {"Fatigue", "Sleep"};
      r.years = {2025, 2024};
      r.journals = {"Lancet Neurology", "Neurology"};
      const auto [a, b] = both_answers(*single, *coordinator, r);
      CHECK(b.total == a.total);
      CHECK(facets(b) == facets(a));
      SearchRequest unfiltered = r;
      unfiltered.years.clear();
      auto c = coordinator->search(unfiltered);
      REQUIRE(c);
      CHECK(b.year_facets == c->year_facets);
    }
    // Articles, related articles, suggestions and topics come from the shards too.
    auto article = coordinator->article("astrocytes-two-faces");
    REQUIRE(article);
    CHECK(article->title == single->article("astrocytes-two-faces")->title);
    CHECK(coordinator->article("no-such-article").error().code == ErrorCode::kNotFound);
    auto related = coordinator->related("astrocytes-two-faces", 5);
    REQUIRE(related);
    CHECK(!related->empty());
    CHECK(std::none_of(related->begin(), related->end(), [](const SearchHit& h) { return h.id == "astrocytes-two-faces"; }));
    // An article's related articles are drawn from every shard, as one index draws them from
    // all its articles (they were the article's own shard's only, 17 of the 50 here: 0 of the
    // 50 lists were one index's five, 82 of 250 articles shared). The article's shard chooses
    // its terms and each shard weighs them with its own statistics, which at 17 articles a
    // shard differ much from the collection's: measured 5 of 50 lists the same, 168 of 250
    // articles shared.
    {
      SearchRequest all;
      all.limit = 100;
      auto every = single->search(all);
      REQUIRE(every);
      REQUIRE(every->hits.size() == 50);
      std::size_t same = 0, shared = 0;
      for (const auto& one : every->hits) {
        CAPTURE(one.id);
        auto a = single->related(one.id, 5);
        auto b = coordinator->related(one.id, 5);
        REQUIRE(a);
        REQUIRE(b);
        CHECK(b->size() == a->size());
        const auto ia = ids(*a), ib = ids(*b);
        if (std::is_permutation(ia.begin(), ia.end(), ib.begin(), ib.end())) ++same;
        for (const auto& id : ib) shared += std::count(ia.begin(), ia.end(), id);
        CHECK(std::find(ib.begin(), ib.end(), one.id) == ib.end());
      }
      WARN("related articles of an article, coordinator against one index: " << same << " of 50 the same five, "
                                                                              << shared << " of 250 shared");
      CHECK(same >= 3);
      CHECK(shared >= 150);
    }
    auto suggestions = coordinator->suggest("astro", 8);
    REQUIRE(suggestions);
    CHECK(!suggestions->empty());
    // As many titles as one index offers, then its topics and terms, not every shard's titles.
    for (const char* prefix : {"the f", "ms m", "b"}) {
      CAPTURE(prefix);
      auto kinds = [](const std::vector<Suggestion>& list) {
        std::map<std::string, std::size_t> n;
        for (const auto& s : list) ++n[s.kind];
        return n;
      };
      auto one = single->suggest(prefix, 8), all = coordinator->suggest(prefix, 8);
      REQUIRE(one);
      REQUIRE(all);
      CHECK(kinds(*all) == kinds(*one));
    }
    // One word's completions: no term beside the topic of the same name (`fat` offered the
    // term "fatigue" beside the topic Fatigue), and each count the collection's (a term past
    // one shard's first few was counted by the others alone: `faster` 8, one index 9).
    for (const char* prefix : {"fa", "fat", "ast", "pregn", "co", "ms -pr", "fatigue -sl", "topic:", "fatigue topic:s", "year:2025 fat", "journal:", "journal:neuro", "topic:symptom ma", "NOT topic:fatigue sle", "m", "r", "re", "a", "c"}) {
      CAPTURE(prefix);
      auto one = single->suggest(prefix, 8), all = coordinator->suggest(prefix, 8);
      REQUIRE(one);
      REQUIRE(all);
      std::map<std::string, std::size_t> counts;
      for (const auto& x : *one)
        if (x.kind != "title") counts[x.kind + " " + x.text] = x.count;
      for (const auto& x : *all) {
        if (x.kind == "title") continue;
        CAPTURE(x.text);
        CHECK(counts.contains(x.kind + " " + x.text));
        if (counts.contains(x.kind + " " + x.text)) CHECK(counts[x.kind + " " + x.text] == x.count);
      }
      // An exclusion's completions: no count shown, in one index's order (by the counts not
      // shown; with none sent, the coordinator's order was the shards' turns).
      if (completes_exclusion(prefix)) {
        std::vector<std::string> a, b;
        for (const auto& x : *one) a.push_back(x.text);
        for (const auto& x : *all) b.push_back(x.text);
        CHECK(b == a);
      }
    }
    // As you type: a last word some shard has is a word, as one index reads it (a shard to
    // which it was unknown read it as a prefix: `brain fog`, 9 against one index's 2); a prefix
    // no shard has whole is one everywhere. The same total, the same reading, no related.
    // A date being typed is no word of any shard: it matches nothing until whole, as on one index
    // (asked whole, it was refused at each keystroke).
    for (const char* typing : {"brain fog", "brain fo", "astro", "astrocytes", "nerve coating", "ocrel", "tired after a hot sh", "remyelination",
                               "date:2025-0", "brain fog -year:2", "year:202", "date:2025-01-01..2025-0",
                               "astrocyt", "ocrevus pregnan", "bladde", "depressi"}) {
      CAPTURE(typing);
      const auto [one, over_shards] = both_answers(*single, *coordinator, typing, true);
      const auto* a = &one;
      const auto* b = &over_shards;
      CHECK(b->total == a->total);
      CHECK(b->last_word_prefix == a->last_word_prefix);
      CHECK(facets(*b) == facets(*a));
      // A shard of few hits offered a correction of the word being typed though the shards
      // together found enough (`astrocyt`: "astrocytes"). (Where all find few, each shard's
      // spelling data proposes its own: `pins and needl`, the known gap in the README.)
      CHECK(b->did_you_mean == a->did_you_mean);
      // A prefix's completions: their scores are compared in "a wildcard and a word being
      // typed weigh as one index weighs them"; the best hit of a whole word here.
      if (!a->hits.empty() && !a->last_word_prefix) CHECK(b->hits.front().id == a->hits.front().id);
      CHECK(b->related.size() == a->related.size());
      if (a->last_word_prefix) CHECK(b->related.empty());
    }
    // Asking for related articles changes no hit nor score (their terms' statistics, sent to the
    // shards with the page's, shared the query's rare terms' mean: `ocrevus pre` came in
    // another order with related=0).
    for (const char* q : {"ocrevus pre", "brain fatigue", "pins and needles", "heat"}) {
      CAPTURE(q);
      SearchRequest r;
      r.query = q;
      r.related = true;
      auto with = coordinator->search(r);
      r.related = false;
      auto without = coordinator->search(r);
      REQUIRE(with);
      REQUIRE(without);
      REQUIRE(with->hits.size() == without->hits.size());
      for (std::size_t k = 0; k < with->hits.size(); ++k) {
        CHECK(with->hits[k].id == without->hits[k].id);
        CHECK(with->hits[k].score == Approx(without->hits[k].score));
      }
    }
    // Related articles keep the query's exclusions and filters, on each shard as on one index.
    for (const SortOrder sort : {SortOrder::kDate, SortOrder::kRelevance}) {
      SearchRequest r;
      r.sort = sort;
      r.limit = 50;
      r.query = "pregnancy";
      auto excluded = coordinator->search(r);
      REQUIRE(excluded);
      std::set<std::string> pregnancy;
      for (const auto& h : excluded->hits) pregnancy.insert(h.id);
      r.limit = 10;
      r.query = "ms -pregnancy";
      auto b = coordinator->search(r);
      REQUIRE(b);
      CHECK_FALSE(b->related.empty());
      for (const auto& h : b->related) CHECK_FALSE(pregnancy.contains(h.id));
      r.query = "brain -year:2025";
      b = coordinator->search(r);
      REQUIRE(b);
      for (const auto& h : b->related) CHECK_FALSE(h.date.starts_with("2025"));
    }
    std::vector<std::pair<std::string, std::uint32_t>> topics_a, topics_b;
    for (const auto& t : single->topics()) topics_a.emplace_back(t.value, t.count);
    for (const auto& t : coordinator->topics()) topics_b.emplace_back(t.value, t.count);
    CHECK(topics_a == topics_b);
  }
}

TEST_CASE("cluster: a wildcard and a word being typed weigh as one index weighs them", "[cluster]") {
  // Xapian weighs a wildcard's expansion as one synonym, with a frequency it estimates from its
  // terms'. Each shard used to estimate it from its own terms, scaled: as-you-type answers
  // over shards were one index's in 0 of 36 bench queries. The shards now report the expansion
  // and each estimates the synonym's frequency from the collection's, as one index does.
  ShardServers servers(false);
  auto coordinator = Searcher::open(coordinator_options(servers.shards(), false));
  REQUIRE(coordinator);
  auto single = Searcher::open(single_options(false));
  REQUIRE(single);
  std::size_t compared = 0;
  for (const auto& [q, partial] : {std::pair{"remyelin*", false}, std::pair{"astro*", false}, std::pair{"astro", true},
                                   std::pair{"ms fat", true}, std::pair{"my", true}, std::pair{"vitamin d de", true},
                                   std::pair{"b* fog", false}}) {
    CAPTURE(q, partial);
    const auto [one_index, over_shards] = both_answers(*single, *coordinator, q, partial);
    const auto* a = &one_index;
    const auto* b = &over_shards;
    CHECK(b->total == a->total);
    REQUIRE(!a->hits.empty());
    // The same articles with the same scores (ties aside, whose order is each index's own).
    std::map<std::string, double> one;
    for (const auto& h : a->hits) one[h.id] = h.score;
    CHECK(b->hits.size() == a->hits.size());
    for (const auto& h : b->hits) {
      CAPTURE(h.id);
      const auto it = one.find(h.id);
      if (it == one.end()) {  // only where it ties with the last of one index's page
        CHECK(h.score == Approx(a->hits.back().score).epsilon(1e-9));
        continue;
      }
      CHECK(h.score == Approx(it->second).epsilon(1e-9));
      ++compared;
    }
  }
  CHECK(compared >= 40);
}

TEST_CASE("cluster: a replica that dies is retried within the query, and a dead shard gives the marked partial answer",
          "[cluster]") {
  auto s0 = std::make_unique<test::LiveServer>(indexes().shard(0), shard_server());
  ShardServers servers;  // servers.s0: shard 0's other replica
  const std::string dead = url(*s0);
  auto coordinator = Searcher::open(coordinator_options(servers.shards(dead)));
  REQUIRE(coordinator);
  SearchRequest r;
  r.query = "astrocytes";
  auto before = coordinator->search(r);
  REQUIRE(before);
  REQUIRE(before->failed_shards.empty());
  s0.reset();  // one replica of shard 0 gone (its connections with it)
  for (int i = 0; i < 6; ++i) {
    auto after = coordinator->search(r);
    REQUIRE(after);
    CHECK(after->failed_shards.empty());
    CHECK(after->total == before->total);
    CHECK(ids(after->hits) == ids(before->hits));
  }
  // The dead replica is marked down (named in the status with its error), the shard still up.
  const auto status = coordinator->shard_status();
  REQUIRE(status.size() == 3);
  CHECK(status[0].up);
  CHECK_THAT(status[0].error, Catch::Contains(dead));

  // A shard whose only replica is gone: answered from the others, and said so.
  auto partial = Searcher::open(coordinator_options({{url(servers.s0)}, {url(servers.s1)}, {dead}}));
  REQUIRE(partial);
  auto answer = partial->search(r);
  REQUIRE(answer);
  REQUIRE(answer->failed_shards.size() == 1);
  CHECK_THAT(answer->failed_shards.front(), Catch::Contains(dead));
  CHECK(answer->total < before->total);
  CHECK(answer->total > 0);
  // Completions too: the shard's titles and its share of the counts are missing, and named.
  std::vector<std::string> suggest_failed;
  auto completions = partial->suggest("astro", 8, &suggest_failed);
  REQUIRE(completions);
  CHECK(!completions->empty());
  REQUIRE(suggest_failed.size() == 1);
  CHECK_THAT(suggest_failed.front(), Catch::Contains(dead));
  auto no_shard = Searcher::open(coordinator_options({{dead}}));
  CHECK(!no_shard);

  // The same through a coordinating server: the JSON says partial, /readyz and /metrics say why.
  test::LiveServer server(indexes().single, [&](ServerOptions& o) {
    o.cluster.shards = {{url(servers.s0)}, {url(servers.s1)}, {dead}};
    o.cluster.retry_seconds = 30;
  });
  auto page = server.get_json("/api/search?q=astrocytes");
  CHECK(page["partial"] == true);
  CHECK(page["failed_shards"] == json::array({dead}));
  CHECK(page["total"] == answer->total);
  auto ready = server.get_json("/readyz");
  CHECK(ready["partial"] == true);
  CHECK(server.metric("mssearch_search_answers_total{what=\"partial\"}") >= 1);
  CHECK(server.metric("mssearch_shard_round_trips_total") >= 2);
  CHECK(server.metric("mssearch_shard_up{shard=\"" + dead + "\"}") == 0);
  auto suggestions = server.get_json("/api/suggest?q=astro");
  CHECK(suggestions["partial"] == true);
  CHECK(suggestions["failed_shards"] == json::array({dead}));
  CHECK(!suggestions["suggestions"].empty());
  CHECK(server.server->shards_down() == 1);
  auto topics = server.get_json("/api/topics");
  CHECK(topics["partial"] == true);
  CHECK(topics["failed_shards"] == json::array({dead}));
  // The page a visitor sees says so too (the total there is short of the collection's).
  auto html = server.get("/?q=astrocytes");
  REQUIRE(html);
  CHECK_THAT(html->body, Catch::Contains("Some articles are missing from these results"));
  CHECK_THAT(server.get("/?q=astrocytes&partial=1")->body, Catch::Contains("Some articles are missing"));
  // What `mssearch serve` warns of as it starts, beside /readyz: the shard and why.
  const auto problems = server.server->shard_problems();
  REQUIRE(problems.size() == 1);
  CHECK_THAT(problems.front(), Catch::StartsWith(dead + " is down: ") && Catch::Contains("cannot connect"));
}

TEST_CASE("cluster: a coordinator's revision never goes down while a shard is down", "[cluster]") {
  auto gone = std::make_unique<test::LiveServer>(indexes().shard(2), shard_server());
  test::LiveServer s0(indexes().shard(0), shard_server()), s1(indexes().shard(1), shard_server());
  // One server's searchers share one options' transports.
  const SearcherOptions same = coordinator_options({{url(s0)}, {url(s1)}, {url(*gone)}}, true, 0.5, 30);
  auto coordinator = Searcher::open(same);
  REQUIRE(coordinator);
  const auto before = coordinator->revision();
  REQUIRE(before > 0);
  gone.reset();
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // the info refresh is due
  REQUIRE(coordinator->refresh());
  CHECK(!coordinator->shard_status()[2].up);
  CHECK(coordinator->revision() == before);  // it was the other two's sum: lower
  // Nor in a searcher the server opens while the shard is down (one per thread: /readyz asked
  // one of them, and said 2 where the others said 3; helper-87).
  auto later = Searcher::open(same);
  REQUIRE(later);
  CHECK(later->revision() == before);
}

TEST_CASE("cluster: every shard down is 503 with Retry-After, naming the shard, never a server error", "[cluster]") {
  auto only = std::make_unique<test::LiveServer>(indexes().shard(0), shard_server());
  const std::string gone = url(*only);
  test::LiveServer server(indexes().single, [&](ServerOptions& o) {
    o.cluster.shards = {{gone}};
    o.cluster.retry_seconds = 30;
  });
  CHECK(server.get_json("/api/search?q=astrocytes")["total"] > 0);
  only.reset();
  // Found down by this search, then already marked down: the same answer both times.
  for (int i = 0; i < 2; ++i) {
    INFO("search " << i);
    auto res = server.get("/api/search?q=astrocytes");
    REQUIRE(res);
    CHECK(res->status == 503);
    CHECK(res->get_header_value("Retry-After") == "30");  // when the coordinator tries the shard again
    const auto body = json::parse(res->body);
    CHECK(body["error"]["code"] == "shards_unavailable");
    // A visitor is told search is unavailable, not the shard's internal address; /readyz names it.
    CHECK_THAT(body["error"]["message"].get<std::string>(), Catch::Contains("not available right now"));
    CHECK_THAT(res->body, !Catch::Contains(gone));
    CHECK_THAT(res->body, !Catch::Contains("000000"));  // seconds written as "30", not "30.000000"
  }
  // The page says so too, with the same header.
  auto page = server.get("/?q=astrocytes");
  REQUIRE(page);
  CHECK(page->status == 503);
  CHECK(page->get_header_value("Retry-After") == "30");
  CHECK_THAT(page->body, !Catch::Contains(gone));
  auto ready = server.get("/readyz");
  REQUIRE(ready);
  CHECK(ready->status == 503);
  CHECK_THAT(ready->body, Catch::Contains(gone));
  CHECK_THAT(ready->body, Catch::Contains("cannot connect"));  // why, in words (cpp-httplib says "Connection")
}

TEST_CASE("cluster: the internal endpoint refuses what the public API refuses, and only when configured", "[cluster]") {
  test::LiveServer shard(indexes().shard(0), shard_server("s3cret"));
  auto post = [&](const std::string& body, const std::string& secret = "s3cret") {
    auto c = shard.client();
    httplib::Headers headers;
    if (!secret.empty()) headers.emplace("Authorization", "Bearer " + secret);
    return c.Post(kShardEndpoint, headers, body, "application/x-msgpack");
  };
  auto error_of = [](const httplib::Result& r) {
    REQUIRE(r);
    auto decoded = decode_shard_answer(r->body);
    REQUIRE(!decoded);
    return decoded.error().message;
  };
  auto search = [](std::string q) {
    ShardRequest r;
    r.params = {{"q", std::move(q)}};
    return encode(r);
  };
  // A good request answers.
  auto ok = post(search("astrocytes"));
  REQUIRE(ok);
  CHECK(ok->status == 200);
  CHECK(decode_shard_answer(ok->body));
  // Without the secret, or with another: 401.
  CHECK(post(search("astrocytes"), "")->status == 401);
  CHECK(post(search("astrocytes"), "wrong")->status == 401);
  // Not MessagePack, another protocol version, a field of the wrong type: 400 naming it.
  auto garbage = post("this is not msgpack");
  CHECK(garbage->status == 400);
  CHECK_THAT(error_of(garbage), Catch::Contains("not a MessagePack map"));
  std::string other_version;
  json::to_msgpack(json{{"v", 99}, {"op", "match"}}, other_version);
  CHECK_THAT(error_of(post(other_version)), Catch::Contains("protocol version 99"));
  CHECK(post(other_version)->status == 409);  // the server's mismatch, not the request's fault
  std::string wrong_type;
  json::to_msgpack(json{{"v", kShardProtocolVersion}, {"op", "match"}, {"window", "ten"}}, wrong_type);
  CHECK_THAT(error_of(post(wrong_type)), Catch::Contains("'window' is not a count"));
  // The public API's own refusals, word for word.
  const std::string long_query(5000, 'a');
  auto public_answer = shard.get_json("/api/search?q=" + long_query, 400);
  CHECK(error_of(post(search(long_query))) == public_answer["error"]["message"].get<std::string>());
  auto bad_utf8 = post(search("caf\xC3"));
  CHECK(bad_utf8->status == 400);
  CHECK_THAT(error_of(bad_utf8), Catch::Contains("not valid UTF-8"));
  ShardRequest deep;
  deep.params = {{"q", "astrocytes"}};
  deep.window = 1000000;
  CHECK_THAT(error_of(post(encode(deep))), Catch::Contains("window must be from 1 to"));
  ShardRequest bad_id;
  bad_id.op = ShardOp::kArticle;
  bad_id.id = "../etc/passwd";
  CHECK(post(encode(bad_id))->status == 400);
  // Articles like another shard's article: its terms and topics, bounded as feedback's terms.
  ShardRequest like;
  like.op = ShardOp::kRelated;
  like.id = "no-such-article";
  like.limit = 5;
  like.related_terms = {"Zastrocyt", "Zmyelin"};
  like.related_topics = {"Astrocytes"};
  auto liked = post(encode(like));
  REQUIRE(liked);
  CHECK(liked->status == 200);
  auto liked_answer = decode_shard_answer(liked->body);
  REQUIRE(liked_answer);
  CHECK(!liked_answer->hits.empty());
  like.related_topics.assign(101, "Astrocytes");
  CHECK_THAT(error_of(post(encode(like))), Catch::Contains("'related_topics' holds more than 100 topics"));
  like.related_topics = {""};
  CHECK_THAT(error_of(post(encode(like))), Catch::Contains("a related topic is empty"));
  // A deep page's fetch: ids as articles' ids are named, at most a page of them; an id this
  // shard does not hold is left out of its answer, not an error.
  ShardRequest fetch;
  fetch.op = ShardOp::kFetch;
  fetch.params = {{"q", "astrocytes"}};
  fetch.ids = {"../etc/passwd"};
  CHECK_THAT(error_of(post(encode(fetch))), Catch::Contains("an article id is 1 to 200"));
  fetch.ids.assign(101, "astrocytes-two-faces");
  CHECK_THAT(error_of(post(encode(fetch))), Catch::Contains("a fetch names 1 to 100 articles"));
  fetch.ids.clear();
  CHECK_THAT(error_of(post(encode(fetch))), Catch::Contains("a fetch names 1 to 100 articles"));
  fetch.ids = {"no-such-article"};
  auto none = post(encode(fetch));
  REQUIRE(none);
  CHECK(none->status == 200);
  auto empty = decode_shard_answer(none->body);
  REQUIRE(empty);
  CHECK(empty->hits.empty());
  fetch.params = {{"q", long_query}};
  fetch.ids = {"no-such-article"};
  CHECK(error_of(post(encode(fetch))) == public_answer["error"]["message"].get<std::string>());
  // Feedback weights that are no finite number >= 0: the request's fault (400), not a failure
  // of the shard (503, which a coordinator counts against the replica).
  for (const double weight : {-1.0, std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity()}) {
    ShardRequest bad_weight;
    bad_weight.op = ShardOp::kPage;
    bad_weight.params = {{"q", "astrocytes"}};
    bad_weight.candidates = 5;
    bad_weight.feedback = {{"brain", weight}};
    auto refused = post(encode(bad_weight));
    CHECK(refused->status == 400);
    CHECK_THAT(error_of(refused), Catch::Contains("weight is not a finite number"));
  }
  // Too large a body: 413 before any worker reads it, naming this endpoint's limit (the shard
  // protocol's, not the public API's max_request_bytes).
  auto too_large = post(std::string(100000, 'x'));
  CHECK(too_large->status == 413);
  CHECK_THAT(too_large->body, Catch::Contains(std::to_string(kMaxShardRequestBytes) + " bytes"));
  CHECK(post(encode(ShardRequest{}) + std::string(20000, 'x'))->status != 413);  // over max_request_bytes, within it
  // GET is not the protocol; a server that is no shard server has no such route.
  auto get = shard.get(kShardEndpoint);
  CHECK(get->status == 405);
  CHECK(get->get_header_value("Allow") == "POST");
  test::LiveServer plain(indexes().shard(0), {});
  auto c = plain.client();
  CHECK(c.Post(kShardEndpoint, search("astrocytes"), "application/x-msgpack")->status == 404);
}

TEST_CASE("cluster: a shard server's failure names none of its files to whoever reaches its port", "[cluster]") {
  // docs/security.md: "an error answer is MessagePack with a code, never a stack or a path".
  test::TempDir tmp;
  test::LiveServer shard(tmp / "no-index-here", shard_server());
  ShardRequest r;
  r.params = {{"q", "astrocytes"}};
  auto answer = shard.client().Post(kShardEndpoint, encode(r), "application/x-msgpack");
  REQUIRE(answer);
  CHECK(answer->status == 503);
  auto decoded = decode_shard_answer(answer->body);
  REQUIRE_FALSE(decoded);
  CHECK_THAT(decoded.error().message, Catch::Contains("no-index-here"));
  CHECK_THAT(decoded.error().message, !Catch::Contains(tmp.path().string()));
}

TEST_CASE("cluster: a coordinator's shard list is checked at start", "[cluster]") {
  auto check = [](std::vector<std::vector<std::string>> shards) {
    ClusterOptions o;
    o.shards = std::move(shards);
    auto r = check_cluster_options(o);
    return r ? std::string() : r.error().message;
  };
  CHECK(check({{"http://127.0.0.1:8101"}, {"http://127.0.0.1:8102", "http://[::1]:8103"}}).empty());
  CHECK_THAT(check({}), Catch::Contains("no shards"));
  CHECK_THAT(check({{}}), Catch::Contains("lists no replica"));
  CHECK_THAT(check({{"https://127.0.0.1:8101"}}), Catch::Contains("is not http://HOST:PORT"));
  CHECK_THAT(check({{"http://127.0.0.1:99999"}}), Catch::Contains("from 1 to 65535"));
  CHECK_THAT(check({{"http://127.0.0.1:8101"}, {"http://127.0.0.1:8101"}}), Catch::Contains("listed twice"));
  // Bounded: a thread per shard in each of the server's searchers.
  std::vector<std::vector<std::string>> many;
  for (int i = 1; i <= 257; ++i) many.push_back({fmt::format("http://127.0.0.1:{}", 10000 + i)});
  CHECK_THAT(check(many), Catch::Contains("257 shards: at most 256"));
  many.resize(256);
  CHECK(check(many).empty());
  std::vector<std::string> replicas;
  for (int i = 1; i <= 17; ++i) replicas.push_back(fmt::format("http://127.0.0.1:{}", 20000 + i));
  CHECK_THAT(check({replicas}), Catch::Contains("lists 17 replicas: at most 16"));
  // The same server written another way: a port with leading zeros, a host in capitals, port 80
  // named or left out.
  CHECK_THAT(check({{"http://127.0.0.1:8101"}, {"http://127.0.0.1:08101"}}), Catch::Contains("listed twice"));
  CHECK_THAT(check({{"http://Shard-1:8101"}, {"http://shard-1:8101"}}), Catch::Contains("listed twice"));
  CHECK_THAT(check({{"http://shard-1"}, {"http://shard-1:80"}}), Catch::Contains("listed twice"));
  CHECK(check({{"http://shard-1:8101"}, {"http://shard-1:8102"}}) == "");
  // A name long enough to overflow std::regex's recursion is refused before the pattern sees it.
  CHECK_THAT(check({{"http://" + std::string(100000, 'a') + ":8101"}}), Catch::Contains("longer than 300 characters"));
  // In a configuration file, the error names the line of the entry at fault (it named the
  // list's first line for a bad entry anywhere in it).
  test::TempDir tmp;
  auto config_error = [&](const std::string& shards) {
    test::write_file(tmp / "c.yaml", "port: 8100\nshards:\n" + shards);
    auto loaded = load_server_options(tmp / "c.yaml");
    return loaded ? std::string() : loaded.error().message;
  };
  CHECK_THAT(config_error("  - http://127.0.0.1:8101\n  - http://127.0.0.1:8102\n  - htp://127.0.0.1:8103\n"),
             Catch::Contains("c.yaml:5:") && Catch::Contains("'htp://127.0.0.1:8103' is not http://HOST:PORT"));
  CHECK_THAT(config_error("  - [http://127.0.0.1:8101,\n     http://127.0.0.1:8102]\n  - - http://127.0.0.1:8103\n"
                          "    - http://127.0.0.1:8102\n"),
             Catch::Contains("c.yaml:6:") && Catch::Contains("listed twice"));
  CHECK_THAT(config_error("  - http://127.0.0.1:8101\n  - []\n"), Catch::Contains("c.yaml:4:") && Catch::Contains("lists no replica"));
  // A command line's list of replicas (--shard, search_bench --shard-server): an empty piece
  // between commas is refused, not skipped.
  CHECK(parse_shard_replicas("http://127.0.0.1:8101,http://[::1]:8103") ==
        std::vector<std::string>{"http://127.0.0.1:8101", "http://[::1]:8103"});
  // Last too (helper-87: `--shard URL,` was taken for one replica, and nothing said a second
  // was meant).
  CHECK_THAT(check({parse_shard_replicas("http://127.0.0.1:8101,")}), Catch::Contains("lists an empty replica"));
  CHECK_THAT(check({parse_shard_replicas("http://127.0.0.1:8101,,http://127.0.0.1:8102")}),
             Catch::Contains("lists an empty replica"));
  CHECK_THAT(check({parse_shard_replicas(",http://127.0.0.1:8101")}), Catch::Contains("lists an empty replica"));
  CHECK_THAT(check({parse_shard_replicas("")}), Catch::Contains("lists no replica"));
}

TEST_CASE("cluster: one index listed as two shards is refused at start, however its server is named", "[cluster]") {
  ShardServers servers;
  // 127.0.0.1 and localhost: the same server, which the list's check cannot tell apart.
  const std::string again = fmt::format("http://localhost:{}", servers.s1.port);
  auto twice = Searcher::open(coordinator_options({{url(servers.s0)}, {url(servers.s1)}, {again}}));
  REQUIRE(!twice);
  CHECK_THAT(twice.error().message, Catch::Contains(url(servers.s1)) && Catch::Contains(again) &&
                                        Catch::Contains("same index") && Catch::Contains("list each shard once"));
  // A second server over a copy of shard 1's index (a replica given its own entry): the same.
  test::TempDir copy;
  fs::copy(indexes().shard(1), copy / "shard", fs::copy_options::recursive);
  test::LiveServer copied(copy / "shard", shard_server());
  auto copied_twice = Searcher::open(coordinator_options({{url(servers.s0)}, {url(servers.s1)}, {url(copied)}}));
  REQUIRE(!copied_twice);
  CHECK_THAT(copied_twice.error().message, Catch::Contains("same index"));
  // Listed as its replicas: one shard, its articles counted once.
  auto replicas = Searcher::open(coordinator_options({{url(servers.s0)}, {url(servers.s1), url(copied)}, {url(servers.s2)}}));
  REQUIRE(replicas);
  CHECK(replicas->document_count() == 50);
}

TEST_CASE("cluster: the same articles from two shards are on the page once and said", "[cluster]") {
  // Two indexes built apart from the same articles (other UUIDs), listed as two shards: each hit
  // was on the page twice, the total doubled, and nothing warned (helper-94).
  test::LiveServer whole(indexes().single, shard_server());
  test::TempDir again;
  REQUIRE(test::run_mssearch(fmt::format("index '{}' --db '{}' -q", test::corpus_dir().string(), (again / "db").string())).exit_code == 0);
  test::LiveServer twin(again / "db", shard_server());
  auto coordinator = Searcher::open(coordinator_options({{url(whole)}, {url(twin)}}));
  REQUIRE(coordinator);
  for (const std::string page : {"0", "5"}) {
    SearchRequest request;
    request.query = "fatigue";
    request.offset = std::stoul(page);
    request.limit = 5;
    auto r = coordinator->search(request);
    REQUIRE(r);
    std::set<std::string> distinct;
    for (const auto& h : r->hits) CHECK(distinct.insert(h.id).second);
    CHECK(r->hits.size() == 5);
    CHECK(r->counted_twice);
    REQUIRE_FALSE(r->warnings.empty());
    CHECK_THAT(r->warnings.back(), Catch::Contains("the same articles come from two shards") &&
                                       Catch::Contains(url(whole)) && Catch::Contains(url(twin)));
  }
  // The page says so too (helper-96: "28 articles" for 14, and no word).
  test::LiveServer page(indexes().single, [&](ServerOptions& o) { o.cluster.shards = {{url(whole)}, {url(twin)}}; });
  auto html = page.get("/?q=fatigue");
  REQUIRE(html);
  CHECK(html->status == 200);
  CHECK_THAT(html->body, Catch::Contains("Some articles are counted twice"));
  // An article's related articles too, each once (helper-96).
  auto related = coordinator->related("sleep-fatigue", 6);
  REQUIRE(related);
  CHECK(related->size() == 6);
  std::set<std::string> distinct_related;
  for (const auto& h : *related) CHECK(distinct_related.insert(h.id).second);
  // Shards of one index hold each article once: no such warning.
  ShardServers servers;
  auto fine = Searcher::open(coordinator_options(servers.shards()));
  REQUIRE(fine);
  SearchRequest request;
  request.query = "fatigue";
  auto r = fine->search(request);
  REQUIRE(r);
  for (const auto& w : r->warnings) CHECK_THAT(w, !Catch::Contains("two shards"));
}

TEST_CASE("cluster: a coordinator that sends a secret names the shard servers that check none", "[cluster]") {
  test::LiveServer guarded(indexes().shard(0), shard_server("s3cret")), open0(indexes().shard(1), shard_server()),
      open1(indexes().shard(2), shard_server());
  const auto warnings_of = [](const std::vector<std::vector<std::string>>& shards, const std::string& secret) {
    ClusterOptions cluster = cluster_options(shards, 2.0, 30, 1.0);
    cluster.secret = secret;
    SearcherOptions o;
    o.synonyms_path = test::corpus_dir() / "synonyms.yaml";
    o.shard_transport = http_shard_transports(cluster);
    o.sends_shard_secret = !secret.empty();
    auto coordinator = Searcher::open(o);
    REQUIRE(coordinator);
    return coordinator->configuration_warnings();
  };
  // The secret sent, two of three shard servers checking none: they are named, the guarded one not.
  const auto named = warnings_of({{url(guarded)}, {url(open0)}, {url(open1)}}, "s3cret");
  const auto unguarded = std::find_if(named.begin(), named.end(), [](const std::string& w) { return w.find("no shard secret") != std::string::npos; });
  REQUIRE(unguarded != named.end());
  CHECK_THAT(*unguarded, Catch::Contains(url(open0)) && Catch::Contains(url(open1)) && !Catch::Contains(url(guarded)));
  // No secret sent: nothing to say of servers that check none.
  for (const auto& w : warnings_of({{url(open0)}, {url(open1)}}, "")) CHECK_THAT(w, !Catch::Contains("no shard secret"));
  // Every one checking it: nothing either.
  test::LiveServer guarded1(indexes().shard(1), shard_server("s3cret")), guarded2(indexes().shard(2), shard_server("s3cret"));
  for (const auto& w : warnings_of({{url(guarded)}, {url(guarded1)}, {url(guarded2)}}, "s3cret"))
    CHECK_THAT(w, !Catch::Contains("no shard secret"));
}

TEST_CASE("cluster: a coordinator's snippet length is its shard servers' for its answers", "[cluster]") {
  ShardServers servers;
  SearcherOptions o = coordinator_options(servers.shards());
  o.snippet_length = 40;
  auto coordinator = Searcher::open(o);
  REQUIRE(coordinator);
  SearchRequest request;
  request.query = "fatigue";
  auto r = coordinator->search(request);
  REQUIRE(r);
  REQUIRE_FALSE(r->hits.empty());
  // The shard servers' own is 240: a snippet of theirs runs to about that.
  for (const auto& h : r->hits) CHECK(h.snippet.text.size() < 120);
  // A deep page's snippets, fetched after the merge, too.
  SearcherOptions deep = o;
  deep.fetch_from_offset = 0;
  auto fetching = Searcher::open(deep);
  REQUIRE(fetching);
  auto f = fetching->search(request);
  REQUIRE(f);
  REQUIRE_FALSE(f->hits.empty());
  for (const auto& h : f->hits) CHECK(h.snippet.text.size() < 120);
}

TEST_CASE("cluster: a search's related articles when feedback finds no terms among many hits are one index's",
          "[cluster]") {
  // No term is held by 16 of the 15 best hits: feedback finds none, for answers of any size.
  auto tweak = [](ServerOptions& o) {
    o.shard_server = true;
    o.searcher.ranking.feedback_min_docs = 16;
  };
  test::LiveServer s0(indexes().shard(0), tweak), s1(indexes().shard(1), tweak), s2(indexes().shard(2), tweak);
  auto co = coordinator_options({{url(s0)}, {url(s1)}, {url(s2)}});
  co.ranking.feedback_min_docs = 16;
  auto coordinator = Searcher::open(co);
  REQUIRE(coordinator);
  auto so = single_options();
  so.ranking.feedback_min_docs = 16;
  auto single = Searcher::open(so);
  REQUIRE(single);
  for (const std::string q : {"multiple sclerosis", "MS fatigue", "relapse OR flare", "lesions on mri"}) {
    CAPTURE(q);
    SearchRequest r;
    r.query = q;
    auto a = single->search(r);
    auto b = coordinator->search(r);
    REQUIRE(a);
    REQUIRE(b);
    REQUIRE(a->total >= 15);  // more candidates than the page and the related articles need
    CHECK(a->related.size() == 5);
    CHECK(b->related.size() == a->related.size());
  }
}

namespace {

// `q` searched by one index and by a coordinator: every shard answered, the same total.
void check_whole(Searcher& single, Searcher& coordinator, const std::string& q) {
  CAPTURE(q);
  SearchRequest r;
  r.query = q;
  const auto one = single.search(r);
  const auto many = coordinator.search(r);
  REQUIRE(one);
  REQUIRE(many);
  CHECK(many->failed_shards.empty());
  CHECK(many->total == one->total);
}

// A proxy in front of a real shard server (on `target`) whose page calls (the second round
// trip) wait `page_delay` seconds.
httplib::Server::Handler slow_page_proxy(int target, double page_delay) {
  return [=](const httplib::Request& req, httplib::Response& res) {
    if (auto r = decode_shard_request(req.body); r && r->op == ShardOp::kPage)
      std::this_thread::sleep_for(std::chrono::duration<double>(page_delay));
    httplib::Client c("127.0.0.1", target);
    auto out = c.Post(kShardEndpoint, req.headers, req.body, "application/x-msgpack");
    if (!out) {
      res.status = 502;
      return;
    }
    res.status = out->status;
    res.set_content(out->body, out->get_header_value("Content-Type").c_str());
  };
}

// A proxy to the shard server at `target` that answers `op` with 503 (a replica failing just
// that call) and passes everything else on.
httplib::Server::Handler failing_op_proxy(int target, ShardOp op) {
  return [=](const httplib::Request& req, httplib::Response& res) {
    if (auto r = decode_shard_request(req.body); r && r->op == op) {
      res.status = 503;
      res.set_content(encode_error({ErrorCode::kUnavailable, "failing on purpose"}), "application/x-msgpack");
      return;
    }
    slow_page_proxy(target, 0)(req, res);
  };
}

}  // namespace

TEST_CASE("cluster: every shard failing the page is unavailable, a shard failing a deep page's fetch is named",
          "[cluster][paging]") {
  ShardServers servers;
  {
    // It answered 200 with the total and no hit.
    FakeShard p0(failing_op_proxy(servers.s0.port, ShardOp::kPage)), p1(failing_op_proxy(servers.s1.port, ShardOp::kPage)),
        p2(failing_op_proxy(servers.s2.port, ShardOp::kPage));
    auto coordinator = Searcher::open(coordinator_options({{p0.url()}, {p1.url()}, {p2.url()}}));
    REQUIRE(coordinator);
    SearchRequest r;
    r.query = "multiple sclerosis";
    auto answer = coordinator->search(r);
    REQUIRE_FALSE(answer);
    CHECK(answer.error().code == ErrorCode::kUnavailable);
  }
  {
    // One shard failing the page: its hits leave it, the others' fill it, and its total and
    // counts leave the answer too (a partial answer counted every article and showed none of
    // that shard's best ones).
    FakeShard p1(failing_op_proxy(servers.s1.port, ShardOp::kPage));
    auto coordinator = Searcher::open(coordinator_options({{url(servers.s0)}, {p1.url()}, {url(servers.s2)}}));
    auto without = Searcher::open(coordinator_options({{url(servers.s0)}, {url(servers.s2)}}));
    REQUIRE(coordinator);
    REQUIRE(without);
    SearchRequest r;
    r.query = "multiple sclerosis";
    auto partial = coordinator->search(r);
    auto two = without->search(r);
    REQUIRE(partial);
    REQUIRE(two);
    REQUIRE(partial->failed_shards.size() == 1);
    CHECK(partial->total == two->total);
    const auto counts = [](const std::vector<FacetValue>& facets) {
      std::size_t n = 0;
      for (const auto& f : facets) n += f.count;
      return n;
    };
    CHECK(counts(partial->year_facets) == counts(two->year_facets));
    CHECK(counts(partial->topic_facets) == counts(two->topic_facets));
  }
  FakeShard p2(failing_op_proxy(servers.s2.port, ShardOp::kFetch));
  SearcherOptions o = coordinator_options({{url(servers.s0)}, {url(servers.s1)}, {p2.url()}});
  o.fetch_from_offset = 10;
  auto coordinator = Searcher::open(o);
  REQUIRE(coordinator);
  auto single = Searcher::open(single_options());
  REQUIRE(single);
  SearchRequest r;
  r.query = "ms";
  r.sort = SortOrder::kDate;
  r.offset = 10;
  auto a = single->search(r);
  auto b = coordinator->search(r);
  REQUIRE(a);
  REQUIRE(b);
  REQUIRE(a->hits.size() == 10);
  // The failing shard's hits leave the page (a hit without its fields is no hit to show); the
  // answer says which shard, the rest are whole and in place.
  CHECK(b->hits.size() < a->hits.size());
  CHECK(b->failed_shards == std::vector<std::string>{p2.url()});
  for (const auto& h : b->hits) {
    CHECK_FALSE(h.title.empty());
    CHECK(std::find_if(a->hits.begin(), a->hits.end(), [&](const SearchHit& x) { return x.id == h.id; }) != a->hits.end());
  }
  CHECK(b->total == a->total);
}

TEST_CASE("cluster: an article's related articles name a shard that failed, and the rest answer", "[cluster]") {
  ShardServers servers;
  FakeShard p2(failing_op_proxy(servers.s2.port, ShardOp::kRelated));
  auto coordinator = Searcher::open(coordinator_options({{url(servers.s0)}, {url(servers.s1)}, {p2.url()}}));
  REQUIRE(coordinator);
  auto single = Searcher::open(single_options());
  REQUIRE(single);
  SearchRequest all;
  all.limit = 100;
  auto every = single->search(all);
  REQUIRE(every);
  std::size_t answered = 0, unavailable = 0;
  for (const auto& article : every->hits) {
    CAPTURE(article.id);
    std::vector<std::string> failed;
    auto related = coordinator->related(article.id, 5, &failed);
    if (!related) {
      // Held by the failing shard: its articles' related articles cannot be chosen.
      CHECK(related.error().code == ErrorCode::kUnavailable);
      ++unavailable;
      continue;
    }
    ++answered;
    CHECK(!related->empty());
    CHECK(failed == std::vector<std::string>{p2.url()});
  }
  CHECK(answered > 0);
  CHECK(unavailable > 0);
  // Over HTTP: marked partial, naming the shard, as a search is; one index says nothing of it.
  test::LiveServer front(indexes().single, [&](ServerOptions& o) {
    o.cluster.shards = {{url(servers.s0)}, {url(servers.s1)}, {p2.url()}};
  });
  bool marked = false;
  for (const auto& article : every->hits) {
    auto r = front.get("/api/articles/" + article.id + "/related");
    REQUIRE(r);
    if (r->status != 200) continue;
    const auto answer = json::parse(r->body);
    CHECK(answer["partial"] == true);
    CHECK(answer["failed_shards"] == json::array({p2.url()}));
    marked = true;
    break;
  }
  CHECK(marked);
  test::LiveServer one(indexes().single, {});
  CHECK_FALSE(one.get_json("/api/articles/" + every->hits.front().id + "/related").contains("partial"));
}

TEST_CASE("cluster: a shard with no hit on the page that misses its related articles' call leaves the answer whole",
          "[cluster]") {
  ShardServers servers;
  FakeShard proxy(slow_page_proxy(servers.s2.port, 0.8));
  auto coordinator =
      Searcher::open(coordinator_options({{url(servers.s0)}, {url(servers.s1)}, {proxy.url()}}, true, 0.3));
  REQUIRE(coordinator);
  auto single = Searcher::open(single_options());
  REQUIRE(single);
  // Answers of few hits (every shard asked for related articles), none of them on shard 2.
  for (const std::string q : {"remyelin*", "IL-10"}) {
    CAPTURE(q);
    SearchRequest r;
    r.query = q;
    auto a = single->search(r);
    auto b = coordinator->search(r);
    REQUIRE(a);
    REQUIRE(b);
    REQUIRE(ids(b->hits) == ids(a->hits));
    CHECK(b->total == a->total);
    CHECK(b->failed_shards.empty());
  }
}

TEST_CASE("cluster: a coordinator refuses shard servers that rank with other settings, naming them", "[cluster]") {
  ShardServers servers(/*feedback=*/false);
  // Feedback on here, off on the shards: the coordinator would choose feedback terms the shards
  // never re-rank by. Refused at start, with the setting named.
  auto refused = Searcher::open(coordinator_options(servers.shards(), /*feedback=*/true));
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == ErrorCode::kSchemaMismatch);
  CHECK_THAT(refused.error().message,
             Catch::Contains("ranks with other settings") && Catch::Contains("feedback_docs 15 here, 0 there"));
  // The same settings: it starts and answers without a warning.
  auto same = Searcher::open(coordinator_options(servers.shards(), /*feedback=*/false));
  REQUIRE(same);
  SearchRequest r;
  r.query = "astrocytes";
  auto answer = same->search(r);
  REQUIRE(answer);
  CHECK(answer->total > 0);
  CHECK(answer->warnings.empty());
  const SynonymTable none;
  CHECK(settings_differ(ranking_settings(SearcherOptions{}, none), ranking_settings(SearcherOptions{}, none)).empty());
}

namespace {

// A replica's address in front of a shard server, which can be swapped for another's behind the
// same address: a replica restarted with another mssearch.yaml.
class SwappableReplica {
 public:
  explicit SwappableReplica(std::string target)
      : target_(std::move(target)), fake_([this](const httplib::Request& req, httplib::Response& res) {
          std::string now;
          {
            std::lock_guard lock(mutex_);
            now = target_;
          }
          httplib::Client client(now);
          auto answer = client.Post(kShardEndpoint, req.body, "application/x-msgpack");
          if (!answer) {
            res.status = 502;
            return;
          }
          res.status = answer->status;
          res.set_content(answer->body, answer->get_header_value("Content-Type"));
        }) {}
  void swap_to(std::string target) {
    std::lock_guard lock(mutex_);
    target_ = std::move(target);
  }
  std::string url() const { return fake_.url(); }

 private:
  std::mutex mutex_;
  std::string target_;
  FakeShard fake_;  // last: it calls on the others
};

TEST_CASE("cluster: a coordinator's revision goes up when a shard answers from a rebuilt index", "[cluster]") {
  // A shard rebuilt (`index --full`, or a server restarted over an index built apart) starts at
  // a low revision again: the coordinator's stayed at the old sum until the new one passed it,
  // and monitoring that watches it saw no change (helper-94).
  test::LiveServer s0(indexes().shard(0), shard_server()), s1(indexes().shard(1), shard_server()),
      s2(indexes().shard(2), shard_server());
  test::TempDir rebuilt;
  REQUIRE(test::run_mssearch(fmt::format("index '{}' --db '{}' -q", test::corpus_dir().string(), (rebuilt / "db").string())).exit_code == 0);
  test::LiveServer other(rebuilt / "db", shard_server());
  SwappableReplica third(url(s2));
  auto coordinator = Searcher::open(coordinator_options({{url(s0)}, {url(s1)}, {third.url()}}));
  REQUIRE(coordinator);
  const auto before = coordinator->revision();
  REQUIRE(before > 0);
  third.swap_to(url(other));  // revision 1, as shard 2's was: the sum is the same
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // the info refresh is due
  REQUIRE(coordinator->refresh());
  CHECK(coordinator->revision() == before + 1);
  // And back: another change of index, one more.
  third.swap_to(url(s2));
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  REQUIRE(coordinator->refresh());
  CHECK(coordinator->revision() == before + 2);
}

test::OptionsTweak strict_shard_server() {
  return [](ServerOptions& o) {
    o.shard_server = true;
    o.searcher.max_query_bytes = 100;
    o.searcher.max_offset = 20;
  };
}

// 162 bytes: within the coordinator's max_query_bytes (4096), over the strict replica's (100).
const std::string kLongQuery =
    "astrocytes and microglia in multiple sclerosis lesions with remyelination after relapse "
    "and the role of vitamin d in fatigue and walking in progressive disease ms";

}  // namespace

TEST_CASE("cluster: a replica with stricter limits is refused at start, and later its refusals are its own, not the visitor's",
          "[cluster]") {
  REQUIRE(kLongQuery.size() == 162);
  ShardServers servers;
  test::LiveServer strict(indexes().shard(0), strict_shard_server());
  auto one = Searcher::open(single_options());
  REQUIRE(one);
  // At start, as for other ranking settings: not searched, both limits named.
  auto refused = Searcher::open(coordinator_options(servers.shards(url(strict))));
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == ErrorCode::kSchemaMismatch);
  CHECK_THAT(refused.error().message, Catch::Contains(url(strict)) && Catch::Contains("other limits") &&
                                          Catch::Contains("max_query_bytes 4096 here, 100 there") &&
                                          Catch::Contains("max_offset 10000 here, 20 there"));

  // A replica restarted with those limits after the coordinator started: its 400 for a request
  // the coordinator accepted went to the visitor by its turn (the same URL a 200 or a 400). Now
  // the same query goes to the shard's other replica, and the refusing one is marked down.
  SwappableReplica replica(url(servers.s0));
  auto coordinator = Searcher::open(coordinator_options(servers.shards(replica.url())));
  REQUIRE(coordinator);
  replica.swap_to(url(strict));
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // the info refresh is due
  REQUIRE(coordinator->refresh());
  // What a coordinator over the same shards without the strict replica answers.
  auto plain = Searcher::open(coordinator_options(servers.shards()));
  REQUIRE(plain);
  SearchRequest longer;
  longer.query = kLongQuery;
  const auto expected = plain->search(longer);
  REQUIRE(expected);
  CHECK(expected->total == one->search(longer)->total);
  SearchRequest deep;
  deep.query = "ms";
  deep.offset = 140;  // page 15: a window of 150, past the strict replica's max_offset + max_per_page, 120
  const auto expected_deep = plain->search(deep);
  REQUIRE(expected_deep);
  for (int i = 0; i < 4; ++i) {
    INFO("search " << i);
    auto answer = coordinator->search(longer);
    REQUIRE(answer);
    CHECK(answer->failed_shards.empty());
    CHECK(answer->total == expected->total);
    CHECK(ids(answer->hits) == ids(expected->hits));
    std::string warnings;
    for (const auto& w : answer->warnings) warnings += w + "\n";
    CHECK_THAT(warnings, Catch::Contains(replica.url()) && Catch::Contains("other limits") &&
                             Catch::Contains("max_query_bytes 4096 here, 100 there"));
    auto far = coordinator->search(deep);
    REQUIRE(far);
    CHECK(far->failed_shards.empty());
    CHECK(far->total == expected_deep->total);
  }
  const auto status = coordinator->shard_status();
  REQUIRE(status.size() == 3);
  CHECK(status[0].up);
  CHECK_THAT(status[0].error, Catch::Contains(replica.url()) && Catch::Contains("limits are stricter") &&
                                  Catch::Contains("the limit is 100"));

  // A shard whose only replica has stricter limits: a search over them leaves the shard out,
  // named (partial), not a 400; the replica is not marked down, and the searches within its
  // limits are whole.
  SwappableReplica only(url(servers.s0));
  auto lone = Searcher::open(coordinator_options({{only.url()}, {url(servers.s1)}, {url(servers.s2)}}));
  REQUIRE(lone);
  only.swap_to(url(strict));
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  REQUIRE(lone->refresh());
  for (int i = 0; i < 2; ++i) {
    auto partial = lone->search(longer);
    REQUIRE(partial);
    CHECK(partial->failed_shards == std::vector<std::string>{only.url()});
    CHECK(partial->total < expected->total);
    check_whole(*one, *lone, "astrocytes");
  }
  // Not marked down, but named under its shard (for /readyz) and counted as failing.
  CHECK(lone->shard_status()[0].up);
  CHECK_THAT(lone->shard_status()[0].error, Catch::Contains(only.url() + ": other limits than this coordinator (max_offset"));
  CHECK(lone->shard_status()[0].replicas_failing == 1);

  // Through a coordinating server: the same URL is a 200 every time.
  SwappableReplica served(url(servers.s0));
  test::LiveServer server(indexes().single, [&](ServerOptions& o) {
    o.cluster.shards = servers.shards(served.url());
    o.cluster.retry_seconds = 30;
  });
  REQUIRE(server.get("/readyz")->status == 200);
  served.swap_to(url(strict));
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  const std::string path = "/api/search?q=" + httplib::detail::encode_query_param(kLongQuery);
  for (int i = 0; i < 6; ++i) {
    auto res = server.get(path);
    REQUIRE(res);
    CHECK(res->status == 200);
    CHECK_THAT(res->body, !Catch::Contains("the limit is 100"));
    CHECK(json::parse(res->body).value("partial", false) == false);
    CHECK_THAT(res->body, Catch::Contains("has other limits than this coordinator"));  // a warning
  }
  // Warnings about settings are no damaged article (each answer counted one).
  CHECK(server.metric("mssearch_search_answers_total{what=\"damaged_article\"}") == 0);
  auto ready = server.get_json("/readyz");
  CHECK(ready["partial"] == false);
  CHECK_THAT(ready["shards"][0].value("error", ""), Catch::Contains(served.url()) && Catch::Contains("limits are stricter") &&
                                                      Catch::Contains("other limits than this coordinator"));
  CHECK(server.metric("mssearch_shard_replicas_failing{shard=\"" + ready["shards"][0]["name"].get<std::string>() + "\"}") == 1);
  // The limits compared: what mssearch.yaml names, and only a lower refusing one is stricter.
  SearcherOptions ours, theirs;
  theirs.max_query_words = 10;
  CHECK(stricter_limits(shard_limits(ours), shard_limits(theirs)).empty());
  CHECK(settings_differ(shard_limits(ours), shard_limits(theirs)) == "max_query_words 96 here, 10 there");
  theirs.max_limit = 50;
  CHECK(stricter_limits(shard_limits(ours), shard_limits(theirs)) == "max_per_page 100 here, 50 there");
  CHECK(stricter_limits(shard_limits(theirs), shard_limits(ours)).empty());
}

TEST_CASE("cluster: /api/topics and /readyz count the shards that are up, and with none up topics are 503", "[cluster]") {
  auto s0 = std::make_unique<test::LiveServer>(indexes().shard(0), shard_server());
  auto s1 = std::make_unique<test::LiveServer>(indexes().shard(1), shard_server());
  auto s2 = std::make_unique<test::LiveServer>(indexes().shard(2), shard_server());
  const std::string gone = url(*s2);
  test::LiveServer server(indexes().single, [&](ServerOptions& o) {
    o.cluster.shards = {{url(*s0)}, {url(*s1)}, {gone}};
    o.cluster.retry_seconds = 30;
  });
  // Each shard's own topics and articles, for the sums expected.
  auto own = [](int shard) {
    SearcherOptions o;
    o.db_path = indexes().shard(shard);
    auto s = Searcher::open(o);
    REQUIRE(s);
    std::map<std::string, std::uint32_t> topics;
    for (const auto& t : s->topics()) topics[t.value] += t.count;
    return std::pair{s->document_count(), topics};
  };
  auto counts = [](const json& answer) {
    std::map<std::string, std::uint32_t> out;
    for (const auto& t : answer["topics"]) out[t["value"].get<std::string>()] = t["count"].get<std::uint32_t>();
    return out;
  };
  const auto [docs0, topics0] = own(0);
  const auto [docs1, topics1] = own(1);
  const auto [docs2, topics2] = own(2);
  auto all = server.get_json("/api/topics");
  CHECK(!all.contains("partial"));
  std::map<std::string, std::uint32_t> expected;
  for (const auto* t : {&topics0, &topics1, &topics2})
    for (const auto& [value, count] : *t) expected[value] += count;
  CHECK(counts(all) == expected);
  CHECK(server.get_json("/readyz")["documents"] == docs0 + docs1 + docs2);

  // One shard down: its articles are out of the counts, and the answer says so.
  s2.reset();
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // the info refresh is due
  auto some = server.get_json("/api/topics");
  CHECK(some["partial"] == true);
  CHECK(some["failed_shards"] == json::array({gone}));
  expected.clear();
  for (const auto* t : {&topics0, &topics1})
    for (const auto& [value, count] : *t) expected[value] += count;
  CHECK(counts(some) == expected);
  auto ready = server.get_json("/readyz");
  CHECK(ready["partial"] == true);
  CHECK(ready["documents"] == docs0 + docs1);
  // An article's page says its related list may lack some (helper-92: silent, where the API's
  // related list said partial).
  const auto hit = server.get_json("/api/search?q=astrocytes")["hits"][0]["id"].get<std::string>();
  const auto page = server.get("/articles/" + hit);
  REQUIRE(page);
  CHECK(page->status == 200);
  CHECK_THAT(page->body, Catch::Contains("Some related articles may be missing"));

  // Every shard down: unavailable, as a search is (it was a 200 with every topic and the last
  // counts, every shard named in failed_shards), and /readyz counts no article.
  s0.reset();
  s1.reset();
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  for (const std::string path : {"/api/topics", "/api/search?q=astrocytes"}) {
    INFO(path);
    auto res = server.get(path);
    REQUIRE(res);
    CHECK(res->status == 503);
    CHECK(json::parse(res->body)["error"]["code"] == "shards_unavailable");
    CHECK_THAT(res->body, !Catch::Contains(gone));
  }
  auto down = server.get("/readyz");
  REQUIRE(down);
  CHECK(down->status == 503);
  CHECK(json::parse(down->body)["documents"] == 0);
  CHECK(server.metric("mssearch_index_documents") == 0);
}

TEST_CASE("cluster: a shard server without the coordinator's synonyms is named, and refused at start", "[cluster]") {
  // Each shard expands the words it searches: a shard server started elsewhere, its synonyms
  // file not found or another one given, searched `brain fog` without its lay words, and the
  // coordinator's totals were short (12-13 where one index gives 14), silently.
  ShardServers servers;
  test::LiveServer plain(indexes().shard(0), [](ServerOptions& o) {
    o.shard_server = true;
    o.searcher.synonyms_path.clear();
  });
  auto refused = Searcher::open(coordinator_options({{url(plain)}, {url(servers.s1)}, {url(servers.s2)}}));
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == ErrorCode::kSchemaMismatch);
  CHECK_THAT(refused.error().message, Catch::Contains(url(plain)) && Catch::Contains("synonyms") &&
                                          Catch::Contains("none there"));
  SynonymTable one, other;
  one.add_group({"ms hug", "banding"});
  other.add_group({"ms hug", "girdle"});
  CHECK(one.fingerprint() != other.fingerprint());
  CHECK(one.fingerprint() != SynonymTable().fingerprint());
}

TEST_CASE("cluster: every replica of a shard is checked: other ranking settings, another shard's index", "[cluster]") {
  ShardServers servers;
  // Shard 0's second replica ranks with feedback off: refused at start, however the turns fall
  // (the shards' info used to come from one replica of each shard, in turn, so the replica
  // with other settings was found, and named in an answer's warnings, only when its turn came).
  test::LiveServer other_settings(indexes().shard(0), shard_server("", /*feedback=*/false));
  auto shards = servers.shards();
  shards[0].push_back(url(other_settings));
  auto refused = Searcher::open(coordinator_options(shards));
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == ErrorCode::kSchemaMismatch);
  CHECK_THAT(refused.error().message, Catch::Contains(url(other_settings)) && Catch::Contains("feedback_docs 15 here, 0 there"));
  // Two shards given as replicas of one (shard 1's server in shard 0's entry): each search would
  // take shard 0's or shard 1's articles, by turn. Named in every answer's warnings.
  auto mixed = Searcher::open(coordinator_options({{url(servers.s0), url(servers.s1)}, {url(servers.s2)}}));
  REQUIRE(mixed);
  SearchRequest r;
  r.query = "astrocytes";
  for (int i = 0; i < 3; ++i) {
    auto answer = mixed->search(r);
    REQUIRE(answer);
    std::string warnings;
    for (const auto& w : answer->warnings) warnings += w + "\n";
    CHECK_THAT(warnings, Catch::Contains("different indexes") && Catch::Contains(url(servers.s1)));
  }
  // And /readyz, which operators read (it said ready, nothing amiss).
  {
    test::LiveServer server(indexes().single, [&](ServerOptions& o) { o.cluster.shards = {{url(servers.s0), url(servers.s1)}, {url(servers.s2)}}; });
    server.get_json("/api/search?q=astrocytes");
    const auto ready = server.get_json("/readyz");
    REQUIRE(ready.contains("warnings"));
    CHECK_THAT(ready["warnings"].dump(), Catch::Contains("different indexes") && Catch::Contains(url(servers.s1)));
  }
  // Replicas of one index (the same UUID), the same settings: no warning.
  test::LiveServer copy(indexes().shard(0), shard_server());
  auto fine = Searcher::open(coordinator_options({{url(servers.s0), url(copy)}, {url(servers.s1)}, {url(servers.s2)}}));
  REQUIRE(fine);
  auto answer = fine->search(r);
  REQUIRE(answer);
  CHECK(answer->warnings.empty());
}

TEST_CASE("cluster: a search's parameters travel as the public API's and come back the same", "[cluster]") {
  SearchRequest r;
  r.query = "vitamin d \"optic neuritis\"";
  r.topics = {"Astrocytes", "Demyelination"};
  r.journals = {"Brain"};
  r.years = {2023, 2024};
  r.since = "2020-01-31";
  r.until = "2024-12-01";
  r.min_credibility = 3;
  r.sort = SortOrder::kCredibility;
  r.partial = true;
  ShardRequest s;
  s.params = shard_params(r);
  s.window = 30;
  s.feedback = {{"Zmyelin", 0.25}};
  s.stats = CollectionStats{50, 12345, {{"Zmyelin", 7}}};
  // The shard server checks them with the public API's own parser: the same request comes out.
  httplib::Request as_public;
  for (const auto& [name, value] : s.params) as_public.params.emplace(name, value);
  ServerOptions server_options;
  auto parsed = parse_search_params(as_public, server_options);
  REQUIRE(parsed);
  const SearchRequest& p = parsed->search;
  CHECK(p.query == r.query);
  CHECK(p.topics == r.topics);
  CHECK(p.journals == r.journals);
  CHECK(p.years == r.years);
  CHECK(p.since == r.since);
  CHECK(p.until == r.until);
  CHECK(p.min_credibility == r.min_credibility);
  CHECK(p.sort == r.sort);
  CHECK(p.partial == r.partial);
  auto back = decode_shard_request(encode(s));
  REQUIRE(back);
  CHECK(back->params == s.params);
  CHECK(back->window == 30);
  CHECK(back->feedback == s.feedback);
  REQUIRE(back->stats);
  CHECK(back->stats->documents == 50);
  CHECK(back->stats->term_freqs == s.stats->term_freqs);
  ShardAnswer a;
  a.total = 7;
  a.topic_facets = {{"Astrocytes", 3}};
  REQUIRE(a.feedback_freqs.add("Zmyelin", {12, 4}));
  REQUIRE(a.feedback_freqs.add("Zmyelinat", {300, 7}));  // shares a front with the one before
  REQUIRE(a.feedback_freqs.add("Zrepair", {3, 1}));
  CHECK(!a.feedback_freqs.add("Zmyelin", {1, 1}));  // out of order: refused, not added
  SearchHit h;
  h.id = "x";
  h.snippet.text = "remyelination works";
  h.snippet.marks = {{0, 13}};
  a.hits = {h};
  auto decoded = decode_shard_answer(encode(a));
  REQUIRE(decoded);
  CHECK(decoded->total == 7);
  CHECK(decoded->feedback_freqs == a.feedback_freqs);
  REQUIRE(decoded->feedback_freqs.size() == 3);
  REQUIRE(decoded->feedback_freqs.find("Zmyelinat"));
  CHECK(decoded->feedback_freqs.find("Zmyelinat")->collection_freq == 300);
  CHECK(decoded->feedback_freqs.find("Zrepair")->termfreq == 1);
  CHECK(!decoded->feedback_freqs.find("Zmyel"));
  // A packed table out of order, or a term sharing more than the one before holds: a damaged
  // answer named, not a table that binary search misreads.
  const std::string zz_then_aa{0, 2, 'z', 'z', 1, 1, 0, 2, 'a', 'a', 1, 1};
  const std::string shares_five_of_nothing{5, 1, 'a', 1, 1};
  for (const std::string& packed : {zz_then_aa, shares_five_of_nothing}) {
    std::string bytes;
    json::to_msgpack(json{{"feedback_freqs", json::binary({packed.begin(), packed.end()})}}, bytes);
    const auto refused = decode_shard_answer(bytes);
    REQUIRE(!refused);
    CHECK_THAT(refused.error().message, Catch::Contains("packed term"));
  }
  // Front coding sends a long name in a few bytes: a term past Xapian's 245 bytes, and names
  // adding up past the table's bound, are refused (an 18 MB answer of 1,024-byte terms decoded
  // to 4.6 GB).
  auto packed_answer = [](const std::string& packed) {
    std::string bytes;
    json::to_msgpack(json{{"feedback_freqs", json::binary({packed.begin(), packed.end()})}}, bytes);
    return decode_shard_answer(bytes);
  };
  std::string long_term{0, static_cast<char>(0xf5), 1};  // 245 bytes: the longest a term may be
  long_term += std::string(245, 'a') + std::string{1, 1};
  CHECK(packed_answer(long_term));
  const auto too_long = packed_answer(long_term + std::string{static_cast<char>(0xf5), 1, 1, 'b', 1, 1});
  REQUIRE(!too_long);
  CHECK_THAT(too_long.error().message, Catch::Contains("246 bytes"));
  std::string many{0, static_cast<char>(0xf5), 1};
  many += std::string(242, 'a') + std::string(3, '\0') + std::string{1, 1};
  for (std::uint32_t i = 1; i < 200'000; ++i)  // each shares 242 bytes and ends in a counter
    many += std::string{static_cast<char>(0xf2), 1, 3, static_cast<char>(i >> 16), static_cast<char>((i >> 8) & 0xff),
                        static_cast<char>(i & 0xff), 1, 1};
  const auto too_much = packed_answer(many);
  REQUIRE(!too_much);
  CHECK_THAT(too_much.error().message, Catch::Contains("names are more than"));
  // A table of another type is a damaged answer, not an empty table.
  std::string as_text;
  json::to_msgpack(json{{"feedback_freqs", "Zmyelin 12 4"}}, as_text);
  const auto not_binary = decode_shard_answer(as_text);
  REQUIRE(!not_binary);
  CHECK_THAT(not_binary.error().message, Catch::Contains("'feedback_freqs' is not binary"));
  CHECK(decoded->hits.front().snippet.marks == h.snippet.marks);
  // Nested arrays four million deep (a hostile or broken peer) are refused, not recursed into
  // until the stack runs out.
  std::string nested(4'000'000, '\x91');
  nested += '\xc0';
  auto deep = decode_shard_answer(nested);
  REQUIRE(!deep);
  CHECK_THAT(deep.error().message, Catch::Contains("nests deeper"));
  // A mark outside its snippet is a damaged answer, not a crash.
  a.hits.front().snippet.marks = {{5, 500}};
  CHECK(!decode_shard_answer(encode(a)));
}

TEST_CASE("cluster: the page round trip ranks the match's candidates by docid at the same index state, else matches again",
          "[cluster]") {
  // One database, and a sharded directory behind one shard server (its docids interleave its parts).
  const fs::path dir = GENERATE(indexes().shard(0), indexes().sharded);
  test::LiveServer shard(dir, shard_server());
  auto client = shard.client();
  auto post = [&](const ShardRequest& r) {
    auto res = client.Post(kShardEndpoint, encode(r), "application/x-msgpack");
    REQUIRE(res);
    return *res;
  };
  SearchRequest search;
  search.query = "ms brain";
  ShardRequest ask;
  ask.op = ShardOp::kMatch;
  ask.params = shard_params(search);
  ask.window = 10;
  const auto matched_res = post(ask);
  REQUIRE(matched_res.status == 200);
  auto matched = decode_shard_answer(matched_res.body);
  REQUIRE(matched);
  REQUIRE(matched->reranked);
  REQUIRE(matched->candidates.size() >= 6);
  REQUIRE(matched->candidate_docids.size() == matched->candidates.size());
  CHECK(!matched->docid_key.empty());

  ShardRequest page = ask;
  page.op = ShardOp::kPage;
  page.facets = false;
  page.related = false;
  page.feedback = {{"brain", 0.4}, {"lesion", 0.3}};
  auto hits_of = [&](const ShardRequest& r) {
    const auto res = post(r);
    REQUIRE(res.status == 200);
    auto answer = decode_shard_answer(res.body);
    REQUIRE(answer);
    std::vector<std::pair<std::string, double>> out;
    for (const auto& h : answer->hits) out.emplace_back(h.id, h.score);
    return out;
  };
  // The same page either way: the candidates by docid, or matched again.
  page.candidates = 6;
  const auto again = hits_of(page);
  page.candidate_docids.assign(matched->candidate_docids.begin(), matched->candidate_docids.begin() + 6);
  page.docid_key = matched->docid_key;
  const auto by_docid = hits_of(page);
  REQUIRE(again.size() == by_docid.size());
  for (std::size_t i = 0; i < again.size(); ++i) {
    CHECK(by_docid[i].first == again[i].first);
    CHECK(by_docid[i].second == Approx(again[i].second).epsilon(1e-12));
  }
  // Only the documents named are ranked (the third and fourth candidates, not the first two):
  // the shard used the docids.
  page.candidates = 2;
  page.candidate_docids = {matched->candidate_docids[2], matched->candidate_docids[3]};
  auto named = hits_of(page);
  std::set<std::string> named_ids;
  for (const auto& [id, score] : named) named_ids.insert(id);
  page.candidate_docids.clear();
  page.docid_key.clear();
  auto best_two = hits_of(page);
  std::set<std::string> best_ids;
  for (const auto& [id, score] : best_two) best_ids.insert(id);
  REQUIRE(named_ids.size() == 2);
  REQUIRE(best_ids.size() == 2);
  CHECK(named_ids != best_ids);
  // Another index state (another replica's index, a commit since): matched again, the best two.
  page.candidate_docids = {matched->candidate_docids[2], matched->candidate_docids[3]};
  page.docid_key = matched->docid_key + "0";
  CHECK(hits_of(page) == best_two);
  // Docids unsorted, repeated, or of no article: no more than those that exist, never a failure.
  page.docid_key = matched->docid_key;
  page.candidates = 6;
  page.candidate_docids = {4000000000u, matched->candidate_docids[1], matched->candidate_docids[0], matched->candidate_docids[1]};
  CHECK(hits_of(page).size() == 2);
  // Docid 0 is no document: the request's fault.
  page.candidate_docids = {0};
  CHECK(post(page).status == 400);
}

TEST_CASE("cluster: the shard protocol's fuzz seeds are messages of this version", "[cluster]") {
  // Seeds of another version stop at the version check, and the fuzzer never reaches a field
  // (it happened once: every seeded request was version 1). The docid seeds carry today's fields.
  const auto dir = test::source_dir() / "tests/fuzz/corpus/fuzz_shard_protocol";
  for (const char* name : {"match", "page", "page-docids"}) {
    INFO(name);
    auto r = decode_shard_request(test::read_file(dir / name));
    REQUIRE(r);
    if (std::string(name) == "page-docids") {
      CHECK(r->candidate_docids.size() == 4);
      CHECK(!r->docid_key.empty());
    }
  }
  for (const char* name : {"answer", "answer-docids"}) {
    INFO(name);
    auto a = decode_shard_answer(test::read_file(dir / name));
    REQUIRE(a);
    if (std::string(name) == "answer-docids") {
      CHECK(!a->candidate_docids.empty());
      CHECK(a->candidate_docids.size() == a->candidates.size());
    }
  }
}

TEST_CASE("cluster: a long search with long filters reaches the shards, and a refused size marks no replica down",
          "[cluster]") {
  // A query of max_query_bytes and filters that fill the request line: the shard request (its
  // parameters and the statistics of ~200 terms) is over the public max_request_bytes (16 KiB).
  std::string q;
  for (int w = 0; w < 96; ++w) {
    if (w > 0) q += ' ';
    for (int c = 0; c < 41; ++c) q += static_cast<char>('a' + (w * 7 + c * 13) % 26);
  }
  q.resize(4000);
  SearchRequest r;
  r.query = q;
  for (int t = 0; t < 20; ++t) r.topics.push_back(std::string(180, static_cast<char>('a' + t)));
  ShardRequest page;
  page.op = ShardOp::kPage;
  page.params = shard_params(r);
  page.stats = CollectionStats{50, 1000, {}};
  for (int t = 0; t < 200; ++t) page.stats->term_freqs.emplace_back(std::string(41, static_cast<char>('a' + t % 26)) + std::to_string(t), 3);
  REQUIRE(encode(page).size() > ServerOptions{}.max_request_bytes);
  REQUIRE(encode(page).size() < kMaxShardRequestBytes);

  ShardServers servers;
  auto coordinator = Searcher::open(coordinator_options(servers.shards()));
  REQUIRE(coordinator);
  auto single = Searcher::open(single_options());
  REQUIRE(single);
  auto a = single->search(r);
  auto b = coordinator->search(r);
  REQUIRE(a);
  REQUIRE(b);
  CHECK(b->total == a->total);
  CHECK(b->failed_shards.empty());
  auto c = servers.s0.client();
  auto res = c.Post(kShardEndpoint, encode(page), "application/x-msgpack");
  REQUIRE(res);
  CHECK(res->status == 200);

  // After each: the next search is whole, every shard up.
  auto next_search_whole = [&] { check_whole(*single, *coordinator, "ms"); };
  // A filter value longer than any term (a journal of 7,000 bytes): no article, as one index
  // answers, every shard still up and the next search whole. Its term used to travel as a
  // statistic the shards refused as malformed: every shard marked down, the next search 503.
  for (const bool topic : {false, true}) {
    CAPTURE(topic);
    SearchRequest long_value;
    long_value.query = "ms";
    (topic ? long_value.topics : long_value.journals).push_back(std::string(7000, 'J'));
    auto one = single->search(long_value);
    auto many = coordinator->search(long_value);
    REQUIRE(one);
    REQUIRE(many);
    CHECK(one->total == 0);
    CHECK(many->total == 0);
    CHECK(many->failed_shards.empty());
    (topic ? long_value.topics : long_value.journals).push_back("Neurology");
    auto with_other = coordinator->search(long_value);
    REQUIRE(with_other);
    CHECK(with_other->total == single->search(long_value)->total);
    CHECK((with_other->total > 0) == !topic);
    next_search_whole();
  }
  // A typed word longer than any term (1,024 bytes and over was refused in the statistics:
  // every shard down), in a field, as a phrase, as a wildcard's prefix: one index's answer,
  // every shard up, and the next search whole.
  const std::string d(1100, 'd');
  for (const std::string& typed : {d, "ms " + d, "topic:" + d, "\"" + d + " ms\"", d + "*", "-" + d + " ms"}) {
    CAPTURE(typed.substr(0, 12));
    SearchRequest long_word;
    long_word.query = typed;
    auto one = single->search(long_word);
    auto many = coordinator->search(long_word);
    REQUIRE(one.has_value() == many.has_value());
    if (one) {
      CHECK(many->total == one->total);
      CHECK(many->failed_shards.empty());
    }
    next_search_whole();
  }

  // Over the protocol's own bound: the request's fault (400 to the visitor), every shard stays up.
  test::LiveServer tight(indexes().shard(0), [](ServerOptions& o) {
    o.shard_server = true;
    o.max_request_bytes = 64;
  });
  ClusterOptions cluster;
  cluster.shards = {{url(tight)}};
  cluster.retry_seconds = 30;
  auto transport = http_shard_transports(cluster)();
  std::string huge = encode(page);
  huge.resize(kMaxShardRequestBytes + 1, ' ');
  auto refused = transport->call(0, huge);
  REQUIRE(!refused);
  CHECK(refused.error().code == ErrorCode::kBadQuery);
  CHECK(transport->status().front().up);
}

namespace {

// A shard server that answers its first request (keeping the connection) and then hangs, as one
// stopped by SIGSTOP does: later connections wait in its listen queue, never accepted.
class HangingShard {
 public:
  HangingShard() {
    fd_ = test::loopback_listener(port, 64);
    thread_ = std::thread([this] {
      conn_ = ::accept(fd_, nullptr, nullptr);
      std::string in;
      char buf[4096];
      while (in.find("\r\n\r\n") == std::string::npos) {
        const auto n = ::read(conn_, buf, sizeof buf);
        if (n <= 0) return;
        in.append(buf, static_cast<std::size_t>(n));
      }
      const std::string body = encode(ShardAnswer{});
      const std::string out = "HTTP/1.1 200 OK\r\nContent-Type: application/x-msgpack\r\nContent-Length: " +
                              std::to_string(body.size()) + "\r\n\r\n" + body;
      (void)!::write(conn_, out.data(), out.size());
    });
  }
  ~HangingShard() {
    thread_.join();
    if (conn_ >= 0) ::close(conn_);
    ::close(fd_);
  }
  int port = 0;

 private:
  int fd_ = -1, conn_ = -1;
  std::thread thread_;
};

}  // namespace

namespace {

// A shard server of canned answers (encode(ShardAnswer{})) whose n-th call is answered after
// delays[n] seconds (0 past the list), on 127.0.0.1.
class DelayedShard {
 public:
  explicit DelayedShard(std::vector<double> delays) : delays_(std::move(delays)) {}
  std::string url() const { return server_.url(); }
  std::atomic<std::size_t> calls{0};

 private:
  std::vector<double> delays_;
  FakeShard server_{[this](const httplib::Request&, httplib::Response& res) {
    const std::size_t n = calls.fetch_add(1);
    if (n < delays_.size()) std::this_thread::sleep_for(std::chrono::duration<double>(delays_[n]));
    res.set_content(encode(ShardAnswer{}), "application/x-msgpack");
  }};
};

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

TEST_CASE("cluster: a hung replica costs one deadline, and is probed again apart, costing the searches none", "[cluster]") {
  using Clock = std::chrono::steady_clock;
  HangingShard hung;
  DelayedShard other({});  // the shard's other replica, answering at once
  const ClusterOptions cluster = cluster_options({{fmt::format("http://127.0.0.1:{}", hung.port), other.url()}}, 0.4, 0.2);
  auto transports = http_shard_transports(cluster);
  auto first = transports();
  const std::string body = encode(ShardRequest{});
  REQUIRE(first->call(0, body));  // the hung replica's turn: answered, its connection kept
  REQUIRE(first->call(0, body));  // the other's
  // The kept connection times out: the replica is marked down after one deadline, not two (a
  // second connection would wait in the listen queue as long again), and the other answers.
  auto start = Clock::now();
  CHECK(first->call(0, body));
  CHECK(seconds_since(start) >= 0.3);
  CHECK(seconds_since(start) < 0.7);
  CHECK_THAT(first->status().front().error, Catch::Contains(std::to_string(hung.port)));
  // Past retry_seconds, calls at once (one transport per server thread): the hung replica is
  // probed in a thread of its own, and no call waits for its deadline (one did, and on a quiet
  // site beside a live replica every other search took the deadline: helper-87).
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  std::vector<std::unique_ptr<ShardTransport>> threads_transports;
  for (int i = 0; i < 4; ++i) threads_transports.push_back(transports());
  std::vector<double> took(threads_transports.size());
  std::vector<std::thread> callers;
  start = Clock::now();
  for (std::size_t i = 0; i < threads_transports.size(); ++i)
    callers.emplace_back([&, i] {
      CHECK(threads_transports[i]->call(0, body));
      took[i] = seconds_since(start);
    });
  for (auto& t : callers) t.join();
  std::sort(took.begin(), took.end());
  CHECK(took.back() < 0.3);  // none waited for the hung one's deadline
  // The probe missed its deadline: the replica is still named down, once its probe has ended.
  std::this_thread::sleep_for(std::chrono::milliseconds(900));
  CHECK_THAT(first->status().front().error, Catch::Contains(std::to_string(hung.port)));
  CHECK(first->status().front().replicas_failing == 1);
}

TEST_CASE("cluster: a hung replica that answers again is put back by its probe apart", "[cluster]") {
  using Clock = std::chrono::steady_clock;
  std::atomic<bool> hang = true;
  DelayedShard other({});
  FakeShard flaky([&hang](const httplib::Request& req, httplib::Response& res) {
    if (hang) std::this_thread::sleep_for(std::chrono::milliseconds(800));
    static_cast<void>(req);
    ShardAnswer a;
    a.documents = 1;
    res.set_content(encode(a), "application/x-msgpack");
  });
  const ClusterOptions cluster = cluster_options({{flaky.url(), other.url()}}, 0.4, 0.2);
  auto transports = http_shard_transports(cluster);
  auto t = transports();
  const std::string body = encode(ShardRequest{});
  REQUIRE(t->call(0, body));  // the flaky replica's turn: late, marked down, the other answers
  CHECK_THAT(t->status().front().error, Catch::Contains("no answer within"));
  hang = false;
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // past retry_seconds
  const auto start = Clock::now();
  for (int i = 0; i < 4; ++i) REQUIRE(t->call(0, body));
  CHECK(seconds_since(start) < 0.3);
  // The probe answered in time: the replica is up again, with no failure named.
  for (int i = 0; i < 50 && !t->status().front().error.empty(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  CHECK(t->status().front().error.empty());
  CHECK(t->status().front().replicas_failing == 0);
  // On a quiet site, the shards' info refresh probes it apart too (/readyz named it until a
  // search came: helper-88).
  hang = true;
  for (int i = 0; i < 2 && t->status().front().error.empty(); ++i) REQUIRE(t->call(0, body));
  REQUIRE_FALSE(t->status().front().error.empty());
  hang = false;
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const auto refreshed = t->call_each(0, body, true);
  REQUIRE_FALSE(refreshed.empty());
  for (int i = 0; i < 50 && !t->status().front().error.empty(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  CHECK(t->status().front().error.empty());
}

TEST_CASE("cluster: an answer that comes a byte at a time is cut at the deadline, not read to its end", "[cluster]") {
  using Clock = std::chrono::steady_clock;
  // 200 with a million bytes announced (or sent chunked, or with no length until the connection
  // closes), one sent every 50 ms: each read is in time, the whole answer never is (it held a
  // search for a minute when the deadline bounded each read only; chunked or without a length,
  // cpp-httplib's progress callback is never called, and every search through such a replica
  // took its minute). It gives up after 4 s, so that a transport that reads on fails this case
  // rather than hangs.
  for (const std::string mode : {"length", "chunked", "until close"}) {
    CAPTURE(mode);
    std::atomic<bool> stop{false};
    FakeShard trickle([&](const httplib::Request&, httplib::Response& res) {
      const auto began = Clock::now();
      auto provider = [&, began](std::size_t, httplib::DataSink& sink) {
        if (stop || !sink.is_writable() || Clock::now() - began > std::chrono::seconds(4)) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        return sink.write(" ", 1);
      };
      if (mode == "length")
        res.set_content_provider(1000000, "application/x-msgpack",
                                 [provider](std::size_t offset, std::size_t, httplib::DataSink& sink) { return provider(offset, sink); });
      else if (mode == "chunked")
        res.set_chunked_content_provider("application/x-msgpack", provider);
      else
        res.set_content_provider("application/x-msgpack", provider);
    });
    DelayedShard other({});
    const ClusterOptions cluster = cluster_options({{trickle.url(), other.url()}}, 0.5, 30);
    auto transport = http_shard_transports(cluster)();
    const std::string body = encode(ShardRequest{});
    const auto start = Clock::now();
    CHECK(transport->call(0, body));  // the trickling replica's turn: cut, then the other answers
    const double took = seconds_since(start);
    CHECK(took >= 0.4);
    CHECK(took < 3.0);
    CHECK_THAT(transport->status().front().error, Catch::Contains("no answer within 0.5 s"));
    stop = true;
  }
}

namespace {

// A "shard" on 127.0.0.1 that answers a call with a status line and then header lines, one
// every 20 ms, until the caller closes or 4 s have passed (a test that reads on fails then
// rather than hangs).
class EndlessHeaders {
 public:
  EndlessHeaders() {
    fd_ = test::loopback_listener(port_, 8);
    thread_ = std::thread([this] {
      conn_ = ::accept(fd_, nullptr, nullptr);
      if (conn_ < 0) return;
      char buf[4096];
      (void)!::read(conn_, buf, sizeof buf);
      const std::string status = "HTTP/1.1 200 OK\r\n";
      if (::send(conn_, status.data(), status.size(), MSG_NOSIGNAL) < 0) return;
      const auto began = std::chrono::steady_clock::now();
      for (int i = 0; std::chrono::steady_clock::now() - began < std::chrono::seconds(4); ++i) {
        const std::string line = fmt::format("X-Pad-{}: {}\r\n", i, std::string(200, 'x'));
        if (::send(conn_, line.data(), line.size(), MSG_NOSIGNAL) < 0) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    });
  }
  ~EndlessHeaders() {
    ::shutdown(fd_, SHUT_RDWR);
    thread_.join();
    if (conn_ >= 0) ::close(conn_);
    ::close(fd_);
  }
  std::string url() const { return fmt::format("http://127.0.0.1:{}", port_); }

 private:
  int fd_ = -1, conn_ = -1, port_ = 0;
  std::thread thread_;
};

}  // namespace

TEST_CASE("cluster: an answer whose headers never end is cut at the deadline", "[cluster]") {
  // Headers are read before any callback on the body runs: a replica sending header lines
  // without end held every search for a minute and grew the coordinator by 3 GB.
  EndlessHeaders endless;
  DelayedShard other({});
  const ClusterOptions cluster = cluster_options({{endless.url(), other.url()}}, 0.5, 30);
  auto transport = http_shard_transports(cluster)();
  const auto start = std::chrono::steady_clock::now();
  CHECK(transport->call(0, encode(ShardRequest{})));  // cut, then the other replica answers
  const double took = seconds_since(start);
  CHECK(took >= 0.4);
  CHECK(took < 3.0);
}

TEST_CASE("cluster: /readyz names a dead replica of a shard that still answers", "[cluster]") {
  ShardServers servers;
  std::string dead;
  {
    DelayedShard gone({});
    dead = gone.url();
  }  // its port closed: refused at once
  test::LiveServer server(indexes().single, [&](ServerOptions& o) {
    o.cluster.shards = servers.shards(dead);
    o.cluster.retry_seconds = 30;
  });
  for (int i = 0; i < 2; ++i) CHECK(server.get_json("/api/search?q=astrocytes")["partial"] == false);
  // The shard answers from its other replica: up, whole answers; but an operator is told that
  // one of its replicas is gone before the other goes too.
  auto ready = server.get_json("/readyz");
  REQUIRE(ready["shards"].size() == 3);
  CHECK(ready["shards"][0]["up"] == true);
  CHECK(ready["partial"] == false);
  CHECK_THAT(ready["shards"][0].value("error", ""), Catch::Contains(dead));
  CHECK(!ready["shards"][1].contains("error"));
  // And /metrics, for an alert: mssearch_shard_up stays 1 for the shard.
  const std::string shard0 = ready["shards"][0]["name"].get<std::string>(), shard1 = ready["shards"][1]["name"].get<std::string>();
  CHECK(server.metric("mssearch_shard_up{shard=\"" + shard0 + "\"}") == 1);
  CHECK(server.metric("mssearch_shard_replicas_failing{shard=\"" + shard0 + "\"}") == 1);
  CHECK(server.metric("mssearch_shard_replicas_failing{shard=\"" + shard1 + "\"}") == 0);
}

TEST_CASE("cluster: a shard server restarted over another shard's index is left out, not counted twice", "[cluster]") {
  // Refused at start; afterwards it was named in the warnings alone, and every total, topic
  // count and the documents were the sum with the other shard's (helper-96, helper-100).
  ShardServers servers;
  std::atomic<int> target{servers.s2.port};
  FakeShard proxy([&](const httplib::Request& req, httplib::Response& res) {
    slow_page_proxy(target.load(), 0)(req, res);
  });
  auto coordinator = Searcher::open(coordinator_options({{url(servers.s0)}, {url(servers.s1)}, {proxy.url()}}));
  REQUIRE(coordinator);
  auto single = Searcher::open(single_options());
  REQUIRE(single);
  SearchRequest r;
  r.query = "ms";
  auto whole = coordinator->search(r);
  REQUIRE(whole);
  CHECK(whole->total == single->search(r)->total);
  CHECK(coordinator->document_count() == 50);
  // "Restarted" over shard 1's index: the same UUID as shard 1 answers for shard 2.
  target = servers.s1.port;
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // past the info refresh
  REQUIRE(coordinator->refresh());
  auto after = coordinator->search(r);
  REQUIRE(after);
  REQUIRE(after->failed_shards.size() == 1);
  CHECK(after->failed_shards.front() == proxy.url());
  // Shards 0 and 1 counted once each: less than the whole, never more.
  CHECK(after->total < whole->total);
  CHECK(coordinator->document_count() < 50);
  const auto status = coordinator->shard_status();
  REQUIRE(status.size() == 3);
  CHECK(!status[2].up);
  CHECK_THAT(status[2].error, Catch::Contains("same index") && Catch::Contains("counted twice"));
  // Its own index again: whole.
  target = servers.s2.port;
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  REQUIRE(coordinator->refresh());
  auto mended = coordinator->search(r);
  REQUIRE(mended);
  CHECK(mended->failed_shards.empty());
  CHECK(mended->total == whole->total);
  CHECK(coordinator->document_count() == 50);
}

TEST_CASE("cluster: a shard server whose index is gone from disk is named by the coordinator's /readyz", "[cluster]") {
  // Its own /readyz is 503 ("gone from disk … a restart would not open it") while it answers
  // from the files still open; the coordinator's said ready, every shard up, nothing more
  // (helper-100), until the shard server's restart lost the shard.
  test::TempDir tmp;
  const fs::path copy = tmp / "sharded", moved = tmp / "moved";
  fs::copy(indexes().sharded, copy, fs::copy_options::recursive);
  test::LiveServer s0(copy / "shard-00", shard_server()), s1(indexes().shard(1), shard_server()),
      s2(indexes().shard(2), shard_server());
  test::LiveServer coordinator(indexes().single, [&](ServerOptions& o) { o.cluster.shards = {{url(s0)}, {url(s1)}, {url(s2)}}; });
  auto before = coordinator.get_json("/readyz");
  CHECK(before["status"] == "ready");
  CHECK(!before.contains("warnings"));
  fs::rename(copy, moved);
  CHECK(s0.get("/readyz")->status == 503);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // past the coordinator's info refresh
  auto after = coordinator.get_json("/readyz");
  CHECK(after["status"] == "ready");  // the shard still answers: ready, whole, and said
  CHECK(after["partial"] == false);
  REQUIRE(after.contains("warnings"));
  CHECK_THAT(after["warnings"].dump(), Catch::Contains(url(s0) + " is not ready") && Catch::Contains("gone from disk"));
  CHECK_THAT(coordinator.get_json("/api/search?q=astrocytes")["warnings"].dump(), Catch::Contains("is not ready"));
  // Mended (the index back where it was): said no more.
  fs::rename(moved, copy);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  CHECK(!coordinator.get_json("/readyz").contains("warnings"));
}

TEST_CASE("cluster: the shards' info refresh does not wait for a hung shard, which the search probes once",
          "[cluster]") {
  ShardServers servers;
  // Shard 2's only replica answers the coordinator's first call (its info at start), then hangs
  // past every deadline, as one stopped by SIGSTOP.
  DelayedShard hung({0, 1, 1, 1, 1, 1, 1, 1});
  // Its retry_seconds long past by the refresh: due for a probe, which the refresh leaves to
  // the searches.
  auto coordinator = Searcher::open(
      coordinator_options({{url(servers.s0)}, {url(servers.s1)}, {hung.url()}}, true, /*timeout=*/0.3, /*retry=*/0.1));
  REQUIRE(coordinator);
  SearchRequest r;
  r.query = "astrocytes";
  auto first = coordinator->search(r);
  REQUIRE(first);
  CHECK(first->failed_shards.size() == 1);
  // The info refresh is due (once a second): it skips the shard marked down instead of waiting
  // for its deadline before the next search (which cost every search two deadlines, not one,
  // and /readyz one).
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  const std::size_t calls = hung.calls;
  CHECK(coordinator->refresh());
  CHECK(hung.calls == calls);
  REQUIRE(coordinator->shard_status().size() == 3);
  CHECK_THAT(coordinator->shard_status()[2].error, Catch::Contains(hung.url()));
  CHECK(coordinator->shard_status()[0].up);
  // The search still asks it (the shard's last replica): partial, named, one call.
  auto again = coordinator->search(r);
  REQUIRE(again);
  CHECK(again->failed_shards.size() == 1);
  CHECK(again->total == first->total);
  CHECK(hung.calls == calls + 1);
  // A query whose statistics are not cached (another visitor's, a second later): the shard that
  // missed the statistics' deadline is left out of the match (not asked again for a second
  // deadline in the same search).
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  r.query = "myelin repair";
  auto fresh = coordinator->search(r);
  REQUIRE(fresh);
  CHECK(fresh->failed_shards.size() == 1);
  CHECK(fresh->total > 0);
  CHECK(hung.calls == calls + 2);
}

TEST_CASE("cluster: a shard that missed the info refresh's deadline costs the search right after it none", "[cluster]") {
  using Clock = std::chrono::steady_clock;
  ShardServers servers;
  // Shard 2's only replica answers the info at start, then hangs past every deadline (0.6 s;
  // "no deadline" below is under 0.5 s, slack for a busy machine, "a deadline" at least 0.5 s).
  DelayedShard hung({0, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5});
  auto coordinator = Searcher::open(
      coordinator_options({{url(servers.s0)}, {url(servers.s1)}, {hung.url()}}, true, /*timeout=*/0.6, /*retry=*/30));
  REQUIRE(coordinator);
  // The refresh (before a visitor's search, once a second) waits its deadline for the shard...
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  auto start = Clock::now();
  CHECK(coordinator->refresh());
  CHECK(seconds_since(start) >= 0.5);
  // ...which is down in the status (/readyz, /metrics, /api/topics) since its articles are not
  // counted: a hung last replica is never marked down by the transport.
  REQUIRE(coordinator->shard_status().size() == 3);
  CHECK_FALSE(coordinator->shard_status()[2].up);
  CHECK(coordinator->shard_status()[0].up);
  // ...and the search it was for does not wait a second one (it did: 2 deadlines a request).
  SearchRequest r;
  r.query = "astrocytes";
  start = Clock::now();
  auto answer = coordinator->search(r);
  REQUIRE(answer);
  CHECK(seconds_since(start) < 0.5);
  REQUIRE(answer->failed_shards.size() == 1);
  CHECK_THAT(answer->failed_shards.front(), Catch::Contains(hung.url()));
  CHECK(answer->total > 0);
  // A visitor's search later on asks it again (a shard's last replica stays in use): one deadline.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  r.query = "myelin";
  start = Clock::now();
  auto later = coordinator->search(r);
  REQUIRE(later);
  CHECK(seconds_since(start) >= 0.5);
  CHECK(later->failed_shards.size() == 1);
  // A misspelt query is searched again corrected: not the hung shard again (two deadlines).
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  r.query = "astrocytse";
  start = Clock::now();
  auto misspelt = coordinator->search(r);
  REQUIRE(misspelt);
  const double took = seconds_since(start);
  CHECK(took >= 0.5);
  CHECK(took < 1.1);
  CHECK((misspelt->showing_corrected || misspelt->did_you_mean));
  CHECK(misspelt->failed_shards.size() == 1);
}

TEST_CASE("cluster: a call that waited a deadline for one hung replica does not probe another hung one", "[cluster]") {
  // Both replicas of the shard hang (every call late), as when a shard's machines are stopped.
  DelayedShard a(std::vector<double>(8, 1.0)), b(std::vector<double>(8, 1.0));
  const ClusterOptions cluster = cluster_options({{a.url(), b.url()}}, 0.3, 0.05);
  auto t = http_shard_transports(cluster)();
  const std::string body = encode(ShardRequest{});
  CHECK(!t->call(0, body));  // the first finds both late: each asked once (the second might have answered)
  CHECK(a.calls + b.calls == 2);
  std::this_thread::sleep_for(std::chrono::milliseconds(150));  // both due for their probe
  // One probe costs this call its deadline; the other hung replica is not probed after it (each
  // cost the call another deadline: 2 replicas, 2 deadlines a search).
  CHECK(!t->call(0, body));
  CHECK(a.calls + b.calls == 3);
}

TEST_CASE("cluster: a shard's last replica that misses deadlines stays in use: late calls fail, the others answer",
          "[cluster]") {
  // Calls 0 and 2 come late; the others at once.
  DelayedShard slow({0.8, 0, 0.8});
  ClusterOptions cluster;
  cluster.shards = {{slow.url()}};
  cluster.timeout_seconds = 0.3;
  cluster.retry_seconds = 30;  // a replica marked down would stay skipped for the whole test
  auto transports = http_shard_transports(cluster);
  const std::string body = encode(ShardRequest{});
  auto a = transports(), b = transports();
  // Call 0 misses its deadline while call 1 is answered in time: slow, not gone.
  Result<std::string> late = fail(ErrorCode::kInternal, "not called");
  std::thread waiting([&] { late = a->call(0, body); });
  while (slow.calls < 1) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  CHECK(b->call(0, body));
  waiting.join();
  REQUIRE(!late);
  CHECK(late.error().code == ErrorCode::kUnavailable);
  CHECK_THAT(late.error().message, Catch::Contains("no answer within 0.3 s") && Catch::Contains("kept up"));
  CHECK(a->status().front().up);
  // Call 2 misses its deadline with no answer meanwhile: marked down, as a hung replica is...
  CHECK(!a->call(0, body));
  CHECK(!a->status().front().up);
  // ...but, the shard's only replica and reachable, it is still asked (not skipped for
  // retry_seconds, which would refuse every search): call 3 answers, and it is up again.
  CHECK(b->call(0, body));
  CHECK(slow.calls == 4);
  CHECK(a->status().front().up);
  CHECK(a->status().front().error.empty());
}

TEST_CASE("cluster: a slow replica beside a dead one is still asked, and not marked down by the dead one's due probe",
          "[cluster]") {
  std::string dead;
  {
    DelayedShard gone({});
    dead = gone.url();
  }  // its port closed: refused at once
  const std::string body = encode(ShardRequest{});
  SECTION("the dead one's probe fails at once: the slow one is asked all the same") {
    DelayedShard slow({0.8});  // call 0 late, then at once
    const ClusterOptions cluster = cluster_options({{dead, slow.url()}}, 0.3, 0.5);
    auto t = http_shard_transports(cluster)();
    // The dead one refuses; the slow one misses its deadline with no answer since: both down.
    CHECK(!t->call(0, body));
    std::this_thread::sleep_for(std::chrono::milliseconds(400));  // the dead one due, the slow one down
    // The slow one skipped, the dead one probed and refused at once: the slow one still asked.
    CHECK(t->call(0, body));
    CHECK(slow.calls == 2);
  }
  SECTION("a dead replica due for its probe is no other replica up") {
    DelayedShard slow({0, 1.0});  // call 1 late
    const ClusterOptions cluster = cluster_options({{dead, slow.url()}}, 0.5, 0.05, 0.3);
    auto transports = http_shard_transports(cluster);
    auto a = transports(), b = transports();
    REQUIRE(a->call(0, body));  // the dead one refuses, the slow one answers (call 0)
    Result<std::string> late = fail(ErrorCode::kInternal, "not called");
    std::thread waiting([&] { late = a->call(0, body); });  // the slow one first: call 1, late
    while (slow.calls < 2) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    CHECK(b->call(0, body));  // the dead one probed and refused, the slow one answers (call 2)
    waiting.join();
    // When call 1 missed its deadline, the dead one was due for its probe again: not a replica
    // that could take the slow one's traffic, so the slow one, answering others, was kept up.
    REQUIRE(!late);
    CHECK_THAT(late.error().message, Catch::Contains("kept up"));
  }
}

TEST_CASE("cluster: a replica that is no shard server is down, and its shard answers from the other", "[cluster]") {
  ShardServers servers;
  test::LiveServer plain(indexes().shard(0), {});  // the public API only: 404 on the shard endpoint
  CHECK_THAT(whole_beside(servers, url(plain)), Catch::Contains(url(plain)) && Catch::Contains("shard-server"));
}

TEST_CASE("cluster: a replica of another protocol version is down, not the visitor's error", "[cluster]") {
  // A shard server of another mssearch (as during a rolling upgrade), answering as this one's
  // predecessors do: 400 with its version error.
  FakeShard other([](const httplib::Request&, httplib::Response& res) {
    res.status = 400;
    res.set_content(encode_error({ErrorCode::kSchemaMismatch, "shard protocol version 1 is not 2"}), "application/x-msgpack");
  });
  ShardServers servers;
  CHECK_THAT(whole_beside(servers, other.url()), Catch::Contains("protocol version"));
}

TEST_CASE("cluster: a replica that gives damaged answers is marked down naming why, and its calls go to another",
          "[cluster]") {
  // It says 200 and speaks MessagePack, but its answers are not shard answers (a table sent as
  // text): each search went to it every other turn and came back partial, its replica never
  // marked down nor its error shown anywhere.
  std::string damaged;
  json::to_msgpack(json{{"total", 3}, {"feedback_freqs", "Zmyelin 12 4"}}, damaged);
  FakeShard broken([&](const httplib::Request&, httplib::Response& res) { res.set_content(damaged, "application/x-msgpack"); });
  ShardServers servers;
  {
    // Its info answer, at start, marks it down already (it was dropped unnamed: /readyz whole).
    auto coordinator = Searcher::open(coordinator_options(servers.shards(broken.url())));
    REQUIRE(coordinator);
    CHECK_THAT(coordinator->shard_status()[0].error, Catch::Contains("damaged answer"));
  }
  CHECK_THAT(whole_beside(servers, broken.url()), Catch::Contains("damaged answer") && Catch::Contains("not binary"));
  {
    // Marked down for 0 s, it is still asked once a call, not again and again (17 times each
    // call; with a slow one, 17 s a search).
    std::atomic<int> calls{0};
    FakeShard counted([&](const httplib::Request&, httplib::Response& res) {
      ++calls;
      res.set_content(damaged, "application/x-msgpack");
    });
    auto coordinator =
        Searcher::open(coordinator_options({{counted.url()}, {url(servers.s1)}, {url(servers.s2)}}, true, 2.0, 0.0));
    REQUIRE(coordinator);
    SearchRequest r;
    r.query = "myelin";
    calls = 0;
    auto answer = coordinator->search(r);
    REQUIRE(answer);
    CHECK(answer->failed_shards.size() == 1);
    CHECK(calls <= 3);  // the shards' info, the statistics; not the match of a shard left out
  }
  // Its shard's only replica: the shard is left out, and the answer says why.
  {
    auto coordinator = Searcher::open(coordinator_options({{broken.url()}, {url(servers.s1)}, {url(servers.s2)}}));
    if (coordinator) {
      SearchRequest r;
      r.query = "astrocytes";
      auto answer = coordinator->search(r);
      REQUIRE(answer);
      REQUIRE(answer->failed_shards.size() == 1);
      CHECK_THAT(coordinator->shard_status()[0].error, Catch::Contains("not binary"));
    }
  }
}

TEST_CASE("cluster: an answer a shard cannot put into the protocol fails that search on that shard, its replica stays up",
          "[cluster]") {
  // The shard server checks its answer as the coordinator will read it (encode_checked): one
  // that breaks a bound is an error of this request (kInternal), not a damaged answer.
  ShardAnswer a;
  a.total = 1;
  a.hits.emplace_back();
  a.hits.front().id = "a-1";
  const auto good = encode_checked(a);
  REQUIRE(good);
  CHECK(*good == encode(a));
  a.hit_steps = {1, 2};  // a step for a hit that is not there
  const auto broken = encode_checked(a);
  REQUIRE(!broken);
  CHECK(broken.error().code == ErrorCode::kInternal);
  CHECK_THAT(broken.error().message, Catch::Contains("hit_steps"));
  bool damaged = false;
  const auto sent = decode_shard_answer(encode_error(broken.error()), &damaged);
  CHECK_FALSE(damaged);
  REQUIRE(!sent);
  CHECK(sent.error().code == ErrorCode::kInternal);

  // A coordinator given that error (500) for one search leaves the shard out of it, named, and
  // keeps the replica up: a 1,024-byte word once took every shard down this way, and every
  // search after it was 503 until the retry time.
  ShardServers servers;
  std::atomic<int> refused{0};
  FakeShard p2([&](const httplib::Request& req, httplib::Response& res) {
    if (auto r = decode_shard_request(req.body); r && r->op == ShardOp::kMatch) {
      const auto q = std::find_if(r->params.begin(), r->params.end(), [](const auto& p) { return p.first == "q"; });
      if (q != r->params.end() && q->second == "fatigue") {
        ++refused;
        res.status = 500;
        res.set_content(encode_error({ErrorCode::kInternal, "this shard's answer breaks the shard protocol"}),
                        "application/x-msgpack");
        return;
      }
    }
    slow_page_proxy(servers.s2.port, 0)(req, res);
  });
  auto coordinator = Searcher::open(coordinator_options({{url(servers.s0)}, {url(servers.s1)}, {p2.url()}}));
  REQUIRE(coordinator);
  auto single = Searcher::open(single_options());
  REQUIRE(single);
  SearchRequest r;
  r.query = "fatigue";
  const auto cut = coordinator->search(r);
  REQUIRE(cut);
  CHECK(refused > 0);
  CHECK(cut->failed_shards == std::vector<std::string>{p2.url()});
  for (const auto& s : coordinator->shard_status()) {
    CAPTURE(s.name, s.error);
    CHECK(s.up);
    CHECK(s.replicas_failing == 0);
  }
  check_whole(*single, *coordinator, "multiple sclerosis");
}

TEST_CASE("cluster: a replica that cannot put any answer into the protocol is marked down, the next one asked",
          "[cluster]") {
  ShardServers servers;
  auto unencodable = [](httplib::Response& res) {
    res.status = 500;
    res.set_content(encode_error({ErrorCode::kInternal, "this shard's answer breaks the shard protocol"}),
                    "application/x-msgpack");
  };
  // Every call, its info too (helper-65: it was never marked down, and its turns' searches left
  // the shard out though the other replica would have answered them).
  FakeShard broken([&](const httplib::Request&, httplib::Response& res) { unencodable(res); });
  auto coordinator = Searcher::open(coordinator_options({{url(servers.s0)}, {url(servers.s1)}, {broken.url(), url(servers.s2)}}));
  REQUIRE(coordinator);
  auto single = Searcher::open(single_options());
  REQUIRE(single);
  for (const std::string q : {"fatigue", "multiple sclerosis", "vitamin d", "sleep"}) check_whole(*single, *coordinator, q);
  const ShardStatus status = coordinator->shard_status()[2];
  CHECK(status.up);
  CHECK(status.replicas_failing == 1);
  CHECK_THAT(status.error, Catch::Contains(broken.url()) && Catch::Contains("could not put into the shard protocol"));
  // The same request failing so on both replicas is the request's: both kept up, the shard left
  // out of that search only.
  auto failing_fatigue = [&](const httplib::Request& req, httplib::Response& res) {
    if (auto d = decode_shard_request(req.body); d && d->op == ShardOp::kMatch)
      if (const auto q = std::find_if(d->params.begin(), d->params.end(), [](const auto& p) { return p.first == "q"; });
          q != d->params.end() && q->second == "fatigue")
        return unencodable(res);
    slow_page_proxy(servers.s2.port, 0)(req, res);
  };
  FakeShard a(failing_fatigue), b(failing_fatigue);
  auto both = Searcher::open(coordinator_options({{url(servers.s0)}, {url(servers.s1)}, {a.url(), b.url()}}));
  REQUIRE(both);
  SearchRequest r;
  r.query = "fatigue";
  const auto cut = both->search(r);
  REQUIRE(cut);
  CHECK(cut->failed_shards.size() == 1);
  CHECK(both->shard_status()[2].replicas_failing == 0);
  check_whole(*single, *both, "sleep");
}

TEST_CASE("cluster: two replicas that cannot put a search's answer into the protocol leave the third to answer it",
          "[cluster]") {
  ShardServers servers;
  // Their info answers; every match call fails so (helper-66: with three replicas, the second
  // saying the same was taken for the request's fault: the shard left out though the third
  // would have answered, and both broken ones put back up, unnamed).
  auto broken_match = [&](const httplib::Request& req, httplib::Response& res) {
    if (auto d = decode_shard_request(req.body); d && d->op == ShardOp::kMatch) {
      res.status = 500;
      res.set_content(encode_error({ErrorCode::kInternal, "this shard's answer breaks the shard protocol"}),
                      "application/x-msgpack");
      return;
    }
    slow_page_proxy(servers.s2.port, 0)(req, res);
  };
  FakeShard a(broken_match), b(broken_match);
  auto coordinator =
      Searcher::open(coordinator_options({{url(servers.s0)}, {url(servers.s1)}, {a.url(), b.url(), url(servers.s2)}}));
  REQUIRE(coordinator);
  auto single = Searcher::open(single_options());
  REQUIRE(single);
  for (const std::string q : {"fatigue", "multiple sclerosis", "vitamin d", "sleep"}) {
    CAPTURE(q);
    const auto [one, many] = both_answers(*single, *coordinator, q);
    CHECK(many.failed_shards.empty());
    CHECK(many.total == one.total);
  }
  CHECK(coordinator->shard_status()[2].replicas_failing >= 1);
}

TEST_CASE("cluster: a search whose candidates mostly share no feedback term has one index's related articles",
          "[cluster]") {
  // One feedback term: of the 26 candidates of `lesions on mri`, too few hold it to fill the
  // related articles, though the window holds enough. One index then searches for articles like
  // the term; the coordinator learns it after the page round trip and asks every shard a third
  // time (it gave 3 related articles where one index gives 4).
  auto tweak = [](ServerOptions& o) {
    o.shard_server = true;
    o.searcher.ranking.feedback_terms = 1;
  };
  test::LiveServer s0(indexes().shard(0), tweak), s1(indexes().shard(1), tweak), s2(indexes().shard(2), tweak);
  auto co = coordinator_options({{url(s0)}, {url(s1)}, {url(s2)}});
  co.ranking.feedback_terms = 1;
  auto coordinator = Searcher::open(co);
  REQUIRE(coordinator);
  auto so = single_options();
  so.ranking.feedback_terms = 1;
  auto single = Searcher::open(so);
  REQUIRE(single);
  SearchRequest r;
  r.query = "lesions on mri";
  auto a = single->search(r);
  REQUIRE(coordinator->search(r));  // the first time, a round trip for the statistics too
  auto b = coordinator->search(r);
  REQUIRE(a);
  REQUIRE(b);
  REQUIRE(a->total >= 20);  // more candidates than the page and the related articles need
  REQUIRE(ids(b->hits) == ids(a->hits));
  CHECK(a->related.size() == 4);
  auto x = ids(a->related), y = ids(b->related);
  std::sort(x.begin(), x.end());
  std::sort(y.begin(), y.end());
  CHECK(y == x);
  CHECK(b->shard_round_trips == 3 * 3);  // match, page, and the related articles' fill
  // A search whose candidates fill the related articles makes no third round trip.
  r.query = "multiple sclerosis";
  REQUIRE(coordinator->search(r));
  auto c = coordinator->search(r);
  REQUIRE(c);
  CHECK(c->related.size() == 5);
  CHECK(c->shard_round_trips <= 2 * 3);
}

TEST_CASE("cluster: a search's calls to a shard go to one replica, searches in turn to each", "[cluster]") {
  // Two replicas of shard 0 (proxies in front of one shard server, each logging the calls it
  // takes). Replicas kept by xapian-replicate are at different revisions for a while: a
  // search whose match came from one and page from the other mixed two versions of the shard
  // (seen: total 12 where the old index gives 4 and the new 16).
  ShardServers servers;
  std::mutex mutex;
  std::vector<std::pair<char, ShardOp>> calls;  // (replica, op) in order
  auto logging_proxy = [&](char name) {
    return [&, name](const httplib::Request& req, httplib::Response& res) {
      if (auto r = decode_shard_request(req.body)) {
        std::lock_guard lock(mutex);
        calls.emplace_back(name, r->op);
      }
      httplib::Client c("127.0.0.1", servers.s0.port);
      auto out = c.Post(kShardEndpoint, req.headers, req.body, "application/x-msgpack");
      if (!out) {
        res.status = 502;
        return;
      }
      res.status = out->status;
      res.set_content(out->body, out->get_header_value("Content-Type").c_str());
    };
  };
  FakeShard a(logging_proxy('a')), b(logging_proxy('b'));
  auto coordinator = Searcher::open(coordinator_options({{a.url(), b.url()}, {url(servers.s1)}, {url(servers.s2)}}));
  REQUIRE(coordinator);
  std::set<char> used;
  for (const std::string q : {"astrocytes", "multiple sclerosis", "brain fog", "MS fatigue", "lesions on mri",
                              "pregnancy", "vitamin d -mice", "exercise walking"}) {
    CAPTURE(q);
    {
      std::lock_guard lock(mutex);
      calls.clear();
    }
    SearchRequest r;
    r.query = q;
    REQUIRE(coordinator->search(r));
    std::lock_guard lock(mutex);
    std::set<char> replicas;
    std::size_t searching = 0;
    for (const auto& [name, op] : calls)
      if (op == ShardOp::kMatch || op == ShardOp::kPage || op == ShardOp::kStats) {
        replicas.insert(name);
        ++searching;
      }
    CHECK(searching >= 1);
    CHECK(replicas.size() == 1);  // stats, match and page of one search: one replica
    used.insert(replicas.begin(), replicas.end());
  }
  CHECK(used == std::set<char>{'a', 'b'});  // and the searches still take the replicas in turn
}

TEST_CASE("cluster: pages with feedback follow one another through a coordinator, none repeated or skipped",
          "[cluster][paging]") {
  // As on one index (searcher_test): each step of the global candidates is re-ranked apart on
  // every shard, and the coordinator merges step by step.
  auto steps = [](RankingOptions& r) {
    r.feedback_depth = 4;
    r.feedback_docs = 4;
    r.feedback_min_docs = 2;
    r.feedback_weight = 3;
  };
  auto tweak = [&](ServerOptions& o) {
    o.shard_server = true;
    steps(o.searcher.ranking);
  };
  test::LiveServer s0(indexes().shard(0), tweak), s1(indexes().shard(1), tweak), s2(indexes().shard(2), tweak);
  SearcherOptions options = coordinator_options({{url(s0)}, {url(s1)}, {url(s2)}});
  steps(options.ranking);
  auto coordinator = Searcher::open(options);
  REQUIRE(coordinator);
  for (const char* q : {"multiple sclerosis", "ms brain", "therapy treatment", "brain nerve damage"}) {
    CAPTURE(q);
    SearchRequest whole;
    whole.query = q;
    whole.limit = 40;
    whole.related = false;
    auto all = coordinator->search(whole);
    REQUIRE(all);
    REQUIRE(all->hits.size() > 20);
    std::vector<std::string> paged;
    for (std::size_t offset = 0; offset < all->hits.size(); offset += 2) {
      SearchRequest page = whole;
      page.offset = offset;
      page.limit = 2;
      auto r = coordinator->search(page);
      REQUIRE(r);
      for (const auto& h : r->hits) paged.push_back(h.id);
    }
    CHECK(paged == ids(all->hits));
    CHECK(std::set<std::string>(paged.begin(), paged.end()).size() == paged.size());
  }
}

TEST_CASE("cluster: pages further on, by date or without feedback, have one index's count of related articles",
          "[cluster]") {
  // Each shard left its whole window (every hit up to the page's end) out of its related
  // articles: on page 3 of "ms" by date, a shard of 17 articles had 1 left, one index 5.
  for (const bool feedback : {true, false}) {
    CAPTURE(feedback);
    ShardServers servers(feedback);
    auto coordinator = Searcher::open(coordinator_options(servers.shards(), feedback));
    REQUIRE(coordinator);
    auto single = Searcher::open(single_options(feedback));
    REQUIRE(single);
    for (const char* q : {"ms", "multiple sclerosis", "brain", "therapy"}) {
      for (const SortOrder sort : {SortOrder::kDate, SortOrder::kRelevance}) {
        for (std::size_t offset : {0, 10, 20, 30}) {
          CAPTURE(q, offset, sort == SortOrder::kDate);
          SearchRequest r;
          r.query = q;
          r.sort = sort;
          r.offset = offset;
          auto a = single->search(r);
          auto b = coordinator->search(r);
          REQUIRE(a);
          REQUIRE(b);
          // By relevance with feedback, pages may differ where scores come close (the first
          // case: a few of the bench's queries).
          if (sort == SortOrder::kDate || !feedback) CHECK(ids(b->hits) == ids(a->hits));
          CHECK(b->related.size() == a->related.size());
          const auto page = ids(b->hits);
          for (const auto& h : b->related) CHECK(std::find(page.begin(), page.end(), h.id) == page.end());
        }
      }
    }
  }
}

TEST_CASE("cluster: a damaged article on a shard's page leaves the rest of its hits in the re-ranked answer",
          "[cluster][paging]") {
  // The shard said which step of feedback's candidates each hit is in, one entry per hit
  // re-ranked; the page leaves a damaged article out, and the lists no longer paired: the
  // coordinator refused the shard's answer and marked the shard failed.
  test::TempDir tmp;
  const fs::path copy = tmp / "shard-00";
  fs::copy(indexes().shard(0), copy, fs::copy_options::recursive);
  std::string damaged;
  {
    Xapian::Database db(copy.string());
    const auto t = db.allterms_begin("Q");
    REQUIRE(t != db.allterms_end("Q"));
    damaged = (*t).substr(1);
  }
  test::flip_stored_article(copy, damaged);
  test::LiveServer s0(copy, shard_server()), s1(indexes().shard(1), shard_server()), s2(indexes().shard(2), shard_server());
  auto coordinator = Searcher::open(coordinator_options({{url(s0)}, {url(s1)}, {url(s2)}}));
  REQUIRE(coordinator);
  SearchRequest r;
  r.query = "ms multiple sclerosis";
  r.limit = 50;
  auto b = coordinator->search(r);
  REQUIRE(b);
  CHECK(b->failed_shards.empty());
  const auto got = ids(b->hits);
  CHECK(std::find(got.begin(), got.end(), damaged) == got.end());
  CHECK(got.size() >= 40);
}

TEST_CASE("cluster: a page far down fetches its snippets after the merge: the same page, one round trip more",
          "[cluster][paging]") {
  // Each shard wrote a snippet for every hit of its window (page 1001 of 4,000 articles: 0.36 s
  // against 0.03 s on one index); from fetch_from_offset on, the page's own are fetched.
  for (const bool feedback : {true, false}) {
    CAPTURE(feedback);
    ShardServers servers(feedback);
    SearcherOptions fetching = coordinator_options(servers.shards(), feedback);
    fetching.fetch_from_offset = 10;
    auto deep = Searcher::open(fetching);
    REQUIRE(deep);
    auto whole = Searcher::open(coordinator_options(servers.shards(), feedback));  // fetch_from_offset 100
    REQUIRE(whole);
    std::size_t compared = 0;
    for (const char* q : {"ms", "multiple sclerosis brain", "therapy", "date:2025-01-01..", "-fatigue"}) {
      for (const SortOrder sort : {SortOrder::kDate, SortOrder::kRelevance}) {
        for (std::size_t offset : {0, 10, 20}) {
          CAPTURE(q, offset, sort == SortOrder::kDate);
          SearchRequest r;
          r.query = q;
          r.sort = sort;
          r.offset = offset;
          auto a = whole->search(r);
          auto b = deep->search(r);
          REQUIRE(a);
          REQUIRE(b);
          CHECK(ids(b->hits) == ids(a->hits));
          CHECK(b->total == a->total);
          CHECK(facets(*b) == facets(*a));
          REQUIRE(b->hits.size() == a->hits.size());
          for (std::size_t i = 0; i < a->hits.size(); ++i) {
            CHECK(b->hits[i].snippet.html() == a->hits[i].snippet.html());
            CHECK(b->hits[i].title == a->hits[i].title);
            CHECK(b->hits[i].score == Approx(a->hits[i].score));
            compared += a->hits[i].snippet.empty() ? 0 : 1;
          }
          // The fetch: one round trip more to each shard holding a hit of the page, no more.
          if (offset >= 10 && !b->hits.empty()) {
            CHECK(b->shard_round_trips > a->shard_round_trips);
            CHECK(b->shard_round_trips <= a->shard_round_trips + 3);
          } else {
            CHECK(b->shard_round_trips == a->shard_round_trips);
          }
          CHECK(b->warnings.empty());
          CHECK(b->failed_shards.empty());
          // Without snippets: whole hits (the match sent their keys only), no passage.
          SearchRequest bare = r;
          bare.snippets = false;
          auto c = deep->search(bare);
          REQUIRE(c);
          REQUIRE(c->hits.size() == a->hits.size());
          for (std::size_t i = 0; i < a->hits.size(); ++i) {
            CHECK(c->hits[i].id == a->hits[i].id);
            CHECK(c->hits[i].title == a->hits[i].title);
            CHECK(c->hits[i].topics == a->hits[i].topics);
            CHECK(c->hits[i].takeaway == a->hits[i].takeaway);
            CHECK(c->hits[i].snippet.empty());
          }
        }
      }
    }
    CHECK(compared > 50);
  }
}

TEST_CASE("cluster: the first search after a shard's commit scores with the new statistics, as one index", "[cluster]") {
  // The coordinator caches each search's collection statistics until a shard's revision moves;
  // it learnt of a commit from the match answers, after scoring with the old counts: the first
  // search after a reindex gave 11.2536 where one index gives 11.2543.
  test::TempDir tmp;
  const fs::path articles = tmp / "articles", sharded = tmp / "sharded", single = tmp / "single";
  fs::copy(test::corpus_dir(), articles, fs::copy_options::recursive);
  auto index_both = [&] {
    for (const auto& [db, extra] : {std::pair{single, ""}, std::pair{sharded, "--shards 3"}})
      REQUIRE(test::run_mssearch(fmt::format("index '{}' --db '{}' -q {}", articles.string(), db.string(), extra)).exit_code ==
              0);
  };
  index_both();
  std::vector<std::unique_ptr<test::LiveServer>> shards;
  std::vector<std::vector<std::string>> list;
  for (int i = 0; i < 3; ++i) {
    shards.push_back(std::make_unique<test::LiveServer>(sharded / fmt::format("shard-{:02}", i), shard_server()));
    list.push_back({url(*shards.back())});
  }
  auto coordinator = Searcher::open(coordinator_options(list));
  REQUIRE(coordinator);
  SearchRequest r;
  r.query = "myelin repair";
  REQUIRE(coordinator->search(r));  // its statistics now cached

  // More myelin in one article: the word's counts (and the collection's length) move.
  const fs::path edited = articles / "remyelination-clemastine.md";
  std::string text = test::read_file(edited);
  text += "\nMyelin repair, myelin repair and myelin again: the myelin sheath, myelin repair.\n";
  {
    std::ofstream out(edited, std::ios::trunc);
    out << text;
  }
  index_both();
  auto so = single_options();
  so.db_path = single;
  auto one = Searcher::open(so);
  REQUIRE(one);
  auto expected = one->search(r);
  REQUIRE(expected);
  // A shard server's searcher moves to the newest revision when a call finds it more than a
  // second old: the next search's match answers come from the new revision.
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  auto first = coordinator->search(r);
  REQUIRE(first);
  REQUIRE(ids(first->hits) == ids(expected->hits));
  for (std::size_t i = 0; i < first->hits.size(); ++i) CHECK(first->hits[i].score == Approx(expected->hits[i].score).epsilon(1e-9));
}

TEST_CASE("cluster: statistics cached at a revision are old for a newer one, not for a replica still behind", "[cluster]") {
  StatsCache cache;
  CollectionStats stats;
  stats.documents = 50;
  stats.term_freqs = {{"Zmyelin", 12}};
  cache.store("q", stats, {5, 7});
  CHECK(cache.find("q"));
  CHECK(!cache.check(0, 5));  // the same revision
  CHECK(cache.find("q"));
  // A replica behind the one the statistics came from: forgotten (its counts differ), but the
  // search just made is not asked again (two replicas at different revisions took every
  // search twice while they differed).
  CHECK(!cache.check(1, 6));
  CHECK(!cache.find("q"));
  cache.store("q", stats, {5, 7});
  CHECK(cache.check(1, 8));  // a commit since: the statistics just used were old
  CHECK(!cache.find("q"));
}

TEST_CASE("cluster: a replica behind another is named, and searched only when no current replica answers",
          "[cluster]") {
  // Two replicas of shard 0: copies of one index (one UUID), as xapian-replicate keeps them. A
  // commit on one leaves the other behind until its replication catches up; one whose
  // replication was stuck answered every other search from the old index, and nothing said so.
  ShardServers servers;
  test::TempDir tmp;
  const fs::path old_copy = tmp / "a", new_copy = tmp / "b";
  fs::copy(indexes().shard(0), old_copy, fs::copy_options::recursive);
  fs::copy(indexes().shard(0), new_copy, fs::copy_options::recursive);
  auto commit = [](const fs::path& db) {  // a new revision of the same articles
    Xapian::WritableDatabase w(db.string(), Xapian::DB_OPEN);
    w.set_metadata("test:commit", std::to_string(w.get_revision()));
    w.commit();
  };
  commit(new_copy);
  test::LiveServer a_server(old_copy, shard_server()), b_server(new_copy, shard_server());
  std::mutex mutex;
  std::vector<char> searched;  // the replica of each searching call to shard 0
  std::atomic<bool> b_fails{false};
  auto proxy = [&](char name, int port) {
    return [&, name, port](const httplib::Request& req, httplib::Response& res) {
      if (name == 'b' && b_fails) {
        res.status = 503;
        return;
      }
      if (auto r = decode_shard_request(req.body); r && r->op != ShardOp::kInfo) {
        std::lock_guard lock(mutex);
        searched.push_back(name);
      }
      httplib::Client c("127.0.0.1", port);
      auto out = c.Post(kShardEndpoint, req.headers, req.body, "application/x-msgpack");
      if (!out) {
        res.status = 502;
        return;
      }
      res.status = out->status;
      res.set_content(out->body, out->get_header_value("Content-Type").c_str());
    };
  };
  FakeShard a(proxy('a', a_server.port)), b(proxy('b', b_server.port));
  test::LiveServer server(indexes().single, [&](ServerOptions& o) {
    o.cluster.shards = {{a.url(), b.url()}, {url(servers.s1)}, {url(servers.s2)}};
    o.cluster.retry_seconds = 1;
  });
  // Searches until /readyz says shard 0 has `behind` replicas behind (the shard servers see a
  // commit within a second, the coordinator asks their info once a second): its answer.
  auto settle = [&](int behind) {
    json ready;
    for (int i = 0; i < 60; ++i) {
      CHECK(server.get_json("/api/search?q=astrocytes")["partial"] == false);
      ready = server.get_json("/readyz");
      if (ready["shards"][0].value("replicas_behind", 0) == behind) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return ready;
  };
  auto searches = [&](const std::string& q) {
    {
      std::lock_guard lock(mutex);
      searched.clear();
    }
    for (int i = 0; i < 6; ++i) {
      auto answer = server.get_json("/api/search?q=" + q + "&per_page=" + std::to_string(5 + i));
      CHECK(answer["partial"] == false);
      CHECK(answer["total"].get<int>() > 0);
    }
    std::lock_guard lock(mutex);
    return std::set<char>(searched.begin(), searched.end());
  };

  auto ready = settle(1);
  REQUIRE(ready["shards"][0].value("replicas_behind", 0) == 1);
  CHECK(ready["shards"][0]["up"] == true);
  CHECK(ready["partial"] == false);
  CHECK_THAT(ready["shards"][0].value("error", ""), Catch::Contains(a.url() + ": behind, at revision"));
  CHECK_THAT(ready["shards"][0].value("error", ""), !Catch::Contains(b.url()));
  const std::string shard0 = ready["shards"][0]["name"].get<std::string>();
  CHECK(server.metric("mssearch_shard_replicas_behind{shard=\"" + shard0 + "\"}") == 1);
  CHECK(server.metric("mssearch_shard_replicas_failing{shard=\"" + shard0 + "\"}") == 0);
  CHECK(searches("multiple+sclerosis") == std::set<char>{'b'});  // the old one is passed over

  // Its replication catches up: both in turn again, nothing named.
  commit(old_copy);
  ready = settle(0);
  CHECK(!ready["shards"][0].contains("replicas_behind"));
  CHECK(!ready["shards"][0].contains("error"));
  CHECK(server.metric("mssearch_shard_replicas_behind{shard=\"" + shard0 + "\"}") == 0);
  CHECK(searches("brain+fog") == std::set<char>{'a', 'b'});

  // Behind again, and the current replica fails: the old one answers (an older answer, not a
  // partial one), and the search is whole.
  commit(new_copy);
  REQUIRE(settle(1)["shards"][0].value("replicas_behind", 0) == 1);
  b_fails = true;
  CHECK(searches("fatigue").count('a') == 1);
  // And it is still named behind while it answers alone (it was named no more the moment it
  // began to serve the old answers).
  json alone;
  for (int i = 0; i < 60; ++i) {
    server.get_json("/api/search?q=walking");
    alone = server.get_json("/readyz");
    if (alone["shards"][0].value("error", "").find(b.url() + ": HTTP 503") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  CHECK_THAT(alone["shards"][0].value("error", ""), Catch::Contains(b.url() + ": HTTP 503"));
  CHECK(alone["shards"][0].value("replicas_behind", 0) == 1);
  CHECK_THAT(alone["shards"][0].value("error", ""), Catch::Contains(a.url() + ": behind, at revision"));
}

TEST_CASE("cluster: a shard server restarted over another index at the same revision is scored by its statistics",
          "[cluster]") {
  // helper-87: the statistics summed for a search were kept by revision alone; a shard server
  // restarted over an index built apart (every shard at revision 1 again) left the old index's
  // statistics in use, and its scores were neither index's.
  test::TempDir tmp;
  const fs::path articles = tmp / "articles";
  fs::copy(test::corpus_dir(), articles, fs::copy_options::recursive);
  std::ofstream(articles / "ms-genetics-family-risk.md", std::ios::app) << "\nOkapiword is here.\n";
  const fs::path single = tmp / "single", sharded = tmp / "sharded";
  for (const auto& [db, extra] : {std::pair{single, ""}, std::pair{sharded, "--shards 3"}})
    REQUIRE(test::run_mssearch(fmt::format("index '{}' --db '{}' -q {}", articles.string(), db.string(), extra)).exit_code == 0);
  // Each shard behind a fixed address that forwards to one shard server, then to another.
  ShardServers before(false);
  std::vector<std::unique_ptr<test::LiveServer>> after;
  for (int i = 0; i < 3; ++i)
    after.push_back(std::make_unique<test::LiveServer>(sharded / fmt::format("shard-{:02}", i), shard_server("", false)));
  std::atomic<bool> switched = false;
  std::vector<std::unique_ptr<FakeShard>> fronts;
  for (int i = 0; i < 3; ++i) {
    const int old_port = (i == 0 ? before.s0 : i == 1 ? before.s1 : before.s2).port, new_port = after[i]->port;
    fronts.push_back(std::make_unique<FakeShard>([&switched, old_port, new_port](const httplib::Request& req, httplib::Response& res) {
      httplib::Client c("127.0.0.1", switched ? new_port : old_port);
      auto r = c.Post(kShardEndpoint, req.body, req.get_header_value("Content-Type"));
      if (!r) {
        res.status = 502;
        return;
      }
      res.status = r->status;
      res.set_content(r->body, r->get_header_value("Content-Type"));
    }));
  }
  auto coordinator = Searcher::open(coordinator_options({{fronts[0]->url()}, {fronts[1]->url()}, {fronts[2]->url()}}, false));
  if (!coordinator) FAIL(coordinator.error().message);
  SearchRequest r;
  r.query = "okapiword family";
  REQUIRE(coordinator->search(r));  // its statistics kept: no article holds the word yet
  switched = true;
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // the info refresh is due
  REQUIRE(coordinator->refresh());
  SearcherOptions o = single_options(false);
  o.db_path = single;
  auto one = Searcher::open(o);
  REQUIRE(one);
  const auto [a, b] = both_answers(*one, *coordinator, r.query);
  REQUIRE(!a.hits.empty());
  REQUIRE(a.hits.size() == b.hits.size());
  CHECK(b.hits.front().id == a.hits.front().id);
  CHECK(b.hits.front().score == Approx(a.hits.front().score).epsilon(1e-6));
}

TEST_CASE("cluster: a coordinator listing fewer shards than the index has names the count in every answer", "[cluster]") {
  // helper-87: 2 of 3 shards listed, "ready", 31 of 50 articles found, and nothing said so.
  ShardServers servers(false);
  auto two = Searcher::open(coordinator_options({{url(servers.s0)}, {url(servers.s1)}}, false));
  REQUIRE(two);
  std::string warnings;
  for (const auto& w : two->configuration_warnings()) warnings += w + "\n";
  CHECK_THAT(warnings, Catch::Contains("an index of 3 shards") && Catch::Contains("this coordinator lists 2"));
  // Both servers named, not the first alone (helper-90).
  CHECK_THAT(warnings, Catch::Contains(url(servers.s0)) && Catch::Contains(url(servers.s1)));
  SearchRequest r;
  r.query = "astrocytes";
  auto answer = two->search(r);
  REQUIRE(answer);
  warnings.clear();
  for (const auto& w : answer->warnings) warnings += w + "\n";
  CHECK_THAT(warnings, Catch::Contains("an index of 3 shards"));
  {
    // Every answer drawn from them says so, not the search's alone (helper-88): completions,
    // topic counts, related articles, the page, and `mssearch serve` as it starts.
    test::LiveServer server(indexes().single, [&](ServerOptions& o) {
      o.cluster.shards = {{url(servers.s0)}, {url(servers.s1)}};
      o.searcher.ranking.feedback_docs = 0;  // as the shard servers rank
    });
    for (const std::string path : {"/api/search?q=astrocytes", "/api/suggest?q=astro", "/api/topics"}) {
      INFO(path);
      const auto got = server.get_json(path);
      REQUIRE(got.contains("warnings"));
      CHECK_THAT(got["warnings"][0].get<std::string>(), Catch::Contains("an index of 3 shards"));
    }
    const auto first = server.get_json("/api/search?q=astrocytes")["hits"][0]["id"].get<std::string>();
    CHECK(server.get_json("/api/articles/" + first + "/related").contains("warnings"));
    // The article page's related list too (helper-90: the page said nothing).
    const auto article = server.get("/articles/" + first);
    REQUIRE(article);
    CHECK(article->status == 200);
    CHECK_THAT(article->body, Catch::Contains("You May Also Like") && Catch::Contains("Some related articles may be missing"));
    const auto html = server.get("/?q=astrocytes");
    REQUIRE(html);
    CHECK_THAT(html->body, Catch::Contains("Some articles may be missing from these results"));
    REQUIRE(server.server->configuration_warnings().size() == 1);
    CHECK_THAT(server.server->configuration_warnings().front(), Catch::Contains("this coordinator lists 2"));
  }
  // All three: whole, no warning.
  auto three = Searcher::open(coordinator_options(servers.shards(), false));
  REQUIRE(three);
  CHECK(three->configuration_warnings().empty());
  {
    test::LiveServer server(indexes().single, [&](ServerOptions& o) {
      o.cluster.shards = servers.shards();
      o.searcher.ranking.feedback_docs = 0;
    });
    CHECK(!server.get_json("/api/suggest?q=astro").contains("warnings"));
    CHECK(!server.get_json("/api/topics").contains("warnings"));
    CHECK_THAT(server.get("/?q=astrocytes")->body, !Catch::Contains("may be missing"));
    const auto first = server.get_json("/api/search?q=astrocytes")["hits"][0]["id"].get<std::string>();
    CHECK_THAT(server.get("/articles/" + first)->body, Catch::Contains("You May Also Like") && !Catch::Contains("may be missing"));
  }
  // A shard server over a whole index (not a shard folder) says nothing of a count.
  test::LiveServer whole(indexes().single, shard_server("", false));
  auto one = Searcher::open(coordinator_options({{url(whole)}}, false));
  REQUIRE(one);
  CHECK(one->configuration_warnings().empty());
}
