"""Form fields rendered to the same HTML as WTForms renders them, for less CPU.

WTForms formats every attribute through Markup.format and lists a field's flags with dir(); with labels that was
a quarter of the CPU of a page with a form (the search form of Administration > User: one text field and two
selects of 12 options). Inputs, selects and labels of the usual kinds are written here with f-strings; anything
else (a widget or meta of its own, option groups) goes to WTForms itself. tests/unit/test_fields.py compares
both for every field of every form.
"""
from __future__ import annotations

from markupsafe import Markup, escape
from wtforms.meta import DefaultMeta
from wtforms.widgets import Input, PasswordInput, Select
from wtforms.widgets.core import clean_key

_INPUT_CALLS = (Input.__call__, PasswordInput.__call__)


def _attributes(attrs: dict) -> str:
    """wtforms.widgets.html_params: sorted, True as a bare name, False left out, values escaped."""
    out = []
    for key, value in sorted(attrs.items()):
        key = escape(clean_key(key))
        if value is True:
            out.append(key)
        elif value is not False:
            out.append(f'{key}="{str(escape(value)).replace(chr(34), "&quot;")}"')
    return " ".join(out)


def _validation(field, widget, attrs: dict) -> None:
    for name, value in vars(field.flags).items():  # the flags the validators set (dir() in WTForms)
        if name in widget.validation_attrs and name not in attrs:
            attrs[name] = value() if callable(value) else value


def _input(field, widget, attrs: dict) -> Markup:
    if type(widget).__call__ is PasswordInput.__call__ and widget.hide_value:
        attrs["value"] = ""
    attrs.setdefault("id", field.id)
    attrs.setdefault("type", widget.input_type)
    if "value" not in attrs:
        attrs["value"] = field._value()
    _validation(field, widget, attrs)
    return Markup(f"<input {_attributes({'name': field.name, **attrs})}>")


def _select(field, widget, attrs: dict) -> Markup:
    attrs.setdefault("id", field.id)
    if widget.multiple:
        attrs["multiple"] = True
    _validation(field, widget, attrs)
    html = [f"<select {_attributes({'name': field.name, **attrs})}>"]
    for choice in field._iter_choices_normalized():
        value = str(choice.value) if isinstance(choice.value, bool) else choice.value
        options = {"value": value, **(choice.render_kw or {})}
        if choice.selected:
            options["selected"] = True
        html.append(f"<option {_attributes(options)}>{escape(choice.label or choice.value)}</option>")
    html.append("</select>")
    return Markup("".join(html))


def render(field, **attrs) -> Markup:
    """field(**attrs), as WTForms would render it."""
    widget = field.widget
    plain_meta = type(field.meta).render_field is DefaultMeta.render_field
    if plain_meta and isinstance(widget, Input) and type(widget).__call__ in _INPUT_CALLS \
            and getattr(field, "_datalist", None) is None:
        render_as = _input
    elif plain_meta and type(widget) is Select and not field.has_groups():
        render_as = _select
    else:
        return field(**attrs)
    own = {clean_key(k): v for k, v in (field.render_kw or {}).items()}
    return render_as(field, widget, {**own, **{clean_key(k): v for k, v in attrs.items()}})


def label(field) -> Markup:
    """field.label(), as WTForms would render it."""
    return Markup(f'<label for="{escape(field.label.field_id)}">{escape(field.label.text)}</label>')


def init_app(app) -> None:
    app.jinja_env.globals.update(render_field=render, render_label=label)
