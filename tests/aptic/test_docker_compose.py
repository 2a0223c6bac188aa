import yaml

from tests.conftest import ROOT


def load_compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_defines_the_five_services_with_healthchecks_where_they_matter():
    services = load_compose()["services"]
    assert set(services) == {"db", "redis", "web", "worker", "beat"}
    for name in ("db", "redis", "web", "worker"):
        assert "healthcheck" in services[name], name
    assert services["db"]["image"].startswith("postgres:")
    assert int(services["db"]["image"].split(":")[1]) >= 15


def test_web_worker_and_beat_share_one_image_and_one_configuration():
    services = load_compose()["services"]
    app = [services[name] for name in ("web", "worker", "beat")]
    assert len({s["image"] for s in app}) == 1
    assert len({str(s["env_file"]) for s in app}) == 1
    assert all(s["depends_on"]["db"]["condition"] == "service_healthy" for s in app)
    assert "gunicorn" in services["web"]["command"]
    assert "worker" in services["worker"]["command"]
    assert "beat" in services["beat"]["command"]


def test_the_env_example_names_every_setting_the_services_read():
    example = (ROOT / ".env.example").read_text()
    for name in ("SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "SITE_URL", "DATABASE_URL",
                 "REDIS_URL", "MEDIA_ROOT"):
        assert f"{name}=" in example, name
