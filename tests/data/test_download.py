"""Datasets fetched on demand into a cache, each file checked against its SHA-256 (through file:// URLs)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from liftnn.data import load
from liftnn.data.download import fetch, is_cached
from liftnn.data.registry import bundled_path, catalogue, require_labels


def _zip(folder: Path, name: str, out: Path, tamper: bool = False) -> str:
    """A TUDataset-style archive (``name/name_*.txt``) of ``folder``'s files, as a file:// URL."""
    with zipfile.ZipFile(out, "w") as zf:
        for path in sorted(folder.glob(f"{name}_*.txt")):
            data = path.read_bytes()
            if tamper and path.name == f"{name}_A.txt":
                data = data.replace(b"1", b"2", 1)
            zf.writestr(f"{name}/{path.name}", data)
    return out.resolve().as_uri()


def test_fetch_verifies_and_caches(tmp_path: Path) -> None:
    url = _zip(bundled_path("MUTAG"), "MUTAG", tmp_path / "MUTAG.zip")
    cache = tmp_path / "cache"
    folder = fetch("MUTAG", cache, url)
    assert folder == cache / "MUTAG" and is_cached("MUTAG", cache)
    assert (folder / "MUTAG_A.txt").read_bytes() == (bundled_path("MUTAG") / "MUTAG_A.txt").read_bytes()
    assert fetch("mutag", cache, (tmp_path / "absent.zip").as_uri()) == folder  # cached: no download


def test_a_tampered_download_is_rejected_and_nothing_kept(tmp_path: Path) -> None:
    url = _zip(bundled_path("MUTAG"), "MUTAG", tmp_path / "MUTAG.zip", tamper=True)
    cache = tmp_path / "cache"
    with pytest.raises(ValueError, match=r"failed its checksum, nothing was kept: .*MUTAG_A\.txt: SHA-256"):
        fetch("MUTAG", cache, url)
    assert list(cache.iterdir()) == []  # no folder, no temporary leftovers
    (tmp_path / "junk.zip").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a zip archive"):
        fetch("MUTAG", cache, (tmp_path / "junk.zip").as_uri())
    with pytest.raises(FileNotFoundError, match="could not download"):
        fetch("MUTAG", cache, (tmp_path / "absent.zip").as_uri())


def test_a_benchmark_name_is_fetched_on_first_use(tmp_path: Path, data_dir: Path, monkeypatch) -> None:
    _zip(data_dir / "molecules/tudataset/PTC_MR", "PTC_MR", tmp_path / "PTC_MR.zip")
    monkeypatch.setenv("LIFTNN_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("LIFTNN_TU_URL", tmp_path.resolve().as_uri() + "/{name}.zip")
    data = load("PTC_MR")
    assert data.num_graphs == 344 and is_cached("PTC_MR")
    listed = {row["name"]: row for row in catalogue()}
    assert listed["PTC_MR"]["bundled"] == "cached" and listed["NCI1"]["bundled"] == "download"


def test_catalogue_and_unlabelled_sets() -> None:
    listed = {row["name"]: row for row in catalogue()}
    assert set(listed) >= {"MUTAG", "NATIONS", "KINSHIPS", "UMLS", "NCI200", "PTC_MR", "NCI1", "NCI109"}
    assert listed["MUTAG"]["bundled"] == "yes" and listed["NATIONS"]["task"] == "link prediction"
    assert listed["NCI200"]["task"] == "none (unlabelled)"
    with pytest.raises(ValueError, match="NCI200 has no labels: it can be lifted"):
        require_labels("nci200")
    require_labels("MUTAG")
