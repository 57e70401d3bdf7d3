"""One rule per file: ``roNNN_<slug>.py`` defines the class ``<Slug>``."""
