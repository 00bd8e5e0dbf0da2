"""Bar charts as PNG with Pillow: labelled, readable on a phone, in any of our scripts."""

from __future__ import annotations

from io import BytesIO

from PIL import Image, ImageDraw

from bot.media.card import draw_text, fit, text_width

WIDTH, HEIGHT = 1200, 700
LEFT, RIGHT, TOP, BOTTOM = 110, 40, 110, 120
BACKGROUND = (255, 255, 255)
AXIS = (90, 90, 90)
GRID = (225, 225, 225)
INK = (30, 30, 30)
COLOURS = ((24, 54, 86), (242, 183, 5), (120, 170, 90), (200, 80, 70))


def nice_top(value: int) -> int:
    """The smallest 1, 2 or 5 times a power of ten not below `value`: gridlines read well."""
    if value <= 0:
        return 1
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10


def bar_chart(
    title: str,
    labels: list[str],
    series: list[tuple[str, list[int]]],
    empty_text: str,
) -> bytes:
    """Grouped bars: one group per label, one bar per series, a legend at the bottom."""
    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    draw_text(draw, (LEFT, 30), fit(title, 40, WIDTH - LEFT - RIGHT, True), 40, INK, True)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    values = [v for _name, data in series for v in data]
    top = nice_top(max(values, default=0))
    for step in range(5):
        y = TOP + plot_h - plot_h * step // 4
        draw.line((LEFT, y, WIDTH - RIGHT, y), fill=GRID, width=2)
        label = f"{top * step // 4:,}".replace(",", " ")
        draw_text(draw, (LEFT - 12 - int(text_width(label, 24)), y - 16), label, 24, AXIS)
    draw.line((LEFT, TOP, LEFT, TOP + plot_h), fill=AXIS, width=3)
    draw.line((LEFT, TOP + plot_h, WIDTH - RIGHT, TOP + plot_h), fill=AXIS, width=3)
    if not labels or not any(values):
        width = int(text_width(empty_text, 32))
        draw_text(draw, ((WIDTH - width) // 2, TOP + plot_h // 2 - 20), empty_text, 32, AXIS)
    else:
        group = plot_w / len(labels)
        bar = max(2.0, group * 0.8 / max(len(series), 1))
        every = max(1, len(labels) // 12)  # label at most about 12 groups
        for index, label in enumerate(labels):
            x0 = LEFT + group * index + group * 0.1
            for number, (_name, data) in enumerate(series):
                height = plot_h * data[index] / top
                left = x0 + bar * number
                draw.rectangle(
                    (left, TOP + plot_h - height, left + bar - 1, TOP + plot_h),
                    fill=COLOURS[number % len(COLOURS)],
                )
            if index % every == 0:
                text = fit(label, 22, int(group * every) - 4)
                draw_text(draw, (int(x0), TOP + plot_h + 10), text, 22, AXIS)
    x = LEFT
    for number, (name, _data) in enumerate(series):
        draw.rectangle((x, HEIGHT - 55, x + 28, HEIGHT - 27), fill=COLOURS[number % len(COLOURS)])
        draw_text(draw, (x + 38, HEIGHT - 60), name, 28, INK)
        x += 38 + int(text_width(name, 28)) + 50
    out = BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()
