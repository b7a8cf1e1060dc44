"""slimpajama: clean, globally deduplicate, re-mix and tokenize RedPajama-style corpora."""

__version__ = "0.1.0"
