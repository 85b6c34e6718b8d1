#include "backup/s3_source.h"

#include <fnmatch.h>

#include <algorithm>

#include "backup/checksum_sidecar.h"
#include "backup/source_error.h"
#include "util/byte_size.h"

namespace backupdrill::backup {
namespace {

bool matches(const std::string& pattern, const std::string& name) {
  return ::fnmatch(pattern.empty() ? "*" : pattern.c_str(), name.c_str(), FNM_PATHNAME) == 0;
}

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

}  // namespace

ChosenS3Archive find_newest_s3_archive(const BackupConfig& config, const S3Options& options) {
  S3Url where = parse_s3_url(config.url);
  S3Client client(config, where.bucket, options);
  std::vector<S3Object> objects = client.list(where.prefix);
  std::vector<S3Object> candidates;
  for (auto& o : objects) {
    std::string name = o.key.substr(where.prefix.size());
    if (name.empty() || ends_with(name, ".sha256") || !matches(config.pattern, name)) continue;
    candidates.push_back(std::move(o));
  }
  std::string listed = "s3://" + where.bucket + "/" + where.prefix;
  if (candidates.empty()) {
    throw BackupSourceError("no backup found: no object under " + listed + " matches \"" +
                            config.pattern + "\" (" + std::to_string(objects.size()) +
                            " objects listed, " + client.where() + ")");
  }
  std::sort(candidates.begin(), candidates.end(), [](const S3Object& a, const S3Object& b) {
    return a.last_modified != b.last_modified ? a.last_modified > b.last_modified : a.key > b.key;
  });
  const S3Object* best = nullptr;
  ArchiveHeader best_header;
  std::string passed_over;
  int reads = 0;
  bool stopped_by_cap = false;
  for (const auto& o : candidates) {
    if (best != nullptr && o.last_modified < best_header.created_at - kHeaderTimeMargin) break;
    if (reads == kMaxHeaderReads) {
      stopped_by_cap = true;
      break;
    }
    ++reads;
    try {
      ArchiveHeader h = parse_archive_header(client.first_bytes(o.key, kArchiveHeaderMaxBytes),
                                             client.url_of(o.key));
      if (best == nullptr || h.created_at > best_header.created_at) {
        best = &o;
        best_header = h;
      }
    } catch (const ArchiveHeaderError& e) {
      passed_over += (passed_over.empty() ? "" : "; ") + std::string(e.what());
    }
  }
  if (best == nullptr) {
    throw BackupSourceError("no backup found: of the " + std::to_string(reads) +
                            " newest objects under " + listed + " matching \"" + config.pattern +
                            "\" none is a readable pg_dump archive: " + passed_over);
  }
  ChosenS3Archive chosen;
  chosen.bucket = where.bucket;
  chosen.key = best->key;
  chosen.url = client.url_of(best->key);
  chosen.size_bytes = best->size;
  chosen.etag = best->etag;
  chosen.last_modified = best->last_modified;
  chosen.header = best_header;
  chosen.objects_listed = static_cast<int>(objects.size());
  chosen.candidates = static_cast<int>(candidates.size());
  chosen.headers_read = reads;
  chosen.reason = "the newest by the creation time in its header (" + best_header.created_local +
                  ", " + iso8601_utc(best_header.created_at) + ", database " +
                  best_header.database + ") of " + std::to_string(candidates.size()) +
                  " objects under " + listed + " matching \"" + config.pattern + "\"; " +
                  std::to_string(reads) + " headers read, newest upload first";
  if (stopped_by_cap) {
    chosen.reason += " (stopped at " + std::to_string(kMaxHeaderReads) + " header reads)";
  }
  if (!passed_over.empty()) chosen.reason += "; passed over: " + passed_over;
  return chosen;
}

void download_s3_archive(ChosenS3Archive& chosen, const BackupConfig& config,
                         const std::filesystem::path& dest_dir, const S3Options& options,
                         const S3Progress& progress) {
  S3Client client(config, chosen.bucket, options);
  std::string name = last_component(chosen.key);
  std::optional<SidecarLine> expected;
  if (config.checksum != BackupConfig::Checksum::none) {
    std::string sidecar_key = chosen.key + ".sha256";
    auto text = client.get_small(sidecar_key, 1 << 20);
    if (text) {
      for (const auto& line : parse_sidecar(*text, client.url_of(sidecar_key))) {
        if (last_component(line.name) == name) expected = line;
      }
      if (!expected) {
        throw BackupVerifyError(client.url_of(sidecar_key) + " has no line for " + name +
                                ", so the archive cannot be verified");
      }
      chosen.sidecar_key = sidecar_key;
    } else if (config.checksum == BackupConfig::Checksum::required) {
      throw BackupVerifyError("checksum = \"required\" but " + chosen.url +
                              " has no sidecar: expected the object " + client.url_of(sidecar_key) +
                              " in sha256sum format (\"<sha256>  " + name + "\")");
    }
  }
  std::filesystem::path dest = dest_dir / name;
  // Free space first: the object's size is known from the listing, so a
  // download that would fill the disk fails now, with nothing written.
  std::error_code ec;
  const auto space = std::filesystem::space(dest_dir, ec);
  if (!ec && chosen.size_bytes > space.available) {
    throw BackupSourceError("not enough free space to download " + chosen.url + " into " +
                            dest_dir.string() + ": it is " + human_bytes(chosen.size_bytes) + ", " +
                            human_bytes(space.available) +
                            " are free; free some space or point [exporter] artifact_dir at a "
                            "larger disk");
  }
  S3Object listed{chosen.key, chosen.size_bytes, chosen.etag, chosen.last_modified};
  S3Download d = client.download(listed, dest, progress);
  chosen.local_path = dest;
  chosen.sha256 = d.sha256;
  chosen.download_attempts = d.attempts;
  chosen.size_bytes = d.size;
  if (expected) {
    if (expected->digest != d.sha256) {
      std::filesystem::remove(dest);
      chosen.local_path.clear();
      throw BackupVerifyError(chosen.url + ": SHA-256 mismatch: " + chosen.sidecar_key +
                              " records " + expected->digest + ", the download has " + d.sha256 +
                              "; the archive changed after its checksum was taken, so it is not "
                              "restored");
    }
    chosen.checksum = ChecksumOutcome::verified;
  } else {
    chosen.checksum = config.checksum == BackupConfig::Checksum::none ? ChecksumOutcome::not_checked
                                                                      : ChecksumOutcome::absent;
  }
}

}  // namespace backupdrill::backup
