// Text normalization for the sentiment models: one tokenizer shared by training and serving, so
// a deployed model sees exactly the tokens it was trained on.
//
// Tokenize() lowercases (ASCII, Latin-1/Extended-A, Greek, Cyrillic), splits on whitespace and
// punctuation, never splits a UTF-8 multibyte character (invalid bytes act as separators),
// keeps in-word apostrophes ("don't"), makes each emoji a token of its own, and marks negation:
// after a cue ("not", "no", "never", "cannot", any "...n't", ...) every token up to the next
// clause punctuation (. , ! ? ; : and their Unicode forms) gets the prefix "NEG_" — uppercase,
// so it cannot collide with a lowercased word. Pure functions, thread-safe.
#ifndef TSML_TRAIN_TEXT_TOKENIZER_H_
#define TSML_TRAIN_TEXT_TOKENIZER_H_

#include <string>
#include <string_view>
#include <vector>

namespace tsml::train::text {

// Bumped when the token stream for some input changes; saved with models and checked on load.
inline constexpr int kTokenizerVersion = 1;
inline constexpr std::string_view kNegationPrefix = "NEG_";

std::vector<std::string> Tokenize(std::string_view text);

// True for a negation cue (given a lowercased token).
bool IsNegationCue(std::string_view token);

// The UTF-8 code point boundaries of `token` (offsets of each character, plus the size).
std::vector<size_t> CodePointOffsets(std::string_view token);

// Replaces e-mail addresses with "[email]" and phone-like runs (an optional '+', digits, spaces,
// parentheses, dots and dashes; at least 7 digits; not a date like 2024-05-01) with "[phone]".
// Linear time.
std::string ScrubPii(std::string_view text);

// At most `max_chars` code points of `text` (never a partial character), "…" appended when cut.
std::string TruncateUtf8(std::string_view text, size_t max_chars);

}  // namespace tsml::train::text

#endif  // TSML_TRAIN_TEXT_TOKENIZER_H_
