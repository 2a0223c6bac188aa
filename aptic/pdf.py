"""HTML to PDF with WeasyPrint, for every document the platform prints (booklets,
statements, quotes and invoices): fonts and style sheets resolve from the project root."""

import functools

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation


def html_to_pdf(html):
    from weasyprint import HTML  # heavy import, only where a PDF is made

    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()


def render_pdf(template_name, context):
    return html_to_pdf(render_to_string(template_name, context))


def in_french(function):
    """Decorate the function that makes a legal document (a quote, an invoice, a statement):
    it is drawn up in French, whatever the language of the page that asks for it. The page
    says so in English (templates/includes/french_documents.html)."""

    @functools.wraps(function)
    def drawn_up_in_french(*args, **kwargs):
        with translation.override(settings.LANGUAGE_CODE):
            return function(*args, **kwargs)

    return drawn_up_in_french
