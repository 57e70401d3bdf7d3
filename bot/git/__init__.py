"""Git mirrors of the repositories the App reviews."""
