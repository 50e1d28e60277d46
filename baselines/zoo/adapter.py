"""The prompt adapter: a task's request rewritten for one model card, images and all, still lazily.

The task's request stays what the task made (its prediction key, its ``info``); the adapter produces the
request the backend sees:

1. the card's system prompt, as a system message (merged into one the task wrote, if any);
2. views fitted to the model's image slots: a *view* is an image placeholder with the short text part right
   before it that names it (``Slice 7:``, ``Coronal:``). With ``max_images``, the numbered series
   (``series_label``) is subsampled evenly and every other view kept; dropped views lose their label too, the
   kept ones keep their original numbers, and ``subsample_note`` says so, so a key slice named by the model is
   still a number of the task's slice list. With the ``montage`` layout the (kept) views of a message become
   one image, a grid of captioned tiles, followed by ``montage_note``. With the ``volume`` layout every view
   goes, and one ``{"type": "volume"}`` part (the request's ``load_volume``) takes the first one's place,
   followed by ``volume_note``;
3. ``answer_hint`` appended to the last user message.

Images are produced only when the backend calls ``load_images`` on the adapted request: the adapter wraps
the task's loader and selects or tiles what it returns. A volume is loaded only by the backend too: the
adapter passes the task's ``load_volume`` on untouched.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from typing import Any, Callable, Mapping, Sequence, Union

from harness.errors import HarnessError
from harness.schema import Request, plain_messages, stable_hash

from baselines.zoo.cards import Montage, Prompt


@dataclass(frozen=True)
class _View:
    image: int  # index of the image among the request's placeholders
    label: str | None  # what names it ("Slice 7", "Coronal"), from the text part right before it
    label_part: Mapping[str, Any] | None


_Item = Union[Mapping[str, Any], _View]  # a content part kept as is, or a view
#: what the adapted loader returns, in placeholder order: an original image, or a montage of several
_Recipe = Union[int, tuple[tuple[int, ...], tuple[str, ...]]]


class PromptAdapter:
    """Rewrites requests as a card's ``prompt`` section says. ``owner`` (the card's name) goes into errors."""

    def __init__(self, prompt: Prompt, owner: str):
        self.prompt = prompt
        self.owner = owner
        self._view_label = re.compile(prompt.view_label)
        self._series_label = re.compile(prompt.series_label)

    def fingerprint(self) -> str:
        """Hash of everything that changes what the model is shown: part of the backend's model id, so that
        editing a card's prompt never reuses predictions made with the old one."""
        prompt = self.prompt.model_dump(mode="json")
        if self.prompt.layout != "volume":
            prompt.pop("volume_note")  # unused: the ids of cards written before volumes existed stay the same
        return stable_hash(prompt, 12)

    def adapt(self, request: Request) -> Request:
        if self.prompt.layout == "volume":
            return self._adapt_to_volume(request)
        messages = plain_messages(request.messages)
        parsed = [self._items(m["content"]) if isinstance(m["content"], list) else None for m in messages]
        keep, note = self._subsample(request, [i for items in parsed if items for i in items
                                               if isinstance(i, _View)])
        recipe: list[_Recipe] = []
        for message, items in zip(messages, parsed):
            if items is not None:
                message["content"] = self._rebuild(items, keep, note, recipe)
        self._add_system(messages)
        self._add_hint(messages, request)
        loader = _loader(request, recipe, self.prompt.montage)
        return replace(request, messages=tuple(messages), load_images=loader)

    def _adapt_to_volume(self, request: Request) -> Request:
        """Every view dropped (labels too); the volume and ``volume_note`` where the first view was, or at the
        start of the first user message when the request has no view."""
        if request.load_volume is None:
            raise HarnessError(f"zoo card '{self.owner}' shows the model one volume, but request "
                               f"{request.request_id} carries none (its task gives no load_volume)")
        messages = plain_messages(request.messages)
        parsed = [self._items(m["content"]) if isinstance(m["content"], list) else None for m in messages]
        views = [i for items in parsed if items for i in items if isinstance(i, _View)]
        note = self.prompt.volume_note.format(n=len(views), labels=self._summary(views)) if views else None
        placed = False
        for message, items in zip(messages, parsed):
            if items is None:
                continue
            content: list[dict[str, Any]] = []
            for item in items:
                if not isinstance(item, _View):
                    content.append(dict(item))
                elif not placed:
                    content += [{"type": "volume"}, {"type": "text", "text": note}]
                    placed = True
            message["content"] = content
        if not placed:
            users = [m for m in messages if m["role"] == "user"]
            if not users:
                raise HarnessError(f"zoo card '{self.owner}': request {request.request_id} has no user message "
                                   "to put the volume in")
            content = users[0]["content"]
            users[0]["content"] = [{"type": "volume"}] + ([{"type": "text", "text": content}]
                                                          if isinstance(content, str) else content)
        self._add_system(messages)
        self._add_hint(messages, request)
        return replace(request, messages=tuple(messages), load_images=list)

    def _summary(self, views: list[_View]) -> str:
        """The views' labels, a numbered series of consecutive numbers written as one range ("Slice 1-32")."""
        labels = [v.label or f"Image {k + 1}" for k, v in enumerate(views)]
        series = [(k, m) for k, m in ((k, self._series_label.match(label)) for k, label in enumerate(labels))
                  if m and m.group(1).isdigit()]
        numbers = [int(m.group(1)) for _, m in series]
        if len(series) < 3 or numbers != list(range(numbers[0], numbers[0] + len(numbers))):
            return ", ".join(labels)
        k, m = series[0]
        named = labels[k][:m.start(1)] + f"{numbers[0]}-{numbers[-1]}" + labels[k][m.end(1):]
        in_series = {k for k, _ in series}
        return ", ".join([named] + [label for k, label in enumerate(labels) if k not in in_series])

    # -- views --------------------------------------------------------------------------------------------
    def _items(self, content: Sequence[Mapping[str, Any]]) -> list[_Item]:
        items: list[_Item] = []
        images = 0
        i = 0
        while i < len(content):
            part = content[i]
            nxt = content[i + 1] if i + 1 < len(content) else None
            if part.get("type") == "text" and nxt is not None and nxt.get("type") == "image":
                m = self._view_label.match(part.get("text", ""))
                if m:
                    items.append(_View(images, m.group(1), part))
                    images += 1
                    i += 2
                    continue
            if part.get("type") == "image":
                items.append(_View(images, None, None))
                images += 1
            else:
                items.append(part)
            i += 1
        return items

    def _subsample(self, request: Request, views: list[_View]) -> tuple[set[int], str | None]:
        """Indices of the views kept, and the note that says which were dropped (None: all kept)."""
        limit = self.prompt.max_images
        kept = {v.image for v in views}
        if limit is None or len(views) <= limit:
            return kept, None
        series = [v for v in views if v.label is not None and self._series_label.match(v.label)]
        room = limit - (len(views) - len(series))
        if not series or room < 1:
            raise HarnessError(f"zoo card '{self.owner}': request {request.request_id} has {len(views)} images, "
                               f"the card allows {limit} (prompt.max_images) and only {len(series)} belong to a "
                               f"numbered series it can subsample (prompt.series_label)")
        chosen = {int((i + 0.5) * len(series) / room) for i in range(room)}
        dropped = {v.image for k, v in enumerate(series) if k not in chosen}
        return kept - dropped, self.prompt.subsample_note.format(shown=len(chosen), total=len(series))

    def _rebuild(self, items: list[_Item], keep: set[int], note: str | None, recipe: list[_Recipe]
                 ) -> list[dict[str, Any]]:
        """A message's content with dropped views removed, the note after its last kept view, and with the
        montage layout its views tiled into one image at the first view's place."""
        views = [i for i in items if isinstance(i, _View) and i.image in keep]
        montage = self.prompt.layout == "montage" and views
        captions = tuple(v.label or f"Image {k + 1}" for k, v in enumerate(views))
        has_series = note is not None and any(v.label and self._series_label.match(v.label) for v in views)
        content: list[dict[str, Any]] = []
        for item in items:
            if not isinstance(item, _View):
                content.append(dict(item))
                continue
            if item.image not in keep:
                continue
            if montage:
                if item is views[0]:
                    recipe.append((tuple(v.image for v in views), captions))
                    content.append({"type": "image"})
                    content.append({"type": "text", "text": self.prompt.montage_note.format(
                        n=len(views), labels=", ".join(captions))})
            else:
                if item.label_part is not None:
                    content.append(dict(item.label_part))
                recipe.append(item.image)
                content.append({"type": "image"})
            if has_series and item is views[-1]:
                content.append({"type": "text", "text": note})
        return content

    # -- text ---------------------------------------------------------------------------------------------
    def _add_system(self, messages: list[dict[str, Any]]) -> None:
        system = self.prompt.system
        if not system:
            return
        part = {"type": "text", "text": system}
        if messages and messages[0]["role"] == "system":
            content = messages[0]["content"]
            messages[0]["content"] = [part] + ([{"type": "text", "text": content}] if isinstance(content, str)
                                               else content)
        else:
            messages.insert(0, {"role": "system", "content": [part]})

    def _add_hint(self, messages: list[dict[str, Any]], request: Request) -> None:
        hint = self.prompt.answer_hint
        if not hint:
            return
        users = [m for m in messages if m["role"] == "user"]
        if not users:
            raise HarnessError(f"zoo card '{self.owner}': request {request.request_id} has no user message for "
                               "prompt.answer_hint")
        last = users[-1]
        content = last["content"]
        last["content"] = ([{"type": "text", "text": content}] if isinstance(content, str) else content) + [
            {"type": "text", "text": hint}]


