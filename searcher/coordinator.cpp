#include "searcher/coordinator.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <set>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "schema/edit_distance.h"
#include "schema/schema.h"
#include "schema/text_analyzer.h"
#include "searcher/facet_counter.h"
#include "searcher/matcher.h"
#include "searcher/ranking.h"
#include "searcher/related_finder.h"
#include "searcher/suggest_forms.h"

namespace mssearch {

namespace {

// Calls this soon after a shard failed belong to the same visitor's request (Coordinator::failed_at_).
constexpr std::chrono::milliseconds kSameRequest{1000};

// No shard gave an answer: unavailable (503, try again) when none could be reached; an answer
// that came and was refused (a shard of another protocol that still said 200) is that error.
template <typename Answers>
std::unexpected<Error> none_answered(const Answers& answers) {
  for (const auto& a : answers)
    if (!a && a.error().code != ErrorCode::kUnavailable)
      return fail(a.error().code, "no shard server answered: " + a.error().message);
  return fail(ErrorCode::kUnavailable,
              "no shard server answered: " + (answers.empty() ? std::string("no shards") : answers.front().error().message));
}

// Text as runs of word characters (ASCII letters and digits, and every byte of a multi-byte
// character) and of the separators between them, in order: each run with whether it is a word.
std::vector<std::pair<std::string, bool>> runs_of(const std::string& text) {
  std::vector<std::pair<std::string, bool>> out;
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    const bool word = u >= 0x80 || std::isalnum(u) != 0;
    if (out.empty() || out.back().second != word) out.emplace_back(std::string(), word);
    out.back().first += c;
  }
  return out;
}

// The shards' proposals merged word by word, as one index corrects each word from all the
// spelling data: at each word the correction nearest to what was typed, then the one most
// shards propose; a word none corrected stays, and so does everything between the words (signs,
// brackets, operators, spaces: the first proposal's). Each shard corrects only the words its
// own data holds: by whole proposals, two misspelt words each known to one shard were offered
// with one of them corrected (`anmials tolrate`: "animals tolrate", one index "animals
// tolerate"; 22 of 60 such queries over 3 shards of the sample as one index). Nothing when the
// proposals do not line up with what was typed (a filter moved after the words).
std::optional<std::string> merged_by_word(const std::map<std::string, std::size_t>& proposals, const std::string& typed) {
  const auto typed_runs = runs_of(typed);
  struct Proposal {
    std::vector<std::pair<std::string, bool>> folded, shown;
    std::size_t votes;
  };
  std::vector<Proposal> lined_up;
  for (const auto& [text, votes] : proposals) {
    Proposal p{runs_of(fold_text(text)), runs_of(text), votes};
    if (p.folded.size() != typed_runs.size() || p.shown.size() != typed_runs.size()) return std::nullopt;
    for (std::size_t i = 0; i < typed_runs.size(); ++i)
      if (p.folded[i].second != typed_runs[i].second || p.shown[i].second != typed_runs[i].second ||
          (!typed_runs[i].second && p.folded[i].first != typed_runs[i].first))
        return std::nullopt;
    lined_up.push_back(std::move(p));
  }
  std::string out;
  for (std::size_t i = 0; i < typed_runs.size(); ++i) {
    const std::string* run = &lined_up.front().shown[i].first;
    std::map<std::string, std::pair<std::size_t, const std::string*>> corrections;  // folded: votes, as shown
    if (typed_runs[i].second)
      for (const auto& p : lined_up)
        if (p.folded[i].first != typed_runs[i].first) {
          auto& c = corrections[p.folded[i].first];
          c.first += p.votes;
          c.second = &p.shown[i].first;
        }
    if (!corrections.empty())
      run = std::min_element(corrections.begin(), corrections.end(), [&](const auto& x, const auto& y) {
              const std::size_t dx = edits_between(x.first, typed_runs[i].first), dy = edits_between(y.first, typed_runs[i].first);
              return dx != dy ? dx < dy : x.second.first > y.second.first;
            })->second.second;
    out += *run;
  }
  return out;
}

// Facet counts of several shards, summed, in the order one index gives them.
std::vector<FacetValue> summed(const std::vector<const std::vector<FacetValue>*>& lists) {
  std::map<std::string, Xapian::doccount> counts;
  for (const auto* list : lists)
    for (const auto& f : *list) counts[f.value] += f.count;
  return sorted_facets(counts);
}

enum class Order { kScore, kDate, kCredibility };

// Whether hit a comes before hit b in an answer ordered by `order` (ties by score; by
// credibility, equal scores, as when nothing typed weighs, newest first).
bool before(const SearchHit& a, const SearchHit& b, Order order) {
  if (order == Order::kDate && a.date != b.date) return a.date > b.date;
  if (order == Order::kCredibility && a.credibility.value_or(0) != b.credibility.value_or(0))
    return a.credibility.value_or(0) > b.credibility.value_or(0);
  if (order == Order::kCredibility && a.score == b.score) return a.date > b.date;
  return a.score > b.score;
}

// The shards' hits as one list (each shard's already in order). `steps`, when given: the step
// of feedback's candidates each hit of each list is in (ShardAnswer::hit_steps; none: the
// first), the steps in order, each ordered by `order`.
std::vector<SearchHit> merged(std::vector<std::vector<SearchHit>*> lists, Order order,
                              const std::vector<const std::vector<std::uint32_t>*>& steps = {}) {
  std::vector<std::pair<std::uint32_t, SearchHit>> all;
  for (std::size_t l = 0; l < lists.size(); ++l)
    for (std::size_t i = 0; i < lists[l]->size(); ++i) {
      const std::vector<std::uint32_t>* s = l < steps.size() ? steps[l] : nullptr;
      all.emplace_back(s != nullptr && i < s->size() ? (*s)[i] : 0, std::move((*lists[l])[i]));
    }
  std::stable_sort(all.begin(), all.end(), [&](const auto& a, const auto& b) {
    return a.first != b.first ? a.first < b.first : before(a.second, b.second, order);
  });
  std::vector<SearchHit> out;
  out.reserve(all.size());
  for (auto& [step, hit] : all) out.push_back(std::move(hit));
  return out;
}

}  // namespace

Result<std::unique_ptr<Coordinator>> Coordinator::open(const SearcherOptions& options, const SynonymTable& synonyms) {
  auto transport = options.shard_transport();
  if (!transport || transport->shard_count() == 0) return fail(ErrorCode::kIndexMissing, "no shard servers configured");
  std::unique_ptr<Coordinator> c(new Coordinator(options, std::move(transport)));
  c->ranking_ = ranking_settings(options, synonyms);
  c->limits_ = shard_limits(options);
  c->workers_ = std::make_unique<WorkerGroup>(c->transport_->shard_count() - 1);
  c->take_status();
  if (auto info = c->load_info(true); !info) return std::unexpected(info.error());
  return c;
}

