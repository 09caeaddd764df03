"""The pages' blueprint, with the template context every page gets."""

from flask import Blueprint

from server.web.pages.labels import ui_context

bp = Blueprint("pages", __name__)
bp.app_context_processor(ui_context)
