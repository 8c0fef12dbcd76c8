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
