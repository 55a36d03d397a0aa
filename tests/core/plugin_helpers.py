"""Plugin distributions made on the fly for subprocess tests: a package and its ``.dist-info`` in
a folder that goes on PYTHONPATH, found through the ``matbench.plugins`` entry point like an
installed one (nothing is installed into the test environment)."""
import textwrap
from pathlib import Path


def fake_dist(root: Path, package: str, code: str, dist_name: str, version: str = "0.1") -> Path:
    """``root/package/__init__.py`` holding `code`, declared as a plugin by the distribution
    `dist_name`; returns the package folder."""
    folder = root / package
    folder.mkdir(parents=True)
    (folder / "__init__.py").write_text(textwrap.dedent(code))
    info = root / f"{package}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist_name}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(f"[matbench.plugins]\n{package} = {package}\n")
    return folder
