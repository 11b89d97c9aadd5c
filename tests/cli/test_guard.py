from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from noisymed.cli import (
    cli_overrides,
    config_ids,
    error_cause,
    guard_command_line,
    refuse_unknown_overrides,
    unknown_overrides,
)

CONFIG = {
    "num_labeled": 8,
    "max_unlabeled": None,
    "network_def": {"_target_": "TwoDecoderVNet", "features": 16},
    "train": {"handlers": [{"_target_": "StatsHandler"}, {"interval": 1}], "plain": {"a": 1}},
}


def test_cli_overrides_reads_fire_forms_and_separates_run_arguments():
    argv = ["run", "training", "--config_file", "['a.json','b.json']", "--seed=3", "--resume", "--meta-file", "m.json",
            "--lr", "-1", "--train#handlers#1#interval", "2"]  # fmt: skip
    run_args, keys = cli_overrides(argv)
    assert run_args == {"config_file": ["a.json", "b.json"], "meta_file": "m.json"}
    assert keys == ["seed", "resume", "lr", "train#handlers#1#interval"]


def test_config_ids_lists_every_nested_id_parents_first():
    assert config_ids({"a": {"b": [1, {"c": 2}]}, "d": 3}) == ["a", "a#b", "a#b#0", "a#b#1", "a#b#1#c", "d"]


def test_unknown_overrides_flags_typos_with_close_names_and_accepts_known_forms():
    keys = ["num_labelled", "num_labeled", "network_def#features", "network_def#dropout", "train#handlers#1#interval",
            "train::plain::a", "train#plain#b", "train#handlers#5", "output_dir", "zzz"]  # fmt: skip
    unknown = unknown_overrides(CONFIG, keys, extra=["output_dir"])
    # a new kwarg of a component (parent has _target_) is fine; a new key of a plain dict or a list index is not
    assert list(unknown) == ["num_labelled", "train#plain#b", "train#handlers#5", "zzz"]
    assert unknown["num_labelled"][0] == "num_labeled"
    assert unknown["train#plain#b"][0] == "train#plain#a" and unknown["zzz"] == []


def test_refuse_unknown_overrides_names_the_key_and_the_closest_one(tmp_path, monkeypatch):
    config = tmp_path / "train.json"
    config.write_text(json.dumps(CONFIG))
    refuse_unknown_overrides(["run", "--config_file", str(config), "--num_labeled", "2"])  # fine
    with pytest.raises(ValueError) as err:
        refuse_unknown_overrides(["run", "--config_file", str(config), "--num_labelled", "2"])
    assert str(err.value).startswith(f"unknown override(s): --num_labelled names no key of {config}; did you mean --num_labeled")
    # overrides in an args_file count too; tracking adds its own keys
    args = tmp_path / "args.json"
    args.write_text(json.dumps({"config_file": str(config), "num_labeld": 3}))
    with pytest.raises(ValueError, match="--num_labeld names no key"):
        refuse_unknown_overrides(["run", "--args_file", str(args)])
    refuse_unknown_overrides(["run", "--config_file", str(config), "--tracking", "mlflow", "--experiment_name", "x"])
    monkeypatch.setenv("NOISYMED_ALLOW_NEW_KEYS", "1")
    refuse_unknown_overrides(["run", "--config_file", str(config), "--num_labelled", "2"])


def test_outside_a_bundle_command_line_nothing_is_checked(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["pytest", "--num_labelled", "2"])
    hook = sys.excepthook
    guard_command_line()  # no error: sys.argv is not `python -m monai.bundle run`
    assert sys.excepthook is hook  # and the process's error hook is left alone


def test_error_cause_skips_monai_wrappers_and_keeps_the_clear_message():
    def chain():
        try:
            try:
                raise KeyError("low level")
            except KeyError as low:
                raise FileNotFoundError("x.h5: dataset folder not found") from low
        except FileNotFoundError as clear:
            try:
                raise RuntimeError("Failed to instantiate component 'A' with keywords: b") from clear
            except RuntimeError as inner:
                raise RuntimeError("Failed to evaluate ConfigExpression: '$@a'") from inner

    with pytest.raises(RuntimeError) as err:
        chain()
    cause = error_cause(err.value)
    assert isinstance(cause, FileNotFoundError) and str(cause) == "x.h5: dataset folder not found"
    plain = ValueError("plain")
    assert error_cause(plain) is plain


def _run_bundle(tmp_path: Path, *overrides: str) -> subprocess.CompletedProcess:
    config = {
        "imports": ["$import noisymed"],
        "bad": "$noisymed.data.la_splits('/nonexistent/LA')",
        "steps": 2,
        "initialize": ["$noisymed.cli.guard_command_line()"],
        "run": ["$print('ran', @steps)", "$@bad"],
    }
    (tmp_path / "configs").mkdir(exist_ok=True)
    (tmp_path / "configs" / "train.json").write_text(json.dumps(config))
    return subprocess.run(
        [sys.executable, "-m", "monai.bundle", "run", "--config_file", "configs/train.json", *overrides],
        cwd=tmp_path, capture_output=True, encoding="utf-8", errors="replace", timeout=120,
    )  # fmt: skip


def test_a_bundle_run_refuses_a_typo_and_ends_a_failure_with_its_cause(tmp_path):
    typo = _run_bundle(tmp_path, "--stepz", "3")
    assert typo.returncode != 0 and "ran" not in typo.stdout
    last = typo.stderr.strip().splitlines()[-1]
    assert last.startswith("ValueError: unknown override(s): --stepz names no key") and "--steps?" in last

    failing = _run_bundle(tmp_path, "--steps", "3")
    assert failing.returncode != 0 and "ran 3" in failing.stdout
    lines = failing.stderr.strip().splitlines()
    assert "Failed to evaluate" in "\n".join(lines[:-2])  # MONAI's wrapper is still there, above
    assert lines[-2] == "The cause of the error above:"
    assert lines[-1] == "noisymed.data.la_h5.LADataError: /nonexistent/LA: dataset folder not found."


def test_every_bundle_config_that_initializes_guards_its_command_line_first():
    bundles = Path(__file__).resolve().parents[2] / "bundles"
    configs = sorted(bundles.glob("*/configs/*.json"))
    initializing = [c for c in configs if "initialize" in json.loads(c.read_text())]
    assert len(initializing) >= 9  # train, inference and multi_gpu_train of each bundle
    for config in initializing:
        first = json.loads(config.read_text())["initialize"][0]
        assert first == "$noisymed.cli.guard_command_line()", config
    for bundle in sorted(p for p in bundles.iterdir() if (p / "configs").is_dir()):
        assert (bundle / "configs" / "train.json") in initializing and (bundle / "configs" / "inference.json") in initializing
