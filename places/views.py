from django.shortcuts import render


def public_map(request):
    """The front door for beneficiaries: find a qualified place near home."""
    return render(request, "places/map.html")
