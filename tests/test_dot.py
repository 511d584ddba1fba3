"""The weight-shared Dot (Sec. 2.2) and its training (Algorithm 1)."""

import csv
import json

import pytest
import torch
from safetensors.torch import load_file

from harness.cli import main
from harness.errors import HarnessError
from harness.morse.checkpoint import load_dot
from harness.models.denoisers import DashDenoiser
from harness.morse.dot import build_dot
from harness.morse.dot_config import DotConfig

SHARED_TRAINABLE = ("resampler.", "network.unet.conv_in.", "network.unet.conv_out.",
                    "network.unet.time_embedding.source.", "temb.")


def test_untrained_dot_is_the_zero_residual_and_dash_stays_exact(tiny_dash):
    x = torch.randn(2, 1, 16, 16)
    before = DashDenoiser(tiny_dash.unet)(x, 500)
    dot = build_dot(tiny_dash.unet, DotConfig(m=1, channels=(16,), lora_rank=4))
    assert torch.equal(dot(x, x, before, 700, 500), torch.zeros_like(x))
    assert torch.equal(DashDenoiser(tiny_dash.unet)(x, 500), before)  # LoRA is off outside Dot


def test_the_sampling_dot_merges_lora_into_its_own_copy_and_gives_dash_its_layers_back(tiny_dash):
    """for_sampling: the same residual without LoRA's products (what sampling and the latency job run), Dash as
    it was before the Dot was built, and the copy's size reported."""
    from peft.tuners.tuners_utils import BaseTunerLayer

    x, z = torch.randn(2, 1, 16, 16), torch.randn(2, 1, 16, 16)
    before = DashDenoiser(tiny_dash.unet)(x, 500)
    dot = build_dot(tiny_dash.unet, DotConfig(m=1, channels=(16,), lora_rank=4, gap_scale=1000))
    torch.manual_seed(0)
    with torch.no_grad():
        for p in dot.parameters():
            if p.requires_grad:  # trained-like weights: LoRA's B and the head are zero when built
                p.normal_(0, 0.05)
        expected = dot.eval()(x, x, z, 700, 500)
        adapted = sum(m.get_base_layer().weight.numel() + m.get_base_layer().bias.numel()
                      for m in tiny_dash.unet.modules() if isinstance(m, BaseTunerLayer))
        dot.for_sampling()
        assert not any(isinstance(m, BaseTunerLayer) for m in tiny_dash.unet.modules())  # Dash's own layers again
        assert not any(isinstance(m, BaseTunerLayer) for m in dot.modules())
        assert torch.allclose(dot(x, x, z, 700, 500), expected, atol=1e-5)
        assert dot.merged_parameters == adapted > 0
        assert torch.equal(DashDenoiser(tiny_dash.unet)(x, 500), before)
        plain = build_dot(tiny_dash.unet, DotConfig(m=1, channels=(16,), lora_rank=0)).for_sampling()
        assert plain.merged_parameters == 0


def test_only_extra_blocks_mismatched_layers_and_lora_are_trainable(tiny_dash):
    dot = build_dot(tiny_dash.unet, DotConfig(m=1, channels=(16,), lora_rank=4))
    trainable = [n for n, p in dot.named_parameters() if p.requires_grad]
    assert trainable
    for name in trainable:
        assert name.startswith(SHARED_TRAINABLE) or ".lora_" in name, name
    assert any(".lora_A." in n for n in trainable)
    assert all(not p.requires_grad for p in tiny_dash.unet.parameters() if not _is_lora(p, tiny_dash.unet))


def _is_lora(param, module):
    return any(param is p for n, p in module.named_parameters() if ".lora_" in n)


def test_lora_off_and_variants(tiny_dash):
    x = torch.randn(2, 1, 16, 16)
    no_lora = build_dot(tiny_dash.unet, DotConfig(m=1, channels=(16,), lora_rank=0))
    assert not any(".lora_" in n for n, _ in no_lora.named_parameters())
    for variant in ("bilinear", "independent"):
        dot = build_dot(tiny_dash.unet, DotConfig(variant=variant, m=1, channels=(16,), lora_rank=0,
                                                  independent_channels=(16, 32)))
        assert dot(x, x, x, 700, 500).shape == x.shape


