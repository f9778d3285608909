"""SeqGAN's generator: an LSTM language model over token ids (Yu et al. 2017).

A sample is a LongTensor ``[n, seq_len]`` of token ids. The generator reads ``<bos>``
first and then its own previous token; after it emits ``<eos>`` the rest of the row
is ``<pad>``. Tokens that never occur inside the training lines (``<pad>``, ``<bos>``,
and ``<eos>``/``<unk>`` when the data has none) get probability zero, so every sample
looks like something the data could hold.

Discrete samples have no reparameterised path from a latent, so the adversarial game
trains this network with policy gradients (see ``objectives.py``) through
``sample`` and ``log_prob``. ``forward(z)`` still exists, for the loop's fixed-latent
previews: ``z`` is uniform noise ``[n, seq_len]`` and token ``t`` is drawn by inverting
the cumulative distribution at ``z[:, t]``, so the same ``z`` gives the same text.

The same class, with N(0, 1) weights and no special tokens, is the synthetic oracle of
the paper's experiment (``oracle.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

import ganforge


@dataclass
class LSTMGeneratorConfig:
    vocab_size: int = 5000
    seq_len: int = 20
    emb_dim: int = 32
    hidden_dim: int = 32
    init_std: float = 0.1  # SeqGAN's code initialises every weight N(0, 0.1); the oracle uses 1.0
    bos_id: int = 1  # first input; the oracle uses token 0 like the paper's code
    eos_id: int = 2  # -1: sequences have no end token
    pad_id: int = 0  # -1: no padding
    banned_tokens: list = field(default_factory=lambda: [0, 1])  # ids never generated


class Generator(ganforge.Generator):
    config_class = LSTMGeneratorConfig

    def __init__(self, cfg: LSTMGeneratorConfig):
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Embedding(cfg.vocab_size, cfg.emb_dim)
        self.lstm = nn.LSTM(cfg.emb_dim, cfg.hidden_dim, batch_first=True)
        self.out = nn.Linear(cfg.hidden_dim, cfg.vocab_size)
        # -inf on banned ids; derived from the config, so not saved with the weights
        bias = torch.zeros(cfg.vocab_size)
        banned = [int(i) for i in cfg.banned_tokens if 0 <= int(i) < cfg.vocab_size]
        bias[banned] = float("-inf")
        self.register_buffer("logit_mask", bias, persistent=False)
        self.reset_parameters(cfg.init_std)

    def reset_parameters(self, std: float) -> None:
        for name, p in self.named_parameters():
            if name.startswith("lstm.bias_hh"):
                nn.init.zeros_(p)  # one bias per gate, as in the paper's LSTM
            else:
                nn.init.normal_(p, 0.0, std)

    # ------------------------------------------------------------------ building blocks

    def latent_shape(self):
        return (self.cfg.seq_len,)

    def sample_latent(self, n, generator=None, device=None):
        where = {"device": device} if generator is None and device is not None else {"generator": generator}
        z = torch.rand((n, self.cfg.seq_len), **where)
        return z.to(device) if device is not None else z

    def start(self, n: int):
        """The ``<bos>`` input column and an empty LSTM state for ``n`` sequences."""
        device = self.out.weight.device
        return torch.full((n, 1), self.cfg.bos_id, dtype=torch.long, device=device), None

    def cell(self, tokens: torch.Tensor, state):
        """Feed one column of tokens ``[n, 1]``; return the new LSTM state ``(h, c)``.

        One LSTM cell update written out: for a single time step this is several times
        faster on CPU than calling ``nn.LSTM`` (same weights, same arithmetic)."""
        x = self.embed(tokens[:, 0])
        lstm = self.lstm
        gates = F.linear(x, lstm.weight_ih_l0, lstm.bias_ih_l0)
        if state is not None:
            h, c = state
            gates = gates + F.linear(h, lstm.weight_hh_l0, lstm.bias_hh_l0)
        else:
            gates = gates + lstm.bias_hh_l0
        i, f, g, o = gates.chunk(4, 1)  # PyTorch's gate order
        i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
        c = i * g if state is None else f * c + i * g
        h = o * torch.tanh(c)
        return h, c

    def logits(self, h: torch.Tensor) -> torch.Tensor:
        """Next-token logits ``[n, V]`` from LSTM outputs ``h`` ``[n, H]`` (banned ids -inf)."""
        return F.linear(h, self.out.weight, self.out.bias + self.logit_mask)

    def step(self, tokens: torch.Tensor, state):
        """Feed one column of tokens ``[n, 1]``; return next-token logits ``[n, V]`` and the state."""
        h, c = self.cell(tokens, state)
        return self.logits(h), (h, c)

    @staticmethod
    def cdf(logits: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
        """The unnormalised cumulative distribution ``[n, V]`` that ``draw`` inverts."""
        logits = logits.float()
        if temperature != 1.0:
            logits = logits / temperature
        # unnormalised probabilities: the CDF is scaled by its last entry instead
        weights = (logits - logits.amax(-1, keepdim=True)).exp_()
        return weights.cumsum_(-1)

    @staticmethod
    def invert(cdf: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        """Token ids by inverting ``cdf`` ``[n, V]`` at uniforms ``u``: ``[n]`` (one per
        row) or ``[n, k]`` (k draws per row, returned ``[n, k]``)."""
        values = u.float() * cdf[:, -1:] if u.dim() == 2 else (u.float() * cdf[:, -1]).unsqueeze(1)
        # right=True never lands on a zero-probability (banned) id
        idx = torch.searchsorted(cdf, values, right=True).clamp_(max=cdf.shape[-1] - 1)
        return idx if u.dim() == 2 else idx.squeeze(1)

    @staticmethod
    def draw(logits: torch.Tensor, u: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
        """Token ids ``[n]`` by inverting the softmax CDF at uniforms ``u`` ``[n]``."""
        return Generator.invert(Generator.cdf(logits, temperature), u)

    def draw_hidden(self, h: torch.Tensor, u: torch.Tensor, temperature: float = 1.0,
                    chunk: int = 256) -> torch.Tensor:
        """``draw(self.logits(h), u)`` computed ``chunk`` rows at a time: the same ids, but
        each ``[chunk, V]`` block stays in the CPU's cache through logits, exp and cumsum
        (over twice as fast at V = 5000 than one ``[n, V]`` pass, which is memory bound)."""
        if len(h) <= chunk:
            return self.draw(self.logits(h), u, temperature)
        return torch.cat([self.draw(self.logits(h[i : i + chunk]), u[i : i + chunk], temperature)
                          for i in range(0, len(h), chunk)])

    def finish(self, tokens: torch.Tensor) -> torch.Tensor:
        """Replace everything after the first ``<eos>`` by ``<pad>``."""
        if self.cfg.eos_id < 0:
            return tokens
        return tokens.masked_fill(~self.mask(tokens), max(self.cfg.pad_id, 0))

    def mask(self, tokens: torch.Tensor) -> torch.Tensor:
        """True at the tokens that belong to each sequence (up to and including ``<eos>``)."""
        if self.cfg.eos_id < 0:
            return torch.ones_like(tokens, dtype=torch.bool)
        ended_before = (tokens == self.cfg.eos_id).long().cumsum(1) - (tokens == self.cfg.eos_id).long()
        return ended_before == 0

    # ------------------------------------------------------------------ sampling

    @torch.no_grad()
    def continue_from(self, prefix: torch.Tensor, state, logits: torch.Tensor, u: torch.Tensor,
                      temperature: float = 1.0) -> torch.Tensor:
        """Draw the remaining ``u.shape[1]`` tokens after ``prefix`` ``[n, g]`` given the
        state and next-token logits reached after reading it; return full sequences."""
        out = [prefix]
        for t in range(u.shape[1]):
            tok = self.draw(logits, u[:, t], temperature).unsqueeze(1)
            out.append(tok)
            if t + 1 < u.shape[1]:
                logits, state = self.step(tok, state)
        return self.finish(torch.cat(out, 1))

    @torch.no_grad()
    def forward(self, z: torch.Tensor, cond=None, temperature: float = 1.0) -> torch.Tensor:
        """Sequences ``[n, seq_len]`` from uniform noise ``z`` ``[n, seq_len]``."""
        bos, state = self.start(len(z))
        logits, state = self.step(bos, state)
        return self.continue_from(bos[:, :0], state, logits, z.to(bos.device), temperature)

    def sample(self, n: int, generator: torch.Generator | None = None, temperature: float = 1.0) -> torch.Tensor:
        """``n`` sequences drawn from the model, LongTensor ``[n, seq_len]``."""
        return self(self.sample_latent(n, generator, self.out.weight.device), temperature=temperature)

    def generate(self, n, cond=None, generator=None, latents=None, temperature: float = 1.0, **options):
        """``n`` sequences; ``latents`` are the uniform draws ``[n, seq_len]`` that pick the tokens."""
        if options:
            raise ganforge.GanforgeError(f"the text generator takes only the option 'temperature', not {sorted(options)}")
        if not float(temperature) > 0:
            raise ganforge.GanforgeError(f"temperature must be above 0, got {temperature}")
        if latents is None:
            return self.sample(n, generator=generator, temperature=float(temperature))
        return self(latents, temperature=float(temperature))

    # ------------------------------------------------------------------ likelihood

    def _teacher_forced_logits(self, tokens: torch.Tensor) -> torch.Tensor:
        """Next-token logits ``[n, T, V]`` reading ``<bos>, tokens[:, :-1]``."""
        bos, _ = self.start(len(tokens))
        h, _ = self.lstm(self.embed(torch.cat([bos, tokens[:, :-1]], 1)))
        return F.linear(h, self.out.weight, self.out.bias + self.logit_mask)

    def log_prob(self, tokens: torch.Tensor) -> torch.Tensor:
        """Per-token log-probabilities ``[n, T]`` of ``tokens`` (teacher forcing); 0 after the end."""
        logp = torch.log_softmax(self._teacher_forced_logits(tokens), -1)
        mask = self.mask(tokens)
        picked = logp.gather(2, tokens.masked_fill(~mask, 0).unsqueeze(2)).squeeze(2)
        # where a masked position's stand-in id is banned, -inf must not leak into sums
        return torch.where(mask, picked, torch.zeros_like(picked))

    def nll(self, tokens: torch.Tensor) -> torch.Tensor:
        """Mean negative log-likelihood per token (the MLE loss): ``-log_prob`` summed over
        the tokens of each sequence, divided by their number, fused into one cross-entropy."""
        logits = self._teacher_forced_logits(tokens)
        targets = tokens.masked_fill(~self.mask(tokens), -100)
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=-100)


def lstm_states(policy: Generator, tokens: torch.Tensor):
    """Teacher-force ``tokens`` ``[n, T]`` through ``policy``; for every prefix length g
    (0..T-1) yield ``(g, state, logits)``: the LSTM state and next-token logits after
    reading ``<bos>, tokens[:, :g]``. Used by the Monte Carlo rollouts."""
    col, state = policy.start(len(tokens))
    for g in range(tokens.shape[1]):
        logits, state = policy.step(col, state)
        yield g, state, logits
        col = tokens[:, g : g + 1]

