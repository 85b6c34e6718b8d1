#include "profiles/plain_profile.h"
#include "profiles/supabase_profile.h"

namespace backupdrill {

std::unique_ptr<Profile> make_profile(const DrillConfig& drill) {
  if (drill.profile == DrillConfig::Profile::supabase) return std::make_unique<SupabaseProfile>();
  return std::make_unique<PlainProfile>();
}

}  // namespace backupdrill
