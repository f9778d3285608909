"""bench/bench_modes.py: each data set at its recipe's length, and a plain-PyTorch baseline
configured like the recipe (R1 included) or refused where it cannot be."""

import pytest
import torch

from ganforge_toy.mixtures import grid_modes


def test_each_data_set_trains_for_its_own_recipes_steps_by_default(bench_script, monkeypatch, tmp_path):
    bench = bench_script("bench_modes")
    asked = []

    def pretend(job):
        asked.append((job["dataset"], job["steps"]))
        return {"dataset": job["dataset"], "seed": job["seed"], "steps": job["steps"], "modes": 1, "total": 8,
                "hq": 50.0, "t_gf": 0.0}

    monkeypatch.setattr(bench, "one_run", pretend)
    assert bench.main(["--seeds", "1", "--no-baseline", "--out", str(tmp_path)]) == 0
    assert asked == [("ring", 48000), ("grid", 96000)]
    asked.clear()
    assert bench.main(["--seeds", "1", "--no-baseline", "--steps", "7", "--out", str(tmp_path)]) == 0
    assert asked == [("ring", 7), ("grid", 7)]


CFG = {"nz": 2, "hidden": 16, "layers": 2, "g_norm": "batch", "d_hidden": 16, "d_layers": 2, "d_maxout": 0,
       "pack": 1, "init_std": 0.02, "steps": 32, "batch_size": 64, "lr_g": 1e-3, "lr_d": 1e-3,
       "betas_g": [0.8, 0.999], "betas_d": [0.8, 0.999], "schedule": "constant", "schedule_steps": 0,
       "lr_end_ratio": 0.01, "beta2_end": 0.999, "ema_beta": 0.0, "ema_rampup": 0.0,
       "objective": "non-saturating", "n_critic": 1, "r1_gamma": 0.0, "r2_gamma": 0.0, "d_reg_interval": 4}


def test_baseline_applies_r1_and_it_changes_the_training(bench_script):
    bench = bench_script("bench_modes")
    points = grid_modes().float()[torch.randint(25, (512,), generator=torch.Generator().manual_seed(0))]
    points = points + 0.05 * torch.randn(512, 2, generator=torch.Generator().manual_seed(1))
    plain = bench.baseline(points, CFG, seed=0, n_eval=50, device="cpu")
    again = bench.baseline(points, CFG, seed=0, n_eval=50, device="cpu")
    penalised = bench.baseline(points, {**CFG, "r1_gamma": 10.0}, seed=0, n_eval=50, device="cpu")
    assert plain.shape == (50, 2) and torch.equal(plain, again)  # seeded: only R1 differs below
    assert not torch.allclose(plain, penalised)


@pytest.mark.parametrize("change", [{"objective": "hinge"}, {"r2_gamma": 0.1}, {"n_critic": 2}])
def test_baseline_refuses_settings_it_does_not_implement(bench_script, change):
    bench = bench_script("bench_modes")
    with pytest.raises(SystemExit, match="--no-baseline"):
        bench.baseline(torch.zeros(8, 2), {**CFG, **change}, seed=0, n_eval=8, device="cpu")


def test_settings_the_baseline_lacks_stop_before_any_training(bench_script, capsys):
    bench = bench_script("bench_modes")
    with pytest.raises(SystemExit) as stop:
        bench.main(["--datasets", "ring", "--seeds", "1", "--steps", "1", "--set", "objective=hinge"])
    assert stop.value.code == 2 and "--no-baseline" in capsys.readouterr().err

