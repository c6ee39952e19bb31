"""Typed response models (frozen attrs classes carrying the wire field names)."""

from .assistants import Assistant, AssistantList, AssistantStatus, Pagination, Region

__all__ = ["Assistant", "AssistantList", "AssistantStatus", "Pagination", "Region"]
