"""The metadata interface of dataset versions and lineage.

``Store`` inherits it, so every store (SQL, REST) holds datasets next to runs.
A version's file list is not stored here: it is a manifest blob in the blob
store, and a version row records the manifest's digest, file count and total
size. Writers upload every file blob first and the manifest blob last, then
call :meth:`DatasetStore.create_dataset_version`; an interrupted add leaves
no version behind. The REST server refuses a version whose manifest blob is
absent; ``SqlStore`` cannot see blobs, so its callers keep that order.

Names and references::

    dataset name   letters, digits and ``_ - .`` (URI-safe: no ``/`` or ``@``)
    version tag    the same characters, not all digits, not ``latest``
    ref            None or "latest" -> newest live version; 3 or "3" -> number 3;
                   any other string -> the version carrying that tag
"""

from __future__ import annotations

import abc
import re
from collections.abc import Sequence
from typing import Any

from shipyard.entities import Dataset, DatasetVersion, Page, RunInput, ViewType
from shipyard.errors import InvalidInputError
from shipyard.validation import MAX_KEY_LENGTH, validate_name

__all__ = [
    "LATEST",
    "DatasetStore",
    "normalize_ref",
    "validate_dataset_name",
    "validate_version_tag",
]

LATEST = "latest"

# Same default page size as shipyard.store.base.DEFAULT_PAGE_SIZE (a test pins it);
# base imports this module, so it cannot import base.
_DEFAULT_PAGE_SIZE = 100

_URI_SAFE_RE = re.compile(r"^[A-Za-z0-9_.\-]+$")


def validate_dataset_name(name: object) -> str:
    """A dataset name that fits in ``datasets:/NAME/N`` and ``datasets:/NAME@TAG``."""
    name = validate_name(name, "dataset name")
    if not _URI_SAFE_RE.match(name):
        raise InvalidInputError(f"dataset name {name!r} may contain only letters, digits and _ - .")
    if name in (".", ".."):
        raise InvalidInputError(f"dataset name {name!r} is reserved")
    return name


def validate_version_tag(tag: object) -> str:
    """A version label: URI-safe, never a number (that would read as a version) nor latest."""
    if not isinstance(tag, str):
        raise InvalidInputError(f"version tag must be a string, got {type(tag).__name__}")
    if not tag:
        raise InvalidInputError("version tag must not be empty")
    if len(tag) > MAX_KEY_LENGTH:
        raise InvalidInputError(
            f"version tag is {len(tag)} characters long; the limit is {MAX_KEY_LENGTH}"
        )
    if not _URI_SAFE_RE.match(tag):
        raise InvalidInputError(f"version tag {tag!r} may contain only letters, digits and _ - .")
    if tag.isdigit():
        raise InvalidInputError(f"version tag {tag!r} must not be a number")
    if tag in (".", ".."):
        raise InvalidInputError(f"version tag {tag!r} is reserved")
    if tag == LATEST:
        raise InvalidInputError(f"version tag {LATEST!r} is reserved: it always names the newest")
    return tag


def normalize_ref(ref: object) -> int | str | None:
    """``None`` for latest, an ``int`` for a version number, or a validated tag."""
    if ref is None or ref == LATEST:
        return None
    if isinstance(ref, bool):
        raise InvalidInputError(f"version reference must be a number or a tag, got {ref!r}")
    if isinstance(ref, int):
        if ref < 1:
            raise InvalidInputError(f"version numbers start at 1, got {ref}")
        return ref
    if isinstance(ref, str) and ref.isascii() and ref.isdigit():
        return normalize_ref(int(ref))
    return validate_version_tag(ref)


