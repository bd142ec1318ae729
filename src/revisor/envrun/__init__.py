"""Running a project's env.py under revisor: revisor, not env.py, decides where its
migrations run (`redirect`), verifies it before the first statement (`identity`), and
learns the database env.py would use without connecting (`session.capture_url`)."""

from revisor.envrun.session import CapturedUrl, EnvPySession, capture_url, run_env_py

__all__ = ["CapturedUrl", "EnvPySession", "capture_url", "run_env_py"]
