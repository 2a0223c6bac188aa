from django.contrib.auth import views as auth_views
from django.shortcuts import render

from .forms import LoginForm
from .home import actions_for
from .models import Membership


def home(request):
    memberships = []
    if request.user.is_authenticated:
        memberships = Membership.objects.filter(user=request.user).select_related("organisation")
    return render(
        request,
        "aptic/home.html",
        {"actions": actions_for(request.user), "memberships": memberships},
    )


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    redirect_authenticated_user = True
