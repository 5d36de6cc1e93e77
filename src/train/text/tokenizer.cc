#include "train/text/tokenizer.h"

#include <array>
#include <cstdint>

#include "common/strings.h"

namespace tsml::train::text {
namespace {

enum class CharClass {
  kWord,         // part of a word
  kApostrophe,   // kept inside a word ("don't"), dropped at its edges
  kClauseBreak,  // ends a word and the negation scope
  kSeparator,    // ends a word
  kSingle,       // a token of its own: emoji, CJK ideographs and kana (no spaces between words)
  kIgnore,       // dropped without splitting: variation selectors, zero-width joiners, BOM
};

// Decodes one UTF-8 character at `s[i]`; returns its length (1 for an invalid byte, with
// `*cp` = -1). Rejects overlong forms, surrogates and values above U+10FFFF.
size_t DecodeUtf8(std::string_view s, size_t i, int32_t* cp) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  *cp = -1;
  if (b0 < 0x80) {
    *cp = b0;
    return 1;
  }
  size_t len = 0;
  int32_t v = 0;
  int32_t min = 0;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2, v = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, v = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, v = b0 & 0x07, min = 0x10000;
  } else {
    return 1;
  }
  if (i + len > s.size()) return 1;
  for (size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return 1;
    v = (v << 6) | (b & 0x3F);
  }
  if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 1;
  *cp = v;
  return len;
}

