"""tokens=bpe: a byte-level BPE vocabulary trained on the user's lines (the tokenizers library)."""

import json

import pytest
import torch

import ganforge
from ganforge.metrics import evaluate
from ganforge_text.modality import TextModality
from ganforge_text.vocab import UNK_ID, BPEVocabulary, Vocabulary

from conftest import CORPUS

UNSEEN = [
    "the zebra ate a crème brûlée",          # unseen words, accents
    "Über-long hyphenated_words & symbols #42 😀",  # unseen characters, emoji
    "  two  spaces and a tab\there ",
]


def bpe_modality(**config):
    return TextModality({"tokens": "bpe", "max_vocab": 300, "max_len": 48, "holdout": 0.0, **config})


def test_lines_with_unseen_words_and_characters_round_trip_without_unk():
    v = BPEVocabulary.build(CORPUS, max_size=300)
    assert v.itos[:4] == ["<pad>", "<bos>", "<eos>", "<unk>"]
    assert 4 + 256 <= len(v) <= 4 + 300  # every byte, then merges up to max_vocab
    for line in CORPUS + UNSEEN:
        ids = v.encode(v.tokenize(line), 64)
        assert UNK_ID not in ids
        assert v.decode(ids) == line
    # frequent words became single tokens
    assert len(v.tokenize("the cat sat on the mat")) <= 6


def test_the_modality_encodes_and_decodes_exactly_and_its_state_reloads(corpus, tmp_path):
    m = bpe_modality()
    x = m.load(corpus).fields["x"]
    assert m.decode(x) == CORPUS
    other = tmp_path / "other.txt"
    other.write_text("\n".join(UNSEEN) + "\n")
    encoded = m.encode(m.evaluation_lines(other))
    assert not (encoded == UNK_ID).any()  # an <unk> rate of 0, even on text never seen
    # lines longer than the data's longest (seq_len tokens) are cut, nothing else changes
    seq_len = m.state["seq_len"]
    for line, decoded in zip(UNSEEN, m.decode(encoded)):
        assert line.startswith(decoded.rstrip("\ufffd")) and len(decoded) >= seq_len // 2
    # the state is JSON, holding the tokenizer's own JSON, and gives the same vocabulary back
    state = json.loads(json.dumps(m.state))
    assert state["tokens"] == "bpe" and json.loads(state["bpe"])["model"]["type"] == "BPE"
    again = TextModality(m.config, state=state)
    assert isinstance(again.vocab, BPEVocabulary) and again.vocab.itos == m.vocab.itos
    assert torch.equal(again.encode(again.evaluation_lines(other)), encoded)


def test_a_trained_bpe_run_saves_loads_generates_and_evaluates(corpus, tmp_path, train_tiny):
    run = train_tiny("seqgan", corpus, tmp_path / "run", tokens="bpe", max_vocab=300, holdout=0.0)
    assert run.modality.state["tokens"] == "bpe"
    pipe = ganforge.load(tmp_path / "run")
    assert isinstance(pipe.modality.vocab, BPEVocabulary)
    assert pipe.modality.vocab.tokenizer.to_str() == run.modality.vocab.tokenizer.to_str()
    texts = pipe.generate(n=6, seed=0).texts
    assert len(texts) == 6 and all(isinstance(t, str) and "<unk>" not in t for t in texts)
    # only tokens seen inside training lines are generated: no newline or control bytes
    seen = set("".join(CORPUS))
    assert all(set(t) <= seen | {"\ufffd"} for t in texts)
    other = tmp_path / "test.txt"
    other.write_text("the rat and the hen sat on a log\nthe cat sat on the mat\nzebra\n")
    scores = evaluate(pipe, other, metrics=["bleu", "nll-gen"], n=6)
    assert scores["eval_lines"] == 3
    # unseen words of seen characters can be generated; "zebra" (no z in the data) cannot
    assert scores["nll_gen_skipped_lines"] == 1


def test_word_and_char_vocabularies_are_unchanged(corpus):
    m = TextModality({"tokens": "word", "max_vocab": 100, "max_len": 32, "holdout": 0.0})
    m.load(corpus)
    assert type(m.vocab) is Vocabulary and "bpe" not in m.state
    with pytest.raises(ganforge.GanforgeError, match="tokens"):
        TextModality({"tokens": "bytes"}).load(corpus)
