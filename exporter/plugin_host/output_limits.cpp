#include "plugin_host/output_limits.h"

#include <vector>

#include "util/bounded_text.h"

namespace backupdrill::plugin_host {
namespace {

// A name from a plugin, bounded for a message.
std::string shown(std::string_view name) { return "\"" + bounded_text(name, 64) + "\""; }

// "<what> is N bytes, over the limit of L bytes by N-L"
std::string too_long(const std::string& what, size_t size, size_t limit) {
  return what + " is " + std::to_string(size) + " bytes, over the limit of " +
         std::to_string(limit) + " bytes by " + std::to_string(size - limit);
}

std::string past_count(size_t count, size_t limit, const std::string& what) {
  return std::to_string(count) + " " + what + ", " + std::to_string(count - limit) +
         " over the limit of " + std::to_string(limit) + " per check";
}

}  // namespace

bool OutputBudget::admit(size_t bytes, std::string problem) {
  bytes_ += bytes;
  if (over()) return false;
  if (problem.empty() && bytes_ > kMaxOutputBytes) {
    problem = "its lines, values and labels came to more than " + std::to_string(kMaxOutputBytes) +
              " bytes, the limit per check";
  }
  if (problem.empty()) return true;
  first_ = std::move(problem);
  return false;
}

bool OutputBudget::line(std::string_view name, std::string_view value) {
  ++lines_;
  std::string problem;
  if (name.size() > kMaxNameBytes) {
    problem = too_long("the name of report line " + shown(name), name.size(), kMaxNameBytes);
  } else if (value.size() > kMaxTextBytes) {
    problem = too_long("the value of report line " + shown(name), value.size(), kMaxTextBytes);
  } else if (lines_ > kMaxLines) {
    problem =
        "more than " + std::to_string(kMaxLines) + " report and smoke lines, the limit per check";
  }
  return admit(name.size() + value.size(), std::move(problem));
}

bool OutputBudget::smoke(std::string_view text) {
  ++lines_;
  std::string problem;
  if (text.size() > kMaxTextBytes) {
    problem = too_long("a smoke line", text.size(), kMaxTextBytes);
  } else if (lines_ > kMaxLines) {
    problem =
        "more than " + std::to_string(kMaxLines) + " report and smoke lines, the limit per check";
  }
  return admit(text.size(), std::move(problem));
}

bool OutputBudget::value(std::string_view name, const Label* labels, size_t label_count) {
  ++values_;
  size_t bytes = name.size();
  std::string problem;
  if (name.size() > kMaxNameBytes) {
    problem = too_long("the name of value " + shown(name), name.size(), kMaxNameBytes);
  } else if (label_count > kMaxLabels) {
    problem = "value " + shown(name) + " has " + std::to_string(label_count) +
              " labels, over the limit of " + std::to_string(kMaxLabels) + " by " +
              std::to_string(label_count - kMaxLabels);
  } else {
    for (size_t i = 0; i < label_count; ++i) {
      bytes += labels[i].name.size() + labels[i].value.size();
      if (!problem.empty()) continue;
      if (labels[i].name.size() > kMaxNameBytes) {
        problem =
            too_long("a label name of value " + shown(name), labels[i].name.size(), kMaxNameBytes);
      } else if (labels[i].value.size() > kMaxTextBytes) {
        problem = too_long("label " + shown(labels[i].name) + " of value " + shown(name),
                           labels[i].value.size(), kMaxTextBytes);
      }
    }
  }
  if (problem.empty() && values_ > kMaxValues) {
    problem = "more than " + std::to_string(kMaxValues) + " values, the limit per check";
  }
  return admit(bytes, std::move(problem));
}

bool OutputBudget::secret(std::string_view value) {
  ++secrets_;
  std::string problem;
  if (value.size() > kMaxTextBytes) {
    problem = too_long("a secret", value.size(), kMaxTextBytes);
  } else if (secrets_ > kMaxSecrets) {
    problem = "more than " + std::to_string(kMaxSecrets) + " secrets, the limit per check";
  }
  return admit(0, std::move(problem));
}

bool OutputBudget::log() { return ++logs_ <= kMaxLogLines; }

std::string OutputBudget::verdict() const {
  if (!over()) return "";
  std::vector<std::string> totals;
  if (lines_ > kMaxLines) totals.push_back(past_count(lines_, kMaxLines, "report and smoke lines"));
  if (values_ > kMaxValues) totals.push_back(past_count(values_, kMaxValues, "values"));
  if (secrets_ > kMaxSecrets) totals.push_back(past_count(secrets_, kMaxSecrets, "secrets"));
  if (bytes_ > kMaxOutputBytes) {
    totals.push_back(past_count(bytes_, kMaxOutputBytes, "bytes of lines, values and labels"));
  }
  std::string text = "went over its output limits (none of its output is kept): " + first_;
  for (size_t i = 0; i < totals.size(); ++i) text += (i == 0 ? "; in all: " : ", ") + totals[i];
  return text;
}

}  // namespace backupdrill::plugin_host
