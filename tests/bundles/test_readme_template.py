"""Every bundle's ``docs/README.md`` follows the MONAI model zoo's README template.

The zoo's CONTRIBUTING.md ("Readme Format") asks each bundle's README to follow its template,
``docs/readme_template.md`` in Project-MONAI/model-zoo: one ``# <Model Title>``, then ``### **Authors**``,
``### **Tags**``, ``## **Model Description**``, ``## **Data**`` with ``#### **Preprocessing**``,
``## **Performance**``, (optional) ``## **Additional Usage Steps**``, ``## **System Configuration**`` and the
optional ``## **Limitations**``, ``## **Citation Info**`` and ``## **References**``; any further section is an
h4 with a bold title (``#### **Title**``). Checked here for every bundle with ``configs/metadata.json``: the
required headings, in the template's order, each once; exactly one H1; every relative link and image target
exists (relative to the docs folder, as the export copies ``docs/`` whole); and each benchmark script's
``<!-- bench_xxx:start -->`` / ``<!-- bench_xxx:end -->`` block is there once, start before end, so
``scripts/bench_common.replace_block`` rewrites it in place.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BUNDLES = sorted(p.name for p in (REPO / "bundles").iterdir() if (p / "configs" / "metadata.json").is_file())

REQUIRED = (
    "### **Authors**",
    "### **Tags**",
    "## **Model Description**",
    "## **Data**",
    "#### **Preprocessing**",
    "## **Performance**",
    "## **System Configuration**",
)
OPTIONAL_IN_ORDER = (
    "## **Additional Usage Steps**",
    "## **Limitations**",
    "## **Citation Info**",
    "## **References**",
)
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")


def _prose_lines(text: str) -> list[str]:
    """The README's lines outside fenced code blocks, inline code spans blanked out."""
    lines, fenced = [], False
    for line in text.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
            lines.append("")
            continue
        lines.append("" if fenced else re.sub(r"`[^`]*`", "``", line))
    return lines


def _readme(bundle: str) -> tuple[Path, str]:
    path = REPO / "bundles" / bundle / "docs" / "README.md"
    return path, path.read_text(encoding="utf-8")


def test_bundles_found():
    assert {"la_mutual_learning", "brats_mri_mutual_learning", "pancreas_ct_mutual_learning",
            "noisy_label_classification", "cxr_single_positive"} <= set(BUNDLES)  # fmt: skip


@pytest.mark.parametrize("bundle", BUNDLES)
def test_template_headings_in_order(bundle):
    _, text = _readme(bundle)
    lines = [line.rstrip() for line in _prose_lines(text)]
    h1 = [line for line in lines if re.match(r"^# \S", line)]
    assert len(h1) == 1, f"{bundle}: {len(h1)} H1 headings, the template has exactly one: {h1}"
    assert lines[next(i for i, line in enumerate(lines) if line.strip())].startswith("# "), f"{bundle}: the title comes first"
    positions = []
    for heading in REQUIRED:
        found = [i for i, line in enumerate(lines) if line == heading]
        assert len(found) == 1, f"{bundle}: {heading!r} found {len(found)} times (once expected)"
        positions.append(found[0])
    assert positions == sorted(positions), f"{bundle}: headings out of the template's order: {REQUIRED}"
    # the optional h2 sections, where present, sit in the template's order after Performance
    order = ("## **Performance**", *OPTIONAL_IN_ORDER[:1], "## **System Configuration**", *OPTIONAL_IN_ORDER[1:])
    present = [(lines.index(h), h) for h in order if h in lines]
    assert [h for _, h in sorted(present)] == [h for _, h in present], f"{bundle}: optional sections out of order"


@pytest.mark.parametrize("bundle", BUNDLES)
def test_other_sections_are_bold(bundle):
    """Sections beyond the template's own are h4 with a bold title; the template's h2/h3 are all bold too."""
    _, text = _readme(bundle)
    for line in _prose_lines(text):
        m = re.match(r"^(#{2,6}) (.*)$", line.rstrip())
        if m:
            assert re.fullmatch(r"\*\*.+\*\*", m.group(2)), f"{bundle}: heading without a bold title: {line!r}"
            if m.group(0) not in REQUIRED + OPTIONAL_IN_ORDER:
                assert len(m.group(1)) >= 4, f"{bundle}: an additional section must be h4 (####): {line!r}"


@pytest.mark.parametrize("bundle", BUNDLES)
def test_relative_links_exist(bundle):
    path, text = _readme(bundle)
    targets = [t for line in _prose_lines(text) for t in LINK.findall(line)]
    missing = []
    for target in targets:
        if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target) or target.startswith("#"):
            continue  # a URL or an anchor in the same page
        rel = target.split("#", 1)[0]
        if not (path.parent / rel).exists():
            missing.append(target)
    assert not missing, f"{bundle}: link targets missing (relative to {path.parent}): {missing}"


@pytest.mark.parametrize("bundle", BUNDLES)
def test_benchmark_blocks_intact(bundle):
    _, text = _readme(bundle)
    for name in set(re.findall(r"<!-- (bench_\w+):start -->", text)):
        start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
        assert text.count(start) == 1 and text.count(end) == 1, f"{bundle}: {name} markers must appear once each"
        assert text.index(start) < text.index(end), f"{bundle}: {name} start marker after its end marker"
