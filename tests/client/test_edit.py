"""`imageedit edit`: a 24 MP JPEG and a HEIC photo straight to S3, edited, downloaded at full resolution;
a dry run records nothing."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from tests.devstack.running import ROOT
from tests.editor.photo_samples import encoded, photo_like, rect_mask

HEIC = ROOT / "tests" / "editor" / "fixtures" / "p3-rotated-gps.heic"


@pytest.fixture
def signed_in(stack, cli):
    username = stack.user()
    cli.login(username)
    return stack.token(username)


def test_a_24_megapixel_jpeg_is_edited_and_downloaded_at_full_size(stack, cli, signed_in, tmp_path):
    photo, mask = tmp_path / "big.jpg", tmp_path / "mask.png"
    photo.write_bytes(encoded(photo_like(6000, 4000), "jpeg", quality=90))
    rect_mask((6000, 4000), (2900, 1900, 3100, 2100)).save(mask)
    done = cli.run(
        "edit",
        str(photo),
        "--task",
        "erase",
        "--mask",
        str(mask),
        "-o",
        str(tmp_path / "result.png"),
        "--json",
    )
    assert done.returncode == 0, done.stderr
    edit = json.loads(done.stdout)
    assert edit["status"] == "SUCCEEDED" and edit["input_width"] == 6000
    saved = [tmp_path / "result.jpg"]  # a JPEG photo's result is a JPEG: the extension follows it
    assert edit["saved"] == [str(saved[0])]
    with Image.open(saved[0]) as result:
        assert result.format == "JPEG" and result.size == (6000, 4000)
    assert "Saved with the result's own extension (.jpg)" in done.stderr
    assert [item["id"] for item in stack.edits(signed_in)] == [edit["id"]]


def test_a_heic_photo_is_cut_out_upright_at_its_own_size(stack, cli, signed_in, tmp_path):
    import pi_heif

    pi_heif.register_heif_opener()
    with Image.open(HEIC) as original:
        upright = original.size  # the decoder applies HEIC's own rotation
    done = cli.run("edit", str(HEIC), "--task", "remove_background", "-o", str(tmp_path) + "/")
    assert done.returncode == 0, done.stderr
    saved = tmp_path / "p3-rotated-gps-remove_background.png"
    assert done.stdout.strip() == str(saved)
    with Image.open(saved) as result:
        assert result.size == upright and result.mode == "RGBA"


def test_a_dry_run_prints_the_cost_and_creates_nothing(stack, cli, signed_in, tmp_path):
    (tmp_path / "photos").mkdir()
    photo = tmp_path / "photos" / "photo.png"
    photo_like(640, 480).save(photo)
    done = cli.run(
        "edit", str(photo), "--task", "outpaint", "--left", "128", "--count", "2", "--dry-run", "--json"
    )
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["dry_run"] is True and answer["work_size"] == {"width": 768, "height": 480}
    assert answer["estimated_cost_usd"] == pytest.approx(2 * answer["price_per_image_usd"])
    assert stack.edits(signed_in) == []
    assert sorted(path.name for path in tmp_path.iterdir()) == ["config", "photos"]  # no result saved


def test_a_file_that_is_not_an_image_gets_the_servers_message(stack, cli, signed_in, tmp_path):
    fake = tmp_path / "notes.jpg"
    fake.write_text("not a photo")
    done = cli.run("edit", str(fake), "--task", "remove_background")
    assert done.returncode == 4
    assert "error:" in done.stderr and "JPEG, PNG, WebP or HEIC" in done.stderr
    assert done.stdout == ""
    assert stack.edits(signed_in) == []


def test_several_candidates_are_saved_side_by_side(stack, cli, signed_in, tmp_path):
    photo = tmp_path / "room.png"
    photo_like(320, 240).save(photo)
    done = cli.run(
        "edit", str(photo), "--task", "outpaint", "--left", "64", "--count", "2", "-o", str(tmp_path / "wide")
    )
    assert done.returncode == 0, done.stderr
    saved = [tmp_path / "wide-1.png", tmp_path / "wide-2.png"]
    assert done.stdout.split() == [str(path) for path in saved]
    for path in saved:
        with Image.open(path) as result:
            assert result.size == (384, 240)
