"""Data-parallel training with torchrun on CPU (gloo): ranks stay in step, rank 0 alone writes."""

import json
import subprocess
import sys
import textwrap

import torch

from ganforge.artifacts import checkpoint_dir as ckpt

SCRIPT = textwrap.dedent("""
    import sys, torch, ganforge
    out, data = sys.argv[1], sys.argv[2]
    run = ganforge.train("toy-ring", data=data, out=out, steps=4, batch_size=32,
                         overrides={"hidden": 8, "d_hidden": 8, "progress": False, "log_every": 1, "ema_beta": 0.5})
    torch.save({k: v.clone() for k, v in run.discriminator.state_dict().items()}, f"{out}.rank{run.rank}.pt")
""")


def test_two_processes_train_in_step_and_write_one_run(tmp_path):
    from ganforge import plugins

    plugins.get_plugin_manager().registry.get("dataset", "ring")(tmp_path / "ring", n=256)
    script = tmp_path / "ddp_train.py"
    script.write_text(SCRIPT)
    out = tmp_path / "run"
    result = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
                             str(script), str(out), str(tmp_path / "ring")], capture_output=True, text=True,
                            timeout=240)
    assert result.returncode == 0, result.stderr[-2000:]
    r0, r1 = torch.load(f"{out}.rank0.pt"), torch.load(f"{out}.rank1.pt")
    assert all(torch.equal(r0[k], r1[k]) for k in r0)  # averaged gradients: identical updates
    log = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [1, 2, 3, 4]  # one writer, not two
    state = torch.load(ckpt(out) / "training_state.pt", weights_only=True)
    assert len(state["rng_per_rank"]) == 2 and state["step"] == 4
