"""The export's pieces on hand-made inputs: import rewrite, config rewrite, requirements, float16 weights, refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from torch import nn

from noisymed.export import (
    config_imports,
    export_bundle,
    half_precision_error,
    half_precision_state,
    installed_versions,
    is_published,
    rewrite_config,
    third_party_imports,
    vendor_package,
)


def _package(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def test_vendoring_makes_self_imports_relative_and_leaves_the_export_tool_out(tmp_path):
    src = _package(tmp_path / "noisymed", {
        "__init__.py": "from noisymed import utils\nfrom . import data\n",
        "utils/__init__.py": "X = 1\n",
        "data/__init__.py": "from noisymed.utils import X\n",
        "data/deep/mod.py": "import numpy as np\n\ndef f():\n    from noisymed.data import deep\n    import scipy\n",
        "export/tool.py": "import noisymed\n",
    })  # fmt: skip
    written = vendor_package(src, tmp_path / "out" / "noisymed")
    rel = sorted(str(p.relative_to(tmp_path / "out" / "noisymed")) for p in written)
    assert rel == ["__init__.py", "data/__init__.py", "data/deep/mod.py", "utils/__init__.py"]
    out = tmp_path / "out" / "noisymed"
    assert (out / "__init__.py").read_text() == "from . import utils\nfrom . import data\n"
    assert (out / "data/__init__.py").read_text() == "from ..utils import X\n"
    assert "    from ...data import deep\n" in (out / "data/deep/mod.py").read_text()
    assert third_party_imports(written) == ({"numpy"}, {"scipy"})


LONG_NAMES = "".join(f"    name_{i:02d}_of_a_module_with_many,\n" for i in range(4))  # 120+ chars on one line
REWRITE_SOURCE = f"""\"\"\"A module of the package.\"\"\"

import numpy as np

from noisymed.utils import (
    as_bool,
    write_text_atomic,
)
from noisymed.utils.long_module_name import (
{LONG_NAMES})

from .b import z
from . import w


def f():
    from noisymed.data import deep

    from .c import r

    return np, deep, r, as_bool, write_text_atomic, z, w
"""
REWRITE_EXPECTED = f"""\"\"\"A module of the package.\"\"\"

import numpy as np

from ..utils import as_bool, write_text_atomic
from ..utils.long_module_name import (
{LONG_NAMES})
from . import w
from .b import z


def f():
    from ..data import deep
    from .c import r

    return np, deep, r, as_bool, write_text_atomic, z, w
