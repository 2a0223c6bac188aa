"""The demo's e-mail: each message is kept whole in a file under var/mail/ and announced in
one line, so that the console of `make demo` stays readable (Django's console backend
prints raw MIME)."""

import sys

from django.core.mail.backends.filebased import EmailBackend as FileBackend


class OneLinePerMailBackend(FileBackend):
    def write_message(self, message):
        super().write_message(message)
        sys.stdout.write(f"Courriel à {', '.join(message.recipients())} : "
                         f"« {message.subject} » ({self._fname})\n")
