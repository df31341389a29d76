from __future__ import annotations

import pytest

from shipyard import errors
from shipyard.errors import (
    AlreadyExistsError,
    FilterSyntaxError,
    NotFoundError,
    ShipyardError,
    error_from_payload,
)


def _every_error_class() -> list[type[ShipyardError]]:
    found: list[type[ShipyardError]] = []
    pending: list[type[ShipyardError]] = [ShipyardError]
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found


@pytest.mark.parametrize("cls", _every_error_class(), ids=lambda cls: cls.__name__)
def test_every_error_round_trips_through_its_payload(cls: type[ShipyardError]) -> None:
    original = cls("something went wrong")
    payload = original.to_payload()
    assert payload == {"error": {"code": cls.code, "message": "something went wrong"}} or (
        cls is FilterSyntaxError
    )
    rebuilt = error_from_payload(payload, cls.http_status)
    assert type(rebuilt) is cls
    assert rebuilt.message == "something went wrong"


def test_codes_are_unique_and_statuses_are_http() -> None:
    classes = _every_error_class()
    codes = [cls.code for cls in classes]
    assert len(codes) == len(set(codes))
    assert all(400 <= cls.http_status < 600 for cls in classes)


def test_every_error_class_is_exported() -> None:
    exported = {getattr(errors, name) for name in errors.__all__}
    assert set(_every_error_class()) <= exported
    assert errors.__all__ == sorted(errors.__all__)


def test_filter_syntax_error_carries_its_position() -> None:
    payload = FilterSyntaxError("unexpected ')'", position=17).to_payload()
    assert payload["error"]["position"] == 17
    rebuilt = error_from_payload(payload, 400)
    assert isinstance(rebuilt, FilterSyntaxError)
    assert rebuilt.position == 17


def test_unknown_code_falls_back_to_the_http_status() -> None:
    assert type(error_from_payload({"error": {"code": "NEW", "message": "m"}}, 404)) is (
        NotFoundError
    )
    assert type(error_from_payload("not json", 409)) is errors.ConflictError
    assert type(error_from_payload(None, 502)) is ShipyardError


def test_subclass_is_caught_by_its_parent() -> None:
    with pytest.raises(errors.ConflictError):
        raise AlreadyExistsError("experiment 'x' already exists")
