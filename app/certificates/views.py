"""Public verification of issued documents, the published key, and the owner's PDF download."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from app.accounts.access import citizen_required
from app.certificates import services
from app.certificates.pdf import render_pdf
from app.certificates.signing import signing_key
from app.persian.text import normalize_identifier

bp = Blueprint("certificates", __name__, template_folder="templates")


@bp.get("/verify/")
def lookup() -> ResponseReturnValue:
    """A form to type a document number; any digits (Persian, Arabic, Latin) are accepted."""
    number = normalize_identifier(request.args.get("number", ""))
    if number:
        return redirect(url_for("certificates.verify", number=number), 303)
    return render_template("certificates/lookup.html")


@bp.get("/verify/<number>")
def verify(number: str) -> ResponseReturnValue:
    """Say whether a document is authentic and current, with the facts it certifies."""
    canonical = normalize_identifier(number)
    if canonical != number:
        return redirect(url_for("certificates.verify", number=canonical), 301)
    document = services.find_document(number)
    if document is None:
        return render_template("certificates/lookup.html", not_found=number), 404
    result = services.verify_document(document)
    return render_template(
        "certificates/verify.html", result=result, document=document, key_id=signing_key().key_id
    )


@bp.get("/verify/public-key.pem")
def public_key() -> ResponseReturnValue:
    """The Ed25519 public key every document signature can be checked with."""
    key = signing_key()
    return (
        key.public_pem(),
        200,
        {"Content-Type": "application/x-pem-file; charset=utf-8", "X-Key-Id": key.key_id},
    )


@bp.get("/certificates/<number>.pdf")
@citizen_required
def download(number: str) -> ResponseReturnValue:
    """The signed document as a PDF, for the citizen it was issued to (404 for anyone else)."""
    document = services.document_for(number, current_user)
    if document is None:
        abort(404)
    return (
        render_pdf(document),
        200,
        {
            "Content-Type": "application/pdf",
            "Content-Disposition": f'attachment; filename="{document.document_number}.pdf"',
            "Cache-Control": "no-store",
        },
    )
