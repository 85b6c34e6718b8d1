#pragma once
// pg_cron's jobs on a target whose cron.job the restoring role may only read
// (Supabase gives `postgres` SELECT on it, and EXECUTE on cron.schedule):
// the archive's rows of cron.job become cron.schedule(jobname, schedule,
// command) calls, which run the jobs as the restoring role in the target
// database; the role's other jobs there (an earlier drill's, since renamed
// or dropped on the source) are unscheduled. Pure parts here, the SQL in
// platform_data.cpp.
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace backupdrill::supabase {

// The column names of "COPY cron.job (jobid, schedule, ...) FROM stdin;".
std::vector<std::string> copy_columns(const std::string& copy_statement);

// One row of COPY's text format: tab-separated, \N for NULL, backslash
// escapes (\t, \n, \\, ...) decoded.
std::vector<std::optional<std::string>> decode_copy_row(const std::string& line);

struct CronJob {
  std::string name;  // jobname; pg_cron's jobs without one get "job_<jobid>"
  std::string schedule;
  std::string command;
  bool active = true;
};

// The jobs of cron.job's COPY rows; nullopt when a row lacks schedule or
// command (not pg_cron's table as this code knows it).
std::optional<std::vector<CronJob>> cron_jobs(const std::vector<std::string>& columns,
                                              const std::vector<std::string>& rows);

}  // namespace backupdrill::supabase
