from django import forms, template

register = template.Library()


@register.filter
def is_checkbox(field):
    return isinstance(field.field.widget, forms.CheckboxInput)


@register.filter
def is_group(field):
    """Radio buttons and multiple checkboxes: a group, named by a fieldset's legend (RGAA 11.5)."""
    return isinstance(field.field.widget, (forms.RadioSelect, forms.CheckboxSelectMultiple))


@register.simple_tag
def render_field(field):
    """Render a bound field with Bootstrap classes and its help/error ids in aria-describedby."""
    widget = field.field.widget
    attrs = {}
    if isinstance(widget, forms.CheckboxInput):
        css = "form-check-input"
    elif isinstance(widget, (forms.Select, forms.SelectMultiple)):
        css = "form-select"
    elif isinstance(widget, (forms.RadioSelect, forms.CheckboxSelectMultiple)):
        css = ""
    else:
        css = "form-control"
    if field.errors:
        css += " is-invalid"
        attrs["aria-invalid"] = "true"
    described = []
    if field.help_text:
        described.append(f"{field.auto_id}-aide")
    if field.errors:
        described.append(f"{field.auto_id}-erreurs")
    if described:
        attrs["aria-describedby"] = " ".join(described)
    existing = widget.attrs.get("class", "")
    attrs["class"] = f"{existing} {css}".strip()
    return field.as_widget(attrs=attrs)
