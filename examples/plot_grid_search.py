"""
Choosing the cell and its size with GridSearchCV
================================================

skrnn estimators are ordinary scikit-learn estimators: ragged sequences go
through cross-validation splits and ``GridSearchCV`` like any table. Here we
search the cell type and hidden size on 8x8 digit images read row by row as
sequences of 8 steps (:func:`skrnn.datasets.load_digits_sequences`).
"""

# %%
import pandas as pd
from sklearn.model_selection import GridSearchCV, train_test_split

from skrnn import RNNClassifier
from skrnn.datasets import load_digits_sequences

X, y = load_digits_sequences(return_X_y=True)
X = X / 16.0  # pixels 0..16 -> 0..1
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0)

search = GridSearchCV(
    RNNClassifier(learning_rate_init=0.01, max_iter=15, random_state=0),
    {"cell": ["rnn", "lstm", "gru"], "hidden_layer_sizes": [(16,), (32,)]},
    cv=3,
    n_jobs=2,
)
search.fit(X_train, y_train)
table = pd.DataFrame(search.cv_results_)[
    ["param_cell", "param_hidden_layer_sizes", "mean_test_score", "std_test_score", "mean_fit_time"]
].sort_values("mean_test_score", ascending=False)
print(table.to_string(index=False))
print(f"best: {search.best_params_}, test accuracy {search.score(X_test, y_test):.3f}")

# %%
# A confusion matrix of the best model on the test set.
import matplotlib.pyplot as plt
from sklearn.metrics import ConfusionMatrixDisplay

ConfusionMatrixDisplay.from_estimator(search.best_estimator_, X_test, y_test, colorbar=False)
plt.title("Digits read as 8 steps of 8 pixels")
plt.show()
