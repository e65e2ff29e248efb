import time, pytest
from tests.browser.test_sign_in_flow import make_person, expect, expect_step, INVALID
pytestmark = pytest.mark.browser
def test_timing(page, live_server, console_errors):
    t=time.perf_counter()
    def lap(what):
        nonlocal t
        n=time.perf_counter(); print(f"{what}: {n-t:.3f}"); t=n
    make_person(); lap("make_person")
    page.goto("/sign-in"); lap("goto")
    page.get_by_label("User ID", exact=True).fill("jdoe"); lap("fill user")
    page.get_by_label("Password", exact=True).fill("x"); lap("fill pw")
    page.get_by_role("button", name="Sign in").click(); lap("click")
    expect(page.get_by_role("alert")).to_have_text(INVALID); lap("expect alert")
    expect_step(page, live_server, "/sign-in", "Sign in"); lap("expect step")
