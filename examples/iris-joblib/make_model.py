"""Make examples/iris-joblib/model.joblib: the seed's iris model (scikit-learn RandomForest).

Run from the repository root: /usr/bin/python3 examples/iris-joblib/make_model.py
Needs python3-sklearn (Debian package); the output is committed. random_state makes it
reproducible; otherwise this is the seed's training code unchanged.
"""
import os

import joblib
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier

iris = load_iris()
X, y = iris.data, iris.target

clf = RandomForestClassifier(random_state=0)
clf.fit(X, y)

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "model.joblib")
joblib.dump(clf, path)
print("wrote", path, "with", len(clf.estimators_), "trees")
