from django.urls import path

from jindu.accounts import account_views, security_views, views

app_name = "accounts"
urlpatterns = [
    # Signing in and out
    path("login/", views.login_view, name="login"),
    path("login/code/", views.login_totp, name="login_totp"),
    path("login/enrol/", views.login_enrol, name="login_enrol"),
    path("logout/", views.logout_view, name="logout"),
    path("totp/qr.svg", views.totp_qr, name="totp_qr"),
    # The user's own account
    path("password/", views.password_change, name="password_change"),
    path("totp/", views.totp_setup, name="totp_setup"),
    path("my-logins/", views.my_logins, name="my_logins"),
    # Security administrator
    path("sessions/", security_views.live_sessions, name="sessions"),
    path("sessions/<int:pk>/end/", security_views.session_end, name="session_end"),
    path("roles/", security_views.role_list, name="role_list"),
    path("roles/<int:pk>/", security_views.role_edit, name="role_edit"),
    path("roles/<int:pk>/roles/", security_views.role_save, name="role_save"),
    path("roles/<int:pk>/scope/", security_views.scope_save, name="scope_save"),
    path("roles/<int:pk>/totp-reset/", security_views.totp_reset, name="totp_reset"),
    path("policy/", security_views.policy_edit, name="policy"),
    # System administrator
    path("users/", account_views.account_list, name="account_list"),
    path("users/new/", account_views.account_create, name="account_create"),
    path("users/<int:pk>/", account_views.account_detail, name="account_detail"),
    path("users/<int:pk>/active/", account_views.account_set_active, name="account_set_active"),
    path(
        "users/<int:pk>/password/",
        account_views.account_reset_password,
        name="account_reset_password",
    ),
]
