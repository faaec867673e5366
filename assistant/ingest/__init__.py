"""Files to chunks: find the files (discover), read each format into text with sections and lines (loaders),
cut the text into sentence-aligned chunks (chunking), and run the whole ingest with its progress and Ctrl-C (pipeline).
"""
