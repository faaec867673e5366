"""What people use: the command line (cli), the terminal chat (chat), and how answers and the store are shown
(render, render_store). Everything here calls :class:`assistant.Assistant`.
"""
