#pragma once
// profile = "postgres": the archive restored as pg_restore restores it.
#include "profiles/profile.h"

namespace backupdrill {

class PlainProfile : public Profile {
 public:
  const char* name() const override { return "postgres"; }
  ArchiveRestoreOutcome restore_archive(const PgSession& session,
                                        const ArchiveRestoreRequest& request) override;
};

}  // namespace backupdrill
