#!/usr/bin/env python3
"""Golden outputs of the legacy Keras text Tokenizer and of keras.utils.pad_sequences.

Writes Tests/RecurrentTests/Fixtures/text_keras.json (ints and strings only, so JSON):
  "keras_version"  the keras that produced it; "generator" this script
  "corpus"         the fitting texts: punctuation, capitals, repeated words and count ties, an
                   apostrophe, digits, "café", a Greek final sigma, an emoji, tabs, \\n and \\r\\n
  "unseen"         texts never fitted on (one empty), converted after fitting
  "tokenizers"     one entry per configuration:
      name, config {num_words, filters, lower, split, char_level, oov_token},
      fit_texts      [[text]]   the texts of each fit_on_texts call, in order (usually one call)
      word_counts    [[word, count]]   the OrderedDict, in insertion order
      word_index     {word: index}
      index_word     [[index, word]]   sorted by index
      document_count
      texts          the texts converted: fitted texts then unseen ones
      sequences      texts_to_sequences(texts)
      decode         sequences given to sequences_to_texts: `sequences` plus one with 0, a
                     negative, an index past the vocabulary and indices around num_words
      decoded        sequences_to_texts(decode)
  "pad_sequences"  cases {name, sequences, maxlen, padding, truncating, value} with either
                   "result" (the int32 array as nested lists) or "error" (the exception type)

The sentiment-tutorial corpus (Tokenizer(num_words=100, oov_token="<OOV>")) is the
configuration named "sentiment". Deterministic: rerunning gives identical bytes.
"""
import json
import os
import re

os.environ["KERAS_BACKEND"] = "tensorflow"  # the pinned stack's backend; nothing here uses it
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
from keras.src.legacy.preprocessing.text import Tokenizer  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                   "Tests", "RecurrentTests", "Fixtures", "text_keras.json")

CORPUS = [
    "The cat sat on the mat.",
    "The dog ate my homework!",
    "Don't panic: the answer is 42.",
    "A café in Paris serves the best croissants.",
    "CAFÉ, café, Café... all the same?",
    "Tabs\tand\nnewlines separate words too; line\r\nbreaks keep their \\r",
    "The the THE tHe",
    "Numbers like 3.14, 2024 and 42 are tokens",
    "Hello, world! Hello again, world.",
    "e-mail me at someone@example.com (or don't)",
    "ΟΔΟΣ ΣΟΦΙΑΣ: Greek capital sigma, ΟΔΟΣ. I ❤️ NLP",
    "  spaced   out,words  cat dog   ",
]

UNSEEN = [
    "The bird sat on a café table",
    "Completely unseen vocabulary, ZERO overlap",
    "HELLO cat!!! 42 dogs",
    "",
]

SENTIMENT = [
    "I love this movie", "This film was terrible", "Absolutely fantastic experience",
    "I did not like the movie", "Best film I have ever seen", "Worst movie ever",
    "I really enjoyed it", "It was boring and too long", "An amazing story", "Not worth watching",
]
SENTIMENT_UNSEEN = ["I love it", "Terrible boring film", "A masterpiece of cinema", ""]

DEFAULT_FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'


def config(num_words=None, filters=DEFAULT_FILTERS, lower=True, split=" ", char_level=False, oov_token=None):
    return dict(num_words=num_words, filters=filters, lower=lower, split=split, char_level=char_level,
                oov_token=oov_token)


# (name, config, fit calls, unseen texts)
TOKENIZERS = [
    ("default", config(), [CORPUS], UNSEEN),
    ("num_words10_oov", config(num_words=10, oov_token="<OOV>"), [CORPUS], UNSEEN),
    ("num_words5_no_oov", config(num_words=5), [CORPUS], UNSEEN),
    ("lower_false", config(lower=False), [CORPUS], UNSEEN),
    ("custom_filters", config(filters=".,!?"), [CORPUS], UNSEEN),
    ("char_level", config(char_level=True), [CORPUS], UNSEEN),
    ("char_level_num_words_oov", config(char_level=True, lower=False, num_words=8, oov_token="~"), [CORPUS],
     UNSEEN),
    ("split_comma", config(split=","), [CORPUS], UNSEEN),
    ("split_multichar", config(split="e ", filters="."), [CORPUS], UNSEEN),
    ("oov_token_in_corpus", config(oov_token="the"), [CORPUS], UNSEEN),
    ("two_fit_calls", config(oov_token="<OOV>"), [CORPUS[:5], CORPUS[5:]], UNSEEN),
    ("sentiment", config(num_words=100, oov_token="<OOV>"), [SENTIMENT], SENTIMENT_UNSEEN),
]


