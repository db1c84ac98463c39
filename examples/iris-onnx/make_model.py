"""Make examples/iris-onnx/model.onnx: the iris RandomForest of examples/iris-joblib as ONNX.

Run from the repository root: /usr/bin/python3 examples/iris-onnx/make_model.py
Needs python3-sklearn and python3-onnx (Debian packages); the output is committed.
"""
import os
import sys

import joblib
import onnx

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
from sklearn_to_onnx import tree_ensemble_classifier  # noqa: E402

model = joblib.load(os.path.join(here, "..", "iris-joblib", "model.joblib"))
onnx.save(tree_ensemble_classifier(model, n_features=4, input_name="input"), os.path.join(here, "model.onnx"))
print("wrote", os.path.join(here, "model.onnx"))
