"""Tests of the models, the converter, argument checks and booking references."""
