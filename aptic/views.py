from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from rest_framework.throttling import ScopedRateThrottle

from . import passwords, ratelimit, tokens
from .forms import ApiTokenForm, LoginForm
from .home import actions_for
from .models import ApiToken, Membership


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
    # Attempts per client address, counted with the API's token endpoint (same scope, same
    # counter): guessing passwords on one after the other gains nothing. Failures per account
    # and per address delay the next attempts (aptic.logins).
    throttle_scope = "login"

    def post(self, request, *args, **kwargs):
        throttle = ScopedRateThrottle()
        if not throttle.allow_request(request, self):
            seconds = max(1, int(throttle.wait() or 1))
            response = render(request, "registration/login_throttled.html",
                              {"seconds": seconds}, status=429)
            response["Retry-After"] = str(seconds)
            return response
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        if form.delayed is None:
            return super().form_invalid(form)
        response = render(self.request, "registration/locked_out.html",
                          {"message": form.delayed.message}, status=429)
        response["Retry-After"] = str(form.delayed.seconds)
        return response


@ratelimit.limited("password_reset", gettext_lazy(
    "Trop de demandes de nouveau mot de passe depuis votre connexion."))
def password_reset(request, *args, **kwargs):
    """/mot-de-passe/oublie/: Django's view, its message sent by a task (aptic.passwords);
    the same answer whether an account has the address or not."""
    return auth_views.PasswordResetView.as_view(form_class=passwords.ResetRequestForm)(
        request, *args, **kwargs)


def password_reset_done(request, *args, **kwargs):
    return auth_views.PasswordResetDoneView.as_view(
        extra_context={"hours": passwords.link_hours()})(request, *args, **kwargs)


@login_required
def account(request):
    """The user's account page: personal API tokens (created, shown once, revoked)."""
    new_key = None
    form = ApiTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        _token, new_key = tokens.create_token(user=request.user, name=form.cleaned_data["name"])
        form = ApiTokenForm()
    return render(request, "aptic/account.html", {
        "form": form,
        "new_key": new_key,
        "tokens": ApiToken.objects.filter(user=request.user),
    })


@login_required
@require_POST
def revoke_api_token(request, pk):
    token = get_object_or_404(ApiToken, pk=pk)
    if not tokens.may_revoke(request.user, token):
        raise Http404
    if tokens.revoke_token(token=token, by=request.user):
        messages.success(request, _("Le jeton « %(name)s » est révoqué.") % {"name": token.name})
    return redirect("account")
