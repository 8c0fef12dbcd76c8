"""Notifications: the service other apps call, its email, and /api/notifications/."""

from __future__ import annotations

import smtplib
import threading

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.db import connections

from thetavue_site import rls
from thetavue_site.celery import app as celery_app
from thetavue_site.users.models import Notification, User
from thetavue_site.users.notifications import notification_create
from thetavue_site.users.tasks import EMAIL_RETRY_MAX, notification_email_task

pytestmark = pytest.mark.django_db

LIST = "/api/notifications/"


def detail(pk) -> str:
    return f"{LIST}{pk}/"


def notify(user, **fields) -> Notification:
    defaults = {"kind": "sync_failed", "level": "error", "title": "Sync failed", "body": "401"}
    return notification_create(user_id=user.pk, **{**defaults, **fields})


def count(**filters) -> int:
    with rls.as_service():
        return Notification.objects.filter(**filters).count()


class FlakyBackend(EmailBackend):
    """The test mail server: refuses the first `failures` sends, then delivers."""

    failures = 0
    attempts = 0

    def send_messages(self, messages):
        FlakyBackend.attempts += 1
        if FlakyBackend.attempts <= FlakyBackend.failures:
            raise smtplib.SMTPServerDisconnected("connection unexpectedly closed")
        return super().send_messages(messages)


@pytest.fixture
def flaky_mail(settings, monkeypatch):
    settings.EMAIL_BACKEND = f"{__name__}.FlakyBackend"
    FlakyBackend.attempts = 0
    # Run retries in-process as a worker would run them, one after another:
    # with propagation on, apply() would raise the first Retry instead.
    monkeypatch.setattr(celery_app.conf, "task_eager_propagates", False)
    return FlakyBackend


def emailed_at(notification):
    with rls.as_service():
        return Notification.objects.get(pk=notification.pk).emailed_at


class TestEmailRetry:
    def test_a_failed_send_is_retried_and_delivered_once(self, alice, flaky_mail):
        # given: the mail server drops the first two attempts
        flaky_mail.failures = 2
        notification = notify(alice)
        # when: the task runs as a worker would (eagerly here, retries included)
        result = notification_email_task.apply(args=(notification.pk, alice.pk))
        # then: the third attempt delivered, once, and the claim is recorded
        assert result.state == "SUCCESS"
        assert flaky_mail.attempts == 3
        assert [m.subject for m in mail.outbox] == ["ThetaVue: Sync failed"]
        assert emailed_at(notification) is not None

    def test_a_send_that_keeps_failing_gives_up_unclaimed(self, alice, flaky_mail):
        flaky_mail.failures = 100
        notification = notify(alice)

        result = notification_email_task.apply(args=(notification.pk, alice.pk))

        assert result.state == "FAILURE"
        assert isinstance(result.result, smtplib.SMTPException)
        # The first try and EMAIL_RETRY_MAX retries; each rolled its claim back.
        assert flaky_mail.attempts == 1 + EMAIL_RETRY_MAX
        assert mail.outbox == []
        assert emailed_at(notification) is None


class TestService:
    def test_creates_and_emails_after_commit(self, alice, django_capture_on_commit_callbacks):
        # given / when
        with django_capture_on_commit_callbacks() as callbacks:
            notification = notify(alice, dedupe_key="sync:1")
        # then: one email task queued on commit; run it as the worker would
        assert len(callbacks) == 1
        notification_email_task(notification.pk, alice.pk)
        assert [(m.subject, m.to, m.body) for m in mail.outbox] == [
            ("ThetaVue: Sync failed", ["alice@example.com"], "401")
        ]
        # A redelivered task sends nothing more.
        notification_email_task(notification.pk, alice.pk)
        assert len(mail.outbox) == 1

    def test_unread_duplicate_key_returns_the_existing_one(
        self, alice, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks() as callbacks:
            first = notify(alice, dedupe_key="plan:7:breach")
            second = notify(alice, dedupe_key="plan:7:breach", title="Again")
        assert second.pk == first.pk
        assert count(user=alice) == 1
        assert len(callbacks) == 1  # no second email

    def test_once_read_the_key_may_notify_again(self, alice):
        first = notify(alice, dedupe_key="plan:7:breach")
        with rls.as_service():
            Notification.objects.filter(pk=first.pk).update(read_at="2026-01-01T00:00:00Z")
        assert notify(alice, dedupe_key="plan:7:breach").pk != first.pk

    def test_without_a_key_every_call_notifies(self, alice):
        notify(alice)
        notify(alice)
        assert count(user=alice) == 2

    def test_no_email_when_the_user_opted_out(self, alice, django_capture_on_commit_callbacks):
        with rls.as_service():
            User.objects.filter(pk=alice.pk).update(notify_by_email=False)
        with django_capture_on_commit_callbacks() as callbacks:
            notification = notify(alice)
        assert callbacks == []
        notification_email_task(notification.pk, alice.pk)
        assert mail.outbox == []

    def test_works_from_a_task_outside_any_context_and_inside_another_users(self, alice, bob):
        notify(alice)  # a task with no RLS context
        with rls.as_user(bob.pk):
            notify(alice)  # narrowed to alice, not refused by bob's context
        assert count(user=alice) == 2

    def test_unknown_user_is_an_error(self, db):
        with pytest.raises(User.DoesNotExist):
            notification_create(user_id="user_ghost", kind="k", level="info", title="t")

    @pytest.mark.django_db(transaction=True)
    def test_concurrent_duplicates_make_one_row(self, alice, monkeypatch):
        from thetavue_site.users import tasks

        monkeypatch.setattr(tasks.notification_email_task, "delay", lambda *a: None)
        barrier = threading.Barrier(4)
        errors = []

        def raise_it():
            try:
                barrier.wait(timeout=10)
                notify(alice, dedupe_key="sync:race")
            except BaseException as error:  # noqa: BLE001 - reported by the main thread
                errors.append(error)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=raise_it) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert errors == []
        assert count(user=alice, dedupe_key="sync:race") == 1