std::vector<Result<ShardAnswer>> Coordinator::fan_out(const std::vector<std::optional<ShardRequest>>& requests,
                                                      std::size_t& round_trips, bool if_up, bool first_call) {
  const std::size_t n = requests.size();
  std::vector<Result<ShardAnswer>> answers(n, fail(ErrorCode::kInternal, "not asked"));
  std::vector<std::size_t> retried(n, 0);
  failed_at_.resize(std::max(failed_at_.size(), n));
  const auto now = std::chrono::steady_clock::now();
  auto ask = [&](std::size_t shard) -> Result<ShardAnswer> {
    const auto failed = failed_at_[shard];  // the epoch: never (steady_clock's may be recent)
    const bool only_if_up = if_up || (failed != std::chrono::steady_clock::time_point{} && now - failed < kSameRequest);
    std::string body = encode(*requests[shard]);
    // Candidates named by docid are a shortcut (the shard matches again without them): not at
    // the cost of a request past the shard servers' limit (a page past offset 7,500 re-ranks
    // 51,200 candidates, 12,800 a shard of four, and the search was refused with a 413).
    if (body.size() > kMaxShardRequestBytes && !requests[shard]->candidate_docids.empty()) {
      ShardRequest lighter = *requests[shard];
      lighter.candidate_docids.clear();
      lighter.docid_key.clear();
      body = encode(lighter);
    }
    // A damaged answer (not a shard answer: a broken or hostile server) marks its replica down
    // and the same call goes to the next one, as a broken connection does: each replica once at
    // most (one marked down for 0 s would be asked again at once). The shard is then unavailable.
    const std::size_t replicas = std::max<std::size_t>(transport_->replica_count(shard), 1);
    std::vector<std::string> unencodable;  // replicas that could not put their answer into the protocol
    for (std::size_t attempt = 0;; ++attempt) {
      auto bytes = only_if_up ? transport_->call_if_up(shard, body) : transport_->call(shard, body);
      if (!bytes) {
        if (first_call && bytes.error().code == ErrorCode::kUnavailable) failed_at_[shard] = std::chrono::steady_clock::now();
        return std::unexpected(bytes.error());
      }
      bool damaged = false;
      auto answer = decode_shard_answer(*bytes, &damaged);
      // A refusal (400) by a replica whose limits are stricter than this coordinator's, which
      // accepted the request: the replica's failure, not the visitor's error (the same URL was
      // a 200 or a 400 by the replica's turn). Another replica is asked, as for a damaged one.
      // The shard's last replica is not marked down for it (it answers the searches within its
      // limits): this call fails, and the search goes on without the shard, named.
      std::string why;
      if (damaged) {
        why = "a damaged answer: " + answer.error().message;
        transport_->reject(shard, why);
      } else if (!answer && answer.error().code == ErrorCode::kBadQuery) {
        const std::string replica = transport_->answered_by(shard);
        const ReplicaLimits* known = nullptr;
        if (shard < replica_limits_.size())
          if (const auto it = replica_limits_[shard].find(replica); it != replica_limits_[shard].end()) known = &it->second;
        if (known == nullptr || known->stricter.empty()) return answer;
        why = "refused a request this coordinator accepts (its limits are stricter: " + known->stricter +
              "): " + answer.error().message;
        if (!transport_->refuse_replica(shard, why))
          return fail(ErrorCode::kUnavailable, shard_name(shard) + " did not answer: " + replica + " " + why);
      } else if (!answer && answer.error().code == ErrorCode::kInternal) {
        // A shard server that could not put its answer into the protocol (encode_checked, HTTP
        // 500): the request's doing when the shard's next replica says so too (both kept up, this
        // search fails on the shard), a broken replica's when the next one answers (it stays
        // down, named). The shard's last replica up is not marked down for it. Before, a replica
        // that gave it to every request was never marked down, nor another asked.
        // Every replica is asked before the request is blamed: with three replicas, two broken
        // ones in a row (or one failing every other call, twice) left the shard out though the
        // third would have answered, and were put back up, unnamed.
        const std::string replica = transport_->answered_by(shard);
        why = "gave an answer it could not put into the shard protocol: " + answer.error().message;
        if (attempt + 1 >= replicas || !transport_->refuse_replica(shard, why)) {
          for (const auto& r : unencodable) transport_->restore(shard, r);
          return answer;
        }
        unencodable.push_back(replica);
      } else {
        return answer;
      }
      if (attempt + 1 >= replicas) {
        if (first_call) failed_at_[shard] = std::chrono::steady_clock::now();
        return fail(ErrorCode::kUnavailable, shard_name(shard) + " did not answer: " + why);
      }
      ++retried[shard];
    }
  };
  std::vector<std::size_t> asked;
  for (std::size_t s = 0; s < n; ++s)
    if (requests[s]) asked.push_back(s);
  workers_->run(asked.size(), [&](std::size_t i) { answers[asked[i]] = ask(asked[i]); });
  round_trips += asked.size();
  for (const std::size_t r : retried) round_trips += r;  // each call sent again counted
  take_status();
  return answers;
}

