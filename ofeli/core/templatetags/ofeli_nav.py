"""Navigation helpers for base.html: the page's title, written once, reused by <title> and the breadcrumb."""

from django import template
from django.utils.safestring import mark_safe

register = template.Library()


class CaptureNode(template.Node):
    # Blocks inside (the page's {% block title %}) stay overridable by child templates.
    child_nodelists = ("nodelist",)

    def __init__(self, nodelist, name):
        self.nodelist = nodelist
        self.name = name

    def render(self, context):
        # The nodelist renders escaped output already: keep it as is.
        context[self.name] = mark_safe(" ".join(self.nodelist.render(context).split()))  # noqa: S308  # nosec B308 B703  # escaped
        return ""


@register.tag
def capture(parser, token):
    """{% capture name %}...{% endcapture %}: render the content once into the variable `name`, output nothing."""
    try:
        _, name = token.split_contents()
    except ValueError:
        raise template.TemplateSyntaxError("{% capture name %} attend un nom de variable") from None
    nodelist = parser.parse(("endcapture",))
    parser.delete_first_token()
    return CaptureNode(nodelist, name)
