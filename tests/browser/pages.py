"""What a person does on the pages again and again, for the browser tests."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

WIDTH, HEIGHT = 1200, 800  # larger than the canvas on screen, so strokes must be scaled to image pixels


def sign_in(page, base: str, username: str, password: str) -> None:
    """Sign in through the sign-in page, as a person types it."""
    page.goto(f"{base}/signin")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def write_photo(path) -> None:
    """A gradient 'sky and ground' with a dark disc in the middle: the thing to paint over."""
    x = np.linspace(0, 1, WIDTH, dtype=np.float32)
    y = np.linspace(0, 1, HEIGHT, dtype=np.float32)[:, None]
    rgb = np.empty((HEIGHT, WIDTH, 3), dtype=np.float32)
    rgb[..., 0] = 90 + 100 * y + 30 * x
    rgb[..., 1] = 150 + 60 * y - 20 * x
    rgb[..., 2] = 230 - 120 * y
    image = Image.fromarray(rgb.clip(0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    draw.ellipse((WIDTH // 2 - 90, HEIGHT // 2 - 90, WIDTH // 2 + 90, HEIGHT // 2 + 90), fill=(35, 30, 45))
    image.save(path, "PNG")


def paint(page, from_x: float, to_x: float, at_y: float) -> dict:
    """Drag across the canvas between fractions of its width, at a fraction of its height."""
    page.locator("#mask-canvas").scroll_into_view_if_needed()
    box = page.locator("#mask-canvas").bounding_box()
    y = box["y"] + box["height"] * at_y
    page.mouse.move(box["x"] + box["width"] * from_x, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * to_x, y, steps=12)
    page.mouse.up()
    return box


def wait_for_result(page, *, not_edit: str | None = None) -> str:
    """Wait until a finished result is on screen (a new one, if not_edit is given); return its edit id."""
    link = page.locator("#details-link")
    page.wait_for_function(
        """(previous) => {
            const link = document.querySelector('#details-link');
            const img = document.querySelector('#after-image');
            return !document.querySelector('#result').hidden && link.getAttribute('href') !== previous
                && img.complete && img.naturalWidth > 0;
        }""",
        arg=f"/edits/{not_edit}" if not_edit else "#",
        timeout=30_000,
    )
    return link.get_attribute("href").rsplit("/", 1)[1]