Result<bool> Coordinator::load_info(bool force) {
  const auto now = std::chrono::steady_clock::now();
  if (!force && now - info_at_ < std::chrono::seconds(1)) return false;
  info_at_ = now;
  ShardRequest ask;
  ask.op = ShardOp::kInfo;
  // Every replica of each shard (their settings and indexes must agree), at once, shard by
  // shard. The refresh (each second, before a search) does not wait for a shard that is marked
  // down (hung): the search itself still asks it, once.
  const std::string body = encode(ask);
  const std::size_t n = transport_->shard_count();
  std::vector<std::vector<std::pair<std::string, Result<ShardAnswer>>>> replies(n);
  failed_at_.resize(std::max(failed_at_.size(), n));
  workers_->run(n, [&](std::size_t s) {
    for (auto& [replica, bytes] : transport_->call_each(s, body, !force)) {
      if (!bytes) {
        replies[s].emplace_back(replica, std::unexpected(bytes.error()));
        continue;
      }
      bool damaged = false;
      auto answer = decode_shard_answer(*bytes, &damaged);
      // A damaged answer marks its replica down, named in /readyz, as a search's would; so does
      // one it could not put into the protocol (500, kInternal): no info request is at fault.
      if (damaged) transport_->reject(s, "a damaged answer: " + answer.error().message, replica);
      else if (!answer && answer.error().code == ErrorCode::kInternal)
        transport_->reject(s, "gave an answer it could not put into the shard protocol: " + answer.error().message, replica);
      replies[s].emplace_back(replica, std::move(answer));
    }
    if (std::none_of(replies[s].begin(), replies[s].end(), [](const auto& r) { return r.second.has_value(); }))
      failed_at_[s] = std::chrono::steady_clock::now();
  });
  info_missing_.assign(n, false);
  for (std::size_t s = 0; s < n; ++s)
    info_missing_[s] = std::none_of(replies[s].begin(), replies[s].end(), [](const auto& r) { return r.second.has_value(); });
  take_status();
  // Each shard's answer: its first replica's that answered, else the last error.
  std::vector<Result<ShardAnswer>> answers;
  for (auto& list : replies) {
    auto good = std::find_if(list.begin(), list.end(), [](const auto& r) { return r.second.has_value(); });
    answers.push_back(good != list.end() ? good->second : list.back().second);
  }
  std::uint64_t revision = 0;
  mismatch_.clear();
  replica_limits_.resize(n);
  std::vector<const std::vector<FacetValue>*> topics;
  duplicate_.clear();
  count_mismatch_.clear();
  std::vector<std::string> left_out(answers.size());
  std::vector<std::string> unguarded, not_ready;
  std::map<std::string, std::size_t> shard_of_uuid;  // each database's shard, by its UUID
  std::map<std::size_t, std::vector<std::string>> miscounted;  // servers by their index's count of shards
  for (std::size_t s = 0; s < answers.size(); ++s) {
    if (!answers[s]) continue;
    const std::vector<std::string>* first_uuids = nullptr;
    std::string first_replica;
    for (const auto& [replica, answer] : replies[s]) {
      if (!answer) continue;
      const std::string name = replica.empty() ? shard_name(s) : replica;
      // One index listed as two shards (a host written two ways, a copy given a second entry)
      // would count its articles twice: refused at start, named afterwards.
      for (const auto& uuid : answer->uuids) {
        const auto [seen, first] = shard_of_uuid.emplace(uuid, s);
        if (first || seen->second == s) continue;
        const std::string what = "shards " + shard_name(seen->second) + " and " + shard_name(s) +
                                 " answer from the same index (UUID " + uuid +
                                 "): list each shard once (replicas of one shard go in one entry)";
        if (force) return fail(ErrorCode::kIo, what);
        duplicate_ = what;
        // Left out of the answers, which are partial: counted twice, the totals, topics and
        // documents were the sum with the other's (helper-96, helper-100: 50 documents said
        // where 32 articles could be found, `sleep` 10 where one index finds 11).
        left_out[s] = "answers from the same index as " + shard_name(seen->second) + " (UUID " + uuid +
                      "): left out, its articles would be counted twice; give it its own shard's index";
      }
      // A shard of an index of N shards behind a coordinator listing another number: the
      // articles of the shards not listed are in no answer, which said nothing of them
      // (helper-87: 2 of 3 shards listed, "ready", 31 of 50 articles found, no warning). Named
      // in /readyz and every answer's warnings.
      // Named, not refused: a subset may be served on purpose for a while. Every such server is
      // named (the first alone was, of two).
      if (answer->of_shards > 0 && answer->of_shards != n) miscounted[answer->of_shards].push_back(name);
      // A secret sent to a shard server that checks none guards nothing: whoever reaches its
      // port uses its internal endpoint (helper-94: the coordinator's secret alone said nothing).
      if (options_.sends_shard_secret && answer->checks_secret == false) unguarded.push_back(name);
      // A shard server that still answers from files gone from disk (its index moved or
      // deleted: a restart of it would find none), or that found its index damaged, says so in
      // its own /readyz; the coordinator's said every shard up (helper-100).
      if (!answer->not_ready.empty())
        not_ready.push_back("shard server " + name + " is not ready: " + answer->not_ready);
      // Replicas of one shard answer from one index (copies keep its UUID): two shards listed as
      // replicas of one would each answer some searches. Named, not refused: a replica still
      // copying a --full rebuild differs for a while too.
      if (!first_uuids) {
        first_uuids = &answer->uuids;
        first_replica = name;
        // Another index than the shard answered from before (a shard server restarted over an
        // index built apart, at the same revision): the statistics summed from the old one are
        // forgotten. They were kept, keyed by revision alone, and its scores stayed the old
        // index's (helper-87: 4.675 where one index and a new coordinator gave 3.542).
        shard_uuids_.resize(n);
        if (!answer->uuids.empty()) {
          if (!shard_uuids_[s].empty() && shard_uuids_[s] != answer->uuids) transport_->stats_cache().clear();
          // Shared by the server's searchers: the revision goes up once for another index,
          // whichever of them sees it first.
          transport_->stats_cache().note_index(s, answer->uuids);
          shard_uuids_[s] = answer->uuids;
        }
      } else if (!answer->uuids.empty() && !first_uuids->empty() && answer->uuids != *first_uuids) {
        duplicate_ = "replicas " + first_replica + " and " + name + " of one shard answer from different indexes (UUID " +
                     first_uuids->front() + ", " + answer->uuids.front() +
                     "): list each shard in its own entry (or a replica is still copying a --full rebuild)";
      }
      // Answers merged by other settings than the shards ranked with would be neither one's:
      // refused at start, named (afterwards, a shard restarted with other settings is named in
      // the answer's warnings).
      const std::string differ = answer->ranking.empty() ? "" : settings_differ(ranking_, answer->ranking);
      if (!differ.empty()) {
        const std::string what = "shard server " + name + " ranks with other settings than this coordinator (" + differ +
                                 "): give them the same ranking settings and synonyms file";
        if (force) return fail(ErrorCode::kSchemaMismatch, what);
        mismatch_ = what;
      }
      // Other limits: a shard server with stricter ones refuses (400) searches this coordinator
      // accepts, by its turn (a long query, a page far down), and one with other word limits
      // searches fewer or more of a long question's words than one index would. Refused at
      // start; afterwards named, and a refusal by stricter limits is that replica's failure.
      // Kept for a replica that does not answer (marked down for a refusal), until it does.
      if (!answer->limits.empty()) {
        const std::string other = settings_differ(limits_, answer->limits);
        if (!other.empty() && force)
          return fail(ErrorCode::kSchemaMismatch, "shard server " + name + " has other limits than this coordinator (" +
                                                      other + "): give them the same limits (one mssearch.yaml)");
        if (!replica.empty()) {
          if (other.empty()) replica_limits_[s].erase(replica);
          else replica_limits_[s][replica] = {other, stricter_limits(limits_, answer->limits)};
        }
      }
    }
    // Replicas of a shard at different revisions (xapian-replicate copies each commit on its
    // own timetable; one whose replication was stuck gave a search old and new answers by turns,
    // and nothing said so). Compared with each replica's last known revision, so that one
    // behind is still named while it answers alone (the current one down), and across a
    // --full rebuild (a new UUID: mssearch's revisions go on growing through it).
    replica_behind_.resize(n);
    replica_revision_.resize(n);
    for (const auto& [replica, answer] : replies[s])
      if (!replica.empty() && answer) replica_revision_[s][replica] = answer->revision;
    std::uint64_t newest = 0;
    for (const auto& [replica, known] : replica_revision_[s]) newest = std::max(newest, known);
    for (const auto& [replica, answer] : replies[s]) {
      if (replica.empty() || !answer) continue;
      auto& behind = replica_behind_[s];
      const bool old = answer->revision < newest;
      if (!old) behind.erase(replica);
      else if (auto [it, first] = behind.try_emplace(replica, Behind{answer->revision, newest, now}); !first)
        it->second.revision = answer->revision, it->second.newest = newest;
      transport_->set_behind(s, replica, old);
    }
    revision += answers[s]->revision;
    topics.push_back(&answers[s]->topics);
  }
  not_ready_ = std::move(not_ready);
  left_out_ = std::move(left_out);
  unguarded_ = unguarded.empty() ? std::string()
                                 : fmt::format("this coordinator sends a shard secret, but no shard secret is checked by: {} "
                                               "(anyone who reaches such a port can use the internal endpoint: set "
                                               "shard_secret on each)",
                                               fmt::join(unguarded, ", "));
  for (const auto& [of_shards, names] : miscounted)
    count_mismatch_ += fmt::format(
        "{}shard server{} {} answer{} from one shard of an index of {} shards, and this coordinator lists {}: list "
        "every shard of that index, one entry each (the articles of the others are in no answer)",
        count_mismatch_.empty() ? "" : "; ", names.size() > 1 ? "s" : "", fmt::join(names, ", "),
        names.size() > 1 ? "" : "s", of_shards, answers.size());
  // Each shard's articles and topics as its last answer gave them; none for a shard that gave
  // none (down). What the coordinator says it holds is the sum over the shards up (recount()).
  figures_.resize(answers.size());
  for (std::size_t s = 0; s < answers.size(); ++s) {
    if (answers[s]) figures_[s] = Figures{answers[s]->documents, answers[s]->topics};
    else figures_[s].reset();
  }
  const std::uint32_t before = documents_;
  take_status();  // with the replicas' limits just learnt; recounts
  // No shard answered: nothing to count (the last counts were kept: /api/topics answered them
  // in full and /readyz said 50 documents with every shard down).
  if (topics.empty()) return none_answered(answers);
  const bool changed = documents_ != before || revision != summed_revision_;
  summed_revision_ = revision;
  // The revision only grows (README): a shard that is down keeps its last one in the sum (it
  // went from 3 to 2 while a shard was down), and a replica behind another never lowers it.
  shard_revisions_.resize(answers.size(), 0);
  std::uint64_t known = 0;
  for (std::size_t s = 0; s < answers.size(); ++s) {
    if (answers[s]) shard_revisions_[s] = answers[s]->revision;
    known += shard_revisions_[s];
  }
  // Shared by the server's searchers: one opened while a shard is down starts from what the
  // others said (helper-87: /readyz's revision went from 3 to 2 and back).
  revision_ = transport_->stats_cache().said_revision(known);
  return changed;
}

