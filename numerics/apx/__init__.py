"""APX-1 … APX-6: the approximate Softmax estimators' bias and variance (CLAIMS.md §4): numeric checks."""