def test_the_independent_dot_shares_nothing_and_takes_the_text_states_and_the_guidance_scale():
    """Table 7: the m blocks around an SD-shaped UNet of its own at reduced widths, with cross-attention,
    trained over guidance scales."""
    from harness.models.dash import load_dash

    dash = load_dash("config:tiny-sd")
    dot = build_dot(dash.unet, DotConfig(variant="independent", m=1, channels=(8,), independent_channels=(8,),
                                         lora_rank=0, conditions="prompts", guidance_scales=(2, 10)))
    assert not {id(p) for p in dot.parameters()} & {id(p) for p in dash.unet.parameters()}
    own = dot.network.unet.config
    assert list(own.block_out_channels) == [8] and own.cross_attention_dim == 32 and own.sample_size == 8
    assert list(own.down_block_types) == ["CrossAttnDownBlock2D"]
    torch.nn.init.normal_(dot.network.unet.time_embedding.scale.linear_2.weight)  # w's embedding and the head
    torch.nn.init.normal_(dot.resampler.head.weight)                                # start at zero
    x, states = torch.randn(2, *dash.sample_shape), torch.randn(2, 77, 32)
    with torch.no_grad():
        out = {(w, k): dot(x, x, x, 700, 500, guidance_scale=torch.tensor([w, w]), encoder_hidden_states=states * k)
               for w, k in ((2.0, 1.0), (9.0, 1.0), (2.0, 0.0))}
    assert out[2.0, 1.0].shape == x.shape
    assert not torch.allclose(out[2.0, 1.0], out[9.0, 1.0]) and not torch.allclose(out[2.0, 1.0], out[2.0, 0.0])
    with pytest.raises(HarnessError, match="'independent' does not fit this Dash: independent_channels has 3 levels"):
        build_dot(dash.unet, DotConfig(variant="independent", m=1, channels=(8,), independent_channels=(8, 8, 8)))


def test_removed_trajectory_inputs_do_not_reach_dot(tiny_dash):
    """Table 4 ablation: without z_ts, changing z_ts changes nothing."""
    dot = build_dot(tiny_dash.unet, DotConfig(m=1, channels=(16,), lora_rank=0, inputs=("x_ts", "t_s")))
    torch.nn.init.normal_(dot.resampler.head.weight)
    x = torch.randn(2, 1, 16, 16)
    assert torch.equal(dot(x, x, torch.zeros_like(x), 700, 500), dot(x, x, torch.ones_like(x), 700, 500))


def test_gap_scale_makes_the_residual_proportional_to_the_gap(tiny_dash):
    """gap_scale > 0: eta = (t_s - t_i) / gap_scale * network output, so eta = 0 at t_i = t_s."""
    plain = build_dot(tiny_dash.unet, DotConfig(m=1, channels=(16,), lora_rank=0))
    scaled = build_dot(tiny_dash.unet, DotConfig(m=1, channels=(16,), lora_rank=0, gap_scale=1000))
    scaled.load_state_dict(plain.state_dict())
    torch.nn.init.normal_(plain.resampler.head.weight)
    scaled.resampler.head.weight.data.copy_(plain.resampler.head.weight)
    x = torch.randn(3, 1, 16, 16)
    t_s, t_i = torch.tensor([700, 700, 500]), torch.tensor([700, 450, 100])
    with torch.no_grad():
        ref, out = plain(x, x, x, t_s, t_i), scaled(x, x, x, t_s, t_i)
    for k, gap in enumerate((0, 250, 400)):
        torch.testing.assert_close(out[k], ref[k] * gap / 1000)
    assert DotConfig.from_dict(plain.config.to_dict()).gap_scale == 0.0  # old checkpoints: off
    with pytest.raises(ValueError):
        DotConfig(m=1, channels=(16,), gap_scale=-1)


def _train(dash_dir, out, *extra):
    return main(["train-dot", "--dash", str(dash_dir), "--data", "digits:16:train", "--steps", "2",
                 "--batch-size", "4", "--groups", "2", "--extra-blocks", "1", "--channels", "16", "--lora-rank", "4",
                 "--out", str(out), *extra])


