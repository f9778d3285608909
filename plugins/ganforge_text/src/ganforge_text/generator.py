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
        """Token ids ``[n]`` by inverting ``cdf`` ``[n, V]`` at uniforms ``u`` ``[n]``."""
        values = (u.float() * cdf[:, -1]).unsqueeze(1)
        # right=True never lands on a zero-probability (banned) id
        return torch.searchsorted(cdf, values, right=True).clamp_(max=cdf.shape[-1] - 1).squeeze(1)

    @staticmethod
    def draw(logits: torch.Tensor, u: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
        """Token ids ``[n]`` by inverting the softmax CDF at uniforms ``u`` ``[n]``: the plain
        definition (full softmax and cumulative sum), which ``draw_hidden`` computes faster."""
        return Generator.invert(Generator.cdf(logits, temperature), u)

    def draw_hidden(self, h: torch.Tensor, u: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
        """``draw(self.logits(h), u, temperature)`` computed faster (``Sampler``)."""
        return Sampler(self, temperature).draw(h, u)

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
    def continue_from(self, prefix: torch.Tensor, state, u: torch.Tensor, temperature: float = 1.0,
                      proposals: bool = False) -> torch.Tensor:
        """Draw the remaining ``u.shape[1]`` tokens after ``prefix`` ``[n, g]`` given the LSTM
        state ``(h, c)`` reached after reading it; return full sequences (``proposals``: see
        ``Sampler``)."""
        out, sampler = [prefix], Sampler(self, temperature, proposals=proposals)
        for t in range(u.shape[1]):
            tok = sampler.draw(state[0], u[:, t]).unsqueeze(1)
            out.append(tok)
            if t + 1 < u.shape[1]:
                state = self.cell(tok, state)
        return self.finish(torch.cat(out, 1))

    @torch.no_grad()
    def forward(self, z: torch.Tensor, cond=None, temperature: float = 1.0, proposals: bool = False) -> torch.Tensor:
        """Sequences ``[n, seq_len]`` from uniform noise ``z`` ``[n, seq_len]`` (the same ``z``,
        the same text, unless ``proposals``)."""
        bos, state = self.start(len(z))
        return self.continue_from(bos[:, :0], self.cell(bos, state), z.to(bos.device), temperature, proposals)

    def sample(self, n: int, generator: torch.Generator | None = None, temperature: float = 1.0,
               proposals: bool = False) -> torch.Tensor:
        """``n`` sequences drawn from the model, LongTensor ``[n, seq_len]``. ``proposals``
        (training's fresh samples): faster where ``Sampler`` can, same distribution, but
        rejected draws take uniforms from torch's global generator, not ``generator``."""
        return self(self.sample_latent(n, generator, self.out.weight.device), temperature=temperature,
                    proposals=proposals)

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



def _cpu_has_fast_bf16() -> bool:
    """True where a bf16 matmul runs on bf16 dot-product instructions (AVX512-BF16, AMX):
    several times cheaper than fp32 there, slower elsewhere."""
    probe = getattr(torch.cpu, "_is_avx512_bf16_supported", None)
    return bool(probe and probe())


class Sampler:
    """``Generator.draw`` from LSTM outputs ``h``, several times faster on a CPU, where
    drawing tokens is most of SeqGAN's adversarial step.

    By default the same token for the same uniform (up to float rounding at a CDF step:
    about 1 draw in 10,000 at V = 5000):

    - The bias and ``log2(e) / temperature`` are folded into one ``[H+1, V']`` matrix, so
      one matmul gives base-2 logits and ``exp2`` (several times cheaper than ``exp`` on
      CPU) the unnormalised probabilities. The max is subtracted only when the weights
      could overflow ``exp2``.
    - No cumulative sum over V (sequential, the slowest part of ``draw``): the vocabulary
      is cut into blocks of ``BLOCK`` ids; the block is found on the cumulative sums of the
      block totals, the id by a cumulative sum inside that one block.
    - ``chunk`` rows at a time (64 on CPU), so a ``[chunk, V']`` block stays in cache.

    ``proposals=True`` (the rollouts) draws from the same distribution but not the same
    tokens: where the CPU has bf16 dot products and V >= ``PROPOSAL_MIN_V``, the token is
    proposed from bf16 logits (a ~4x cheaper matmul, the rest of the work unchanged) and
    accepted with probability ``2^(exact - proposed - slack)``, ``slack`` a bound on the
    bf16 error, from the exact fp32 logit of that one token; a rejected row is drawn
    again exactly with a fresh uniform. That is rejection sampling with the proposal as
    envelope, so the tokens follow the exact softmax; about 5% of rows are drawn twice.
    It takes two more uniforms per rejected row from torch's global generator.

    Built once per batch of draws (it copies the output layer): ``Sampler(G, T).draw(h, u)``.
    """

    BLOCK = 64  # ids per block: 79 blocks at V = 5004, so both cumulative sums are short
    PROPOSAL_MIN_V = 1024  # below this the matmul is not what costs
    PROPOSAL_ERROR = 3.1 / 256  # |bf16 - exact| base-2 logit <= this * sum_k |x_k w_k| (inputs and output rounded to 8 bits)
    MAX_SLACK = 0.5  # beyond this the acceptance rate (about 2^-slack) makes proposals a loss

    def __init__(self, G: Generator, temperature: float = 1.0, chunk: int | None = None, proposals: bool = False):
        self.G, self.temperature = G, temperature
        W, b = G.out.weight.detach().float(), (G.out.bias + G.logit_mask).detach().float()
        V, H = W.shape
        self.V, self.blocks = V, -(-V // self.BLOCK)
        self.chunk = chunk or (64 if W.device.type == "cpu" else 1 << 62)
        allowed = torch.isfinite(b)
        if not allowed.any():
            raise ganforge.GanforgeError("every token is banned: the generator has nothing to draw")
        scale = 1.4426950408889634 / temperature  # log2(e) / T: exp2 of these is exp(logits / T)
        table = torch.zeros(H + 1, self.blocks * self.BLOCK, device=W.device)
        table[:H, :V] = W.t() * scale
        # banned and padding ids: exp2 of a large negative number is exactly 0 (no inf * 0 in the matmul)
        table[H] = -1e4
        table[H, :V] = torch.where(allowed, b * scale, torch.full_like(b, -1e4))
        self.table = table
        # no base-2 logit exceeds max|h| * this bound (max|h| < 1 for LSTM outputs); while
        # that stays below 64, exp2 can neither overflow nor lose the largest probabilities,
        # so no max needs subtracting (on a GPU it always is: reading max|h| would sync)
        self.bound = ((W.abs().sum(1) + b.abs()) * scale)[allowed].max().item() if W.device.type == "cpu" else None
        use = proposals and self.bound is not None and V >= self.PROPOSAL_MIN_V and _cpu_has_fast_bf16()
        self.proposal = table.bfloat16() if use else None
        self.columns = table.t().contiguous() if use else None  # [V', H+1]: the exact logit of one id
        self._buffers: dict = {}  # reused [chunk, V'] outputs: a fresh 1 MB tensor per chunk costs page faults

    def _buffer(self, n: int, dtype=torch.float32) -> torch.Tensor:
        buf = self._buffers.get(dtype)
        if buf is None or len(buf) < n:
            buf = self._buffers[dtype] = self.table.new_empty((max(n, min(self.chunk, 4096)), self.table.shape[1]), dtype=dtype)
        return buf[:n]

    def draw(self, h: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        """Token ids ``[n]`` for LSTM outputs ``h`` ``[n, H]`` and uniforms ``u`` ``[n]``."""
        reach = None if self.bound is None or len(h) == 0 else self.bound * max(1.0, h.abs().max().item())
        shift = reach is None or not reach < 64
        slack = None
        if self.proposal is not None and reach is not None and self.PROPOSAL_ERROR * reach < self.MAX_SLACK:
            slack = self.PROPOSAL_ERROR * reach
        if slack is None:
            return self._exact(h, u, shift)
        # proposals chunk by chunk, then the rejected rows of all chunks drawn again exactly
        tok, rejected = zip(*(self._propose(h[i : i + self.chunk], u[i : i + self.chunk], shift, slack)
                              for i in range(0, len(h), self.chunk)))
        tok, again = torch.cat(tok), torch.cat(rejected).nonzero()[:, 0]
        if len(again):
            tok[again] = self._exact(h[again], torch.rand(len(again), device=h.device), shift)
        return tok

    def _exact(self, h: torch.Tensor, u: torch.Tensor, shift: bool) -> torch.Tensor:
        def one(h, u):
            return self._invert(torch.mm(self._inputs(h), self.table, out=self._buffer(len(h))), u, shift)
        if len(h) <= self.chunk:
            return one(h, u)
        return torch.cat([one(h[i : i + self.chunk], u[i : i + self.chunk]) for i in range(0, len(h), self.chunk)])

    @staticmethod
    def _inputs(h: torch.Tensor) -> torch.Tensor:
        return torch.cat([h.float(), h.new_ones(len(h), 1, dtype=torch.float32)], 1)  # the bias's input

    def _propose(self, h: torch.Tensor, u: torch.Tensor, shift: bool, slack: float):
        """Ids drawn from the bf16 logits, and which of them the acceptance test rejected."""
        x = self._inputs(h)
        proposed = torch.mm(x.bfloat16(), self.proposal, out=self._buffer(len(x), torch.bfloat16))  # [n, V']
        tok = self._invert(self._buffer(len(x)).copy_(proposed), u, shift)
        exact = (x * self.columns[tok]).sum(1)
        ratio = torch.exp2(exact - proposed.gather(1, tok[:, None])[:, 0].float() - slack)  # <= 1
        return tok, torch.rand(len(x), device=x.device) >= ratio

    def _invert(self, logits2: torch.Tensor, u: torch.Tensor, shift: bool) -> torch.Tensor:
        """Ids at uniforms ``u`` of the distribution ``2^logits2`` (``[n, V']``, overwritten)."""
        n, K = len(logits2), self.BLOCK
        if shift:
            logits2.sub_(logits2.amax(1, keepdim=True))
        blocks = logits2.exp2_().view(n, self.blocks, K)
        totals = blocks.sum(2).cumsum_(1)  # [n, blocks]
        zero = totals.new_zeros(())
        # a target strictly below the total lands in a block, and on an id, of nonzero weight
        target = torch.minimum(u.float() * totals[:, -1], totals[:, -1].nextafter(zero)).unsqueeze(1)
        block = torch.searchsorted(totals, target, right=True).clamp_(max=self.blocks - 1)
        before = torch.where(block > 0, totals.gather(1, (block - 1).clamp(min=0)), zero)
        inside = blocks[torch.arange(n, device=logits2.device), block.squeeze(1)].cumsum_(1)  # [n, K]
        rest = torch.minimum(target - before, inside[:, -1:].nextafter(zero)).clamp_(min=0)
        idx = torch.searchsorted(inside, rest, right=True).clamp_(max=K - 1)
        return (block * K + idx).squeeze(1).clamp_(max=self.V - 1)
