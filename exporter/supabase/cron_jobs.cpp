#include "supabase/cron_jobs.h"

#include <algorithm>

namespace backupdrill::supabase {

std::vector<std::string> copy_columns(const std::string& sql) {
  std::vector<std::string> out;
  auto open = sql.find('(');
  auto close = sql.find(')', open == std::string::npos ? 0 : open);
  if (open == std::string::npos || close == std::string::npos) return out;
  std::string item;
  for (size_t i = open + 1; i <= close; ++i) {
    char c = sql[i];
    if (c == ',' || c == ')') {
      auto b = item.find_first_not_of(' ');
      auto e = item.find_last_not_of(' ');
      if (b != std::string::npos) {
        std::string name = item.substr(b, e - b + 1);
        if (name.size() >= 2 && name.front() == '"') name = name.substr(1, name.size() - 2);
        out.push_back(name);
      }
      item.clear();
    } else {
      item += c;
    }
  }
  return out;
}

std::vector<std::optional<std::string>> decode_copy_row(const std::string& line) {
  std::vector<std::optional<std::string>> out;
  std::string field;
  bool null = false;
  auto push = [&] {
    if (null) {
      out.push_back(std::nullopt);
    } else {
      out.push_back(field);
    }
    field.clear();
    null = false;
  };
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (c == '\t') {
      push();
      continue;
    }
    if (c != '\\' || i + 1 >= line.size()) {
      field += c;
      continue;
    }
    char n = line[++i];
    switch (n) {
      case 'N':
        null = field.empty();
        break;
      case 't':
        field += '\t';
        break;
      case 'n':
        field += '\n';
        break;
      case 'r':
        field += '\r';
        break;
      case 'b':
        field += '\b';
        break;
      case 'f':
        field += '\f';
        break;
      case 'v':
        field += '\v';
        break;
      default:
        field += n;
        break;  // \\ and any other escaped character
    }
  }
  push();
  return out;
}

std::optional<std::vector<CronJob>> cron_jobs(const std::vector<std::string>& columns,
                                              const std::vector<std::string>& rows) {
  auto index = [&](const char* name) -> long {
    auto it = std::find(columns.begin(), columns.end(), name);
    return it == columns.end() ? -1 : it - columns.begin();
  };
  const long schedule = index("schedule"), command = index("command"), name = index("jobname"),
             id = index("jobid"), active = index("active");
  if (schedule < 0 || command < 0) return std::nullopt;
  std::vector<CronJob> jobs;
  for (const auto& line : rows) {
    auto row = decode_copy_row(line);
    auto at = [&](long i) -> std::optional<std::string> {
      if (i < 0 || static_cast<size_t>(i) >= row.size()) return std::nullopt;
      return row[static_cast<size_t>(i)];
    };
    if (!at(schedule) || !at(command)) return std::nullopt;
    CronJob job;
    job.schedule = *at(schedule);
    job.command = *at(command);
    job.name = at(name).value_or("");
    if (job.name.empty()) job.name = "job_" + at(id).value_or("");
    job.active = at(active).value_or("t") != "f";
    jobs.push_back(std::move(job));
  }
  return jobs;
}

}  // namespace backupdrill::supabase
