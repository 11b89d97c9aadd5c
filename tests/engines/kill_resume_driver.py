"""Train a bundle several times, each in a forked process that SIGKILLs itself at a chosen moment (resume test driver).

``python kill_resume_driver.py plan.json`` imports torch and MONAI once, then for each run of the plan forks a child
that does what ``python -m monai.bundle run --config_file train.json`` does (``initialize``, then ``run``), with
``--resume true`` when the run's models folder holds a checkpoint (else a fresh run with ``--overwrite true``), and
kills itself with SIGKILL at the run's ``kill`` moment:

- ``train_iter:N``: after training iteration N;
- ``val_iter:E``: in the validation of epoch E, after its first iteration (before its metric);
- ``val_done:E``: after the validation of epoch E (``model.pt`` of a new best written) and before the checkpoint;
- ``ckpt_write:E``: halfway through writing ``checkpoint_epoch=E.pt`` (half its bytes in the temporary file);
- ``ckpt_renamed:E``: right after ``checkpoint_epoch=E.pt`` is renamed into place, before the older one is removed;
- ``null``: no kill.

Prints one JSON line: for each run, its outcome (``"killed"``, ``"ok"`` or ``"failed"``) and the trainer's
iteration when its run started (after the checkpoint was restored; ``null`` when it never started).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import traceback
from pathlib import Path


def _die() -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def _arm(kill: str | None, parser, trainer) -> None:
    from ignite.engine import Events

    import noisymed.utils.atomic_write as atomic_write

    if kill is None:
        return
    moment, number = kill.split(":")
    n = int(number)
    if moment == "train_iter":
        trainer.add_event_handler(Events.ITERATION_COMPLETED(once=n), lambda e: _die())
    elif moment in ("val_iter", "val_done"):
        evaluator = parser.get_parsed_content("validate#evaluator")
        event = Events.ITERATION_COMPLETED if moment == "val_iter" else Events.EPOCH_COMPLETED
        evaluator.add_event_handler(event, lambda e: _die() if e.state.epoch == n else None)
    elif moment == "ckpt_write":
        real_write = atomic_write.write_bytes_atomic

        def half_write(path, data):
            if Path(path).name != f"checkpoint_epoch={n}.pt":
                return real_write(path, data)
            with atomic_write.atomic_path(path) as tmp, open(tmp, "wb") as f:
                f.write(bytes(data[: len(data) // 2]))
                f.flush()
                os.fsync(f.fileno())
                _die()

        atomic_write.write_bytes_atomic = half_write
    elif moment == "ckpt_renamed":
        real_replace = os.replace

        def replace_then_die(src, dst):
            real_replace(src, dst)
            if Path(dst).name == f"checkpoint_epoch={n}.pt":
                _die()

        os.replace = replace_then_die
    else:
        raise ValueError(f"unknown kill moment {kill!r}")


def _train(configs: list[str], overrides: dict, kill: str | None, report: Path) -> None:
    from ignite.engine import Events
    from monai.bundle import ConfigParser

    models = Path(overrides["bundle_root"]) / "models"
    resume = any(models.glob("checkpoint_*.pt"))
    parser = ConfigParser()
    parser.read_config(configs)
    parser.update({**overrides, "resume": resume, "overwrite": not resume})
    parser.get_parsed_content("initialize")
    trainer = parser.get_parsed_content("train#trainer")
    # attached after TrainingCheckpoint, so it runs after the restore
    trainer.add_event_handler(Events.STARTED, lambda e: report.write_text(str(e.state.iteration)))
    _arm(kill, parser, trainer)
    parser.get_parsed_content("run")


def main(plan_file: str) -> None:
    import torch

    torch.set_num_threads(1)
    import monai  # noqa: F401  (imported once, before the forks)

    import noisymed  # noqa: F401

    plan = json.loads(Path(plan_file).read_text())
    outcomes = []
    for index, run in enumerate(plan["runs"]):
        report = Path(plan_file).with_name(f"run{index}.started")
        report.unlink(missing_ok=True)
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                _train(plan["configs"], run["overrides"], run.get("kill"), report)
            except BaseException:
                traceback.print_exc()
                code = 1
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL:
            outcome = "killed"
        else:
            outcome = "ok" if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0 else "failed"
        outcomes.append([outcome, int(report.read_text()) if report.is_file() else None])
    print(json.dumps(outcomes))


if __name__ == "__main__":
    main(sys.argv[1])