def _loader(request: Request, recipe: list[_Recipe], layout: Montage) -> Callable[[], list[Any]]:
    """The adapted request's ``load_images``: the task's images (checked against the unadapted request's
    placeholders), selected or tiled as ``recipe`` says."""

    def load() -> list[Any]:
        images = request.checked_images()
        out: list[Any] = []
        for step in recipe:
            if isinstance(step, int):
                out.append(images[step])
            else:
                indices, captions = step
                out.append(montage([images[i] for i in indices], captions, layout))
        return out

    return load


def montage(images: Sequence[Any], captions: Sequence[str], layout: Montage) -> Any:
    """One RGB image: ``images`` scaled to fit square tiles (aspect kept), row by row, each captioned in its
    top-left corner in white on black."""
    import numpy as np
    from PIL import Image, ImageDraw, ImageFont

    tile = layout.tile_size
    columns = layout.columns or math.ceil(math.sqrt(len(images)))
    rows = math.ceil(len(images) / columns)
    canvas = Image.new("RGB", (columns * tile, rows * tile))
    draw = ImageDraw.Draw(canvas)
    try:
        font = ImageFont.load_default(size=max(10, tile // 10))
    except (TypeError, OSError):  # a Pillow without FreeType: the fixed bitmap font
        font = ImageFont.load_default()
    for k, (image, caption) in enumerate(zip(images, captions)):
        picture = image if isinstance(image, Image.Image) else Image.fromarray(np.asarray(image))
        picture = picture.convert("RGB")
        scale = tile / max(picture.size)
        picture = picture.resize((max(1, round(picture.width * scale)), max(1, round(picture.height * scale))),
                                 Image.Resampling.BICUBIC)
        x, y = (k % columns) * tile, (k // columns) * tile
        canvas.paste(picture, (x + (tile - picture.width) // 2, y + (tile - picture.height) // 2))
        box = draw.textbbox((x + 2, y + 1), caption, font=font)
        draw.rectangle((box[0] - 2, box[1] - 1, box[2] + 2, box[3] + 1), fill=(0, 0, 0))
        draw.text((x + 2, y + 1), caption, fill=(255, 255, 255), font=font)
    return canvas