def tokenizer_case(name, cfg, fits, unseen):
    tok = Tokenizer(**cfg)
    for texts in fits:
        tok.fit_on_texts(texts)
    texts = [t for texts in fits for t in texts] + unseen
    sequences = tok.texts_to_sequences(texts)
    vocab = len(tok.word_index)
    limit = cfg["num_words"] or 3
    decode = sequences + [[0, -1, vocab + 1, 1, 2, limit - 1, limit, limit + 1, 0]]
    return dict(
        name=name,
        config=cfg,
        fit_texts=fits,
        word_counts=[[w, c] for w, c in tok.word_counts.items()],
        word_index=tok.word_index,
        index_word=sorted([i, w] for i, w in tok.index_word.items()),
        document_count=tok.document_count,
        texts=texts,
        sequences=sequences,
        decode=decode,
        decoded=tok.sequences_to_texts(decode),
    )


SEQS = [[1, 2, 3, 4, 5], [6, 7], [], [8, 9, 10]]

PAD_CASES = [
    dict(name="defaults", sequences=SEQS),
    dict(name="maxlen3_pre_pre", sequences=SEQS, maxlen=3, padding="pre", truncating="pre"),
    dict(name="maxlen3_pre_post", sequences=SEQS, maxlen=3, padding="pre", truncating="post"),
    dict(name="maxlen3_post_pre", sequences=SEQS, maxlen=3, padding="post", truncating="pre"),
    dict(name="maxlen3_post_post", sequences=SEQS, maxlen=3, padding="post", truncating="post"),
    dict(name="maxlen7_pre", sequences=SEQS, maxlen=7),
    dict(name="maxlen7_post", sequences=SEQS, maxlen=7, padding="post"),
    dict(name="maxlen4_value_minus1", sequences=SEQS, maxlen=4, value=-1),
    dict(name="maxlen4_post_post_value_minus1", sequences=SEQS, maxlen=4, padding="post", truncating="post",
         value=-1),
    dict(name="maxlen_none_post", sequences=SEQS, padding="post", value=9),
    dict(name="maxlen1", sequences=SEQS, maxlen=1),
    dict(name="maxlen0_truncating_post", sequences=SEQS, maxlen=0, truncating="post"),
    dict(name="all_empty", sequences=[[], []]),
    dict(name="no_sequences_maxlen3", sequences=[], maxlen=3),
    dict(name="no_sequences_maxlen_none", sequences=[]),
    dict(name="negative_maxlen", sequences=SEQS, maxlen=-1),
]


def pad_case(case):
    case = dict(dict(maxlen=None, padding="pre", truncating="pre", value=0), **case)
    kwargs = {k: case[k] for k in ("maxlen", "padding", "truncating", "value")}
    try:
        case["result"] = keras.utils.pad_sequences(case["sequences"], **kwargs).tolist()
    except ValueError as e:
        case["error"] = type(e).__name__
    return case


def main():
    fixture = dict(
        keras_version=keras.__version__,
        generator="tools/reference/make_text_fixtures.py",
        corpus=CORPUS,
        unseen=UNSEEN,
        tokenizers=[tokenizer_case(*t) for t in TOKENIZERS],
        pad_sequences=[pad_case(c) for c in PAD_CASES],
    )
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    text = json.dumps(fixture, ensure_ascii=False, indent=1)
    # One line per innermost array. Only newlines and indentation are removed, and JSON strings
    # hold no raw newline, so a bracket inside a string can at worst join lines differently.
    text = re.sub(r"\[[^\[\]{}]*\]", lambda m: re.sub(r"\n\s*", " ", m.group(0)), text)
    with open(OUT, "w", encoding="utf-8") as f:
        f.write(text + "\n")
    print(f"wrote {len(TOKENIZERS)} tokenizer configurations, {len(PAD_CASES)} pad_sequences cases, "
          f"{os.path.getsize(OUT)} bytes to {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
