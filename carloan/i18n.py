"""The reader's language, asked one way everywhere."""

from __future__ import annotations

from django.utils.translation import get_language


def is_chinese(language: str | None = None) -> bool:
    """Whether `language` (by default the active one: "zh-hans", "zh-CN"...) is Chinese."""
    return (language or get_language() or "").lower().startswith("zh")
