#pragma once
#include <memory>

#include "checks_builtin/check.h"

namespace backupdrill {

std::unique_ptr<Check> make_table_counts(const CheckConfig& config);
std::unique_ptr<Check> make_sql_assert(const CheckConfig& config);
std::unique_ptr<Check> make_api_health(const CheckConfig& config);

}  // namespace backupdrill
