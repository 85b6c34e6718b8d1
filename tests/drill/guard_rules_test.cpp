// The guard's decisions that need no server: names a target may never have,
// the same-database rule, and the Supabase target-kind rules.
#include "drill/guard_rules.h"

#include <gtest/gtest.h>

#include "profiles/supabase_profile.h"

namespace backupdrill {
namespace {

DrillConfig drill_with(DrillConfig::Profile profile, RestoreConfig::Mode mode) {
  DrillConfig d;
  d.name = "t";
  d.profile = profile;
  d.restore.mode = mode;
  return d;
}

std::string refusal(const DrillConfig& drill, const std::string& source,
                    const std::string& target) {
  auto profile = make_profile(drill);
  try {
    auto src = pg::ConnInfo::parse(source);
    refuse_by_name(drill, *profile, &src, pg::ConnInfo::parse(target));
  } catch (const GuardRefusal& e) {
    return e.what();
  }
  return "";
}

TEST(GuardRules, SystemDatabasesAreNeverTargets) {
  auto plain = drill_with(DrillConfig::Profile::postgres, RestoreConfig::Mode::recreate);
  for (const char* db : {"postgres", "template0", "template1"}) {
    EXPECT_NE(refusal(plain, "postgresql://u@a/src", std::string("postgresql://u@b/") + db)
                  .find("is a system database"),
              std::string::npos)
        << db;
  }
  EXPECT_EQ(refusal(plain, "postgresql://u@a/src", "postgresql://u@b/drill_target"), "");
}

TEST(GuardRules, OnlyASupabaseProjectInCleanModeMayUseItsPostgresDatabase) {
  auto clean = drill_with(DrillConfig::Profile::supabase, RestoreConfig::Mode::clean);
  auto recreate = drill_with(DrillConfig::Profile::supabase, RestoreConfig::Mode::recreate);
  EXPECT_EQ(refusal(clean, "postgresql://u@a/postgres", "postgresql://u@b/postgres"), "");
  EXPECT_NE(refusal(recreate, "postgresql://u@a/postgres", "postgresql://u@b/postgres")
                .find("allowed with profile = \"supabase\" and [drill.restore] mode = \"clean\""),
            std::string::npos);
  // template databases stay refused whatever the profile.
  EXPECT_NE(refusal(clean, "postgresql://u@a/src", "postgresql://u@b/template1"), "");
}

TEST(GuardRules, TargetWithoutDatabaseNameIsRefused) {
  auto plain = drill_with(DrillConfig::Profile::postgres, RestoreConfig::Mode::recreate);
  EXPECT_NE(refusal(plain, "postgresql://u@a/src", "host=b user=u").find("names no database"),
            std::string::npos);
}

TEST(GuardRules, SameHostPortAndDatabaseIsTheSourceWhateverTheSpelling) {
  auto plain = drill_with(DrillConfig::Profile::postgres, RestoreConfig::Mode::recreate);
  EXPECT_NE(refusal(plain, "postgresql://u@localhost:5432/app", "postgresql://u@127.0.0.1/app")
                .find("is the source"),
            std::string::npos);
  EXPECT_NE(refusal(plain, "host=::1 dbname=app user=u", "postgresql://u@localhost/app"), "");
  // Two projects behind one pooler differ only by the user (Supavisor's
  // postgres.<project>): not the source by name; the connected guard
  // compares the clusters themselves.
  EXPECT_EQ(refusal(plain, "postgresql://postgres.src@pooler:6543/postgres",
                    "postgresql://postgres.tgt@pooler:6543/drill"),
            "");
  EXPECT_EQ(refusal(plain, "postgresql://postgres.src@pooler:6543/app",
                    "postgresql://postgres.tgt@pooler:6543/app"),
            "");
  // Another port or another database is another database.
  EXPECT_EQ(
      refusal(plain, "postgresql://u@localhost:5432/app", "postgresql://u@localhost:5433/app"), "");
  EXPECT_EQ(refusal(plain, "postgresql://u@localhost/app", "postgresql://u@localhost/app_drill"),
            "");
}

TEST(GuardRules, SameDatabaseBySystemIdentifierOrPostmasterStart) {
  ServerFacts a;
  a.system_identifier = "7301";
  a.postmaster_start = "s1";
  a.db_oid = 16384;
  ServerFacts b = a;
  EXPECT_TRUE(same_database(a, b));
  b.db_oid = 16385;
  EXPECT_FALSE(same_database(a, b));
  b = a;
  b.system_identifier = "7302";  // another cluster started at the same second
  EXPECT_FALSE(same_database(a, b));
  // Without pg_control_system() on one side, the postmaster's start decides.
  b = a;
  b.system_identifier.clear();
  EXPECT_TRUE(same_database(a, b));
  b.postmaster_start = "s2";
  EXPECT_FALSE(same_database(a, b));
}

TEST(SupabaseTargetKind, AutoDetectsThePlatformAndSaysWhy) {
  auto d = drill_with(DrillConfig::Profile::supabase, RestoreConfig::Mode::clean);
  GuardReport r;
  r.target_exists = true;
  resolve_target_kind(d, r, true);
  EXPECT_EQ(r.target_kind, "supabase");
  EXPECT_NE(r.target_kind_reason.find("detected"), std::string::npos);
  GuardReport fresh;
  resolve_target_kind(d, fresh, false);
  EXPECT_EQ(fresh.target_kind, "postgres");
  EXPECT_NE(fresh.target_kind_reason.find("new"), std::string::npos);
}

TEST(SupabaseTargetKind, ConfiguredSupabaseWithoutPlatformIsRefused) {
  auto d = drill_with(DrillConfig::Profile::supabase, RestoreConfig::Mode::recreate);
  d.target_kind = DrillConfig::TargetKind::supabase;
  GuardReport r;
  EXPECT_THROW(resolve_target_kind(d, r, false), GuardRefusal);
  d.target_kind = DrillConfig::TargetKind::postgres;
  resolve_target_kind(d, r, true);
  EXPECT_EQ(r.target_kind, "postgres");  // configured wins over detection
}

}  // namespace
}  // namespace backupdrill
