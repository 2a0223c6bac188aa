from django.urls import include, path

urlpatterns = [
    path("", include("cheques.redemption_urls")),
]
