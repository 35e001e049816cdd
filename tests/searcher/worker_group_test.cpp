// WorkerGroup: the coordinator's threads for its round trips. Every job runs once, at the same
// time as the others, the group's threads are reused from one run to the next, and a job's
// exception reaches the caller only after every job has ended.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <latch>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "searcher/worker_group.h"

using namespace mssearch;

TEST_CASE("worker group: every job runs once, at the same time, on threads kept from run to run", "[workers]") {
  WorkerGroup group(3);
  REQUIRE(group.threads() == 3);
  std::mutex m;
  std::set<std::thread::id> seen_first;
  for (int round = 0; round < 50; ++round) {
    std::vector<int> runs(4, 0);
    std::set<std::thread::id> ids;
    // All four wait for each other: the run would never end if any two shared a thread.
    std::latch all_started(4);
    group.run(4, [&](std::size_t i) {
      all_started.arrive_and_wait();
      std::lock_guard lock(m);
      ++runs[i];
      ids.insert(std::this_thread::get_id());
    });
    CHECK(runs == std::vector<int>{1, 1, 1, 1});
    CHECK(ids.size() == 4);
    CHECK(ids.count(std::this_thread::get_id()) == 1);  // job 0 ran in the caller
    if (round == 0) seen_first = ids;
    CHECK(ids == seen_first);  // the same threads every time, none started anew
  }
}

TEST_CASE("worker group: more jobs than threads run in the caller, fewer leave threads idle", "[workers]") {
  WorkerGroup group(1);
  std::atomic<int> total{0};
  std::mutex m;
  std::vector<std::thread::id> by_job(5);
  group.run(5, [&](std::size_t i) {
    total += static_cast<int>(i) + 1;
    std::lock_guard lock(m);
    by_job[i] = std::this_thread::get_id();
  });
  CHECK(total == 15);
  CHECK(by_job[0] == std::this_thread::get_id());
  CHECK(by_job[1] != std::this_thread::get_id());
  for (std::size_t i = 2; i < 5; ++i) CHECK(by_job[i] == std::this_thread::get_id());
  total = 0;
  group.run(1, [&](std::size_t) { ++total; });
  group.run(0, [&](std::size_t) { ++total; });
  CHECK(total == 1);
  WorkerGroup none(0);
  none.run(3, [&](std::size_t) { ++total; });
  CHECK(total == 4);
}

TEST_CASE("worker group: a job's exception is thrown after every job has ended", "[workers]") {
  WorkerGroup group(3);
  std::atomic<int> ended{0};
  auto job = [&](std::size_t i) {
    if (i == 2) throw std::runtime_error("shard 2 failed");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    ++ended;
  };
  REQUIRE_THROWS_WITH(group.run(4, job), "shard 2 failed");
  CHECK(ended == 3);
  // The group still works afterwards.
  ended = 0;
  group.run(4, [&](std::size_t) { ++ended; });
  CHECK(ended == 4);
}
