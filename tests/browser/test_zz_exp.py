import pathlib, json, pytest
from tests.browser.conftest import *  # noqa
AXE = pathlib.Path("/work/main/tests/browser/node_modules/axe-core/axe.min.js").read_text()
pytestmark = pytest.mark.browser

@pytest.mark.parametrize("js", [True, False])
@pytest.mark.parametrize("method", ["tag", "tag_bypass", "evaluate"])
def test_inject(chromium, live_server, js, method):
    ctx = chromium.new_context(base_url=live_server.url, java_script_enabled=js, bypass_csp=(method == "tag_bypass"))
    page = ctx.new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto("/sign-in")
    try:
        if method.startswith("tag"):
            page.add_script_tag(content=AXE)
        else:
            page.evaluate(AXE)
        ok = page.evaluate("typeof window.axe")
    except Exception as e:
        ok = f"EXC {type(e).__name__}: {str(e)[:200]}"
    print(f"\n{method} js={js}: {ok} errors={[e[:100] for e in errors]}")
    if ok == "object":
        r = page.evaluate("() => axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a','wcag2aa','wcag21a','wcag21aa']}}).then(r => r.violations.map(v => v.id))")
        print("violations", r)
    ctx.close()
