"""Sending e-mails from templates, only once the transaction that caused them has committed."""

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string

from .region import current_region


def render_email(template_base: str, context: dict) -> tuple[str, str]:
    """Renders `<template_base>_subject.txt` and `<template_base>_body.txt`."""
    ctx = {"region": current_region(), "site_url": settings.SITE_URL, **context}
    subject = " ".join(render_to_string(f"{template_base}_subject.txt", ctx).split())
    body = render_to_string(f"{template_base}_body.txt", ctx)
    return subject, body


def send_templated_email(*, to: list[str] | str, template_base: str, context: dict, on_commit: bool = True):
    recipients = [to] if isinstance(to, str) else list(to)
    subject, body = render_email(template_base, context)

    def _send():
        EmailMessage(subject=subject, body=body, to=recipients).send()

    if on_commit:
        transaction.on_commit(_send)
    else:
        _send()
