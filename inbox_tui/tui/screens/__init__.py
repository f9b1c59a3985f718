"""Modal screens: the key help and the reassign picker."""
