"""tsml's text tokenizer (version 1) in plain Python, for exported nlp_sentiment models.

The exported models take tsml's tokens of a text; this module produces them from raw text
exactly as the service does (src/train/text/tokenizer.cc): lowercasing (ASCII, Latin-1,
Latin Extended-A, Greek, Cyrillic), splitting on whitespace and punctuation, in-word
apostrophes kept ("don't"), emoji, kana and CJK ideographs as tokens of their own, tokens
longer than 100 UTF-8 bytes dropped, and "NEG_" before every token that follows a negation
cue up to the next clause punctuation (. , ! ? ; : and their Unicode forms).

    import tokenizer
    tokens = tokenizer.tokenize("Not good at all, but the pool was great!")
    # ['not', 'NEG_good', 'NEG_at', 'NEG_all', 'but', 'the', 'pool', 'was', 'great']
    joined = tokenizer.tokenize_joined(text)  # the sklearn export's input
    # fastText exports: the model's input ids
    ids = tokenizer.fasttext_ids(tokens, tokenizer.load_fasttext_vocab("fasttext_vocab.json"))

No dependencies beyond the standard library.

usage (check against a list of texts): tokenizer.py --texts texts.json  → JSON token lists
    tokenizer.py --texts texts.json --fasttext-vocab fasttext_vocab.json  → JSON id lists
"""
import json
import sys

VERSION = 1
NEGATION_PREFIX = "NEG_"
MAX_TOKEN_BYTES = 100

_WORD, _APOSTROPHE, _CLAUSE, _SEPARATOR, _SINGLE, _IGNORE = range(6)

_CUES = frozenset((
    "not", "no", "never", "nor", "cannot", "cant", "dont", "wont", "isnt", "wasnt", "arent",
    "werent", "didnt", "doesnt", "couldnt", "shouldnt", "wouldnt", "havent", "hasnt", "hadnt",
    "aint", "nothing", "nobody", "none", "neither", "nowhere", "without", "hardly", "barely"))

_APOSTROPHES = frozenset((0x2018, 0x2019, 0x02BC))
_CLAUSE_BREAKS = frozenset((
    0x2026, 0x203C, 0x2047, 0x2048, 0x2049, 0x3001, 0x3002, 0xFF01, 0xFF0C, 0xFF0E, 0xFF1A,
    0xFF1B, 0xFF1F, 0x060C, 0x061B, 0x061F, 0x037E))
_ASCII_CLAUSE = frozenset(".,!?;:")


def is_negation_cue(token):
    return token.endswith("n't") or token in _CUES


def _lower(cp):
    if cp < 0x80:
        return cp + 32 if 0x41 <= cp <= 0x5A else cp
    if 0xC0 <= cp <= 0xDE and cp != 0xD7:
        return cp + 0x20
    if 0x100 <= cp <= 0x17F:
        if cp == 0x130:
            return ord("i")
        if cp == 0x178:
            return 0xFF
        even_upper = cp <= 0x137 or 0x14A <= cp <= 0x177
        odd_upper = 0x139 <= cp <= 0x148 or 0x179 <= cp <= 0x17E
        if even_upper and cp % 2 == 0:
            return cp + 1
        if odd_upper and cp % 2 == 1:
            return cp + 1
        return cp
    if 0x391 <= cp <= 0x3A9 and cp != 0x3A2:
        return cp + 0x20
    if 0x410 <= cp <= 0x42F:
        return cp + 0x20
    if 0x400 <= cp <= 0x40F:
        return cp + 0x50
    return cp


def _classify(cp):
    if cp < 0:
        return _SEPARATOR
    if cp < 0x80:
        c = chr(cp)
        if c.isascii() and c.isalnum():
            return _WORD
        if c == "'":
            return _APOSTROPHE
        if c in _ASCII_CLAUSE:
            return _CLAUSE
        return _SEPARATOR
    if cp in _APOSTROPHES:
        return _APOSTROPHE
    if cp in _CLAUSE_BREAKS:
        return _CLAUSE
    if cp in (0xAA, 0xB5, 0xBA):
        return _WORD
    if cp in (0xD7, 0xF7):
        return _SEPARATOR
    if cp in (0x200C, 0x200D, 0xFEFF):
        return _IGNORE
    if cp <= 0xBF:
        return _SEPARATOR
    if 0xFE00 <= cp <= 0xFE0F or 0x1F3FB <= cp <= 0x1F3FF:
        return _IGNORE
    if 0x2000 <= cp <= 0x206F or 0x20A0 <= cp <= 0x20CF or 0x2190 <= cp <= 0x25FF:
        return _SEPARATOR
    if 0x2600 <= cp <= 0x27BF or 0x1F000 <= cp <= 0x1FAFF or cp in (0x2B50, 0x2B55):
        return _SINGLE
    if (0x3040 <= cp <= 0x30FF or 0x3400 <= cp <= 0x4DBF or 0x4E00 <= cp <= 0x9FFF
            or 0xF900 <= cp <= 0xFAFF):
        return _SINGLE
    if 0x3000 <= cp <= 0x303F:
        return _SEPARATOR
    if (0xFF00 <= cp <= 0xFF0F or 0xFF1A <= cp <= 0xFF20 or 0xFF3B <= cp <= 0xFF40
            or 0xFF5B <= cp <= 0xFF65):
        return _SEPARATOR
    if 0xE000 <= cp <= 0xF8FF:
        return _SEPARATOR
    if 0xD800 <= cp <= 0xDFFF:  # a lone surrogate: invalid UTF-8 for the service
        return _SEPARATOR
    return _WORD


