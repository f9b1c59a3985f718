"""The Textual inbox app. Thin widgets over the core; flows run in workers."""
