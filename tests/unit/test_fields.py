"""portal.fields renders every field of every form exactly as WTForms does: empty, with input to escape, with
errors' attributes."""
import importlib
import pkgutil

import pytest
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict

import portal
from portal import fields
from tests.conftest import make_config

TRICKY = 'a"b<c>&\'d'


def all_forms():
    for module in pkgutil.walk_packages(portal.__path__, "portal."):
        if module.name.endswith("forms"):
            importlib.import_module(module.name)
    found, todo = [], list(FlaskForm.__subclasses__())
    while todo:
        form = todo.pop()
        todo.extend(form.__subclasses__())
        if form.__module__.startswith("portal."):
            found.append(form)
    return sorted(found, key=lambda f: f.__qualname__)


@pytest.fixture
def request_context(tmp_path):
    app = portal.create_app(make_config(tmp_path, f"sqlite:///{tmp_path}/unused.db"))
    with app.test_request_context("/"):
        yield


def test_every_form_is_found():
    names = {form.__name__ for form in all_forms()}
    assert {"SignInForm", "CodeForm", "SearchForm", "DetailsForm", "UserDetailsForm"} <= names


@pytest.mark.parametrize("form_class", all_forms(), ids=lambda f: f.__qualname__)
def test_fields_render_as_wtforms_renders_them(request_context, form_class):
    for data in (None, "tricky"):
        formdata = None if data is None else MultiDict(
            {name: TRICKY for name in form_class().data} | {"status": "expired", "sort": "last_name", "role": "user"})
        form = form_class(formdata=formdata)
        for field in form:
            for attrs in ({}, {"aria-describedby": "x-hint x-error", "aria-invalid": "true"}):
                assert fields.render(field, **attrs) == field(**attrs), (field.name, attrs)
            assert fields.label(field) == field.label()


def test_selected_option_and_own_attributes_are_kept(request_context):
    from portal.admin.forms import SearchForm

    form = SearchForm(MultiDict({"q": "x", "status": "blocked"}))
    html = fields.render(form.status)
    assert '<option selected value="blocked">Password blocked</option>' in html
    assert 'type="search"' in fields.render(form.q) and 'value="x"' in fields.render(form.q)


def test_text_password_and_select_fields_are_written_without_wtforms(request_context, monkeypatch):
    from wtforms.fields.core import Field

    from portal.admin.forms import SearchForm
    from portal.auth.forms import SignInForm

    monkeypatch.setattr(Field, "__call__", lambda *a, **k: pytest.fail("rendered by WTForms"))
    for form in (SearchForm(), SignInForm()):
        for field in form:
            if field.type != "CSRFTokenField":
                assert fields.render(field).startswith(("<input", "<select"))
