from django.urls import reverse


def test_english_browser_still_gets_chinese(client):
    response = client.get(reverse("accounts:login"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert response["Content-Language"] == "zh-hans"
    assert 'lang="zh-hans"' in response.content.decode()


def test_chosen_language_is_kept(client):
    client.post(reverse("portal:set_language"), {"language": "en", "next": "/"})
    response = client.get(reverse("accounts:login"))
    assert response["Content-Language"] == "en"


def test_unknown_language_cookie_falls_back_to_chinese(client):
    client.cookies["django_language"] = "xx"
    assert client.get(reverse("accounts:login"))["Content-Language"] == "zh-hans"
