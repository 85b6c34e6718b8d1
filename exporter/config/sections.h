#pragma once
// Internal to config/: reading the sections of the file through the schema
// (schema.cpp), and the rules between keys that one key's table cannot say
// (drill_rules.cpp).
#include "config/config.h"
#include "config/table_reader.h"

namespace backupdrill::config {

ExporterConfig read_exporter(TableReader& reader);
// reader's context names the drill by its place until its name is read.
DrillConfig read_drill(TableReader& reader);

// Rules across keys of one drill: what each backup source needs, and what
// the URLs must be. `reader` reads the [[drill]] table.
void validate_drill(TableReader& reader, const DrillConfig& drill);

}  // namespace backupdrill::config
