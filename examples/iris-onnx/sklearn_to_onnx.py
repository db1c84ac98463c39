"""Convert a fitted scikit-learn tree classifier into an ONNX TreeEnsembleClassifier.

skl2onnx is not packaged for Debian, so this builds the graph from the estimators' tree
arrays with onnx.helper (Debian's python3-onnx). Supported: RandomForestClassifier,
ExtraTreesClassifier, DecisionTreeClassifier.

Exactness: scikit-learn compares float32(x) <= threshold (a double); ONNX Runtime compares the
float32 input with a float32 threshold. Each threshold is replaced by the largest float32 not
above it, which gives the same decision for every float32 input. Leaf values are turned into
class fractions and averaged over the trees, as predict_proba does.
"""
import numpy as np
import onnx
from onnx import TensorProto, helper


def largest_float32_at_most(value):
    f = np.float32(value)
    if float(f) > value:
        f = np.nextafter(f, np.float32(-np.inf))
    return float(f)


def trees_of(model):
    if hasattr(model, "estimators_"):
        return list(model.estimators_)
    return [model]


def tree_ensemble_classifier(model, n_features, input_name="input", label_name="label", proba_name="probabilities"):
    classes = model.classes_
    trees = trees_of(model)
    weight = 1.0 / len(trees)
    attrs = {k: [] for k in [
        "nodes_treeids", "nodes_nodeids", "nodes_featureids", "nodes_modes", "nodes_values",
        "nodes_truenodeids", "nodes_falsenodeids", "class_treeids", "class_nodeids", "class_ids", "class_weights"]}
    for t, est in enumerate(trees):
        tree = est.tree_
        for i in range(tree.node_count):
            leaf = tree.children_left[i] == -1
            attrs["nodes_treeids"].append(t)
            attrs["nodes_nodeids"].append(i)
            attrs["nodes_featureids"].append(0 if leaf else int(tree.feature[i]))
            attrs["nodes_modes"].append("LEAF" if leaf else "BRANCH_LEQ")
            attrs["nodes_values"].append(0.0 if leaf else largest_float32_at_most(float(tree.threshold[i])))
            attrs["nodes_truenodeids"].append(0 if leaf else int(tree.children_left[i]))
            attrs["nodes_falsenodeids"].append(0 if leaf else int(tree.children_right[i]))
            if leaf:
                counts = np.asarray(tree.value[i][0], dtype=np.float64)
                fractions = counts / counts.sum()
                for c, share in enumerate(fractions):
                    if share == 0:
                        continue
                    attrs["class_treeids"].append(t)
                    attrs["class_nodeids"].append(i)
                    attrs["class_ids"].append(c)
                    attrs["class_weights"].append(float(share * weight))
    if np.issubdtype(classes.dtype, np.integer):
        labels = {"classlabels_int64s": [int(c) for c in classes]}
        label_type = TensorProto.INT64
    else:
        labels = {"classlabels_strings": [str(c) for c in classes]}
        label_type = TensorProto.STRING
    node = helper.make_node("TreeEnsembleClassifier", [input_name], [label_name, proba_name], domain="ai.onnx.ml",
                            post_transform="NONE", **labels, **attrs)
    graph = helper.make_graph(
        [node], type(model).__name__,
        [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, [None, n_features])],
        [helper.make_tensor_value_info(label_name, label_type, [None]),
         helper.make_tensor_value_info(proba_name, TensorProto.FLOAT, [None, len(classes)])])
    onnx_model = helper.make_model(graph, producer_name="modelfn-sklearn-to-onnx",
                                   opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid("ai.onnx.ml", 3)])
    onnx_model.ir_version = 8
    onnx.checker.check_model(onnx_model)
    return onnx_model
