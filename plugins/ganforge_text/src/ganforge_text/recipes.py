"""The text recipes (no torch here: `ganforge recipes` imports this module).

SeqGAN runs three phases in the one training loop:

1. ``mle``        (``mle_steps`` generator updates): maximum-likelihood pretraining;
2. ``d-pretrain`` (``d_pretrain_steps`` discriminator updates): real lines vs samples;
3. ``adversarial`` (``steps`` generator updates): policy gradient with rollout rewards,
   ``n_critic`` discriminator updates (on fresh samples) before each generator update.

A discriminator update sees ``batch_size`` real and ``batch_size`` generated lines.
"""

from ganforge import Phase, Recipe

REFERENCE = ("Yu, Zhang, Wang & Yu, SeqGAN: Sequence Generative Adversarial Nets with Policy Gradient, "
             "AAAI 2017")

# The adversarial phase starts the generator's Adam afresh: the paper's code gives the policy
# gradient its own optimiser (same lr 0.01). Carrying MLE's moments over shrank every
# policy-gradient step by the ratio of the gradient sizes: Adam's second moment (a memory
# of ~1000 steps) still held the MLE gradients, about 5x the policy gradient's RMS on the
# small oracle preset, so the adversarial phase barely moved the generator.
PHASES = [
    Phase("mle", steps="mle_steps", objective="mle"),
    Phase("d-pretrain", steps="d_pretrain_steps", objective="seqgan-d-pretrain", settings={"n_critic": 1}),
    Phase("adversarial", steps="steps", objective="policy-gradient", fresh_optimizers=("g",)),
]

OPTIONS = {
    "tokens": "bpe (subwords learned from your lines: no <unk>; seqgan's default), word (split on "
              "whitespace) or char (every character is a token)",
    "lowercase": "lower-case the text before splitting it",
    "max_vocab": "word/char: keep the N most frequent tokens (0: all), the rest read <unk>; bpe: N subword tokens",
    "max_len": "length cap in tokens; longer lines are cut, shorter ones end with <eos>",
    "holdout": "fraction of lines kept out of training (BLEU / NLL_gen references)",
    "emb_dim": "generator token embedding size",
    "hidden_dim": "generator LSTM hidden size",
    "init_std": "generator weights start N(0, init_std)",
    "d_emb_dim": "discriminator token embedding size",
    "d_filter_sizes": "discriminator convolution widths (tokens)",
    "d_num_filters": "discriminator filters per width (same length as d_filter_sizes)",
    "d_dropout": "discriminator dropout before the output layer",
    "d_l2": "L2 penalty on the discriminator's output layer",
    "mle_steps": "generator MLE pretraining updates (phase 1)",
    "d_pretrain_steps": "discriminator pretraining updates (phase 2)",
    "rollouts": "Monte Carlo rollouts per prefix for the token rewards",
    "rollout_update_rate": "rollout policy <- rate * rollout + (1 - rate) * generator after each G step",
    "pg_baseline": "policy-gradient reward baseline: none (paper) or mean (batch mean per position)",
}

# Shared by every SeqGAN recipe: the paper's optimiser settings (its code: Adam 0.01 with
# gradient norm clip 5 for G, Adam 1e-4 for D, TensorFlow's default betas).
COMMON = {
    "objective": "policy-gradient",
    "batch_size": 64,
    "optimizer": "adam",
    "lr_g": 0.01,
    "lr_d": 1e-4,
    "betas_g": [0.9, 0.999],
    "betas_d": [0.9, 0.999],
    "grad_clip": 5.0,
    "ema_beta": 0.0,  # the policy is sampled as trained; an average of LSTM weights is not a policy
    "tokens": "word",
    "lowercase": False,
    "init_std": 0.1,
    "d_dropout": 0.25,
    "d_l2": 0.2,
    "rollouts": 16,
    "rollout_update_rate": 0.8,
    "pg_baseline": "none",
    "preview_n": 16,
}