"""


def test_vendored_imports_are_written_as_isort_and_black_want_them(tmp_path):
    """The rewritten imports join the relative ones in one block (``..`` first), on one line where they fit."""
    commented = (
        "from noisymed.utils import (  # a comment keeps the lines\n    q,\n)\n"
        "\n# and this the blank line\nfrom .c import r\n"
    )
    src = _package(tmp_path / "noisymed", {
        "__init__.py": "", "data/__init__.py": "", "data/mod.py": REWRITE_SOURCE, "data/commented.py": commented,
    })  # fmt: skip
    vendor_package(src, tmp_path / "out" / "noisymed")
    assert (tmp_path / "out" / "noisymed" / "data" / "commented.py").read_text() == commented.replace("noisymed.", "..")
    text = (tmp_path / "out" / "noisymed" / "data" / "mod.py").read_text()
    assert text == REWRITE_EXPECTED
    isort = pytest.importorskip("isort", reason="isort is not installed (pip install -e '.[test]')")
    assert isort.check_code(text, profile="black", line_length=120, show_diff=True)
    black = pytest.importorskip("black", reason="black is not installed (pip install -e '.[test]')")
    mode = black.Mode(line_length=120, magic_trailing_comma=False)
    assert black.format_str(text, mode=mode) == text


def test_vendoring_refuses_a_plain_import_of_the_package(tmp_path):
    src = _package(tmp_path / "noisymed", {"__init__.py": "", "a.py": "x = 1\nimport noisymed.utils\n"})
    with pytest.raises(ValueError, match=r"a.py:2: 'import noisymed.utils' cannot be vendored"):
        vendor_package(src, tmp_path / "out")


def test_configs_point_at_the_vendored_copy():
    config = {
        "imports": ["$import torch", "$import noisymed"],
        "net": {"_target_": "noisymed.networks.Net", "act": {"_target_": "torch.nn.ReLU"}},
        "loss": {"_target_": "DiceLoss"},
        "x": "$noisymed.data.f(@y)",
    }
    out = rewrite_config(config)
    assert out["imports"] == ["$import torch", "$import scripts.noisymed as noisymed"]
    assert out["net"]["_target_"] == "scripts.noisymed.networks.Net" and out["net"]["act"]["_target_"] == "torch.nn.ReLU"
    assert out["x"] == "$noisymed.data.f(@y)" and out["loss"] == {"_target_": "DiceLoss"}
    assert config_imports(config) == {"torch", "noisymed"}
    with pytest.raises(ValueError, match="train.json: '\\$from noisymed import data'"):
        rewrite_config({"imports": ["$from noisymed import data"]}, where="train.json")


def test_requirements_are_published_distributions_with_installed_versions():
    import numpy

    assert installed_versions(["numpy", "PIL"]) == {"numpy": numpy.__version__, **installed_versions(["PIL"])}
    assert list(installed_versions(["PIL"])) == ["pillow"] or list(installed_versions(["PIL"])) == ["Pillow"]
    assert installed_versions(["numpy"], drop=["numpy"]) == {}
    assert is_published("numpy")
    with pytest.raises(ModuleNotFoundError, match="'no_such_module_xyz'"):
        installed_versions(["no_such_module_xyz"])


def test_half_precision_state_and_its_error_on_a_hand_made_network():
    net = nn.Linear(2, 2, bias=False)
    with torch.no_grad():
        net.weight.copy_(torch.tensor([[1.0, 1e-4], [0.1, 2.0]]))
    state = {k: v.clone() for k, v in net.state_dict().items()}
    half = half_precision_state({**state, "count": torch.tensor(3)})
    assert half["weight"].dtype == torch.float16 and half["count"].dtype == torch.int64
    # float16 rounds 0.1 to 0.0999755859375 and 1e-4 to 1.0001659393310547e-04 (1 and 2 are exact)
    x = torch.tensor([[1.0, 1.0]])
    error = half_precision_error(net, state, x)
    # output 2 moves most: 0.1 + 2 vs 0.0999755859375 + 2, both summed in float32
    expected = float((torch.tensor(0.1) + 2) - (torch.tensor(0.0999755859375) + 2))
    assert expected == pytest.approx(2.44e-5, rel=1e-2)
    assert error["max_abs"] == pytest.approx(expected, rel=1e-6)
    assert error["max_rel"] == pytest.approx(expected / 2.1, rel=1e-3) and error["argmax_agreement"] == 1.0
    assert torch.equal(net.weight, state["weight"])  # the network keeps its full-precision weights
    with pytest.raises(TypeError, match=r"state\['n'\] is a int"):
        half_precision_state({"n": 3})


def _bundle(root: Path) -> Path:
    (root / "configs").mkdir(parents=True)
    (root / "docs").mkdir()
    meta = {"version": "0.1.0", "changelog": {"0.1.0": "first"}}
    (root / "configs" / "metadata.json").write_text(json.dumps(meta))
    for rel in ("configs/inference.json", "configs/train.json"):
        (root / rel).write_text("{}")
    (root / "LICENSE").write_text("Apache-2.0")
    (root / "docs" / "README.md").write_text("# demo")
    return root


def test_export_refuses_naming_everything_missing(tmp_path):
    bundle = _bundle(tmp_path / "b")
    with pytest.raises(FileNotFoundError, match=r"missing docs/data_license.txt, models/model.pt: there are no trained weights"):
        export_bundle(bundle, tmp_path / "dist")
    with pytest.raises(ValueError, match="weights must be"):
        export_bundle(bundle, tmp_path / "dist", weights="bf16")
    assert not (tmp_path / "dist").exists()


def test_export_refuses_to_replace_an_earlier_export(tmp_path):
    bundle = _bundle(tmp_path / "b")
    (bundle / "docs" / "data_license.txt").write_text("demo data")
    (bundle / "models").mkdir()
    torch.save({"w": torch.zeros(2)}, bundle / "models" / "model.pt")
    (tmp_path / "dist" / "b").mkdir(parents=True)
    with pytest.raises(FileExistsError, match="b already exists"):
        export_bundle(bundle, tmp_path / "dist")


def test_the_command_refuses_with_the_cause_and_exit_status_1(tmp_path, capsys):
    from noisymed.export_bundle import main

    bundle = _bundle(tmp_path / "b")
    assert main([str(bundle), "--out", str(tmp_path / "dist")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("export refused:") and "no trained weights" in err
