"""Provenance columns: the commit, versions, device, time and config hash every results row carries."""

from __future__ import annotations

import datetime
import json
import re

from harness import provenance


def test_columns_name_commit_versions_device_time_and_config(monkeypatch):
    monkeypatch.setenv(provenance.CONFIG_ENV, json.dumps({"digits": "ab" * 32}))
    row = provenance.columns(["fid", "x"], "digits")
    assert tuple(row) == provenance.COLUMNS
    assert re.fullmatch(r"[0-9a-f]{40}", row["git_commit"])  # the tests run from a git checkout
    assert row["git_dirty"] in ("True", "False")
    assert row["harness_version"] and row["torch_version"] != "not installed"
    assert row["device_name"] == provenance.cpu_model()
    age = datetime.datetime.now(datetime.timezone.utc) - datetime.datetime.fromisoformat(row["created_utc"])
    assert abs(age.total_seconds()) < 60
    assert row["config_sha256"] == "ab" * 32


def test_columns_name_where_a_row_was_made(monkeypatch):
    """executor, host, SLURM job id and visible devices: local with every device, or a SLURM job's."""
    import socket

    args = ["fid", "x"]
    monkeypatch.delenv("SLURM_JOB_ID", raising=False)
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    row = provenance.columns(args, "digits")
    assert (row["executor"], row["host"], row["slurm_job_id"], row["visible_devices"]) == (
        "local", socket.gethostname(), "none", "unset")
    monkeypatch.setenv("SLURM_JOB_ID", "4242")
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2,3")
    row = provenance.columns(args, "digits")
    assert (row["executor"], row["slurm_job_id"], row["visible_devices"]) == ("slurm", "4242", "2,3")
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert provenance.columns(args, "digits")["visible_devices"] == "none"


def test_a_stage_run_by_hand_hashes_its_command_line(monkeypatch):
    monkeypatch.delenv(provenance.CONFIG_ENV, raising=False)
    one = provenance.columns(["sample", "--steps", "5"], "adhoc")
    two = provenance.columns(["sample", "--steps", "6"], "adhoc")
    assert one["config_sha256"] != two["config_sha256"]
    assert re.fullmatch(r"[0-9a-f]{64}", one["config_sha256"])


def test_config_hash_ignores_key_order_but_not_values():
    assert provenance.config_sha256({"a": 1, "b": [1, 2]}) == provenance.config_sha256({"b": [1, 2], "a": 1})
    assert provenance.config_sha256({"a": 1}) != provenance.config_sha256({"a": 2})
