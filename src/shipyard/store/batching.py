"""Grouping work items by count and by weight (bytes): one request or task per group."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

__all__ = ["batched"]

T = TypeVar("T")


def batched(
    items: Iterable[T], weight: Callable[[T], int], max_items: int, max_weight: int
) -> Iterator[list[T]]:
    """Consecutive groups of at most ``max_items`` items and ``max_weight`` in all.

    An item heavier than ``max_weight`` on its own makes a group of one.
    """
    group: list[T] = []
    total = 0
    for item in items:
        heft = weight(item)
        if group and (len(group) >= max_items or total + heft > max_weight):
            yield group
            group, total = [], 0
        group.append(item)
        total += heft
    if group:
        yield group
