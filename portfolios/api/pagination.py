"""The API's one paginator lives in thetavue_site.pagination; re-exported for this app."""

from thetavue_site.pagination import LimitOffsetPagination

__all__ = ["LimitOffsetPagination"]