def test_training_leaves_dash_bit_identical_and_resumes(tiny_dash_dir, tmp_path):
    dash_weights = load_file(str(tiny_dash_dir / "diffusion_pytorch_model.safetensors"))
    out = tmp_path / "dot"
    assert _train(tiny_dash_dir, out) == 0
    from harness.models.dash import load_dash

    dash = load_dash(str(tiny_dash_dir))
    before = {k: v.clone() for k, v in dash.unet.state_dict().items()}
    dot = load_dot(out, dash)
    assert all(torch.equal(v, dash_weights[k]) for k, v in before.items())  # checkpoint never touched Dash
    assert any(t.abs().sum() > 0 for n, t in dot.trainable_state_dict().items() if n.startswith("resampler.head"))

    with open(out / "loss.csv", "a") as f:  # a run killed after its last checkpoint had logged step 3
        f.write("3,0.5,0.5,0.001,1.0\n")
    assert _train(tiny_dash_dir, out, "--steps", "4", "--resume") == 0
    with open(out / "loss.csv") as f:
        steps = [int(row["step"]) for row in csv.DictReader(f)]
    assert steps == [1, 2, 3, 4]
    assert json.loads((out / "dot.json").read_text())["steps_done"] == 4
    after = load_file(str(tiny_dash_dir / "diffusion_pytorch_model.safetensors"))
    assert all(torch.equal(after[k], dash_weights[k]) for k in dash_weights)


def test_dash_weights_unchanged_in_memory_by_a_training_step(tiny_dash):
    from harness.morse.train import make_pairs, residual_loss

    before = [(p, p.detach().clone()) for p in tiny_dash.unet.parameters()]  # LoRA wraps, keeps these
    dot = build_dot(tiny_dash.unet, DotConfig(m=1, channels=(16,), lora_rank=4))
    optimizer = torch.optim.AdamW([p for p in dot.parameters() if p.requires_grad], lr=1e-2)
    batch = make_pairs(DashDenoiser(tiny_dash.unet), "ddim", tiny_dash.noise, torch.randn(4, 1, 16, 16),
                       torch.Generator().manual_seed(0), max_gap=400, groups=2)
    for _ in range(2):
        optimizer.zero_grad()
        residual_loss(dot, batch)[0].backward()
        assert all(p.grad is None for p, _ in before)
        optimizer.step()
    assert all(torch.equal(p, copy) for p, copy in before)


def test_pairs_are_drawn_over_the_whole_range_as_algorithm_1():
    from harness.morse.train import draw_pairs

    t_s, t_o, planned = draw_pairs(20000, 1000, torch.Generator().manual_seed(0))
    assert planned is None
    gap = t_s - t_o
    assert (gap >= 1).all() and t_o.min() >= 0 and t_s.max() <= 999
    assert gap.max() > 950 and (gap > 400).float().mean() > 0.3  # old default: never beyond 400
    assert abs(gap.float().mean().item() - 333) < 10  # E|a - b| = (T^2 - 1) / 3T for two uniform steps
    t_s, t_o, _ = draw_pairs(2000, 1000, torch.Generator().manual_seed(0), max_gap=400)
    assert (t_s - t_o).max() <= 400 and (t_s > t_o).all()


def test_a_schedules_dot_pairs_read_dashs_last_point_or_the_previous_one():
    """Eq. 5: every Dot step reads Dash's last point; Eq. 7 (source "last"): the point before it."""
    from harness.morse.schedule import MorseSchedule

    schedule = MorseSchedule((999, 800, 600, 400, 200), (True, False, False, True, False))
    assert schedule.dot_pairs() == [(999, 800), (999, 600), (400, 200)]
    assert schedule.dot_pairs("last") == [(999, 800), (800, 600), (400, 200)]


def test_planned_pairs_are_drawn_only_from_the_schedules_dot_steps(tiny_dash):
    """`pairs: planned` (train-dot --schedules): the pairs are those the Morse schedules will ask Dot for."""
    from harness.morse.schedule import plan_from_counts
    from harness.morse.train import draw_pairs, planned_pairs

    schedules = [("trailing", 10, 1, "dash"), ("trailing", 15, 2, "dash")]
    pair_set = planned_pairs(schedules, tiny_dash.noise)
    expected = [p for g, f, d, _ in schedules for p in plan_from_counts(g, f, d, tiny_dash.noise).dot_pairs()]
    assert sorted(map(tuple, pair_set[:, :2].tolist())) == sorted(expected) and len(expected) == 9 + 13
    # the third column: the sampler steps from t_s to t_o on the schedule (10 fine steps, Dash at the first: 1..9)
    assert pair_set[:9, 2].tolist() == list(range(1, 10))
    t_s, t_o, steps = draw_pairs(3000, 1000, torch.Generator().manual_seed(0), pair_set=pair_set)
    drawn = set(zip(t_s.tolist(), t_o.tolist(), steps.tolist()))
    assert drawn == set(map(tuple, pair_set.tolist()))  # every planned pair, nothing else
    with pytest.raises(HarnessError, match="no Dot step"):
        planned_pairs([("trailing", 5, 5, "dash")], tiny_dash.noise)