void Coordinator::recount() {
  std::uint32_t documents = 0;
  std::vector<const std::vector<FacetValue>*> topics;
  for (std::size_t s = 0; s < figures_.size(); ++s) {
    if (!figures_[s] || (s < status_.size() && !status_[s].up)) continue;
    documents += figures_[s]->documents;
    topics.push_back(&figures_[s]->topics);
  }
  documents_ = documents;
  topics_ = summed(topics);
}

Result<bool> Coordinator::refresh() { return load_info(false); }

void Coordinator::take_status() {
  status_ = transport_->status();
  for (std::size_t s = 0; s < status_.size() && s < info_missing_.size(); ++s) {
    if (!info_missing_[s] || !status_[s].up) continue;
    status_[s].up = false;
    if (status_[s].error.empty()) status_[s].error = "no answer to the last info refresh";
  }
  for (std::size_t s = 0; s < status_.size() && s < left_out_.size(); ++s) {
    if (left_out_[s].empty() || !status_[s].up) continue;
    status_[s].up = false;
    status_[s].error = left_out_[s];
  }
  // A replica with other limits is named under its shard in /readyz (also while it answers), and
  // one with stricter limits, which refuses what the others answer, counts as failing.
  for (std::size_t s = 0; s < status_.size() && s < replica_limits_.size(); ++s)
    for (const auto& [replica, limits] : replica_limits_[s]) {
      const bool named = status_[s].error.find(replica + ": ") != std::string::npos;  // failing already
      if (!limits.stricter.empty() && !named) ++status_[s].replicas_failing;
      status_[s].error += (status_[s].error.empty() ? "" : "; ") + replica + ": other limits than this coordinator (" +
                          limits.differ + ")";
    }
  const auto now = std::chrono::steady_clock::now();
  for (std::size_t s = 0; s < status_.size() && s < replica_behind_.size(); ++s)
    for (const auto& [replica, behind] : replica_behind_[s]) {
      ++status_[s].replicas_behind;
      const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(now - behind.since).count();
      status_[s].error += fmt::format(
          "{}{}: behind, at revision {} while another replica is at {}, for {} s (searched only when no current "
          "replica answers: is its xapian-replicate running?)",
          status_[s].error.empty() ? "" : "; ", replica, behind.revision, behind.newest, seconds);
    }
  recount();
}

std::string Coordinator::shard_name(std::size_t shard) const {
  return shard < status_.size() ? status_[shard].name : "shard " + std::to_string(shard);
}

Result<std::optional<CollectionStats>> Coordinator::stats_for(const ShardRequest& first, std::size_t& round_trips,
                                                              std::vector<std::optional<Error>>& unavailable) {
  std::string key;
  for (const auto& [name, value] : first.params) key += name + '\x1f' + value + '\x1e';
  StatsCache& cache = transport_->stats_cache();
  if (auto known = cache.find(key)) return known;
  ShardRequest ask = first;
  ask.op = ShardOp::kStats;
  std::vector<std::optional<ShardRequest>> asks(transport_->shard_count(), ask);
  for (std::size_t s = 0; s < asks.size() && s < unavailable.size(); ++s)
    if (unavailable[s]) asks[s].reset();
  auto answers = fan_out(asks, round_trips);
  CollectionStats stats;
  std::map<std::string, std::uint64_t> sums;
  std::vector<std::uint64_t> revisions(answers.size(), 0);
  bool any = false, prefix_somewhere = false, word_somewhere = false;
  for (std::size_t s = 0; s < answers.size(); ++s) {
    if (!asks[s]) continue;  // left out from the start
    if (!answers[s]) {
      if (answers[s].error().code == ErrorCode::kBadQuery) return std::unexpected(answers[s].error());
      if (answers[s].error().code == ErrorCode::kUnavailable) unavailable[s] = answers[s].error();
      continue;  // left out of this answer (and of its statistics)
    }
    any = true;
    stats.documents += answers[s]->documents;
    stats.total_length += answers[s]->total_length;
    revisions[s] = answers[s]->revision;
    (answers[s]->last_word_prefix ? prefix_somewhere : word_somewhere) = true;
    for (const auto& [term, freq] : answers[s]->term_freqs) sums[term] += freq;
  }
  if (!any) return std::optional<CollectionStats>();
  // Only where the shards disagree: text every shard reads whole (a date being typed, syntax)
  // stays as typed (asked whole, a date half typed was refused).
  stats.last_word_known = prefix_somewhere && word_somewhere;
  for (const auto& [term, freq] : sums)
    stats.term_freqs.emplace_back(term, static_cast<std::uint32_t>(std::min<std::uint64_t>(freq, UINT32_MAX)));
  cache.store(key, stats, std::move(revisions));
  return std::optional<CollectionStats>(std::move(stats));
}

Result<SearchResult> Coordinator::search(const SearchRequest& request) {
  const auto start = std::chrono::steady_clock::now();
  std::vector<bool> failed;  // by shard: left out of the first search
  auto result = search_once(request, failed);
  if (!result) return result;
  // "Did you mean", as one index offers it: the shards that found few proposed a correction.
  if (!result->showing_corrected && result->total < 3 && result->did_you_mean) {
    SearchRequest again = request;
    again.query = *result->did_you_mean;
    again.partial = false;
    result->did_you_mean.reset();
    // Not a shard that failed the first search (hung: a second deadline for the same visitor).
    auto better = search_once(again, failed);
    if (better && (better->total > result->total || (result->total > 0 && better->total == result->total))) {
      const std::size_t trips = result->shard_round_trips + better->shard_round_trips;
      better->timed_out = better->timed_out || result->timed_out;
      const std::string corrected = again.query;
      if (result->total == 0) {
        better->query = request.query;
        better->showing_corrected = true;
        better->query_terms_dropped = result->query_terms_dropped;
        better->query_phrases_relaxed = result->query_phrases_relaxed;
        better->last_word_prefix = result->last_word_prefix;
        result = std::move(better);
      }
      result->did_you_mean = corrected;
      result->shard_round_trips = trips;
    } else if (better) {
      result->shard_round_trips += better->shard_round_trips;
    }
  } else if (result->total < 3) {
    result->did_you_mean.reset();  // found enough: no shard's proposal is offered
  }
  // Nothing still: the last word read as the beginning of words, as one index does (and as the
  // page showed while it was typed).
  if (result->total == 0 && !request.partial && !result->showing_corrected) {
    SearchRequest again = request;
    again.partial = true;
    auto completed = search_once(again, failed);
    if (completed) result->shard_round_trips += completed->shard_round_trips;
    if (completed && completed->total > 0 && completed->last_word_prefix) {
      completed->shard_round_trips = result->shard_round_trips;
      completed->query = request.query;
      completed->showing_completions = true;
      completed->last_word_prefix = false;  // a search, not typing, for the analytics
      result = std::move(completed);
    }
  }
  // Found enough with a word no shard knows: the shards' proposal is offered, not searched.
  // No word is named missing beside a correction, as one index names none.
  if (result->did_you_mean || result->showing_completions) result->missing_words.clear();
  for (auto& warning : configuration_warnings()) result->warnings.push_back(std::move(warning));
  result->took_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  return result;
}

std::vector<std::string> Coordinator::configuration_warnings() const {
  std::vector<std::string> out;
  if (!mismatch_.empty()) out.push_back(mismatch_);
  for (const auto& replicas : replica_limits_)
    for (const auto& [replica, limits] : replicas)
      out.push_back("shard server " + replica + " has other limits than this coordinator (" + limits.differ +
                    "): give them the same limits (one mssearch.yaml)");
  if (!duplicate_.empty()) out.push_back(duplicate_);
  if (!count_mismatch_.empty()) out.push_back(count_mismatch_);
  if (!unguarded_.empty()) out.push_back(unguarded_);
  out.insert(out.end(), not_ready_.begin(), not_ready_.end());
  return out;
}