def _code_points(text):
    """Code points of `text`; bytes are decoded as UTF-8 with every invalid byte as -1 (a
    separator), as the service reads them."""
    if isinstance(text, str):
        return [ord(c) for c in text]
    data = bytes(text)
    out, i = [], 0
    while i < len(data):
        b0 = data[i]
        if b0 < 0x80:
            out.append(b0)
            i += 1
            continue
        if b0 & 0xE0 == 0xC0:
            n, v, low = 2, b0 & 0x1F, 0x80
        elif b0 & 0xF0 == 0xE0:
            n, v, low = 3, b0 & 0x0F, 0x800
        elif b0 & 0xF8 == 0xF0:
            n, v, low = 4, b0 & 0x07, 0x10000
        else:
            out.append(-1)
            i += 1
            continue
        if i + n > len(data) or any(data[i + k] & 0xC0 != 0x80 for k in range(1, n)):
            out.append(-1)
            i += 1
            continue
        for k in range(1, n):
            v = (v << 6) | (data[i + k] & 0x3F)
        if v < low or v > 0x10FFFF or 0xD800 <= v <= 0xDFFF:
            out.append(-1)
            i += 1
            continue
        out.append(v)
        i += n
    return out


def tokenize(text):
    """tsml's tokens of `text` (str, or UTF-8 bytes; None → no tokens)."""
    if text is None:
        return []
    tokens = []
    current = []
    negating = False

    def emit(token):
        nonlocal negating
        if is_negation_cue(token):
            negating = True
            tokens.append(token)
        elif negating:
            tokens.append(NEGATION_PREFIX + token)
        else:
            tokens.append(token)

    def flush():
        while current and current[-1] == "'":
            current.pop()
        if current:
            token = "".join(current)
            if len(token.encode("utf-8", "surrogatepass")) <= MAX_TOKEN_BYTES:
                emit(token)
        current.clear()

    for cp in _code_points(text):
        kind = _classify(cp)
        if kind == _WORD:
            current.append(chr(_lower(cp)))
        elif kind == _APOSTROPHE:
            if current:
                current.append("'")
        elif kind == _CLAUSE:
            flush()
            negating = False
        elif kind == _SEPARATOR:
            flush()
        elif kind == _SINGLE:
            flush()
            emit(chr(cp))
    flush()
    return tokens


def tokenize_joined(text):
    """The tokens joined by single spaces: the input of the sklearn export's pipeline."""
    return " ".join(tokenize(text))


def _fasttext_hash(token):
    """fastText's FNV-1a over the UTF-8 bytes (each byte sign-extended), as an int32."""
    h = 2166136261
    for b in token.encode("utf-8", "surrogatepass"):
        h ^= (b - 256 if b >= 128 else b) & 0xFFFFFFFF
        h = (h * 16777619) & 0xFFFFFFFF
    return h - (1 << 32) if h >= (1 << 31) else h


def load_fasttext_vocab(path):
    """A fastText export's fasttext_vocab.json, ready for fasttext_ids()."""
    with open(path, encoding="utf-8") as f:
        vocab = json.load(f)
    vocab["index"] = {w: i for i, w in enumerate(vocab["words"])}
    return vocab


def fasttext_ids(tokens, vocab):
    """fastText's input ids for tsml's tokens, as its Dictionary::getLine makes them: the ids
    of the known words and of the end-of-line token, then one bucket id per word n-gram
    (n = 2..wordNgrams, over all tokens, known or not)."""
    mask = (1 << 64) - 1
    index = vocab["index"]
    nwords = len(vocab["words"])
    ids, hashes = [], []
    for token in list(tokens) + [vocab.get("eos", "</s>")]:
        wid = index.get(token, -1)
        if wid >= 0:
            ids.append(wid)
        hashes.append(_fasttext_hash(token))
    n, bucket = int(vocab["wordNgrams"]), int(vocab["bucket"])
    for i in range(len(hashes)):
        h = hashes[i] & mask
        for j in range(i + 1, min(len(hashes), i + n)):
            h = (h * 116049371 + (hashes[j] & mask)) & mask
            ids.append(nwords + h % bucket)
    return ids


def main():
    args = sys.argv[1:]
    if len(args) not in (2, 4) or args[0] != "--texts" or (len(args) == 4 and
                                                           args[2] != "--fasttext-vocab"):
        raise SystemExit("usage: tokenizer.py --texts texts.json [--fasttext-vocab vocab.json]")
    with open(args[1], encoding="utf-8") as f:
        texts = json.load(f)
    tokens = [tokenize(t) for t in texts]
    if len(args) == 4:
        vocab = load_fasttext_vocab(args[3])
        print(json.dumps([fasttext_ids(t, vocab) for t in tokens]))
    else:
        print(json.dumps(tokens, ensure_ascii=False))


if __name__ == "__main__":
    main()
