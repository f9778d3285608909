"""Registrations of the text plugin. Lazy references only: no torch import here."""

from ganforge import hookimpl

GANFORGE_API = 1  # the ganforge plugin API this plugin is written for (ganforge.API_VERSION)

__version__ = "0.1.0"


@hookimpl
def ganforge_register_modalities(register):
    register("text", "ganforge_text.modality:TextModality",
             summary="a .txt file or folder of them, one sample per line, word or character tokens")


@hookimpl
def ganforge_register_generators(register):
    register("seqgan", "ganforge_text.generator:Generator",
             summary="SeqGAN LSTM generator (sample / log_prob / temperature)")


@hookimpl
def ganforge_register_discriminators(register):
    register("seqgan", "ganforge_text.discriminator:Discriminator",
             summary="SeqGAN CNN discriminator over embeddings, highway, dropout")


@hookimpl
def ganforge_register_encoders(register):
    register("minilm", "ganforge_text.encoders:MiniLMEncoder",
             summary="frozen sentence encoder (all-MiniLM-L6-v2, 384-d, offline) for captions and prompts")
    register("hashed", "ganforge_text.encoders:HashedEncoder",
             summary="trainable hashed word uni+bigram embeddings for captions and prompts; no model files")


@hookimpl
def ganforge_register_objectives(register):
    register("mle", "ganforge_text.objectives:MLE", summary="generator maximum-likelihood pretraining (SeqGAN)")
    register("seqgan-d-pretrain", "ganforge_text.objectives:DiscriminatorPretrain",
             summary="discriminator pretraining on real lines vs generator samples (SeqGAN)")
    register("policy-gradient", "ganforge_text.objectives:PolicyGradient",
             summary="SeqGAN policy gradient with Monte Carlo rollout rewards")


@hookimpl
def ganforge_register_recipes(register):
    register("seqgan", "ganforge_text.recipes:SEQGAN", summary="SeqGAN on your text (Yu et al. 2017)")
    register("seqgan-oracle", "ganforge_text.recipes:SEQGAN_ORACLE",
             summary="SeqGAN's synthetic oracle experiment, the paper's settings")
    register("seqgan-oracle-small", "ganforge_text.recipes:SEQGAN_ORACLE_SMALL",
             summary="the oracle experiment shrunk to minutes on a CPU")


@hookimpl
def ganforge_register_metrics(register):
    register("bleu", "ganforge_text.metrics:bleu", summary="BLEU-2..5 of generated lines vs held-out lines")
    register("self-bleu", "ganforge_text.metrics:self_bleu", summary="self-BLEU-2..5 of generated lines (diversity)")
    register("nll-gen", "ganforge_text.metrics:nll_gen", summary="generator NLL per token of the data lines")
    register("nll-oracle", "ganforge_text.metrics:nll_oracle",
             summary="oracle NLL per token of generated sequences (oracle data only)")


@hookimpl
def ganforge_register_datasets(register):
    register("oracle", "ganforge_text.oracle:make_oracle",
             summary="SeqGAN's synthetic data: an N(0,1) LSTM oracle and 10,000 sequences of 20 tokens")
