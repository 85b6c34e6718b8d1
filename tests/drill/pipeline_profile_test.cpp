// The factories behind the pipeline: a drill's config picks its profile and
// its backup source, and each profile declares what it adds.
#include <gtest/gtest.h>

#include "backup/backup_source.h"
#include "profiles/profile.h"

namespace backupdrill {
namespace {

TEST(Profiles, TheConfigNamesTheProfile) {
  DrillConfig d;
  d.profile = DrillConfig::Profile::postgres;
  EXPECT_STREQ(make_profile(d)->name(), "postgres");
  d.profile = DrillConfig::Profile::supabase;
  EXPECT_STREQ(make_profile(d)->name(), "supabase");
}

TEST(Profiles, OnlySupabaseAddsArtifactsAndAllowsTheProjectDatabase) {
  RunArtifactNames names{"20261129T000000Z"};
  DrillConfig d;
  d.restore.mode = RestoreConfig::Mode::clean;
  d.profile = DrillConfig::Profile::postgres;
  EXPECT_TRUE(make_profile(d)->artifact_names(names).empty());
  EXPECT_FALSE(make_profile(d)->allows_project_database(d));
  d.profile = DrillConfig::Profile::supabase;
  auto supabase = make_profile(d);
  EXPECT_TRUE(supabase->allows_project_database(d));
  auto extra = supabase->artifact_names(names);
  ASSERT_EQ(extra.size(), 3u);
  EXPECT_EQ(extra[0], "backup_20261129T000000Z.roles");
  d.restore.mode = RestoreConfig::Mode::recreate;
  EXPECT_FALSE(supabase->allows_project_database(d));
}

TEST(BackupSources, PgDumpIsTheDefaultSource) {
  DrillConfig d;
  EXPECT_STREQ(make_backup_source(d)->name(), "pg_dump");
}

}  // namespace
}  // namespace backupdrill
