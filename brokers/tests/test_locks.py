from brokers.locks import connection_lock, redis_lock


def test_second_holder_is_refused_until_release():
    with connection_lock(41) as first:
        with connection_lock(41) as second:
            assert (first, second) == (True, False)
        with connection_lock(42) as other:
            assert other is True
    with connection_lock(41) as again:
        assert again is True


def test_a_refused_caller_does_not_release_the_holders_lock():
    with redis_lock("x") as holder:
        with redis_lock("x") as intruder:
            assert not intruder
        with redis_lock("x") as still_held:
            assert holder and not still_held


def test_a_holders_heartbeat_keeps_the_lock_past_its_ttl(settings):
    import time

    from brokers.locks import lock_is_held

    with redis_lock("beat", ttl_seconds=1) as held:
        assert held
        time.sleep(2.2)  # two TTLs: without the heartbeat the key would be gone
        assert lock_is_held("beat")
    assert not lock_is_held("beat")


def test_an_abandoned_lock_expires_by_itself():
    import time

    from brokers.locks import lock_is_held
    from thetavue_site.redis_client import redis_client, redis_key

    redis_client().set(redis_key("lock:dead-holder"), "someone-killed", nx=True, ex=1)
    assert lock_is_held("dead-holder")
    time.sleep(1.5)
    assert not lock_is_held("dead-holder")
    with redis_lock("dead-holder") as held:
        assert held
