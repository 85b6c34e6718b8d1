// The amcheck check without a server: its config (defaults, every refusal
// naming its key), the text[] literal of schema names, how an error on a
// relation is read, and the words of its messages.
#include <gtest/gtest.h>

#include "amcheck/amcheck_config.h"
#include "amcheck/findings.h"
#include "common/settings.h"

namespace am = backupdrill::checks::amcheck;
using backupdrill::checks::SettingsError;

namespace {

std::string refusal(const std::string& settings) {
  try {
    am::parse_amcheck_config("plugin = \"amcheck\"\nname = \"s\"\ntimeout = \"5m\"\n" + settings);
  } catch (const SettingsError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(AmcheckConfig, DefaultsCheckEverythingWithHeapallindexedAndHeap) {
  auto c = am::parse_amcheck_config("plugin = \"amcheck\"\nname = \"structure\"\n");
  EXPECT_TRUE(c.schemas.empty());
  EXPECT_TRUE(c.exclude_schemas.empty());
  EXPECT_TRUE(c.heapallindexed);
  EXPECT_TRUE(c.heap);
}

TEST(AmcheckConfig, ReadsEveryKey) {
  auto c = am::parse_amcheck_config(
      "plugin = \"amcheck\"\nschemas = [\"public\", \"auth\"]\nexclude_schemas = [\"audit\"]\n"
      "heapallindexed = false\nheap = false\n");
  EXPECT_EQ(c.schemas, (std::vector<std::string>{"public", "auth"}));
  EXPECT_EQ(c.exclude_schemas, (std::vector<std::string>{"audit"}));
  EXPECT_FALSE(c.heapallindexed);
  EXPECT_FALSE(c.heap);
}

TEST(AmcheckConfig, EveryRefusalNamesItsKeyAndWhatIsExpected) {
  EXPECT_EQ(refusal("schemas = \"public\""),
            "key \"schemas\": expected an array of strings, e.g. [\"a\", \"b\"]");
  EXPECT_EQ(refusal("schemas = [\"public\", 3]"),
            "key \"schemas\": expected an array of strings, e.g. [\"a\", \"b\"]");
  EXPECT_EQ(refusal("exclude_schemas = \"audit\""),
            "key \"exclude_schemas\": expected an array of strings, e.g. [\"a\", \"b\"]");
  EXPECT_EQ(refusal("heapallindexed = \"yes\""), "key \"heapallindexed\": expected true or false");
  EXPECT_EQ(refusal("heap = 1"), "key \"heap\": expected true or false");
  EXPECT_EQ(refusal("schemas = [\"\"]"),
            "key \"schemas\": an empty schema name; write e.g. [\"public\", \"auth\"]");
  EXPECT_EQ(refusal("schemas = [\"public\", \"public\"]"),
            "key \"schemas\": \"public\" is listed twice");
  EXPECT_EQ(refusal("schemas = [\"" + std::string(64, 'x') + "\"]"),
            "key \"schemas\": \"" + std::string(63, 'x') +
                "...\" is longer than PostgreSQL's 63-byte limit for a schema name");
  EXPECT_EQ(refusal("schemas = [\"a\", \"b\"]\nexclude_schemas = [\"b\"]"),
            "key \"exclude_schemas\": \"b\" is also in schemas; list it in one of them (schemas: "
            "only these; exclude_schemas: all but these)");
}

TEST(AmcheckConfig, AnUnknownKeyIsRefusedWithTheKeysOfThePlugin) {
  auto e = refusal("heap_all_indexed = true");
  EXPECT_EQ(e.rfind("key \"heap_all_indexed\": unknown key; the keys of this plugin are ", 0), 0u)
      << e;
  for (const char* key : {"schemas", "exclude_schemas", "heapallindexed", "heap", "timeout"}) {
    EXPECT_NE(e.find(key), std::string::npos) << key << " in " << e;
  }
}

TEST(AmcheckConfig, NotTomlIsRefused) {
  EXPECT_EQ(refusal("schemas = [").rfind("the config is not valid TOML: ", 0), 0u);
}

// The literal goes to the server as a $n::text[] parameter: quotes and
// backslashes in a name must not end an element early.
TEST(AmcheckConfig, SchemaNamesBecomeAQuotedTextArrayLiteral) {
  EXPECT_EQ(am::text_array_literal({}), "{}");
  EXPECT_EQ(am::text_array_literal({"public", "Mixed Case"}), "{\"public\",\"Mixed Case\"}");
  EXPECT_EQ(am::text_array_literal({"a\"b", "c\\d", "{e,f}"}), "{\"a\\\"b\",\"c\\\\d\",\"{e,f}\"}");
}

TEST(AmcheckFindings, RelationsAreDescribedSchemaQualifiedWithTheirTable) {
  am::Relation index{1, 'i', "public", "t_pkey", "public.t", false};
  EXPECT_EQ(am::describe(index), "index public.t_pkey (on public.t)");
  am::Relation toast_index{2, 'i', "pg_toast", "pg_toast_16384_index", "public.t", true};
  EXPECT_EQ(am::describe(toast_index),
            "index pg_toast.pg_toast_16384_index (on the TOAST table of public.t)");
  EXPECT_EQ(am::describe({3, 'r', "auth", "users", "", false}), "table auth.users");
  EXPECT_EQ(am::describe({4, 'm', "public", "mv", "", false}), "materialized view public.mv");
  EXPECT_EQ(am::describe({5, 't', "pg_toast", "pg_toast_16384", "public.t", false}),
            "TOAST table pg_toast.pg_toast_16384 (of public.t)");
}

// Only amcheck's own verdicts count as corruption; a missing privilege and
// the deadline stop the check; anything else leaves the relation unchecked.
TEST(AmcheckFindings, ErrorsAreReadByTheirSqlstate) {
  EXPECT_EQ(am::classify_sqlstate("XX002"), am::ErrorKind::corruption);  // index_corrupted
  EXPECT_EQ(am::classify_sqlstate("XX001"), am::ErrorKind::corruption);  // data_corrupted
  EXPECT_EQ(am::classify_sqlstate("42501"), am::ErrorKind::no_privilege);
  EXPECT_EQ(am::classify_sqlstate("57014"), am::ErrorKind::out_of_time);
  EXPECT_EQ(am::classify_sqlstate("XX000"), am::ErrorKind::not_checkable);
  EXPECT_EQ(am::classify_sqlstate(""), am::ErrorKind::not_checkable);
}

TEST(AmcheckFindings, TheFailureNamesEachRelationWithItsFirstMessage) {
  std::vector<am::Finding> findings{
      {"index public.t_idx (on public.t)", true,
       "item order invariant violated for index \"t_idx\""},
      {"table public.u", true, "block 0, offset 1: xmin 4294967040 precedes oldest valid ..."},
      {"index public.v_idx (on public.v)", false, "could not open file (SQLSTATE 58P01)"}};
  EXPECT_EQ(am::failure_message(findings, 40),
            "2 relations are corrupt and 1 relation could not be checked (of 40 relations "
            "checked): index public.t_idx (on public.t): item order invariant violated for index "
            "\"t_idx\"; table public.u: block 0, offset 1: xmin 4294967040 precedes oldest valid "
            "...; index public.v_idx (on public.v): could not be checked: could not open file "
            "(SQLSTATE 58P01)");
  EXPECT_EQ(am::failure_message({findings[0]}, 1),
            "1 relation is corrupt (of 1 relation checked): index public.t_idx (on public.t): "
            "item order invariant violated for index \"t_idx\"");
}

TEST(AmcheckFindings, ALongListIsCutAndCounted) {
  std::vector<am::Finding> findings;
  for (int i = 0; i < 12; ++i)
    findings.push_back({"table public.t" + std::to_string(i), true, "x"});
  auto m = am::failure_message(findings, 12, 10);
  EXPECT_NE(m.find("table public.t9: x; and 2 more (each in the log)"), std::string::npos) << m;
  EXPECT_EQ(m.find("public.t10"), std::string::npos) << m;
}

TEST(AmcheckFindings, TheSummarySaysWhatWasChecked) {
  EXPECT_EQ(am::checked_text(3, 2, true, {}),
            "5 relations in every non-system schema: 3 B-tree indexes (bt_index_check, "
            "heapallindexed), 2 heap relations (verify_heapam: tables, materialized views, TOAST "
            "tables)");
  EXPECT_EQ(am::checked_text(1, 0, false, {"public"}),
            "1 relation in schema public: 1 B-tree index (bt_index_check)");
  EXPECT_EQ(am::schemas_text({"public", "auth"}), "schemas public, auth");
}
