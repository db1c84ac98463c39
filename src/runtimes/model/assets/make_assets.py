"""Make the warm-up models a spare model host loads while it waits (no user data involved).

Run from the repository root: /usr/bin/python3 src/runtimes/model/assets/make_assets.py
Needs python3-sklearn and python3-onnx; the outputs are committed. A spare loads these a few
times so the engine's code is compiled (JIT) and ONNX Runtime's environment exists before the
first real model arrives.
"""
import os
import sys

import joblib
import onnx
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "..", "examples", "iris-onnx"))
from sklearn_to_onnx import tree_ensemble_classifier  # noqa: E402

X, y = load_iris(return_X_y=True)
forest = RandomForestClassifier(n_estimators=12, random_state=1).fit(X, y)
joblib.dump(forest, os.path.join(HERE, "warmup.joblib"))
onnx.save(tree_ensemble_classifier(forest, n_features=4), os.path.join(HERE, "warmup.onnx"))
print("wrote warmup.joblib and warmup.onnx")