Result<SearchResult> Coordinator::search_once(const SearchRequest& request, std::vector<bool>& failed) {
  failed.resize(transport_->shard_count(), false);
  const std::vector<bool> skip = failed;
  // Each shard's calls of this search to one replica (ShardTransport::begin_search).
  struct Pinned {
    ShardTransport& transport;
    explicit Pinned(ShardTransport& t) : transport(t) { transport.begin_search(); }
    ~Pinned() { transport.end_search(); }
    Pinned(const Pinned&) = delete;
    Pinned& operator=(const Pinned&) = delete;
  } pinned(*transport_);
  const std::size_t offset = std::min(request.offset, options_.max_offset);
  const std::size_t limit = std::min(request.limit, options_.max_limit);
  ShardRequest first;
  first.op = ShardOp::kMatch;
  first.params = shard_params(request);
  first.window = offset + limit;
  first.limit = limit;  // kMatch: the page's size (its related articles)
  first.snippet_length = options_.snippet_length;
  first.facets = request.facets;
  // A page far down (Elasticsearch's query-then-fetch): the shards answer their whole window
  // without snippets, and the page's hits are fetched with theirs from their shards after the
  // merge, a round trip more; each shard wrote a snippet for every hit of its window (page 1001
  // of 4,000 articles over 3 shards: 0.36 s, against 0.03 s on one index).
  const bool fetch_page = offset >= options_.fetch_from_offset;
  first.snippets = request.snippets && !fetch_page;
  first.keys_only = fetch_page;
  first.related = request.related;
  SearchResult result;
  result.query = request.query;
  // Every shard scores with the whole collection's statistics: its scores are one index's.
  // Statistics cached before a shard's commit (its match answers from a newer revision) are
  // fetched again and the match asked again, once: the first search after a reindex scored
  // with the old counts (11.2536 where one index gives 11.2543).
  std::vector<std::optional<Error>> unavailable;
  std::vector<Result<ShardAnswer>> answers;
  const ShardParams asked = first.params;
  for (int round = 0;; ++round) {
    unavailable.assign(transport_->shard_count(), std::nullopt);
    for (std::size_t s = 0; s < skip.size() && s < unavailable.size(); ++s)
      if (skip[s]) unavailable[s] = Error{ErrorCode::kUnavailable, shard_name(s) + " did not answer this search's first query"};
    for (std::size_t s = 0; s < left_out_.size() && s < unavailable.size(); ++s)
      if (!left_out_[s].empty()) unavailable[s] = Error{ErrorCode::kUnavailable, shard_name(s) + " " + left_out_[s]};
    first.params = asked;
    first.stats.reset();
    auto stats = stats_for(first, result.shard_round_trips, unavailable);
    if (!stats) return std::unexpected(stats.error());
    // As you type, a last word one shard has is a word, as one index holding them all reads it:
    // every shard is asked for the whole word (a shard to which it was unknown read it as a
    // prefix, and the total came out larger than one index's). The statistics hold its terms.
    if (request.partial && *stats && (*stats)->last_word_known) {
      SearchRequest whole = request;
      whole.partial = false;
      first.params = shard_params(whole);
    }
    first.stats = std::move(*stats);
    // A shard no replica of which answered the statistics' call is left out of this search, not
    // asked again (a hung shard cost the search a second deadline).
    std::vector<std::optional<ShardRequest>> match(transport_->shard_count(), first);
    for (std::size_t s = 0; s < match.size(); ++s)
      if (unavailable[s]) match[s].reset();
    answers = fan_out(match, result.shard_round_trips);
    for (std::size_t s = 0; s < answers.size(); ++s)
      if (unavailable[s]) answers[s] = std::unexpected(*unavailable[s]);
    bool stale = false;
    for (std::size_t s = 0; s < answers.size(); ++s)
      if (answers[s] && transport_->stats_cache().check(s, answers[s]->revision)) stale = true;
    if (!stale || round == 1) break;
  }

  // A request a shard refuses, every shard refuses: the visitor's error, not a shard's failure.
  std::vector<std::size_t> up;
  for (std::size_t s = 0; s < answers.size(); ++s) {
    if (answers[s]) {
      up.push_back(s);
    } else if (answers[s].error().code == ErrorCode::kBadQuery) {
      return std::unexpected(answers[s].error());
    } else {
      failed[s] = true;
    }
  }
  if (up.empty()) return none_answered(answers);

  std::vector<const std::vector<FacetValue>*> topics, years, journals;
  bool reranked = false;
  Order order = Order::kScore;
  std::map<std::string, std::size_t> proposals;  // "did you mean": each shard's correction
  bool vetoed = false;
  for (std::size_t s : up) {
    ShardAnswer& a = *answers[s];
    result.total += a.total;
    result.total_is_exact = result.total_is_exact && a.total_is_exact;
    result.timed_out = result.timed_out || a.timed_out;
    topics.push_back(&a.topic_facets);
    years.push_back(&a.year_facets);
    journals.push_back(&a.journal_facets);
    result.query_terms_dropped = std::max(result.query_terms_dropped, a.query_terms_dropped);
    result.query_phrases_relaxed = std::max(result.query_phrases_relaxed, a.query_phrases_relaxed);
    result.last_word_prefix = result.last_word_prefix || a.last_word_prefix;
    // A shard's warnings are its damaged articles (a shard server's settings are the
    // coordinator's to name, below).
    result.damaged_articles += a.warnings.size();
    std::move(a.warnings.begin(), a.warnings.end(), std::back_inserter(result.warnings));
    reranked = reranked || a.reranked;
    if (a.order == "date") order = Order::kDate;
    if (a.order == "credibility") order = Order::kCredibility;
  }
  result.order = order == Order::kDate ? SortOrder::kDate : order == Order::kCredibility ? SortOrder::kCredibility : SortOrder::kRelevance;
  for (std::size_t s : up) {
    const ShardAnswer& a = *answers[s];
    // A shard that found fewer than 3 proposes the correction one index offers when it finds
    // few; when the shards together found enough, one index offers the short query's
    // correction instead (as you type, `astrocyt` was offered "astrocytes" by a shard of few
    // hits), which such a shard says apart (`typo`: before, it abstained, and when every shard
    // found few, `ocrevous walking stick` was offered nothing).
    const bool few_here = a.total < 3 && result.total >= 3;
    const std::optional<std::string>& proposal = few_here ? a.typo : a.spelling;
    if (proposal) ++proposals[*proposal];
    // A shard that found the words and proposes nothing knows them (its spelling data holds
    // them): no correction, as one index would offer none. Unless it says a word is unknown
    // to it too and it has no neighbour for it: then it abstains.
    else if (a.total > 0 && !(few_here ? a.typo_unknown : a.spelling_unknown)) vetoed = true;
  }
  // The proposal nearest to what was typed, as Xapian's corrector prefers the fewest edits over
  // one index's spelling data; then the most shards'. By votes alone, `remylination` was
  // offered (and searched as) "demyelination", two shards' word, not "remyelination".
  if (!vetoed && !proposals.empty()) {
    const std::string typed = fold_text(request.query);
    result.did_you_mean = proposals.size() > 1 ? merged_by_word(proposals, typed) : std::nullopt;
    if (!result.did_you_mean)
      result.did_you_mean = std::min_element(proposals.begin(), proposals.end(), [&](const auto& x, const auto& y) {
                              const std::size_t dx = edits_between(fold_text(x.first), typed);
                              const std::size_t dy = edits_between(fold_text(y.first), typed);
                              return dx != dy ? dx < dy : x.second > y.second;
                            })->first;
  }
  // The words no shard has, each shard answering (one that found nothing under a filter may
  // still have the word: helper-99); none when a shard did not answer (it may have them).
  if (!result.did_you_mean && result.total > 0 && up.size() == answers.size()) {
    for (std::size_t s : up) {
      const ShardAnswer& a = *answers[s];
      if (s == up.front()) result.missing_words = a.missing_words;
      else std::erase_if(result.missing_words, [&](const std::string& w) {
        return std::find(a.missing_words.begin(), a.missing_words.end(), w) == a.missing_words.end();
      });
    }
  }
  result.topic_facets = summed(topics);
  result.year_facets = summed(years);
  result.journal_facets = summed(journals);
  // What each shard counted, kept for a shard that fails a later round trip: its hits leave
  // the page, and so do its total and counts (they were kept, and a partial answer counted
  // 213 articles and showed none of the failed shard's best ones).
  struct Counted {
    std::uint32_t total = 0;
    std::vector<FacetValue> topics, years, journals;
  };
  std::vector<Counted> counted(answers.size());
  // Of those, each whose ranking round trip failed: the others' hits take its places on the
  // page, so its counts leave the answer with its hits. (A deep page's fetch that fails leaves
  // its hits' places empty, and the counts as they were.)
  std::vector<bool> uncounted(answers.size(), false);
  for (std::size_t s : up)
    counted[s] = {answers[s]->total, std::move(answers[s]->topic_facets), std::move(answers[s]->year_facets),
                  std::move(answers[s]->journal_facets)};

  std::vector<std::vector<SearchHit>*> hits, related, related_more;
  std::vector<const std::vector<std::uint32_t>*> hit_steps;
  // Kept for a third round trip, when the page's related articles run short (below).
  std::vector<std::optional<ShardRequest>> second(answers.size());
  WeightedTerms feedback_used;
  if (reranked) {
    // The global window of candidates: the best `depth` first-pass scores of all shards (each
    // sent its best `depth`); each shard re-ranks its own share of them.
    struct Candidate {
      double score;
      std::size_t shard, rank;
    };
    std::vector<Candidate> all;
    std::size_t depth = 0;
    for (std::size_t s : up) {
      depth = std::max(depth, answers[s]->depth);
      for (std::size_t r = 0; r < answers[s]->candidates.size(); ++r) all.push_back({answers[s]->candidates[r], s, r});
    }
    std::stable_sort(all.begin(), all.end(), [](const Candidate& a, const Candidate& b) { return a.score > b.score; });
    if (all.size() > depth) all.resize(depth);
    std::vector<std::size_t> share(answers.size(), 0);
    // Each step of the global candidates (as one index's: feedback_steps) is re-ranked apart:
    // each shard learns where each ends among its own candidates.
    const std::vector<std::size_t> steps = feedback_steps(first.window, options_.ranking);
    std::vector<std::vector<std::size_t>> shard_steps(answers.size());
    for (std::size_t i = 0, k = 0; i <= all.size(); ++i) {
      for (; k < steps.size() && (steps[k] == i || i == all.size()); ++k)
        for (std::size_t s : up) shard_steps[s].push_back(share[s]);
      if (i < all.size()) ++share[all[i].shard];
    }

    // Feedback's terms from the global best hits, with collection frequencies summed over the
    // shards that reported them (a term's frequency per document, over those shards' documents).
    std::vector<FeedbackDoc> best;
    for (const auto& c : all) {
      if (best.size() >= options_.ranking.feedback_docs) break;
      const auto& docs = answers[c.shard]->feedback_docs;
      if (c.rank < docs.size()) best.push_back(docs[c.rank]);
    }
    // A term's frequencies as the shards that reported it give them (each shard's table sorted
    // by term, searched for the few terms feedback weighs): their sum, and those shards' size.
    auto reported = [&](std::uint32_t TermFreqTable::Freqs::*figure, std::string_view term) {
      std::pair<double, double> sum{0, 0};
      for (std::size_t s : up) {
        const TermFreqTable::Freqs* f = answers[s]->feedback_freqs.find(term);
        if (f == nullptr) continue;
        sum.first += f->*figure;
        sum.second += answers[s]->documents;
      }
      return sum;
    };
    std::set<std::string> query_terms;
    for (std::size_t s : up) query_terms.insert(answers[s]->query_terms.begin(), answers[s]->query_terms.end());
    const auto mean_frequency = [&](std::string_view term) {
      const auto [freq, documents] = reported(&TermFreqTable::Freqs::collection_freq, term);
      if (documents <= 0) return 1.0 / std::max<double>(documents_, 1);
      return std::max(freq, 1.0) / documents;
    };
    const WeightedTerms terms =
        feedback_terms_from(best, {query_terms.begin(), query_terms.end()}, mean_frequency, options_.ranking);

    // A feedback or related term's document frequency over the collection: summed over the
    // shards that reported it, those that did not (none of their best hits held the term)
    // estimated by their size.
    auto add_statistics = [&](const std::string& term) {
      if (!first.stats) return;
      const auto [freq, documents] = reported(&TermFreqTable::Freqs::termfreq, term);
      if (documents <= 0) return;
      const double estimate = freq * static_cast<double>(first.stats->documents) / documents;
      first.stats->term_freqs.emplace_back(term, static_cast<std::uint32_t>(std::lround(estimate)));
    };
    for (const auto& entry : terms) add_statistics(entry.first);
    feedback_used = terms;
    // Related articles as one index finds them: the global candidates by feedback's terms alone,
    // the page's left out; each shard sends its candidates'. Only when the window holds too
    // few candidates beyond the page does each shard also search its index for articles like
    // those terms (or, when feedback found none, like the Bo1 terms of the 3 global best hits,
    // chosen here): a search over each shard's whole index, which at 1 M articles cost more
    // than the rest of the answer when every shard ran it for every search. Without feedback's
    // terms no candidate has a score by them (none would be related), however many there are.
    first.related_fill = request.related && (terms.empty() || all.size() < first.window + options_.related_count);
    if (first.related_fill && terms.empty()) {
      std::vector<FeedbackDoc> three(best.begin(), best.begin() + static_cast<std::ptrdiff_t>(std::min<std::size_t>(3, best.size())));
      for (const auto& entry : feedback_terms_from(three, {query_terms.begin(), query_terms.end()}, mean_frequency,
                                                   related_seed_options(options_.ranking)))
      {
        first.related_terms.push_back(entry.first);
        add_statistics(entry.first);  // scored alike on every shard
      }
    }
    for (std::size_t s : up) {
      // None of its candidates is in the window: not asked, unless for related articles.
      if (share[s] == 0 && !first.related_fill) continue;
      ShardRequest r = first;
      r.op = ShardOp::kPage;
      r.feedback = terms;
      r.candidates = share[s];
      r.candidate_steps = shard_steps[s];
      // Its candidates by docid: a replica at the same index state ranks only those (fan_out
      // leaves them out of a request they would make too large).
      const auto& docids = answers[s]->candidate_docids;
      if (share[s] > 0 && docids.size() >= share[s]) {
        r.candidate_docids.assign(docids.begin(), docids.begin() + static_cast<std::ptrdiff_t>(share[s]));
        r.docid_key = answers[s]->docid_key;
      }
      second[s] = std::move(r);
    }
    auto pages = fan_out(second, result.shard_round_trips);
    // Every shard with candidates in the window failed the page: no answer to give, as when
    // none answered the match (it was a 200 with the total and no hits).
    bool any_page = false, any_asked = false;
    for (std::size_t s = 0; s < pages.size(); ++s)
      if (second[s] && share[s] > 0) {
        any_asked = true;
        any_page = any_page || static_cast<bool>(pages[s]) || pages[s].error().code == ErrorCode::kBadQuery;
      }
    if (any_asked && !any_page) {
      std::vector<Result<ShardAnswer>> unanswered;
      for (std::size_t s = 0; s < pages.size(); ++s)
        if (second[s] && share[s] > 0) unanswered.push_back(std::move(pages[s]));
      return none_answered(unanswered);
    }
    for (std::size_t s = 0; s < pages.size(); ++s) {
      if (!second[s]) continue;
      if (!pages[s]) {
        if (pages[s].error().code == ErrorCode::kBadQuery) return std::unexpected(pages[s].error());
        // A shard with no candidate in the window was asked for related articles only: its
        // hits, total and facets are in the answer, which is not partial without its fill.
        if (share[s] > 0) failed[s] = uncounted[s] = true;
        continue;
      }
      result.damaged_articles += pages[s]->warnings.size();
      std::move(pages[s]->warnings.begin(), pages[s]->warnings.end(), std::back_inserter(result.warnings));
      answers[s] = std::move(pages[s]);
      hits.push_back(&answers[s]->hits);
      hit_steps.push_back(&answers[s]->hit_steps);
      related.push_back(&answers[s]->related);
      related_more.push_back(&answers[s]->related_more);
    }
  } else {
    for (std::size_t s : up) {
      hits.push_back(&answers[s]->hits);
      related.push_back(&answers[s]->related);
    }
  }

  std::unordered_map<std::string, std::size_t> shard_of;  // fetch_page: each hit's shard
  if (fetch_page)
    for (std::size_t s = 0; s < answers.size(); ++s)
      if (answers[s])
        for (const auto& h : answers[s]->hits) shard_of.emplace(h.id, s);
  // The same article from two shards (two indexes of the same articles listed as two shards):
  // once on the page, and said. Each hit was on the page twice, and nothing warned (helper-94).
  std::set<std::pair<std::size_t, std::size_t>> held_twice;
  std::string held_twice_example;
  {
    std::unordered_map<std::string, std::size_t> holder;
    for (std::size_t s = 0; s < answers.size(); ++s) {
      if (!answers[s] || std::find(hits.begin(), hits.end(), &answers[s]->hits) == hits.end()) continue;
      for (const auto& h : answers[s]->hits)
        if (const auto [it, fresh] = holder.emplace(h.id, s); !fresh && it->second != s) {
          held_twice.emplace(it->second, s);
          if (held_twice_example.empty()) held_twice_example = h.id;
        }
    }
  }
  std::vector<SearchHit> all = merged(hits, order, hit_steps);
  if (!held_twice.empty()) {
    std::unordered_set<std::string> seen;
    std::erase_if(all, [&](const SearchHit& h) { return !seen.insert(h.id).second; });
    result.counted_twice = true;
    std::string pairs;
    for (const auto& [a, b] : held_twice) pairs += (pairs.empty() ? "" : "; ") + shard_name(a) + " and " + shard_name(b);
    result.warnings.push_back(fmt::format(
        "the same articles come from two shards ('{}' from {}): each article must be in one shard only "
        "(two indexes of the same articles listed as shards?); totals and facet counts count them twice",
        held_twice_example, pairs));
  }
  const std::size_t from = std::min(offset, all.size());
  const std::size_t to = std::min(offset + limit, all.size());
  result.hits.assign(std::make_move_iterator(all.begin() + static_cast<std::ptrdiff_t>(from)),
                     std::make_move_iterator(all.begin() + static_cast<std::ptrdiff_t>(to)));
  if (fetch_page && !result.hits.empty()) {
    std::vector<std::optional<ShardRequest>> fetch(answers.size());
    for (const auto& h : result.hits) {
      const auto it = shard_of.find(h.id);
      if (it == shard_of.end()) continue;
      if (!fetch[it->second]) {
        ShardRequest r = first;
        r.op = ShardOp::kFetch;
        r.snippets = request.snippets;
        r.keys_only = false;
        r.facets = r.related = false;
        r.feedback.clear();
        fetch[it->second] = std::move(r);
      }
      fetch[it->second]->ids.push_back(h.id);
    }
    auto fetched = fan_out(fetch, result.shard_round_trips);
    std::unordered_map<std::string, SearchHit> whole;
    for (std::size_t s = 0; s < fetched.size(); ++s) {
      if (!fetch[s]) continue;
      if (!fetched[s]) {
        failed[s] = true;
        continue;
      }
      for (auto& h : fetched[s]->hits) whole.emplace(h.id, std::move(h));
    }
    // Each hit whole, its score the merge's; one its shard could not give (it failed, or the
    // article went since the match) leaves the page, which is then marked partial. A shard of
    // an older version answered whole hits (a title) and no fetch: those stay.
    std::vector<SearchHit> page;
    for (auto& h : result.hits) {
      if (auto it = whole.find(h.id); it != whole.end()) {
        const double score = h.score;
        h = std::move(it->second);
        h.score = score;
      } else if (h.title.empty()) {
        continue;
      }
      if (!request.snippets) h.snippet = {};
      page.push_back(std::move(h));
    }
    result.hits = std::move(page);
  }
  if (request.related && !result.hits.empty() && !result.last_word_prefix) {  // as one index: none while typing a prefix
    // One index's related articles: the candidates by feedback's terms alone, then (when those
    // run short) the articles most like those terms; never a hit of the page, none twice.
    std::set<std::string> seen;
    for (const auto& h : result.hits) seen.insert(h.id);
    // related_more only when asked for (a shard's answer carries no more than that).
    if (!first.related_fill) related_more.clear();
    for (auto* lists : {&related, &related_more})
      for (auto& h : merged(*lists, Order::kScore)) {
        if (result.related.size() >= options_.related_count) break;
        if (seen.insert(h.id).second) result.related.push_back(std::move(h));
      }
    // Fewer than one index would give: the window held enough candidates, but too few of them
    // share a feedback term (the coordinator learns it only now). One index then searches for
    // articles like those terms; so does each shard, in a third round trip made only for this.
    // Every shard is asked, also those with no candidate in the window, as every shard is
    // for related_fill in the page round trip.
    if (reranked && !first.related_fill && !feedback_used.empty() && result.related.size() < options_.related_count) {
      std::vector<std::optional<ShardRequest>> third(answers.size());
      for (std::size_t s : up) {
        ShardRequest r = second[s] ? *second[s] : first;
        r.op = ShardOp::kPage;
        r.feedback = feedback_used;
        if (!second[s]) r.candidates = 0;
        r.related_fill = true;
        r.snippets = false;
        third[s] = std::move(r);
      }
      std::vector<std::vector<SearchHit>*> more;
      auto fills = fan_out(third, result.shard_round_trips);
      for (std::size_t s = 0; s < fills.size(); ++s)
        if (third[s] && fills[s]) more.push_back(&fills[s]->related_more);  // a failure costs related articles only
      for (auto& h : merged(more, Order::kScore)) {
        if (result.related.size() >= options_.related_count) break;
        if (seen.insert(h.id).second) result.related.push_back(std::move(h));
      }
    }
  }
  if (std::any_of(up.begin(), up.end(), [&](std::size_t s) { return uncounted[s]; })) {
    topics.clear();
    years.clear();
    journals.clear();
    for (std::size_t s : up) {
      if (uncounted[s]) {
        result.total -= std::min(result.total, counted[s].total);
        continue;
      }
      topics.push_back(&counted[s].topics);
      years.push_back(&counted[s].years);
      journals.push_back(&counted[s].journals);
    }
    result.topic_facets = summed(topics);
    result.year_facets = summed(years);
    result.journal_facets = summed(journals);
  }
  for (std::size_t s = 0; s < failed.size(); ++s)
    if (failed[s]) result.failed_shards.push_back(shard_name(s));
  std::sort(result.failed_shards.begin(), result.failed_shards.end());
  return result;
}

