"""Link tokens: round trip, forgery, one token per action, and the self-service format subscriptions reads."""

from services.notify.links import BadLink, LinkRef, Links


def links(max_age_s: int = 3600, secret: str = "a" * 32) -> Links:
    return Links(
        secret=secret, self_service_secret="shared-with-subscriptions", public_base_url="https://n.example.org/",
        subscriptions_base_url="https://s.example.org", max_age_s=max_age_s,
    )


DIGEST = "digest-1"


def test_tokens_round_trip() -> None:
    lk = links()
    entry = lk.entry(DIGEST, 3, click=True)
    assert entry["useful"].startswith("https://n.example.org/f/")
    assert lk.parse(entry["useful"].rsplit("/", 1)[-1]) == LinkRef(lk.link_id(DIGEST), 3, "useful")
    assert lk.parse(entry["not_relevant"].rsplit("/", 1)[-1]).action == "not_relevant"
    assert lk.parse(entry["full_text"].rsplit("/", 1)[-1]).action == "full_text_request"
    assert lk.parse(lk.click(DIGEST, 3).rsplit("/", 1)[-1]) == LinkRef(lk.link_id(DIGEST), 3, "click")


def test_forged_and_altered_tokens_are_refused() -> None:
    token = links().token(DIGEST, 0, "useful")
    assert links(secret="b" * 32).parse(token) == BadLink("invalid")
    assert links().parse(token[:-2] + ("AA" if not token.endswith("AA") else "BB")) == BadLink("invalid")
    assert links().parse("not-a-token") == BadLink("invalid")
    assert links().parse(token + "A") == BadLink("invalid")


def test_each_link_of_an_item_has_its_own_token_and_no_readable_id() -> None:
    lk = links()
    entry = lk.entry(DIGEST, 0, click=True)
    tokens = [url.rsplit("/", 1)[-1] for url in entry.values()]
    assert len(set(tokens)) == 4 and all(len(t) == 47 for t in tokens)
    assert entry["click"].startswith("https://n.example.org/r/") and entry["full_text"].startswith("https://n.example.org/t/")
    assert DIGEST not in "".join(entry.values())
    assert lk.entry(DIGEST, 0, click=False)["click"] == ""
    assert lk.link_id(DIGEST) != links(secret="b" * 32).link_id(DIGEST)  # not computable without the secret


def test_self_service_links_use_the_subscriptions_format() -> None:
    from services.subscriptions import links as self_service  # the reader: subscriptions' own code

    lk = links()
    url = lk.list_unsubscribe("sub-1")
    assert url.startswith("https://s.example.org/self/") and url.endswith("/unsubscribe")
    claim = self_service.verify("shared-with-subscriptions", url.split("/")[-2], 60, 60)
    assert (claim.link_key, claim.action) == (self_service.link_key("sub-1"), "unsubscribe")
    claim = self_service.verify("shared-with-subscriptions", lk.preferences("sub-1").rsplit("/", 1)[-1], 60, 60)
    assert (claim.link_key, claim.action) == (self_service.link_key("sub-1"), "preferences")
    assert "sub-1" not in url
