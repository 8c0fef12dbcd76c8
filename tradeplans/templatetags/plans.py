"""Plan status on pages other apps render: the badge and the breaching groups' marks.

The portfolio pages sit below trade plans (DESIGN.md §2 arrows), so they do
not import this app; their templates load this library by name instead. Each
tag reads only after the page's owner check, as the signed-in user.
"""

from __future__ import annotations

import hashlib

from django import template
from django.utils import timezone

from tradeplans import selectors
from tradeplans.notifications import RULE_TITLES

register = template.Library()


@register.inclusion_tag("tradeplans/_badge.html", takes_context=True)
def plan_badge(context, portfolio=None):
    """Render the worst status of the active plans covering the portfolio (None: all)."""
    user = context["request"].user
    status = selectors.plan_status(
        user_id=user.pk,
        portfolio_id=None if portfolio is None else portfolio.pk,
        now=timezone.now(),
    )
    return {"plan": status}


class BreachMarks(dict):
    """Open breaches by subject (a strategy group id); ``stamp`` changes when they do."""

    stamp: str = ""


@register.simple_tag(takes_context=True)
def plan_breach_marks(context, portfolio) -> BreachMarks:
    """Return the portfolio's open breaches by strategy group id, each with the rule's words."""
    found = selectors.breaches_by_subject(
        user_id=context["request"].user.pk, portfolio_id=portfolio.pk
    )
    marks = BreachMarks()
    for subject, rows in found.items():
        marks[subject] = [
            {**row, "rule_title": RULE_TITLES.get(row["rule"], row["rule"]).capitalize()}
            for row in rows
        ]
    text = repr(sorted((s, [(r["rule"], r["message"]) for r in rows]) for s, rows in found.items()))
    marks.stamp = hashlib.sha256(text.encode()).hexdigest()[:16]
    return marks


@register.filter
def marks_for(marks, key):
    """Return the marks of one subject (a group id), or an empty list."""
    return marks.get(key, []) if marks else []
