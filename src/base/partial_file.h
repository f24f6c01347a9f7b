// Files written under a temporary name (OUT.partial, renamed when complete)
// that an interrupted process must not leave behind: a stopped conversion
// would otherwise keep a model-sized file on disk.
//
// While a PartialFileGuard lives, SIGINT, SIGTERM and SIGHUP unlink its path
// and then end the process as the signal would have (default action,
// re-raised), so the exit status still names the signal. Only signals whose
// disposition is the default when the first guard starts are handled: an
// ignored signal (nohup) or a program's own handler (chat's Ctrl-C) is left
// alone, and the previous disposition is restored when the last guard ends.
// The handler calls only async-signal-safe functions (unlink, sigaction,
// pthread_sigmask, raise) on paths stored in fixed buffers.
//
// SIGKILL and power loss cannot be caught: callers that own a folder (the
// Hugging Face cache) also remove stale partial files themselves.
#pragma once

#include <string>

namespace nomoat {

class PartialFileGuard {
 public:
  // At most kMaxGuards guards at once, paths of at most kMaxPath bytes
  // (absolute); beyond either the file is written unguarded.
  static constexpr int kMaxGuards = 16;
  static constexpr size_t kMaxPath = 4096;

  explicit PartialFileGuard(const std::string& path);
  ~PartialFileGuard();
  PartialFileGuard(const PartialFileGuard&) = delete;
  PartialFileGuard& operator=(const PartialFileGuard&) = delete;

  // False when the path could not be registered (too many guards, too long).
  bool active() const { return slot_ >= 0; }

 private:
  int slot_ = -1;
};

}  // namespace nomoat
