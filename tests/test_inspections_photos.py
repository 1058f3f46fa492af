"""Photos are judged by their bytes, kept in a private folder, and answered only inside the
scope of the record they belong to.

A text file renamed .jpg and a photo over 5 MB are refused with a Chinese
message; a refused submission writes no row and leaves no file, and the photos
that passed are kept for the next try; a 乙镇 photo is a 404 to a 甲镇 cadre.
"""

from __future__ import annotations

import struct
from datetime import date
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from jindu.inspections import images, services
from jindu.inspections.models import Photo, VenueInspection
from tests.helpers import sign_in
from tests.inspections_factories import (
    inspect,
    jpeg_bytes,
    make_patrol,
    make_venue,
    photo,
    png_bytes,
    upload,
    webp_bytes,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def private_files(media: Path) -> list[Path]:
    return [p for p in media.rglob("*") if p.is_file()]


# ------------------------------------------------------------------ judging the bytes


def test_png_jpeg_and_webp_are_recognised_with_their_size():
    assert images.sniff_image(png_bytes(4, 3)) == images.ImageInfo("image/png", "png", 4, 3)
    assert images.sniff_image(jpeg_bytes(640, 480)) == images.ImageInfo(
        "image/jpeg", "jpg", 640, 480
    )
    assert images.sniff_image(webp_bytes(800, 600)) == images.ImageInfo(
        "image/webp", "webp", 800, 600
    )


def test_lossless_and_lossy_webp_sizes_are_read():
    bits = (1023 - 1) | ((767 - 1) << 14)
    lossless = b"RIFF" + struct.pack("<I", 30) + b"WEBPVP8L" + struct.pack("<I", 10)
    lossless += b"\x2f" + bits.to_bytes(4, "little") + b"\x00" * 8
    assert images.sniff_image(lossless) == images.ImageInfo("image/webp", "webp", 1023, 767)
    lossy = b"RIFF" + struct.pack("<I", 30) + b"WEBPVP8 " + struct.pack("<I", 10)
    lossy += b"\x00\x00\x00" + b"\x9d\x01\x2a" + struct.pack("<HH", 320, 240) + b"\x00" * 4
    assert images.sniff_image(lossy) == images.ImageInfo("image/webp", "webp", 320, 240)


@pytest.mark.parametrize(
    "data",
    [
        "这不是图片，只是改了扩展名的文本".encode(),
        b"",
        b"GIF89a\x01\x00\x01\x00",
        b"\xff\xd8\xff",  # a JPEG start and nothing else
        b"\xff\xd8\xff\xda\x00\x08" + b"\x00" * 20,  # scan data before any frame header
        png_bytes()[:20],  # cut off inside the header
        png_bytes(0, 3),
        b"%PDF-1.4\n%%EOF\n",
    ],
    ids=["text", "empty", "gif", "jpeg-start", "jpeg-no-frame", "png-cut", "png-zero", "pdf"],
)
def test_anything_but_a_photo_is_refused(data):
    with pytest.raises(ValidationError) as caught:
        images.check_photo(upload("现场.jpg", data, "image/jpeg"))
    assert "不是有效的图片文件" in str(caught.value)


def test_a_text_file_renamed_jpg_is_refused_by_name_in_chinese():
    with pytest.raises(ValidationError) as caught:
        images.check_photo(upload("检查照片.jpg", b"hello, I am text", "image/jpeg"))
    assert str(caught.value.messages[0]).startswith("“检查照片.jpg”不是有效的图片文件")


def test_a_photo_over_five_megabytes_is_refused():
    data = png_bytes() + b"\x00" * (images.MAX_PHOTO_BYTES - len(png_bytes()) + 1)
    with pytest.raises(ValidationError) as caught:
        images.check_photo(upload("大照片.png", data))
    assert "超过5MB" in str(caught.value)
    exactly = png_bytes() + b"\x00" * (images.MAX_PHOTO_BYTES - len(png_bytes()))
    assert images.check_photo(upload("刚好.png", exactly)).size == images.MAX_PHOTO_BYTES


def test_more_than_ten_photos_at_once_are_refused():
    with pytest.raises(ValidationError) as caught:
        images.check_photos([upload(f"{n}.png", png_bytes()) for n in range(11)])
    assert "最多上传10张" in str(caught.value)


def test_a_scan_may_be_a_pdf_but_not_text():
    assert images.check_scan(upload("责任书.pdf", b"%PDF-1.7\n...\n%%EOF\n")).extension == "pdf"
    with pytest.raises(ValidationError) as caught:
        images.check_scan(upload("责任书.pdf", b"plain text"))
    assert "不是有效的扫描件" in str(caught.value)


# ------------------------------------------------------------------ storing and serving


@pytest.fixture
def venue(personas):
    return make_venue(personas.cadre_a, personas.territory.village_a)


@pytest.fixture
def venue_b(personas):
    return make_venue(personas.cadre_b, personas.territory.village_b, name="乙镇宾馆")


def test_photos_are_stored_in_the_private_folder_under_random_names(personas, venue, media):
    inspection = inspect(
        personas.cadre_a, venue, date(2025, 5, 5), photos=(photo("王老板店门.png"),)
    )
    stored = inspection.photos.get()
    path = Path(stored.file.path)
    assert path.is_relative_to(media / "private")
    assert "王老板" not in path.name and path.suffix == ".png"
    assert path.read_bytes() == png_bytes()
    assert (stored.width, stored.height, stored.content_type) == (4, 3, "image/png")
    with pytest.raises(ValueError):
        stored.file.url  # noqa: B018


def test_a_photo_is_served_to_its_township_and_the_county(personas, venue, client):
    inspection = inspect(personas.cadre_a, venue, date(2025, 5, 5), photos=(photo(),))
    url = reverse("inspections:photo", kwargs={"pk": inspection.photos.get().pk})
    for user in (
        personas.cadre_a,
        personas.police_officer,
        personas.county_officer,
        personas.leader,
    ):
        response = sign_in(client, user).get(url)
        assert response.status_code == 200, user.username
        assert response["Content-Type"] == "image/png"
        assert b"".join(response.streaming_content) == png_bytes()
        assert "no-store" in response["Cache-Control"]


def test_a_photo_is_never_served_outside_its_scope(personas, venue_b, client):
    inspection = inspect(personas.cadre_b, venue_b, date(2025, 5, 5), photos=(photo(),))
    url = reverse("inspections:photo", kwargs={"pk": inspection.photos.get().pk})
    for user in (personas.cadre_a, personas.grid_worker, personas.police_officer):
        assert sign_in(client, user).get(url).status_code == 404, user.username
    # A department's reporter sees only its own department's venues.
    assert sign_in(client, personas.dept_reporter).get(url).status_code == 404
    for user in (personas.sys_admin, personas.sec_admin, personas.audit_admin):
        assert sign_in(client, user).get(url).status_code == 403, user.username
    client.logout()
    assert client.get(url).status_code == 302


def test_a_patrol_photo_follows_the_patrol_scope(personas, client):
    patrol = make_patrol(
        personas.cadre_b, personas.territory.village_b, date(2025, 5, 5), photos=(photo(),)
    )
    url = reverse("inspections:photo", kwargs={"pk": patrol.photos.get().pk})
    assert sign_in(client, personas.cadre_b).get(url).status_code == 200
    assert sign_in(client, personas.cadre_a).get(url).status_code == 404


def test_the_media_folder_has_no_public_address(personas, venue, client):
    inspection = inspect(personas.cadre_a, venue, date(2025, 5, 5), photos=(photo(),))
    name = inspection.photos.get().file.name
    sign_in(client, personas.cadre_a)
    for guess in (f"/media/{name}", f"/media/private/{name}", f"/private/{name}"):
        assert client.get(guess).status_code == 404


def test_a_letter_scan_is_a_download_inside_the_scope_only(personas, venue, venue_b, client):
    scan = images.check_scan(upload("责任书.pdf", b"%PDF-1.4\n%%EOF\n"))
    mine = services.sign_letter(
        actor=personas.cadre_a,
        venue=venue,
        signed_on=date(2025, 1, 1),
        term_end=date(2025, 12, 31),
        scan=scan,
    )
    theirs = services.sign_letter(
        actor=personas.cadre_b,
        venue=venue_b,
        signed_on=date(2025, 1, 1),
        term_end=date(2025, 12, 31),
        scan=scan,
    )
    sign_in(client, personas.cadre_a)
    response = client.get(reverse("inspections:letter_scan", kwargs={"pk": mine.pk}))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment")
    assert (
        client.get(reverse("inspections:letter_scan", kwargs={"pk": theirs.pk})).status_code == 404
    )


# ------------------------------------------------------------------ nothing half-written


def _form(**extra):
    data = {
        "inspected_on": "2025-05-05",
        "mode": "open",
        "inspectors": "张三",
        "item_publicity": "pass",
        "item_staff_training": "pass",
        "item_registration": "pass",
        "item_patrol_record": "skip",
        "item_suspicious_report": "skip",
        "item_responsibility_letter": "skip",
    }
    data.update(extra)
    return data


def test_a_text_file_among_the_photos_refuses_the_whole_inspection(personas, venue, client, media):
    sign_in(client, personas.cadre_a)
    url = reverse("inspections:inspection_add", kwargs={"pk": venue.pk})
    response = client.post(
        url,
        _form(photos=[upload("好照片.png", png_bytes()), upload("伪装.jpg", b"not an image")]),
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "“伪装.jpg”不是有效的图片文件" in body
    assert 'value="张三"' in body  # what was typed is still there
    assert not VenueInspection.objects.exists()
    assert not Photo.objects.exists()
    assert not [p for p in private_files(media) if "private" in p.parts]


def test_photos_that_passed_are_kept_for_the_next_try(personas, venue, client):
    sign_in(client, personas.cadre_a)
    url = reverse("inspections:inspection_add", kwargs={"pk": venue.pk})
    refused = client.post(
        url, _form(item_publicity="fail", photos=[upload("门头.png", png_bytes())])
    )
    body = refused.content.decode()
    assert "请写明“禁毒宣传”存在的问题" in body
    assert "检查不合格时请填写整改期限" in body
    assert "已保留上次选择的1张照片" in body
    kept = refused.context["form"].data["kept_photos"]
    assert kept
    accepted = client.post(
        url,
        _form(
            item_publicity="fail",
            problem_publicity="未张贴海报",
            fix_deadline="2025-05-20",
            kept_photos=kept,
        ),
    )
    assert accepted.status_code == 302
    inspection = VenueInspection.objects.get()
    assert inspection.photos.count() == 1
    assert Path(inspection.photos.get().file.path).read_bytes() == png_bytes()


def test_another_users_kept_photos_cannot_be_claimed(personas, venue, client):
    sign_in(client, personas.cadre_a)
    url = reverse("inspections:inspection_add", kwargs={"pk": venue.pk})
    refused = client.post(url, _form(inspectors="", photos=[upload("门头.png", png_bytes())]))
    kept = refused.context["form"].data["kept_photos"]
    other = make_venue(personas.county_officer, personas.territory.village_a, name="另一家")
    sign_in(client, personas.county_officer)
    client.post(
        reverse("inspections:inspection_add", kwargs={"pk": other.pk}), _form(kept_photos=kept)
    )
    assert not Photo.objects.exists()


def test_a_failure_after_the_files_are_written_removes_them(personas, venue, media, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("audit unavailable")

    monkeypatch.setattr(services, "record_change", broken)
    with pytest.raises(RuntimeError):
        inspect(personas.cadre_a, venue, date(2025, 5, 5), photos=(photo(), photo()))
    assert not VenueInspection.objects.exists()
    assert not private_files(media)
