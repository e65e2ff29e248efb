"""Request helpers: the `next` parameter accepts only local paths."""
import pytest

from portal.web import safe_next


@pytest.mark.parametrize("value", ["/", "/account", "/sign-in?next=%2F", "/a/b?c=d#e"])
def test_local_paths_are_kept(value):
    assert safe_next(value) == value


@pytest.mark.parametrize("value", [
    None, "", "//evil.example", "/\\evil.example", "https://evil.example", "https:evil.example",
    "javascript:alert(1)", "evil.example", "\\\\evil.example", "/\t/evil.example", "/%0a", "/\r\nSet-Cookie:x",
    "http:/evil.example", "///evil.example",
])
def test_anything_that_could_leave_the_site_is_refused(value):
    result = safe_next(value)
    assert result is None or (result.startswith("/") and not result.startswith("//") and "\\" not in result)
    assert result in (None, "/%0a")
