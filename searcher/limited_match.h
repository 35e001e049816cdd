#pragma once

#include <xapian.h>

namespace mssearch {

// A match whose counting (a check_at_least past the page: spies that must see every match)
// stops at a time limit, as Enquire::set_time_limit would. That one is not used: in Xapian 1.4
// its timer (timer_create, SIGEV_THREAD) sets its flag from a thread of its own, which may run
// after the match returned and the flag's stack slot was reused (a search over shards with a
// microsecond limit crashed under ASan in sorted_facets, on a pointer one such write had
// changed; a release server with a limit of 0.01 s died of "stack smashing detected"). Here a
// match spy looks at the clock and ends the counting by an exception; the page is then matched
// again without the spies. (Xapian, out of time, goes on with the same pass and keeps what it
// saw in its bounds; the second pass's estimate may be below what the spies counted, which
// callers take into account: FacetCounter::counted.) Only worth it when the matcher can end
// early once it stops counting, i.e. sorted by relevance: sorted by a value it visits every
// match anyway, and the second pass would double the cost.
//
// Only for local databases: a spy of ours does not travel to a remote one (the spies there
// are Xapian's own). `seconds` 0: no limit. Afterwards the enquire holds no match spy.
struct LimitedMSet {
  Xapian::MSet mset;
  bool cut = false;  // the counting stopped at the limit: the spies saw part of the matches
};
LimitedMSet get_mset_within(Xapian::Enquire& enquire, Xapian::doccount first, Xapian::doccount max,
                            Xapian::doccount check_at_least, double seconds);

}  // namespace mssearch