Result<std::vector<SearchHit>> Coordinator::related(const std::string& id, std::size_t limit,
                                                    std::vector<std::string>* failed_shards) {
  ShardRequest ask;
  ask.op = ShardOp::kRelated;
  ask.id = id;
  ask.limit = std::min(limit, options_.max_limit);
  std::size_t trips = 0;
  auto answers = fan_out(std::vector<std::optional<ShardRequest>>(transport_->shard_count(), ask), trips);
  // The shard holding the article answers, with the terms and topics it searched for; the
  // others do not know it.
  std::optional<Error> error;
  std::size_t holder = answers.size();
  for (std::size_t s = 0; s < answers.size(); ++s) {
    if (answers[s]) {
      holder = s;
      break;
    }
    if (answers[s].error().code != ErrorCode::kNotFound || !error) error = answers[s].error();
  }
  if (holder == answers.size()) return std::unexpected(*error);
  const auto failed = [&](std::size_t s) {
    if (failed_shards != nullptr) failed_shards->push_back(shard_name(s));
  };
  for (std::size_t s = 0; s < answers.size(); ++s)
    if (!answers[s] && answers[s].error().code != ErrorCode::kNotFound) failed(s);
  std::vector<SearchHit> hits = std::move(answers[holder]->hits);
  if (answers.size() == 1 || answers[holder]->query_terms.empty()) return hits;
  // As one index finds them: the other shards are asked for articles like those terms too
  // (before 2026-12-05 an article's related articles were its own shard's only), and the
  // lists merged by score. A shard that fails costs its share only.
  ShardRequest like = ask;
  like.related_terms = answers[holder]->query_terms;
  for (const auto& t : answers[holder]->topics) like.related_topics.push_back(t.value);
  std::vector<std::optional<ShardRequest>> asks(answers.size(), like);
  asks[holder].reset();
  // Not a shard that failed the first call (late, down): a second deadline for nothing.
  for (std::size_t s = 0; s < answers.size(); ++s)
    if (!answers[s] && answers[s].error().code != ErrorCode::kNotFound) asks[s].reset();
  auto more = fan_out(asks, trips);
  for (std::size_t s = 0; s < more.size(); ++s) {
    if (!asks[s]) continue;
    if (!more[s]) {
      failed(s);
      continue;
    }
    for (auto& h : more[s]->hits) hits.push_back(std::move(h));
  }
  std::stable_sort(hits.begin(), hits.end(), [](const SearchHit& a, const SearchHit& b) { return a.score > b.score; });
  // Each once, also when two shards hold the same articles (it was listed twice; helper-96).
  std::unordered_set<std::string> seen;
  std::erase_if(hits, [&](const SearchHit& h) { return !seen.insert(h.id).second; });
  if (hits.size() > ask.limit) hits.resize(ask.limit);
  return hits;
}

