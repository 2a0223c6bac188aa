from .nomenclature import ensure_seeded


def load(accounts, stdout):
    """The nomenclature is seeded by a migration; this restores anything deleted since."""
    ensure_seeded()
