"""``shipyard demo``: train digit classifiers, track them, and find the best one."""

from shipyard.demo.story import DEFAULT_EXPERIMENT, DemoConfig, run_demo, train_all

__all__ = ["DEFAULT_EXPERIMENT", "DemoConfig", "run_demo", "train_all"]
