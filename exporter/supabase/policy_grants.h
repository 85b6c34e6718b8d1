#pragma once
// supautils' policy grants: on a Supabase project `postgres` creates and
// drops policies on platform tables it does not own (storage.objects, ...),
// because supautils.policy_grants names them for it. Since Supabase's 2025
// change `postgres` is no member of their owners (supabase_storage_admin,
// supabase_auth_admin), so this setting, not ownership, says which platform
// tables' policies a drill may replace.
#include <set>
#include <string>
#include <string_view>

namespace backupdrill::supabase {

// The tables ("storage.objects") `role` may manage policies on, from the
// setting's JSON text ({"postgres": ["storage.objects", ...]}). Empty when
// the setting is empty, not JSON of that shape, or does not name the role.
std::set<std::string> policy_grant_tables(std::string_view setting, std::string_view role);

}  // namespace backupdrill::supabase
