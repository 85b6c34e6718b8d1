#pragma once
// A RunRecord as JSON values: the drill summary's document and the HTTP API's
// pieces of it. Apart from run_record.h so that the many files that only
// pass records around do not compile nlohmann/json.
#include <nlohmann/json.hpp>
#include <optional>

#include "model/run_record.h"

namespace backupdrill {

nlohmann::ordered_json to_json(const RunRecord& record);
// {"seconds", "target_seconds", "compliant"} of RTO or RPO, as the summary
// JSON and the HTTP API both show it.
// "seconds" is null when the run did not measure it.
nlohmann::ordered_json objective_json(std::optional<double> seconds, double target_seconds,
                                      bool compliant);
// Throws nlohmann::json::exception on a malformed document.
RunRecord run_record_from_json(const nlohmann::json& j);

}  // namespace backupdrill