def test_schedules_option_trains_on_planned_pairs_and_refuses_bad_input(tiny_dash_dir, tmp_path, capsys):
    out = tmp_path / "dot"
    assert _train(tiny_dash_dir, out, "--schedules", "trailing:6:2,trailing:10:1:last") == 0
    training = json.loads((out / "dot.json").read_text())["training"]
    assert training["schedules"] == [["trailing", 6, 2, "dash"], ["trailing", 10, 1, "last"]]
    from harness.morse.dot_config import departures_from_algorithm_1

    assert "pairs planned" in departures_from_algorithm_1(training)
    for bad in ("trailing:6", "trailing:3:4", "trailing:6:2:sideways"):
        with pytest.raises(SystemExit):
            _train(tiny_dash_dir, tmp_path / "bad", "--schedules", bad)
        assert "--schedules" in capsys.readouterr().err
    assert _train(tiny_dash_dir, tmp_path / "both", "--schedules", "trailing:6:2", "--max-gap", "100") == 1
    assert "give one" in capsys.readouterr().err and not (tmp_path / "both").exists()


def test_each_image_gets_its_own_pair_and_per_image_timesteps_reach_dash(tiny_dash):
    """Default: one (t_s, t_o) per image; Dash runs once on the batch with per-image timesteps,
    and every image's x_to and target equal what a batch of that image alone gives."""
    from harness.morse.train import make_pairs
    from harness.samplers import make_sampler

    dash = DashDenoiser(tiny_dash.unet)
    x0 = torch.rand(6, 1, 16, 16) * 2 - 1
    batch = make_pairs(dash, "ddim", tiny_dash.noise, x0, torch.Generator().manual_seed(3))
    assert len(set(zip(batch.t_s.tolist(), batch.t_o.tolist()))) == 6 and (batch.t_s > batch.t_o).all()
    for i in (0, 5):
        s, o = int(batch.t_s[i]), int(batch.t_o[i])
        z = dash(batch.x_ts[i : i + 1], s)
        torch.testing.assert_close(batch.z_ts[i : i + 1], z, atol=1e-5, rtol=1e-5)
        x_to = make_sampler("ddim", tiny_dash.noise, [s, o]).step(0, batch.x_ts[i : i + 1], z, None)
        torch.testing.assert_close(batch.x_to[i : i + 1], x_to, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(batch.target[i : i + 1], dash(x_to, o), atol=1e-5, rtol=1e-5)
    grouped = make_pairs(dash, "ddim", tiny_dash.noise, x0, torch.Generator().manual_seed(3), groups=2)
    assert len(set(grouped.t_s.tolist())) <= 2 and grouped.t_s[:3].unique().numel() == 1


class _ConstantResidual(torch.nn.Module):
    """A stand-in Dot for the rollout: eta = ``value`` everywhere; records the t_i it is asked at."""

    def __init__(self, value):
        super().__init__()
        self.value, self.asked = value, []

    def forward(self, x_ts, x_ti, z_ts, t_s, t_i, **inputs):
        self.asked.append(t_i.tolist())
        return torch.full_like(z_ts, self.value)


def test_a_rollout_chains_dot_steps_from_t_s_to_t_o(tiny_dash):
    """--rollout K: x_to by k ~ U{1..K} DDIM steps on an even sub-grid, Dot's estimate after the first. With a zero
    residual the k steps are the one jump of Algorithm 1 (training starts there); with another residual the
    images of k > 1 land elsewhere, those of k = 1 do not; no image takes more steps than its gap."""
    from harness.morse.train import Rollout, make_pairs, roll_out

    dash = DashDenoiser(tiny_dash.unet)
    x0 = torch.rand(8, 1, 16, 16) * 2 - 1
    plain = make_pairs(dash, "ddim", tiny_dash.noise, x0, torch.Generator().manual_seed(3))
    zero = make_pairs(dash, "ddim", tiny_dash.noise, x0, torch.Generator().manual_seed(3),
                      rollout=Rollout(_ConstantResidual(0.0), 6))
    assert torch.equal(zero.t_s, plain.t_s) and torch.equal(zero.x_ts, plain.x_ts)  # pairs and noise: the same stream
    torch.testing.assert_close(zero.x_to, plain.x_to, atol=1e-4, rtol=1e-4)
    steps = [1, 3, 1, 5]
    t_s, t_o = torch.tensor([900, 900, 400, 400]), torch.tensor([100, 100, 399, 350])
    x_ts, z_ts = torch.randn(4, 1, 16, 16), torch.randn(4, 1, 16, 16)
    dot = _ConstantResidual(0.3)
    jumped = roll_out("ddim", tiny_dash.noise, x_ts, z_ts, t_s, t_o, [1, 1, 1, 1], [0] * 4)
    rolled = roll_out("ddim", tiny_dash.noise, x_ts, z_ts, t_s, t_o, steps, [0] * 4, Rollout(dot, 5))
    assert [torch.equal(rolled[i], jumped[i]) for i in range(4)] == [True, False, True, False]
    assert dot.asked == [[633, 390], [367, 380], [370], [360]]  # u_j of the images still on their way
    drawn = make_pairs(dash, "ddim", tiny_dash.noise, x0, torch.Generator().manual_seed(3),
                       rollout=Rollout(dot, 1000))
    assert torch.isfinite(drawn.x_to).all()


def test_a_rollout_share_leaves_the_other_images_on_algorithm_1s_pairs(tiny_dash):
    """--rollout-share P: about P of the images roll out; the others are Algorithm 1's pairs of the same stream,
    to the bit (x_ts, x_to and the target), so a mixture is Algorithm 1 plus Dot's own steps on a share."""
    from harness.morse.train import Rollout, make_pairs

    dash = DashDenoiser(tiny_dash.unet)
    x0 = torch.rand(64, 1, 16, 16) * 2 - 1
    plain = make_pairs(dash, "ddim", tiny_dash.noise, x0, torch.Generator().manual_seed(3))
    mixed = make_pairs(dash, "ddim", tiny_dash.noise, x0, torch.Generator().manual_seed(3),
                       rollout=Rollout(_ConstantResidual(0.3), 8, share=0.5))
    same = [torch.equal(mixed.x_to[i], plain.x_to[i]) for i in range(64)]
    assert torch.equal(mixed.x_ts, plain.x_ts) and 16 <= sum(same) <= 48
    assert all(torch.equal(mixed.target[i], plain.target[i]) for i in range(64) if same[i])
    full = make_pairs(dash, "ddim", tiny_dash.noise, x0, torch.Generator().manual_seed(3),
                      rollout=Rollout(_ConstantResidual(0.3), 8))
    assert sum(torch.equal(full.x_to[i], plain.x_to[i]) for i in range(64)) < sum(same)


@pytest.mark.parametrize("share", ["0", "1.5", "half"])
def test_a_rollout_share_outside_0_to_1_is_a_usage_error(tiny_dash_dir, tmp_path, capsys, share):
    with pytest.raises(SystemExit) as exit_:
        _train(tiny_dash_dir, tmp_path / "bad", "--rollout", "3", "--rollout-share", share)
    assert exit_.value.code == 2 and "--rollout-share" in capsys.readouterr().err
    assert not (tmp_path / "bad").exists()


def test_a_rollout_share_without_a_rollout_is_refused_in_one_line(tiny_dash_dir, tmp_path, capsys):
    """A share of a rollout that does not happen (--rollout 1) would be ignored silently: refused before anything
    is written."""
    assert _train(tiny_dash_dir, tmp_path / "bad", "--rollout-share", "0.5") == 1
    assert "give --rollout K > 1" in capsys.readouterr().err and not (tmp_path / "bad").exists()


def test_a_rollout_of_planned_pairs_takes_the_steps_sampling_takes(tiny_dash):
    """--rollout K with --schedules: each pair's x_to is reached through the schedule's own grid points
    (Dot asked at each of them), at most K steps; not by a random k."""
    from harness.morse.schedule import plan_from_counts
    from harness.morse.train import Rollout, make_pairs, planned_pairs

    plan = plan_from_counts("trailing", 10, 1, tiny_dash.noise)
    pair_set = planned_pairs([("trailing", 10, 1, "dash")], tiny_dash.noise)[[4]]  # (t_s, t_o) five steps apart
    t_s, t_o, k = pair_set[0].tolist()
    assert (t_s, t_o, k) == (plan.grid[0], plan.grid[5], 5)
    x0 = torch.rand(3, 1, 16, 16) * 2 - 1
    for most, asked in [(10, list(plan.grid[1:5])), (2, [round(t_s - (t_s - t_o) / 2)])]:
        dot = _ConstantResidual(0.1)
        batch = make_pairs(DashDenoiser(tiny_dash.unet), "ddim", tiny_dash.noise, x0, torch.Generator().manual_seed(0),
                           pair_set=pair_set, rollout=Rollout(dot, most))
        assert batch.t_o.tolist() == [t_o] * 3
        assert dot.asked == [[t] * 3 for t in asked]


def test_heldout_error_is_reported_by_gap(tiny_dash):
    from harness.morse.train import gap_table, heldout_error

    dot = build_dot(tiny_dash.unet, DotConfig(m=1, channels=(16,), lora_rank=0))
    held = heldout_error(DashDenoiser(tiny_dash.unet), dot.eval(), "ddim", tiny_dash.noise,
                         torch.rand(16, 1, 16, 16) * 2 - 1, pairs_per_image=4)
    assert held["pairs"] == 64 and sum(row["pairs"] for row in held["by_gap"]) == 64
    assert held["by_gap"][0]["gap"] == "1-50" and held["by_gap"][-1]["gap"].endswith("-1000")
    # an untrained Dot is the zero residual: the same error in every bin
    assert all(row["dot_over_zero"] == pytest.approx(1.0) for row in held["by_gap"])
    assert "dot_over_zero" in gap_table(held)


def test_init_starts_from_a_trained_dot_of_the_same_architecture(tiny_dash_dir, tmp_path, capsys):
    """--init DOT_DIR: fine-tuning starts from that Dot's weights (a 1-step run at a tiny learning rate stays near
    them, a fresh one does not); another architecture is refused in one line, before anything is written."""
    first = tmp_path / "first"
    assert _train(tiny_dash_dir, first, "--rollout", "3", "--eval-data", "digits:16:heldout") == 0
    meta = json.loads((first / "dot.json").read_text())
    assert meta["training"]["rollout"] == 3
    # held out on Algorithm 1's pairs and on the states the Dot's own steps reach: different pairs, both reported
    assert meta["heldout"]["pairs"] == meta["heldout_rollout"]["pairs"] > 0
    assert meta["heldout"]["zero_residual_mse"] != meta["heldout_rollout"]["zero_residual_mse"]
    tuned, fresh = tmp_path / "tuned", tmp_path / "fresh"
    assert _train(tiny_dash_dir, tuned, "--init", str(first), "--steps", "1", "--lr", "1e-9") == 0
    assert _train(tiny_dash_dir, fresh, "--steps", "1", "--lr", "1e-9") == 0
    start, a, b = (load_file(str(d / "dot.safetensors")) for d in (first, tuned, fresh))
    key = next(k for k in start if k.startswith("resampler.head"))
    assert torch.allclose(a[key], start[key], atol=1e-6) and not torch.allclose(b[key], start[key], atol=1e-6)
    assert _train(tiny_dash_dir, tmp_path / "other", "--init", str(first), "--channels", "8") == 1
    assert "another architecture" in capsys.readouterr().err and not (tmp_path / "other").exists()



def test_before_rollout_from_training_is_algorithm_1_to_the_bit(tiny_dash_dir, tmp_path):
    """--rollout-from STEP: the steps before it draw and train exactly as Algorithm 1 (the curriculum of the
    shipped Dots: Algorithm 1, then Dot's own steps)."""
    assert _train(tiny_dash_dir, tmp_path / "plain") == 0
    assert _train(tiny_dash_dir, tmp_path / "later", "--rollout", "4", "--rollout-from", "2") == 0
    assert _train(tiny_dash_dir, tmp_path / "now", "--rollout", "4", "--rollout-from", "1") == 0
    plain, later, now = ((tmp_path / d / "dot.safetensors").read_bytes() for d in ("plain", "later", "now"))
    assert later == plain and now != plain


def test_image_size_not_divisible_by_2_to_the_m(tiny_dash_dir, tmp_path, capsys):
    assert _train(tiny_dash_dir, tmp_path / "dot", "--extra-blocks", "5", "--channels", "8,8,8,8,8") == 1
    assert "not divisible by 2^m = 32" in capsys.readouterr().err
    assert not (tmp_path / "dot").exists()


def test_dash_unet_too_small_at_one_over_2_to_the_m_is_refused(tiny_dash_dir, tmp_path, capsys):
    """16 px, m = 4: Dash's UNet (one downsampling) would run on 1 px; one line instead of a conv or concat error
    (the rehearsal met it as `Kernel size can't be greater than actual input size`)."""
    assert _train(tiny_dash_dir, tmp_path / "dot", "--extra-blocks", "4", "--channels", "8,8,8,8") == 1
    assert "1 downsamplings need sides divisible by 2; lower --m" in capsys.readouterr().err
    assert not (tmp_path / "dot").exists()


def test_checkpoint_for_another_dash_is_refused(tiny_dash_dir, tmp_path, capsys):
    out = tmp_path / "dot"
    assert _train(tiny_dash_dir, out) == 0
    from harness.models.dash import load_dash

    other = load_dash("config:digits")
    with pytest.raises(HarnessError, match="was trained against Dash"):
        load_dot(out, other)
    shard = tmp_path / "s.npz"
    code = main(["sample", "--dash", "config:digits", "--dot", str(out), "--fine-steps", "4", "--dash-steps", "2",
                 "--seeds", "0-1", "--out", str(shard)])
    assert code == 1 and "was trained against Dash" in capsys.readouterr().err
    assert not shard.exists()


@pytest.mark.slow
def test_trained_dot_beats_the_zero_residual_on_heldout_digits(tmp_path):
    """Table 4's logic on the shipped digits Dash: a briefly trained Dot lowers the held-out
    residual error below that of reusing z_ts."""
    out = tmp_path / "dot"
    code = main(["train-dot", "--dash", "digits", "--data", "digits:16:train", "--eval-data", "digits:16:heldout",
                 "--steps", "120", "--batch-size", "32", "--extra-blocks", "1", "--channels", "32", "--lora-rank", "4",
                 "--lr", "2e-3", "--out", str(out)])
    assert code == 0
    held = json.loads((out / "dot.json").read_text())["heldout"]
    assert held["dot_mse"] < held["zero_residual_mse"]


def test_classifier_free_guidance_runs_both_models_with_the_scale():
    """Dash: eps_u + s (eps_c - eps_u); Dot: z_ts + eta_u + s (eta_c - eta_u), LoRA on cross-attention too."""
    from diffusers import UNet2DConditionModel

    from harness.models.denoisers import Guidance
    from harness.morse.dot_denoisers import DotDenoiser

    torch.manual_seed(0)
    unet = UNet2DConditionModel(
        sample_size=16, in_channels=4, out_channels=4, block_out_channels=(16, 32), layers_per_block=1,
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"), up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
        cross_attention_dim=16, norm_num_groups=8, attention_head_dim=8).eval()
    cond, uncond = {"encoder_hidden_states": torch.randn(2, 5, 16)}, {"encoder_hidden_states": torch.zeros(2, 5, 16)}
    guidance = Guidance(cond, uncond, 7.5)
    x = torch.randn(2, 4, 16, 16)
    with torch.no_grad():
        eps_c = unet(x, 500, **cond).sample
        eps_u = unet(x, 500, **uncond).sample
    z = DashDenoiser(unet, guidance)(x, 500)
    # float32: the denoiser runs both branches as one batch of 4, this test as two of 2 (other kernels)
    torch.testing.assert_close(z, eps_u + 7.5 * (eps_c - eps_u), atol=1e-5, rtol=1e-5)

    dot = build_dot(unet, DotConfig(m=1, channels=(16,), lora_rank=4))
    assert any("attn2.to_k.lora_A" in n for n, _ in dot.named_parameters())
    torch.nn.init.normal_(dot.resampler.head.weight, std=0.01)
    with torch.no_grad():
        eta_c = dot(x, x, z, 600, 500, **cond)
        eta_u = dot(x, x, z, 600, 500, **uncond)
    torch.testing.assert_close(DotDenoiser(dot, guidance)(x, x, z, 600, 500), z + eta_u + 7.5 * (eta_c - eta_u),
                               atol=1e-5, rtol=1e-5)


def test_two_process_training_under_torchrun(tiny_dash_dir, tmp_path):
    """DistributedDataParallel on CPU (gloo): rank 0 writes one checkpoint and one loss log. --standalone: a free
    rendezvous port, not the fixed 29500 that another torchrun at the same time (pytest -n 2) would also take."""
    import subprocess
    import sys

    out = tmp_path / "dot"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", "-m", "harness", "train-dot",
           "--dash", str(tiny_dash_dir), "--data", "digits:16:train", "--steps", "2", "--batch-size", "4",
           "--groups", "2", "--extra-blocks", "1", "--channels", "16", "--lora-rank", "4", "--threads", "1",
           "--out", str(out)]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    meta = json.loads((out / "dot.json").read_text())
    assert meta["world_size"] == 2 and meta["steps_done"] == 2
    with open(out / "loss.csv") as f:
        assert [int(row["step"]) for row in csv.DictReader(f)] == [1, 2]


