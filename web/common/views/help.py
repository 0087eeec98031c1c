"""The help page, its topics and the Customer Care contact form (signed in or not)."""
from __future__ import annotations

import grpc
from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from web.common import forms, help_topics
from web.common.errors import FormPage, answers_failed_calls
from web.common.runtime import identity, portal
from web.common.security import client_address, load_principal

bp = Blueprint("help", __name__)


@bp.app_template_global()
def help_topic_url(slug: str) -> str:
    """Where a topic is read: here, or at the other door for a topic only it serves.

    Pages link topics through this: a slug that is no topic is a KeyError when the page renders,
    a template bug that any test rendering the page finds, never a dead link.
    """
    topic = help_topics.BY_SLUG[slug]
    path = url_for("help.topic", slug=topic.slug)
    runtime = portal()
    return path if topic.served_by(runtime.portal) else runtime.url_of(runtime.other) + path


@bp.route("/help")
@answers_failed_calls
def help_page() -> ResponseReturnValue:
    # Signed in or not: a signed-in reader also gets the link to their billing contacts.
    door = portal().portal
    return render_template("help.html", principal=load_principal(),
                           topics=help_topics.for_door(door), other_topics=help_topics.elsewhere(door))


@bp.route("/help/<slug>")
@answers_failed_calls
def topic(slug: str) -> ResponseReturnValue:
    found = help_topics.find(slug)
    if found is None:
        abort(404)
    door = portal().portal
    if not found.served_by(door):
        return redirect(help_topic_url(found.slug))
    related = [t for t in help_topics.for_door(door) if t is not found]
    return render_template("help_topic.html", principal=load_principal(), topic=found, related=related)


@bp.route("/help/contact", methods=["GET", "POST"])
@answers_failed_calls
def customer_care() -> ResponseReturnValue:
    principal = load_principal()
    form = forms.CustomerCareForm()
    if request.method == "GET" and principal is not None:
        form.name.data = form.name.data or principal.name
        form.email.data = form.email.data or principal.email
    page = FormPage("contact.html", form)
    if request.method == "GET":
        return page.render()
    if not form.validate():
        return page.render(400)
    try:
        identity().contact_customer_care(
            name=form.name.data, email=form.email.data, subject=form.subject.data,
            message=form.message.data, client_address=client_address())
    except grpc.RpcError as error:
        return page.failed(error)
    return render_template("contact_sent.html")
