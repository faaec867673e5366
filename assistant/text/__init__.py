"""Text facts every stage shares, independent of any model: folded words and search terms (lexicon), and a text's
language, numbers and names (language).
"""
