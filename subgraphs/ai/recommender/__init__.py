"""The recommender: a trained item-side model (`model`), how it is fitted (`training`) and
evaluated (`evaluation`), how a request is answered from it (`engine`, `seeds`), and the
production version a serving process holds (`store`)."""
