"""Download TUDataset folders into a user cache, checking every file against known SHA-256 sums."""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import urllib.request
import zipfile
from pathlib import Path

TU_URL = "https://www.chrsmrrs.com/graphkerneldatasets/{name}.zip"

#: SHA-256 of the data files of the TU copies this library was checked on.
TU_SHA256 = {
    "MUTAG": {
        "A.txt": "d9656ca7493f3445d737c711710bb36fd432dddd1c0ea32e1d4713c86ebd28e2",
        "edge_labels.txt": "4669ce755075ff86c3240709345745886400908fa637a49310459b9c267b3e56",
        "graph_indicator.txt": "7d520a4d6c7961c0cdeabe076d8fe27e795b6d373485c9a2b744987e560a2056",
        "graph_labels.txt": "a1518ea39ba3426bd42f57396b9c4baffe68e9adc718caeeab0119c6591a5f2c",
        "node_labels.txt": "678f429965490e84dd27713017538c995fc05d1621beac910848b600015ee863",
    },
    "PTC_MR": {
        "A.txt": "f79523ff94dfbef539e5602a8ac1931a50a2800f33fa1d30e5e31725289b5202",
        "edge_labels.txt": "acee2f93b52175a329009dc837bea9db7c2a121c2ef0b1587b38bbe6fc9b8177",
        "graph_indicator.txt": "d52754f3cbc54e29324f884b4c17200c16e06db0c499afae300b4fa1bb6d794b",
        "graph_labels.txt": "64210accbe4c6c027535b1294e0da652b1f539667f7a2d4bf5121dcd8b00a224",
        "node_labels.txt": "cc50d1e1c5f4c98b2100cf50c5ddd88ff28b419a9180d531046b75ce22983235",
    },
    "NCI1": {
        "A.txt": "2c028eda59a5fe96e2265a63d9ac236901bd9a7dc658498be13cd704a703076d",
        "graph_indicator.txt": "ffe5acfa754b057d5ce0dc725c5aadb631628161886cc040d38c719635257dc5",
        "graph_labels.txt": "fae44681e70113f496256ae87eaac33b7836e3a97fe8e023933b84fde6a5c8a2",
        "node_labels.txt": "dc0a22b6cbff0c939de00373e823977ba32b358f560e4288d7602f7b51407ee2",
    },
    "NCI109": {
        "A.txt": "9c0ae8c1e631f771663de1e095eb36604f4feeb512e46b90b0409f05f876bab6",
        "graph_indicator.txt": "f86bb0249bf985be397f46c493879022cb068b1d4331215151442de1738c9163",
        "graph_labels.txt": "8ab9932d5347b935e3aaa7be2f787cc78860fa1af9df836dd3f03cde6939b640",
        "node_labels.txt": "d2ceda711b4ea4218909e5527325374d7e50c698b0d8a22567390a5526dbd6bc",
    },
}


def cache_dir(cache: str | Path | None = None) -> Path:
    """Where downloads go: ``cache``, else ``$LIFTNN_CACHE``, else ``~/.cache/liftnn``."""
    if cache is not None:
        return Path(cache)
    if os.environ.get("LIFTNN_CACHE"):
        return Path(os.environ["LIFTNN_CACHE"])
    return Path.home() / ".cache" / "liftnn"


def _mismatch(folder: Path, name: str) -> str | None:
    """The first problem of ``folder``'s copy of ``name`` (a missing file or a wrong SHA-256), or None."""
    for suffix, digest in TU_SHA256[name].items():
        path = folder / f"{name}_{suffix}"
        if not path.is_file():
            return f"{path}: missing"
        actual = hashlib.sha256(path.read_bytes()).hexdigest()
        if actual != digest:
            return f"{path}: SHA-256 {actual} differs from the known {digest}"
    return None


def verify_tu(folder: Path, name: str) -> None:
    """Raise ``ValueError`` naming the first file that is missing or whose SHA-256 differs from the known one."""
    problem = _mismatch(Path(folder), name)
    if problem:
        raise ValueError(problem)


def is_cached(name: str, cache: str | Path | None = None) -> bool:
    return name in TU_SHA256 and _mismatch(cache_dir(cache) / name, name) is None


def fetch(name: str, cache: str | Path | None = None, url: str | None = None) -> Path:
    """The verified folder of the TUDataset ``name`` (MUTAG, PTC_MR, NCI1, NCI109) in the cache,
    downloading it first if needed (from ``url``, else ``$LIFTNN_TU_URL`` with ``{name}``, else
    the TUDataset site). The archive is unpacked into a temporary folder and checked file by
    file; only a copy whose every SHA-256 matches is moved into the cache, so a tampered or
    truncated download is rejected and leaves the cache as it was."""
    name = name.upper()
    if name not in TU_SHA256:
        raise ValueError(f"{name}: not downloadable; known: {', '.join(sorted(TU_SHA256))}")
    root = cache_dir(cache)
    folder = root / name
    if _mismatch(folder, name) is None:
        return folder
    source = url or os.environ.get("LIFTNN_TU_URL", TU_URL).format(name=name)
    try:
        with urllib.request.urlopen(source, timeout=60) as response:
            payload = response.read()
    except (OSError, ValueError) as err:
        raise FileNotFoundError(f"{name}: could not download {source} ({err}); fetch it where there is a network "
                                f"(liftnn datasets --fetch {name}) or pass a TU folder") from None
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root, prefix=f".{name}.") as tmp:
        try:
            with zipfile.ZipFile(io.BytesIO(payload)) as zf:
                for info in zf.infolist():
                    base = Path(info.filename).name
                    if base.startswith(f"{name}_") and base.endswith(".txt"):
                        (Path(tmp) / base).write_bytes(zf.read(info))
        except zipfile.BadZipFile:
            raise ValueError(f"{name}: {source} is not a zip archive; nothing was kept") from None
        problem = _mismatch(Path(tmp), name)
        if problem:
            raise ValueError(f"{name}: the download from {source} failed its checksum, nothing was kept: "
                             f"{problem.replace(tmp, '<download>')}")
        folder.mkdir(exist_ok=True)
        for path in Path(tmp).iterdir():
            os.replace(path, folder / path.name)
    return folder


def download_tu(name: str, root: str | Path, url: str | None = None) -> Path:
    """:func:`fetch` into ``root/name``."""
    return fetch(name, root, url)
