"""Helpers of the rerun tests: the test instrument, its raw files, the pipeline's bucket.

The test instrument (``instrument/``, package ``soc_test_instrument``) stands in for hermes_eea,
which cannot be installed here. It keeps HERMES EEA's identity: the settings route
``hermes/eea`` to its environment and package (``calibration.environments`` and
``calibration.packages``), so its inputs are real HERMES EEA level-0 names in the real bucket
and key layout, and its products land where hermes_eea's would.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
SPEC = HERE / "instrument.txt"
ENV_NAME = "soc-test-instrument"
PACKAGE = "soc_test_instrument"
PIPELINE_BUCKET = "hermes-eea"
SHARED_FILES_NOTE = "the real SOC sample files in ../shared/data are needed"
SOC = Path(sys.executable).with_name("soc-workspace")
# The instrument's clock counts SI seconds from J2000 (2000-01-01T11:58:55.816 UTC); 5 leap
# seconds were added between then and 2025.
J2000_UNIX = 946727935.816 - 5

sys.path.insert(0, str(HERE / "instrument"))  # the raw-file writer, for making inputs here
from soc_test_instrument.packets import simulate  # noqa: E402


def raw_name(hour: int, version: int = 0, day: int = 182) -> str:
    return f"hermes_EEA_l0_2025{day:03d}-{hour:02d}0000_v{version}.bin"


def packet_start(hour: int, day: int = 182) -> int:
    """Instrument clock of 2025, day of year ``day``, ``hour``:00:00 UTC (within a second)."""
    unix = 1735689600 + (day - 1) * 86400 + hour * 3600  # from 2025-01-01T00:00:00 UTC
    return int(unix - J2000_UNIX)


def kernels_dir(environments_dir: Path) -> Path:
    """Where the tests' `env create` registers kernels (not the project's own .venv)."""
    return environments_dir / ".jupyter"


def routing(environments_dir: Path) -> dict[str, str]:
    """Settings (as variables) that send HERMES EEA files to the test instrument."""
    return {
        "SOC_WORKSPACE__CALIBRATION__ENVIRONMENTS_DIR": str(environments_dir),
        "SOC_WORKSPACE__CALIBRATION__JUPYTER_DATA_DIR": str(kernels_dir(environments_dir)),
        "SOC_WORKSPACE__CALIBRATION__ENVIRONMENTS": f'{{"hermes/eea": "{ENV_NAME}"}}',
        "SOC_WORKSPACE__CALIBRATION__PACKAGES": f'{{"hermes/eea": "{PACKAGE}"}}',
        "SOC_WORKSPACE__SCRATCH__URL": "s3://soc-workspace-scratch",
    }


def workspace_settings(environments_dir: Path, *, demo_days: int, kernels: bool = False) -> str:
    """A settings file for `soc-workspace up` that routes HERMES EEA to the test instrument
    (and, with ``kernels``, hands its kernel's folder to users' servers)."""
    jupyter = f'jupyter_data_dir = "{kernels_dir(environments_dir)}"\n' if kernels else ""
    return (
        f"[workspace]\nport = 0\ndemo_days = {demo_days}\n\n"
        f'[calibration]\nenvironments_dir = "{environments_dir}"\n{jupyter}\n'
        f'[calibration.environments]\n"hermes/eea" = "{ENV_NAME}"\n\n'
        f'[calibration.packages]\n"hermes/eea" = "{PACKAGE}"\n'
    )


def pipeline(raw_dir: Path, instrument_env: Path) -> list[Path]:
    """Run the test instrument once on every raw file of ``raw_dir``, as the pipeline would."""
    code = (
        "import sys; from pathlib import Path; "
        "from soc_test_instrument.calibration import process_file; "
        "[print(p) for f in sys.argv[1:] for p in process_file(Path(f)) if p]"
    )
    files = sorted(str(p) for p in raw_dir.glob("*.bin"))
    done = subprocess.run(
        [str(instrument_env / "bin" / "python"), "-c", code, *files],
        capture_output=True,
        text=True,
        check=True,
        cwd=raw_dir,
        env={**os.environ, "HOME": str(raw_dir)},  # it writes ~/.config: not in our HOME
    )
    return [Path(line) for line in done.stdout.split()]


def put_raw_and_products(
    s3, folder: Path, instrument_env: Path, hours, packets: int, day: int = 182
) -> dict:
    """Write raw l0 files and the 'pipeline's' l1 products into the HERMES EEA bucket."""
    from soc_workspace.missions import key_for, parse_filename

    folder.mkdir(parents=True, exist_ok=True)
    for hour in hours:
        simulate(
            folder / raw_name(hour, day=day),
            packets=packets,
            start=packet_start(hour, day),
            seed=hour,
        )
    products = pipeline(folder, instrument_env)
    if not s3.exists(PIPELINE_BUCKET):
        s3.mkdir(PIPELINE_BUCKET)
    urls = {"raw": [], "products": []}
    for path in sorted(folder.glob("*.bin")) + products:
        key = key_for(parse_filename(path.name))
        s3.put_file(str(path), f"{PIPELINE_BUCKET}/{key}")
        urls["raw" if path.suffix == ".bin" else "products"].append(f"s3://{PIPELINE_BUCKET}/{key}")
    return urls


def bucket_checksums(s3) -> dict[str, str]:
    """SHA-256 of every object in every bucket but the scratch bucket (the pipeline's)."""
    sums = {}
    for bucket in s3.ls("", refresh=True):
        if bucket.startswith("soc-workspace-scratch"):
            continue
        for path in s3.find(bucket, refresh=True):
            sums[path] = hashlib.sha256(s3.cat_file(path)).hexdigest()
    return sums


@contextlib.contextmanager
def catalog_built(s3, **storage_options):
    """A catalog index over the pipeline bucket, as the SOC operator keeps it; removed
    afterwards (other tests compare the bucket's objects)."""
    from soc_workspace.catalog import build, clear_cache

    build(PIPELINE_BUCKET, progress=False, storage_options=storage_options or None)
    clear_cache()
    try:
        yield
    finally:
        s3.rm(f"{PIPELINE_BUCKET}/catalog", recursive=True)
        s3.rm(f"{PIPELINE_BUCKET}/catalog.json")
        clear_cache(disk=True)
