"""One page of a long list, the same way everywhere: PAGE_SIZE rows from the page asked for, found with one
query for one row more than a page, which says whether a next page exists (no count of the whole list)."""
from __future__ import annotations

from dataclasses import dataclass

from flask import request

PAGE_SIZE = 50
LAST_PAGE = 10_000  # deeper pages are not offered: a search narrows the list instead


@dataclass
class Page:
    rows: list
    page: int
    has_next: bool


def clamp(number: int | None) -> int:
    return max(1, min(number or 1, LAST_PAGE))


def offset(number: int) -> int:
    return (number - 1) * PAGE_SIZE


def page_of(rows: list, number: int) -> Page:
    """The page from rows read with limit(PAGE_SIZE + 1) at offset(number)."""
    return Page(rows[:PAGE_SIZE], number, len(rows) > PAGE_SIZE)


def paginate(select, number: int) -> Page:
    """Page `number` (clamped) of a peewee select that is already ordered."""
    number = clamp(number)
    return page_of(list(select.offset(offset(number)).limit(PAGE_SIZE + 1)), number)


def requested() -> int:
    """The page number of the request's query string; anything but a positive number is the first page."""
    return clamp(request.args.get("page", 1, type=int))
