"""Shared fixtures of the text plugin tests: tiny corpora and tiny networks."""

import pytest
import torch

import ganforge

CORPUS = [
    "the cat sat on the mat",
    "the dog sat on the log",
    "a cat and a dog",
    "the bird flew over the house",
    "a small cat sat on a big mat",
    "the dog ran to the park",
    "a bird sat on the house",
    "the cat ran to the mat",
]

# options that make every network tiny and every phase a few steps
TINY = {
    "emb_dim": 8, "hidden_dim": 8, "d_emb_dim": 8, "d_filter_sizes": [1, 2, 3], "d_num_filters": [4, 4, 4],
    "batch_size": 4, "rollouts": 2, "n_critic": 2, "mle_steps": 3, "d_pretrain_steps": 2, "steps": 2,
    "progress": False, "sample_every": 0, "checkpoint_every": 1000, "log_every": 1, "preview_n": 4,
    "device": "cpu",
}


@pytest.fixture(autouse=True)
def _few_threads():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def train_tiny():
    """``train_tiny(recipe, data, out, **overrides)``: ganforge.train with TINY options."""

    def train(recipe, data, out, **overrides):
        return ganforge.train(recipe, data=data, out=out, overrides={**TINY, **overrides})

    return train


@pytest.fixture
def corpus(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text("\n".join(CORPUS) + "\n")
    return path


@pytest.fixture(scope="session")
def oracle_dir(tmp_path_factory):
    """A small oracle data set (vocabulary 30, 200 sequences of 8 tokens)."""
    make = ganforge.get_plugin_manager().registry.get("dataset", "text:oracle")
    return make(tmp_path_factory.mktemp("oracle") / "data", vocab_size=30, seq_len=8, n=200, seed=3)
