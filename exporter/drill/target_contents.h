#pragma once
// What a user has put into a database, catalog by catalog. The guard calls a
// target "empty" only when this finds nothing: a database that holds only
// large objects, types, an extension, a publication or changed privileges is
// still somebody's data, and recreate mode would destroy it.
#include <pqxx/pqxx>
#include <string>
#include <vector>

namespace backupdrill {

struct UserObjects {
  std::string kind;  // "large objects", "types", "changed privileges on built-in objects", ...
  long long count = 0;
};

// Every catalog a user can add to, each with a count > 0 (empty result: the
// database holds nothing beyond what CREATE DATABASE gives it). Objects a
// user creates get OIDs from FirstNormalObjectId (16384) on; large objects
// count whatever their OID (lo_create() takes one of the caller's choosing).
std::vector<UserObjects> find_user_objects(pqxx::connection& conn);

// "2 types, 1 large objects" for a refusal message.
std::string describe(const std::vector<UserObjects>& found);

}  // namespace backupdrill
