#include "searcher/limited_match.h"

#include <chrono>

namespace mssearch {

namespace {

struct OutOfTime {};  // thrown through Xapian's matcher, which frees what it holds on the way

class DeadlineSpy final : public Xapian::MatchSpy {
 public:
  explicit DeadlineSpy(std::chrono::steady_clock::time_point at) : at_(at) {}
  void operator()(const Xapian::Document&, double) override {
    // The clock every 16 matches: a few nanoseconds a match.
    if (++seen_ % 16 == 0 && std::chrono::steady_clock::now() >= at_) throw OutOfTime{};
  }

 private:
  std::chrono::steady_clock::time_point at_;
  unsigned seen_ = 0;
};

}  // namespace

LimitedMSet get_mset_within(Xapian::Enquire& enquire, Xapian::doccount first, Xapian::doccount max,
                            Xapian::doccount check_at_least, double seconds) {
  struct ClearSpies {
    Xapian::Enquire& enquire;
    ~ClearSpies() { enquire.clear_matchspies(); }
  } clear{enquire};
  if (!(seconds > 0) || check_at_least <= first + max) return {enquire.get_mset(first, max, check_at_least), false};
  // Past an hour (the server's bound on the setting) a limit is none: no overflow converting it.
  if (seconds > 3600) return {enquire.get_mset(first, max, check_at_least), false};
  const auto at = std::chrono::steady_clock::now() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                                         std::chrono::duration<double>(seconds));
  DeadlineSpy deadline(at);
  enquire.add_matchspy(&deadline);  // after the counting spies: each match seen is counted whole
  try {
    return {enquire.get_mset(first, max, check_at_least), false};
  } catch (const OutOfTime&) {
  }
  enquire.clear_matchspies();
  return {enquire.get_mset(first, max), true};
}

}  // namespace mssearch