SEQGAN = Recipe(
    modality="text",
    generator="seqgan",
    discriminator="seqgan",
    objective="policy-gradient",
    summary="SeqGAN on your text: one sample per line, subword (BPE), word or character tokens",
    reference=REFERENCE,
    phases=PHASES,
    options=OPTIONS,
    defaults={
        **COMMON,
        # Subwords: on 19,000 lines of prose with 23,333 distinct words, a 10,000-word
        # vocabulary leaves <unk> in 40% of the training lines (64% of held-out ones),
        # which the generator then learns to write; BPE of the same size leaves none,
        # at 1.8x the tokens per line (12.7 vs 7.1; 0.1% of lines over max_len 32).
        "tokens": "bpe",
        "max_vocab": 10000,
        "max_len": 32,
        "holdout": 0.1,
        "emb_dim": 64,
        "hidden_dim": 128,
        "d_emb_dim": 64,
        "d_filter_sizes": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
        "d_num_filters": [50, 100, 100, 100, 100, 50, 50, 50, 50, 50],
        "mle_steps": 2000,
        "d_pretrain_steps": 1000,
        "steps": 200,
        "n_critic": 15,
        "sample_every": 100,
        "checkpoint_every": 500,
    },
)

# The paper's synthetic experiment (its code's numbers): 10,000 oracle sequences, batch 64
# (156 batches an epoch); 120 MLE epochs; 50 x 3 discriminator epochs over 10,000 real +
# 10,000 generated lines; 200 adversarial generator steps, each followed by 5 x 3 such
# epochs. One of our discriminator updates sees 64 real + 64 generated lines (two of the
# paper's 64-line updates), hence 23,400 and 2,340.
SEQGAN_ORACLE = Recipe(
    modality="text",
    generator="seqgan",
    discriminator="seqgan",
    objective="policy-gradient",
    summary="SeqGAN's synthetic oracle experiment with the paper's settings (a GPU job)",
    reference=REFERENCE,
    phases=PHASES,
    options=OPTIONS,
    defaults={
        **COMMON,
        "max_vocab": 5000,
        "max_len": 20,
        "holdout": 0.0,
        "emb_dim": 32,
        "hidden_dim": 32,
        "d_emb_dim": 64,
        "d_filter_sizes": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 15, 20],
        "d_num_filters": [100, 200, 200, 200, 200, 100, 100, 100, 100, 100, 160, 160],
        "mle_steps": 18720,
        "d_pretrain_steps": 23400,
        "steps": 200,
        "n_critic": 2340,
        "sample_every": 50,
        "checkpoint_every": 1000,
    },
)

# The same experiment shrunk to about 10 minutes on one CPU core: the same oracle data and
# generator, a smaller discriminator, fewer updates. With ~15x fewer discriminator
# updates than the paper, the discriminator learns at 1e-3 instead of 1e-4. The policy
# gradient is the paper's: no baseline (rewards are D's probabilities, all positive), a
# fresh Adam at 0.01 (PHASES). It once subtracted the batch-mean reward: on seed 0 that
# gave -0.03 with MLE's Adam moments carried over and +0.17 (worse) with a fresh Adam,
# against -0.23 with no baseline and a fresh Adam (10,000 sequences scored; benchmarks.md).
SEQGAN_ORACLE_SMALL = Recipe(
    modality="text",
    generator="seqgan",
    discriminator="seqgan",
    objective="policy-gradient",
    summary="SeqGAN's oracle experiment shrunk to minutes on a CPU",
    reference=REFERENCE,
    phases=PHASES,
    options=OPTIONS,
    defaults={
        **SEQGAN_ORACLE.defaults,
        "d_emb_dim": 32,
        "d_filter_sizes": [2, 3, 4, 5, 8, 10],
        "d_num_filters": [32, 32, 32, 32, 32, 32],
        "lr_d": 1e-3,
        "mle_steps": 1500,
        "d_pretrain_steps": 1500,
        "steps": 40,
        "n_critic": 50,
        "sample_every": 500,
        "checkpoint_every": 500,
    },
)
