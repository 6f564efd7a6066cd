"""Signed links: round trip, forgery, expiry, and the self-service format subscriptions reads."""

from services.notify.links import BadLink, LinkClaims, Links


def links(max_age_s: int = 3600, secret: str = "a" * 32) -> Links:
    return Links(
        secret=secret, self_service_secret="shared-with-subscriptions", public_base_url="https://n.example.org/",
        subscriptions_base_url="https://s.example.org", max_age_s=max_age_s,
    )


CLAIMS = LinkClaims("sub-1", "org-1", "doi:10.1/x", "digest-1")


def test_tokens_round_trip() -> None:
    lk = links()
    url = lk.feedback(CLAIMS, "useful")
    assert url.startswith("https://n.example.org/f/") and url.endswith("/useful")
    assert lk.verify(url.split("/")[-2]) == CLAIMS
    assert lk.verify(lk.click(CLAIMS).rsplit("/", 1)[-1]) == CLAIMS


def test_forged_altered_and_expired_tokens_are_refused() -> None:
    token = links().token(CLAIMS)
    assert links(secret="b" * 32).verify(token) == BadLink("invalid")
    assert links().verify(token[:-2] + ("AA" if not token.endswith("AA") else "BB")) == BadLink("invalid")
    assert links().verify("not-a-token") == BadLink("invalid")
    assert links(max_age_s=-1).verify(token) == BadLink("expired")


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


def test_an_items_four_links_share_one_token_in_the_usual_places() -> None:
    lk = links()
    entry = lk.entry(CLAIMS, click=True)
    token = entry["click"].rsplit("/", 1)[-1]
    assert entry == {
        "click": f"https://n.example.org/r/{token}", "useful": f"https://n.example.org/f/{token}/useful",
        "not_relevant": f"https://n.example.org/f/{token}/not_relevant", "full_text": f"https://n.example.org/t/{token}",
    }
    assert lk.verify(token) == CLAIMS
    assert lk.entry(CLAIMS, click=False)["click"] == ""
