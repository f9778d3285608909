"""ganforge's text plugin: the text modality (one sample per line, word or character
tokens, a learned vocabulary), SeqGAN (LSTM generator, CNN discriminator, MLE / policy
gradient with Monte Carlo rollouts), the synthetic oracle data set and text metrics
(BLEU, self-BLEU, NLL_gen, NLL_oracle).

Registered through the entry point ``text = "ganforge_text.plugin"``; nothing here is
imported until a component is used.
"""

__version__ = "0.1.0"
