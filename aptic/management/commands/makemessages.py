"""Django's makemessages, reading N_("…") too: the mark (gettext_noop) of French labels
kept as data, in services.nomenclature and places.standard.vocabulary."""

from django.core.management.commands import makemessages


class Command(makemessages.Command):
    xgettext_options = [*makemessages.Command.xgettext_options, "--keyword=N_"]
