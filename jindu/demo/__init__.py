"""The demo county: a fictional county generated from a seed, labelled as demo data."""
