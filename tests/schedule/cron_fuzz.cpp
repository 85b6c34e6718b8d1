// libFuzzer entry point for the cron parser. Built as a real fuzzer with Clang and
// -DBACKUPDRILL_FUZZ=ON. With BACKUPDRILL_FUZZ_NO_MAIN defined (cron_fuzz_corpus_test, any
// compiler) the file instead gets gtest cases that drive the same entry point with the seed corpus
// and deterministic mutations of it, so the fuzz target runs in every ctest run.
//
// Besides "does not crash", it checks invariants that hold for every valid expression, so a
// logic bug aborts just like a memory error would.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string_view>

#include "schedule/cron.h"

namespace {

namespace chr = std::chrono;
using backupdrill::schedule::CronError;
using backupdrill::schedule::CronExpression;

[[noreturn]] void invariant_failed(const char* what, std::string_view input) {
  std::fprintf(stderr, "cron fuzz invariant failed: %s\ninput: \"%.*s\"\n", what,
               static_cast<int>(input.size()), input.data());
  std::abort();
}

void check(bool ok, const char* what, std::string_view input) {
  if (!ok) invariant_failed(what, input);
}

void exercise(const CronExpression& expr, std::string_view input) {
  const chr::seconds longest = expr.longest_interval();
  check(longest > chr::seconds{0}, "longest_interval is positive", input);
  check(longest <= backupdrill::schedule::kGregorianCycle, "longest_interval within a cycle",
        input);
  check(longest.count() % 60 == 0, "longest_interval is whole minutes", input);

  // The input's bytes pick one more start time, so different inputs probe different dates.
  std::uint64_t hash = 1469598103934665603ull;
  for (char c : input) hash = (hash ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  const chr::sys_days epoch{chr::year{1970} / 1 / 1};
  const chr::sys_seconds starts[] = {
      chr::sys_seconds::min(),
      epoch - chr::seconds{1},
      chr::sys_days{chr::year{2024} / 2 / 28} + chr::hours{23} + chr::minutes{59},
      chr::sys_days{chr::year{2099} / 12 / 31} + chr::hours{23} + chr::minutes{59},
      epoch + chr::seconds{static_cast<std::int64_t>(hash % (200ull * 366 * 86400))},
      chr::sys_days{chr::year{9999} / 12 / 31} + chr::hours{23},
      chr::sys_seconds::max(),
  };
  for (chr::sys_seconds t : starts) {
    const std::optional<chr::sys_seconds> next = expr.next_after(t);
    if (!next) continue;
    check(*next > t, "next_after is strictly after t", input);
    check(next->time_since_epoch().count() % 60 == 0, "next_after is on a whole minute", input);
    // Nothing fires between t and next: asking again from just before it must return it.
    const auto again = expr.next_after(*next - chr::seconds{1});
    check(again && *again == *next, "next_after is stable", input);
    const auto after = expr.next_after(*next);
    if (after) {
      check(*after > *next, "fire times increase", input);
      check(*after - *next <= longest, "consecutive fires within longest_interval", input);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::optional<CronExpression> expr;
  try {
    expr = CronExpression::parse(input);
  } catch (const CronError& e) {
    check(e.what()[0] != '\0', "error message is not empty", input);
    check(!e.field.empty(), "error names a field", input);
    return 0;
  }
  check(expr->text() == input, "text() round-trips", input);
  exercise(*expr, input);
  return 0;
}

#ifdef BACKUPDRILL_FUZZ_NO_MAIN

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace {

int run_one(const std::string& input) {
  return LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(input.data()), input.size());
}

std::vector<std::string> load_corpus() {
  std::vector<std::string> corpus;
  for (const auto& entry : std::filesystem::directory_iterator(BACKUPDRILL_CRON_CORPUS_DIR)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    corpus.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  std::sort(corpus.begin(), corpus.end());  // directory order is not deterministic
  return corpus;
}

// Tokens that reach the parser's interesting branches far more often than random bytes do.
constexpr std::string_view kTokens[] = {
    "*",         "*/",         "/",       "-",       ",",   " ",   "\t",  "0",   "1",   "5",
    "7",         "12",         "13",      "15",      "23",  "24",  "29",  "30",  "31",  "32",
    "59",        "60",         "99",      "00",      "jan", "dec", "FEB", "sun", "Sat", "mon",
    "fri",       "@daily",     "@reboot", "@",       "2",   "L",   "#",   "?",   "\n",  "\xff",
    "0 4 * * 0", "0 0 29 2 *", "@weekly", "@hourly", "*/7", "1-5", "6-0", "3"};

std::string mutate(std::string s, const std::vector<std::string>& corpus, std::mt19937_64& rng) {
  const auto pick = [&](std::size_t n) {
    return n == 0 ? std::size_t{0} : static_cast<std::size_t>(rng() % n);
  };
  const int rounds = 1 + static_cast<int>(rng() % 4);
  for (int r = 0; r < rounds; ++r) {
    switch (rng() % 7) {
      case 0:  // flip a byte
        if (!s.empty()) s[pick(s.size())] = static_cast<char>(rng() & 0xff);
        break;
      case 1:  // insert a token
        s.insert(pick(s.size() + 1), kTokens[pick(std::size(kTokens))]);
        break;
      case 2:  // delete a span
        if (!s.empty()) {
          const std::size_t at = pick(s.size());
          s.erase(at, 1 + pick(std::min<std::size_t>(4, s.size() - at)));
        }
        break;
      case 3:  // replace a character with a structural one
        if (!s.empty()) s[pick(s.size())] = "*/-, 0123456789"[pick(15)];
        break;
      case 4: {  // splice with another corpus entry
        const std::string& other = corpus[pick(corpus.size())];
        s = s.substr(0, pick(s.size() + 1)) + other.substr(pick(other.size() + 1));
        break;
      }
      case 5:  // duplicate a span (grows lists and field counts)
        if (!s.empty()) {
          const std::size_t at = pick(s.size());
          s.insert(at, s.substr(at, 1 + pick(8)));
        }
        break;
      default:  // change a digit, keeping the shape
        for (char& c : s) {
          if (c >= '0' && c <= '9' && rng() % 3 == 0) c = static_cast<char>('0' + rng() % 10);
        }
        break;
    }
  }
  return s;
}

std::string random_expression(std::mt19937_64& rng) {
  std::string s;
  const int tokens = 1 + static_cast<int>(rng() % 14);
  for (int i = 0; i < tokens; ++i) s += kTokens[rng() % std::size(kTokens)];
  return s;
}

// Five fields built from the element grammar, with values and steps that stray just past the
// valid bounds now and then, so most inputs parse and the rest fail deep inside a field.
std::string structured_expression(std::mt19937_64& rng) {
  struct Bounds {
    int min, max;
  };
  constexpr Bounds kFields[] = {{0, 59}, {0, 23}, {1, 31}, {1, 12}, {0, 7}};
  const auto in = [&](int lo, int hi) { return lo + static_cast<int>(rng() % (hi - lo + 1)); };
  const auto value = [&](const Bounds& b) {
    return rng() % 16 == 0 ? in(b.min - 1, b.max + 1) : in(b.min, b.max);
  };
  std::string s;
  for (const Bounds& b : kFields) {
    if (!s.empty()) s += ' ';
    const int elements = in(1, 3);
    for (int e = 0; e < elements; ++e) {
      if (e) s += ',';
      const int a = value(b);
      const std::string step =
          "/" + std::to_string(rng() % 16 == 0 ? in(0, b.max + 2) : in(1, b.max - b.min + 1));
      switch (rng() % 6) {
        case 0:
          s += '*';
          break;
        case 1:
          s += "*" + step;
          break;
        case 2:
          s += std::to_string(a);
          break;
        case 3:
          s += std::to_string(a) + "-" + std::to_string(std::max(a, value(b)));
          break;
        case 4:
          s += std::to_string(a) + "-" + std::to_string(std::max(a, value(b))) + step;
          break;
        default:
          s += std::to_string(a) + step;
          break;
      }
    }
  }
  return s;
}

TEST(CronFuzzCorpus, SeedCorpusRuns) {
  const auto corpus = load_corpus();
  ASSERT_GE(corpus.size(), 5u);
  for (const auto& input : corpus) EXPECT_EQ(run_one(input), 0) << input;
}

TEST(CronFuzzCorpus, DeterministicMutationsRun) {
  const auto corpus = load_corpus();
  ASSERT_FALSE(corpus.empty());
  std::mt19937_64 rng(0x0b5c0ffee);
  std::set<std::string> error_fields;
  int parsed = 0;
  constexpr int kInputs = 20000;
  for (int i = 0; i < kInputs; ++i) {
    std::string input;
    switch (i % 5) {
      case 0:
        input = mutate(corpus[rng() % corpus.size()], corpus, rng);
        break;
      case 1:
        input = mutate(structured_expression(rng), corpus, rng);
        break;
      case 2:
        input = structured_expression(rng);
        break;
      case 3:
        input = random_expression(rng);
        break;
      default: {
        input.resize(rng() % 40);
        for (char& c : input) c = static_cast<char>(rng() & 0xff);
        break;
      }
    }
    ASSERT_EQ(run_one(input), 0);
    try {
      CronExpression::parse(input);
      ++parsed;
    } catch (const CronError& e) {
      error_fields.insert(e.field);
    }
  }
  std::printf("%d of %d inputs parsed\n", parsed, kInputs);
  // Guards against the generator degenerating into inputs that never get past the parser, or
  // never reach some field's checks.
  EXPECT_GE(parsed, kInputs / 10) << "too few inputs parsed";
  EXPECT_EQ(error_fields, (std::set<std::string>{"minute", "hour", "day-of-month", "month",
                                                 "day-of-week", "expression"}));
}

}  // namespace

#endif  // BACKUPDRILL_FUZZ_NO_MAIN
