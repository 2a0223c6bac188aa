from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("connexion/", views.LoginView.as_view(), name="login"),
    path("deconnexion/", auth_views.LogoutView.as_view(), name="logout"),
    path("mot-de-passe/oublie/", views.password_reset, name="password_reset"),
    path("mot-de-passe/oublie/envoye/", views.password_reset_done,
         name="password_reset_done"),
    path("mot-de-passe/nouveau/<uidb64>/<token>/",
         auth_views.PasswordResetConfirmView.as_view(), name="password_reset_confirm"),
    path("mot-de-passe/nouveau/termine/", auth_views.PasswordResetCompleteView.as_view(),
         name="password_reset_complete"),
    path("compte/", views.account, name="account"),
    path("compte/jetons/<int:pk>/revoquer/", views.revoke_api_token, name="revoke-api-token"),
    path("i18n/", include("django.conf.urls.i18n")),
    path(settings.ADMIN_URL, admin.site.urls),
    path("api/v1/", include("aptic.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"),
         name="api-docs"),
    path("", include("places.web.urls")),
    path("", include("cheques.web.urls")),
]

# A crash outside the API views answers JSON under /api/ (unknown addresses: see
# aptic.api.ApiNotFoundMiddleware).
handler500 = "aptic.api.server_error"