class TestApi:
    def test_list_is_paginated_newest_first_and_only_mine(self, alice_token_client, alice, bob):
        first = notify(alice, title="first")
        second = notify(
            alice, title="second", level="warning", kind="plan_breach", body="", link="/plans/7/"
        )
        notify(bob, title="bob's")
        body = alice_token_client.get(LIST).json()
        assert body == {
            "count": 2,
            "next": None,
            "previous": None,
            "results": [
                {
                    "id": second.pk,
                    "kind": "plan_breach",
                    "level": "warning",
                    "title": "second",
                    "body": "",
                    "link": "/plans/7/",
                    "read_at": None,
                    "created_at": body["results"][0]["created_at"],
                },
                {
                    "id": first.pk,
                    "kind": "sync_failed",
                    "level": "error",
                    "title": "first",
                    "body": "401",
                    "link": "",
                    "read_at": None,
                    "created_at": body["results"][1]["created_at"],
                },
            ],
        }
        assert alice_token_client.get(LIST, {"limit": 1}).json()["next"] is not None

    def test_unread_filter_and_mark_read(self, alice_token_client, alice):
        first = notify(alice, title="first")
        notify(alice, title="second")
        response = alice_token_client.post(f"{detail(first.pk)}read/")
        assert response.status_code == 200
        assert response.json()["read_at"] is not None
        unread = alice_token_client.get(LIST, {"unread": "true"}).json()["results"]
        read = alice_token_client.get(LIST, {"unread": "false"}).json()["results"]
        assert [n["title"] for n in unread] == ["second"]
        assert [n["title"] for n in read] == ["first"]

    def test_mark_all_read(self, alice_token_client, alice, bob):
        notify(alice)
        notify(alice)
        notify(bob)
        response = alice_token_client.post(f"{LIST}read-all/")
        assert response.json() == {"marked": 2}
        assert count(user=alice, read_at__isnull=True) == 0
        assert count(user=bob, read_at__isnull=True) == 1

    @pytest.mark.parametrize(("method", "suffix"), [("get", ""), ("delete", ""), ("post", "read/")])
    def test_bob_gets_404_on_alices_notification_for_every_verb(
        self, bob_token_client, alice, method, suffix
    ):
        notification = notify(alice)
        response = getattr(bob_token_client, method)(detail(notification.pk) + suffix)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
        with rls.as_service():
            notification.refresh_from_db()
        assert notification.read_at is None

    def test_bob_mark_all_read_leaves_alices_alone(self, bob_token_client, alice):
        notify(alice)
        assert bob_token_client.post(f"{LIST}read-all/").json() == {"marked": 0}
        assert count(user=alice, read_at__isnull=True) == 1

    def test_delete_my_notification(self, alice_token_client, alice):
        notification = notify(alice)
        assert alice_token_client.delete(detail(notification.pk)).status_code == 204
        assert count(user=alice) == 0

    def test_anonymous_gets_401(self, client, alice):
        notification = notify(alice)
        assert client.get(LIST).status_code == 401
        assert client.get(detail(notification.pk)).status_code == 401

    def test_list_query_count_is_flat(self, alice_token_client, alice, django_assert_num_queries):
        for index in range(10):
            notify(alice, title=f"n{index}")
        alice_token_client.get(LIST)  # warm process-wide caches (e.g. /metrics gauges)
        # savepoint, RLS context with the user (one round trip), count, page, release
        with django_assert_num_queries(5):
            response = alice_token_client.get(LIST)
        assert response.json()["count"] == 10


@pytest.mark.parametrize("value", ["maybe", "yes", "2"])
def test_a_non_boolean_unread_filter_is_a_400_naming_it(alice_token_client, value):
    response = alice_token_client.get(LIST, {"unread": value})

    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": "invalid",
            "message": "unread: Must be a valid boolean.",
            "fields": {"unread": ["Must be a valid boolean."]},
        }
    }
