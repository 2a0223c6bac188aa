from aptic.tasks import ping


def test_ping_runs_through_a_real_worker_on_redis(celery_worker):
    assert ping.delay().get(timeout=60) == "pong"


def test_the_beat_schedule_is_a_mapping_ready_for_daily_jobs(settings):
    assert isinstance(settings.CELERY_BEAT_SCHEDULE, dict)
