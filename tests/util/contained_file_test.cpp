// util/contained_file: what a backup folder's files may be (issue 22).
#include "util/contained_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "crypto/sha256.h"

namespace backupdrill {
namespace {
namespace fs = std::filesystem;

fs::path fresh(const std::string& name) {
  fs::path dir =
      fs::temp_directory_path() / ("bd_contained_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "backups" / "sub");
  fs::create_directories(dir / "outside");
  std::ofstream(dir / "backups" / "app.dump") << "inside";
  std::ofstream(dir / "outside" / "secret") << "outside";
  return dir;
}

std::string read_via(const ContainedFolder& folder, const fs::path& path) {
  UniqueFd fd = folder.open(path);
  return read_all(fd.get(), 1024, path.string());
}

TEST(ContainedFolder, FollowsLinksThatStayInsideAndRefusesTheOthers) {
  const fs::path dir = fresh("links");
  const fs::path b = dir / "backups";
  fs::create_symlink("app.dump", b / "relative.dump");
  fs::create_symlink(b / "app.dump", b / "sub" / "absolute.dump");
  fs::create_symlink("../outside/secret", b / "relative_out.dump");
  fs::create_symlink(dir / "outside" / "secret", b / "absolute_out.dump");
  fs::create_symlink("relative_out.dump", b / "chain.dump");  // inside, then out
  fs::create_symlink(dir / "outside", b / "dir_out");         // a folder link out

  const ContainedFolder folder(b);
  EXPECT_EQ(read_via(folder, b / "app.dump"), "inside");
  EXPECT_EQ(read_via(folder, b / "relative.dump"), "inside");
  EXPECT_EQ(read_via(folder, b / "sub" / "absolute.dump"), "inside");
  EXPECT_EQ(read_via(folder, b / "sub" / ".." / "app.dump"), "inside");
  for (const fs::path& p : {b / "relative_out.dump", b / "absolute_out.dump", b / "chain.dump",
                            b / "dir_out" / "secret", b / ".." / "outside" / "secret"}) {
    try {
      folder.open(p);
      ADD_FAILURE() << p << " was opened";
    } catch (const RefusedFileError& e) {
      std::string what = e.what();
      EXPECT_NE(what.find(p.string() + " is refused"), std::string::npos) << what;
      EXPECT_EQ(what.find("outside\n"), std::string::npos) << what;
    }
    EXPECT_FALSE(folder.contains(p)) << p;
  }
  EXPECT_TRUE(folder.contains(b / "relative.dump"));
  fs::remove_all(dir);
}

TEST(ContainedFolder, RefusesAFifoWithoutBlockingAndAFolderAsAFile) {
  const fs::path dir = fresh("fifo");
  const fs::path b = dir / "backups";
  ASSERT_EQ(::mkfifo((b / "pipe.dump").c_str(), 0600), 0);
  const ContainedFolder folder(b);
  EXPECT_THROW(folder.open(b / "pipe.dump"), RefusedFileError);  // returns: O_NONBLOCK
  EXPECT_THROW(folder.open(b / "sub"), RefusedFileError);
  EXPECT_NO_THROW(folder.open(b / "sub", /*directory=*/true));
  EXPECT_THROW(folder.open(b / "missing.dump"), std::runtime_error);
  fs::remove_all(dir);
}

TEST(ContainedFolder, TheConfiguredFolderItselfMayBeALink) {
  const fs::path dir = fresh("root_link");
  fs::create_symlink(dir / "backups", dir / "mounted");
  const ContainedFolder folder(dir / "mounted");
  EXPECT_EQ(read_via(folder, dir / "mounted" / "app.dump"), "inside");
  UniqueFd fd = folder.open(dir / "mounted" / "app.dump");
  EXPECT_EQ(sha256_fd(fd.get(), "app.dump"), sha256_file(dir / "backups" / "app.dump"));
  EXPECT_THROW(ContainedFolder(dir / "no-such-folder"), RefusedFileError);
  fs::remove_all(dir);
}

TEST(ContainedFolder, StorageFolderOfAConfiguredPath) {
  EXPECT_EQ(storage_folder_of("/srv/b/app_*.dump"), fs::path("/srv/b"));
  EXPECT_EQ(storage_folder_of("/srv/b/*/x.dump"), fs::path("/srv/b"));
  EXPECT_EQ(storage_folder_of("/srv/b/app.dump"), fs::path("/srv/b"));
  EXPECT_EQ(storage_folder_of("/srv/b/app.dir/"), fs::path("/srv/b"));
  EXPECT_EQ(storage_folder_of("/*.dump"), fs::path("/"));
  EXPECT_EQ(storage_folder_of("app.dump"), fs::path("."));
  EXPECT_EQ(storage_folder_of("*.dump"), fs::path("."));
}

TEST(OwnRegularFile, NoLinkNoFolderNoFifo) {
  const fs::path dir = fresh("own");
  const fs::path b = dir / "backups";
  fs::create_symlink(b / "app.dump", b / "link.log");
  ASSERT_EQ(::mkfifo((b / "pipe.log").c_str(), 0600), 0);
  EXPECT_TRUE(open_own_regular_file(b / "app.dump"));
  EXPECT_FALSE(open_own_regular_file(b / "link.log"));
  EXPECT_FALSE(open_own_regular_file(b / "pipe.log"));
  EXPECT_FALSE(open_own_regular_file(b / "sub"));
  EXPECT_FALSE(open_own_regular_file(b / "missing"));
  UniqueFd fd = open_own_regular_file(b / "app.dump");
  EXPECT_THROW(read_all(fd.get(), 3, "app.dump"), std::runtime_error);  // 6 bytes > 3
  fs::remove_all(dir);
}

TEST(Digest, Md5AndBase64OfAHexDigest) {
  Md5 md5;
  md5.update("abc", 3);
  EXPECT_EQ(md5.hex_digest(), "900150983cd24fb0d6963f7d28e17f72");
  // S3's x-amz-checksum-sha256 of "" is the base64 of its SHA-256.
  EXPECT_EQ(hex_to_base64("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
  EXPECT_EQ(hex_to_base64("abc"), "");
  EXPECT_EQ(hex_to_base64("zz"), "");
}

}  // namespace
}  // namespace backupdrill
