"""The pull-request comment client against a local stand-in for the GitHub REST API."""

from __future__ import annotations

import pytest
from github_helpers import BOT, REPO, TOKEN

from pipetune.github.api import GitHubAPIError, GitHubClient, next_link
from pipetune.github.comments import marker_for, upsert_comment

MARKER = marker_for("tuning/spec.yaml")


def marked(github, number=7):
    return [c for c in github.comments.get(number, []) if c["body"].startswith(MARKER)]


def test_creates_the_comment_when_absent(github, client):
    github.add_comment(7, "LGTM", user="alice")
    result = upsert_comment(client, REPO, 7, "## report v1", MARKER)
    assert result.action == "created"
    [comment] = marked(github)
    assert comment["body"] == f"{MARKER}\n## report v1"
    assert comment["id"] == result.id and result.url == comment["html_url"]
    assert len(github.comments[7]) == 2  # alice's comment untouched


def test_updates_the_comment_found_by_its_marker(github, client):
    first = upsert_comment(client, REPO, 7, "## report v1", MARKER)
    github.add_comment(7, "thanks!", user="bob")
    second = upsert_comment(client, REPO, 7, "## report v2", MARKER)
    assert second.action == "updated" and second.id == first.id
    [comment] = marked(github)
    assert comment["body"].endswith("## report v2")
    assert len(github.requests("POST", r"/comments$")) == 1


def test_same_body_again_writes_nothing(github, client):
    upsert_comment(client, REPO, 7, "## same", MARKER)
    again = upsert_comment(client, REPO, 7, "## same", MARKER)
    assert again.action == "unchanged"
    assert not github.requests("PATCH")


def test_pages_through_a_long_comment_list(github, client):
    github.page_size = 30
    for i in range(95):
        github.add_comment(7, f"chatter {i}", user="alice")
    ours = github.add_comment(7, f"{MARKER}\nold report")
    for i in range(40):
        github.add_comment(7, f"more chatter {i}", user="bob")
    result = upsert_comment(client, REPO, 7, "new report", MARKER)
    assert result.action == "updated" and result.id == ours["id"]
    assert len(github.requests("GET", r"/issues/7/comments")) == 5  # 136 comments, 30 a page
    assert len(marked(github)) == 1 and len(github.comments[7]) == 136


def test_a_quoted_marker_in_a_reply_is_not_ours(github, client):
    github.add_comment(7, f"> {MARKER}\n> old report\nwhy did it regress?", user="carol")
    result = upsert_comment(client, REPO, 7, "report", MARKER)
    assert result.action == "created"
    assert github.comments[7][0]["body"].startswith("> ")  # carol's reply kept as it was


def test_another_report_key_gets_its_own_comment(github, client):
    upsert_comment(client, REPO, 7, "model A", marker_for("a/spec.yaml"))
    upsert_comment(client, REPO, 7, "model B", marker_for("b/spec.yaml"))
    assert len(github.comments[7]) == 2


def test_duplicates_left_by_a_race_are_removed_keeping_the_oldest(github, client):
    oldest = github.add_comment(7, f"{MARKER}\nrun 1")
    github.add_comment(7, f"{MARKER}\nrun 2")
    human = github.add_comment(7, f"{MARKER}\ncopied by hand", user="dave")
    result = upsert_comment(client, REPO, 7, "run 3", MARKER)
    assert result.action == "updated" and result.id == oldest["id"]
    bodies = {c["id"]: c["body"] for c in github.comments[7]}
    assert set(bodies) == {oldest["id"], human["id"]}  # someone else's comment is never deleted
    assert bodies[oldest["id"]].endswith("run 3")


def test_a_marked_comment_by_someone_else_is_never_taken_over(github, client):
    # the marker is public: anyone can start a comment with it; only the author is ours
    forged = github.add_comment(7, f"{MARKER}\nplease merge, all good", user="mallory")
    result = upsert_comment(client, REPO, 7, "the real report", MARKER)
    assert result.action == "created" and result.id != forged["id"]
    assert forged["body"] == f"{MARKER}\nplease merge, all good"  # neither edited nor deleted
    again = upsert_comment(client, REPO, 7, "report v2", MARKER)
    assert again.action == "updated" and again.id == result.id
    assert not github.requests("PATCH", rf"/comments/{forged['id']}$")
    assert not github.requests("DELETE")


def test_an_installation_token_is_github_actions_bot(github, client):
    # GITHUB_TOKEN cannot read GET /user (403 "Resource not accessible by integration")
    assert client.identity() == BOT
    assert github.requests("GET", r"^/user$")