def test_loaded_dot_takes_the_dtype_of_its_dash(tiny_dash_dir, tmp_path):
    from harness.models.dash import load_dash
    from harness.morse.checkpoint import save_dot

    dash = load_dash(str(tiny_dash_dir), dtype=torch.float64)
    meta = {"dash_source": dash.source, "dash_fingerprint": dash.fingerprint}
    save_dot(tmp_path / "dot", build_dot(dash.unet, DotConfig(m=1, channels=(16,), lora_rank=4)), meta)
    dash = load_dash(str(tiny_dash_dir), dtype=torch.float64)
    dot = load_dot(tmp_path / "dot", dash)
    assert {p.dtype for p in dot.parameters()} == {torch.float64}
    x = torch.randn(2, 1, 16, 16, dtype=torch.float64)
    assert dot(x, x, DashDenoiser(dash.unet)(x, 700), 700, 500).dtype == torch.float64


@pytest.mark.cuda
def test_sample_with_a_dot_on_cuda(tiny_dash_dir, tmp_path):
    from harness.models.dash import load_dash
    from harness.shards import read_shard

    assert _train(tiny_dash_dir, tmp_path / "dot") == 0
    dot = load_dot(tmp_path / "dot", load_dash(str(tiny_dash_dir), device="cuda"))
    assert {p.device.type for p in dot.parameters()} == {"cuda"}
    shard = tmp_path / "s.npz"
    code = main(["sample", "--dash", str(tiny_dash_dir), "--dot", str(tmp_path / "dot"), "--fine-steps", "4",
                 "--dash-steps", "2", "--seeds", "0-3", "--batch-size", "4", "--device", "cuda", "--out", str(shard)])
    assert code == 0
    images = read_shard(shard).images
    assert images.shape == (4, 16, 16, 1) and images.std() > 0


