"""Reusable widgets: token views, probability bar, histogram, training report."""
