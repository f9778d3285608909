"""The built-in plugins pass the conformance kit that plugin authors run (ganforge.testing)."""

from ganforge.testing import dataset, parametrize_with_checks

TOY = {"hidden": 8, "layers": 1, "d_hidden": 8, "d_layers": 1, "batch_size": 8}
IMAGE = {"image_size": 16, "ngf": 4, "ndf": 4, "nz": 8, "cond_dim": 4, "batch_size": 4}
AUDIO = {"model_dim": 2, "nz": 8, "batch_size": 4, "audio_length": 4096}
TEXT = {"emb_dim": 4, "hidden_dim": 4, "d_emb_dim": 4, "d_filter_sizes": [1, 2], "d_num_filters": [2, 2],
        "batch_size": 4, "rollouts": 1, "n_critic": 1, "mle_steps": 1, "d_pretrain_steps": 1}


@parametrize_with_checks("toy", data=dataset("ring", n=64), overrides=TOY)
def test_toy_plugin(check, tmp_path):
    check(tmp_path)


@parametrize_with_checks("core", data=dataset("ring", n=64), overrides=TOY, recipe="toy-ring",
                         select=["non-saturating", "hinge", "wgan-gp", "rpgan"])
def test_core_objectives(check, tmp_path):
    check(tmp_path)


@parametrize_with_checks("image", data=dataset("shapes", n=16, size=16), overrides=IMAGE,
                         select=["image", "dcgan", "ada"])
def test_image_plugin_dcgan(check, tmp_path):
    check(tmp_path)


@parametrize_with_checks("core", data=dataset("shapes", n=16, size=16), overrides=IMAGE, recipe="image:dcgan",
                         select=["label"])
def test_core_label_encoder(check, tmp_path):
    check(tmp_path)


@parametrize_with_checks("text", data=dataset("shapes", n=16, size=16), overrides=IMAGE, recipe="image:dcgan",
                         select=["minilm", "hashed"])
def test_text_encoders(check, tmp_path):
    check(tmp_path)


@parametrize_with_checks("audio", data=dataset("tones", n=8, length=4096), overrides=AUDIO,
                         select=["audio", "wavegan"])
def test_audio_plugin_wavegan(check, tmp_path):
    check(tmp_path)


def _corpus(tmp):
    path = tmp / "corpus.txt"
    path.write_text("\n".join(["the cat sat on the mat", "the dog sat on the log", "a cat and a dog",
                               "a bird sat on the house"] * 3) + "\n")
    return path


@parametrize_with_checks("text", data=_corpus, overrides=TEXT, select=["text", "seqgan", "mle", "policy-gradient"])
def test_text_plugin_seqgan(check, tmp_path):
    check(tmp_path)
