#include "searcher/worker_group.h"

#include <algorithm>
#include <exception>
#include <semaphore>
#include <system_error>
#include <thread>
#include <vector>

namespace mssearch {

struct WorkerGroup::Worker {
  std::binary_semaphore go{0}, finished{0};
  const std::function<void(std::size_t)>* job = nullptr;  // null: end the thread
  std::size_t index = 0;
  std::exception_ptr error;
  std::thread thread;

  void loop() {
    for (;;) {
      go.acquire();
      if (!job) return;
      try {
        (*job)(index);
      } catch (...) {
        error = std::current_exception();
      }
      finished.release();
    }
  }
};

WorkerGroup::WorkerGroup(std::size_t threads) {
  workers_.reserve(threads);
  for (std::size_t i = 0; i < threads; ++i) {
    auto w = std::make_unique<Worker>();
    try {
      w->thread = std::thread([raw = w.get()] { raw->loop(); });
    } catch (const std::system_error&) {
      break;  // no thread to be had: the rest run in the caller
    }
    workers_.push_back(std::move(w));
  }
}

WorkerGroup::~WorkerGroup() {
  for (auto& w : workers_) {
    w->job = nullptr;
    w->go.release();
    w->thread.join();
  }
}

std::size_t WorkerGroup::threads() const { return workers_.size(); }

void WorkerGroup::run(std::size_t n, const std::function<void(std::size_t)>& job) {
  if (n == 0) return;
  const std::size_t handed = std::min(n - 1, workers_.size());
  for (std::size_t i = 0; i < handed; ++i) {
    Worker& w = *workers_[i];
    w.job = &job;
    w.index = i + 1;
    w.error = nullptr;
    w.go.release();
  }
  std::exception_ptr error;
  // The caller's share: job 0, then any the group has no thread for.
  for (std::size_t i = 0; i < n; i = i == 0 ? handed + 1 : i + 1) {
    try {
      job(i);
    } catch (...) {
      if (!error) error = std::current_exception();
    }
  }
  for (std::size_t i = 0; i < handed; ++i) {
    workers_[i]->finished.acquire();
    if (!error && workers_[i]->error) error = workers_[i]->error;
  }
  if (error) std::rethrow_exception(error);
}

}  // namespace mssearch
