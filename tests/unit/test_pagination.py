import pytest
from flask import Flask

from portal import pagination


@pytest.mark.parametrize("asked, page", [("", 1), ("abc", 1), ("-3", 1), ("0", 1), ("2", 2), ("99999999", 10_000)])
def test_the_page_asked_for_is_a_page_there_can_be(asked, page):
    with Flask(__name__).test_request_context(f"/?page={asked}"):
        assert pagination.requested() == page


def test_one_row_more_than_a_page_says_there_is_a_next_one():
    full = list(range(pagination.PAGE_SIZE + 1))
    assert pagination.page_of(full, 3) == pagination.Page(full[:-1], 3, True)
    assert pagination.page_of(full[:-1], 3).has_next is False
    assert pagination.offset(3) == 2 * pagination.PAGE_SIZE