def test_ema_averages_only_the_trainable_weights_and_puts_the_average_in_place():
    """harness/morse/ema.py: shadow <- d shadow + (1 - d) w with d warmed up as min(DECAY, (1+n)/(10+n));
    frozen weights are neither copied nor touched."""
    from harness.morse.ema import TrainableEMA

    module = torch.nn.Linear(2, 1)
    module.bias.requires_grad_(False)
    average = TrainableEMA(module, 0.5)
    assert set(average.shadow) == {"weight"}
    start = module.weight.detach().clone()
    with torch.no_grad():
        module.weight.add_(1.0)
    average.update()  # n = 1: d = min(0.5, 2/11)
    d = 2 / 11
    assert torch.allclose(average.shadow["weight"], d * start + (1 - d) * (start + 1))
    bias = module.bias.detach().clone()
    average.copy_to_module()
    assert torch.equal(module.weight, average.shadow["weight"]) and torch.equal(module.bias, bias)
    with pytest.raises(ValueError, match="decay"):
        TrainableEMA(module, 1.0)


def test_ema_writes_the_averaged_dot_and_resumes_its_average(tiny_dash_dir, tmp_path, capsys):
    """--ema DECAY: dot.safetensors holds the average, the resume checkpoint the raw weights and the average,
    and a resumed run continues the same average (equal to one uninterrupted run); a decay of 1 is refused."""
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    assert _train(tiny_dash_dir, straight, "--steps", "4", "--ema", "0.9", "--lr", "1e-2") == 0
    written = load_file(str(straight / "dot.safetensors"))
    state = torch.load(straight / "checkpoints" / "last.pt", weights_only=False)
    assert state["ema"]["updates"] == 4
    key = next(k for k in written if k.startswith("resampler.head"))
    assert torch.equal(written[key], state["ema"]["shadow"][key]) and not torch.equal(written[key], state["dot"][key])
    assert json.loads((straight / "dot.json").read_text())["training"]["ema"] == 0.9

    assert _train(tiny_dash_dir, resumed, "--steps", "2", "--ema", "0.9", "--lr", "1e-2", "--checkpoint-every", "1") == 0
    assert _train(tiny_dash_dir, resumed, "--steps", "4", "--ema", "0.9", "--lr", "1e-2", "--resume") == 0
    again = load_file(str(resumed / "dot.safetensors"))
    assert all(torch.allclose(again[k], written[k], atol=1e-6) for k in written)

    with pytest.raises(SystemExit) as exit_:
        _train(tiny_dash_dir, tmp_path / "bad", "--ema", "1")
    assert exit_.value.code == 2 and "not an EMA decay" in capsys.readouterr().err
