"""Scores of a model on a dataset version, and the gate that promotes a model on them.

- :mod:`shipyard.evaluation.metrics`: the scores, as pure functions over arrays;
- :mod:`shipyard.evaluation.plots`: confusion matrix, ROC curves, residuals as PNG;
- :mod:`shipyard.evaluation.evaluate`: :func:`~shipyard.evaluation.evaluate.evaluate`,
  which scores a model and stores the evaluation;
- :mod:`shipyard.evaluation.gate`: :func:`~shipyard.evaluation.gate.promote`, which
  moves an alias only to a model that beats its holder on the same data.

Importing this package loads none of them: scikit-learn, pandas and matplotlib
load when a score is first computed.
"""