void AppendUtf8(int32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Simple (one-to-one) lowercase mapping for the scripts reviews are most often written in;
// other characters are returned unchanged.
int32_t ToLowerCodePoint(int32_t cp) {
  if (cp < 0x80) return (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
  if (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7) return cp + 0x20;  // Latin-1
  if (cp >= 0x100 && cp <= 0x17F) {                              // Latin Extended-A
    if (cp == 0x130) return 'i';
    if (cp == 0x178) return 0xFF;
    const bool even_upper = (cp <= 0x137) || (cp >= 0x14A && cp <= 0x177);
    const bool odd_upper = (cp >= 0x139 && cp <= 0x148) || (cp >= 0x179 && cp <= 0x17E);
    if (even_upper && cp % 2 == 0) return cp + 1;
    if (odd_upper && cp % 2 == 1) return cp + 1;
    return cp;
  }
  if (cp >= 0x391 && cp <= 0x3A9 && cp != 0x3A2) return cp + 0x20;  // Greek
  if (cp >= 0x410 && cp <= 0x42F) return cp + 0x20;                 // Cyrillic
  if (cp >= 0x400 && cp <= 0x40F) return cp + 0x50;
  return cp;
}

CharClass Classify(int32_t cp) {
  if (cp < 0) return CharClass::kSeparator;
  if (cp < 0x80) {
    const char c = static_cast<char>(cp);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
      return CharClass::kWord;
    }
    if (c == '\'') return CharClass::kApostrophe;
    if (c == '.' || c == ',' || c == '!' || c == '?' || c == ';' || c == ':') {
      return CharClass::kClauseBreak;
    }
    return CharClass::kSeparator;
  }
  switch (cp) {
    case 0x2018:
    case 0x2019:
    case 0x02BC:
      return CharClass::kApostrophe;
    case 0x2026:
    case 0x203C:
    case 0x2047:
    case 0x2048:
    case 0x2049:
    case 0x3001:
    case 0x3002:
    case 0xFF01:
    case 0xFF0C:
    case 0xFF0E:
    case 0xFF1A:
    case 0xFF1B:
    case 0xFF1F:
    case 0x060C:
    case 0x061B:
    case 0x061F:
    case 0x037E:
      return CharClass::kClauseBreak;
    case 0xAA:
    case 0xB5:
    case 0xBA:
      return CharClass::kWord;
    case 0xD7:
    case 0xF7:
      return CharClass::kSeparator;
    case 0x200C:
    case 0x200D:
    case 0xFEFF:
      return CharClass::kIgnore;
    default:
      break;
  }
  if (cp <= 0xBF) return CharClass::kSeparator;                    // Latin-1 punctuation, NBSP
  if (cp >= 0xFE00 && cp <= 0xFE0F) return CharClass::kIgnore;     // variation selectors
  if (cp >= 0x1F3FB && cp <= 0x1F3FF) return CharClass::kIgnore;   // skin-tone modifiers
  if (cp >= 0x2000 && cp <= 0x206F) return CharClass::kSeparator;  // general punctuation
  if (cp >= 0x20A0 && cp <= 0x20CF) return CharClass::kSeparator;  // currency
  if (cp >= 0x2190 && cp <= 0x25FF) return CharClass::kSeparator;  // arrows, technical, boxes
  if ((cp >= 0x2600 && cp <= 0x27BF) || (cp >= 0x1F000 && cp <= 0x1FAFF) || cp == 0x2B50 ||
      cp == 0x2B55) {
    return CharClass::kSingle;  // emoji and pictographs
  }
  if ((cp >= 0x3040 && cp <= 0x30FF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
      (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0xF900 && cp <= 0xFAFF)) {
    return CharClass::kSingle;  // kana and CJK ideographs
  }
  if (cp >= 0x3000 && cp <= 0x303F) return CharClass::kSeparator;  // CJK punctuation
  if ((cp >= 0xFF00 && cp <= 0xFF0F) || (cp >= 0xFF1A && cp <= 0xFF20) ||
      (cp >= 0xFF3B && cp <= 0xFF40) || (cp >= 0xFF5B && cp <= 0xFF65)) {
    return CharClass::kSeparator;  // fullwidth punctuation
  }
  if (cp >= 0xE000 && cp <= 0xF8FF) return CharClass::kSeparator;  // private use
  return CharClass::kWord;
}

constexpr size_t kMaxTokenBytes = 100;  // longer runs (URLs, base64, keyboard mashing) dropped

class TokenStream {
 public:
  explicit TokenStream(std::vector<std::string>* out) : out_(out) {}

  void Append(int32_t cp) { AppendUtf8(cp, &current_); }
  void AppendApostrophe() {
    if (!current_.empty()) current_.push_back('\'');
  }
  void Flush() {
    while (!current_.empty() && current_.back() == '\'') current_.pop_back();
    if (!current_.empty() && current_.size() <= kMaxTokenBytes) Emit(std::move(current_));
    current_.clear();
  }
  void EmitSingle(int32_t cp) {
    Flush();
    std::string t;
    AppendUtf8(cp, &t);
    Emit(std::move(t));
  }
  void EndClause() {
    Flush();
    negating_ = false;
  }

 private:
  void Emit(std::string token) {
    if (IsNegationCue(token)) {
      negating_ = true;
      out_->push_back(std::move(token));
    } else if (negating_) {
      out_->push_back(common::StrCat(kNegationPrefix, token));
    } else {
      out_->push_back(std::move(token));
    }
  }

  std::vector<std::string>* out_;
  std::string current_;
  bool negating_ = false;
};

}  // namespace

bool IsNegationCue(std::string_view token) {
  static constexpr std::array<std::string_view, 29> kCues = {
      "not",     "no",      "never",   "nor",    "cannot", "cant",    "dont",    "wont",
      "isnt",    "wasnt",   "arent",   "werent", "didnt",  "doesnt",  "couldnt", "shouldnt",
      "wouldnt", "havent",  "hasnt",   "hadnt",  "aint",   "nothing", "nobody",  "none",
      "neither", "nowhere", "without", "hardly", "barely"};
  if (common::EndsWith(token, "n't")) return true;
  for (std::string_view cue : kCues) {
    if (token == cue) return true;
  }
  return false;
}

std::vector<std::string> Tokenize(std::string_view text) {
  std::vector<std::string> tokens;
  TokenStream stream(&tokens);
  size_t i = 0;
  while (i < text.size()) {
    int32_t cp = 0;
    i += DecodeUtf8(text, i, &cp);
    switch (Classify(cp)) {
      case CharClass::kWord:
        stream.Append(ToLowerCodePoint(cp));
        break;
      case CharClass::kApostrophe:
        stream.AppendApostrophe();
        break;
      case CharClass::kClauseBreak:
        stream.EndClause();
        break;
      case CharClass::kSeparator:
        stream.Flush();
        break;
      case CharClass::kSingle:
        stream.EmitSingle(cp);
        break;
      case CharClass::kIgnore:
        break;
    }
  }
  stream.Flush();
  return tokens;
}

std::vector<size_t> CodePointOffsets(std::string_view token) {
  std::vector<size_t> offsets;
  size_t i = 0;
  while (i < token.size()) {
    offsets.push_back(i);
    int32_t cp = 0;
    i += DecodeUtf8(token, i, &cp);
  }
  offsets.push_back(token.size());
  return offsets;
}

namespace {

bool IsAsciiAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
bool IsEmailLocal(char c) {
  return IsAsciiAlnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}
bool IsEmailDomain(char c) { return IsAsciiAlnum(c) || c == '.' || c == '-'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsPhoneChar(char c) {
  return IsDigit(c) || c == ' ' || c == '(' || c == ')' || c == '.' || c == '-';
}

// The end of an e-mail address whose '@' is at `at`, or npos: a non-empty local part before,
// a domain after with a dot and a top-level part of two or more letters.
size_t EmailEnd(std::string_view s, size_t at, size_t* begin) {
  size_t b = at;
  while (b > 0 && IsEmailLocal(s[b - 1])) --b;
  if (b == at) return std::string_view::npos;
  size_t e = at + 1;
  while (e < s.size() && IsEmailDomain(s[e])) ++e;
  while (e > at + 1 && (s[e - 1] == '.' || s[e - 1] == '-')) --e;  // trailing punctuation
  const std::string_view domain = s.substr(at + 1, e - at - 1);
  const size_t dot = domain.rfind('.');
  if (dot == std::string_view::npos || dot == 0 || domain.size() - dot - 1 < 2) {
    return std::string_view::npos;
  }
  for (char c : domain.substr(dot + 1)) {
    if (IsDigit(c) || c == '-') return std::string_view::npos;
  }
  *begin = b;
  return e;
}

// "2024-05-01", "01.05.2024": digit groups 4-2-2 or 2-2-4 joined by '-' or '.' (dates, which
// the phone pattern would otherwise take).
bool LooksLikeDate(std::string_view run) {
  std::vector<size_t> groups;
  char sep = 0;
  size_t len = 0;
  for (char c : run) {
    if (IsDigit(c)) {
      ++len;
    } else if ((c == '-' || c == '.') && len > 0 && (sep == 0 || sep == c)) {
      sep = c;
      groups.push_back(len);
      len = 0;
    } else {
      return false;
    }
  }
  groups.push_back(len);
  return groups == std::vector<size_t>{4, 2, 2} || groups == std::vector<size_t>{2, 2, 4};
}

}  // namespace

std::string ScrubPii(std::string_view text) {
  // E-mail addresses first (their digits must not look like phone numbers).
  std::string mailed;
  mailed.reserve(text.size());
  size_t copied = 0;
  for (size_t at = text.find('@'); at != std::string_view::npos; at = text.find('@', at + 1)) {
    size_t begin = 0;
    const size_t end = EmailEnd(text, at, &begin);
    if (end == std::string_view::npos || begin < copied) continue;
    mailed.append(text.substr(copied, begin - copied));
    mailed += "[email]";
    copied = end;
    at = end - 1;
  }
  mailed.append(text.substr(copied));

  // Phone-like runs: an optional '+', then digits, spaces, ( ) . - ending in a digit, with at
  // least 7 digits and 8 characters, and not a date.
  std::string out;
  out.reserve(mailed.size());
  size_t i = 0;
  while (i < mailed.size()) {
    const bool plus = mailed[i] == '+' && i + 1 < mailed.size() && IsDigit(mailed[i + 1]);
    const bool starts = (plus || IsDigit(mailed[i])) && (i == 0 || !IsAsciiAlnum(mailed[i - 1]));
    if (starts) {
      size_t j = i + (plus ? 1 : 0);
      size_t last_digit = j;
      int digits = 0;
      while (j < mailed.size() && IsPhoneChar(mailed[j])) {
        if (IsDigit(mailed[j])) {
          ++digits;
          last_digit = j;
        }
        ++j;
      }
      const size_t end = last_digit + 1;
      if (digits >= 7 && end - i >= 8 && (end == mailed.size() || !IsAsciiAlnum(mailed[end])) &&
          !LooksLikeDate(std::string_view(mailed).substr(i, end - i))) {
        out += "[phone]";
        i = end;
        continue;
      }
    }
    out.push_back(mailed[i]);
    ++i;
  }
  return out;
}

std::string TruncateUtf8(std::string_view text, size_t max_chars) {
  size_t i = 0;
  size_t chars = 0;
  while (i < text.size() && chars < max_chars) {
    int32_t cp = 0;
    i += DecodeUtf8(text, i, &cp);
    ++chars;
  }
  if (i >= text.size()) return std::string(text);
  return common::StrCat(text.substr(0, i), "…");
}

}  // namespace tsml::train::text
