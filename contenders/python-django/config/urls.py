from django.urls import path

from bench import views

urlpatterns = [
    path("health", views.health),
    path("plaintext", views.plaintext),
    path("json", views.json_view),
    path("db", views.single_query),
    path("queries", views.multiple_queries),
    path("fortunes", views.fortunes),
    path("updates", views.updates),
    path("io", views.io),
    path("cpu", views.cpu),
    path("data", views.data),
]
