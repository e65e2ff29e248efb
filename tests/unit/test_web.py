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


def test_template_url_for_builds_what_url_for_builds(tmp_path):
    from flask import url_for

    from portal import create_app
    from portal.web import template_url_for
    from tests.conftest import make_config

    app = create_app(make_config(tmp_path, f"sqlite:///{tmp_path}/unused.db"))
    cached = template_url_for(app)
    calls = [("account.home", {}), ("static", {"filename": "css/portal.css"}),
             ("admin.user_details", {"user_id": "a b/ü"}), ("admin.users", {"status": "expiring", "page": 2}),
             ("auth.sign_in", {"next": None}), ("auth.sign_in", {"next": "/profile?x=1"}),
             ("account.home", {"_external": True}), ("admin.users", {"status": ["a", "b"]})]
    for root in ("", "/portal"):
        with app.test_request_context("/", environ_overrides={"SCRIPT_NAME": root}):
            for endpoint, values in calls * 2:  # the second time from what was remembered
                assert cached(endpoint, **values) == url_for(endpoint, **values), (root, endpoint, values)
    with app.test_request_context("/admin/users"):
        assert cached(".users") == url_for(".users") == "/admin/users"
    app.config["SERVER_NAME"] = "portal.example.test"
    with app.app_context():  # no request (mail rendered by a job): built as url_for builds it
        assert cached("account.home") == url_for("account.home")
