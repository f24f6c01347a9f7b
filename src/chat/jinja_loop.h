// Jinja2's `loop` object inside a for loop: index/index0/revindex/first/
// last/length/previtem/nextitem/depth, cycle() and changed(). Like Jinja2's
// LoopContext it pulls items lazily and looks ahead only when `last`,
// `nextitem` or `length` need it, so a loop filter sees the state the body
// has left at the time it runs.
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "chat/jinja_value.h"

namespace nomoat::jinja {

class LoopContext : public Object, public std::enable_shared_from_this<LoopContext> {
 public:
  using Pull = std::function<std::optional<Value>()>;
  // `known_length`: the length of a sized iterable (unset: count by pulling).
  LoopContext(Pull pull, std::optional<int64_t> known_length, uint32_t depth)
      : pull_(std::move(pull)), length_(known_length), depth_(depth) {}

  // The next item, nullopt at the end.
  std::optional<Value> advance();

  std::string type_name() const override { return "LoopContext"; }
  std::string module() const override { return "jinja2.runtime"; }
  std::string repr() const override;
  Value attribute(const std::string& name) override;
  std::optional<int64_t> length() const override;
  uint32_t nesting_depth() const override { return depth_; }

  Value cycle(const CallArgs& args) const;
  bool changed(const CallArgs& args);

 private:
  bool has_next() const;

  mutable Pull pull_;
  mutable std::deque<Value> ahead_;  // pulled, not yet iterated
  mutable std::optional<int64_t> length_;
  uint32_t depth_;
  int64_t index0_ = -1;
  std::optional<Value> current_, before_;
  std::optional<std::vector<Value>> last_changed_;
};

}  // namespace nomoat::jinja