Result<Article> Coordinator::article(const std::string& id) {
  ShardRequest ask;
  ask.op = ShardOp::kArticle;
  ask.id = id;
  std::size_t trips = 0;
  auto answers = fan_out(std::vector<std::optional<ShardRequest>>(transport_->shard_count(), ask), trips, false,
                         /*first_call=*/true);
  std::optional<Error> error;
  for (auto& a : answers) {
    if (a && !a->article.empty()) {
      try {
        return decode_stored(a->article);
      } catch (const std::runtime_error& e) {
        return fail(ErrorCode::kCorrupt, "article '" + id + "' came damaged from its shard: " + e.what());
      }
    }
    if (!a && (a.error().code != ErrorCode::kNotFound || !error)) error = a.error();
  }
  return std::unexpected(error.value_or(Error{ErrorCode::kNotFound, "no article with id '" + id + "'"}));
}

Result<std::vector<Suggestion>> Coordinator::suggest(const std::string& prefix, std::size_t limit,
                                                     std::vector<std::string>* failed_shards) {
  ShardRequest ask;
  ask.op = ShardOp::kSuggest;
  ask.id = prefix;
  // As many titles as shown, and terms to 100: a term among one shard's first but past
  // another's was counted by the first alone (`faster` 8, one index 9).
  ask.limit = limit;
  ask.window = std::max<std::size_t>(limit, 100);
  std::size_t trips = 0;
  auto answers = fan_out(std::vector<std::optional<ShardRequest>>(transport_->shard_count(), ask), trips);
  // Titles first (each shard's, in turn), then topics and terms with their counts summed.
  std::vector<Suggestion> titles, counted;
  std::optional<Error> error;
  bool any = false;
  std::vector<std::string> failed;
  for (std::size_t shard = 0; shard < answers.size(); ++shard) {
    auto& a = answers[shard];
    if (!a) {
      if (a.error().code == ErrorCode::kBadQuery) return std::unexpected(a.error());
      error = a.error();
      // Named, as a search names it: its titles and its share of the counts are missing.
      failed.push_back(shard_name(shard));
      continue;
    }
    any = true;
    for (auto& s : a->suggestions) {
      if (s.kind == "title") {
        if (std::none_of(titles.begin(), titles.end(), [&](const Suggestion& t) { return t.id == s.id; }))
          titles.push_back(std::move(s));
        continue;
      }
      auto same = std::find_if(counted.begin(), counted.end(),
                               [&](const Suggestion& t) { return t.kind == s.kind && t.text == s.text; });
      if (same != counted.end()) same->count += s.count;
      else counted.push_back(std::move(s));
    }
  }
  if (!any && error) return std::unexpected(*error);
  if (failed_shards != nullptr) *failed_shards = std::move(failed);
  // As many titles as one index offers (Impl::suggest_once): each shard's would otherwise fill
  // the list, leaving no topic or term ("the f" over 2 shards: 8 titles, no "the first").
  if (titles.size() > std::max<std::size_t>(limit / 2, 3)) titles.resize(std::max<std::size_t>(limit / 2, 3));
  // Topics first, then by count; equal counts in the index's order of terms, as one index
  // lists them.
  std::stable_sort(counted.begin(), counted.end(), [](const Suggestion& a, const Suggestion& b) {
    if (a.kind != b.kind) return a.kind == "topic";
    if (a.count != b.count) return a.count > b.count;
    // A topic, or one completing a filter: equal counts by the topic's term, as one index
    // orders topics (in the shards' turns, `r` offered "Retinal imaging" where one index
    // offered "Rehabilitation", both of 1 article).
    if (a.kind == "filter" || a.kind == "topic") return schema::slug(fold_text(a.text)) < schema::slug(fold_text(b.text));
    return a.kind == "term" && a.text < b.text;
  });
  // A term that is a title or topic shown already is left out, as one index leaves it (`fat`
  // offered the term "fatigue" beside the topic Fatigue).
  // And one form of each word, the most frequent (as one index: Impl::suggest_once).
  const Xapian::Stem stemmer(AnalyzerOptions{}.language);  // one a call: a stemmer is not shared by threads
  OneFormPerStem forms(stemmer);
  std::vector<Suggestion> out;
  for (auto* list : {&titles, &counted})
    for (auto& s : *list) {
      if (out.size() >= limit) break;
      if (s.kind == "term") {
        if (std::any_of(out.begin(), out.end(), [&](const Suggestion& o) { return fold_text(o.text) == fold_text(s.text); }))
          continue;
        if (!forms.first(s.text)) continue;
      }
      out.push_back(std::move(s));
    }
  // An exclusion's completions were ordered by the shards' counts, which it does not show.
  if (completes_exclusion(typed_words_apart(prefix)))
    for (auto& s : out) s.count = 0;
  return out;
}

}  // namespace mssearch
