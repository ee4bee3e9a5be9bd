"""Models: the classifier on sentence vectors, token scores, reports, the fast-path check,
training and fine-tuning, the TF-IDF baseline, model folders, scikit-learn estimators and the run
history. Imports the layers below (``encoding``, ``data``, ``base``)."""
