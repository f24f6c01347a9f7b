#include "chat/jinja_loop.h"

#include "chat/jinja_methods.h"

namespace nomoat::jinja {

std::optional<Value> LoopContext::advance() {
  std::optional<Value> item;
  if (!ahead_.empty()) {
    item = std::move(ahead_.front());
    ahead_.pop_front();
  } else {
    item = pull_();
  }
  if (!item) return std::nullopt;
  before_ = std::move(current_);
  current_ = item;
  ++index0_;
  return item;
}

bool LoopContext::has_next() const {
  if (ahead_.empty()) {
    if (auto item = pull_()) ahead_.push_back(std::move(*item));
  }
  return !ahead_.empty();
}

std::optional<int64_t> LoopContext::length() const {
  if (!length_) {
    while (auto item = pull_()) ahead_.push_back(std::move(*item));
    length_ = index0_ + 1 + static_cast<int64_t>(ahead_.size());
  }
  return length_;
}

std::string LoopContext::repr() const { return cat("<LoopContext ", index0_ + 1, "/", *length(), ">"); }

Value LoopContext::cycle(const CallArgs& args) const {
  if (args.positional.empty()) template_fail("no items for cycling given");
  return args.positional[static_cast<size_t>(index0_) % args.positional.size()];
}

bool LoopContext::changed(const CallArgs& args) {
  const std::vector<Value>& value = args.positional;
  bool same = last_changed_ && last_changed_->size() == value.size();
  for (size_t i = 0; same && i < value.size(); ++i) same = equal((*last_changed_)[i], value[i]);
  if (same) return false;
  last_changed_ = value;
  return true;
}

Value LoopContext::attribute(const std::string& name) {
  if (name == "index0") return Value::integer(index0_);
  if (name == "index") return Value::integer(index0_ + 1);
  if (name == "revindex") return Value::integer(*length() - index0_);
  if (name == "revindex0") return Value::integer(*length() - index0_ - 1);
  if (name == "first") return Value::boolean(index0_ == 0);
  if (name == "last") return Value::boolean(!has_next());
  if (name == "length") return Value::integer(*length());
  if (name == "depth") return Value::integer(1);
  if (name == "depth0") return Value::integer(0);
  if (name == "previtem") return before_ ? *before_ : Value::undefined("there is no previous item");
  if (name == "nextitem") return has_next() ? ahead_.front() : Value::undefined("there is no next item");
  const Value self = Value::object(shared_from_this());
  if (name == "cycle") {
    return Value::object(std::make_shared<BoundMethod>(self, "LoopContext", "cycle", [](Evaluator&, const Value& s, CallArgs& a) {
      return static_cast<LoopContext&>(s.object()).cycle(a);
    }));
  }
  if (name == "changed") {
    return Value::object(std::make_shared<BoundMethod>(self, "LoopContext", "changed", [](Evaluator&, const Value& s, CallArgs& a) {
      return Value::boolean(static_cast<LoopContext&>(s.object()).changed(a));
    }));
  }
  return Object::attribute(name);
}

}  // namespace nomoat::jinja