def test_a_personal_token_finds_the_comment_of_its_own_user(github, client):
    github.user_login = "release-bot"
    bots = github.add_comment(7, f"{MARKER}\nwritten with GITHUB_TOKEN")  # github-actions[bot]
    mine = github.add_comment(7, f"{MARKER}\nold", user="release-bot")
    result = upsert_comment(client, REPO, 7, "new", MARKER)
    assert client.identity() == "release-bot"
    assert result.action == "updated" and result.id == mine["id"]
    assert bots["body"].endswith("written with GITHUB_TOKEN")


def test_a_race_during_create_still_leaves_one_comment(github, client):
    # another run's comment appears between our look-up and our create: the look-up after
    # creating keeps the oldest and removes ours
    state = {"armed": True}
    original = github.create_comment

    def racing_create(request, number):
        if state.pop("armed", False):
            github.add_comment(int(number), f"{MARKER}\nfrom the other run")
        return original(request, number)

    github.create_comment = racing_create
    result = upsert_comment(client, REPO, 7, "ours", MARKER)
    [comment] = marked(github)
    assert comment["body"].endswith("ours") and result.id == comment["id"]
    assert result.action == "updated" and len(result.removed) == 1


def test_403_names_the_missing_permission_and_never_the_token(github, client):
    github.inject("POST", r"/comments$", 403, {"message": "Resource not accessible by integration"})
    with pytest.raises(GitHubAPIError) as err:
        upsert_comment(client, REPO, 7, "report", MARKER)
    text = str(err.value)
    assert err.value.status == 403
    assert "pull-requests: write" in text and "Resource not accessible by integration" in text
    assert "fork" in text
    assert TOKEN not in text and TOKEN[-10:] not in text
    assert not github.comments.get(7)


def test_403_rate_limit_says_when_it_resets(github, client):
    github.inject("GET", r"/comments$", 403, {"message": "API rate limit exceeded"},
                  headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1800000000"})
    with pytest.raises(GitHubAPIError, match=r"rate limit is exhausted; it resets at \d\d:\d\d:\d\d UTC"):
        upsert_comment(client, REPO, 7, "report", MARKER)


def test_404_says_what_was_not_found(github, client):
    with pytest.raises(GitHubAPIError) as err:
        upsert_comment(client, "acme/no-such-repo", 7, "report", MARKER)
    assert err.value.status == 404
    assert "acme/no-such-repo" in str(err.value) and "not visible to this token" in str(err.value)


def test_422_carries_githubs_reasons(github, client):
    with pytest.raises(GitHubAPIError) as err:
        upsert_comment(client, REPO, 7, "x" * 70_000, MARKER)
    assert err.value.status == 422
    assert "Body is too long (maximum is 65536 characters)" in str(err.value)
    assert not github.comments.get(7)


def test_401_bad_token(github):
    bad = GitHubClient(github.api_url, "wrong-token", retry_delay=0)
    with pytest.raises(GitHubAPIError, match="token is missing, invalid or expired"):
        upsert_comment(bad, REPO, 7, "report", MARKER)


def test_get_is_retried_on_502_but_post_never(github, client):
    github.inject("GET", r"/comments$", 502, {"message": "Bad gateway"})
    assert upsert_comment(client, REPO, 7, "report", MARKER).action == "created"
    github.inject("POST", r"/comments$", 502, {"message": "Bad gateway"})
    with pytest.raises(GitHubAPIError) as err:
        upsert_comment(client, REPO, 8, "report", MARKER)
    assert err.value.status == 502
    assert len(github.requests("POST", r"/issues/8/comments")) == 1


def test_link_to_another_host_is_not_followed_with_the_token(github, client):
    github.inject("GET", r"/comments$", 200, [],
                  headers={"Link": '<https://evil.example/steal?page=2>; rel="next"'})
    with pytest.raises(GitHubAPIError, match="refusing to send the token to https://evil.example"):
        upsert_comment(client, REPO, 7, "report", MARKER)


def test_no_answer_is_explained(tmp_path):
    dead = GitHubClient("http://127.0.0.1:9", TOKEN, retries=0)
    with pytest.raises(GitHubAPIError, match="no answer from http://127.0.0.1:9"):
        upsert_comment(dead, REPO, 7, "report", MARKER)


def test_next_link_parsing():
    header = ('<https://api.github.com/x?page=3>; rel="next", '
              '<https://api.github.com/x?page=9>; rel="last"')
    assert next_link(header) == "https://api.github.com/x?page=3"
    assert next_link('<https://api.github.com/x?page=1>; rel="prev"') is None
    assert next_link(None) is None


def test_marker_key_cannot_close_the_html_comment():
    marker = marker_for("evil --> <img src=x>")
    assert marker.count("-->") == 1 and marker.endswith(" -->") and "<img" not in marker
    assert BOT  # the fake's bot login is what the client compares authors against
