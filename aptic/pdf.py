"""HTML to PDF with WeasyPrint, for every document the platform prints (booklets,
statements, quotes and invoices): fonts and style sheets resolve from the project root."""

from django.conf import settings
from django.template.loader import render_to_string


def html_to_pdf(html):
    from weasyprint import HTML  # heavy import, only where a PDF is made

    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()


def render_pdf(template_name, context):
    return html_to_pdf(render_to_string(template_name, context))
