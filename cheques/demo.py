def load(accounts, stdout):
    """Demo data of this app; `accounts` holds the demo organisations and users by key."""