class DatasetStore(abc.ABC):
    """Dataset versions, their labels and profiles, and which runs used them."""

    # -- versions --------------------------------------------------------------
    @abc.abstractmethod
    def create_dataset_version(
        self,
        name: str,
        manifest_digest: str,
        file_count: int,
        total_size: int,
        message: str | None = None,
        author: str | None = None,
        tags: Sequence[str] = (),
        profile: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> tuple[DatasetVersion, bool]:
        """Record a new version; the dataset is created on first use.

        Versions are numbered 1, 2, ... per dataset and two writers never get
        the same number. The parent is the newest live version. When
        ``manifest_digest`` equals the newest live version's, nothing is
        created and that version comes back with ``False`` ("unchanged");
        otherwise the new version comes back with ``True``. ``tags`` move to
        the new version. A request whose ``idempotency_key`` was already
        applied returns the version it created.
        """

    @abc.abstractmethod
    def get_dataset(self, name: str) -> Dataset:
        """The dataset, whether or not it has live versions; ``NotFoundError`` if none."""

    @abc.abstractmethod
    def list_datasets(
        self,
        view: ViewType = ViewType.ACTIVE,
        max_results: int = _DEFAULT_PAGE_SIZE,
        page_token: str | None = None,
    ) -> Page[Dataset]:
        """Datasets ordered by name. A dataset is active while one of its versions is live."""

    @abc.abstractmethod
    def get_dataset_version(self, name: str, ref: int | str | None = None) -> DatasetVersion:
        """Resolve ``ref`` (see the module docstring); numbers and tags find deleted versions too.

        ``NotFoundError`` names the dataset, number or tag that is missing.
        """

    @abc.abstractmethod
    def list_dataset_versions(
        self, name: str, view: ViewType = ViewType.ACTIVE
    ) -> list[DatasetVersion]:
        """Versions in ascending order of number."""

    @abc.abstractmethod
    def tag_dataset_version(self, name: str, version: int, tag: str) -> None:
        """Put ``tag`` on a version, moving it off any other version of the dataset."""

    @abc.abstractmethod
    def untag_dataset_version(self, name: str, tag: str) -> None:
        """Remove a tag; ``NotFoundError`` if the dataset has no such tag."""

    @abc.abstractmethod
    def delete_dataset_version(self, name: str, version: int) -> None:
        """Soft-delete: the version leaves active listings and ``latest``; its blobs become
        collectable by ``shipyard gc``."""

    @abc.abstractmethod
    def restore_dataset_version(self, name: str, version: int) -> None: ...

    @abc.abstractmethod
    def set_dataset_version_profile(self, name: str, version: int, profile: dict[str, Any]) -> None:
        """Attach or replace the version's data profile (computed after commit, possibly)."""

    @abc.abstractmethod
    def set_dataset_description(self, name: str, description: str | None) -> Dataset: ...

    @abc.abstractmethod
    def set_dataset_tag(self, name: str, key: str, value: str) -> None:
        """A key-value tag on the dataset itself (not a version label)."""

    @abc.abstractmethod
    def delete_dataset_tag(self, name: str, key: str) -> None: ...

    # -- lineage ---------------------------------------------------------------
    @abc.abstractmethod
    def log_run_inputs(self, run_id: str, inputs: Sequence[tuple[str, int]]) -> None:
        """Record (dataset name, version number) pairs as inputs of a run; repeats store once."""

    @abc.abstractmethod
    def get_run_inputs(self, run_id: str) -> list[RunInput]:
        """The run's inputs ordered by dataset name then version."""

    @abc.abstractmethod
    def get_dataset_version_runs(self, name: str, version: int) -> list[str]:
        """Ids of the runs that used this version, oldest use first."""

    # -- garbage collection ----------------------------------------------------
    @abc.abstractmethod
    def referenced_digests(self) -> set[str]:
        """Every blob digest live metadata names directly.

        Run artifacts of every stored run, and the manifest digests of live
        dataset versions. The files a manifest lists are not included: a
        collector expands :meth:`live_manifest_digests` itself.
        """

    @abc.abstractmethod
    def live_manifest_digests(self) -> set[str]:
        """Manifest digests of live dataset versions (a subset of ``referenced_digests``)."""
