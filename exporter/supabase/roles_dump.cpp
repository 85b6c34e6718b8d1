#include "supabase/roles_dump.h"

#include "artifacts/artifact_files.h"
#include "supabase/roles.h"
#include "util/secrets.h"

namespace backupdrill::supabase {

void dump_roles(const PgSession& s, const pg::Tool& pg_dumpall, const std::filesystem::path& out) {
  ChildSpec spec;
  spec.program = pg_dumpall.path;
  // --dbname's database is ignored by pg_dumpall; --database names the one
  // to connect to (a managed service may allow no other).
  spec.args = {"--dbname=" + s.source.conninfo.without_password(),
               "--database=" + s.source.conninfo.dbname(), "--no-password", "--roles-only",
               "--no-role-passwords"};
  spec.env = s.source.env();
  spec.out = ChildSpec::Stream::pipe;
  spec.err = ChildSpec::Stream::to_stdout;
  auto run = run_capture(spec, s.deadline);
  if (!run.status.ok()) {
    std::string why = scrub(run.out);
    if (why.size() > 2000) why = "..." + why.substr(why.size() - 2000);
    throw std::runtime_error("pg_dumpall --roles-only " + run.status.describe() + ": " + why);
  }
  write_private_file(out, render_roles_script(split_roles(run.out), s.source.conninfo.redacted()));
}

}  // namespace backupdrill::supabase
