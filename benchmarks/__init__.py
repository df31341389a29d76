"""Side-by-side benchmarks of Shipyard against MLflow (``make bench``)."""
