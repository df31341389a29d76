"""Request and response bodies of the dataset endpoints (see :mod:`shipyard.server.schemas`).

Requests validate types only; the Store checks content so that every entry
point refuses the same things.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, StrictInt

from shipyard.entities import LifecycleStage
from shipyard.server.schemas import StrictStr
from shipyard.store.dataset_checks import MAX_RUN_INPUTS

__all__ = [
    "CreateDatasetVersionBody",
    "CreatedDatasetVersion",
    "DatasetBody",
    "DatasetPage",
    "DatasetVersionBody",
    "DatasetVersionList",
    "DigestList",
    "LogRunInputsBody",
    "RunIdList",
    "RunInputBody",
    "RunInputList",
    "SetDescriptionBody",
    "SetProfileBody",
    "TagVersionBody",
]


class CreateDatasetVersionBody(BaseModel):
    manifest_digest: StrictStr = Field(
        description="BLAKE3 digest of the manifest blob, uploaded before this request"
    )
    file_count: StrictInt
    total_size: StrictInt
    message: StrictStr | None = None
    author: StrictStr | None = None
    tags: list[StrictStr] = Field(default_factory=list, description="Version labels to put on it")
    profile: dict[str, Any] | None = None


class DatasetBody(BaseModel):
    name: str
    description: str | None
    created_at: int
    updated_at: int
    lifecycle_stage: LifecycleStage = Field(description="active while a version is live")
    tags: dict[str, str]
    latest_version: int | None


class DatasetPage(BaseModel):
    datasets: list[DatasetBody]
    next_page_token: str | None


class DatasetVersionBody(BaseModel):
    id: str
    dataset: str
    version: int
    uri: str = Field(examples=["datasets:/mnist/3"])
    manifest_digest: str
    file_count: int
    total_size: int
    message: str | None
    author: str | None
    created_at: int
    parent_version: int | None
    tags: list[str]
    lifecycle_stage: LifecycleStage
    profile: dict[str, Any] | None


class CreatedDatasetVersion(BaseModel):
    dataset_version: DatasetVersionBody
    created: bool = Field(description="false when the content equals the latest version's")


class DatasetVersionList(BaseModel):
    versions: list[DatasetVersionBody]


class TagVersionBody(BaseModel):
    version: StrictInt


class SetProfileBody(BaseModel):
    profile: dict[str, Any]


class SetDescriptionBody(BaseModel):
    description: StrictStr | None


class RunInputIn(BaseModel):
    dataset: StrictStr
    version: StrictInt


class LogRunInputsBody(BaseModel):
    inputs: list[RunInputIn] = Field(max_length=MAX_RUN_INPUTS)


class RunInputBody(BaseModel):
    run_id: str
    dataset: str
    version: int
    created_at: int


class RunInputList(BaseModel):
    inputs: list[RunInputBody]


class RunIdList(BaseModel):
    run_ids: list[str]


class DigestList(BaseModel):
    digests: list[str]
