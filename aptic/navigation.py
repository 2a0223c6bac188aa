"""The header menu of every page: the pages of the person's role (aptic.home, the same
list as their home page), the current one marked. A context processor, so that every page
of every app has it without its view knowing."""

from dataclasses import dataclass

from django.utils.functional import SimpleLazyObject

from .home import actions_for


@dataclass(frozen=True)
class MenuItem:
    label: str
    url: str
    current: bool


def current_url(urls, path):
    """The menu entry `path` belongs to: the URL itself, or the longest URL it lies under
    (« /commandes/12/ » is under « /commandes/ »; « /commandes/nouvelle/ » is its own)."""
    if path in urls:
        return path
    parents = [url for url in urls if url != "/" and path.startswith(url)]
    return max(parents, key=len, default=None)


def menu_for(user, path):
    items, seen = [], set()
    for action in actions_for(user):
        if action.url not in seen:
            seen.add(action.url)
            items.append(action)
    current = current_url([item.url for item in items], path)
    return [MenuItem(item.menu_label, item.url, item.url == current) for item in items]


def menu(request):
    """`menu`: the header's entries, computed only when a template shows them."""
    return {"menu": SimpleLazyObject(lambda: menu_for(request.user, request.path))}
