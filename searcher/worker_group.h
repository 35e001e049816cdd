// WorkerGroup: threads that live as long as their owner and each run one job when asked. A
// coordinator sends every round trip to its shards at once; a thread started and ended per round
// trip cost more than the round trip itself on this kind of machine (each ending thread gives
// its stack and allocator cache back to the kernel: madvise, and a TLB flush on every core).
#pragma once
#include <cstddef>
#include <functional>
#include <memory>
#include <vector>

namespace mssearch {

class WorkerGroup {
 public:
  // Starts up to `threads` threads; fewer when the system has none to give (the jobs they would
  // have run then run in the calling thread).
  explicit WorkerGroup(std::size_t threads);
  ~WorkerGroup();
  WorkerGroup(const WorkerGroup&) = delete;
  WorkerGroup& operator=(const WorkerGroup&) = delete;

  // Runs job(0) … job(n - 1) and returns when all have ended: job 0 in the calling thread, the
  // others on the group's threads, at once. An exception a job throws is thrown here, after
  // all have ended. One run at a time (not thread-safe).
  void run(std::size_t n, const std::function<void(std::size_t)>& job);
  std::size_t threads() const;

 private:
  struct Worker;
  std::vector<std::unique_ptr<Worker>> workers_;
};

}  // namespace mssearch
