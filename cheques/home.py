def actions(user):
    """Home-page actions of this app for `user` (see aptic.home)."""
    return []
