"""Template helpers of the inspection pages (``{% load inspections_ui %}``)."""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from jindu.inspections.selectors import COLOUR_CSS, COLOUR_MEANING, Colour

register = template.Library()


@register.simple_tag
def venue_colour(colour: str, long: bool = False) -> SafeString:
    """A venue's colour as a badge. A tag rather than an include: a list draws one per row,
    twice (table and phone list), and an include per badge was most of the page's time."""
    value = Colour(colour)
    return format_html(
        '<span class="badge rounded-pill text-bg-{} jd-venue-colour" data-colour="{}" title="{}">'
        '<i class="bi bi-circle-fill" aria-hidden="true"></i> {}'
        '<span class="{}">{}{}</span></span>',
        COLOUR_CSS[value],
        value.value,
        COLOUR_MEANING[value],
        value.label,
        "" if long else "visually-hidden",
        " · " if long else "：",
        COLOUR_MEANING[value],
    )
