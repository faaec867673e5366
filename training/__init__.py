"""Fitting: the answer scorer and the reader, trained on public data (never imported at run time)."""
