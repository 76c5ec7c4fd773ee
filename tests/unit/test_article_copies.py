"""Exact copies kept on the article: recorded once each, bounded, rebuilt from the stored article."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from connectors.es_sink import IndexRequest
from connectors.search import LINK_FIELDS, search_articles
from pipeline.articles import Analysis, article_doc
from pipeline.core import copies_write
from pipeline.job import index_request
from pipeline.records import DocKind
from pipeline.state import PipelineState
from pipeline.tracking import Origin, Receipt
from schemas.article import COPIES_KEPT, ArticleCopy, ArticleDetails
from schemas.item import FeedItem
from tests.support.pipeline import feed_item

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
T0 = datetime(2026, 12, 8, 6, 0, tzinfo=UTC)
TITLE = "Harbour authority closes the northern pier"
TEXT = "The harbour authority closed the northern pier after a crane collapsed."
NOTHING = Analysis((), (), None, {})


def _state_with(original: FeedItem) -> PipelineState:
    state = PipelineState.configured(DEPLOY)
    assert state.deduplicate(original) is None
    return state


def _one_copy(original: FeedItem, known: FeedItem) -> tuple[str, tuple[ArticleCopy, ...]]:
    """What `original`'s state returns for its first copy `known`."""
    state = _state_with(original)
    state.deduplicate(known)
    copied = state.copy(known)
    assert copied is not None
    return copied


def _copy(feed: str, n: int, minutes: int = 1) -> FeedItem:
    return feed_item(feed, n, TITLE, TEXT, T0 + timedelta(minutes=minutes))


def test_a_copy_by_hash_or_url_is_listed_once_on_the_article_it_duplicates() -> None:
    original = _copy("wire", 1, 0)
    state = _state_with(original)
    by_hash = _copy("courier", 7)
    by_url = _copy("asia", 2).model_copy(update={"url": original.url})
    assert state.deduplicate(by_hash) == "hash"
    copied = state.copy(by_hash)
    assert copied is not None
    article_id, copies = copied
    assert article_id == original.item_id
    assert [(c.item_id, c.feed_id, c.url, c.seen) for c in copies] == [
        (by_hash.item_id, "courier", by_hash.url, by_hash.fetched)
    ]
    assert state.deduplicate(by_hash) == "hash" and state.copy(by_hash) is None  # polled again
    same_feed = by_hash.model_copy(update={"item_id": "f" * 32, "feed_id": "wire"})  # a changed GUID
    assert state.deduplicate(same_feed) == "hash" and state.copy(same_feed) is None
    assert state.deduplicate(by_url) == "url"
    copied = state.copy(by_url)
    assert copied is not None
    assert [c.item_id for c in copied[1]] == [by_hash.item_id, by_url.item_id]


def test_copies_are_bounded() -> None:
    state = _state_with(_copy("wire", 1, 0))
    for n in range(COPIES_KEPT):
        state.deduplicate(_copy(f"outlet{n}", n))
        assert state.copy(_copy(f"outlet{n}", n)) is not None
    one_more = _copy("late", 99)
    assert state.deduplicate(one_more) == "hash"
    assert state.copy(one_more) is None
    assert len(state.copies[_copy("wire", 1, 0).item_id]) == COPIES_KEPT


def test_a_restored_article_keeps_its_copies_and_a_new_copy_extends_them() -> None:
    original, known = _copy("wire", 1, 0), _copy("courier", 7)
    copied = _one_copy(original, known)
    doc = article_doc(original, NOTHING, "st-1", syndicated=False)
    stored = doc.model_copy(
        update={"watchfloor": ArticleDetails(feed=doc.watchfloor.feed, copies=list(copied[1]))}
    )

    restored = PipelineState.configured(DEPLOY)
    restored.restore([stored], [])
    assert restored.deduplicate(known) == "hash" and restored.copy(known) is None  # a replay
    fresh = _copy("gulf", 3)
    assert restored.deduplicate(fresh) == "hash"
    again = restored.copy(fresh)
    assert again is not None
    assert [c.item_id for c in again[1]] == [known.item_id, fresh.item_id]


def test_the_copies_write_is_a_partial_update_with_the_whole_list() -> None:
    original, known = _copy("wire", 1, 0), _copy("courier", 7)
    copied = _one_copy(original, known)
    receipt = Receipt(Origin("items", 0, 5, 5), "copy", 1)
    write = copies_write(*copied, receipt)
    assert (write.kind, write.doc_id, write.partial) == (DocKind.article, original.item_id, True)
    assert write.source == {
        "watchfloor": {"copies": [c.model_dump(mode="json", exclude_none=True) for c in copied[1]]}
    }
    request = index_request(write, "articles", "alerts")
    assert (request.index, request.op) == ("articles", "update")
    assert IndexRequest("articles", "a", {}, create=True).op == "create"


class _RecordingEs:
    def __init__(self) -> None:
        self.queries: list[dict[str, Any]] = []

    def search(self, **kwargs: Any) -> dict[str, Any]:
        self.queries.append(kwargs["query"])
        return {"hits": {"hits": []}}


def test_a_link_is_searched_in_every_link_field_as_given_and_canonicalised() -> None:
    es = _RecordingEs()
    search_articles(es, "https://Courier.example/news/7?utm_source=x#top")  # type: ignore[arg-type]
    (query,) = es.queries
    (must,) = query["bool"]["must"]
    terms = [s["terms"] for s in must["bool"]["should"]]
    assert [next(iter(t)) for t in terms] == list(LINK_FIELDS)
    assert "https://courier.example/news/7" in terms[0]["url.full"]
    search_articles(es, "kim putin")  # type: ignore[arg-type]
    assert "multi_match" in es.queries[-1]["bool"]["must"][0]


def test_copy_lists_merged_in_either_order_give_one_list() -> None:
    from connectors.es_sink import merged

    first = {"watchfloor": {"copies": [{"item_id": "a", "url": "u1"}]}}
    both = {"watchfloor": {"copies": [{"item_id": "a", "url": "u1"}, {"item_id": "b", "url": "u2"}]}}
    stored = {"title": "t", "watchfloor": {"story_id": "st-1"}}
    in_order = merged({**stored, **merged(stored, first, "item_id")}, both, "item_id")
    newest_first = merged({**stored, **merged(stored, both, "item_id")}, first, "item_id")
    assert (
        in_order["watchfloor"]["copies"]
        == newest_first["watchfloor"]["copies"]
        == both["watchfloor"]["copies"]
    )
    assert merged(stored, first, "item_id") == {"watchfloor": {"copies": first["watchfloor"]["copies"]}}
