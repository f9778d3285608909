"""Vocabulary and text modality: tokens <-> ids, state round trip, files written."""

import json

import pytest
import torch

import ganforge
from ganforge_text.modality import TextModality
from ganforge_text.vocab import BOS_ID, EOS_ID, PAD_ID, UNK_ID, Vocabulary, tokenize


def test_vocabulary_specials_order_and_frequency():
    v = Vocabulary.build([["b", "a", "b"], ["c", "b", "a"]], max_size=10)
    assert v.itos[:4] == ["<pad>", "<bos>", "<eos>", "<unk>"]
    assert v.itos[4:] == ["b", "a", "c"]  # by count, ties alphabetical


def test_encode_pads_ends_and_cuts():
    v = Vocabulary.build([["a", "b", "c"]], max_size=2)  # "c" (rarest, last) falls out
    assert v.encode(["a", "b", "c"], 5) == [v.stoi["a"], v.stoi["b"], UNK_ID, EOS_ID, PAD_ID]
    assert v.encode(["a", "b", "a"], 2) == [v.stoi["a"], v.stoi["b"]]  # cut: no room for <eos>
    assert v.decode([v.stoi["a"], UNK_ID, EOS_ID, v.stoi["b"]]) == "a <unk>"


def test_vocabulary_round_trip_through_run_state(corpus):
    config = {"tokens": "word", "max_vocab": 100, "max_len": 32, "holdout": 0.0}
    m = TextModality(config)
    data = m.load(corpus)
    state = json.loads(json.dumps(m.state))  # the state must survive ganforge.json
    again = TextModality(config, state=state)
    lines = corpus.read_text().splitlines()
    assert again.decode(data.fields["x"]) == lines
    assert again.vocab.itos == m.vocab.itos
    # a trained run reads new text with its own vocabulary: unseen words read <unk>
    other = corpus.parent / "other.txt"
    other.write_text("the zebra sat\n")
    x = again.load(other).fields["x"]
    assert again.decode(x) == ["the <unk> sat"]


def test_char_tokens_and_length_cap(tmp_path):
    path = tmp_path / "c.txt"
    path.write_text("hello world\nhi\n")
    m = TextModality({"tokens": "char", "max_vocab": 0, "max_len": 5, "holdout": 0.0})
    x = m.load(path).fields["x"]
    assert x.shape == (2, 5)
    assert m.decode(x) == ["hello", "hi"]
    d = m.derived_config()
    assert d["seq_len"] == 5 and d["vocab_size"] == len(m.vocab)
    # short lines end with <eos>; no <unk> in the data, so it is never generated
    assert EOS_ID not in d["banned_tokens"] and UNK_ID in d["banned_tokens"]
    assert {PAD_ID, BOS_ID} <= set(d["banned_tokens"])


def test_folder_of_files_and_holdout(tmp_path, capsys):
    (tmp_path / "a.txt").write_text("".join(f"line {i} a\n" for i in range(10)))
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.txt").write_text("".join(f"line {i} b\n" for i in range(10)))
    (tmp_path / "bad.txt").write_bytes(b"\xff\xfe\xfa not utf-8 \xff\n")
    m = TextModality({"tokens": "word", "max_vocab": 100, "max_len": 8, "holdout": 0.25})
    data = m.load(tmp_path)
    assert "skipped 1 unreadable text file(s): bad.txt" in capsys.readouterr().err
    assert len(data) == 15  # 20 lines, 5 held out
    held = m.references(tmp_path)
    assert len(held) == 5
    assert m.references(tmp_path) == held  # the same lines every time


def test_errors_name_the_problem(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n")
    with pytest.raises(ganforge.GanforgeError, match="could be read"):
        TextModality({"holdout": 0.0}).load(empty)
    with pytest.raises(ganforge.GanforgeError, match="tokens"):
        tokenize("x", "bytes")
    with pytest.raises(ganforge.GanforgeError, match="does not exist"):
        TextModality({}).load(tmp_path / "missing.txt")


def test_save_samples_one_file_one_line_per_sample(corpus, tmp_path):
    m = TextModality({"max_vocab": 100, "max_len": 32, "holdout": 0.0})
    x = m.load(corpus).fields["x"][:3]
    paths = m.save_samples(x, tmp_path / "out", ["s0", "s1", "s2"])
    assert [p.name for p in paths] == ["samples.txt"] * 3  # the file holding each sample
    more = m.save_samples(x[:1], tmp_path / "out", ["s3"], append=True)  # a later batch of the same call
    assert more[0].read_text().splitlines()[3] == corpus.read_text().splitlines()[0]
    m.save_samples(x, tmp_path / "out", ["s0", "s1", "s2"])
    assert paths[0].read_text().splitlines() == corpus.read_text().splitlines()[:3]
    preview = m.save_preview(x, tmp_path / "out" / "step_0000010")
    assert preview[0].name == "step_0000010.txt" and "the cat sat" in preview[0].read_text()
    assert torch.equal(m.encode([l.split() for l in corpus.read_text().splitlines()[:3]]), x)
