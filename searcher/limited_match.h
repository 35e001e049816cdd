#pragma once

#include <xapian.h>

namespace mssearch {

// A match whose counting (a check_at_least past the page: spies that must see every match)
// stops at a time limit, as Enquire::set_time_limit would. That one is not used: in Xapian 1.4
// its timer (timer_create, SIGEV_THREAD) sets its flag from a thread of its own, which may run
// after the match returned and the flag's stack slot was reused (a search over shards with a
// microsecond limit crashed under ASan in sorted_facets, on a pointer one such write had
// changed). Here a match spy looks at the clock and ends the counting by an exception; the
// page is then matched again without the spies, as Xapian would finish it once out of time.
//
// Only for local databases: a spy of ours does not travel to a remote one (the spies there
// are Xapian's own). `seconds` 0: no limit.
struct LimitedMSet {
  Xapian::MSet mset;
  bool cut = false;  // the counting stopped at the limit: the spies saw part of the matches
};
LimitedMSet get_mset_within(Xapian::Enquire& enquire, Xapian::doccount first, Xapian::doccount max,
                            Xapian::doccount check_at_least, double seconds);

}  // namespace mssearch
